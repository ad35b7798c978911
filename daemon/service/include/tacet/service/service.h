// Service: every operation of the ledger as a JSON request and a JSON reply,
// free of I/O. The `tacet` CLI calls it on the embedded store; tacetd calls
// it for each request line of its socket (daemon/PROTOCOL.md documents the
// operations, their arguments, results and error codes). One implementation
// for both is what makes the CLI's output the same either way.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tacet/projections/ledger.h"
#include "tacet/service/config.h"

namespace tacet {

using json = nlohmann::json;

// Stable error codes of the protocol (daemon/PROTOCOL.md).
namespace errc {
inline constexpr const char* kBadRequest = "bad_request";
inline constexpr const char* kUnknownOp = "unknown_op";
inline constexpr const char* kInvalidSubject = "invalid_subject";
inline constexpr const char* kUnknownSession = "unknown_session";
inline constexpr const char* kNotFound = "not_found";
inline constexpr const char* kConflict = "conflict";
inline constexpr const char* kForbidden = "forbidden";
inline constexpr const char* kTooLarge = "too_large";
inline constexpr const char* kBusy = "busy";
inline constexpr const char* kReadOnly = "read_only";
inline constexpr const char* kShuttingDown = "shutting_down";
inline constexpr const char* kLagging = "lagging";
inline constexpr const char* kIdleTimeout = "idle_timeout";
inline constexpr const char* kCorruption = "corruption";
inline constexpr const char* kIOError = "io_error";
inline constexpr const char* kInternal = "internal";
}  // namespace errc

// How an operation runs in the daemon: inline on an I/O thread, on the
// blocking pool (long reads), on the single writer thread, or as a stream.
enum class OpKind : uint8_t { kRead, kLongRead, kWrite, kStream };

namespace ops {
class Handler;  // one request being served (service.cpp)
}  // namespace ops

// One operation: the only place it is registered. The daemon (roles,
// scheduling, stats), the CLI and PROTOCOL.md's table all read AllOps().
struct OpSpec {
  std::string_view name;
  Role role;  // the least role allowed to call it
  OpKind kind;
  std::vector<std::string_view> fields;  // its arguments besides "id" and "op"
  // What serves it: a result as JSON, or (the hot reads) as JSON text.
  // Neither: the daemon serves it itself (subscribe, reload).
  json (ops::Handler::*run)() = nullptr;
  std::string (ops::Handler::*run_text)() = nullptr;
};
// Null when there is no such operation.
const OpSpec* FindOp(std::string_view name);
const std::vector<OpSpec>& AllOps();

// The outcome of one operation: its result, or an error code and message.
struct Reply {
  bool ok = true;
  json result;          // when ok, unless `raw` is set
  std::string raw;      // when ok: the result as JSON text (check and check_batch,
                        // the hot path, write it directly)
  std::string code;     // errc::*, when not ok
  std::string message;  // names what was wrong: field, value, file and line

  static Reply Error(std::string code, std::string message) {
    Reply r;
    r.ok = false;
    r.code = std::move(code);
    r.message = std::move(message);
    return r;
  }
  // The result as a JSON value, whichever form it has.
  json Result() const { return raw.empty() ? result : json::parse(raw); }
};

// A file a request names, already read (Service::LoadFiles): tacetd reads
// them on its blocking pool so that the writer thread never waits on a file.
struct RequestFile {
  std::string path;  // resolved, under the import directory
  std::string content;
};
using RequestFiles = std::map<std::string, RequestFile, std::less<>>;  // by argument name

// Who calls and what they may touch.
struct CallContext {
  // os_user and tool; a request's "operator" fills operator_id.
  Actor actor;
  // Non-empty: file paths of requests must lie under this directory (the
  // daemon's import directory), and exports go to the ledger's default
  // directory. Empty (the embedded CLI): any path, and "out" is honoured.
  std::string import_dir;
  // Runs independent tasks, possibly at once, and returns when all are
  // done: the daemon lends its compute threads to big check_batch requests.
  // Null: one after the other.
  std::function<void(std::vector<std::function<void()>>&)> parallel;
  unsigned parallelism = 1;  // how many tasks `parallel` runs at once
  // The files of the request, read beforehand; a path argument not in here
  // is read when the operation runs.
  std::shared_ptr<const RequestFiles> files;
};

// Thread safety: as the Ledger's (reads concurrently, writes from one thread).
class Service {
 public:
  explicit Service(Ledger& ledger) : ledger_(ledger) {}

  // Never throws. `args` is the request object (its "op" and "id" ignored).
  Reply Execute(const OpSpec& op, const json& args, const CallContext& ctx) const;
  // Many check requests at once (a pipelined run of them): the replies
  // Execute would give each, in order, with the lookups of all batched.
  std::vector<Reply> ExecuteChecks(std::span<const json* const> requests,
                                   const CallContext& ctx) const;

  // Whether `args` names a file for `op` to read (a path, not inline
  // content).
  static bool NamesFiles(const OpSpec& op, const json& args);
  // Reads the files `args` names into `ctx.files`: each must be a regular
  // file under ctx.import_dir once symlinks are resolved; a FIFO, device or
  // directory is refused without blocking. Returns the refusal. Never throws.
  std::optional<Reply> LoadFiles(const OpSpec& op, const json& args, CallContext& ctx) const;
  // The refusal of fields `op` does not take (Execute checks them itself).
  static std::optional<Reply> CheckArguments(const OpSpec& op, const json& args);

  Ledger& ledger() const { return ledger_; }

 private:
  Ledger& ledger_;
};

// `j` as JSON text (`indent` as json::dump's). Never throws: a string that
// is not valid UTF-8 (text stored by an older build) is written with its
// stray bytes as \xNN, as EscapeInvalidUtf8 does.
std::string ToJsonText(const json& j, int indent = -1);

// An event as JSON: seq, recorded_at, type, subject (when about one),
// actor, hash, summary. History and subscriptions use it.
// An event for a reader: its SubjectId, and its subject and free text when
// `personal` has them open (the event feed passes none).
json EventJson(const Event& e, const Payload& p, const TimeZone& zone,
               const Disclosed* personal = nullptr);

}  // namespace tacet
