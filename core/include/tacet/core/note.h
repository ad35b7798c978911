// Signed notes and checkpoints, in the formats other transparency logs use:
//
//   * C2SP signed-note (as golang.org/x/mod/sumdb/note implements it) with
//     Ed25519 keys: a text, a blank line, then signature lines
//     "— <key name> <base64(key id (4 bytes BE) ‖ signature (64))>".
//   * C2SP tlog-checkpoint: the text "<origin>\n<tree size>\n<base64 root>\n"
//     and optional extension lines.
//
// Keys are written as those tools write them:
//   verifier key  <name>+<key id, 8 hex>+<base64(0x01 ‖ public key (32))>
//   signer key    PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ seed (32))>
// with key id = the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public
// key). core/FORMAT.md gives every byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tacet/core/ed25519.h"
#include "tacet/core/hash.h"
#include "tacet/core/status.h"

namespace tacet::note {

// A key name: non-empty, without '+', spaces or control characters.
Status CheckKeyName(std::string_view name);

class Verifier {
 public:
  // Parses a verifier key (surrounding whitespace ignored). InvalidArgument
  // naming the fault otherwise, a key id that does not match included.
  static Result<Verifier> Parse(std::string_view vkey);
  std::string Encode() const;
  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }

  // The text of `note` when one of its signature lines is by this key (name
  // and id) and verifies. Signatures by other keys are ignored; one by this
  // key that does not verify fails the note. InvalidArgument otherwise,
  // saying why (not a signed note, no signature by this key, a bad one).
  Result<std::string> Open(std::string_view note) const;

 private:
  friend class Signer;
  std::string name_;
  uint32_t key_id_ = 0;
  ed25519::PublicKey key_{};
};

class Signer {
 public:
  // A new key pair named `name`.
  static Result<Signer> Generate(std::string_view name);
  // Parses a signer key (surrounding whitespace ignored).
  static Result<Signer> Parse(std::string_view skey);
  std::string Encode() const;  // the signer key
  const Verifier& verifier() const { return verifier_; }
  const std::string& name() const { return verifier_.name(); }

  // The signed note of `text`: text, a blank line, this key's signature
  // line. InvalidArgument unless text is non-empty, ends with a newline and
  // holds no blank line and no control character but newlines.
  Result<std::string> Sign(std::string_view text) const;

 private:
  ed25519::Seed seed_{};
  Verifier verifier_;
};

// The text of a signed note without checking any signature: for notes the
// caller stored itself. Empty when `note` has no blank line.
std::string_view UnverifiedText(std::string_view note);

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash256 root{};
  std::vector<std::string> extensions;  // further lines, each non-empty
};
// The checkpoint's note text.
std::string FormatCheckpoint(const Checkpoint& c);
// Parses a note text (already opened) as a checkpoint. InvalidArgument
// naming the line at fault.
Result<Checkpoint> ParseCheckpoint(std::string_view text);

}  // namespace tacet::note
