// Time and replay (issue 3): a randomized history of more than 100,000
// events, with answers recorded at checkpoints; replayed copies as known at
// each checkpoint must give the same answers, and so must the full ledger
// asked "as known at"; a rebuild must equal the incremental projections.
#include "tacet/projections/decision.h"

#define BOOST_TEST_MODULE replay_tests
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <random>

#include "projections/ledger_fixture.h"
#include "tacet/core/codec.h"
#include "tacet/projections/calling_hours.h"
#include "tacet/projections/ledger.h"
#include "test_util.h"

using namespace tacet;
using namespace tacet::test;

namespace {

constexpr uint64_t kTargetEvents = 100'000;
constexpr int kPhones = 3'000;
constexpr int kEmails = 1'500;

// An answer as a comparable string: verdict, reasons with their seqs,
// valid_until.
std::string Describe(const Decision& d) {
  std::string s = VerdictName(d.verdict);
  for (const auto& r : d.reasons) {
    s += " " + r.code + "[";
    for (uint64_t q : r.seqs) s += std::to_string(q) + ",";
    s += "]";
  }
  return s + " until " + std::to_string(d.valid_until);
}

std::string Phone(int i) { return "+39347" + std::to_string(1'000'000 + i); }
std::string Email(int i) { return "person" + std::to_string(i) + "@example.it"; }

struct Probe {
  std::string subject;
  Channel channel;
};

struct Checkpoint {
  TimeMs at = 0;
  uint64_t head = 0;
  std::vector<std::string> answers;  // one per probe
};

struct HistoryFixture : Fixture {
  HistoryFixture() : Fixture(/*sync=*/false) {}

  std::mt19937_64 rng{20261122};
  std::vector<Probe> probes;

  uint64_t Pick(uint64_t n) { return rng() % n; }
  std::string AnySubject(bool* phone) {
    *phone = Pick(3) != 0;
    return *phone ? Phone(static_cast<int>(Pick(kPhones))) : Email(static_cast<int>(Pick(kEmails)));
  }
  std::string Today() { return FormatDate(rome.DayOf(clock.NowMs())); }
  std::string DaysAgo(int n) { return FormatDate(rome.DayOf(clock.NowMs()) - n); }

  PolicyConfig Policy(uint32_t a_days, bool with_r2, uint32_t minutes) {
    PolicyConfig p;
    p.consent_types_declared = true;
    p.consent_types = {{"A", "Marketing e-mail", "", a_days, kUseEmail | kUseNewsletter},
                       {"B", "Phone", "", 0, kUsePhone},
                       {"C", "Everything, briefly", "", 10,
                        static_cast<uint8_t>(kUseEmail | kUseNewsletter | kUsePhone)}};
    p.reasons_declared = true;
    p.reasons = {{"R1", "The customer asked"}};
    if (with_r2) p.reasons.push_back({"R2", "Active contract"});
    ChannelPolicySet c = DefaultChannelPolicy();
    c.justification_minutes = minutes;
    p.channels = c;
    // Issue 17: Italy's calling hours, and a cap with a cool-down on phones.
    p.calling_hours_declared = true;
    p.calling_hours = {ItalyCodeOfConductHours()};
    p.caps_declared = true;
    FrequencyCapDefined cap;
    cap.name = "three-a-day";
    cap.regions = {"IT"};
    cap.channels = MaskOf(Channel::kVoice) | MaskOf(Channel::kSms);
    cap.max_attempts = 3;
    cap.window_hours = 24;
    cap.cool_down_hours = 60 * 24;
    p.caps = {cap};
    return p;
  }

  struct Attempt {
    uint64_t seq;
    std::string subject;
    Channel channel;
    TimeMs started;
    std::string campaign;
  };
  std::vector<Attempt> attempts;

  // An export of some numbers and the registry's return for it.
  void RegistryCycle() {
    std::string candidates;
    for (int i = 0; i < 800; ++i) candidates += Phone(static_cast<int>(Pick(kPhones))) + "\n";
    ExportReport e = Export(candidates);
    for (const auto& f : e.files) {
      std::string ret;
      for (const auto& line : FileLines(f.txt_path))
        if (Pick(10) < 8) ret += line + "\r\n";  // the rest are listed
      auto r =
          ret.empty() ? ImportAllListed(f.session_id, Today()) : Import(f.session_id, Today(), ret);
      BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    }
  }

  // Issue 18: a list of some numbers registered for the campaign that
  // requires provenance, from one of three suppliers.
  void ListCycle() {
    std::string numbers;
    for (int i = 0; i < 300; ++i) numbers += Phone(static_cast<int>(Pick(kPhones))) + "\n";
    ListRequest req;
    req.path = "list-" + std::to_string(Pick(1'000'000)) + ".txt";
    req.content = numbers;
    req.campaign = "WINTER";
    req.supplier = "S" + std::to_string(Pick(3));
    req.acquired = DaysAgo(static_cast<int>(Pick(30)));
    req.basis = "supplier_consent";
    auto r = ledger->RegisterList(req, kOfficer);
    // (the same numbers twice, by chance, are the same file: refused)
    BOOST_TEST_REQUIRE((r.ok() || r.status().code() == StatusCode::kAlreadyExists),
                       r.status().ToString());
  }

  // One random recorded fact about one subject.
  void OneFact() {
    bool phone = false;
    std::string s = AnySubject(&phone);
    const uint64_t op = Pick(100);
    Status st;
    if (op < 45) {
      const char* types[] = {"A", "B", "C"};
      st = ledger
               ->GrantConsent({s, types[Pick(3)], DaysAgo(static_cast<int>(Pick(40))), "form v1"},
                              kOfficer)
               .status();
    } else if (op < 55) {
      const char* types[] = {"A", "B", "C"};
      st = ledger->RevokeConsent(s, types[Pick(3)], "asked", kOfficer).status();
    } else if (op < 65) {
      BlockRequest b;
      b.subject = s;
      b.channels = static_cast<ChannelMask>(
          Pick(2) ? kEveryChannel : MaskOf(phone ? Channel::kSms : Channel::kNewsletter));
      b.reason = "do not call";
      b.source = kBlockSources[Pick(kBlockSources.size())];
      st = ledger->Block(b, kOfficer).status();
    } else if (op < 70) {
      UnblockRequest u;
      u.subject = s;
      u.reason = "officer review";
      u.officer = "m.bianchi";
      st = ledger->Unblock(u, kOfficer).status();
    } else if (op < 82 && phone) {
      ContactRequest c;
      c.subject = s;
      c.channel = Pick(3) ? Channel::kVoice : Channel::kSms;
      c.started_at = clock.NowMs() - static_cast<TimeMs>(Pick(120)) * 60'000;
      const char* outcomes[] = {"no_answer", "busy",        "answered",     "voicemail",
                                "refused",   "do_not_call", "wrong_number", "sale"};
      c.outcome = outcomes[Pick(4) ? Pick(4) : 4 + Pick(4)];
      // Issue 18: half for the campaign that requires provenance, shown a
      // registered caller id or not.
      if (Pick(2)) {
        c.campaign = "WINTER";
        c.caller_id = Pick(3) ? "02 9999 9999" : "02 1111 1111";
      }
      auto r = ledger->RecordContact(c, kOfficer);
      st = r.status();
      if (r.ok()) attempts.push_back({r->seq, s, c.channel, c.started_at, c.campaign});
    } else if (op < 86) {
      // Persons: links (moves among five persons), unlinks, merges, splits,
      // the persons' own blocks and their lifting.
      const std::string person = "P" + std::to_string(Pick(5));
      std::string other = "P" + std::to_string(Pick(5));
      if (other == person) other = "P5";  // (a person merges with another)
      switch (Pick(6)) {
        case 0:
        case 1:
          st = ledger->LinkPerson({person, {s}}, kOfficer).status();
          break;
        case 2:
          st = ledger->UnlinkPerson({person, {s}}, kOfficer).status();
          break;
        case 3: {
          BlockRequest b;
          b.person = person;
          b.channels = Pick(2) ? kEveryChannel : MaskOf(Channel::kSms);
          b.source = "objection";
          b.reason = "art. 21";
          st = ledger->Block(b, kOfficer).status();
          break;
        }
        case 4: {
          UnblockRequest u;
          u.person = person;
          u.reason = "withdrawn";
          u.officer = "dpo";
          st = ledger->Unblock(u, kOfficer).status();
          break;
        }
        default:
          st = (Pick(2) ? ledger->MergePersons(person, other, kOfficer)
                        : ledger->SplitPersons(person, other, kOfficer))
                   .status();
      }
    } else {
      JustifyRequest j;
      j.subject = s;
      j.channel = phone ? (Pick(2) ? Channel::kVoice : Channel::kSms) : Channel::kEmail;
      PolicyView now = ledger->Policy(clock.NowMs());
      j.reason_code = now.reasons.count("R2") && Pick(2) ? "R2" : "R1";
      st = ledger->Justify(j, kOfficer).status();
    }
    // An unblock of a subject not blocked, or a justification of a denial
    // it cannot lift, is refused and records nothing: part of the history.
    BOOST_TEST_REQUIRE((st.ok() || st.code() == StatusCode::kFailedPrecondition), st.ToString());
  }

  Checkpoint Record() {
    Checkpoint c;
    c.at = clock.NowMs();
    c.head = ledger->log().head().seq;
    for (const Probe& p : probes) {
      auto a = ledger->Decide(p.subject, p.channel, c.at);
      BOOST_TEST_REQUIRE(a.ok(), a.status().ToString());
      c.answers.push_back(Describe(a->decision));
    }
    return c;
  }

  // The answers of `l` at `at` (as known at `known`) against a checkpoint's.
  void Compare(const Ledger& l, const Checkpoint& c, TimeMs known, const std::string& what) {
    size_t differ = 0;
    for (size_t i = 0; i < probes.size(); ++i) {
      auto a = l.Decide(probes[i].subject, probes[i].channel, c.at, known);
      BOOST_TEST_REQUIRE(a.ok(), a.status().ToString());
      std::string got = Describe(a->decision);
      if (got != c.answers[i] && differ++ < 5)
        BOOST_TEST(got == c.answers[i], what << ": " << probes[i].subject << " "
                                             << ChannelName(probes[i].channel) << " got " << got
                                             << " want " << c.answers[i]);
    }
    BOOST_TEST(differ == 0u, what << ": " << differ << " answers differ");
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(replay_tests)

BOOST_FIXTURE_TEST_CASE(replayed_copies_answer_as_recorded_and_rebuild_equals_incremental,
                        HistoryFixture) {
  for (int i = 0; i < 400; ++i) {
    probes.push_back(
        {Phone(static_cast<int>(Pick(kPhones))), Pick(2) ? Channel::kVoice : Channel::kSms});
    probes.push_back(
        {Email(static_cast<int>(Pick(kEmails))), Pick(2) ? Channel::kEmail : Channel::kNewsletter});
  }
  auto p = ledger->ReconcilePolicy(Policy(30, true, 30), kOfficer);
  BOOST_TEST_REQUIRE(p.ok(), p.status().ToString());
  BOOST_TEST_REQUIRE(
      ledger->DefineCampaign({"WINTER", "Winter offers", "Acme", "marketing", true}, kOfficer)
          .ok());
  BOOST_TEST_REQUIRE(ledger->RegisterCaller({"02 9999 9999", "WINTER"}, kOfficer).ok());

  std::vector<Checkpoint> checkpoints;
  const uint64_t every = kTargetEvents / 6;
  uint64_t next_checkpoint = every;
  uint64_t steps = 0;
  while (ledger->log().head().seq < kTargetEvents) {
    // Minutes to hours between facts; a registry cycle now and then; the
    // policy changes a few times (validity, a reason retired and restored,
    // the justification window).
    clock.Set(clock.NowMs() + static_cast<TimeMs>(1 + Pick(180)) * 60'000);
    ++steps;
    if (steps % 400 == 0) {
      RegistryCycle();
    } else if (steps % 400 == 200) {
      ListCycle();
    } else if (steps % 1'500 == 0) {
      auto r = ledger->ReconcilePolicy(Policy(Pick(2) ? 30 : 60, Pick(2) != 0, Pick(2) ? 30 : 90),
                                       kOfficer);
      BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    } else {
      OneFact();
    }
    if (ledger->log().head().seq >= next_checkpoint) {
      checkpoints.push_back(Record());
      next_checkpoint += every;
    }
  }
  BOOST_TEST_MESSAGE(ledger->log().head().seq << " events in " << steps << " steps");
  BOOST_TEST_REQUIRE(ledger->log().head().seq >= kTargetEvents);
  BOOST_TEST_REQUIRE(checkpoints.size() >= 5u);

  // Every verdict occurs among the recorded answers: the history is varied
  // enough for the comparison to mean something.
  std::string all;
  for (const auto& c : checkpoints)
    for (const auto& a : c.answers) all += a.substr(0, a.find(' ')) + "|";
  for (const char* v : {"allow|", "deny|", "needs_justification|"})
    BOOST_TEST(all.find(v) != std::string::npos, v);

  for (size_t i = 0; i < checkpoints.size(); ++i) {
    const Checkpoint& c = checkpoints[i];
    // The full ledger, asked what was known at K.
    Compare(*ledger, c, c.at, "as known at checkpoint " + std::to_string(i));
    // A replayed copy as known at K: exactly the events up to K.
    const std::string out = dir / ("replay-" + std::to_string(i));
    auto rep = ledger->ReplayTo(out, c.at);
    BOOST_TEST_REQUIRE(rep.ok(), rep.status().ToString());
    BOOST_TEST(rep->events == c.head);
    BOOST_TEST(rep->head.seq == c.head);
    LedgerOptions o;
    o.data_dir = out;
    o.read_only = true;
    o.clock = &clock;
    auto copy = Ledger::Open(o);
    BOOST_TEST_REQUIRE(copy.ok(), copy.status().ToString());
    BOOST_TEST(((*copy)->replayed_as_known_at() == std::optional<TimeMs>(c.at)));
    BOOST_TEST((*copy)->Verify().ok);
    Compare(**copy, c, kKnownNow, "replayed copy " + std::to_string(i));
  }

  // A replayed copy refuses writers.
  LedgerOptions w;
  w.data_dir = dir / "replay-0";
  w.clock = &clock;
  auto writer = Ledger::Open(w);
  BOOST_TEST(!writer.ok());
  BOOST_TEST(writer.status().message().find("read-only") != std::string::npos);

  // Rebuild equals incremental, family by family, and answers stay the same.
  auto rb = ledger->Rebuild();
  BOOST_TEST_REQUIRE(rb.ok(), rb.status().ToString());
  BOOST_TEST(rb->equal);
  BOOST_TEST(rb->events == ledger->log().head().seq);
  BOOST_TEST_REQUIRE(rb->families.size() == 8u);
  for (const auto& f : rb->families) {
    BOOST_TEST(f.before.entries > 0u, f.name);
    BOOST_TEST(f.before.sha256 == f.after.sha256, f.name);
  }
  Compare(*ledger, checkpoints.back(), checkpoints.back().at, "after rebuild");

  // Issue 17: each attempt's audit is the answer at its start as known just
  // before it was recorded, asked again now.
  BOOST_TEST_REQUIRE(attempts.size() > 300u);
  size_t denied = 0, differ = 0, no_provenance = 0, on_list = 0, unregistered = 0;
  for (const Attempt& a : attempts) {
    Event e = ledger->log().Read(a.seq).value();
    const ContactAttempted stored =
        std::get<ContactAttempted>(DecodePayload(e.type, e.version, e.payload).value());
    DecisionAnswer again;
    again.subject = ledger->ParseSubject(a.subject).value();
    again.channel = a.channel;
    again.at = a.started;
    again.known_at = e.recorded_at - 1;
    again.campaign = a.campaign;
    const Status decided = ledger->DecideAll(std::span(&again, 1));
    BOOST_TEST_REQUIRE(decided.ok(), decided.ToString());
    std::vector<std::string> codes;
    for (const auto& r : again.decision.reasons) codes.push_back(r.code);
    const bool same =
        static_cast<int>(stored.verdict) == static_cast<int>(again.decision.verdict) + 1 &&
        codes == stored.reasons && again.decision.evidence == stored.evidence;
    if (!same && differ++ < 5) BOOST_TEST(same, "attempt seq " << a.seq);
    denied += stored.verdict == StoredVerdict::kDeny;
    no_provenance += std::count(stored.reasons.begin(), stored.reasons.end(), "no_provenance");
    on_list += std::count(stored.reasons.begin(), stored.reasons.end(), "on_list");
    unregistered += (stored.flags & kAttemptUnregisteredCaller) != 0;
  }
  BOOST_TEST(differ == 0u);
  BOOST_TEST(denied > 0u);
  // Issue 18: the history holds both answers of provenance, and both kinds
  // of caller id.
  BOOST_TEST(no_provenance > 0u);
  BOOST_TEST(on_list > 0u);
  BOOST_TEST(unregistered > 0u);
  // The audit of all time lists each attempt once, violations first.
  std::vector<uint64_t> audited;
  bool violations_first = true, seen_other = false;
  auto totals = ledger->Audit(
      AuditRequest{INT64_MIN, INT64_MAX, ""}, [](const AuditTotals&) {},
      [&](const AuditRow& r) {
        audited.push_back(r.seq);
        if (!r.violation) seen_other = true;
        if (r.violation && seen_other) violations_first = false;
      });
  BOOST_TEST_REQUIRE(totals.ok(), totals.status().ToString());
  BOOST_TEST(totals->all.attempts == attempts.size());
  BOOST_TEST(totals->denied == denied);
  BOOST_TEST(totals->all.unregistered_caller == unregistered);
  BOOST_TEST(violations_first);
  std::sort(audited.begin(), audited.end());
  std::vector<uint64_t> recorded;
  for (const Attempt& a : attempts) recorded.push_back(a.seq);
  std::sort(recorded.begin(), recorded.end());
  BOOST_TEST(audited == recorded);
  BOOST_TEST_MESSAGE(attempts.size() << " attempts, " << denied << " denied at their start");
}

BOOST_FIXTURE_TEST_CASE(a_rebuild_finds_a_projection_that_drifted, Fixture) {
  BlockRequest b{"06 1234 5678", kEveryChannel, "asked", "request"};
  BOOST_TEST_REQUIRE(ledger->Block(b, kOfficer).ok());
  // Tamper with the projection behind the log's back: the digest must see it.
  auto batch = ledger->log().NewProjectionBatch();
  BOOST_TEST_REQUIRE(batch.ok());
  batch->Put(ledger->log().FamilyIndex(kSubjectFamily), "+390612345678", "");
  BOOST_TEST_REQUIRE(ledger->log().Commit(std::move(batch).value()).ok());
  auto rb = ledger->Rebuild();
  BOOST_TEST_REQUIRE(rb.ok(), rb.status().ToString());
  BOOST_TEST(!rb->equal);
  // The rebuilt projection is the fold of the log: blocked again.
  auto a = ledger->Decide("06 1234 5678", Channel::kVoice, clock.NowMs());
  BOOST_TEST_REQUIRE(a.ok());
  BOOST_TEST(a->decision.reasons.at(0).code == "blocked");
  auto again = ledger->Rebuild();
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST(again->equal);
}

BOOST_FIXTURE_TEST_CASE(an_interrupted_rebuild_is_reported_on_open, Fixture) {
  BOOST_TEST_REQUIRE(ledger->log().PutMeta(kRebuildMetaKey, "started earlier").ok());
  ledger.reset();
  LedgerOptions o;
  o.data_dir = dir / "data";
  o.clock = &clock;
  auto l = Ledger::Open(o);
  BOOST_TEST(!l.ok());
  BOOST_TEST(l.status().message().find("tacet rebuild") != std::string::npos, l.status().message());
  o.repair = true;
  auto r = Ledger::Open(o);
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  BOOST_TEST_REQUIRE((*r)->Rebuild().ok());
  (*r).reset();
  o.repair = false;
  BOOST_TEST(Ledger::Open(o).ok());
}

BOOST_AUTO_TEST_SUITE_END()
