// The canonical encoding of payloads and events (core/FORMAT.md).
// Encoding is deterministic: the same value always gives the same bytes, and
// decoding accepts only bytes that re-encode to themselves (no trailing data).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "tacet/core/event.h"
#include "tacet/core/status.h"

namespace tacet {

inline constexpr uint8_t kEventFormatVersion = 1;

std::string EncodePayload(const Payload& payload);
// The same, appended to `out` (a caller encoding many reuses one buffer).
void AppendPayload(const Payload& payload, std::string& out);
// Refuses (Corruption) bytes that are not a canonical encoding of a known
// type and version, and enumerated values outside their documented sets.
Result<Payload> DecodePayload(PayloadType type, uint16_t version, std::string_view bytes);
// Calls fn(field, text) for each text of the payload (a string field, or
// each element of a list of strings); `field` is the field's 1-based place
// in core/FORMAT.md's list. Stops when fn returns false.
void ForEachText(const Payload& payload,
                 const std::function<bool(size_t field, std::string_view text)>& fn);

// The canonical body: everything but prev_hash and hash.
std::string EncodeEventBody(const Event& e);
// hash = SHA-256(prev_hash || body)
Hash256 ChainHash(const Hash256& prev_hash, std::string_view body);
// Stored value: body || prev_hash || hash.
std::string EncodeStoredEvent(const Event& e, std::string_view body);
// Decodes a body (prev_hash and hash left zero): the leaf of the Merkle tree.
Result<Event> DecodeEventBody(std::string_view body);
// Decodes a stored value; does not check the hash (see VerifyStoredEvent).
Result<Event> DecodeStoredEvent(std::string_view stored);
// Decodes and checks the event's own hash. Returns the event.
Result<Event> DecodeAndCheckEvent(std::string_view stored);

}  // namespace tacet
