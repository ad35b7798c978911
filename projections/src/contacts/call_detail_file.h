// A dialer's call-detail export (`tacet contact import`): a CSV file with
// named columns, read a chunk of lines at a time. Each line becomes an
// attempt to record, or the reason it cannot be one (file, line, column,
// value). Knows nothing of the ledger beyond what a line is checked
// against: the outcome codes in force, the clock, the log's head.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "../../internal/text.h"
#include "tacet/core/channel.h"
#include "tacet/core/clock.h"
#include "tacet/core/event.h"
#include "tacet/core/subject.h"
#include "tacet/core/subject_id.h"
#include "tacet/core/time.h"

namespace tacet::contacts {

// One attempt of the file, parsed.
struct CallDetailRow {
  uint64_t line = 0;
  Subject subject;
  SubjectId id{};
  Channel channel = Channel::kVoice;
  TimeMs started = 0;
  const OutcomeDefined* outcome = nullptr;  // into the reader's outcome codes
  std::string campaign, caller_id, operator_id;
  uint32_t duration = 0;
  uint64_t decision = 0;  // the seq of the check cited; 0 for none
};

// A run of consecutive lines: the rows of the good ones, a message for
// each bad one (kMaxErrors of them in a whole file).
struct CallDetailChunk {
  std::vector<CallDetailRow> rows;
  std::vector<std::string> errors;
  uint64_t bad_lines = 0;
};

// What a line is checked against.
struct CallDetailContext {
  const SubjectParser* parser = nullptr;
  const TimeZone* zone = nullptr;  // of times without an offset
  const SubjectKeyer* keyer = nullptr;
  TimeMs now = 0;                                               // no attempt starts after it
  uint64_t head_seq = 0;                                        // a cited check is at most this
  std::map<std::string, OutcomeDefined, std::less<>> outcomes;  // in force
};

class CallDetailFile {
 public:
  // Messages kept per file; the rest are counted.
  static constexpr size_t kMaxErrors = 20;

  // Reads the header of `content` (named `path` in messages): the columns
  // subject, started and outcome are required, channel, campaign,
  // caller_id, operator, duration and decision optional, others ignored.
  // `content` and `context` must outlive the reader.
  static Result<CallDetailFile> Open(std::string_view content, std::string path,
                                     const CallDetailContext& context);

  // The next `max_lines` lines (fewer at the end); false once none is left.
  // After a bad line, the good ones are only checked: no row is kept,
  // since nothing of the file will be recorded.
  bool Next(size_t max_lines, CallDetailChunk* out);
  // Lines in the file after the header, at most (a row per line).
  size_t MaxRows() const { return max_rows_; }

 private:
  CallDetailFile(internal::LineReader lines, std::string path, const CallDetailContext& context);
  // The line's row, or the reason it is not one (empty when it is).
  std::string Parse(const internal::Line& line, CallDetailRow* row);

  internal::LineReader lines_;
  std::string path_;
  const CallDetailContext* context_;
  char sep_ = ',';
  int where_[9];  // column index of each field, -1 when absent
  std::vector<std::string> fields_;
  size_t max_rows_ = 0;
  size_t errors_ = 0;  // messages handed out so far
  bool failed_ = false;
};

}  // namespace tacet::contacts
