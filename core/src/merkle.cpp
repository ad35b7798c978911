#include "tacet/core/merkle.h"

#include <bit>
#include <cstring>

namespace tacet::merkle {

Hash256 LeafHash(std::string_view leaf) { return Sha256(std::string_view("\0", 1), leaf); }

Hash256 NodeHash(const Hash256& left, const Hash256& right) {
  char buf[1 + 2 * 32];
  buf[0] = 1;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return Sha256(std::string_view(buf, sizeof buf));
}

Hash256 EmptyRoot() { return Sha256(std::string_view()); }

uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

Hash256 RootOf(std::span<const Hash256> leaves) {
  if (leaves.empty()) return EmptyRoot();
  if (leaves.size() == 1) return leaves[0];
  const uint64_t k = SplitPoint(leaves.size());
  return NodeHash(RootOf(leaves.first(k)), RootOf(leaves.subspan(k)));
}

SubtreeFn InMemory(std::span<const Hash256> leaves) {
  return [leaves](uint64_t begin, uint64_t end) -> Result<Hash256> {
    if (begin >= end || end > leaves.size())
      return Status::InvalidArgument("no subtree [" + std::to_string(begin) + ", " +
                                     std::to_string(end) + ") in a tree of " +
                                     std::to_string(leaves.size()) + " leaves");
    return RootOf(leaves.subspan(begin, end - begin));
  };
}

Result<CompactRange> CompactRange::From(uint64_t size, std::vector<Hash256> hashes) {
  if (hashes.size() != static_cast<size_t>(std::popcount(size)))
    return Status::InvalidArgument("a tree of " + std::to_string(size) + " leaves has " +
                                   std::to_string(std::popcount(size)) + " perfect subtrees, not " +
                                   std::to_string(hashes.size()));
  CompactRange r;
  r.size_ = size;
  r.hashes_ = std::move(hashes);
  return r;
}

Hash256 CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  Hash256 r = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) r = NodeHash(hashes_[i], r);
  return r;
}

namespace {

// Appends MTH(D[begin:end]) to `out`.
Status AppendSubtree(uint64_t begin, uint64_t end, const SubtreeFn& subtree,
                     std::vector<Hash256>& out) {
  TACET_ASSIGN_OR_RETURN(Hash256 h, subtree(begin, end));
  out.push_back(h);
  return Status::Ok();
}

// PATH(m, D[begin:end]), appended to `out` from the leaf upwards.
Status Path(uint64_t m, uint64_t begin, uint64_t end, const SubtreeFn& subtree,
            std::vector<Hash256>& out) {
  const uint64_t n = end - begin;
  if (n == 1) return Status::Ok();
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    TACET_RETURN_IF_ERROR(Path(m, begin, begin + k, subtree, out));
    return AppendSubtree(begin + k, end, subtree, out);
  }
  TACET_RETURN_IF_ERROR(Path(m - k, begin + k, end, subtree, out));
  return AppendSubtree(begin, begin + k, subtree, out);
}

// SUBPROOF(m, D[begin:end], b).
Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool b, const SubtreeFn& subtree,
                std::vector<Hash256>& out) {
  const uint64_t n = end - begin;
  if (m == n) return b ? Status::Ok() : AppendSubtree(begin, end, subtree, out);
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    TACET_RETURN_IF_ERROR(SubProof(m, begin, begin + k, b, subtree, out));
    return AppendSubtree(begin + k, end, subtree, out);
  }
  TACET_RETURN_IF_ERROR(SubProof(m - k, begin + k, end, false, subtree, out));
  return AppendSubtree(begin, begin + k, subtree, out);
}

// Right-shifts fn and sn together until fn's lowest bit is `bit` (or fn is 0
// when looking for a set bit).
void ShiftUntil(uint64_t& fn, uint64_t& sn, bool bit) {
  while (((fn & 1) != 0) != bit && !(bit && fn == 0)) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

Result<std::vector<Hash256>> InclusionProof(uint64_t index, uint64_t size,
                                            const SubtreeFn& subtree) {
  if (index >= size)
    return Status::InvalidArgument("leaf " + std::to_string(index) + " is not in a tree of " +
                                   std::to_string(size) + " leaves");
  std::vector<Hash256> proof;
  TACET_RETURN_IF_ERROR(Path(index, 0, size, subtree, proof));
  return proof;
}

Result<std::vector<Hash256>> ConsistencyProof(uint64_t old_size, uint64_t new_size,
                                              const SubtreeFn& subtree) {
  if (old_size > new_size)
    return Status::InvalidArgument("a tree of " + std::to_string(old_size) +
                                   " leaves cannot be a prefix of one of " +
                                   std::to_string(new_size));
  std::vector<Hash256> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  TACET_RETURN_IF_ERROR(SubProof(old_size, 0, new_size, true, subtree, proof));
  return proof;
}

bool VerifyInclusion(uint64_t index, uint64_t size, const Hash256& leaf,
                     std::span<const Hash256> proof, const Hash256& root) {
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  Hash256 r = leaf;
  for (const Hash256& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      ShiftUntil(fn, sn, true);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash256& old_root,
                       const Hash256& new_root, std::span<const Hash256> proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty() && old_root == EmptyRoot();
  if (proof.empty()) return false;
  // A power-of-two old tree is a node of the new one: the proof leaves it out.
  const bool whole = std::has_single_bit(old_size);
  auto at = [&](size_t i) -> const Hash256& {
    return whole ? (i == 0 ? old_root : proof[i - 1]) : proof[i];
  };
  const size_t len = proof.size() + (whole ? 1 : 0);
  uint64_t fn = old_size - 1, sn = new_size - 1;
  ShiftUntil(fn, sn, false);
  Hash256 fr = at(0), sr = at(0);
  for (size_t i = 1; i < len; ++i) {
    const Hash256& c = at(i);
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      ShiftUntil(fn, sn, true);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

}  // namespace tacet::merkle
