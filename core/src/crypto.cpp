// OpenSSL for SHA-256, Ed25519 and base64 (sealed.cpp has AES-GCM and HMAC).
// The one-shot digests use the SHA-256 block functions, deprecated in
// OpenSSL 3 in favour of EVP, which keeps them: the same SHA-NI code without
// EVP's dispatch, which costs more than the digest of a short message (a
// chain link, a tree leaf or node: three per event of a million-line import).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "openssl_digest.h"
#include "tacet/core/ed25519.h"
#include "tacet/core/hash.h"
#include "tacet/core/utf8.h"

namespace tacet {

const EVP_MD* internal::Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("OpenSSL: SHA256 is not available");
  return md;
}

namespace {

using internal::Sha256Md;

struct CtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

Hash256 Digest(std::string_view a, std::string_view b) {
  SHA256_CTX ctx;
  Hash256 out;
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, a.data(), a.size()) != 1 ||
      (!b.empty() && SHA256_Update(&ctx, b.data(), b.size()) != 1) ||
      SHA256_Final(out.data(), &ctx) != 1) {
    throw std::runtime_error("OpenSSL: SHA-256 failed");
  }
  return out;
}

}  // namespace

Hash256 Sha256(std::string_view data) { return Digest(data, {}); }
Hash256 Sha256(std::string_view a, std::string_view b) { return Digest(a, b); }

struct Sha256Stream::Impl {
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx{EVP_MD_CTX_new()};
};

Sha256Stream::Sha256Stream() : impl_(std::make_unique<Impl>()) {
  if (EVP_DigestInit_ex2(impl_->ctx.get(), Sha256Md(), nullptr) != 1)
    throw std::runtime_error("OpenSSL: SHA-256 init failed");
}
Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(std::string_view data) {
  if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1)
    throw std::runtime_error("OpenSSL: SHA-256 update failed");
}

Hash256 Sha256Stream::Finish() {
  Hash256 out;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len) != 1 || len != out.size())
    throw std::runtime_error("OpenSSL: SHA-256 final failed");
  return out;
}

std::string ToHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    s.push_back(kDigits[c >> 4]);
    s.push_back(kDigits[c & 15]);
  }
  return s;
}

std::string ToHex(const Hash256& h) { return ToHex(AsBytes(h)); }

Result<Hash256> HashFromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Hash256 h;
  if (hex.size() != 64)
    return Status::InvalidArgument("not a SHA-256 hex digest: '" + std::string(hex) + "'");
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return Status::InvalidArgument("not a SHA-256 hex digest: '" + std::string(hex) + "'");
    h[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return h;
}

namespace ed25519 {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

Pkey PrivateKey(const Seed& seed) {
  Pkey k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!k) throw std::runtime_error("OpenSSL: Ed25519 is not available");
  return k;
}

}  // namespace

Result<Seed> NewSeed() {
  Seed s;
  if (RAND_priv_bytes(s.data(), static_cast<int>(s.size())) != 1)
    return Status::Internal("OpenSSL: no random bytes for a new key");
  return s;
}

PublicKey PublicKeyOf(const Seed& seed) {
  Pkey k = PrivateKey(seed);
  PublicKey pub;
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(k.get(), pub.data(), &len) != 1 || len != pub.size())
    throw std::runtime_error("OpenSSL: cannot derive an Ed25519 public key");
  return pub;
}

Signature Sign(const Seed& seed, std::string_view message) {
  Pkey k = PrivateKey(seed);
  MdCtx ctx(EVP_MD_CTX_new());
  Signature sig;
  size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != sig.size())
    throw std::runtime_error("OpenSSL: Ed25519 signing failed");
  return sig;
}

bool Verify(const PublicKey& key, std::string_view message, const Signature& signature) {
  Pkey k(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  if (!k || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

}  // namespace ed25519

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<Hash256> HashFromBase64(std::string_view text) {
  auto bytes = Base64Decode(text);
  Hash256 h{};
  if (!bytes.ok() || bytes->size() != h.size())
    return Status::InvalidArgument("not 32 bytes of base64: '" +
                                   EscapeInvalidUtf8(TruncateUtf8(text, 100)) + "'");
  std::memcpy(h.data(), bytes->data(), h.size());
  return h;
}

Result<std::string> Base64Decode(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("not canonical base64: '" +
                                   EscapeInvalidUtf8(TruncateUtf8(text, 100)) + "'");
  };
  if (text.size() % 4 != 0 || text.size() > (1u << 30)) return bad();
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return bad();
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  // EVP_DecodeBlock skips blanks and ignores stray bits: only the canonical
  // form re-encodes to itself.
  if (Base64Encode(out) != text) return bad();
  return out;
}

}  // namespace tacet
