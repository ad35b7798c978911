// The files of Italy's Registro Pubblico delle Opposizioni (RPO), as FUB's
// operator manual describes them (../shared/seeds): an upload of national
// numbers, one per CRLF line, named <prefix>YYYYMMDDhhmmss.txt; a return in
// one of two layouts:
//  - filtered: the numbers the operator may call, one per line (the
//    others of the session are listed);
//  - status: "number,status[,date]" lines, status 1 listed and 0 cleared.
#include "it_rpo.h"

#include <algorithm>

#include "../../internal/text.h"
#include "tacet/core/time.h"

namespace tacet {
namespace {

using internal::JoinSamples;
using internal::Line;
const auto& Q = internal::Quote;

constexpr size_t kMaxSamples = 5;
constexpr size_t kMaxNumberDigits = 15;  // E.164's bound on a whole number
constexpr size_t kStampDigits = 14;      // YYYYMMDDhhmmss

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view TrimBlanks(std::string_view f) {
  while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
  while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
  return f;
}

}  // namespace

std::string ItRpo::UploadName(std::string_view stamp, uint32_t part) const {
  std::string name = definition().file_prefix;
  name.append(stamp);
  if (part > 1) {
    name += '_';
    name += std::to_string(part);
  }
  return name;
}

std::string ItRpo::StampOf(std::string_view file_name) const {
  const std::string& prefix = definition().file_prefix;
  if (file_name.size() < prefix.size() + kStampDigits ||
      file_name.substr(0, prefix.size()) != prefix)
    return {};
  std::string_view stamp = file_name.substr(prefix.size(), kStampDigits);
  return AllDigits(stamp) ? std::string(stamp) : std::string();
}

std::string ItRpo::UploadContent(std::span<const std::string_view> nationals) const {
  std::string content;
  content.reserve(nationals.size() * 12);
  for (std::string_view n : nationals) {
    content.append(n);
    content.append("\r\n");
  }
  return content;
}

Result<ParsedReturn> ItRpo::ParseReturn(std::string_view text, std::string_view shown) const {
  std::vector<Line> lines = internal::SplitLines(text);
  ParsedReturn out;
  // A comma on the first line says the status layout; none, the filtered one.
  const bool status_layout = !lines.empty() && lines[0].text.find(',') != std::string_view::npos;
  out.layout = status_layout ? ReturnLayout::kStatus : ReturnLayout::kFiltered;
  std::vector<std::string> bad;
  uint64_t bad_count = 0;
  auto malformed = [&](const Line& l, const std::string& why) {
    if (bad_count++ < kMaxSamples)
      bad.push_back("line " + std::to_string(l.number) + " " + Q(l.text) + " (" + why + ")");
  };
  out.rows.reserve(lines.size());
  std::vector<std::string_view> fields;
  for (const Line& l : lines) {
    std::string_view number = l.text;
    bool listed = false;
    if (status_layout) {
      fields.clear();
      std::string_view rest = l.text;
      while (true) {
        size_t c = rest.find(',');
        fields.push_back(TrimBlanks(rest.substr(0, c)));
        if (c == std::string_view::npos) break;
        rest.remove_prefix(c + 1);
      }
      if (fields.size() < 2 || fields.size() > 3) {
        malformed(l, "expected number,status[,date]");
        continue;
      }
      number = fields[0];
      if (fields[1] == "1") {
        listed = true;
      } else if (fields[1] != "0") {
        malformed(l, "status must be 0 or 1");
        continue;
      }
      if (fields.size() == 3 && !fields[2].empty() && !ParseDate(fields[2]).ok()) {
        malformed(l, "date must be YYYY-MM-DD");
        continue;
      }
    }
    if (!AllDigits(number)) {
      malformed(l, "not a number");
      continue;
    }
    if (number.size() > kMaxNumberDigits) {
      malformed(l, "too long");
      continue;
    }
    out.rows.push_back({number, listed, l.number});
  }
  if (bad_count > 0)
    return Status::InvalidArgument(std::string(shown) + ": " + std::to_string(bad_count) +
                                   " malformed line" + (bad_count > 1 ? "s" : "") + ": " +
                                   JoinSamples(bad, bad_count) + "; nothing was imported");
  return out;
}

std::string ItRpo::CountryPrefix() const {
  const auto& regions = definition().regions;
  std::string prefix = "+";
  prefix += std::to_string(SubjectParser::CountryCodeOf(regions.empty() ? "IT" : regions[0]));
  return prefix;
}

}  // namespace tacet
