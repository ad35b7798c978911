// The blocks and unblocks of a record, as p_subject and p_person both keep
// them (projections/FORMAT.md: "block" and "unblock" entries).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bytes.h"
#include "tacet/projections/subject_state.h"

namespace tacet::internal {

inline void WriteBlocks(ByteWriter& w, const std::vector<BlockEntry>& blocks,
                        const std::vector<UnblockEntry>& unblocks) {
  w.U32(static_cast<uint32_t>(blocks.size()));
  for (const auto& b : blocks) w.U8(b.channels).Str(b.source).U64(b.seq).I64(b.recorded_at);
  w.U32(static_cast<uint32_t>(unblocks.size()));
  for (const auto& u : unblocks) {
    w.U8(u.channels).U64(u.seq).I64(u.recorded_at).U32(static_cast<uint32_t>(u.lifted.size()));
    for (uint64_t l : u.lifted) w.U64(l);
  }
}

// Each count is bounded by the record's size (`total`) over the smallest
// entry, so a damaged count cannot allocate without limit.
inline void ReadBlocks(ByteReader& r, size_t total, std::vector<BlockEntry>* blocks,
                       std::vector<UnblockEntry>* unblocks) {
  auto count = [&](size_t least) -> size_t {
    const uint32_t n = r.U32();
    return n <= total / least ? n : 0;
  };
  for (size_t n = count(21); n > 0 && !r.failed(); --n) {
    BlockEntry b;
    b.channels = r.U8();
    b.source = r.Str();
    b.seq = r.U64();
    b.recorded_at = r.I64();
    blocks->push_back(std::move(b));
  }
  for (size_t n = count(21); n > 0 && !r.failed(); --n) {
    UnblockEntry u;
    u.channels = r.U8();
    u.seq = r.U64();
    u.recorded_at = r.I64();
    for (size_t k = count(8); k > 0 && !r.failed(); --k) u.lifted.push_back(r.U64());
    unblocks->push_back(std::move(u));
  }
}

}  // namespace tacet::internal
