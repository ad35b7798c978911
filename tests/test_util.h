// Helpers shared by the tests: real temporary directories and files.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <string>

#include "tacet/core/event.h"
#include "tacet/core/status.h"

namespace tacet {
// Printable enums for Boost.Test messages.
inline std::ostream& operator<<(std::ostream& os, StatusCode c) { return os << StatusCodeName(c); }
inline std::ostream& operator<<(std::ostream& os, PayloadType t) {
  return os << PayloadTypeName(t);
}
inline std::ostream& operator<<(std::ostream& os, ReturnLayout l) {
  return os << static_cast<int>(l);
}
}  // namespace tacet

namespace tacet::test {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tacet-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void WriteText(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace tacet::test
