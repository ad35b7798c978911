#include "tacet/core/note.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace tacet::note {
namespace {

constexpr uint8_t kAlgEd25519 = 1;
constexpr std::string_view kSignaturePrefix = "\xe2\x80\x94 ";  // U+2014 EM DASH, space
constexpr std::string_view kPrivatePrefix = "PRIVATE+KEY+";

uint32_t KeyId(std::string_view name, const ed25519::PublicKey& key) {
  std::string input(name);
  input.push_back('\n');
  input.push_back(static_cast<char>(kAlgEd25519));
  input.append(reinterpret_cast<const char*>(key.data()), key.size());
  const Hash256 h = Sha256(input);
  return uint32_t{h[0]} << 24 | uint32_t{h[1]} << 16 | uint32_t{h[2]} << 8 | h[3];
}

std::string Hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Well-formed UTF-8 without control characters other than '\n'.
bool ValidText(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
      ++i;
      continue;
    }
    const size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                       : c >= 0xe0 && c <= 0xef ? 3
                       : c >= 0xf0 && c <= 0xf4 ? 4
                                                : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t j = 1; j < len; ++j)
      if ((static_cast<unsigned char>(s[i + j]) & 0xc0) != 0x80) return false;
    i += len;
  }
  return true;
}

// "<name>+<id hex>+<base64 key>" split into its parts.
struct KeyText {
  std::string name;
  uint32_t id = 0;
  std::string key;  // decoded: algorithm byte ‖ 32 bytes
};
Result<KeyText> ParseKeyText(std::string_view text, const char* what) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("not a " + std::string(what) + " (" + why + ")");
  };
  // The name holds no '+'; the base64 key may.
  const size_t p1 = text.find('+');
  const size_t p2 = p1 == std::string_view::npos ? p1 : text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return bad("expected NAME+KEYID+KEY");
  KeyText k;
  k.name = std::string(text.substr(0, p1));
  TACET_RETURN_IF_ERROR(CheckKeyName(k.name));
  std::string_view id = text.substr(p1 + 1, p2 - p1 - 1);
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), k.id, 16);
  if (id.size() != 8 || ec != std::errc() || end != id.data() + id.size())
    return bad("the key id '" + std::string(id) + "' is not 8 hex digits");
  auto key = Base64Decode(text.substr(p2 + 1));
  if (!key.ok()) return bad("the key is " + key.status().message());
  if (key->size() != 33 || static_cast<uint8_t>((*key)[0]) != kAlgEd25519)
    return bad("not an Ed25519 key: " + std::to_string(key->size()) + " bytes");
  k.key = std::move(key).value();
  return k;
}

}  // namespace

Status CheckKeyName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("a key name cannot be empty");
  for (unsigned char c : name)
    if (c == '+' || c <= ' ' || c == 0x7f)
      return Status::InvalidArgument("key name '" + std::string(name) +
                                     "' holds a '+', a space or a control character");
  if (!ValidText(name))
    return Status::InvalidArgument("key name '" + std::string(name) + "' is not UTF-8");
  return Status::Ok();
}

Result<Verifier> Verifier::Parse(std::string_view vkey) {
  TACET_ASSIGN_OR_RETURN(KeyText k, ParseKeyText(Trim(vkey), "verifier key"));
  Verifier v;
  v.name_ = std::move(k.name);
  std::memcpy(v.key_.data(), k.key.data() + 1, v.key_.size());
  v.key_id_ = KeyId(v.name_, v.key_);
  if (v.key_id_ != k.id)
    return Status::InvalidArgument("verifier key of '" + v.name_ + "': key id " + Hex8(k.id) +
                                   " does not match its key (" + Hex8(v.key_id_) + ")");
  return v;
}

std::string Verifier::Encode() const {
  std::string key(1, static_cast<char>(kAlgEd25519));
  key.append(reinterpret_cast<const char*>(key_.data()), key_.size());
  return name_ + "+" + Hex8(key_id_) + "+" + Base64Encode(key);
}

std::string_view UnverifiedText(std::string_view note) {
  const size_t split = note.rfind("\n\n");
  return split == std::string_view::npos ? std::string_view() : note.substr(0, split + 1);
}

Result<std::string> Verifier::Open(std::string_view note) const {
  auto bad = [](const std::string& why) {
    return Status::InvalidArgument("not a signed note: " + why);
  };
  std::string_view text = UnverifiedText(note);
  if (text.empty()) return bad("no blank line before the signatures");
  std::string_view sigs = note.substr(text.size() + 1);
  if (!ValidText(note)) return bad("it holds control characters or is not UTF-8");
  if (sigs.empty() || sigs.back() != '\n') return bad("the signature lines do not end a line");
  bool verified = false;
  while (!sigs.empty()) {
    const size_t eol = sigs.find('\n');
    std::string_view line = sigs.substr(0, eol);
    sigs.remove_prefix(eol + 1);
    if (line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix)
      return bad("signature line '" + std::string(line) + "' does not start with '— '");
    line.remove_prefix(kSignaturePrefix.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return bad("signature line without a signature");
    std::string_view name = line.substr(0, space);
    auto sig = Base64Decode(line.substr(space + 1));
    if (!CheckKeyName(name).ok() || !sig.ok() || sig->size() < 5)
      return bad("malformed signature line '" + std::string(line) + "'");
    const auto* b = reinterpret_cast<const unsigned char*>(sig->data());
    const uint32_t id = uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
    if (name != name_ || id != key_id_) continue;  // another key's
    ed25519::Signature s{};
    const bool sized = sig->size() == 4 + s.size();
    if (sized) std::memcpy(s.data(), sig->data() + 4, s.size());
    if (!sized || !ed25519::Verify(key_, text, s))
      return Status::InvalidArgument("the signature by '" + name_ + "' (key id " + Hex8(key_id_) +
                                     ") does not verify: the note was altered or not signed "
                                     "by this key");
    verified = true;
  }
  if (!verified)
    return Status::InvalidArgument("the note carries no signature by '" + name_ + "' (key id " +
                                   Hex8(key_id_) + ")");
  return std::string(text);
}

Result<Signer> Signer::Generate(std::string_view name) {
  TACET_RETURN_IF_ERROR(CheckKeyName(name));
  Signer s;
  TACET_ASSIGN_OR_RETURN(s.seed_, ed25519::NewSeed());
  s.verifier_.name_ = std::string(name);
  s.verifier_.key_ = ed25519::PublicKeyOf(s.seed_);
  s.verifier_.key_id_ = KeyId(name, s.verifier_.key_);
  return s;
}

Result<Signer> Signer::Parse(std::string_view skey) {
  skey = Trim(skey);
  if (skey.substr(0, kPrivatePrefix.size()) != kPrivatePrefix)
    return Status::InvalidArgument("not a signer key (it does not start with PRIVATE+KEY+)");
  TACET_ASSIGN_OR_RETURN(KeyText k, ParseKeyText(skey.substr(kPrivatePrefix.size()), "signer key"));
  Signer s;
  std::memcpy(s.seed_.data(), k.key.data() + 1, s.seed_.size());
  s.verifier_.name_ = std::move(k.name);
  s.verifier_.key_ = ed25519::PublicKeyOf(s.seed_);
  s.verifier_.key_id_ = KeyId(s.verifier_.name_, s.verifier_.key_);
  if (s.verifier_.key_id_ != k.id)
    return Status::InvalidArgument("signer key of '" + s.name() + "': key id " + Hex8(k.id) +
                                   " does not match its key");
  return s;
}

std::string Signer::Encode() const {
  std::string key(1, static_cast<char>(kAlgEd25519));
  key.append(reinterpret_cast<const char*>(seed_.data()), seed_.size());
  return std::string(kPrivatePrefix) + name() + "+" + Hex8(verifier_.key_id()) + "+" +
         Base64Encode(key);
}

Result<std::string> Signer::Sign(std::string_view text) const {
  if (text.empty() || text.back() != '\n' || text.find("\n\n") != std::string_view::npos ||
      text.front() == '\n' || !ValidText(text))
    return Status::InvalidArgument(
        "a note's text must end with a newline and hold no blank line and no control character");
  const ed25519::Signature sig = ed25519::Sign(seed_, text);
  const uint32_t id = verifier_.key_id();
  std::string blob = {static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                      static_cast<char>(id >> 8), static_cast<char>(id)};
  blob.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  std::string note(text);
  note.push_back('\n');
  note.append(kSignaturePrefix);
  note.append(name());
  note.push_back(' ');
  note.append(Base64Encode(blob));
  note.push_back('\n');
  return note;
}

std::string FormatCheckpoint(const Checkpoint& c) {
  std::string text =
      c.origin + "\n" + std::to_string(c.size) + "\n" + Base64Encode(AsBytes(c.root)) + "\n";
  for (const auto& e : c.extensions) text += e + "\n";
  return text;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  auto bad = [](int line, const std::string& why) {
    return Status::InvalidArgument("not a checkpoint: line " + std::to_string(line) + ": " + why);
  };
  if (text.empty() || text.back() != '\n') return bad(1, "the text does not end with a newline");
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    const size_t eol = text.find('\n', pos);
    lines.push_back(text.substr(pos, eol - pos));
    pos = eol + 1;
  }
  if (lines.size() < 3) return bad(static_cast<int>(lines.size()) + 1, "missing");
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) return bad(1, "the origin is empty");
  std::string_view size = lines[1];
  auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), c.size);
  if (size.empty() || ec != std::errc() || end != size.data() + size.size() ||
      (size.size() > 1 && size[0] == '0'))
    return bad(2, "the tree size '" + std::string(size) + "' is not a decimal number");
  auto root = HashFromBase64(lines[2]);
  if (!root.ok())
    return bad(3, "the root hash '" + std::string(lines[2]) + "' is not 32 bytes of base64");
  c.root = *root;
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return bad(static_cast<int>(i) + 1, "empty extension line");
    c.extensions.emplace_back(lines[i]);
  }
  return c;
}

}  // namespace tacet::note
