// The decision as an ordered pipeline of pure rules. Each rule reads the
// facts of one decision (loaded before any rule runs: no I/O), adds its
// reasons, and either concludes (allow, deny, needs a justification) or lets
// the next rule speak. Each also reports the moments after `at` at which its
// own answer may change; a decision's valid_until is the first of them all
// at which the verdict differs. Calling hours and frequency caps, whose
// answers change with the clock alone, join the same way.
//
// The pipeline: Erased (format 3), Block, PersonBlock and Provenance (issue 18), CallingHours and
// FrequencyCap (issue 17), the round-trip registry that
// covers the number under the policy in force (PolicyView::registries; the
// RPO so far), Consent, Justification (decision.h says what each decides).
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "tacet/projections/decision.h"

namespace tacet {

enum class Step { kContinue, kAllow, kDeny, kNeedsJustification };

// What every rule of one decision reads.
struct Facts {
  const DecisionInput& in;
  TimeMs cut = 0;  // min(at, known_at): records take effect when recorded
  const SubjectState& self;
  const PolicyView& policy;
  // The best consent in force at `at` for the channel's use (the latest
  // given), or null; the registry rule and the consent rule both weigh it.
  const ConsentEntry* consent = nullptr;
};
// Facts at in.at (in.subject_state and in.policy as given; no record: none).
Facts FactsOf(const DecisionInput& in);

// A decision's reasons, with as much explanation as asked for. What one rule
// says, the next can read (a consent already cited is not cited again).
class Explainer {
 public:
  explicit Explainer(Explain level) : level_(level) {}
  Explain level() const { return level_; }
  // `detail()` is called only when sentences are wanted: they cost more
  // than the decision.
  template <class Detail>
  void Add(const char* code, Detail&& detail, std::vector<uint64_t> seqs) {
    if (level_ == Explain::kVerdict) return;
    DecisionReason& r = reasons_.emplace_back();
    r.code = code;
    if (level_ == Explain::kFull) r.detail = detail();
    r.seqs = std::move(seqs);
  }
  template <class Detail>
  void Add(const char* code, Detail&& detail, std::initializer_list<uint64_t> seqs) {
    Add(code, std::forward<Detail>(detail), std::vector<uint64_t>(seqs));
  }
  std::vector<DecisionReason>& reasons() { return reasons_; }
  std::vector<std::string>& allowed_reasons() { return allowed_reasons_; }
  bool consent_cited = false;  // a rule gave the consent as its evidence

 private:
  Explain level_;
  std::vector<DecisionReason> reasons_;
  std::vector<std::string> allowed_reasons_;
};

class Rule {
 public:
  virtual ~Rule() = default;
  virtual const char* name() const = 0;
  virtual Step Apply(const Facts& f, Explainer& x) const = 0;
  // Adds the moments after f.in.at at which this rule's answer may change.
  virtual void Moments(const Facts& f, std::vector<TimeMs>* out) const = 0;
  // Whether those moments depend on f.in.at itself (a clock's cycle) rather
  // than only on records: the answer then changes again after each of them,
  // and valid_until asks such a rule for its moments after a later candidate
  // at which it concluded.
  virtual bool cyclic() const { return false; }
};

// An erased subject is suppressed on every channel, for good: its data is
// gone, and nothing recorded later can reopen contact.
class ErasedRule final : public Rule {
 public:
  const char* name() const override { return "erased"; }
  Step Apply(const Facts& f, Explainer& x) const override;
  void Moments(const Facts& f, std::vector<TimeMs>* out) const override;
};

// An internal block of the channel denies; only an unblock lifts it.
class BlockRule final : public Rule {
 public:
  const char* name() const override { return "block"; }
  Step Apply(const Facts& f, Explainer& x) const override;
  void Moments(const Facts& f, std::vector<TimeMs>* out) const override;
};

// A block of the subject's person (issue 18): at the decision's cut, the
// subject's person and every person merged with it (transitively); a block
// of any of them in force on the channel denies, citing the block, the
// subject's link and the merges that joined the blocked person.
class PersonBlockRule final : public Rule {
 public:
  const char* name() const override { return "person_block"; }
  Step Apply(const Facts& f, Explainer& x) const override;
  void Moments(const Facts& f, std::vector<TimeMs>* out) const override;
};

// Provenance (issue 18), for a decision asked for a campaign: a subject
// on one of the campaign's registered lists is cited with its memberships
// (`on_list`: where the number came from); one on none is denied
// `no_provenance` when the campaign in force requires provenance.
class ProvenanceRule final : public Rule {
 public:
  const char* name() const override { return "provenance"; }
  Step Apply(const Facts& f, Explainer& x) const override;
  void Moments(const Facts& f, std::vector<TimeMs>* out) const override;
};

// Calling hours (issue 17): outside the window of the calendar covering
// the number's region and the channel, deny `outside_calling_hours`; the
// answer changes at the next opening or closing.
class CallingHoursRule final : public Rule {
 public:
  const char* name() const override { return "calling_hours"; }
  Step Apply(const Facts& f, Explainer& x) const override;
  void Moments(const Facts& f, std::vector<TimeMs>* out) const override;
  bool cyclic() const override { return true; }
};

// Frequency caps and cool-downs (issue 17): attempts, not connections, in
// a rolling window before `at` (those recorded by known_at); `cool_down`
// after an attempt whose outcome was a refusal, `frequency_cap` once the
// window holds max_attempts. A cap waived by consent lets a subject with a
// valid consent through.
class FrequencyCapRule final : public Rule {
 public:
  const char* name() const override { return "frequency_cap"; }
  Step Apply(const Facts& f, Explainer& x) const override;
  void Moments(const Facts& f, std::vector<TimeMs>* out) const override;
};

// A round-trip registry (the RPO): voice and SMS to numbers in its scope
// need a clearance in force; a listed number only with a consent given
// after the listing's received day.
class RoundTripRegistryRule final : public Rule {
 public:
  const char* name() const override { return "registry"; }
  Step Apply(const Facts& f, Explainer& x) const override;
  void Moments(const Facts& f, std::vector<TimeMs>* out) const override;
};

// A valid consent allows; a channel that needs none allows; the newsletter
// without one is denied.
class ConsentRule final : public Rule {
 public:
  const char* name() const override { return "consent"; }
  Step Apply(const Facts& f, Explainer& x) const override;
  void Moments(const Facts& f, std::vector<TimeMs>* out) const override;
};

// A justification in force allows one contact; without one the answer is
// needs_justification, with the reasons that may be given. Always concludes.
class JustificationRule final : public Rule {
 public:
  const char* name() const override { return "justification"; }
  Step Apply(const Facts& f, Explainer& x) const override;
  void Moments(const Facts& f, std::vector<TimeMs>* out) const override;
};

// Erased, Block, PersonBlock, Provenance, CallingHours, FrequencyCap,
// RoundTripRegistry, Consent, Justification.
std::span<const Rule* const> DefaultRules();

// Runs `rules` in order on the facts at in.at; a pipeline that ends without
// a conclusion denies. With valid_until and evidence.
Decision Evaluate(std::span<const Rule* const> rules, const DecisionInput& in);

}  // namespace tacet
