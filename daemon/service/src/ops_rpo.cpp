// export and import_return: the round trip with a registry.
#include "handler.h"

namespace tacet::ops {

json Handler::Export() {
  ExportRequest ex;
  ex.registry = a_.Str("registry", "it-rpo");
  auto [path, content] = FileArg("candidates");
  ex.candidates_path = std::move(path);
  ex.candidates_content = std::move(content);
  if (ex.candidates_path.empty()) Throw(errc::kBadRequest, "'candidates' or 'content' is required");
  ex.column = a_.Str("column");
  if (a_.Find("limit")) ex.limit = a_.U64("limit");
  ex.include_pending = a_.Bool("include_pending");
  if (a_.Find("fresh_days")) {
    const uint64_t days = a_.U64("fresh_days");
    if (days > 3650)
      Throw(errc::kBadRequest,
            "'fresh_days' " + std::to_string(days) + " is beyond 3650 (ten years)");
    ex.fresh_days = static_cast<uint32_t>(days);
  }
  ex.out_dir = a_.Str("out");
  ex.campaign = a_.Str("campaign");
  if (!ex.out_dir.empty() && !ctx_.import_dir.empty())
    Throw(errc::kForbidden, "'out' is not accepted through the daemon; exports go to " +
                                l_.options().data_dir + "/exports");
  ExportReport r = Must(l_.Export(ex, MakeActor()));
  json files = json::array();
  for (auto& f : r.files)
    files.push_back({{"session", f.session_id},
                     {"file", f.txt_path},
                     {"sha256", ToHex(f.txt_sha256)},
                     {"zip", f.zip_path},
                     {"zip_sha256", ToHex(f.zip_sha256)},
                     {"numbers", f.numbers}});
  json left = {{"invalid", r.invalid},
               {"duplicate", r.duplicates},
               {"out_of_scope", r.out_of_scope},
               {"blocked", r.blocked},
               {"known_listed", r.known_listed},
               {"fresh", r.fresh},
               {"pending", r.pending},
               {"over_limit", r.over_limit},
               {"erased", r.erased},
               {"no_provenance", r.no_provenance}};
  return {{"candidates", r.lines},
          {"exported", r.exported},
          {"left_out", left},
          {"sessions", files},
          {"invalid_samples", r.invalid_samples}};
}

json Handler::ImportReturn() {
  ImportRequest im;
  if (a_.Find("session") == nullptr) Throw(errc::kBadRequest, "'session' is required");
  im.session_id = a_.U64("session");
  im.received = a_.Required("received");
  // import_return takes no inline content (CheckFields refuses it): the
  // file as tacetd read it, or its path.
  auto [path, content] = FileArg("path");
  im.path = std::move(path);
  im.content = std::move(content);
  if (im.path.empty()) Throw(errc::kBadRequest, "'path' is required");
  im.supersede = a_.Bool("supersede");
  im.empty_is_all_listed = a_.Bool("empty_is_all_listed");
  ImportReport r = Must(l_.ImportReturn(im, MakeActor()), errc::kUnknownSession);
  return {{"session", r.session_id},
          {"file", r.file_name},
          {"sha256", ToHex(r.file_sha256)},
          {"layout", r.layout == ReturnLayout::kStatus ? "status" : "filtered"},
          {"received", FormatDate(r.received_day)},
          {"lines", r.lines},
          {"cleared", r.cleared},
          {"listed", r.listed},
          {"valid_until", FormatUtc(r.valid_until)},
          {"valid_until_local", l_.zone().Format(r.valid_until)},
          {"first_seq", r.first_seq},
          {"last_seq", r.last_seq}};
}

}  // namespace tacet::ops
