// Process-wide allocator settings. Linked into every Tacet executable through
// the tacet_allocator object library; never into a library, whose host
// process chooses its own allocator.
//
// jemalloc (Debian's libjemalloc2) replaces malloc and reads `malloc_conf`
// at start-up. A 1,000,000-number import or export touches about 1 GiB of
// fresh memory (the write batch and RocksDB's memtables); on 4 KiB pages that
// is a quarter of a million page faults, which on this class of VM cost more
// than the RocksDB commit itself. Transparent huge pages, asked for with
// madvise so the host's default "madvise" THP mode honours them, cut the
// export and import times by about 30% (README, "Speed").
#include "tacet/core/allocator.h"

#ifdef TACET_SYSTEM_MALLOC
// Sanitized builds (TACET_SANITIZE): the system malloc, which AddressSanitizer
// replaces with its own.
namespace tacet {
std::string AllocatorInfo() { return "system malloc"; }
}  // namespace tacet
#else
#include <jemalloc/jemalloc.h>

extern "C" {
// The name and type are jemalloc's contract.
const char* malloc_conf = "thp:always,metadata_thp:auto";
}

namespace tacet {

std::string AllocatorInfo() {
  const char* version = nullptr;
  const char* thp = nullptr;
  size_t len = sizeof(const char*);
  if (mallctl("version", &version, &len, nullptr, 0) != 0 || version == nullptr)
    return "system malloc";
  len = sizeof(const char*);
  if (mallctl("opt.thp", &thp, &len, nullptr, 0) != 0 || thp == nullptr) thp = "?";
  return std::string("jemalloc ") + version + ", thp " + thp;
}

}  // namespace tacet
#endif  // TACET_SYSTEM_MALLOC
