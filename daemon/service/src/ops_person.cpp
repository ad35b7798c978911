// Operations on persons (issue 18): person_link, person_unlink,
// person_merge, person_split, and reassigned (a number's new subscriber).
#include "handler.h"

namespace tacet::ops {
namespace {

json LinkReply(const PersonLinkReport& r) {
  json recorded = json::array();
  for (const Recorded& e : r.recorded) recorded.push_back({{"seq", e.seq}, {"subject", e.subject}});
  return {{"recorded", recorded}, {"unchanged", r.unchanged}};
}

}  // namespace

json Handler::PersonLink() {
  PersonLinkRequest req{a_.Str("person"), a_.List("subjects")};
  return LinkReply(Must(l_.LinkPerson(req, MakeActor())));
}

json Handler::PersonUnlink() {
  PersonLinkRequest req{a_.Str("person"), a_.List("subjects")};
  return LinkReply(Must(l_.UnlinkPerson(req, MakeActor())));
}

json Handler::PersonMerge() {
  Recorded r = Must(l_.MergePersons(a_.Str("into"), a_.Str("from"), MakeActor()));
  return {{"seq", r.seq}};
}

json Handler::PersonSplit() {
  Recorded r = Must(l_.SplitPersons(a_.Str("into"), a_.Str("from"), MakeActor()));
  return {{"seq", r.seq}};
}

json Handler::Reassigned() {
  ReassignRequest req{SubjectArg(), a_.Required("since"), a_.Str("note")};
  Recorded r = Must(l_.Reassign(req, MakeActor()));
  return {{"seq", r.seq}, {"subject", r.subject}, {"since", req.since}};
}

}  // namespace tacet::ops
