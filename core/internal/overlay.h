// Overlay: a batch's read-your-writes view of one key space, mapping each
// key it holds to a value or to "absent". Written for the bulk paths: a
// 1,000,000-number import prefetches a million keys and writes each once, so
// entries cost one append to a single arena (no allocation per entry) and a
// slot in an open-addressing table.
//
// Set() of a key already present appends a new record and repoints its slot;
// the old record stays in the arena until the overlay is destroyed. Views
// returned by Find() are valid until the next Set().
//
// Not thread-safe. Owned by one AppendBatch, or by the EventLog as the
// in-memory mirror of a projection family (under its lock).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tacet::internal {

class Overlay {
 public:
  // `expected` sizes the table and arena up front (a hint; 0 = unknown).
  explicit Overlay(size_t expected = 0) {
    if (expected > 0) Reserve(expected);
  }

  // True when the overlay knows `key`: *value is then its value, or nullopt
  // when the key is known to be absent.
  bool Find(std::string_view key, std::optional<std::string_view>* value) const {
    if (slots_.empty()) return false;
    return FindHashed(key, Hash(key), value);
  }

  // Find() of each of `keys`, calling fn(i, value or nullopt) for each key i
  // the overlay knows. On a table larger than the caches this is several
  // times faster than one Find() after another: the memory reads of a group
  // of keys (their slots, then their records) are started together.
  template <class Keys, class Fn>
  void FindEach(const Keys& keys, Fn&& fn) const {
    if (slots_.empty()) return;
    const size_t n = std::size(keys);
    constexpr size_t kGroup = 16;
    uint64_t h[kGroup];
    std::optional<std::string_view> v;
    for (size_t base = 0; base < n; base += kGroup) {
      const size_t g = std::min(kGroup, n - base);
      for (size_t j = 0; j < g; ++j) {
        h[j] = Hash(keys[base + j]);
        __builtin_prefetch(&slots_[h[j] & mask_]);
      }
      for (size_t j = 0; j < g; ++j) {
        const uint64_t slot = slots_[h[j] & mask_];
        if (slot != 0) __builtin_prefetch(arena_.data() + Offset(slot));
      }
      for (size_t j = 0; j < g; ++j)
        if (FindHashed(keys[base + j], h[j], &v)) fn(base + j, v);
    }
  }

  void Set(std::string_view key, std::optional<std::string_view> value) {
    if ((count_ + 1) * 4 > slots_.size() * 3) Grow();
    const uint64_t h = Hash(key);
    const uint64_t record = Append(key, value);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      uint64_t& slot = slots_[i];
      if (slot == 0) {
        slot = Tag(h) << kOffsetBits | record;
        ++count_;
        return;
      }
      if ((slot >> kOffsetBits) == Tag(h) && KeyAt(Offset(slot)) == key) {
        slot = Tag(h) << kOffsetBits | record;
        return;
      }
    }
  }

  size_t size() const { return count_; }
  // Bytes of records, superseded ones included.
  size_t arena_bytes() const { return arena_.size(); }
  // Memory held: arena capacity and table.
  size_t memory_bytes() const { return arena_.capacity() + slots_.capacity() * sizeof(uint64_t); }

  // Calls fn(key, value or nullopt) for each key, in no particular order.
  template <class Fn>
  void ForEach(Fn&& fn) const {
    for (uint64_t slot : slots_)
      if (slot != 0) fn(KeyAt(Offset(slot)), ValueAt(Offset(slot)));
  }

  // The same entries without the superseded records.
  Overlay Compacted() const {
    Overlay out(count_);
    ForEach([&](std::string_view k, std::optional<std::string_view> v) { out.Set(k, v); });
    return out;
  }

  // Sizes the table for `entries` keys and the arena for about 64 bytes each.
  void Reserve(size_t entries) {
    size_t want = 16;
    while (want * 3 < entries * 4 + 4) want <<= 1;
    if (want > slots_.size()) Rehash(want);
    arena_.reserve(entries * 64);
  }

 private:
  // A slot: 0 when empty, else a 20-bit hash tag above the record's offset
  // plus one (44 bits: arenas up to 16 TiB).
  static constexpr int kOffsetBits = 44;
  static constexpr uint64_t kOffsetMask = (uint64_t{1} << kOffsetBits) - 1;
  // A record: u32 key size, key, u32 value size (kAbsent: no value), value.
  static constexpr uint32_t kAbsent = UINT32_MAX;

  bool FindHashed(std::string_view key, uint64_t h, std::optional<std::string_view>* value) const {
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      uint64_t slot = slots_[i];
      if (slot == 0) return false;
      if ((slot >> kOffsetBits) == Tag(h) && KeyAt(Offset(slot)) == key) {
        *value = ValueAt(Offset(slot));
        return true;
      }
    }
  }

  static uint64_t Hash(std::string_view key) { return std::hash<std::string_view>{}(key); }
  static uint64_t Tag(uint64_t h) { return h >> kOffsetBits; }
  static uint64_t Offset(uint64_t slot) { return (slot & kOffsetMask) - 1; }

  uint32_t U32At(uint64_t at) const {
    uint32_t v;
    std::memcpy(&v, arena_.data() + at, sizeof v);
    return v;
  }
  std::string_view KeyAt(uint64_t at) const { return {arena_.data() + at + 4, U32At(at)}; }
  std::optional<std::string_view> ValueAt(uint64_t at) const {
    uint64_t v = at + 4 + U32At(at);
    uint32_t n = U32At(v);
    if (n == kAbsent) return std::nullopt;
    return std::string_view(arena_.data() + v + 4, n);
  }

  uint64_t Append(std::string_view key, std::optional<std::string_view> value) {
    uint64_t at = arena_.size();
    auto put32 = [&](uint32_t v) { arena_.append(reinterpret_cast<const char*>(&v), sizeof v); };
    put32(static_cast<uint32_t>(key.size()));
    arena_.append(key);
    put32(value ? static_cast<uint32_t>(value->size()) : kAbsent);
    if (value) arena_.append(*value);
    return at + 1;
  }

  void Grow() { Rehash(slots_.empty() ? 16 : slots_.size() * 2); }
  void Rehash(size_t n) {
    std::vector<uint64_t> old;
    old.swap(slots_);
    slots_.assign(n, 0);
    mask_ = n - 1;
    for (uint64_t slot : old) {
      if (slot == 0) continue;
      size_t i = Hash(KeyAt(Offset(slot))) & mask_;
      while (slots_[i] != 0) i = (i + 1) & mask_;
      slots_[i] = slot;
    }
  }

  std::string arena_;
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace tacet::internal
