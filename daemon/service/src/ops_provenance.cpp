// Provenance (issue 18): campaign_define, caller_register, list_register
// and lists.
#include "handler.h"

namespace tacet::ops {

json Handler::CampaignDefine() {
  CampaignRequest req;
  req.code = a_.Required("code");
  req.title = a_.Str("title");
  req.controller = a_.Str("controller");
  req.purpose = a_.Str("purpose");
  req.requires_provenance = a_.Bool("requires_provenance");
  req.retire = a_.Bool("retire");
  Recorded r = Must(l_.DefineCampaign(req, MakeActor()));
  return {{"seq", r.seq}, {"code", r.subject}, {"changed", r.seq != 0}};
}

json Handler::CallerRegister() {
  CallerRequest req;
  req.number = a_.Required("number");
  req.campaign = a_.Str("campaign");
  req.roc = a_.Str("roc");
  if (std::string t = a_.Str("valid_from"); !t.empty()) req.valid_from = Must(l_.zone().Parse(t));
  if (std::string t = a_.Str("valid_to"); !t.empty()) req.valid_to = Must(l_.zone().Parse(t));
  req.retire = a_.Bool("retire");
  Recorded r = Must(l_.RegisterCaller(req, MakeActor()));
  return {{"seq", r.seq}, {"number", r.subject}, {"changed", r.seq != 0}};
}

json Handler::ListRegister() {
  ListRequest req;
  auto [path, content] = FileArg("path");
  req.path = std::move(path);
  req.content = std::move(content);
  if (req.path.empty()) Throw(errc::kBadRequest, "'path' or 'content' is required");
  req.column = a_.Str("column");
  req.campaign = a_.Required("campaign");
  req.supplier = a_.Required("supplier");
  req.acquired = a_.Required("acquired");
  req.basis = a_.Required("basis");
  req.consent_text = a_.Str("consent_text");
  ListReport r = Must(l_.RegisterList(req, MakeActor()));
  return {{"list", r.list_id},
          {"lines", r.lines},
          {"members", r.members},
          {"duplicates", r.duplicates},
          {"invalid", r.invalid},
          {"invalid_samples", r.invalid_samples},
          {"sha256", ToHex(r.file_sha256)},
          {"first_seq", r.first_seq},
          {"last_seq", r.last_seq}};
}

json Handler::Lists() {
  const std::string campaign = a_.Str("campaign");
  PolicyView v = l_.Policy(kKnownNow);
  json lists = json::array();
  for (const auto& [id, l] : v.lists) {
    const ListRegistered& d = l.value;
    if (!campaign.empty() && d.campaign != campaign) continue;
    lists.push_back({{"list", id},
                     {"campaign", d.campaign},
                     {"supplier", d.supplier},
                     {"acquired", FormatDate(d.acquired_day)},
                     {"basis", d.basis},
                     {"consent_text", d.consent_text},
                     {"file", d.file_name},
                     {"sha256", ToHex(d.file_sha256)},
                     {"numbers", d.number_count},
                     {"seq", l.seq},
                     {"recorded_at", FormatUtc(l.recorded_at)}});
  }
  return {{"lists", lists}};
}

}  // namespace tacet::ops
