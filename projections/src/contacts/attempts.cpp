// p_attempts keys and values (attempts.h).
#include "tacet/projections/attempts.h"

#include "../../internal/bytes.h"

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
  key.reserve(40);
  ByteWriter(key).Raw(AsBytes(subject)).U64(Biased(from));
  return key;
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

}  // namespace tacet
