#include "tacet/projections/decision.h"

#include <algorithm>

namespace tacet {
namespace {

// The decision at in.at, without valid_until. Sentences are built only
// when asked for (Explain::kFull): they cost more than the decision.
Decision EvaluateAt(const DecisionInput& in) {
  Decision d;
  const TimeMs at = in.at;
  const TimeMs known = in.known_at;
  const TimeMs cut = std::min(at, known);  // events effective when recorded
  const ChannelMask ch = MaskOf(in.channel);
  static const SubjectState kNothing;
  const SubjectState& s = in.subject_state ? *in.subject_state : kNothing;
  const PolicyView& policy = *in.policy;
  const std::string registry(in.explain == Explain::kFull ? in.registry : std::string_view());
  // `detail` is called for the sentence only when it is wanted.
  auto reason = [&](const char* code, auto&& detail, std::initializer_list<uint64_t> seqs) {
    if (in.explain == Explain::kVerdict) return;
    DecisionReason& r = d.reasons.emplace_back();
    r.code = code;
    if (in.explain == Explain::kFull) r.detail = detail();
    r.seqs.assign(seqs);
  };

  // 1. The internal do-not-call list: only an explicit unblock lifts a block.
  std::vector<uint64_t> blocks = ActiveBlocks(s, in.channel, cut);
  if (!blocks.empty()) {
    d.verdict = Verdict::kDeny;
    reason("blocked", [] { return "on the internal do-not-call list"; }, {});
    if (!d.reasons.empty()) d.reasons.back().seqs = std::move(blocks);
    return d;
  }

  // The best consent valid at `at` for the channel's use.
  const ConsentEntry* consent = nullptr;
  for (const ConsentEntry& c : s.consents) {
    if (c.recorded_at > known || c.effective_from > at) continue;
    if (c.expires_at != 0 && at >= c.expires_at) continue;
    auto type = policy.consent_types.find(c.type_code);
    if (type == policy.consent_types.end() || (type->second.value.uses & UseOf(in.channel)) == 0)
      continue;
    bool revoked =
        std::any_of(s.revocations.begin(), s.revocations.end(), [&](const RevocationEntry& r) {
          return r.type_code == c.type_code && r.seq > c.seq && r.recorded_at <= cut;
        });
    if (revoked) continue;
    if (consent == nullptr || c.given_day > consent->given_day) consent = &c;
  }

  // 2. The registry.
  bool via_consent = false;
  if (in.registry_applies) {
    const RegistryEntry* e = in.registry_state ? in.registry_state->At(at, known) : nullptr;
    if (e == nullptr) {
      d.verdict = Verdict::kDeny;
      reason("registry_unchecked", [&] { return "never checked against " + registry; }, {});
      return d;
    }
    if (e->outcome == RegistryOutcome::kListed) {
      auto listed = [&] {
        return "listed in " + registry + " (return received " + FormatDate(e->received_day);
      };
      if (consent != nullptr && consent->given_day > e->received_day) {
        via_consent = true;
        reason("registry_listed_consent_after_listing",
               [&] {
                 return listed() + "), but consent " + consent->type_code +
                        " was given after it, on " + FormatDate(consent->given_day);
               },
               {e->seq, consent->seq});
      } else {
        d.verdict = Verdict::kDeny;
        if (consent != nullptr) {
          reason("registry_listed",
                 [&] {
                   return listed() + "); the consent given " + FormatDate(consent->given_day) +
                          " predates the listing and does not count";
                 },
                 {e->seq, consent->seq});
        } else {
          reason("registry_listed", [&] { return listed() + ")"; }, {e->seq});
        }
        return d;
      }
    } else if (at >= e->valid_until) {
      d.verdict = Verdict::kDeny;
      reason("registry_expired",
             [&] {
               return "the " + registry + " clearance of the return received " +
                      FormatDate(e->received_day) + " (session " + std::to_string(e->session_id) +
                      ") has ended";
             },
             {e->seq});
      return d;
    } else {
      reason("registry_cleared",
             [&] {
               return "cleared by " + registry + " (return received " +
                      FormatDate(e->received_day) + ", session " + std::to_string(e->session_id) +
                      ")";
             },
             {e->seq});
    }
  } else if (in.channel == Channel::kVoice || in.channel == Channel::kSms) {
    reason("registry_out_of_scope", [&] { return "not a number of " + registry + "'s regions"; },
           {});
  }

  // 3. Consent.
  const bool required = in.channel == Channel::kNewsletter ||
                        (policy.channel_policy.value.consent_required & ch) != 0;
  if (consent != nullptr) {
    d.verdict = Verdict::kAllow;
    if (!via_consent)
      reason("consent_valid",
             [&] {
               return "consent " + consent->type_code + " given " + FormatDate(consent->given_day);
             },
             {consent->seq});
    return d;
  }
  if (!required) {
    d.verdict = Verdict::kAllow;
    auto why = [&] { return std::string(ChannelName(in.channel)) + " needs no consent"; };
    if (policy.channel_policy.seq != 0) {
      reason("consent_not_required", why, {policy.channel_policy.seq});
    } else {
      reason("consent_not_required", why, {});
    }
    return d;
  }
  if (in.channel == Channel::kNewsletter) {
    d.verdict = Verdict::kDeny;
    reason("consent_missing",
           [] { return "a newsletter goes only to subjects with a valid consent"; }, {});
    return d;
  }
  for (const JustificationEntry& j : s.justifications) {
    if (j.channel != in.channel || j.recorded_at > cut || at >= j.valid_until) continue;
    d.verdict = Verdict::kAllow;
    reason("justified", [&] { return "contact justified: " + j.reason_code; }, {j.seq});
    return d;
  }
  d.verdict = Verdict::kNeedsJustification;
  reason("consent_missing",
         [&] { return "no valid consent for " + std::string(ChannelName(in.channel)); }, {});
  if (in.explain != Explain::kVerdict)
    for (const auto& [code, r] : policy.reasons) d.allowed_reasons.push_back(code);
  return d;
}

}  // namespace

std::vector<uint64_t> ActiveBlocks(const SubjectState& s, Channel channel, TimeMs cut) {
  const ChannelMask ch = MaskOf(channel);
  std::vector<uint64_t> blocks;
  for (const BlockEntry& b : s.blocks) {
    if (b.recorded_at > cut || (b.channels & ch) == 0) continue;
    bool lifted = std::any_of(s.unblocks.begin(), s.unblocks.end(), [&](const UnblockEntry& u) {
      return u.recorded_at <= cut && (u.channels & ch) != 0 &&
             std::binary_search(u.lifted.begin(), u.lifted.end(), b.seq);
    });
    if (!lifted) blocks.push_back(b.seq);
  }
  return blocks;
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

Decision Evaluate(const DecisionInput& in) {
  Decision d = EvaluateAt(in);
  for (const auto& r : d.reasons) d.evidence.insert(d.evidence.end(), r.seqs.begin(), r.seqs.end());
  std::sort(d.evidence.begin(), d.evidence.end());
  d.evidence.erase(std::unique(d.evidence.begin(), d.evidence.end()), d.evidence.end());

  // valid_until: the first moment after `at` at which the verdict differs,
  // among the moments where any record starts or stops being in force.
  std::vector<TimeMs> moments;
  auto add = [&](TimeMs t) {
    if (t > in.at && t != 0) moments.push_back(t);
  };
  if (in.registry_applies && in.registry_state)
    for (const auto& e : in.registry_state->entries) {
      add(e.effective_from);
      add(e.valid_until);
    }
  if (in.subject_state) {
    const SubjectState& s = *in.subject_state;
    for (const auto& c : s.consents) {
      add(c.effective_from);
      add(c.expires_at);
      add(c.recorded_at);
    }
    for (const auto& r : s.revocations) add(r.recorded_at);
    for (const auto& b : s.blocks) add(b.recorded_at);
    for (const auto& u : s.unblocks) add(u.recorded_at);
    for (const auto& j : s.justifications) {
      add(j.recorded_at);
      add(j.valid_until);
    }
  }
  std::sort(moments.begin(), moments.end());
  moments.erase(std::unique(moments.begin(), moments.end()), moments.end());
  DecisionInput later = in;
  later.explain = Explain::kVerdict;  // only whether the verdict changes
  for (TimeMs t : moments) {
    later.at = t;
    if (EvaluateAt(later).verdict != d.verdict) {
      d.valid_until = t;
      break;
    }
  }
  return d;
}

}  // namespace tacet
