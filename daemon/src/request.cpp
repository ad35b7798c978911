#include "tacet/daemon/request.h"

#include <algorithm>
#include <array>

#include "tacet/core/json_text.h"
#include "tacet/core/utf8.h"

namespace tacet {
namespace {

// Where a byte lies: the names of the members enclosing it, "a.b".
struct Level {
  bool object = false;
  bool expect_key = false;  // in an object, before a member's name
  std::string_view key;     // the current member's name
};

std::string FieldPath(const std::array<Level, kMaxRequestDepth>& stack, size_t depth) {
  std::string path;
  for (size_t k = 0; k < depth; ++k) {
    if (!stack[k].object || stack[k].key.empty()) continue;
    if (!path.empty()) path += ".";
    path += stack[k].key;
  }
  return path;
}

}  // namespace

std::optional<std::string> CheckJsonText(std::string_view text, size_t max_depth) {
  max_depth = std::min(max_depth, kMaxRequestDepth);
  // The common line, checked in one pass without branches (vectorised): no
  // more opening brackets than the depth allowed (so no deeper nesting), and
  // ASCII or else valid UTF-8. Only a line failing is walked to name the
  // field and the offset.
  size_t opens = 0;
  unsigned char high = 0;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    high |= c;
    opens += static_cast<size_t>(c == '{') + static_cast<size_t>(c == '[');
  }
  if (opens <= max_depth && (high < 0x80 || IsValidUtf8(text))) return std::nullopt;
  std::array<Level, kMaxRequestDepth> stack{};
  size_t depth = 0;
  auto invalid = [&](size_t at, bool in_key) {
    std::string where;
    if (in_key) {
      where = "a field name, ";
    } else if (std::string path = FieldPath(stack, depth); !path.empty()) {
      where = "field " + QuoteText(path) + ", ";
    }
    return "not valid UTF-8: " + where + DescribeInvalidByte(text, at);
  };
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"') {
      const size_t start = ++i;
      const bool is_key = depth > 0 && stack[depth - 1].object && stack[depth - 1].expect_key;
      while (i < n && text[i] != '"') {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b == '\\') {
          // Skip the escaped character unless it is not ASCII: that byte is
          // checked like any other.
          i += (i + 1 < n && static_cast<unsigned char>(text[i + 1]) < 0x80) ? 2 : 1;
          continue;
        }
        if (b < 0x80) {
          ++i;
          continue;
        }
        const size_t len = Utf8SequenceLength(text, i);
        if (len == 0) return invalid(i, is_key);
        i += len;
      }
      if (i >= n) return std::nullopt;  // unterminated: the parser says so
      if (is_key) {
        stack[depth - 1].key = text.substr(start, i - start);
        stack[depth - 1].expect_key = false;
      }
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(text, i);
      if (len == 0) return invalid(i, false);
      i += len;
      continue;
    }
    if (c == '{' || c == '[') {
      if (depth >= max_depth)
        return "nested deeper than " + std::to_string(max_depth) + " levels at byte offset " +
               std::to_string(i);
      stack[depth++] = Level{c == '{', c == '{', {}};
    } else if (c == '}' || c == ']') {
      if (depth > 0) --depth;
    } else if (c == ',') {
      if (depth > 0 && stack[depth - 1].object) stack[depth - 1].expect_key = true;
    }
    ++i;
  }
  return std::nullopt;
}

std::optional<Reply> ParseRequest(std::string_view line, Request& out) {
  out = Request();
  if (auto bad = CheckJsonText(line, kMaxRequestDepth))
    return Reply::Error(errc::kBadRequest, "the request is " + *bad);
  try {
    out.args = json::parse(line);
  } catch (const json::exception& e) {
    // Parse errors and number overflow (1e999); the text is valid UTF-8.
    std::string_view what = TruncateUtf8(e.what(), 300);
    return Reply::Error(errc::kBadRequest, "not JSON: " + std::string(what));
  }
  if (!out.args.is_object())
    return Reply::Error(errc::kBadRequest, "a request must be a JSON object");
  if (auto it = out.args.find("id"); it != out.args.end()) {
    if (!it->is_string() && !it->is_number() && !it->is_null())
      return Reply::Error(errc::kBadRequest, "'id' must be a number, a string or null");
    out.id = ToJsonText(*it);
  }
  auto op_it = out.args.find("op");
  if (op_it == out.args.end() || !op_it->is_string())
    return Reply::Error(errc::kBadRequest, "'op' (a string) is required");
  const std::string& name = op_it->get_ref<const std::string&>();
  out.op = FindOp(name);
  if (out.op == nullptr)
    return Reply::Error(errc::kUnknownOp, "unknown operation " + QuoteText(name));
  // A check asked to leave a trace is a write (PROTOCOL.md: check_record).
  if (name == "check") {
    auto rec = out.args.find("record");
    if (rec != out.args.end() && rec->is_boolean() && rec->get<bool>())
      out.op = FindOp("check_record");
  }
  return std::nullopt;
}

std::string ReplyLine(std::string_view id, const Reply& r) {
  std::string out = "{\"id\":";
  out += id;
  if (r.ok) {
    out += ",\"result\":";
    if (r.raw.empty())
      out += ToJsonText(r.result);
    else
      out += r.raw;
  } else {
    JsonText j;
    j.BeginObject().Key("code").String(r.code).Key("message").String(r.message).EndObject();
    out += ",\"error\":";
    out += j.str();
  }
  out += "}\n";
  return out;
}

}  // namespace tacet
