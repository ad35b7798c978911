// SHA-256, the hash of the event chain and of every file the ledger records.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tacet/core/status.h"

namespace tacet {

using Hash256 = std::array<uint8_t, 32>;

Hash256 Sha256(std::string_view data);
// SHA-256 of the concatenation a || b, without copying.
Hash256 Sha256(std::string_view a, std::string_view b);

// Incremental SHA-256, for files. Not thread-safe.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  Hash256 Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string ToHex(const Hash256& h);
std::string ToHex(std::string_view bytes);
Result<Hash256> HashFromHex(std::string_view hex);
// A hash written in canonical base64 (checkpoints, proofs); InvalidArgument
// unless it decodes to exactly 32 bytes.
Result<Hash256> HashFromBase64(std::string_view text);
inline std::string_view AsBytes(const Hash256& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}
// The inverse of AsBytes: nullopt unless `bytes` is exactly 32 bytes.
inline std::optional<Hash256> HashFromBytes(std::string_view bytes) {
  if (bytes.size() != sizeof(Hash256)) return std::nullopt;
  Hash256 h;
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(h.data()));
  return h;
}

}  // namespace tacet
