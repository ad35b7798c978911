// The one file that includes OpenSSL.
#include "tacet/core/hash.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace tacet {
namespace {

const EVP_MD* Sha256Md() {
  // Fetched once: implicit fetching on every digest costs more than the digest.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("OpenSSL: SHA256 is not available");
  return md;
}

struct CtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

EVP_MD_CTX* ThreadCtx() {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

Hash256 Digest(std::string_view a, std::string_view b) {
  EVP_MD_CTX* ctx = ThreadCtx();
  Hash256 out;
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, a.data(), a.size()) != 1 ||
      (!b.empty() && EVP_DigestUpdate(ctx, b.data(), b.size()) != 1) ||
      EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size()) {
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

}  // namespace tacet
