// audit, history, sessions, policy, verify, checkpoint, proof, consistency, stats.
#include "handler.h"
#include "tacet/service/audit.h"

namespace tacet::ops {

std::string Handler::Audit() {
  AuditRequest req = Must(AuditPeriod(l_.zone(), a_.Str("from"), a_.Str("to"), a_.Str("campaign")));
  const AuditFormat format = Must(ParseAuditFormat(a_.Str("format", "json")));
  std::string doc;
  auto append = [&doc](std::string_view piece) { doc.append(piece); };
  (void)Must(WriteAudit(l_, req, format, append));
  if (format == AuditFormat::kJson) return doc;
  // Text and CSV travel as one string of the reply, as the CLI prints it.
  JsonText j;
  j.BeginObject().Key("format").String(a_.Str("format")).Key("text").String(doc).EndObject();
  return j.Take();
}

json Handler::History() {
  const bool of_person = a_.Find("person") != nullptr;
  if (of_person && a_.Find("subject") != nullptr)
    Throw(errc::kBadRequest, "give either subject or person");
  const std::string who = of_person ? a_.Required("person") : SubjectArg();
  auto items = Must(of_person ? l_.PersonHistory(who) : l_.History(who));
  json arr = json::array();
  for (auto& it : items) {
    json e = EventJson(it.event, it.payload, l_.zone(), &it.personal);
    e["policy"] = it.policy;
    arr.push_back(std::move(e));
  }
  if (of_person) return {{"person", who}, {"events", std::move(arr)}};
  return {{"subject", Must(l_.ParseSubject(who)).value}, {"events", std::move(arr)}};
}

json Handler::Sessions() {
  auto list = Must(l_.Sessions());
  const auto& z = l_.zone();
  json arr = json::array();
  for (auto& s : list) {
    const auto& r = s.record;
    json js = {{"id", r.id},
               {"state", SessionStateName(s.state)},
               {"registry", r.registry},
               {"file", r.file_name},
               {"sha256", ToHex(r.file_sha256)},
               {"zip", r.zip_name},
               {"exported_at", FormatUtc(r.opened_at)},
               {"exported_at_local", z.Format(r.opened_at)},
               {"numbers", r.number_count},
               {"seq", r.opened_seq}};
    json rets = json::array();
    for (auto& ret : r.returns)
      rets.push_back({{"seq", ret.seq},
                      {"file", ret.file_name},
                      {"sha256", ToHex(ret.file_sha256)},
                      {"received", FormatDate(ret.received_day)},
                      {"cleared", ret.cleared},
                      {"listed", ret.listed}});
    js["returns"] = rets;
    arr.push_back(js);
  }
  return {{"sessions", std::move(arr)}};
}

json Handler::Policy() {
  PolicyView v = l_.Policy(At());
  json types = json::array(), reasons = json::array();
  for (const auto& [code, t] : v.consent_types) {
    std::vector<std::string> uses;
    if (t.value.uses & kUseNewsletter) uses.push_back("newsletter");
    if (t.value.uses & kUseEmail) uses.push_back("email");
    if (t.value.uses & kUsePhone) uses.push_back("phone");
    types.push_back({{"code", code},
                     {"title", t.value.title},
                     {"description", t.value.description},
                     {"validity_days", t.value.validity_days},
                     {"uses", uses},
                     {"seq", t.seq}});
  }
  for (const auto& [code, r] : v.reasons)
    reasons.push_back({{"code", code}, {"title", r.value.title}, {"seq", r.seq}});
  std::vector<std::string> req;
  for (Channel ch : kAllChannels)
    if (v.channel_policy.value.consent_required & MaskOf(ch)) req.push_back(ChannelName(ch));
  json registries = json::array();
  for (const auto& [name, r] : v.registries) {
    const RegistryDefined& d = r.value->definition();
    registries.push_back({{"name", name},
                          {"kind", RegistryKindName(d.kind)},
                          {"layout", d.layout},
                          {"regions", d.regions},
                          {"channels", ChannelNamesJson(d.channels)},
                          {"time_zone", d.time_zone},
                          {"validity_days", d.validity_days},
                          {"overdue_days", d.overdue_days},
                          {"file_prefix", d.file_prefix},
                          {"max_lines", d.max_lines},
                          {"seq", r.seq}});
  }
  json campaigns = json::array(), callers = json::array();
  for (const auto& [code, c] : v.campaigns)
    campaigns.push_back({{"code", code},
                         {"title", c.value.title},
                         {"controller", c.value.controller},
                         {"purpose", c.value.purpose},
                         {"requires_provenance", c.value.requires_provenance},
                         {"seq", c.seq}});
  for (const auto& [key, c] : v.callers)
    callers.push_back({{"number", c.value.number},
                       {"campaign", c.value.campaign},
                       {"roc", c.value.roc},
                       {"valid_from", FormatUtc(c.value.valid_from)},
                       {"valid_to", c.value.valid_to ? json(FormatUtc(c.value.valid_to)) : json()},
                       {"seq", c.seq}});
  return {{"consent_types", types},
          {"reasons", reasons},
          {"campaigns", campaigns},
          {"callers", callers},
          {"channels",
           {{"consent_required", req},
            {"justification_minutes", v.channel_policy.value.justification_minutes},
            {"seq", v.channel_policy.seq}}},
          {"registries", registries}};
}

json Handler::Verify() {
  VerifyReport r = l_.Verify();
  if (!r.ok) return {{"ok", false}, {"first_bad_seq", r.first_bad_seq}, {"problem", r.problem}};
  return {{"ok", true},
          {"events", r.events},
          {"checkpoints", r.checkpoints},
          {"head_seq", r.head.seq},
          {"head_hash", ToHex(r.head.hash)}};
}

json Handler::Checkpoint() {
  const EventLog& log = l_.log();
  auto key = Must(log.CheckpointKey());
  std::optional<std::string> cp;
  if (a_.Find("size") != nullptr) {
    cp = Must(log.CheckpointOfSize(a_.U64("size")));
    if (!cp) Throw(errc::kNotFound, "no checkpoint of size " + std::to_string(a_.U64("size")));
  } else {
    cp = Must(log.LatestCheckpoint());
  }
  json out = {{"key", key ? json(*key) : json()}, {"head_seq", log.head().seq}};
  if (!cp) {
    out["checkpoint"] = nullptr;
    return out;
  }
  note::Checkpoint c = Must(note::ParseCheckpoint(note::UnverifiedText(*cp)));
  out["checkpoint"] = *cp;
  out["origin"] = c.origin;
  out["size"] = c.size;
  out["root"] = ToHex(c.root);
  return out;
}

json Handler::Proof() {
  ProofRequest r;
  if (a_.Find("seq") != nullptr) r.seq = a_.U64("seq");
  if (a_.Find("subject") != nullptr) r.subject = a_.Str("subject");
  if (a_.Find("person") != nullptr) r.person = a_.Str("person");
  if (int(!r.subject.empty()) + int(r.seq != 0) + int(!r.person.empty()) != 1)
    Throw(errc::kBadRequest, "give one of subject, person or seq (a positive number)");
  return Must(MakeProof(l_, r));
}

json Handler::Consistency() {
  const EventLog& log = l_.log();
  const uint64_t old_size = a_.U64("old_size");
  auto latest = Must(log.LatestCheckpoint());
  std::optional<std::string> cp = latest;
  uint64_t new_size = 0;
  if (a_.Find("new_size") != nullptr) {
    new_size = a_.U64("new_size");
    cp = Must(log.CheckpointOfSize(new_size));
    if (!cp) Throw(errc::kNotFound, "no checkpoint of size " + std::to_string(new_size));
  } else if (latest) {
    new_size = Must(note::ParseCheckpoint(note::UnverifiedText(*latest))).size;
  } else {
    Throw(errc::kNotFound, "the ledger has no checkpoint yet");
  }
  if (old_size > new_size)
    Throw(errc::kBadRequest, "old_size " + std::to_string(old_size) +
                                 " is beyond the checkpoint's size " + std::to_string(new_size));
  json proof = json::array();
  for (const Hash256& h : Must(log.ConsistencyProof(old_size, new_size)))
    proof.push_back(Base64Encode(AsBytes(h)));
  return {{"old_size", old_size},
          {"new_size", new_size},
          {"checkpoint", *cp},
          {"old_root", Base64Encode(AsBytes(Must(log.TreeRoot(old_size))))},
          {"proof", std::move(proof)}};
}

json Handler::Stats() {
  Head h = l_.log().head();
  return {{"head_seq", h.seq}, {"head_hash", ToHex(h.hash)}, {"data_dir", l_.options().data_dir}};
}

}  // namespace tacet::ops
