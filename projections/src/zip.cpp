#include "../internal/zip.h"

#include <zip.h>

#include <algorithm>
#include <vector>

#include "tacet/core/utf8.h"

namespace tacet::internal {
namespace {

std::string ZipError(int code) {
  zip_error_t err;
  zip_error_init_with_code(&err, code);
  std::string msg = zip_error_strerror(&err);
  zip_error_fini(&err);
  return msg;
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

Result<std::string> ReadOnlyMember(std::string_view bytes, const std::string& name,
                                   uint64_t max_bytes, std::string* entry_name) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* z = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error) : nullptr;
  if (z == nullptr) {
    std::string msg = zip_error_strerror(&error);
    zip_error_fini(&error);
    if (src) zip_source_free(src);
    return Status::InvalidArgument("'" + name + "' is not a readable zip archive: " + msg);
  }
  zip_error_fini(&error);
  // From here `z` owns `src`.
  struct Closer {
    zip_t* z;
    ~Closer() { zip_discard(z); }
  } closer{z};
  const zip_int64_t n = zip_get_num_entries(z, 0);
  if (n != 1)
    return Status::InvalidArgument("'" + name + "' holds " + std::to_string(n) +
                                   " entries; a return archive holds exactly one file");
  const char* entry = zip_get_name(z, 0, 0);
  *entry_name = EscapeInvalidUtf8(entry ? entry : "");
  zip_file_t* f = zip_fopen_index(z, 0, 0);
  if (f == nullptr)
    return Status::InvalidArgument("'" + name + "': cannot open entry '" + *entry_name +
                                   "': " + zip_strerror(z));
  std::string out;
  std::string chunk(1 << 16, '\0');
  bool damaged = false, too_big = false;
  for (;;) {
    const zip_int64_t got = zip_fread(f, chunk.data(), chunk.size());
    if (got < 0) {
      damaged = true;
      break;
    }
    if (got == 0) break;
    if (out.size() + static_cast<uint64_t>(got) > max_bytes) {
      too_big = true;
      break;
    }
    out.append(chunk.data(), static_cast<size_t>(got));
  }
  zip_fclose(f);
  if (too_big)
    return Status::InvalidArgument("'" + name + "': entry '" + *entry_name +
                                   "' decompresses to more than " + std::to_string(max_bytes) +
                                   " bytes (registry max_return_bytes); refused");
  if (damaged)
    return Status::InvalidArgument("'" + name + "': entry '" + *entry_name + "' is damaged");
  return out;
}

}  // namespace tacet::internal
