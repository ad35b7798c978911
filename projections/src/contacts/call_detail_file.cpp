// Reading a call-detail export (call_detail_file.h).
#include "call_detail_file.h"

#include <algorithm>
#include <charconv>

#include "tacet/core/codec.h"

namespace tacet::contacts {
namespace {

const auto& Q = internal::Quote;

constexpr size_t kMaxFieldBytes = 256;

enum Column {
  kSubject,
  kStarted,
  kOutcome,
  kChannel,
  kCampaign,
  kCallerId,
  kOperator,
  kDuration,
  kDecision,
  kColumns
};

// Header names (lower case) of each column.
int ColumnOf(std::string_view name) {
  static const std::pair<const char*, Column> kNames[] = {
      {"subject", kSubject},   {"phone", kSubject},     {"number", kSubject},
      {"email", kSubject},     {"started", kStarted},   {"outcome", kOutcome},
      {"channel", kChannel},   {"campaign", kCampaign}, {"caller_id", kCallerId},
      {"operator", kOperator}, {"duration", kDuration}, {"decision", kDecision}};
  for (const auto& [n, c] : kNames)
    if (name == n) return c;
  return -1;
}

const char* kColumnNames[] = {"subject",   "started",  "outcome",  "channel", "campaign",
                              "caller_id", "operator", "duration", "decision"};

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

CallDetailFile::CallDetailFile(internal::LineReader lines, std::string path,
                               const CallDetailContext& context)
    : lines_(lines), path_(std::move(path)), context_(&context) {
  std::fill(std::begin(where_), std::end(where_), -1);
}

Result<CallDetailFile> CallDetailFile::Open(std::string_view content, std::string path,
                                            const CallDetailContext& context) {
  static_assert(sizeof(where_) / sizeof(where_[0]) == kColumns);
  internal::LineReader lines(content);
  internal::Line header;
  if (!lines.Next(&header))
    return Status::InvalidArgument(path + ": empty: no header, no attempt; nothing was recorded");
  CallDetailFile file(lines, path, context);
  for (char c : {';', '\t', ','})
    if (header.text.find(c) != std::string_view::npos) {
      file.sep_ = c;
      break;
    }
  const std::string at = path + ":" + std::to_string(header.number);
  std::vector<std::string> fields;
  if (!internal::SplitCsv(header.text, file.sep_, &fields))
    return Status::InvalidArgument(at + ": unterminated quote in the header");
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string h = fields[i];
    std::transform(h.begin(), h.end(), h.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    const int c = ColumnOf(h);
    if (c < 0) continue;
    if (file.where_[c] >= 0)
      return Status::InvalidArgument(at + ": column " + Q(fields[i]) + " names " + kColumnNames[c] +
                                     " a second time; nothing was recorded");
    file.where_[c] = static_cast<int>(i);
  }
  for (Column c : {kSubject, kStarted, kOutcome})
    if (file.where_[c] < 0)
      return Status::InvalidArgument(at + ": the header has no " + kColumnNames[c] +
                                     " column (required: subject, started, outcome); nothing "
                                     "was recorded");
  file.max_rows_ = static_cast<size_t>(std::count(content.begin(), content.end(), '\n')) + 1;
  return file;
}

bool CallDetailFile::Next(size_t max_lines, CallDetailChunk* out) {
  out->rows.clear();
  out->errors.clear();
  out->bad_lines = 0;
  internal::Line l;
  size_t taken = 0;
  while (taken < max_lines && lines_.Next(&l)) {
    ++taken;
    CallDetailRow r;
    std::string why = Parse(l, &r);
    if (why.empty()) {
      if (!failed_) out->rows.push_back(std::move(r));
      continue;
    }
    failed_ = true;
    out->rows.clear();
    ++out->bad_lines;
    if (errors_ < kMaxErrors) {
      out->errors.push_back(std::move(why));
      ++errors_;
    }
  }
  return taken > 0;
}

std::string CallDetailFile::Parse(const internal::Line& l, CallDetailRow* row) {
  CallDetailRow& r = *row;
  const CallDetailContext& cx = *context_;
  std::string why;
  auto field = [&](Column c) -> std::string_view {
    return where_[c] >= 0 && static_cast<size_t>(where_[c]) < fields_.size()
               ? std::string_view(fields_[where_[c]])
               : std::string_view();
  };
  auto fail = [&](Column c, std::string_view value, const std::string& what) {
    if (why.empty())
      why = path_ + ":" + std::to_string(l.number) + ": " + kColumnNames[c] + " " + Q(value) +
            ": " + what;
  };
  r.line = l.number;
  if (!internal::SplitCsv(l.text, sep_, &fields_))
    return path_ + ":" + std::to_string(l.number) + ": unterminated quote";
  auto subject = cx.parser->Parse(field(kSubject));
  if (!subject.ok()) {
    fail(kSubject, field(kSubject), subject.status().message());
  } else {
    r.subject = std::move(subject).value();
  }
  if (std::string_view ch = field(kChannel); !ch.empty()) {
    auto c = ParseChannel(ch);
    if (c.ok()) {
      r.channel = *c;
    } else {
      fail(kChannel, ch, c.status().message());
    }
  } else if (why.empty() && r.subject.kind == SubjectKind::kEmail) {
    r.channel = Channel::kEmail;
  }
  if (why.empty()) {
    if (Status fits = ChannelFits(r.subject, r.channel); !fits.ok())
      fail(kChannel, ChannelName(r.channel), fits.message());
  }
  auto started = cx.zone->Parse(field(kStarted));
  if (!started.ok()) {
    fail(kStarted, field(kStarted), started.status().message());
  } else if (*started > cx.now) {
    fail(kStarted, field(kStarted), "after its recording (now " + FormatUtc(cx.now) + ")");
  } else {
    r.started = *started;
  }
  auto o = cx.outcomes.find(field(kOutcome));
  if (o == cx.outcomes.end()) {
    fail(kOutcome, field(kOutcome), "not an outcome code in force (see 'tacet policy')");
  } else {
    r.outcome = &o->second;
  }
  for (auto [c, out] : {std::pair{kCampaign, &r.campaign}, std::pair{kCallerId, &r.caller_id},
                        std::pair{kOperator, &r.operator_id}}) {
    std::string_view v = field(c);
    if (v.size() > kMaxFieldBytes) fail(c, v, "longer than 256 bytes");
    *out = std::string(v);
  }
  if (std::string_view d = field(kDuration); !d.empty()) {
    uint64_t v = 0;
    if (!ParseU64(d, &v) || v > UINT32_MAX) {
      fail(kDuration, d, "not a number of seconds");
    } else {
      r.duration = static_cast<uint32_t>(v);
    }
  }
  if (std::string_view d = field(kDecision); !d.empty()) {
    if (!ParseU64(d, &r.decision) || r.decision == 0 || r.decision > cx.head_seq)
      fail(kDecision, d, "not the seq of a recorded event");
  }
  // Only a row kept needs its keyed id (an HMAC).
  if (why.empty() && !failed_) r.id = cx.keyer->Of(r.subject.value);
  return why;
}

}  // namespace tacet::contacts
