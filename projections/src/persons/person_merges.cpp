// Ledger::MergePersons and SplitPersons: two records of the CRM found to be
// one person, and that undone (issue 18).
#include <algorithm>

#include "person_id.h"
#include "tacet/core/codec.h"
#include "tacet/projections/ledger.h"
#include "tacet/projections/person_state.h"

namespace tacet {

Result<Recorded> Ledger::MergePersons(std::string_view into, std::string_view from,
                                      const Actor& actor) {
  return ChangeMerge(into, from, true, actor);
}

Result<Recorded> Ledger::SplitPersons(std::string_view into, std::string_view from,
                                      const Actor& actor) {
  return ChangeMerge(into, from, false, actor);
}

Result<PersonState> Ledger::Person(std::string_view crm_id) const {
  TACET_ASSIGN_OR_RETURN(PersonId id, PersonIdOf(crm_id));
  TACET_ASSIGN_OR_RETURN(auto bytes, log_->Get(projector_.person_family(), PersonKey(id)));
  if (!bytes) return PersonState{};
  return DecodePersonState(*bytes);
}

Result<std::vector<uint64_t>> Ledger::PersonSeqs(std::string_view crm_id) const {
  TACET_ASSIGN_OR_RETURN(PersonState person, Person(crm_id));
  TACET_ASSIGN_OR_RETURN(PersonId id, PersonIdOf(crm_id));
  TACET_ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, log_->SeqsFor(id));
  std::vector<SubjectId> done;
  for (const PersonState::Link& l : person.links) {
    if (std::find(done.begin(), done.end(), l.subject) != done.end()) continue;
    done.push_back(l.subject);
    TACET_ASSIGN_OR_RETURN(std::vector<uint64_t> more, log_->SeqsFor(l.subject));
    seqs.insert(seqs.end(), more.begin(), more.end());
  }
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  return seqs;
}

Result<std::vector<HistoryItem>> Ledger::PersonHistory(std::string_view crm_id) const {
  TACET_ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, PersonSeqs(crm_id));
  return HistoryItems(std::move(seqs), {});
}

Result<PersonId> Ledger::PersonIdOf(std::string_view crm_id) const {
  TACET_RETURN_IF_ERROR(persons::CheckPersonId(crm_id));
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  return keyer_->PersonOf(crm_id);
}

Result<Recorded> Ledger::ChangeMerge(std::string_view into, std::string_view from, bool merge,
                                     const Actor& actor) {
  TACET_RETURN_IF_ERROR(persons::CheckPersonId(into));
  TACET_RETURN_IF_ERROR(persons::CheckPersonId(from));
  if (into == from)
    return Status::InvalidArgument("person " + internal::Quote(into) +
                                   " is named twice; nothing was recorded");
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  const PersonId a = keyer_->PersonOf(into), b = keyer_->PersonOf(from);
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 1));
  TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(projector_.person_family(), PersonKey(a)));
  PersonState st;
  if (bytes) {
    TACET_ASSIGN_OR_RETURN(st, DecodePersonState(*bytes));
  }
  bool merged_now = false;
  for (const PersonState::Edge* e : st.MergedAt(kKnownNow)) merged_now |= e->other == b;
  if (merged_now == merge)
    return Status::FailedPrecondition(
        "persons " + internal::Quote(into) + " and " + internal::Quote(from) +
        (merge ? " are already merged" : " are not merged") + "; nothing was recorded");
  const Payload p = merge ? Payload(PersonsMerged{a, b}) : Payload(PersonsSplit{a, b});
  return CommitOne(std::move(batch), p);
}

}  // namespace tacet
