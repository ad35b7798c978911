// Ledger::BlockPerson and UnblockPerson: a block of the person's own, which
// covers every subject linked to it (issue 18; GDPR art. 21 objections are
// the person's).
#include <algorithm>

#include "../block_requests.h"
#include "person_id.h"
#include "tacet/projections/ledger.h"
#include "tacet/projections/person_state.h"

namespace tacet {
namespace {

Status RefuseSubjectToo(const std::string& subject, const char* what) {
  if (subject.empty()) return Status::Ok();
  return Status::InvalidArgument(std::string(what) +
                                 " names a subject or a person, not both; nothing was recorded");
}

}  // namespace

Result<Recorded> Ledger::CommitOne(AppendBatch batch, const Payload& p) {
  const Event& e = batch.Add(p);
  Recorded r;
  r.seq = e.seq;
  r.recorded_at = e.recorded_at;
  TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  return r;
}

Result<Recorded> Ledger::BlockPerson(const BlockRequest& req, const Actor& actor) {
  TACET_RETURN_IF_ERROR(RefuseSubjectToo(req.subject, "a block"));
  TACET_RETURN_IF_ERROR(persons::CheckPersonId(req.person));
  TACET_RETURN_IF_ERROR(internal::CheckBlock(req));
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  const PersonId id = keyer_->PersonOf(req.person);
  // The CRM's id and the reason, under the person's own data key: erasing
  // the person destroys it with its subjects' keys.
  TACET_ASSIGN_OR_RETURN(Sealed sealed,
                         SealFor(id, PersonBlocked::kType, Personal{req.person, req.reason}));
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 1));
  return CommitOne(std::move(batch),
                   PersonBlocked{id, req.channels, req.source, std::move(sealed)});
}

Result<UnblockReport> Ledger::UnblockPerson(const UnblockRequest& req, const Actor& actor) {
  TACET_RETURN_IF_ERROR(RefuseSubjectToo(req.subject, "an unblock"));
  TACET_RETURN_IF_ERROR(persons::CheckPersonId(req.person));
  TACET_ASSIGN_OR_RETURN(const std::vector<std::string> sources, internal::CheckUnblock(req));
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  const PersonId id = keyer_->PersonOf(req.person);
  // Read in the batch that records the unblock: no write comes between.
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 1));
  TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(projector_.person_family(), PersonKey(id)));
  PersonState st;
  if (bytes) {
    TACET_ASSIGN_OR_RETURN(st, DecodePersonState(*bytes));
  }
  UnblockReport rep;
  rep.subject = req.person;  // (what a reply names)
  TACET_RETURN_IF_ERROR(internal::ChooseLifted(st.blocks, st.unblocks, req, sources,
                                               batch.recorded_at(),
                                               "person " + internal::Quote(req.person), &rep));
  PersonUnblocked u{id, rep.channels, {}, req.officer, {}};
  for (const auto& l : rep.lifted) u.lifted.push_back(l.seq);
  std::sort(u.lifted.begin(), u.lifted.end());
  TACET_ASSIGN_OR_RETURN(u.sealed,
                         SealFor(id, PersonUnblocked::kType, Personal{req.person, req.reason}));
  const Payload p = std::move(u);
  const Event& e = batch.Add(p);
  rep.seq = e.seq;
  TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  return rep;
}

}  // namespace tacet
