#include "tacet/projections/decision.h"

#include <algorithm>

namespace tacet {
namespace {

// The decision at in.at, without valid_until.
Decision EvaluateAt(const DecisionInput& in) {
  Decision d;
  const TimeMs at = in.at;
  const TimeMs known = in.known_at;
  const TimeMs cut = std::min(at, known);  // events effective when recorded
  const ChannelMask ch = MaskOf(in.channel);
  static const SubjectState kNothing;
  const SubjectState& s = in.subject_state ? *in.subject_state : kNothing;
  const PolicyView& policy = *in.policy;
  auto reason = [&](std::string code, std::string detail, std::vector<uint64_t> seqs) {
    d.reasons.push_back({std::move(code), std::move(detail), std::move(seqs)});
  };

  // 1. The internal do-not-call list: only an explicit unblock lifts a block.
  std::vector<uint64_t> blocks = ActiveBlocks(s, in.channel, cut);
  if (!blocks.empty()) {
    d.verdict = Verdict::kDeny;
    reason("blocked", "on the internal do-not-call list", blocks);
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
      reason("registry_unchecked", "never checked against " + in.registry, {});
      return d;
    }
    if (e->outcome == RegistryOutcome::kListed) {
      if (consent != nullptr && consent->given_day > e->received_day) {
        via_consent = true;
        reason("registry_listed_consent_after_listing",
               "listed in " + in.registry + " (return received " + FormatDate(e->received_day) +
                   "), but consent " + consent->type_code + " was given after it, on " +
                   FormatDate(consent->given_day),
               {e->seq, consent->seq});
      } else {
        d.verdict = Verdict::kDeny;
        reason(
            "registry_listed",
            "listed in " + in.registry + " (return received " + FormatDate(e->received_day) +
                (consent ? "); the consent given " + FormatDate(consent->given_day) +
                               " predates the listing and does not count"
                         : ")"),
            consent ? std::vector<uint64_t>{e->seq, consent->seq} : std::vector<uint64_t>{e->seq});
        return d;
      }
    } else if (at >= e->valid_until) {
      d.verdict = Verdict::kDeny;
      reason("registry_expired",
             "the " + in.registry + " clearance of the return received " +
                 FormatDate(e->received_day) + " (session " + std::to_string(e->session_id) +
                 ") has ended",
             {e->seq});
      return d;
    } else {
      reason("registry_cleared",
             "cleared by " + in.registry + " (return received " + FormatDate(e->received_day) +
                 ", session " + std::to_string(e->session_id) + ")",
             {e->seq});
    }
  } else if (in.channel == Channel::kVoice || in.channel == Channel::kSms) {
    reason("registry_out_of_scope", "not a number of " + in.registry + "'s regions", {});
  }

  // 3. Consent.
  const bool required = in.channel == Channel::kNewsletter ||
                        (policy.channel_policy.value.consent_required & ch) != 0;
  if (consent != nullptr) {
    d.verdict = Verdict::kAllow;
    if (!via_consent)
      reason("consent_valid",
             "consent " + consent->type_code + " given " + FormatDate(consent->given_day),
             {consent->seq});
    return d;
  }
  if (!required) {
    d.verdict = Verdict::kAllow;
    std::vector<uint64_t> seqs;
    if (policy.channel_policy.seq != 0) seqs.push_back(policy.channel_policy.seq);
    reason("consent_not_required", std::string(ChannelName(in.channel)) + " needs no consent",
           seqs);
    return d;
  }
  if (in.channel == Channel::kNewsletter) {
    d.verdict = Verdict::kDeny;
    reason("consent_missing", "a newsletter goes only to subjects with a valid consent", {});
    return d;
  }
  for (const JustificationEntry& j : s.justifications) {
    if (j.channel != in.channel || j.recorded_at > cut || at >= j.valid_until) continue;
    d.verdict = Verdict::kAllow;
    reason("justified", "contact justified: " + j.reason_code, {j.seq});
    return d;
  }
  d.verdict = Verdict::kNeedsJustification;
  reason("consent_missing", "no valid consent for " + std::string(ChannelName(in.channel)), {});
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
      return u.seq > b.seq && u.recorded_at <= cut && (u.channels & ch) != 0;
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
