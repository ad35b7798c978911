// consent_grant, consent_revoke, block, unblock, justify, contact, erase,
// exports_prune.
#include "handler.h"

namespace tacet::ops {

json Handler::ConsentGrant() {
  ConsentRequest cr;
  cr.subject = SubjectArg();
  cr.type_code = a_.Required("type");
  cr.given = a_.Required("given");
  cr.evidence = a_.Str("evidence");
  Recorded r = Must(l_.GrantConsent(cr, MakeActor()));
  return {{"seq", r.seq},
          {"subject", r.subject},
          {"type", cr.type_code},
          {"given", cr.given},
          {"valid_until", r.valid_until ? json(FormatUtc(r.valid_until)) : json(nullptr)},
          {"valid_until_local", r.valid_until ? json(l_.zone().Format(r.valid_until)) : json()}};
}

json Handler::ConsentRevoke() {
  std::string subject = SubjectArg();
  std::string type = a_.Required("type");
  Recorded r = Must(l_.RevokeConsent(subject, type, a_.Str("reason"), MakeActor()));
  return {{"seq", r.seq}, {"subject", r.subject}, {"type", type}};
}

json Handler::Block() {
  BlockRequest br;
  br.channels = ParseChannels(a_.List("channels"));
  br.reason = a_.Str("reason");
  br.source = a_.Str("source", "request");
  auto [path, content] = FileArg("path");
  if (a_.Find("person") != nullptr) {  // the person's own block (issue 18)
    if (a_.Find("subject") != nullptr || !path.empty() || content)
      Throw(errc::kBadRequest, "give either 'person', 'subject' or a file ('path' or 'content')");
    br.person = a_.Required("person");
    Recorded r = Must(l_.Block(br, MakeActor()));
    return {{"seq", r.seq}, {"person", br.person}};
  }
  if (a_.Find("subject") != nullptr) {
    if (!path.empty() || content)
      Throw(errc::kBadRequest, "give either 'subject' or a file ('path' or 'content')");
    br.subject = SubjectArg();
    Recorded r = Must(l_.Block(br, MakeActor()));
    return {{"seq", r.seq}, {"subject", r.subject}};
  }
  if (path.empty()) Throw(errc::kBadRequest, "'subject', 'path' or 'content' is required");
  BlockFileReport r = Must(l_.BlockFile(path, br, MakeActor(), content));
  return {{"file", path},
          {"lines", r.lines},
          {"newly_blocked", r.newly},
          {"already_blocked", r.already},
          {"invalid", r.invalid},
          {"duplicates", r.duplicates},
          {"invalid_lines", r.invalid_lines},
          {"first_seq", r.first_seq},
          {"last_seq", r.last_seq}};
}

json Handler::Unblock() {
  UnblockRequest ur;
  if (a_.Find("person") != nullptr) {
    if (a_.Find("subject") != nullptr)
      Throw(errc::kBadRequest, "give either 'person' or 'subject'");
    ur.person = a_.Required("person");
  } else {
    ur.subject = SubjectArg();
  }
  ur.channels = ParseChannels(a_.List("channels"));
  ur.sources = a_.List("sources");
  ur.reason = a_.Required("reason");
  ur.officer = a_.Str("officer");
  UnblockReport r = Must(l_.Unblock(ur, MakeActor()));
  json lifted = json::array();
  for (const auto& b : r.lifted)
    lifted.push_back(
        {{"seq", b.seq}, {"source", b.source}, {"channels", ChannelNamesJson(b.channels)}});
  return {{"seq", r.seq},
          {ur.person.empty() ? "subject" : "person", r.subject},
          {"officer", ur.officer},
          {"channels", ChannelNamesJson(r.channels)},
          {"lifted", std::move(lifted)}};
}

json Handler::Justify() {
  JustifyRequest jr;
  jr.subject = SubjectArg();
  jr.channel = Must(ParseChannel(a_.Required("channel")));
  jr.reason_code = a_.Required("reason");
  jr.operator_id = a_.Str("operator");
  Recorded r = Must(l_.Justify(jr, MakeActor()));
  return {{"seq", r.seq},
          {"subject", r.subject},
          {"channel", ChannelName(jr.channel)},
          {"reason", jr.reason_code},
          {"valid_until", FormatUtc(r.valid_until)},
          {"valid_until_local", l_.zone().Format(r.valid_until)}};
}

json Handler::Contact() {
  ContactRequest cr;
  cr.subject = SubjectArg();
  cr.channel = ChannelArg("voice");
  const std::string started = a_.Required("started");
  cr.started_at = started == "now" ? l_.clock().NowMs() : Must(l_.zone().Parse(started));
  cr.outcome = a_.Required("outcome");
  cr.campaign = a_.Str("campaign");
  cr.caller_id = a_.Str("caller_id");
  cr.operator_id = a_.Str("operator");
  const uint64_t duration = a_.U64("duration");
  if (duration > UINT32_MAX)
    Throw(errc::kBadRequest, "'duration' of " + std::to_string(duration) + " s is too long");
  cr.duration_s = static_cast<uint32_t>(duration);
  cr.decision_seq = a_.U64("decision");
  ContactReport r = Must(l_.RecordContact(cr, MakeActor()));
  json reasons = json::array();
  for (const DecisionReason& reason : r.decision.reasons) reasons.push_back(reason.code);
  return {{"seq", r.seq},
          {"subject", r.subject},
          {"channel", ChannelName(cr.channel)},
          {"started", FormatUtc(cr.started_at)},
          {"outcome", cr.outcome},
          {"verdict_at_start", VerdictName(r.decision.verdict)},
          {"reasons", std::move(reasons)},
          {"evidence", r.decision.evidence},
          {"no_prior_check", r.no_prior_check},
          {"unregistered_caller", r.unregistered_caller},
          {"block_seq", r.block_seq ? json(r.block_seq) : json(nullptr)}};
}

json Handler::ContactImport() {
  auto [path, content] = FileArg("path");
  if (path.empty() && !content) Throw(errc::kBadRequest, "'path' or 'content' is required");
  ContactImportReport r = Must(l_.ImportContacts({path, std::move(content)}, MakeActor()));
  return {{"file", path},
          {"lines", r.lines},
          {"recorded", r.recorded},
          {"blocks", r.blocks},
          {"allowed", r.allowed},
          {"denied", r.denied},
          {"needs_justification", r.needs_justification},
          {"no_prior_check", r.no_prior_check},
          {"unregistered_caller", r.unregistered_caller},
          {"first_seq", r.first_seq},
          {"last_seq", r.last_seq}};
}

json Handler::CheckRecord() {
  CheckRequest cq;
  cq.subject = SubjectArg();
  Result<Subject> subject = l_.ParseSubject(cq.subject);
  cq.channel = ChannelArg(subject.ok() && subject->kind == SubjectKind::kEmail ? "email" : "voice");
  cq.campaign = a_.Str("campaign");
  if (a_.Find("record") != nullptr && !a_.Bool("record"))
    Throw(errc::kBadRequest, "check_record records: 'record' may only be true");
  CheckReport r = Must(l_.RecordCheck(cq, MakeActor()));
  JsonText j;
  AppendDecision(j, r.answer, l_.zone());
  json out = json::parse(j.Take());
  out["seq"] = r.seq;
  return out;
}

json Handler::Erase() {
  EraseRequest er;
  er.person = a_.Str("person");
  if (er.person.empty() || a_.Find("subject") != nullptr) er.subject = SubjectArg();
  er.request = a_.Required("request");
  er.officer = a_.Str("officer");
  EraseReport r = Must(l_.Erase(er, MakeActor()));
  json out = {{"seq", r.seq},
              {er.person.empty() ? "subject" : "person", r.subject},
              {"request", er.request},
              {"officer", er.officer},
              {"key_destroyed", r.key_destroyed},
              {"export_files", r.export_files}};
  if (!er.person.empty()) {
    json subjects = json::array();
    for (const EraseReport::Part& p : r.parts)
      subjects.push_back({{"subject_id", p.subject_id},
                          {"seq", p.seq ? json(p.seq) : json(nullptr)},
                          {"key_destroyed", p.key_destroyed}});
    out["subjects"] = std::move(subjects);
  }
  return out;
}

json Handler::ExportsPrune() {
  const std::string before = a_.Required("answered_before");
  auto day = ParseDate(before);
  if (!day.ok()) Throw(errc::kBadRequest, "'answered_before': " + day.status().message());
  PruneReport r = Must(l_.PruneExports(*day));
  return {{"answered_before", before},
          {"sessions", r.sessions},
          {"removed", r.removed},
          {"bytes", r.bytes}};
}

}  // namespace tacet::ops
