// Ed25519 signatures (RFC 8032) and base64 (RFC 4648), from OpenSSL: what
// signed notes (note.h) are made of.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "tacet/core/status.h"

namespace tacet {

namespace ed25519 {

using Seed = std::array<uint8_t, 32>;  // the private key
using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

// A fresh private key from the system's CSPRNG.
Result<Seed> NewSeed();
PublicKey PublicKeyOf(const Seed& seed);
Signature Sign(const Seed& seed, std::string_view message);
bool Verify(const PublicKey& key, std::string_view message, const Signature& signature);

}  // namespace ed25519

// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);
// Only the canonical encoding of some bytes (padding, no whitespace, no
// stray bits): InvalidArgument otherwise.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace tacet
