// The primitives of pseudonymous subjects (ledger format 3): a keyed hash
// that names a subject without revealing it, and authenticated encryption
// of personal data under the subject's own data key, so that destroying the
// key erases the data while the chain, which hashes the ciphertext, still
// verifies.
//
//   SubjectId = HMAC-SHA256(ledger secret, canonical subject)      32 bytes
//   sealed    = nonce (12, random) ‖ AES-256-GCM ciphertext ‖ tag (16)
//
// The additional data of a seal binds the ciphertext to where it belongs
// (the SubjectId and the field's name): a sealed field moved to another
// subject or field does not open.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tacet/core/hash.h"
#include "tacet/core/status.h"

namespace tacet {

using DataKey = std::array<uint8_t, 32>;
inline constexpr size_t kSealNonceBytes = 12;
inline constexpr size_t kSealTagBytes = 16;
inline constexpr size_t kSealOverhead = kSealNonceBytes + kSealTagBytes;

// 32 bytes from the operating system's CSPRNG.
Result<DataKey> NewDataKey();
// n data keys, their random bytes drawn together (a bulk batch's keys).
Result<std::vector<DataKey>> NewDataKeys(size_t n);

// Seals `plaintext` with a fresh random nonce.
Result<std::string> Seal(const DataKey& key, std::string_view aad, std::string_view plaintext);
// The same with the nonce given (12 bytes): for known-answer tests only; a
// nonce must never repeat under one key.
Result<std::string> SealWithNonce(const DataKey& key, std::string_view nonce, std::string_view aad,
                                  std::string_view plaintext);
// Corruption when `sealed` is not a seal of this key and additional data.
Result<std::string> Unseal(const DataKey& key, std::string_view aad, std::string_view sealed);

// HMAC-SHA256 under one key, keyed once: each hash costs two SHA-256
// compressions of its own plus the message's. Thread-safe.
class KeyedHash {
 public:
  explicit KeyedHash(std::string_view key);
  ~KeyedHash();
  KeyedHash(const KeyedHash&) = delete;
  KeyedHash& operator=(const KeyedHash&) = delete;
  Hash256 Of(std::string_view message) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tacet
