#include "tacet/core/subject_id.h"

#include <openssl/rand.h>

#include "tacet/core/sealed.h"
#include "tacet/core/secret_file.h"

namespace tacet {

SubjectKeyer::SubjectKeyer(std::string_view secret) : hash_(std::make_unique<KeyedHash>(secret)) {}
SubjectKeyer::~SubjectKeyer() = default;

SubjectId SubjectKeyer::Of(std::string_view canonical) const { return hash_->Of(canonical); }

Hash256 SubjectKeyer::PersonOf(std::string_view crm_id) const {
  std::string message("\0person\0", 8);
  message.append(crm_id);
  return hash_->Of(message);
}

Hash256 SubjectKeyer::Fingerprint() const { return hash_->Of("tacet ledger secret"); }

Result<std::string> LoadLedgerSecret(const std::string& path, bool create) {
  const std::string what = "the ledger secret";
  auto text = ReadSecretFile(path, what);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound && create) {
    unsigned char raw[kLedgerSecretBytes];
    if (RAND_priv_bytes(raw, sizeof raw) != 1)
      return Status::Internal("OpenSSL: no random bytes for the ledger secret");
    std::string secret(reinterpret_cast<const char*>(raw), sizeof raw);
    TACET_RETURN_IF_ERROR(WriteSecretFile(path, ToHex(secret) + "\n", what));
    return secret;
  }
  if (!text.ok()) return text.status();
  std::string_view hex = *text;
  if (!hex.empty() && hex.back() == '\n') hex.remove_suffix(1);
  auto bytes = HashFromHex(hex);
  if (hex.size() != 2 * kLedgerSecretBytes || !bytes.ok())
    return Status::Corruption(what + " '" + path + "' is not 64 hexadecimal digits and a newline");
  return std::string(AsBytes(*bytes));
}

}  // namespace tacet
