// Caller ids a campaign may show (issue 18; Italy's code of conduct, art.
// 7 and 10.3: registered, identifiable numbers), and their check on
// contact attempts.
#include "caller_check.h"

#include "../../internal/label.h"
#include "tacet/projections/ledger.h"

namespace tacet {
namespace internal {

namespace {
// The version of a caller id in force at `at` (recorded by then, not
// retired, valid then), or null.
const CallerRegistered* InForce(const std::vector<Versioned<CallerRegistered>>& versions,
                                TimeMs at) {
  const Versioned<CallerRegistered>* last = nullptr;
  for (const auto& v : versions)
    if (v.recorded_at <= at) last = &v;
  if (last == nullptr || last->value.retired) return nullptr;
  const CallerRegistered& c = last->value;
  return c.valid_from <= at && (c.valid_to == 0 || at < c.valid_to) ? &c : nullptr;
}
}  // namespace

bool CallerUnregistered(const PolicyHistory& h, const SubjectParser& parser,
                        std::string_view caller_id, std::string_view campaign, TimeMs at) {
  if (h.callers.empty()) return false;
  Result<Subject> parsed = parser.ParsePhone(caller_id, false);
  const std::string number = parsed.ok() ? parsed->value : std::string(caller_id);
  auto registered = [&](std::string_view c) {
    auto it = h.callers.find(PolicyCallerKey(number, c));
    return it != h.callers.end() && InForce(it->second, at) != nullptr;
  };
  if (!number.empty() && (registered(campaign) || registered(""))) return false;
  // Not registered: a flag only when the ledger had caller ids to check
  // against then (a ledger that registers none is not audited for them).
  for (const auto& [key, versions] : h.callers)
    if (InForce(versions, at) != nullptr) return true;
  return false;
}

}  // namespace internal

Result<Recorded> Ledger::RegisterCaller(const CallerRequest& req, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(Subject number, parser_.ParsePhone(req.number, false));
  TACET_RETURN_IF_ERROR(internal::CheckLabel("--campaign", req.campaign, 256, true));
  TACET_RETURN_IF_ERROR(internal::CheckLabel("--roc", req.roc, 256, true));
  const TimeMs now = clock_->NowMs();
  CallerRegistered c{number.value, req.campaign, req.roc, req.valid_from, req.valid_to, false};
  {
    std::shared_lock lock(policy_mu_);
    if (!req.campaign.empty() && current_policy_.Campaign(req.campaign) == nullptr)
      return Status::NotFound("campaign " + internal::Quote(req.campaign) +
                              " is not defined (tacet campaign define); nothing was recorded");
    auto it = current_policy_.callers.find(PolicyCallerKey(c.number, c.campaign));
    const CallerRegistered* cur = it == current_policy_.callers.end() ? nullptr : &it->second.value;
    const std::string what =
        c.number + (c.campaign.empty() ? " for every campaign" : " for campaign " + c.campaign);
    if (req.retire) {
      if (cur == nullptr)
        return Status::FailedPrecondition(what + " is not registered; nothing was recorded");
      c = *cur;
      c.retired = true;
    } else {
      if (c.valid_from == 0) c.valid_from = now;
      if (c.valid_to != 0 && c.valid_to <= c.valid_from)
        return Status::InvalidArgument("--valid-to " + FormatUtc(c.valid_to) +
                                       " is not after --valid-from " + FormatUtc(c.valid_from) +
                                       "; nothing was recorded");
      if (cur != nullptr && cur->roc == c.roc && cur->valid_to == c.valid_to &&
          (req.valid_from == 0 || cur->valid_from == c.valid_from))
        return Recorded{0, 0, 0, c.number};  // registered so already: nothing to record
      if (cur != nullptr && req.valid_from == 0) c.valid_from = cur->valid_from;
    }
  }
  TACET_ASSIGN_OR_RETURN(Recorded r, CommitPolicy(c, actor));
  r.subject = c.number;
  return r;
}

}  // namespace tacet
