// The allocator of the running process, as executables report it
// (tacet-bench prints it next to its figures). Defined in the
// tacet_allocator object library, which every Tacet executable links.
#pragma once

#include <string>

namespace tacet {

// "jemalloc <version>, thp always", or "system malloc" when jemalloc is not
// the process's malloc.
std::string AllocatorInfo();

}  // namespace tacet
