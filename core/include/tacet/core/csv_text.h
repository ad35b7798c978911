// CSV written straight into a string: a field quoted only when it must be
// (RFC 4180: a comma, a quote or a line break in it; quotes doubled). The
// CLI's CSV outputs (history) and the audit's share it.
#pragma once

#include <string>
#include <string_view>

namespace tacet {

inline void AppendCsvField(std::string& out, std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char ch : v) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
}

}  // namespace tacet
