// RFC 9162 (6962) Merkle tree: the published test data of Certificate
// Transparency (its eight leaf inputs, the roots of sizes 0 to 8, and its
// inclusion and consistency proofs), then every proof of every tree up to 40
// leaves, and every mutation of each proof rejected.
#include "tacet/core/merkle.h"

#define BOOST_TEST_MODULE merkle_tests
#include <boost/test/unit_test.hpp>

#include <bit>
#include <string>
#include <vector>

using namespace tacet;
using namespace tacet::merkle;

namespace {

Hash256 H(std::string_view hex) {
  auto h = HashFromHex(hex);
  BOOST_TEST_REQUIRE(h.ok(), h.status().ToString());
  return *h;
}

// The leaf inputs of the RFC 6962 test data.
std::vector<Hash256> CtLeaves() {
  const std::vector<std::string> inputs = {
      std::string(),
      std::string("\x00", 1),
      std::string("\x10", 1),
      std::string("\x20\x21", 2),
      std::string("\x30\x31", 2),
      std::string("\x40\x41\x42\x43", 4),
      std::string("\x50\x51\x52\x53\x54\x55\x56\x57", 8),
      std::string("\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16)};
  std::vector<Hash256> leaves;
  for (const auto& in : inputs) leaves.push_back(LeafHash(in));
  return leaves;
}

const char* const kCtRoots[] = {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                                "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                                "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                                "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                                "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                                "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

struct ProofVector {
  uint64_t a, b;  // inclusion: leaf index (0-based), tree size; consistency: sizes
  std::vector<const char*> proof;
};

const std::vector<ProofVector> kCtInclusion = {
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}}};

const std::vector<ProofVector> kCtConsistency = {
    {1, 1, {}},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}}};

std::vector<std::string> Hex(const std::vector<Hash256>& v) {
  std::vector<std::string> out;
  for (const auto& h : v) out.push_back(ToHex(h));
  return out;
}

std::vector<Hash256> Leaves(size_t n) {
  std::vector<Hash256> v;
  for (size_t i = 0; i < n; ++i) v.push_back(LeafHash("event " + std::to_string(i)));
  return v;
}

// Every way of spoiling a proof: one bit of any hash, a dropped or an added
// element (first and last place).
std::vector<std::vector<Hash256>> Mutations(const std::vector<Hash256>& proof) {
  std::vector<std::vector<Hash256>> out;
  for (size_t i = 0; i < proof.size(); ++i)
    for (int bit : {0, 77, 255}) {
      auto m = proof;
      m[i][bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      out.push_back(m);
    }
  for (size_t i : {size_t{0}, proof.size() - 1}) {
    if (proof.empty()) break;
    auto m = proof;
    m.erase(m.begin() + static_cast<std::ptrdiff_t>(i));
    out.push_back(m);
  }
  auto front = proof, back = proof;
  front.insert(front.begin(), LeafHash("extra"));
  back.push_back(LeafHash("extra"));
  out.push_back(front);
  out.push_back(back);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(merkle_tests)

BOOST_AUTO_TEST_CASE(roots_of_sizes_0_to_8_match_the_rfc_6962_test_data) {
  const auto leaves = CtLeaves();
  BOOST_TEST(ToHex(EmptyRoot()) == kCtRoots[0]);
  for (size_t n = 0; n <= 8; ++n)
    BOOST_TEST(ToHex(RootOf(std::span(leaves).first(n))) == kCtRoots[n], "size " << n);
}

BOOST_AUTO_TEST_CASE(published_inclusion_proofs_are_built_and_verified) {
  const auto leaves = CtLeaves();
  for (const auto& v : kCtInclusion) {
    auto tree = std::span(leaves).first(v.b);
    auto proof = InclusionProof(v.a, v.b, InMemory(tree));
    BOOST_TEST_REQUIRE(proof.ok(), proof.status().ToString());
    BOOST_TEST(Hex(*proof) == std::vector<std::string>(v.proof.begin(), v.proof.end()),
               "leaf " << v.a << " of " << v.b);
    BOOST_TEST(VerifyInclusion(v.a, v.b, leaves[v.a], *proof, H(kCtRoots[v.b])));
  }
}

BOOST_AUTO_TEST_CASE(published_consistency_proofs_are_built_and_verified) {
  const auto leaves = CtLeaves();
  for (const auto& v : kCtConsistency) {
    auto proof = ConsistencyProof(v.a, v.b, InMemory(std::span(leaves).first(v.b)));
    BOOST_TEST_REQUIRE(proof.ok(), proof.status().ToString());
    BOOST_TEST(Hex(*proof) == std::vector<std::string>(v.proof.begin(), v.proof.end()),
               v.a << " -> " << v.b);
    BOOST_TEST(VerifyConsistency(v.a, v.b, H(kCtRoots[v.a]), H(kCtRoots[v.b]), *proof));
  }
}

BOOST_AUTO_TEST_CASE(every_inclusion_proof_up_to_40_leaves_verifies_and_no_mutation_does) {
  const auto all = Leaves(40);
  size_t proofs = 0, rejected = 0;
  for (uint64_t n = 1; n <= all.size(); ++n) {
    auto tree = std::span(all).first(n);
    const Hash256 root = RootOf(tree);
    size_t calls = 0;
    SubtreeFn counted = [&, f = InMemory(tree)](uint64_t b, uint64_t e) {
      ++calls;
      return f(b, e);
    };
    for (uint64_t i = 0; i < n; ++i) {
      calls = 0;
      auto proof = InclusionProof(i, n, counted);
      BOOST_TEST_REQUIRE(proof.ok(), proof.status().ToString());
      BOOST_TEST(calls <= 64u - static_cast<unsigned>(std::countl_zero(n)));  // O(log n)
      BOOST_TEST(VerifyInclusion(i, n, tree[i], *proof, root), i << " of " << n);
      ++proofs;
      // The wrong leaf, index or size, or another root.
      BOOST_TEST(!VerifyInclusion(i, n, LeafHash("other"), *proof, root));
      BOOST_TEST(!VerifyInclusion(i, n, tree[i], *proof, LeafHash("other")));
      for (uint64_t j : {i + 1, i - 1})
        if (j < n && tree[j] != tree[i]) BOOST_TEST(!VerifyInclusion(j, n, tree[i], *proof, root));
      // A wrong tree size is not always caught here: the path of leaf 0 has
      // the same shape in trees of 5 to 8 leaves. The size is bound by the
      // signed checkpoint that names it with the root.
      for (const auto& bad : Mutations(*proof)) {
        BOOST_TEST(!VerifyInclusion(i, n, tree[i], bad, root), i << " of " << n);
        ++rejected;
      }
    }
  }
  BOOST_TEST(proofs == 820u);
  BOOST_TEST(rejected > 5000u);
}

BOOST_AUTO_TEST_CASE(every_consistency_proof_up_to_40_leaves_verifies_and_no_mutation_does) {
  const auto all = Leaves(40);
  std::vector<Hash256> roots;
  for (size_t n = 0; n <= all.size(); ++n) roots.push_back(RootOf(std::span(all).first(n)));
  size_t proofs = 0;
  for (uint64_t n = 1; n <= all.size(); ++n) {
    auto tree = InMemory(std::span(all).first(n));
    for (uint64_t m = 0; m <= n; ++m) {
      auto proof = ConsistencyProof(m, n, tree);
      BOOST_TEST_REQUIRE(proof.ok(), proof.status().ToString());
      BOOST_TEST(proof->size() <= 2u * (64u - static_cast<unsigned>(std::countl_zero(n))));
      BOOST_TEST(VerifyConsistency(m, n, roots[m], roots[n], *proof), m << " -> " << n);
      ++proofs;
      if (m == 0 || m == n) continue;
      BOOST_TEST(!VerifyConsistency(m, n, roots[m - 1], roots[n], *proof));
      BOOST_TEST(!VerifyConsistency(m, n, roots[m], roots[n - 1], *proof));
      BOOST_TEST(!VerifyConsistency(m + 1, n, roots[m], roots[n], *proof), m << " -> " << n);
      if (m > 1) BOOST_TEST(!VerifyConsistency(m - 1, n, roots[m], roots[n], *proof));
      for (const auto& bad : Mutations(*proof))
        BOOST_TEST(!VerifyConsistency(m, n, roots[m], roots[n], bad), m << " -> " << n);
    }
  }
  BOOST_TEST(proofs == 860u);
  // Out of range: refused, not answered.
  BOOST_TEST(!ConsistencyProof(5, 4, InMemory(std::span(all).first(4))).ok());
  BOOST_TEST(!InclusionProof(4, 4, InMemory(std::span(all).first(4))).ok());
}

BOOST_AUTO_TEST_SUITE_END()
