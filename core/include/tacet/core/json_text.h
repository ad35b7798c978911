// JsonText: JSON written straight into a string, for the hot replies
// (check, check_batch), where building an nlohmann::json tree and dumping it
// cost more than the decision itself. Commas are placed by the writer:
//
//   JsonText j;
//   j.BeginObject().Key("subject").String(s).Key("reasons").BeginArray();
//   for (...) j.String(code);
//   j.EndArray().Key("valid_until").Null().EndObject();
//
// Strings are escaped as RFC 8259 requires; a byte that is not valid UTF-8
// is written as the text \xNN (EscapeInvalidUtf8 in utf8.h), so the output
// is always valid JSON and the stray byte stays visible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tacet {

// Appends `s` as a JSON string literal, quotes included.
void AppendJsonString(std::string& out, std::string_view s);

class JsonText {
 public:
  JsonText() = default;
  // Writes into `buffer` (cleared; its capacity kept).
  explicit JsonText(std::string&& buffer) : out_(std::move(buffer)) { out_.clear(); }

  JsonText& BeginObject() { return Open('{'); }
  JsonText& EndObject() { return Close('}'); }
  JsonText& BeginArray() { return Open('['); }
  JsonText& EndArray() { return Close(']'); }
  // A member's name; its value follows.
  JsonText& Key(std::string_view name) {
    Separate();
    AppendJsonString(out_, name);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  JsonText& String(std::string_view s) {
    Separate();
    AppendJsonString(out_, s);
    return *this;
  }
  JsonText& Uint(uint64_t v);
  JsonText& Int(int64_t v);
  JsonText& Bool(bool v) { return Raw(v ? "true" : "false"); }
  JsonText& Null() { return Raw("null"); }
  // A value that is already JSON text.
  JsonText& Raw(std::string_view json) {
    Separate();
    out_.append(json);
    return *this;
  }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }
  // Hands the text written so far to `sink` and forgets it, the nesting
  // kept: a long document streamed a piece at a time.
  template <class Sink>
  void Drain(Sink&& sink) {
    sink(std::string_view(out_));
    out_.clear();
  }

 private:
  void Separate() {
    if (need_comma_ && !after_key_) out_.push_back(',');
    after_key_ = false;
    need_comma_ = true;
  }
  JsonText& Open(char c) {
    Separate();
    out_.push_back(c);
    need_comma_ = false;
    return *this;
  }
  JsonText& Close(char c) {
    out_.push_back(c);
    need_comma_ = true;
    after_key_ = false;
    return *this;
  }

  std::string out_;
  bool need_comma_ = false;  // a value was written at this level
  bool after_key_ = false;   // the next value is a member's
};

}  // namespace tacet
