// p_attempts keys and values (attempts.h).
#include "tacet/projections/attempts.h"

#include "../../internal/bytes.h"
#include "tacet/core/codec.h"

namespace tacet {

using internal::ByteReader;
using internal::ByteWriter;

namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

uint64_t Biased(TimeMs t) { return static_cast<uint64_t>(t) ^ kSignBit; }

}  // namespace

std::string AttemptKey(const SubjectId& subject, TimeMs started_at, uint64_t seq) {
  std::string key;
  key.reserve(48);
  ByteWriter(key).Raw(AsBytes(subject)).U64(Biased(started_at)).U64(seq);
  return key;
}

std::string AttemptRangeStart(const SubjectId& subject, TimeMs from) {
  std::string key;
  SetAttemptRangeStart(key, subject, from);
  return key;
}

void SetAttemptRangeStart(std::string& key, const SubjectId& subject, TimeMs from) {
  key.clear();
  key.reserve(40);
  ByteWriter(key).Raw(AsBytes(subject)).U64(Biased(from));
}

std::string EncodeAttempt(const AttemptEntry& a) {
  std::string out;
  ByteWriter(out)
      .U8(static_cast<uint8_t>(a.channel))
      .U8(a.effects)
      .I64(a.recorded_at)
      .Str(a.campaign);
  return out;
}

Result<AttemptEntry> DecodeAttempt(std::string_view key, std::string_view value) {
  if (key.size() != 48)
    return Status::Corruption("attempts projection: a key of " + std::to_string(key.size()) +
                              " bytes");
  ByteReader k(key.substr(32));
  AttemptEntry a;
  a.started_at = static_cast<TimeMs>(k.U64() ^ kSignBit);
  a.seq = k.U64();
  ByteReader r(value);
  a.channel = static_cast<Channel>(r.U8());
  a.effects = r.U8();
  a.recorded_at = r.I64();
  a.campaign = r.Str();
  if (r.failed() || !r.done()) return Status::Corruption("attempts projection: truncated record");
  return a;
}

std::string AuditKey(TimeMs started_at, uint64_t seq) {
  std::string key;
  key.reserve(16);
  ByteWriter(key).U64(Biased(started_at)).U64(seq);
  return key;
}

std::string AuditRangeStart(TimeMs from) {
  std::string key;
  key.reserve(8);
  ByteWriter(key).U64(Biased(from));
  return key;
}

std::string EncodeAuditRecord(const Event& e) {
  std::string out;
  out.reserve(10 + e.payload.size());
  ByteWriter(out).I64(e.recorded_at).U16(e.version).Raw(e.payload);
  return out;
}

Result<AuditRecord> DecodeAuditRecord(std::string_view key, std::string_view value) {
  if (key.size() != 16 || value.size() < 10)
    return Status::Corruption("audit projection: a record of " + std::to_string(key.size()) + "+" +
                              std::to_string(value.size()) + " bytes");
  ByteReader k(key);
  (void)k.U64();
  AuditRecord rec;
  rec.seq = k.U64();
  ByteReader r(value.substr(0, 10));
  rec.recorded_at = r.I64();
  const uint16_t version = r.U16();
  TACET_ASSIGN_OR_RETURN(Payload p,
                         DecodePayload(PayloadType::kContactAttempted, version, value.substr(10)));
  auto* a = std::get_if<ContactAttempted>(&p);
  if (a == nullptr) return Status::Corruption("audit projection: not a contact attempt");
  rec.attempt = std::move(*a);
  return rec;
}

}  // namespace tacet
