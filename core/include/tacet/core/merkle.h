// RFC 9162 (RFC 6962) Merkle tree hashing and proofs, apart from storage.
//
//   leaf hash   SHA-256(0x00 || leaf bytes)
//   node hash   SHA-256(0x01 || left || right)
//   MTH({})     SHA-256("")
//   MTH(D[n])   NodeHash(MTH(D[0:k]), MTH(D[k:n])), k the largest power of
//               two smaller than n
//
// Proofs are built from subtree hashes MTH(D[begin:end]) supplied by the
// caller (a SubtreeFn): an inclusion or consistency proof for a tree of n
// leaves asks for at most about 2 log2(n) of them. Where they come from (a
// vector of leaf hashes in memory, stored nodes of the event log) is the
// caller's business. Verification follows RFC 9162 2.1.3.2 and 2.1.4.2 and
// needs nothing but the proof.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "tacet/core/hash.h"
#include "tacet/core/status.h"

namespace tacet::merkle {

Hash256 LeafHash(std::string_view leaf);
Hash256 NodeHash(const Hash256& left, const Hash256& right);
Hash256 EmptyRoot();

// The largest power of two smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n);

// MTH(D[begin:end]) for 0 <= begin < end.
using SubtreeFn = std::function<Result<Hash256>(uint64_t begin, uint64_t end)>;

// The root of the tree whose leaf hashes are `leaves` (all in memory).
Hash256 RootOf(std::span<const Hash256> leaves);
// A SubtreeFn over leaf hashes in memory (tests, small trees).
SubtreeFn InMemory(std::span<const Hash256> leaves);

// PATH(index, D[0:size]): the audit path of leaf `index`, from the leaf
// upwards. InvalidArgument unless index < size.
Result<std::vector<Hash256>> InclusionProof(uint64_t index, uint64_t size,
                                            const SubtreeFn& subtree);
// PROOF(old_size, D[0:new_size]). Empty when old_size is 0 or equals
// new_size; InvalidArgument when old_size > new_size.
Result<std::vector<Hash256>> ConsistencyProof(uint64_t old_size, uint64_t new_size,
                                              const SubtreeFn& subtree);

// True when `proof` shows the leaf with hash `leaf` at `index` in the tree
// of `size` leaves whose root is `root`.
bool VerifyInclusion(uint64_t index, uint64_t size, const Hash256& leaf,
                     std::span<const Hash256> proof, const Hash256& root);
// The tree of the leaves appended so far, kept as its perfect subtrees: one
// per set bit of size(), largest (leftmost) first. Appending a leaf merges
// the subtrees it completes; the root folds them right to left. O(log n)
// memory, amortised two hashes per leaf.
class CompactRange {
 public:
  CompactRange() = default;
  // The range of a tree of `size` leaves from its perfect subtrees' hashes,
  // largest first: D[0:2^a], then the next set bit's, ... InvalidArgument
  // unless there is one hash per set bit of size.
  static Result<CompactRange> From(uint64_t size, std::vector<Hash256> hashes);

  // Appends a leaf hash. completed(level, end, hash) is called for each
  // perfect subtree the leaf completes, level 1 upwards: the subtree of 2^level
  // leaves ending at leaf `end` (exclusive, so end = size() afterwards).
  template <class Fn>
  void Append(const Hash256& leaf, Fn&& completed) {
    Hash256 h = leaf;
    int level = 0;
    for (uint64_t n = size_; (n & 1) != 0; n >>= 1) {
      h = NodeHash(hashes_.back(), h);
      hashes_.pop_back();
      completed(++level, size_ + 1, h);
    }
    hashes_.push_back(h);
    ++size_;
  }
  void Append(const Hash256& leaf) {
    Append(leaf, [](int, uint64_t, const Hash256&) {});
  }

  uint64_t size() const { return size_; }
  // MTH(D[0:size]); EmptyRoot() when empty.
  Hash256 Root() const;
  const std::vector<Hash256>& hashes() const { return hashes_; }

 private:
  uint64_t size_ = 0;
  std::vector<Hash256> hashes_;
};

// True when `proof` shows that the tree of `old_size` leaves with root
// `old_root` is a prefix of the tree of `new_size` leaves with `new_root`.
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash256& old_root,
                       const Hash256& new_root, std::span<const Hash256> proof);

}  // namespace tacet::merkle
