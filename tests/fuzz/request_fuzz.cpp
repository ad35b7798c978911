// The request line parser and the reply writer: whatever the bytes, a
// request or a refusal, and a reply line that is valid UTF-8 JSON.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tacet/core/utf8.h"
#include "tacet/daemon/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  tacet::Request req;
  std::optional<tacet::Reply> refusal = tacet::ParseRequest(line, req);
  tacet::Reply r;
  if (refusal) {
    r = *refusal;
  } else {
    r.result = req.args;  // echo it back: the writer must cope with anything parsed
  }
  const std::string out = tacet::ReplyLine(req.id, r);
  if (!tacet::IsValidUtf8(out)) std::abort();
  if (nlohmann::json::parse(out.substr(0, out.size() - 1), nullptr, false).is_discarded())
    std::abort();
  return 0;
}
