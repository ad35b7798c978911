#include "tacet/core/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tacet {
namespace {

std::string Octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Status WriteSecretFile(const std::string& path, const std::string& content,
                       const std::string& what) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::IOError("cannot create " + what + " '" + path + "': " + std::strerror(errno));
  const bool ok =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
      ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status::IOError("cannot write " + what + " '" + path + "': " + std::strerror(err));
  }
  return Status::Ok();
}

Result<std::string> ReadSecretFile(const std::string& path, const std::string& what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(what + " '" + path + "' does not exist");
    return Status::IOError("cannot read " + what + " '" + path + "': " + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return Status::IOError("cannot stat " + what + " '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return Status::FailedPrecondition(what + " '" + path + "' is not a regular file");
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0)
    return Status::FailedPrecondition(what + " '" + path + "' is open to every user (mode " +
                                      Octal(st.st_mode) + "); run: chmod 600 " + path);
  if (st.st_size > (1 << 16))
    return Status::FailedPrecondition(what + " '" + path + "' holds " + std::to_string(st.st_size) +
                                      " bytes: not a key file");
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Status::IOError("cannot read " + what + " '" + path + "': " + std::strerror(errno));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

}  // namespace tacet
