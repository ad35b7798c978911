// Reading the line files users hand us: BOM, CRLF, blank lines, CSV fields.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tacet/core/status.h"

namespace tacet::internal {

struct Line {
  uint64_t number;        // 1-based line number in the file
  std::string_view text;  // without CR/LF; surrounding blanks trimmed
};

// The non-blank lines of `content`, one at a time. A UTF-8 BOM, CRLF
// endings and blank lines are tolerated.
class LineReader {
 public:
  explicit LineReader(std::string_view content);
  // The next non-blank line; false at the end.
  bool Next(Line* line);

 private:
  std::string_view rest_;
  uint64_t number_ = 0;
};
// All of them at once.
std::vector<Line> SplitLines(std::string_view content);

// Splits one CSV record on `sep`, honouring double quotes ("" escapes one).
// Fails on an unterminated quote.
bool SplitCsv(std::string_view line, char sep, std::vector<std::string>* fields);

// The files the ledger reads (candidates, block lists, returns) hold at most
// this much; a return is bounded tighter by its registry's max_return_bytes.
inline constexpr uint64_t kMaxFileBytes = uint64_t{1} << 30;

// The content of the regular file at `path`, refused (without blocking)
// when it is a directory, FIFO, device or socket, or holds more than
// `max_bytes`.
Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes);
// Writes via a temporary file, fsync and rename; refuses to replace a file.
Status WriteFileExclusive(const std::string& path, std::string_view content);

std::string Trim(std::string_view s);

// The candidate values of a file: one per line, or one column of a CSV
// (`column` names it; empty: detect a phone column by its name, or an
// e-mail or contact column too when `emails`).
struct Candidate {
  uint64_t line;
  std::string value;
};
// Each candidate value of a file's content, in file order, to `fn(line,
// value)` (the value is valid during the call): a million candidates need
// no vector of them. `path` names the file in messages.
Status ForEachCandidate(std::string_view content, const std::string& path,
                        const std::string& column, bool emails,
                        const std::function<void(uint64_t line, std::string_view value)>& fn);
Result<std::vector<Candidate>> ReadCandidates(const std::string& path, const std::string& column,
                                              bool emails);
// The same from a file's content; `path` names it in messages.
Result<std::vector<Candidate>> ParseCandidates(std::string_view content, const std::string& path,
                                               const std::string& column, bool emails);
// ParseCandidates of `*content` when set, else ReadCandidates of `path`.
inline Result<std::vector<Candidate>> Candidates(const std::string& path,
                                                 const std::optional<std::string>& content,
                                                 const std::string& column, bool emails) {
  return content ? ParseCandidates(*content, path, column, emails)
                 : ReadCandidates(path, column, emails);
}

// The samples joined by "; ", with "and N more" when `total` exceeds them.
std::string JoinSamples(const std::vector<std::string>& samples, uint64_t total);

// `s` in single quotes for an error message, cut after 80 bytes
// (QuoteText).
std::string Quote(std::string_view s);

}  // namespace tacet::internal
