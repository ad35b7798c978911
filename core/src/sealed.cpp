// AES-256-GCM and HMAC-SHA256 through OpenSSL 3 (core/sealed.h).
#include "tacet/core/sealed.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>

// The SHA-256 block functions (SHA256_Init/Update/Final) are deprecated in
// OpenSSL 3 in favour of EVP, which keeps them; KeyedHash needs their plain
// copyable state (see below).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstring>
#include <stdexcept>

namespace tacet {
namespace {

const EVP_CIPHER* Aes256Gcm() {
  // Fetched once: an implicit fetch per seal costs more than the seal.
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) throw std::runtime_error("OpenSSL: AES-256-GCM is not available");
  return cipher;
}

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

EVP_CIPHER_CTX* ThreadCipherCtx() {
  thread_local CipherCtx ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

int Len(std::string_view s) { return static_cast<int>(s.size()); }

}  // namespace

Result<DataKey> NewDataKey() {
  DataKey k;
  if (RAND_priv_bytes(k.data(), static_cast<int>(k.size())) != 1)
    return Status::Internal("OpenSSL: no random bytes for a data key");
  return k;
}

Result<std::vector<DataKey>> NewDataKeys(size_t n) {
  std::vector<DataKey> keys(n);
  constexpr size_t kPerCall = size_t{1} << 20;  // 32 MB a call: within an int
  for (size_t from = 0; from < n; from += kPerCall) {
    const size_t m = std::min(kPerCall, n - from);
    if (RAND_priv_bytes(keys[from].data(), static_cast<int>(m * sizeof(DataKey))) != 1)
      return Status::Internal("OpenSSL: no random bytes for data keys");
  }
  return keys;
}

Result<std::string> SealWithNonce(const DataKey& key, std::string_view nonce, std::string_view aad,
                                  std::string_view plaintext) {
  if (nonce.size() != kSealNonceBytes) return Status::InvalidArgument("a seal's nonce is 12 bytes");
  if (plaintext.size() > (1u << 30)) return Status::InvalidArgument("too much to seal at once");
  std::string out(kSealNonceBytes + plaintext.size() + kSealTagBytes, '\0');
  std::memcpy(out.data(), nonce.data(), kSealNonceBytes);
  auto* body = reinterpret_cast<unsigned char*>(out.data() + kSealNonceBytes);
  EVP_CIPHER_CTX* ctx = ThreadCipherCtx();
  int n = 0, tail = 0;
  if (EVP_EncryptInit_ex2(ctx, Aes256Gcm(), key.data(), Bytes(nonce), nullptr) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &n, Bytes(aad), Len(aad)) != 1) ||
      (!plaintext.empty() &&
       EVP_EncryptUpdate(ctx, body, &n, Bytes(plaintext), Len(plaintext)) != 1) ||
      EVP_EncryptFinal_ex(ctx, body + plaintext.size(), &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kSealTagBytes),
                          body + plaintext.size()) != 1)
    return Status::Internal("OpenSSL: AES-256-GCM sealing failed");
  return out;
}

namespace {

// Nonces come from a per-thread pool of random bytes, drawn 1,024 nonces at
// a time: a RAND_bytes call per seal costs a getpid() each (OpenSSL's fork
// check), a second per million seals. A fork empties every pool (the
// child's generation differs), so parent and child never share a nonce.
std::atomic<uint64_t> g_fork_generation{0};

bool FillNonce(unsigned char* nonce) {
  static const int registered = pthread_atfork(nullptr, nullptr, [] { ++g_fork_generation; });
  (void)registered;
  constexpr size_t kPool = 1024 * kSealNonceBytes;
  thread_local unsigned char pool[kPool];
  thread_local size_t used = kPool;
  thread_local uint64_t generation = 0;
  const uint64_t now = g_fork_generation.load(std::memory_order_relaxed);
  if (used == kPool || generation != now) {
    if (RAND_bytes(pool, static_cast<int>(kPool)) != 1) return false;
    used = 0;
    generation = now;
  }
  std::memcpy(nonce, pool + used, kSealNonceBytes);
  OPENSSL_cleanse(pool + used, kSealNonceBytes);  // each nonce handed out once
  used += kSealNonceBytes;
  return true;
}

}  // namespace

Result<std::string> Seal(const DataKey& key, std::string_view aad, std::string_view plaintext) {
  unsigned char nonce[kSealNonceBytes];
  if (!FillNonce(nonce)) return Status::Internal("OpenSSL: no random bytes for a nonce");
  return SealWithNonce(key, std::string_view(reinterpret_cast<const char*>(nonce), sizeof nonce),
                       aad, plaintext);
}

Result<std::string> Unseal(const DataKey& key, std::string_view aad, std::string_view sealed) {
  if (sealed.size() < kSealOverhead)
    return Status::Corruption("a sealed field of " + std::to_string(sealed.size()) +
                              " bytes is shorter than its nonce and tag (28)");
  const std::string_view nonce = sealed.substr(0, kSealNonceBytes);
  const std::string_view body = sealed.substr(kSealNonceBytes, sealed.size() - kSealOverhead);
  std::string tag(sealed.substr(sealed.size() - kSealTagBytes));
  std::string out(body.size(), '\0');
  EVP_CIPHER_CTX* ctx = ThreadCipherCtx();
  int n = 0, tail = 0;
  if (EVP_DecryptInit_ex2(ctx, Aes256Gcm(), key.data(), Bytes(nonce), nullptr) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx, nullptr, &n, Bytes(aad), Len(aad)) != 1) ||
      (!body.empty() && EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                                          Bytes(body), Len(body)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kSealTagBytes), tag.data()) !=
          1)
    return Status::Internal("OpenSSL: AES-256-GCM opening failed");
  if (EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + body.size(), &tail) !=
      1)
    return Status::Corruption("a sealed field does not open with this key and context");
  return out;
}

// HMAC (RFC 2104): H(K ^ opad ‖ H(K ^ ipad ‖ m)). The two keyed states are
// hashed once; each message starts from copies of them. OpenSSL's SHA-256
// state is copied as a plain struct: the EVP interface's context copies
// cost as much again as the two compressions (SHA-NI) of a short message,
// and a decision pays one keyed hash.
struct KeyedHash::Impl {
  SHA256_CTX inner;
  SHA256_CTX outer;
};

KeyedHash::KeyedHash(std::string_view key) : impl_(std::make_unique<Impl>()) {
  unsigned char block[64] = {};
  if (key.size() > sizeof block) {
    Hash256 h = Sha256(key);
    std::memcpy(block, h.data(), h.size());
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char ipad[64], opad[64];
  for (size_t i = 0; i < sizeof block; ++i) {
    ipad[i] = block[i] ^ 0x36;
    opad[i] = block[i] ^ 0x5c;
  }
  if (SHA256_Init(&impl_->inner) != 1 || SHA256_Update(&impl_->inner, ipad, sizeof ipad) != 1 ||
      SHA256_Init(&impl_->outer) != 1 || SHA256_Update(&impl_->outer, opad, sizeof opad) != 1)
    throw std::runtime_error("OpenSSL: HMAC-SHA256 keying failed");
}

KeyedHash::~KeyedHash() = default;

Hash256 KeyedHash::Of(std::string_view message) const {
  Hash256 inner, out;
  SHA256_CTX c = impl_->inner;
  SHA256_Update(&c, message.data(), message.size());
  SHA256_Final(inner.data(), &c);
  c = impl_->outer;
  SHA256_Update(&c, inner.data(), inner.size());
  SHA256_Final(out.data(), &c);
  return out;
}

}  // namespace tacet
