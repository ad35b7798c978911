// UTF-8 as Tacet requires it of every text it stores or prints (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF). Input that is
// not valid is refused where it enters, naming the byte offset
// (FirstInvalidUtf8); text from before that rule (a ledger written by an
// older build) is shown with its stray bytes escaped (EscapeInvalidUtf8);
// text cut for a message is cut between characters (TruncateUtf8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tacet {

// The length of the valid UTF-8 sequence that starts at s[i] (1 for ASCII),
// or 0 when the byte there starts none.
size_t Utf8SequenceLength(std::string_view s, size_t i);

// The offset of the first byte of `s` that is not part of a valid UTF-8
// sequence; nullopt when all of `s` is valid.
std::optional<size_t> FirstInvalidUtf8(std::string_view s);
inline bool IsValidUtf8(std::string_view s) { return !FirstInvalidUtf8(s).has_value(); }

// `s` with every byte that is not valid UTF-8 written as the four characters
// \xNN (upper-case hex): always valid UTF-8, and the stray bytes stay
// readable. Returns `s` unchanged when it is valid.
std::string EscapeInvalidUtf8(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` bytes that does not end
// inside a multi-byte character.
std::string_view TruncateUtf8(std::string_view s, size_t max_bytes);

// Where the first invalid byte of a text (a file's content) lies.
struct Utf8Error {
  uint64_t line = 0;       // 1-based
  size_t line_offset = 0;  // of the byte within its line
  size_t file_offset = 0;  // of the byte within the text
  unsigned char byte = 0;
};
std::optional<Utf8Error> FirstInvalidUtf8Line(std::string_view text);
// "NAME:LINE: not valid UTF-8 at byte offset K of the line (0xNN); save it
// as UTF-8": the refusal of a text file, or nullopt when it is valid.
std::optional<std::string> CheckUtf8File(std::string_view text, std::string_view name);

// `s` in single quotes for a message: stray bytes escaped, cut (between
// characters) after `max_bytes` with "..." marking the cut.
std::string QuoteText(std::string_view s, size_t max_bytes = 80);

// "byte offset N (0xNN)": how refusals name an invalid byte.
std::string DescribeInvalidByte(std::string_view s, size_t offset);

}  // namespace tacet
