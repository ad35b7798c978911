// Erasure (GDPR art. 17) and the pruning of exported files: a subject's
// personal data leaves every file of the data directory while its
// suppression, its events and every proof about them stay.
#include <algorithm>
#include <filesystem>

#include "../internal/text.h"
#include "tacet/core/codec.h"
#include "tacet/projections/ledger.h"

namespace tacet {

namespace fs = std::filesystem;

namespace {

Result<SubjectId> IdFromMeta(const std::string& bytes) {
  std::optional<SubjectId> id = HashFromBytes(bytes);
  if (!id)
    return Status::Corruption("meta 'erasing' holds " + std::to_string(bytes.size()) +
                              " bytes, not a SubjectId (32)");
  return *id;
}

}  // namespace

Result<EraseReport> Ledger::Erase(const EraseRequest& req, const Actor& actor) {
  if (!req.person.empty()) return ErasePerson(req, actor);
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  TACET_RETURN_IF_ERROR(CheckErasure(req));
  TACET_ASSIGN_OR_RETURN(SubjectId id, IdOf(subject));
  return EraseId(id, subject.value, req, actor);
}

Status Ledger::CheckErasure(const EraseRequest& req) const {
  if (req.officer.empty())
    return Status::FailedPrecondition(
        "only an officer erases a subject: pass --officer NAME; nothing was recorded");
  if (req.request.empty())
    return Status::InvalidArgument(
        "an erasure names the request it answers (--request REF); nothing was recorded");
  if (keys_ == nullptr) return Status::FailedPrecondition("the data key store is not open");
  return Status::Ok();
}

Result<EraseReport> Ledger::EraseId(const Hash256& id, const std::string& shown,
                                    const EraseRequest& req, const Actor& actor) {
  EraseReport rep;
  rep.subject = shown;
  // The upload files that still list the number: the registry's copy.
  TACET_ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, log_->SeqsFor(id));
  const fs::path exports = fs::path(options_.data_dir) / "exports";
  for (uint64_t seq : seqs) {
    TACET_ASSIGN_OR_RETURN(Event e, log_->Read(seq));
    if (e.type != PayloadType::kSessionNumber) continue;
    TACET_ASSIGN_OR_RETURN(Payload p, DecodePayload(e.type, e.version, e.payload));
    TACET_ASSIGN_OR_RETURN(SessionRecord session,
                           LoadSession(std::get<SessionNumber>(p).session_id));
    for (const std::string& name : {session.file_name, session.zip_name}) {
      std::error_code ec;
      if (!name.empty() && fs::exists(exports / name, ec))
        rep.export_files.push_back((exports / name).string());
    }
  }

  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 1));
  TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(projector_.subject_family(), SubjectKey(id)));
  if (bytes) {
    TACET_ASSIGN_OR_RETURN(SubjectState st, DecodeSubjectState(*bytes));
    if (st.erased_seq != 0)
      return Status::FailedPrecondition(shown + " was already erased (seq " +
                                        std::to_string(st.erased_seq) + "); nothing was recorded");
  }
  // The marker first: should the process die after the event commits and
  // before the key is gone, the next writer's open destroys it.
  TACET_RETURN_IF_ERROR(log_->PutMeta(kErasingMetaKey, std::string(AsBytes(id))));
  Payload p = Erased{id, req.request, req.officer};
  const Event& e = batch.Add(p);
  rep.seq = e.seq;
  TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
  Status committed = log_->Commit(std::move(batch));
  if (!committed.ok()) {
    (void)log_->PutMeta(kErasingMetaKey, std::nullopt);
    return committed;
  }
  // The record is durable before the key goes, also for a host that syncs
  // by groups (tacetd): an erasure is never done without its event.
  if (!options_.sync) TACET_RETURN_IF_ERROR(log_->SyncWal());
  Status destroyed = keys_->Destroy(id);
  if (destroyed.code() == StatusCode::kNotFound) {
    rep.key_destroyed = false;
  } else if (!destroyed.ok()) {
    return destroyed.WithContext("erasure seq " + std::to_string(rep.seq) +
                                 " is recorded; its data key will be destroyed by the next open");
  } else {
    rep.key_destroyed = true;
  }
  TACET_RETURN_IF_ERROR(log_->PutMeta(kErasingMetaKey, std::nullopt));
  return rep;
}

// Issue 18: a person's erasure erases each subject ever linked to it (its
// own links), then the person's own sealed fields (its blocks' CRM id and
// reasons, under the PersonId's data key). Each is its own `erased` event,
// so a run cut short is finished by running it again: the subjects already
// erased are reported, not refused. The person's blocks, like each
// subject's suppression, stay in force.
Result<EraseReport> Ledger::ErasePerson(const EraseRequest& req, const Actor& actor) {
  if (!req.subject.empty())
    return Status::InvalidArgument("an erasure names a subject or a person, not both");
  TACET_RETURN_IF_ERROR(CheckErasure(req));
  TACET_ASSIGN_OR_RETURN(PersonId person, PersonIdOf(req.person));
  TACET_ASSIGN_OR_RETURN(PersonState st, Person(req.person));
  std::vector<SubjectId> subjects;
  for (const PersonState::Link& l : st.links)
    if (std::find(subjects.begin(), subjects.end(), l.subject) == subjects.end())
      subjects.push_back(l.subject);
  TACET_ASSIGN_OR_RETURN(std::vector<uint64_t> about, log_->SeqsFor(person));
  if (subjects.empty() && about.empty())
    return Status::NotFound("nothing is recorded about person " + internal::Quote(req.person) +
                            "; nothing was recorded");
  EraseReport rep;
  rep.subject = req.person;
  for (const SubjectId& id : subjects) {
    EraseReport::Part part{ToHex(id), 0, false};
    Result<EraseReport> one = EraseId(id, ToHex(id), req, actor);
    if (one.ok()) {
      part.seq = one->seq;
      part.key_destroyed = one->key_destroyed;
      rep.export_files.insert(rep.export_files.end(), one->export_files.begin(),
                              one->export_files.end());
    } else if (one.status().code() != StatusCode::kFailedPrecondition) {
      return one.status().WithContext("person " + req.person + ", subject " + part.subject_id +
                                      " (the subjects before it are erased)");
    }
    rep.parts.push_back(std::move(part));
  }
  Result<EraseReport> own = EraseId(person, req.person, req, actor);
  if (own.ok()) {
    rep.seq = own->seq;
    rep.key_destroyed = own->key_destroyed;
  } else if (own.status().code() != StatusCode::kFailedPrecondition) {
    return own.status();
  }
  return rep;
}

Status Ledger::FinishErasures() {
  TACET_ASSIGN_OR_RETURN(auto pending, log_->GetMeta(kErasingMetaKey));
  if (!pending) return Status::Ok();
  TACET_ASSIGN_OR_RETURN(SubjectId id, IdFromMeta(*pending));
  TACET_ASSIGN_OR_RETURN(auto bytes, log_->Get(projector_.subject_family(), SubjectKey(id)));
  bool erased = false;
  if (bytes) {
    TACET_ASSIGN_OR_RETURN(SubjectState st, DecodeSubjectState(*bytes));
    erased = st.erased_seq != 0;
  }
  // No erased event: the erasure did not commit, and the key stays.
  if (erased && keys_ != nullptr) {
    Status s = keys_->Destroy(id);
    if (!s.ok() && s.code() != StatusCode::kNotFound)
      return s.WithContext("finishing an interrupted erasure");
  }
  return log_->PutMeta(kErasingMetaKey, std::nullopt);
}

Result<PruneReport> Ledger::PruneExports(Day before) {
  if (options_.read_only)
    return Status::FailedPrecondition("pruning exports needs the writer (the ledger is read-only)");
  PruneReport rep;
  const TimeMs cut = zone_.StartOfDay(before);
  TACET_ASSIGN_OR_RETURN(std::vector<SessionView> sessions, Sessions());
  const fs::path exports = fs::path(options_.data_dir) / "exports";
  for (const SessionView& sv : sessions) {
    if (sv.state != SessionState::kAnswered || sv.record.returns.back().imported_at >= cut)
      continue;
    ++rep.sessions;
    for (const std::string& name : {sv.record.file_name, sv.record.zip_name}) {
      if (name.empty()) continue;
      const fs::path path = exports / name;
      std::error_code ec;
      const auto size = fs::file_size(path, ec);
      if (ec) continue;  // already gone
      if (!fs::remove(path, ec) || ec)
        return Status::IOError("cannot remove " + internal::Quote(path.string()) + ": " +
                               ec.message());
      rep.removed.push_back(path.string());
      rep.bytes += size;
    }
  }
  return rep;
}

}  // namespace tacet
