// A number given to a new subscriber (issue 18): what was recorded for the
// earlier one stops counting for it.
#include "../internal/text.h"
#include "tacet/projections/ledger.h"

namespace tacet {

Result<Recorded> Ledger::Reassign(const ReassignRequest& req, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  auto since = ParseDate(req.since);
  if (!since.ok()) return since.status().WithContext("--since");
  const TimeMs now = clock_->NowMs();
  if (*since > zone_.DayOf(now))
    return Status::InvalidArgument("--since " + req.since + " is in the future (today is " +
                                   FormatDate(zone_.DayOf(now)) + " in " + zone_.name() +
                                   "); nothing was recorded");
  SubjectReassigned r;
  TACET_ASSIGN_OR_RETURN(r.subject, IdOf(subject));
  r.since_day = *since;
  r.effective_from = zone_.StartOfDay(*since);
  r.sealed.bytes = req.note;  // sealed by AppendOne
  return AppendOne(subject, r, actor);
}

}  // namespace tacet
