// The projections' records: folds of the event log kept in RocksDB column
// families, updated in the same batch as the events they fold, rebuildable
// from the log. Key and value layouts: projections/FORMAT.md.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tacet/core/event.h"
#include "tacet/core/event_log.h"
#include "tacet/core/status.h"

namespace tacet {

inline constexpr const char* kRegistryFamily = "p_registry";
inline constexpr const char* kSessionsFamily = "p_sessions";
// Members of registered lists (issue 18): ListMemberKey -> the list_member
// event's seq (u64 BE).
inline constexpr const char* kListFamily = "p_list";

// One registry result about one number.
struct RegistryEntry {
  RegistryOutcome outcome = RegistryOutcome::kListed;
  Day received_day = 0;
  TimeMs effective_from = 0;
  TimeMs valid_until = 0;  // kCleared only
  uint64_t seq = 0;        // the RegistryResult event
  uint64_t session_id = 0;
  TimeMs recorded_at = 0;  // when the event was recorded (0 in version-1 records)
};

// Every registry result about one number for one registry, ordered by
// (effective_from, seq): the answer at time T is decided by the last entry
// effective at T, found in memory after one point lookup.
struct RegistryState {
  std::vector<RegistryEntry> entries;
  // The entry in force at `at` among those recorded by `known_at`, or null
  // when the number was never checked by then.
  const RegistryEntry* At(TimeMs at, TimeMs known_at = INT64_MAX) const;
};

struct ReturnInfo {
  uint64_t seq = 0;  // the ReturnImported event
  TimeMs imported_at = 0;
  Day received_day = 0;
  std::string file_name;
  Hash256 file_sha256{};
  uint64_t cleared = 0;
  uint64_t listed = 0;
};

struct SessionRecord {
  uint64_t id = 0;
  std::string registry;
  std::string file_name;
  Hash256 file_sha256{};
  std::string zip_name;
  uint64_t number_count = 0;
  uint64_t opened_seq = 0;
  TimeMs opened_at = 0;
  std::vector<ReturnInfo> returns;  // the last one is in force
};

// Keys and codecs of the projection families.
// Format 3: every subject in a key is its SubjectId (32 bytes).
std::string RegistryKey(std::string_view registry, const SubjectId& subject);
void AppendRegistryKey(std::string& out, std::string_view registry, const SubjectId& subject);
std::string SubjectKey(const SubjectId& subject);
std::string EncodeRegistryState(const RegistryState& s);
// The same record of `entries` (in effective order), appended to `out`.
void AppendRegistryState(std::string& out, std::span<const RegistryEntry> entries);
Result<RegistryState> DecodeRegistryState(std::string_view bytes);

std::string SessionKey(uint64_t id);
std::string SessionMembersPrefix(uint64_t id);
std::string SessionMemberKey(uint64_t id, const SubjectId& subject);
// A return file per session: the same bytes may answer two sessions (two
// empty returns), never the same one twice.
std::string ReturnFileKey(uint64_t session_id, const Hash256& sha);
inline constexpr const char* kNextSessionKey = "next_session";
std::string EncodeSession(const SessionRecord& s);
Result<SessionRecord> DecodeSession(std::string_view bytes);

std::string ListMemberKey(uint64_t list_id, const SubjectId& subject);  // u64 BE ‖ SubjectId

// The projection families, as the log must open them.
std::vector<std::string> ProjectionFamilies();
// Those of them read only by range scans: never held in a reader's mirror.
std::vector<std::string> ScannedFamilies();

// Folds one event into the projections, inside the batch that holds it. The
// single fold used by appends and (later) rebuilds.
class Projector {
 public:
  explicit Projector(const EventLog& log);
  Status Apply(const Event& e, const Payload& p, AppendBatch& batch) const;
  // Apply of a registry_result whose record the caller read itself
  // (`prior`: its bytes, nullopt when absent). `unread`: no later event of
  // the batch reads that record (an import writes each number's once).
  Status ApplyRegistryResult(const Event& e, const RegistryResult& rr,
                             std::optional<std::string_view> prior, AppendBatch& batch,
                             bool unread = false) const;
  // The projection record Apply reads before it writes, if any (family -1:
  // none): what a bulk fold prefetches.
  struct ReadKey {
    int family = -1;
    std::string key;
  };
  ReadKey KeyRead(const Payload& p) const;
  // Folds a run of events in order, after loading every record they read
  // with batched, sorted MultiGets (rebuild and replay).
  Status ApplyRun(const std::vector<Event>& events, const std::vector<Payload>& payloads,
                  AppendBatch& batch) const;
  int registry_family() const { return registry_; }
  int sessions_family() const { return sessions_; }
  int subject_family() const { return subject_; }
  int policy_family() const { return policy_; }
  int attempts_family() const { return attempts_; }
  int audit_family() const { return audit_; }
  int person_family() const { return person_; }
  int list_family() const { return lists_; }

 private:
  // The fold of p_sessions: a session opened, a member, a return.
  Status FoldSessions(const Event& e, const Payload& p, AppendBatch& batch) const;
  // The fold of p_attempts, and of a wrong number into p_subject.
  Status FoldAttempt(const Event& e, const ContactAttempted& a, AppendBatch& batch) const;
  // A reassignment (subject_reassigned, or a wrong number) into p_subject,
  // ending the subject's link to a person on both records.
  Status FoldReassignment(const Event& e, const SubjectId& subject, TimeMs effective_from,
                          AppendBatch& batch) const;
  // The fold of p_person, and of a link into p_subject.
  Status FoldPersons(const Event& e, const Payload& p, AppendBatch& batch) const;

  int registry_;
  int sessions_;
  int subject_;
  int policy_;
  int attempts_;
  int audit_;
  int person_;
  int lists_;
};

}  // namespace tacet
