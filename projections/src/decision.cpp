#include "tacet/projections/decision.h"

#include <algorithm>
#include <functional>

#include "tacet/projections/rules.h"

namespace tacet {
namespace {

// The verdict at f.in.at, with as much explanation as f.in.explain asks for;
// *concluded (when given) the rule that concluded, or null.
Decision DecideAt(std::span<const Rule* const> rules, const Facts& f,
                  const Rule** concluded = nullptr) {
  Explainer x(f.in.explain);
  Decision d;
  d.verdict = Verdict::kDeny;  // a pipeline that ends without a conclusion denies
  if (concluded != nullptr) *concluded = nullptr;
  for (const Rule* rule : rules) {
    const Step step = rule->Apply(f, x);
    if (step == Step::kContinue) continue;
    d.verdict = step == Step::kAllow  ? Verdict::kAllow
                : step == Step::kDeny ? Verdict::kDeny
                                      : Verdict::kNeedsJustification;
    if (concluded != nullptr) *concluded = rule;
    break;
  }
  d.reasons = std::move(x.reasons());
  if (d.verdict == Verdict::kNeedsJustification) d.allowed_reasons = std::move(x.allowed_reasons());
  return d;
}

}  // namespace

std::vector<uint64_t> ActiveBlocks(const SubjectState& s, Channel channel, TimeMs cut) {
  return ActiveBlocks(s.blocks, s.unblocks, channel, cut);
}

std::vector<uint64_t> ActiveBlocks(std::span<const BlockEntry> blocks,
                                   std::span<const UnblockEntry> unblocks, Channel channel,
                                   TimeMs cut) {
  const ChannelMask ch = MaskOf(channel);
  std::vector<uint64_t> active;
  for (const BlockEntry& b : blocks) {
    if (b.recorded_at > cut || (b.channels & ch) == 0) continue;
    bool lifted = std::any_of(unblocks.begin(), unblocks.end(), [&](const UnblockEntry& u) {
      return u.recorded_at <= cut && (u.channels & ch) != 0 &&
             std::binary_search(u.lifted.begin(), u.lifted.end(), b.seq);
    });
    if (!lifted) active.push_back(b.seq);
  }
  return active;
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kAllow:
      return "allow";
    case Verdict::kDeny:
      return "deny";
    case Verdict::kNeedsJustification:
      return "needs_justification";
  }
  return "unknown";
}

StoredVerdict StoredVerdictOf(Verdict v) {
  switch (v) {
    case Verdict::kAllow:
      return StoredVerdict::kAllow;
    case Verdict::kNeedsJustification:
      return StoredVerdict::kNeedsJustification;
    case Verdict::kDeny:
      break;
  }
  return StoredVerdict::kDeny;
}

Verdict VerdictOf(StoredVerdict v) {
  switch (v) {
    case StoredVerdict::kAllow:
      return Verdict::kAllow;
    case StoredVerdict::kNeedsJustification:
      return Verdict::kNeedsJustification;
    case StoredVerdict::kDeny:
      break;
  }
  return Verdict::kDeny;  // no other value is stored (the codec refuses it)
}

Decision Evaluate(const DecisionInput& in) { return Evaluate(DefaultRules(), in); }

Decision Evaluate(std::span<const Rule* const> rules, const DecisionInput& in) {
  const Facts f = FactsOf(in);
  Decision d = DecideAt(rules, f);
  for (const auto& r : d.reasons) d.evidence.insert(d.evidence.end(), r.seqs.begin(), r.seqs.end());
  std::sort(d.evidence.begin(), d.evidence.end());
  d.evidence.erase(std::unique(d.evidence.begin(), d.evidence.end()), d.evidence.end());

  // valid_until: the first moment after `at` at which the verdict differs,
  // among the moments where any rule's answer may change, tried in order.
  // Rules whose moments come from records name them all at once. A cyclic
  // rule (calling hours) names only its next change after `at`; when it
  // concludes at a later candidate t (a cool-down ends while the hours are
  // closed), its next change after t joins the candidates. It then opens
  // there, so it adds at most one candidate per candidate that the records
  // name: the walk ends.
  std::vector<TimeMs> moments;
  for (const Rule* rule : rules) rule->Moments(f, &moments);
  const auto later_first = std::greater<TimeMs>();
  std::make_heap(moments.begin(), moments.end(), later_first);
  DecisionInput later = in;
  later.explain = Explain::kVerdict;  // only whether the verdict changes
  TimeMs tried = in.at;
  while (!moments.empty()) {
    std::pop_heap(moments.begin(), moments.end(), later_first);
    const TimeMs t = moments.back();
    moments.pop_back();
    if (t <= tried) continue;  // a moment named twice
    tried = t;
    later.at = t;
    const Facts at_t = FactsOf(later);
    const Rule* concluded = nullptr;
    if (DecideAt(rules, at_t, &concluded).verdict != d.verdict) {
      d.valid_until = t;
      break;
    }
    if (concluded != nullptr && concluded->cyclic()) {
      const size_t before = moments.size();
      concluded->Moments(at_t, &moments);
      for (size_t i = before; i < moments.size(); ++i)
        std::push_heap(moments.begin(), moments.begin() + static_cast<ptrdiff_t>(i) + 1,
                       later_first);
    }
  }
  return d;
}

}  // namespace tacet
