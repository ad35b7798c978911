// A number given to a new subscriber (issue 18): what was recorded for the
// earlier one stops counting for it.
#include "../internal/dates.h"
#include "../internal/text.h"
#include "tacet/projections/ledger.h"

namespace tacet {

Result<Recorded> Ledger::Reassign(const ReassignRequest& req, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  const TimeMs now = clock_->NowMs();
  TACET_ASSIGN_OR_RETURN(const Day since, internal::PastOrToday("--since", req.since, zone_, now));
  SubjectReassigned r;
  TACET_ASSIGN_OR_RETURN(r.subject, IdOf(subject));
  r.since_day = since;
  r.effective_from = zone_.StartOfDay(since);
  r.sealed.bytes = req.note;  // sealed by AppendOne
  return AppendOne(subject, r, actor);
}

}  // namespace tacet
