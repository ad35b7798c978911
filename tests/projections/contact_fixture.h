// A ledger for contact history and the rules around it (issues 17, 18): no
// registry in force, a phone consent type, and helpers to read decisions.
#pragma once

#include <algorithm>
#include <string>
#include <variant>

#include "projections/ledger_fixture.h"
#include "tacet/core/codec.h"
#include "tacet/projections/ledger.h"

namespace tacet::test {

inline std::string Codes(const Decision& d) {
  std::string s = VerdictName(d.verdict);
  for (const auto& r : d.reasons) s += " " + r.code;
  return s;
}

inline bool Cites(const Decision& d, uint64_t seq) {
  return std::find(d.evidence.begin(), d.evidence.end(), seq) != d.evidence.end();
}

// No registry in force (so voice to any number turns on hours, caps and
// consent alone), a phone consent type, and the policy under test.
struct ContactFixture : Fixture {
  explicit ContactFixture(PolicyConfig p = {}) {
    // it-rpo recorded, then retired: no registry in force.
    p.registries_declared = true;
    p.consent_types_declared = true;
    p.consent_types = {{"TEL", "Contatto telefonico", "", 0, kUsePhone}};
    auto r = ledger->ReconcilePolicy(p, kOfficer);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    p.registries.clear();
    r = ledger->ReconcilePolicy(p, kOfficer);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    BOOST_TEST_REQUIRE(ledger->Policy(kKnownNow).registries.empty());
  }
  Decision Decide(const std::string& subject, Channel c, TimeMs at, TimeMs known = kKnownNow) {
    auto a = ledger->Decide(subject, c, at, known);
    BOOST_TEST_REQUIRE(a.ok(), a.status().ToString());
    return a->decision;
  }
  ContactReport Contact(const std::string& subject, TimeMs started, const std::string& outcome,
                        Channel c = Channel::kVoice) {
    ContactRequest req;
    req.subject = subject;
    req.channel = c;
    req.started_at = started;
    req.outcome = outcome;
    req.campaign = "autumn";
    req.caller_id = "+390299999999";
    req.operator_id = "op7";
    auto r = ledger->RecordContact(req, kOfficer);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    return *r;
  }
  ContactAttempted Stored(uint64_t seq) {
    Event e = ledger->log().Read(seq).value();
    Payload p = DecodePayload(e.type, e.version, e.payload).value();
    BOOST_TEST_REQUIRE(std::holds_alternative<ContactAttempted>(p));
    return std::get<ContactAttempted>(p);
  }
};

inline PolicyConfig ItalyHours() {
  PolicyConfig p;
  p.calling_hours_declared = true;
  p.calling_hours = {ItalyCodeOfConductHours()};
  return p;
}

// A cap on voice calls to one region's numbers.
inline FrequencyCapDefined VoiceCap(const char* name, const char* region, uint32_t max_attempts,
                                    uint32_t window_hours, uint32_t cool_down_hours) {
  FrequencyCapDefined cap;
  cap.name = name;
  cap.regions = {region};
  cap.channels = MaskOf(Channel::kVoice);
  cap.max_attempts = max_attempts;
  cap.window_hours = window_hours;
  cap.cool_down_hours = cool_down_hours;
  return cap;
}

inline PolicyConfig FranceCaps() {
  PolicyConfig p;
  p.caps_declared = true;
  p.caps = {VoiceCap("fr-d223-9", "FR", 4, 30 * 24, 60 * 24)};
  return p;
}

inline constexpr TimeMs kDay = 86'400'000;

}  // namespace tacet::test
