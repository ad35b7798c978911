// A subject's name inside the ledger (format 3): an opaque SubjectId, the
// keyed hash of its canonical text under the ledger secret,
//
//   SubjectId = HMAC-SHA256(ledger secret, canonical subject)   32 bytes
//
// so that no key of any family, and no event, holds a phone number or an
// e-mail address in clear, while the same subject always gets the same id.
// Without the secret an id cannot be recomputed from a guessed number.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tacet/core/hash.h"
#include "tacet/core/status.h"

namespace tacet {

using SubjectId = Hash256;

class KeyedHash;

// The ledger secret: 32 random bytes in a file of mode 0600, made by the
// ledger's first writer (tacet init), read by every open that looks a
// subject up.
inline constexpr size_t kLedgerSecretBytes = 32;

class SubjectKeyer {
 public:
  // From the secret's bytes (kLedgerSecretBytes).
  explicit SubjectKeyer(std::string_view secret);
  ~SubjectKeyer();
  SubjectKeyer(const SubjectKeyer&) = delete;
  SubjectKeyer& operator=(const SubjectKeyer&) = delete;

  SubjectId Of(std::string_view canonical) const;
  // A person's id: HMAC-SHA256(secret, "\0person\0" ‖ the CRM's id). A
  // subject's canonical text never holds a NUL: the two never collide.
  Hash256 PersonOf(std::string_view crm_id) const;
  // What meta records of the secret, to refuse a ledger opened with another
  // one: HMAC-SHA256(secret, "tacet ledger secret").
  Hash256 Fingerprint() const;

 private:
  std::unique_ptr<KeyedHash> hash_;
};

// Reads the secret file; makes one (0600, synced) when `create` and the
// file is absent. Refuses a file of another size or readable by others.
Result<std::string> LoadLedgerSecret(const std::string& path, bool create);

}  // namespace tacet
