#include "../internal/text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "tacet/core/utf8.h"

namespace tacet::internal {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

const char* const kPhones[] = {"phone",  "telefono",     "numero",         "number",
                               "tel",    "telephone",    "mobile",         "cellulare",
                               "msisdn", "phone_number", "numero_telefono"};
const char* const kOthers[] = {"email",    "e-mail",  "mail",    "subject",
                               "soggetto", "contact", "contatto"};

// A header cell naming a phone column (or an e-mail or contact one).
bool IsColumnName(std::string_view cell, bool emails) {
  std::string h = Lower(std::string(cell));
  for (const char* n : kPhones)
    if (h == n) return true;
  if (emails)
    for (const char* n : kOthers)
      if (h == n) return true;
  return false;
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
std::string Errno(int e) { return std::strerror(e); }
}  // namespace

std::string Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return std::string(s);
}

LineReader::LineReader(std::string_view content) : rest_(content) {
  if (rest_.substr(0, 3) == "\xEF\xBB\xBF") rest_.remove_prefix(3);
}

bool LineReader::Next(Line* out) {
  while (!rest_.empty()) {
    const size_t nl = rest_.find('\n');
    std::string_view line = rest_.substr(0, nl);
    rest_.remove_prefix(nl == std::string_view::npos ? rest_.size() : nl + 1);
    ++number_;
    while (!line.empty() && IsBlank(line.back())) line.remove_suffix(1);
    while (!line.empty() && IsBlank(line.front())) line.remove_prefix(1);
    if (!line.empty()) {
      *out = {number_, line};
      return true;
    }
  }
  return false;
}

std::vector<Line> SplitLines(std::string_view content) {
  std::vector<Line> lines;
  lines.reserve(content.size() / 11 + 1);
  LineReader reader(content);
  for (Line l; reader.Next(&l);) lines.push_back(l);
  return lines;
}

bool SplitCsv(std::string_view line, char sep, std::vector<std::string>* fields) {
  fields->clear();
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == sep) {
      fields->push_back(Trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (quoted) return false;
  fields->push_back(Trim(cur));
  return true;
}

Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; what is not a
  // regular file is refused before a byte is read.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Status::InvalidArgument("cannot open '" + path + "': " + Errno(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::IOError("cannot stat '" + path + "': " + Errno(errno));
  if (!S_ISREG(st.st_mode)) {
    const char* what = S_ISDIR(st.st_mode)                          ? "a directory"
                       : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                       : S_ISSOCK(st.st_mode)                       ? "a socket"
                                                                    : "not a regular file";
    return Status::InvalidArgument("'" + path + "' is " + what + "; give a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return Status::InvalidArgument("'" + path + "' holds " + std::to_string(st.st_size) +
                                   " bytes; at most " + std::to_string(max_bytes) + " are read");
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("cannot read '" + path + "': " + Errno(errno));
    if (n == 0) break;  // it shrank while read
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

Status WriteFileExclusive(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot create '" + tmp + "': " + Errno(errno));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::IOError("cannot write '" + tmp + "': " + Errno(e));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Status::IOError("cannot sync '" + tmp + "': " + Errno(e));
  }
  // link() fails if `path` exists: a file is never replaced.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    if (e == EEXIST) return Status::AlreadyExists("'" + path + "' already exists");
    return Status::IOError("cannot create '" + path + "': " + Errno(e));
  }
  ::unlink(tmp.c_str());
  return Status::Ok();
}

std::string Quote(std::string_view s) { return QuoteText(s); }

Result<std::vector<Candidate>> ReadCandidates(const std::string& path, const std::string& column,
                                              bool emails) {
  TACET_ASSIGN_OR_RETURN(std::string content, ReadFile(path, kMaxFileBytes));
  return ParseCandidates(content, path, column, emails);
}

Result<std::vector<Candidate>> ParseCandidates(std::string_view content, const std::string& path,
                                               const std::string& column, bool emails) {
  std::vector<Candidate> out;
  TACET_RETURN_IF_ERROR(
      ForEachCandidate(content, path, column, emails, [&](uint64_t line, std::string_view value) {
        out.push_back({line, std::string(value)});
      }));
  return out;
}

Status ForEachCandidate(std::string_view content, const std::string& path,
                        const std::string& column, bool emails,
                        const std::function<void(uint64_t line, std::string_view value)>& fn) {
  if (auto bad = CheckUtf8File(content, path)) return Status::InvalidArgument(*bad);
  LineReader lines(content);
  Line first, l;
  if (!lines.Next(&first)) return Status::Ok();
  char sep = 0;
  for (char c : {';', ',', '\t'})
    if (first.text.find(c) != std::string_view::npos) {
      sep = c;
      break;
    }
  if (sep == 0 && column.empty()) {
    // One value per line; a first line that names the column is a header.
    if (!IsColumnName(first.text, emails)) fn(first.number, first.text);
    while (lines.Next(&l)) fn(l.number, l.text);
    return Status::Ok();
  }
  if (sep == 0) sep = ',';
  std::vector<std::string> fields;
  if (!SplitCsv(first.text, sep, &fields))
    return Status::InvalidArgument(path + ":" + std::to_string(first.number) +
                                   ": unterminated quote in the header");
  int col = -1;
  for (size_t i = 0; i < fields.size() && col < 0; ++i) {
    std::string h = Lower(fields[i]);
    if (!column.empty()) {
      if (h == Lower(column)) col = static_cast<int>(i);
      continue;
    }
    for (const char* n : kPhones)
      if (h == n) col = static_cast<int>(i);
    if (emails)
      for (const char* n : kOthers)
        if (h == n) col = static_cast<int>(i);
  }
  if (col < 0) {
    std::string heads;
    for (auto& f : fields) heads += (heads.empty() ? "" : ", ") + Quote(f);
    return Status::InvalidArgument(path + ":" + std::to_string(first.number) +
                                   (column.empty()
                                        ? std::string(emails ? ": no phone or e-mail column found"
                                                             : ": no phone column found") +
                                              " (name it with --column); columns: "
                                        : ": no column named " + Quote(column) + "; columns: ") +
                                   heads);
  }
  while (lines.Next(&l)) {
    if (!SplitCsv(l.text, sep, &fields))
      return Status::InvalidArgument(path + ":" + std::to_string(l.number) +
                                     ": unterminated quote");
    fn(l.number, static_cast<size_t>(col) < fields.size()
                     ? std::string_view(fields[static_cast<size_t>(col)])
                     : std::string_view());
  }
  return Status::Ok();
}

std::string JoinSamples(const std::vector<std::string>& samples, uint64_t total) {
  std::string out;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i) out += "; ";
    out += samples[i];
  }
  if (total > samples.size()) out += "; and " + std::to_string(total - samples.size()) + " more";
  return out;
}

}  // namespace tacet::internal
