#include "tacet/daemon/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tacet {

Result<Client> Client::Connect(const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path)
    return Status::InvalidArgument("socket path '" + socket_path + "' is too long");
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    std::string msg = "cannot connect to '" + socket_path + "': " + std::strerror(e);
    if (e == ENOENT || e == ECONNREFUSED) return Status::NotFound(msg);
    return Status::IOError(msg);
  }
  return Client(fd);
}

Client::Client(Client&& o) noexcept : fd_(o.fd_), buf_(std::move(o.buf_)), pos_(o.pos_) {
  o.fd_ = -1;
}

Client& Client::operator=(Client&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    buf_ = std::move(o.buf_);
    pos_ = o.pos_;
    o.fd_ = -1;
  }
  return *this;
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

Status Client::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("send to tacetd: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<std::string> Client::ReadLine() {
  size_t scan = pos_;  // bytes before it hold no newline: a long reply is scanned once
  for (;;) {
    size_t nl = buf_.find('\n', scan);
    if (nl != std::string::npos) {
      std::string line = buf_.substr(pos_, nl - pos_);
      pos_ = nl + 1;
      if (pos_ > (1 << 20) || pos_ == buf_.size()) {
        buf_.erase(0, pos_);
        pos_ = 0;
      }
      return line;
    }
    scan = buf_.size();
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(std::string("read from tacetd: ") + std::strerror(errno));
    if (n == 0) return Status::IOError("tacetd closed the connection");
    buf_.append(chunk, static_cast<size_t>(n));
  }
}

Result<std::string> Client::Call(std::string_view line) {
  std::string out(line);
  out.push_back('\n');
  TACET_RETURN_IF_ERROR(Send(out));
  return ReadLine();
}

pid_t Client::peer_pid() const {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return 0;
  return cred.pid;
}

}  // namespace tacet
