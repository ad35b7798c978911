// Campaigns ("motivi", issue 18): who runs them for which purpose, and
// whether their numbers need provenance. Policy events, like the others.
#include "../../internal/label.h"
#include "tacet/projections/ledger.h"

namespace tacet {

Result<Recorded> Ledger::CommitPolicy(const Payload& p, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 1));
  TACET_ASSIGN_OR_RETURN(Recorded r, CommitOne(std::move(batch), p));
  TACET_RETURN_IF_ERROR(LoadPolicy());
  return r;
}

Result<Recorded> Ledger::DefineCampaign(const CampaignRequest& req, const Actor& actor) {
  TACET_RETURN_IF_ERROR(internal::CheckLabel("campaign", req.code, 256));
  CampaignDefined c{req.code, req.title, req.controller, req.purpose, req.requires_provenance,
                    false};
  {
    std::shared_lock lock(policy_mu_);
    const CampaignDefined* cur = current_policy_.Campaign(req.code);
    if (req.retire) {
      if (cur == nullptr)
        return Status::NotFound("campaign " + internal::Quote(req.code) +
                                " is not defined; nothing was recorded");
      c = *cur;
      c.retired = true;
    } else {
      TACET_RETURN_IF_ERROR(internal::CheckLabel("--title", req.title, 1024));
      TACET_RETURN_IF_ERROR(internal::CheckLabel("--controller", req.controller, 1024));
      TACET_RETURN_IF_ERROR(internal::CheckLabel("--purpose", req.purpose, 1024));
      if (cur != nullptr && *cur == c) return Recorded{0, 0, 0, c.code};  // nothing changes
    }
  }
  TACET_ASSIGN_OR_RETURN(Recorded r, CommitPolicy(c, actor));
  r.subject = c.code;
  return r;
}

}  // namespace tacet
