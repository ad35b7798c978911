// A blocking client of tacetd's socket (daemon/PROTOCOL.md): the `tacet`
// CLI, the tests and the benchmark use it. Not thread-safe; one per thread.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "tacet/core/status.h"

namespace tacet {

class Client {
 public:
  // NotFound when nothing listens at `socket_path` (no file, or a stale
  // socket); IOError otherwise.
  static Result<Client> Connect(const std::string& socket_path);

  Client(Client&& o) noexcept;
  Client& operator=(Client&& o) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  // Writes all of `bytes` (one or more request lines, each ending in '\n').
  Status Send(std::string_view bytes);
  // The next reply line, without its '\n'. IOError when the daemon closed
  // the connection first.
  Result<std::string> ReadLine();
  // Send(line + '\n') then ReadLine().
  Result<std::string> Call(std::string_view line);

  int fd() const { return fd_; }
  // The process at the other end (SO_PEERCRED).
  pid_t peer_pid() const;

 private:
  explicit Client(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace tacet
