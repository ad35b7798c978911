// The configuration file: a Config, or a refusal naming the file and line.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tacet/service/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = tacet::ParseConfig(text, "fuzz.toml");
  if (!c.ok() && c.status().message().rfind("fuzz.toml", 0) != 0) std::abort();
  if (c.ok() && (c->daemon.socket_mode & 0007) != 0) std::abort();
  return 0;
}
