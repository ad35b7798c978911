// Per-subject state (family p_subject) and the policy history (family
// p_policy): the folds behind a decision on any channel. Layouts:
// projections/FORMAT.md.
//
// Every entry keeps the seq and recorded time of the event behind it, so one
// record answers both "at T" (what was in force at T) and "as known at K"
// (only what had been recorded by K).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tacet/core/event.h"
#include "tacet/core/status.h"
#include "tacet/projections/calling_hours.h"
#include "tacet/projections/registry.h"

namespace tacet {

inline constexpr const char* kSubjectFamily = "p_subject";
inline constexpr const char* kPolicyFamily = "p_policy";

struct ConsentEntry {
  std::string type_code;
  Day given_day = 0;
  TimeMs effective_from = 0;
  TimeMs expires_at = 0;  // exclusive; 0: never
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
};

struct RevocationEntry {
  std::string type_code;
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
};

struct BlockEntry {
  ChannelMask channels = 0;
  std::string source;
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
};

// Lifts the blocks listed in `lifted` on `channels`.
struct UnblockEntry {
  ChannelMask channels = 0;
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
  std::vector<uint64_t> lifted;  // seqs of blocked events, ascending
};

struct JustificationEntry {
  Channel channel = Channel::kVoice;
  std::string reason_code;
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
  TimeMs valid_until = 0;  // exclusive
};

// Everything recorded about one subject outside the registries, in seq order.
struct SubjectState {
  std::vector<ConsentEntry> consents;
  std::vector<RevocationEntry> revocations;
  std::vector<BlockEntry> blocks;
  std::vector<UnblockEntry> unblocks;
  std::vector<JustificationEntry> justifications;
  // The erasure of the subject's personal data (0: none): it stays
  // suppressed on every channel from then on.
  uint64_t erased_seq = 0;
  TimeMs erased_at = 0;
  // Attempts whose outcome said the number is no longer the person's
  // (wrong_number), and subject_reassigned events: consents recorded
  // before one stop counting for moments from its effective_from, as
  // known from its recording (a wrong number: both its recorded time).
  struct Reassignment {
    uint64_t seq = 0;
    TimeMs recorded_at = 0;
    TimeMs effective_from = 0;
  };
  std::vector<Reassignment> reassignments;
  // The subject's links to persons (person_linked, person_unlinked), in
  // seq order: at cut-off K its person is the one of the last link
  // recorded by K, unless that was an unlink.
  struct Link {
    uint64_t seq = 0;
    TimeMs recorded_at = 0;
    PersonId person{};
    bool linked = true;
  };
  std::vector<Link> links;
  // Its person as known at `known_at` (nullptr: none), and the link event.
  const Link* PersonAt(TimeMs known_at) const;
};

std::string EncodeSubjectState(const SubjectState& s);
Result<SubjectState> DecodeSubjectState(std::string_view bytes);

// One version of a policy item, as recorded.
template <class T>
struct Versioned {
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
  T value;
};

// The whole policy history, small enough to keep in memory.
// A registry's version: its definition (registry->definition()) and layout.
using RegistryVersion = Versioned<std::shared_ptr<const Registry>>;
using CallingHoursVersion = Versioned<std::shared_ptr<const CallingHours>>;

struct PolicyHistory {
  std::map<std::string, std::vector<Versioned<ConsentTypeDefined>>> consent_types;
  std::map<std::string, std::vector<Versioned<ReasonDefined>>> reasons;
  std::vector<Versioned<ChannelPolicySet>> channel_policy;
  std::map<std::string, std::vector<RegistryVersion>> registries;
  std::map<std::string, std::vector<Versioned<OutcomeDefined>>> outcomes;
  std::map<std::string, std::vector<CallingHoursVersion>> calling_hours;
  std::map<std::string, std::vector<Versioned<FrequencyCapDefined>>> caps;
  // Issue 18: caller ids by PolicyCallerKey (number, campaign), campaigns
  // by code, and registered lists by id (each recorded once).
  std::map<std::string, std::vector<Versioned<CallerRegistered>>> callers;
  std::map<std::string, std::vector<Versioned<CampaignDefined>>> campaigns;
  std::map<uint64_t, Versioned<ListRegistered>> lists;
};

// The policy in force at a cut-off time: for each item its last version
// recorded at or before `cut`; retired items are left out.
struct PolicyView {
  std::map<std::string, Versioned<ConsentTypeDefined>> consent_types;
  std::map<std::string, Versioned<ReasonDefined>> reasons;
  Versioned<ChannelPolicySet> channel_policy;  // seq 0: the built-in default
  // Registries by name; a ledger that defined none has the built-in it-rpo
  // (seq 0, ItRpoDefinition).
  std::map<std::string, RegistryVersion> registries;

  // The round-trip registry whose answers govern `channel` to `s` (the
  // first by name that covers it), or null.
  const RoundTripRegistry* RoundTripCovering(const Subject& s, Channel channel) const;

  // Outcome codes of contact attempts; a ledger that recorded none has the
  // shipped ones (seq 0, DefaultOutcomes).
  std::map<std::string, Versioned<OutcomeDefined>> outcomes;
  // Calling hours and frequency caps in force (none unless recorded).
  std::map<std::string, CallingHoursVersion> calling_hours;
  std::map<std::string, Versioned<FrequencyCapDefined>> caps;
  // The calling hours that govern `channel` to numbers of `region` (the
  // first by name), or null.
  const CallingHoursVersion* HoursCovering(std::string_view region, Channel channel) const;
  // Whether a cap covers `channel` to numbers of `region` (any campaign):
  // then a decision reads the subject's attempts.
  bool AnyCapCovers(std::string_view region, Channel channel) const;
  // The same for caps that count per person (issue 18).
  bool AnyPersonCapReaches(std::string_view region, Channel channel) const;
  // The longest window or cool-down of those caps, in ms.
  TimeMs LongestCapReach(std::string_view region, Channel channel) const;

  // Issue 18. Caller ids in force (by PolicyCallerKey), campaigns in force
  // (by code) and the lists registered by the cut (by id).
  std::map<std::string, Versioned<CallerRegistered>> callers;
  std::map<std::string, Versioned<CampaignDefined>> campaigns;
  std::map<uint64_t, Versioned<ListRegistered>> lists;
  // The campaign in force of that code, or null.
  const CampaignDefined* Campaign(std::string_view code) const;
  // The ids of the lists registered for `campaign`, ascending.
  std::vector<uint64_t> ListsOf(std::string_view campaign) const;
};

// The shipped outcome codes: answered, no_answer, busy, voicemail, refused
// (a refusal), do_not_call (a refusal that blocks voice and SMS),
// wrong_number, sale.
std::vector<OutcomeDefined> DefaultOutcomes();
// Whether a cap covers a channel, a region and a campaign (empty: the
// decision names none, and only caps for every campaign apply).
bool CapCovers(const FrequencyCapDefined& cap, std::string_view region, Channel channel,
               std::string_view campaign);

// Before any channel policy is recorded: SMS, e-mail and newsletter need a
// consent (opt-in), voice does not (Italy's opt-out regime, the RPO), and a
// justification covers one contact within 30 minutes.
ChannelPolicySet DefaultChannelPolicy();
// A consent type first defined after `cut` but recorded by `known_at` is
// included in its first version: a consent given before the ledger learnt
// of its type still counts, with the uses the type was defined with. So is
// a registry; before any registry was recorded, the built-in it-rpo is.
PolicyView PolicyAt(const PolicyHistory& h, TimeMs cut, TimeMs known_at);
inline PolicyView PolicyAt(const PolicyHistory& h, TimeMs cut) { return PolicyAt(h, cut, cut); }

// p_policy keys: "t" + code, "r" + code, "c", "g" + registry name, and the
// three below; values: versions, each
// seq ‖ recorded_at ‖ payload type ‖ version ‖ canonical payload bytes.
std::string PolicyTypeKey(std::string_view code);
std::string PolicyReasonKey(std::string_view code);
std::string PolicyRegistryKey(std::string_view name);
std::string PolicyOutcomeKey(std::string_view code);       // "o" + code
std::string PolicyCallingHoursKey(std::string_view name);  // "h" + name
std::string PolicyCapKey(std::string_view name);           // "f" + name
std::string PolicyCallerKey(std::string_view number,
                            std::string_view campaign);  // "n" + number + NUL + campaign
std::string PolicyCampaignKey(std::string_view code);    // "m" + code
std::string PolicyListKey(uint64_t list_id);             // "l" + u64 BE
inline constexpr const char* kPolicyChannelKey = "c";
std::string AppendPolicyVersion(std::string_view existing, uint64_t seq, TimeMs recorded_at,
                                const Payload& p);
// Adds one p_policy record (key, value) to `h`.
Status LoadPolicyRecord(std::string_view key, std::string_view value, PolicyHistory* h);

}  // namespace tacet
