// The decision pipeline rule by rule, on records built by hand (no ledger):
// what each rule concludes or lets through, the reasons it adds, and the
// moments it reports; and a clock-only rule joining the pipeline, whose
// moments alone set valid_until (the seam calling hours will use).
#define BOOST_TEST_MODULE rules_tests
#include <boost/test/unit_test.hpp>

#include "tacet/projections/rules.h"

using namespace tacet;

namespace {

constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kT0 = 1'788'220'800'000;  // 2026-09-01 00:00 UTC

struct Case {
  SubjectState self;
  RegistryState registry;
  PolicyView policy;
  DecisionInput in;
  Case() {
    ConsentTypeDefined tel{"tel", "Calls", "", 0, kUsePhone, false};
    policy.consent_types["tel"] = {1, kT0 - 100 * kHour, tel};
    policy.reasons["callback"] = {2, kT0 - 100 * kHour, ReasonDefined{"callback", "Asked", false}};
    policy.channel_policy.value = DefaultChannelPolicy();
    in.channel = Channel::kVoice;
    in.at = kT0 + 10 * kHour;
    in.registry = "it-rpo";
    in.registry_applies = true;
    in.subject_state = &self;
    in.registry_state = &registry;
    in.policy = &policy;
  }
  // One rule alone: its step and the codes of its reasons.
  std::string Run(const Rule& rule, Explainer* out = nullptr) {
    Facts f = FactsOf(in);
    Explainer x(Explain::kCodes);
    Step s = rule.Apply(f, x);
    std::string text = s == Step::kContinue ? "continue"
                       : s == Step::kAllow  ? "allow"
                       : s == Step::kDeny   ? "deny"
                                            : "needs_justification";
    for (const auto& r : x.reasons()) text += " " + r.code;
    if (out) *out = std::move(x);
    return text;
  }
  std::vector<TimeMs> Moments(const Rule& rule) {
    std::vector<TimeMs> m;
    rule.Moments(FactsOf(in), &m);
    return m;
  }
  void Cleared(TimeMs from, TimeMs until, uint64_t seq) {
    registry.entries.push_back({RegistryOutcome::kCleared, 20696, from, until, seq, 1, from});
  }
  void Listed(Day received, TimeMs from, uint64_t seq) {
    registry.entries.push_back({RegistryOutcome::kListed, received, from, 0, seq, 1, from});
  }
};

// Denies from 20:00 to 09:00 (UTC, for the test): an answer that changes
// with the clock alone.
class NightRule final : public Rule {
 public:
  const char* name() const override { return "night"; }
  static bool Night(TimeMs t) {
    const TimeMs h = (t / kHour) % 24;
    return h >= 20 || h < 9;
  }
  Step Apply(const Facts& f, Explainer& x) const override {
    if (!Night(f.in.at)) return Step::kContinue;
    x.Add("calling_hours", [] { return "outside the calling hours"; }, {});
    return Step::kDeny;
  }
  void Moments(const Facts& f, std::vector<TimeMs>* out) const override {
    const TimeMs day = f.in.at - f.in.at % (24 * kHour);
    for (TimeMs t : {day + 9 * kHour, day + 20 * kHour, day + 33 * kHour})
      if (t > f.in.at) out->push_back(t);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(rules_tests)

BOOST_AUTO_TEST_CASE(block_denies_its_channels_until_an_unblock_lists_it) {
  Case c;
  BlockRule rule;
  BOOST_TEST(c.Run(rule) == "continue");
  c.self.blocks.push_back({MaskOf(Channel::kVoice), "request", 5, kT0 + kHour});
  BOOST_TEST(c.Run(rule) == "deny blocked");
  c.in.channel = Channel::kSms;
  BOOST_TEST(c.Run(rule) == "continue");
  c.in.channel = Channel::kVoice;
  c.self.unblocks.push_back({MaskOf(Channel::kVoice), 6, kT0 + 12 * kHour, {5}});
  BOOST_TEST(c.Run(rule) == "deny blocked");  // at 10:00 the unblock of 12:00 is to come
  BOOST_TEST(c.Moments(rule) == std::vector<TimeMs>{kT0 + 12 * kHour});
  c.in.at = kT0 + 13 * kHour;
  BOOST_TEST(c.Run(rule) == "continue");
  c.in.known_at = kT0 + 11 * kHour;  // as known before the unblock
  BOOST_TEST(c.Run(rule) == "deny blocked");
}

BOOST_AUTO_TEST_CASE(the_registry_rule_by_state) {
  Case c;
  RoundTripRegistryRule rule;
  BOOST_TEST(c.Run(rule) == "deny registry_unchecked");
  c.Cleared(kT0, kT0 + 16 * 24 * kHour, 7);
  BOOST_TEST(c.Run(rule) == "continue registry_cleared");
  BOOST_TEST(c.Moments(rule) == std::vector<TimeMs>{kT0 + 16 * 24 * kHour});
  c.in.at = kT0 + 16 * 24 * kHour;
  BOOST_TEST(c.Run(rule) == "deny registry_expired");
  // Listed on day 20697; a consent given on 20698 lets the call through and
  // is cited by this rule, one given on 20690 does not count.
  c.in.at = kT0 + 40 * kHour;
  c.Listed(20697, kT0 + 24 * kHour, 8);
  c.self.consents.push_back({"tel", 20690, kT0 - 24 * kHour, 0, 3, kT0 - 24 * kHour});
  BOOST_TEST(c.Run(rule) == "deny registry_listed");
  c.self.consents.push_back({"tel", 20698, kT0 + 30 * kHour, 0, 9, kT0 + 30 * kHour});
  Explainer x(Explain::kCodes);
  BOOST_TEST(c.Run(rule, &x) == "continue registry_listed_consent_after_listing");
  BOOST_TEST(x.consent_cited);
  BOOST_TEST(x.reasons()[0].seqs == (std::vector<uint64_t>{8, 9}));
  // Out of the registry's scope: a reason, no verdict.
  c.in.registry_applies = false;
  BOOST_TEST(c.Run(rule) == "continue registry_out_of_scope");
  c.in.channel = Channel::kEmail;
  BOOST_TEST(c.Run(rule) == "continue");
}

BOOST_AUTO_TEST_CASE(consent_and_justification_conclude) {
  Case c;
  ConsentRule consent;
  JustificationRule justification;
  // Voice needs no consent by default (Italy's opt-out regime).
  BOOST_TEST(c.Run(consent) == "allow consent_not_required");
  c.in.channel = Channel::kSms;
  BOOST_TEST(c.Run(consent) == "continue");
  Explainer x(Explain::kCodes);
  BOOST_TEST(c.Run(justification, &x) == "needs_justification consent_missing");
  BOOST_TEST(x.allowed_reasons() == std::vector<std::string>{"callback"});
  c.self.justifications.push_back(
      {Channel::kSms, "callback", 4, kT0 + 9 * kHour, kT0 + 9 * kHour + 30 * 60'000});
  c.in.at = kT0 + 9 * kHour + 10 * 60'000;
  BOOST_TEST(c.Run(justification) == "allow justified");
  BOOST_TEST(c.Moments(justification) == std::vector<TimeMs>{kT0 + 9 * kHour + 30 * 60'000});
  c.self.consents.push_back({"tel", 20600, kT0 - 1000 * kHour, 0, 3, kT0 - 1000 * kHour});
  BOOST_TEST(c.Run(consent) == "allow consent_valid");
  c.self.revocations.push_back({"tel", 10, kT0 + 9 * kHour});
  BOOST_TEST(c.Run(consent) == "continue");
  c.in.channel = Channel::kNewsletter;
  BOOST_TEST(c.Run(consent) == "deny consent_missing");
}

BOOST_AUTO_TEST_CASE(a_clock_only_rule_joins_the_pipeline_and_sets_valid_until) {
  Case c;
  c.Cleared(kT0, kT0 + 16 * 24 * kHour, 7);
  static const NightRule night;
  std::vector<const Rule*> rules(DefaultRules().begin(), DefaultRules().end());
  rules.insert(rules.begin() + 1, &night);  // after the block
  c.in.at = kT0 + 10 * kHour;               // 10:00: callable until 20:00
  Decision day = Evaluate(rules, c.in);
  BOOST_TEST(VerdictName(day.verdict) == std::string("allow"));
  BOOST_TEST(day.valid_until == kT0 + 20 * kHour);
  c.in.at = kT0 + 22 * kHour;  // 22:00: denied until 09:00 the next day
  Decision late = Evaluate(rules, c.in);
  BOOST_TEST(VerdictName(late.verdict) == std::string("deny"));
  BOOST_TEST(late.reasons[0].code == "calling_hours");
  BOOST_TEST(late.valid_until == kT0 + 33 * kHour);
  // The default pipeline knows no hours: allowed until the clearance ends.
  BOOST_TEST(Evaluate(c.in).valid_until == kT0 + 16 * 24 * kHour);
  // A pipeline that never concludes denies.
  std::vector<const Rule*> none;
  BOOST_TEST(VerdictName(Evaluate(none, c.in).verdict) == std::string("deny"));
}

BOOST_AUTO_TEST_SUITE_END()
