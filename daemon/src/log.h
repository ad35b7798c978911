// tacetd's log: spdlog to stderr (or the journal), one line per request
// worth keeping, in text or JSON.
#pragma once

#include <unistd.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "tacet/core/utf8.h"
#include "tacet/service/service.h"

namespace tacet {

// ---------------------------------------------------------------- logging

// stderr, written with one write(2) per flush rather than per line: the
// syncer logs the writes of a whole group commit and flushes once.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    pending_.append(line.data(), line.size());
  }
  void flush_() override {
    size_t done = 0;
    while (done < pending_.size()) {
      ssize_t n = ::write(STDERR_FILENO, pending_.data() + done, pending_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr is gone: nothing better to do with the line
      done += static_cast<size_t>(n);
    }
    pending_.clear();
  }

 private:
  std::string pending_;
};

// A field's value in a text log line: bare when it is a plain word, else
// quoted as JSON, so that no value can forge another field or line.
inline std::string TextLogValue(const json& v) {
  if (!v.is_string()) return ToJsonText(v);
  const std::string& s = v.get_ref<const std::string&>();
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && c != '"' && c != '\\' &&
           static_cast<unsigned char>(c) < 0x7F;
  });
  return plain ? s : ToJsonText(v);
}

// One line per event: text ("msg key=value ...") or a JSON object. Never
// throws: stray bytes in text are escaped.
class Log {
 public:
  void Configure(const std::string& format, const std::string& level) {
    json_ = format == "json";
    // Not in spdlog's registry: several servers may live in one process (tests).
    if (!logger_)
      logger_ = std::make_shared<spdlog::logger>("tacetd", std::make_shared<StderrSink>());
    logger_->set_pattern(json_ ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l",%v})"
                               : "%Y-%m-%d %H:%M:%S.%e %l %v");
    logger_->set_level(spdlog::level::from_str(level));
    logger_->flush_on(spdlog::level::off);  // Write flushes; Buffer leaves it to Flush
  }
  bool enabled(spdlog::level::level_enum l) const { return logger_ && logger_->should_log(l); }
  // Logs one line and writes it out.
  void Write(spdlog::level::level_enum l, std::string_view msg,
             const json& fields = json::object()) {
    if (!enabled(l)) return;
    Buffer(l, msg, fields);
    Flush();
  }
  // Logs one line, written out by the next Flush (or Write, from any thread).
  void Buffer(spdlog::level::level_enum l, std::string_view msg, const json& fields) {
    if (!enabled(l)) return;
    std::string line;
    if (json_) {
      line = "\"msg\":" + ToJsonText(json(msg));
      for (auto it = fields.begin(); it != fields.end(); ++it)
        line += "," + ToJsonText(json(it.key())) + ":" + ToJsonText(it.value());
    } else {
      line = EscapeInvalidUtf8(msg);
      for (auto it = fields.begin(); it != fields.end(); ++it)
        line += " " + it.key() + "=" + TextLogValue(it.value());
    }
    logger_->log(l, "{}", line);
  }
  void Flush() {
    if (logger_) logger_->flush();
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<bool> json_{false};  // changed by a reload while others log
};

}  // namespace tacet
