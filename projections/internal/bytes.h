// Fixed-layout binary helpers for projection keys and values
// (projections/FORMAT.md). Big-endian, so integer keys sort numerically.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tacet::internal {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  ByteWriter& U8(uint8_t v) {
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  ByteWriter& U16(uint16_t v) { return Be(v, 2); }
  ByteWriter& U32(uint32_t v) { return Be(v, 4); }
  ByteWriter& U64(uint64_t v) { return Be(v, 8); }
  ByteWriter& I32(int32_t v) { return Be(static_cast<uint32_t>(v), 4); }
  ByteWriter& I64(int64_t v) { return Be(static_cast<uint64_t>(v), 8); }
  ByteWriter& Raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  ByteWriter& Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    return Raw(s);
  }

 private:
  ByteWriter& Be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  std::string& out_;
};

// Reads what ByteWriter wrote. Reading past the end sets failed() and yields zeros.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  uint8_t U8() { return static_cast<uint8_t>(Be(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Be(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Be(4)); }
  uint64_t U64() { return Be(8); }
  int32_t I32() { return static_cast<int32_t>(static_cast<uint32_t>(Be(4))); }
  int64_t I64() { return static_cast<int64_t>(Be(8)); }
  std::string_view Raw(size_t n) {
    if (in_.size() < n) {
      failed_ = true;
      in_ = {};
      return {};
    }
    auto s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }
  std::string Str() { return std::string(Raw(U32())); }
  bool failed() const { return failed_; }
  bool done() const { return in_.empty(); }

 private:
  uint64_t Be(int n) {
    auto s = Raw(static_cast<size_t>(n));
    uint64_t v = 0;
    for (char c : s) v = v << 8 | static_cast<unsigned char>(c);
    return v;
  }
  std::string_view in_;
  bool failed_ = false;
};

}  // namespace tacet::internal
