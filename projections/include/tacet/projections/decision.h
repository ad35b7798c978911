// The decision on one channel for one subject at one moment: a pure function
// of the subject's records, its registry record and the policy in force. No
// I/O: the Ledger loads the two records (two point lookups) and calls it.
//
// Order (issue 3): an internal block denies; then the registry rules (voice
// and SMS, numbers in the registry's scope), where for a listed number only a
// consent given after the listing's received day lets the call through; then
// consent, where the channel requires one; without it voice, SMS and e-mail
// need a justification, the newsletter is denied.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tacet/projections/attempts.h"
#include "tacet/projections/person_state.h"
#include "tacet/projections/state.h"
#include "tacet/projections/subject_state.h"

namespace tacet {

enum class Verdict { kAllow, kDeny, kNeedsJustification };
const char* VerdictName(Verdict v);  // "allow", "deny", "needs_justification"
// A verdict as events store it (contact_attempted, check_recorded).
StoredVerdict StoredVerdictOf(Verdict v);
// And back: a stored verdict's name is VerdictName(VerdictOf(v)).
Verdict VerdictOf(StoredVerdict v);

struct DecisionReason {
  std::string code;            // "blocked", "registry_listed", "consent_valid", ...
  std::string detail;          // one human sentence
  std::vector<uint64_t> seqs;  // the events behind it
};

inline constexpr TimeMs kKnownNow = std::numeric_limits<TimeMs>::max();

// How much of its explanation a decision carries: reasons with their codes,
// seqs and sentences; the same without sentences (what check_batch
// answers); or the verdict alone (no reasons, no allowed_reasons).
enum class Explain { kFull, kCodes, kVerdict };

// A subject's membership of a registered list (issue 18): the list, and
// the list_member event that put it there.
struct ListMembership {
  uint64_t list_id = 0;
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
};

struct DecisionInput {
  Channel channel = Channel::kVoice;
  TimeMs at = 0;
  TimeMs known_at = kKnownNow;                    // only events recorded up to this count
  bool registry_applies = false;                  // voice or SMS, number in the registry's scope
  std::string_view registry;                      // its name, for the reasons
  const RegistryState* registry_state = nullptr;  // null: never checked
  const SubjectState* subject_state = nullptr;    // null: nothing recorded
  const PolicyView* policy = nullptr;             // required
  Explain explain = Explain::kFull;
  // Calling hours and frequency caps (issue 17): the number's CLDR region
  // (empty for an e-mail address), the campaign the contact is for (empty:
  // none named), and the subject's attempts that started within the
  // longest cap's reach of `at`, by start (null: none read, no cap covers).
  std::string_view region;
  std::string_view campaign;
  const std::vector<AttemptEntry>* attempts = nullptr;
  // Persons (issue 18), null when none was read (the subject has no link):
  // each person the subject was linked to by known_at, and each person
  // merged with one of them by then, transitively.
  const PersonRecords* persons = nullptr;
  // For caps counted per person: the attempts of every subject of the
  // subject's person at the cut (its own included), by start, within the
  // caps' reach; and the link and merge seqs that made that group. Null:
  // no such cap covers it, or it has no person.
  const std::vector<AttemptEntry>* person_attempts = nullptr;
  std::span<const uint64_t> person_evidence;
  // Provenance (issue 18): the subject's memberships of the lists of
  // `campaign` recorded by known_at, by list id (none read without a
  // campaign).
  std::span<const ListMembership> lists;
};

struct Decision {
  Verdict verdict = Verdict::kDeny;
  std::vector<DecisionReason> reasons;
  std::vector<uint64_t> evidence;  // every seq used, ascending
  // When the verdict next changes by the passing of time alone (what a
  // caller may cache it for); 0: never. The evidence may change earlier,
  // e.g. a new clearance taking over from an old one.
  TimeMs valid_until = 0;
  std::vector<std::string> allowed_reasons;  // needs_justification: the reason codes
};

// The default pipeline (rules.h): Block, the registry, Consent,
// Justification.
Decision Evaluate(const DecisionInput& in);

// The seqs of the blocks in force on `channel` among those recorded by
// `cut`: blocks that no unblock recorded by `cut` lifted on that channel
// (an unblock lifts the blocks it lists, by seq).
std::vector<uint64_t> ActiveBlocks(const SubjectState& s, Channel channel, TimeMs cut);
// The same over any record's blocks and unblocks (a person's).
std::vector<uint64_t> ActiveBlocks(std::span<const BlockEntry> blocks,
                                   std::span<const UnblockEntry> unblocks, Channel channel,
                                   TimeMs cut);

}  // namespace tacet
