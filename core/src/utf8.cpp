#include "tacet/core/utf8.h"

#include <cstdint>
#include <cstring>

namespace tacet {

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  const size_t left = s.size() - i;
  auto cont = [&](size_t k) { return k < left && (b(i + k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const unsigned char c1 = b(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const unsigned char c1 = b(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

std::optional<size_t> FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // Eight ASCII bytes at a time: the common case of every request line.
    if (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::string EscapeInvalidUtf8(std::string_view s) {
  auto bad = FirstInvalidUtf8(s);
  if (!bad) return std::string(s);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(s.substr(0, *bad));
  out.reserve(s.size() + 16);
  for (size_t i = *bad; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n > 0) {
      out.append(s.data() + i, n);
      i += n;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    out.append("\\x");
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
    ++i;
  }
  return out;
}

std::string_view TruncateUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  // Back up over continuation bytes to the start of the cut character.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::optional<Utf8Error> FirstInvalidUtf8Line(std::string_view text) {
  auto at = FirstInvalidUtf8(text);
  if (!at) return std::nullopt;
  Utf8Error e;
  e.file_offset = *at;
  e.byte = static_cast<unsigned char>(text[*at]);
  std::string_view before = text.substr(0, *at);
  e.line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < before.size(); ++i)
    if (before[i] == '\n') {
      ++e.line;
      line_start = i + 1;
    }
  e.line_offset = *at - line_start;
  return e;
}

std::optional<std::string> CheckUtf8File(std::string_view text, std::string_view name) {
  auto e = FirstInvalidUtf8Line(text);
  if (!e) return std::nullopt;
  static constexpr char kHex[] = "0123456789ABCDEF";
  // Appended piece by piece: g++ 12 warns falsely on chains of operator+.
  std::string out(name);
  out.append(":").append(std::to_string(e->line));
  out.append(": not valid UTF-8 at byte offset ").append(std::to_string(e->line_offset));
  out.append(" of the line (0x");
  out.push_back(kHex[e->byte >> 4]);
  out.push_back(kHex[e->byte & 15]);
  out.append("; byte ").append(std::to_string(e->file_offset));
  out.append(
      " of the file); save it as UTF-8 (from Latin-1 or Windows-1252: iconv -f WINDOWS-1252 -t "
      "UTF-8)");
  return out;
}

std::string QuoteText(std::string_view s, size_t max_bytes) {
  std::string_view cut = TruncateUtf8(s, max_bytes);
  std::string q = "'";  // appended: g++ 12 warns falsely on chains of operator+
  q.append(EscapeInvalidUtf8(cut));
  if (cut.size() < s.size()) q.append("...");
  q.push_back('\'');
  return q;
}

std::string DescribeInvalidByte(std::string_view s, size_t offset) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "byte offset ";
  out.append(std::to_string(offset));
  if (offset < s.size()) {
    const auto c = static_cast<unsigned char>(s[offset]);
    out += " (0x";
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
    out += ")";
  }
  return out;
}

}  // namespace tacet
