#include "../internal/zip.h"

#include <zip.h>

#include <algorithm>
#include <vector>

namespace tacet::internal {
namespace {

std::string ZipError(int code) {
  zip_error_t err;
  zip_error_init_with_code(&err, code);
  std::string msg = zip_error_strerror(&err);
  zip_error_fini(&err);
  return msg;
}

bool EndsWithTxt(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".txt") == 0;
}

}  // namespace

bool LooksLikeZip(std::string_view bytes) {
  return bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4);
}

Status WriteZip(const std::string& zip_path, const std::string& entry_name,
                std::string_view content) {
  int err = 0;
  zip_t* z = zip_open(zip_path.c_str(), ZIP_CREATE | ZIP_EXCL, &err);
  if (z == nullptr) return Status::IOError("cannot create '" + zip_path + "': " + ZipError(err));
  zip_source_t* src = zip_source_buffer(z, content.data(), content.size(), 0);
  zip_int64_t index = src ? zip_file_add(z, entry_name.c_str(), src, ZIP_FL_ENC_UTF_8) : -1;
  if (index < 0) {
    std::string msg = zip_strerror(z);
    if (src) zip_source_free(src);
    zip_discard(z);
    return Status::IOError("cannot add '" + entry_name + "' to '" + zip_path + "': " + msg);
  }
  // Deflate at level 1: a file of digits and CRLFs compresses to about the
  // same size at any level, and level 1 takes a third of the default's time.
  zip_set_file_compression(z, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 1);
  if (zip_close(z) != 0) {
    std::string msg = zip_strerror(z);
    zip_discard(z);
    return Status::IOError("cannot write '" + zip_path + "': " + msg);
  }
  return Status::Ok();
}

Result<std::string> ReadTextFromZip(const std::string& zip_path, std::string* entry_name) {
  int err = 0;
  zip_t* z = zip_open(zip_path.c_str(), ZIP_RDONLY, &err);
  if (z == nullptr)
    return Status::InvalidArgument("'" + zip_path +
                                   "' is not a readable zip archive: " + ZipError(err));
  zip_int64_t n = zip_get_num_entries(z, 0);
  std::vector<zip_uint64_t> candidates;
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(z, static_cast<zip_uint64_t>(i), 0);
    if (name && (n == 1 || EndsWithTxt(name))) candidates.push_back(static_cast<zip_uint64_t>(i));
  }
  if (candidates.size() != 1) {
    zip_discard(z);
    return Status::InvalidArgument("'" + zip_path + "' holds " + std::to_string(candidates.size()) +
                                   " .txt files among " + std::to_string(n) +
                                   " entries; expected exactly one");
  }
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z, candidates[0], 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
    zip_discard(z);
    return Status::InvalidArgument("'" + zip_path + "': cannot read the entry's size");
  }
  *entry_name = st.name ? st.name : "";
  std::string out(st.size, '\0');
  zip_file_t* f = zip_fopen_index(z, candidates[0], 0);
  zip_int64_t got = f ? zip_fread(f, out.data(), out.size()) : -1;
  if (f) zip_fclose(f);
  zip_discard(z);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
    return Status::InvalidArgument("'" + zip_path + "': entry '" + *entry_name + "' is damaged");
  return out;
}

}  // namespace tacet::internal
