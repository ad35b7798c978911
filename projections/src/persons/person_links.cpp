// Ledger::LinkPerson and UnlinkPerson: subjects joined to, or taken from, a
// person of the CRM (issue 18).
#include <algorithm>

#include "person_id.h"
#include "tacet/projections/ledger.h"

namespace tacet {

Result<PersonLinkReport> Ledger::LinkPerson(const PersonLinkRequest& req, const Actor& actor) {
  return ChangeLinks(req, true, actor);
}

Result<PersonLinkReport> Ledger::UnlinkPerson(const PersonLinkRequest& req, const Actor& actor) {
  return ChangeLinks(req, false, actor);
}

Result<PersonLinkReport> Ledger::ChangeLinks(const PersonLinkRequest& req, bool link,
                                             const Actor& actor) {
  TACET_RETURN_IF_ERROR(persons::CheckPersonId(req.person));
  if (req.subjects.empty())
    return Status::InvalidArgument("no subject to " + std::string(link ? "link" : "unlink") +
                                   "; nothing was recorded");
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  const PersonId person = keyer_->PersonOf(req.person);
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, req.subjects.size()));
  PersonLinkReport rep;
  std::vector<SubjectId> done;
  for (const std::string& text : req.subjects) {
    TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(text));
    TACET_ASSIGN_OR_RETURN(SubjectId id, IdOf(subject));
    if (std::find(done.begin(), done.end(), id) != done.end()) continue;  // named twice
    done.push_back(id);
    TACET_RETURN_IF_ERROR(RefuseIfErased(batch, id, subject));
    TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(projector_.subject_family(), SubjectKey(id)));
    SubjectState st;
    if (bytes) {
      TACET_ASSIGN_OR_RETURN(st, DecodeSubjectState(*bytes));
    }
    const SubjectState::Link* now = st.PersonAt(kKnownNow);
    const bool already =
        link ? now != nullptr && now->person == person : now == nullptr || now->person != person;
    if (already) {
      rep.unchanged.push_back(subject.value);
      continue;
    }
    Payload p = link ? Payload(PersonLinked{id, person, {req.person}})
                     : Payload(PersonUnlinked{id, person, {req.person}});
    TACET_RETURN_IF_ERROR(SealInto(subject, &p));
    const Event& e = batch.Add(p);
    rep.recorded.push_back({e.seq, e.recorded_at, 0, subject.value});
    TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
  }
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  return rep;
}

}  // namespace tacet
