// Status and Result<T>: how every fallible core operation reports failure.
//
// A Status is either OK or a code plus a message that carries the context
// where the error was born (sequence number, subject, file and line, library
// message). Both types are [[nodiscard]]: ignoring one must be a visible,
// greppable decision (`.IgnoreError()`).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tacet {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from the user: a file, a line, a value
  kNotFound,            // an unknown session, subject, sequence number
  kAlreadyExists,       // the same return file again, an existing file
  kFailedPrecondition,  // the ledger's state forbids it (answered session)
  kCorruption,          // stored bytes fail their hash or do not decode
  kIOError,             // the OS or RocksDB failed to read or write
  kInternal,            // a bug: an invariant did not hold
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "code: message", or "OK".
  std::string ToString() const;
  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(const std::string& context) const;
  // Explicitly drops the status. Use only where failure truly does not matter.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tacet

// Returns early from the enclosing function when `expr` is not OK.
#define TACET_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::tacet::Status tacet_status_ = (expr);        \
    if (!tacet_status_.ok()) return tacet_status_; \
  } while (0)

#define TACET_CONCAT_INNER(a, b) a##b
#define TACET_CONCAT(a, b) TACET_CONCAT_INNER(a, b)
// `TACET_ASSIGN_OR_RETURN(auto x, F());` binds x to F()'s value or returns its status.
#define TACET_ASSIGN_OR_RETURN(lhs, expr) \
  TACET_ASSIGN_OR_RETURN_IMPL(TACET_CONCAT(tacet_result_, __LINE__), lhs, expr)
#define TACET_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
