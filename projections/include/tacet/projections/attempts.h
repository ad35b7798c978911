// Contact attempts (issue 17): the family p_attempts, one record per attempt,
// keyed so that a subject's attempts sort by their start. A frequency cap
// reads one bounded range of it: the subject's attempts that started within
// the cap's longest window before the decision's moment. Layout:
// projections/FORMAT.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tacet/core/channel.h"
#include "tacet/core/clock.h"
#include "tacet/core/event.h"
#include "tacet/core/status.h"
#include "tacet/core/subject_id.h"

namespace tacet {

inline constexpr const char* kAttemptsFamily = "p_attempts";
// The same attempts by start alone, each with its whole event: the audit of
// a period reads one range of it, in order, and no event by seq.
inline constexpr const char* kAuditFamily = "p_audit";

// One attempt as the decision counts it.
struct AttemptEntry {
  TimeMs started_at = 0;
  uint64_t seq = 0;  // the contact_attempted event
  TimeMs recorded_at = 0;
  Channel channel = Channel::kVoice;
  uint8_t effects = 0;  // OutcomeEffect bits, as defined when recorded
  std::string campaign;
};

// SubjectId (32 bytes) ‖ started_at (8 bytes, big-endian, sign bit flipped,
// so earlier instants sort first) ‖ seq (8 bytes, big-endian).
std::string AttemptKey(const SubjectId& subject, TimeMs started_at, uint64_t seq);
// The first key of the subject's attempts that started at or after `from`.
std::string AttemptRangeStart(const SubjectId& subject, TimeMs from);
// The same written into `key` (its capacity reused: a decision's range).
void SetAttemptRangeStart(std::string& key, const SubjectId& subject, TimeMs from);
// channel u8 ‖ effects u8 ‖ recorded_at i64 ‖ campaign (u32 length ‖ bytes).
std::string EncodeAttempt(const AttemptEntry& a);
// The entry of a stored (key, value).
Result<AttemptEntry> DecodeAttempt(std::string_view key, std::string_view value);

// started_at (8 bytes, big-endian, sign bit flipped) ‖ seq (8 bytes, big-endian).
std::string AuditKey(TimeMs started_at, uint64_t seq);
// The first key of the attempts that started at or after `from`.
std::string AuditRangeStart(TimeMs from);
// recorded_at i64 ‖ payload version u16 ‖ the event's canonical payload bytes.
std::string EncodeAuditRecord(const Event& e);
// An attempt as the audit reads it back.
struct AuditRecord {
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
  ContactAttempted attempt;
};
Result<AuditRecord> DecodeAuditRecord(std::string_view key, std::string_view value);

}  // namespace tacet
