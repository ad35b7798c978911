// Events: the facts the ledger records, and their envelope.
//
// Every event has a dense sequence number from 1, the UTC time it was
// recorded, the actor that recorded it, a typed and versioned payload, and its
// place in the hash chain: hash = SHA-256(prev_hash || canonical body). The
// canonical encoding is in codec.h and documented in core/FORMAT.md.
//
// Payload structs are plain data with a serialize() template; the codec is
// the only file that instantiates them with cereal.
//
// Format 3: a subject is named by its SubjectId (subject_id.h), never in
// clear, and what identifies a person (the subject's text, evidence, free
// text) travels in `sealed`: AES-256-GCM under the subject's data key
// (personal.h), so destroying the key erases it while the chain, which
// hashes the ciphertext, still verifies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tacet/core/channel.h"
#include "tacet/core/clock.h"
#include "tacet/core/hash.h"
#include "tacet/core/subject_id.h"
#include "tacet/core/time.h"

namespace tacet {

struct Actor {
  std::string os_user;      // the OS account that ran the command
  std::string operator_id;  // optional: the call-centre operator
  std::string tool;         // "tacet export", "tacetd", ...

  template <class A>
  void serialize(A& a) {
    a(os_user, operator_id, tool);
  }
};

// Sealed personal fields (personal.h): bytes, not text; encoded as a string.
struct Sealed {
  std::string bytes;

  template <class A>
  void serialize(A& a) {
    a(bytes);
  }
};

// Payload type ids are stored; never renumber or reuse one.
enum class PayloadType : uint16_t {
  kExportSessionOpened = 1,
  kSessionNumber = 2,
  kReturnImported = 3,
  kRegistryResult = 4,
  kConsentTypeDefined = 5,
  kReasonDefined = 6,
  kChannelPolicySet = 7,
  kConsentGranted = 8,
  kConsentRevoked = 9,
  kBlocked = 10,
  kUnblocked = 11,
  kJustified = 12,
  kErased = 13,
  kRegistryDefined = 14,
  kOutcomeDefined = 15,
  kCallingHoursDefined = 16,
  kFrequencyCapDefined = 17,
  kContactAttempted = 18,
  kCheckRecorded = 19,
  kPersonLinked = 20,
  kPersonUnlinked = 21,
  kPersonsMerged = 22,
  kPersonsSplit = 23,
  kPersonBlocked = 24,
  kPersonUnblocked = 25,
  kCallerRegistered = 26,
  kCampaignDefined = 27,
  kListRegistered = 28,
  kListMember = 29,
  kSubjectReassigned = 30,
};

const char* PayloadTypeName(PayloadType t);

// An export session was written: the upload file for a registry, waiting for
// its return. Followed in the same batch by one SessionNumber per number.
struct ExportSessionOpened {
  static constexpr PayloadType kType = PayloadType::kExportSessionOpened;
  static constexpr const char* kName = "export_session_opened";
  static constexpr uint16_t kVersion = 1;
  uint64_t session_id = 0;  // 1, 2, 3 ... per ledger
  std::string registry;     // "it-rpo"
  std::string file_name;    // "crm20260831101500.txt"
  Hash256 file_sha256{};
  std::string zip_name;
  Hash256 zip_sha256{};
  uint64_t number_count = 0;
  uint32_t fresh_days = 0;  // the --fresh-days in force
  uint64_t limit = 0;       // the --limit in force; 0 = none
  uint32_t part = 1;        // this file's place among the files of one export run
  uint32_t parts = 1;

  template <class A>
  void serialize(A& a) {
    a(session_id, registry, file_name, file_sha256, zip_name, zip_sha256, number_count, fresh_days,
      limit, part, parts);
  }
};

// One number of an export session. Its line of the upload file is the
// number's national form, in the file whose SHA-256 the session records;
// the event itself holds no personal data.
struct SessionNumber {
  static constexpr PayloadType kType = PayloadType::kSessionNumber;
  static constexpr const char* kName = "session_number";
  static constexpr uint16_t kVersion = 1;
  uint64_t session_id = 0;
  std::string registry;
  SubjectId subject{};

  template <class A>
  void serialize(A& a) {
    a(session_id, registry, subject);
  }
};

enum class ReturnLayout : uint8_t { kFiltered = 1, kStatus = 2 };

// A registry's return for an export session was imported. Followed in the
// same batch by one RegistryResult per number of the session.
struct ReturnImported {
  static constexpr PayloadType kType = PayloadType::kReturnImported;
  static constexpr const char* kName = "return_imported";
  static constexpr uint16_t kVersion = 1;
  uint64_t session_id = 0;
  std::string registry;
  std::string file_name;
  Hash256 file_sha256{};  // of the .txt content, whether it came alone or zipped
  Day received_day = 0;
  ReturnLayout layout = ReturnLayout::kFiltered;
  uint64_t cleared = 0;
  uint64_t listed = 0;
  uint32_t validity_days = 0;  // the registry window in force
  bool supersedes = false;     // replaces an earlier return of the session

  template <class A>
  void serialize(A& a) {
    a(session_id, registry, file_name, file_sha256, received_day, layout, cleared, listed,
      validity_days, supersedes);
  }
};

enum class RegistryOutcome : uint8_t { kCleared = 1, kListed = 2 };

// What a registry said about one number. Effective from the start of the
// received day; a clearance ends at valid_until (exclusive).
struct RegistryResult {
  static constexpr PayloadType kType = PayloadType::kRegistryResult;
  static constexpr const char* kName = "registry_result";
  static constexpr uint16_t kVersion = 1;
  uint64_t session_id = 0;
  std::string registry;
  SubjectId subject{};
  RegistryOutcome outcome = RegistryOutcome::kListed;
  Day received_day = 0;
  TimeMs effective_from = 0;
  TimeMs valid_until = 0;  // kCleared only; 0 for kListed

  template <class A>
  void serialize(A& a) {
    a(session_id, registry, subject, outcome, received_day, effective_from, valid_until);
  }
};

// Policy events: a consent type defined or changed (same code, a later event
// replaces it from its recorded time on); `retired` withdraws it.
struct ConsentTypeDefined {
  static constexpr PayloadType kType = PayloadType::kConsentTypeDefined;
  static constexpr const char* kName = "consent_type_defined";
  static constexpr uint16_t kVersion = 1;
  std::string code;
  std::string title;
  std::string description;
  uint32_t validity_days = 0;  // 0: never expires
  uint8_t uses = 0;            // ConsentUse bits
  bool retired = false;

  template <class A>
  void serialize(A& a) {
    a(code, title, description, validity_days, uses, retired);
  }
};

// A reason for contacting without consent ("motivazione") defined, changed or
// retired.
struct ReasonDefined {
  static constexpr PayloadType kType = PayloadType::kReasonDefined;
  static constexpr const char* kName = "reason_defined";
  static constexpr uint16_t kVersion = 1;
  std::string code;
  std::string title;
  bool retired = false;

  template <class A>
  void serialize(A& a) {
    a(code, title, retired);
  }
};

// Which channels require a consent, and how long a justification lasts.
struct ChannelPolicySet {
  static constexpr PayloadType kType = PayloadType::kChannelPolicySet;
  static constexpr const char* kName = "channel_policy_set";
  static constexpr uint16_t kVersion = 1;
  ChannelMask consent_required = 0;  // the newsletter requires one whatever this says
  uint32_t justification_minutes = 0;

  template <class A>
  void serialize(A& a) {
    a(consent_required, justification_minutes);
  }
};

// A person gave a consent of a type on a day. The type's validity in force
// when it was recorded travels with it: the consent expires at the end of
// given_day + validity_days (in the ledger's zone), never if 0.
// Sealed: the subject and the evidence (capture channel, form or script
// version, recording id).
struct ConsentGranted {
  static constexpr PayloadType kType = PayloadType::kConsentGranted;
  static constexpr const char* kName = "consent_granted";
  static constexpr uint16_t kVersion = 1;
  SubjectId subject{};
  std::string type_code;
  Day given_day = 0;
  uint32_t validity_days = 0;
  TimeMs effective_from = 0;  // start of given_day
  TimeMs expires_at = 0;      // exclusive; 0: never
  Sealed sealed;

  template <class A>
  void serialize(A& a) {
    a(subject, type_code, given_day, validity_days, effective_from, expires_at, sealed);
  }
};

// Every consent of a type the subject gave is withdrawn from the recorded
// time on. Sealed: the subject and the reason.
struct ConsentRevoked {
  static constexpr PayloadType kType = PayloadType::kConsentRevoked;
  static constexpr const char* kName = "consent_revoked";
  static constexpr uint16_t kVersion = 1;
  SubjectId subject{};
  std::string type_code;
  Sealed sealed;

  template <class A>
  void serialize(A& a) {
    a(subject, type_code, sealed);
  }
};

// The subject is on the internal do-not-call list for these channels from
// the recorded time on, until an explicit Unblocked. Sealed: the subject
// and the reason.
struct Blocked {
  static constexpr PayloadType kType = PayloadType::kBlocked;
  static constexpr const char* kName = "blocked";
  static constexpr uint16_t kVersion = 1;
  SubjectId subject{};
  ChannelMask channels = kEveryChannel;
  std::string source;  // request, call_outcome, robinson, crm_classifier, objection
  Sealed sealed;

  template <class A>
  void serialize(A& a) {
    a(subject, channels, source, sealed);
  }
};

// An officer lifted some of the subject's blocks on these channels: those
// of the named sources (none named: every source), listed by seq. Version 1
// had neither list and lifted every earlier block on its channels; it is
// still decoded (upcast), with both lists empty. Sealed: the subject and the
// reason.
struct Unblocked {
  static constexpr PayloadType kType = PayloadType::kUnblocked;
  static constexpr const char* kName = "unblocked";
  static constexpr uint16_t kVersion = 2;
  SubjectId subject{};
  ChannelMask channels = kEveryChannel;
  std::vector<std::string> sources;  // empty: every source
  std::vector<uint64_t> lifted;      // the blocked events lifted, ascending
  std::string officer;
  Sealed sealed;

  template <class A>
  void serialize(A& a) {
    a(subject, channels, sources, lifted, officer, sealed);
  }
};

// An operator recorded why they contact the subject without consent; good
// for one contact on the channel until valid_until. Sealed: the subject.
struct Justified {
  static constexpr PayloadType kType = PayloadType::kJustified;
  static constexpr const char* kName = "justified";
  static constexpr uint16_t kVersion = 1;
  SubjectId subject{};
  Channel channel = Channel::kVoice;
  std::string reason_code;
  std::string operator_id;
  TimeMs valid_until = 0;  // exclusive
  Sealed sealed;

  template <class A>
  void serialize(A& a) {
    a(subject, channel, reason_code, operator_id, valid_until, sealed);
  }
};

// The subject's personal data was erased on request (GDPR art. 17): its
// data key is destroyed, so every sealed field about it stays ciphertext.
// The subject stays suppressed on every channel. Holds no personal data.
struct Erased {
  static constexpr PayloadType kType = PayloadType::kErased;
  static constexpr const char* kName = "erased";
  static constexpr uint16_t kVersion = 1;
  SubjectId subject{};
  std::string request;  // the erasure request's reference (a ticket id)
  std::string officer;

  template <class A>
  void serialize(A& a) {
    a(subject, request, officer);
  }
};

// How a registry learns of numbers. Stored; never renumber.
enum class RegistryKind : uint8_t {
  kRoundTrip = 1,       // a list is uploaded, a return says what it holds (Italy's RPO)
  kDownloadedList = 2,  // its list is downloaded, full or as changes (UK TPS, US DNC)
};

// Policy event: a registry defined or changed (same name, a later event
// replaces it from its recorded time on); `retired` withdraws it. What it
// covers, for how long its answers hold and in which calendar are facts of
// the log, so an answer as known at T uses the definition in force at T.
struct RegistryDefined {
  static constexpr PayloadType kType = PayloadType::kRegistryDefined;
  static constexpr const char* kName = "registry_defined";
  static constexpr uint16_t kVersion = 1;
  std::string name;  // what sessions and registry results name: "it-rpo"
  RegistryKind kind = RegistryKind::kRoundTrip;
  std::string layout;                // its files' layout ("it-rpo"; registry.h)
  std::vector<std::string> regions;  // numbers of these regions (ISO 3166) are in scope
  ChannelMask channels = 0;          // the channels its answers govern
  std::string time_zone;             // its days: windows, received days, file names
  uint32_t validity_days = 0;        // a clearance lasts through received day + this
  uint32_t overdue_days = 0;         // an unanswered session is overdue after this
  std::string file_prefix;           // upload files: <prefix>YYYYMMDDhhmmss.txt
  uint64_t max_lines = 0;            // numbers per upload file
  bool retired = false;

  bool operator==(const RegistryDefined&) const = default;

  template <class A>
  void serialize(A& a) {
    a(name, kind, layout, regions, channels, time_zone, validity_days, overdue_days, file_prefix,
      max_lines, retired);
  }
};

// What an outcome of a contact attempt means, beyond being recorded. Stored
// bits; never renumber.
enum OutcomeEffect : uint8_t {
  kOutcomeConnected = 1,    // the person was reached
  kOutcomeRefusal = 2,      // a refusal in the conversation: starts the cool-downs
  kOutcomeWrongNumber = 4,  // the number is no longer the person's
};
inline constexpr uint8_t kEveryOutcomeEffect =
    kOutcomeConnected | kOutcomeRefusal | kOutcomeWrongNumber;

// Policy event: an outcome code of contact attempts defined, changed or
// retired. `blocks`: the channels a block recorded with such an attempt
// covers (source call_outcome, in the attempt's batch); 0: none.
struct OutcomeDefined {
  static constexpr PayloadType kType = PayloadType::kOutcomeDefined;
  static constexpr const char* kName = "outcome_defined";
  static constexpr uint16_t kVersion = 1;
  std::string code;  // "answered", "do_not_call", ...
  std::string title;
  uint8_t effects = 0;  // OutcomeEffect bits
  ChannelMask blocks = 0;
  bool retired = false;

  bool operator==(const OutcomeDefined&) const = default;

  template <class A>
  void serialize(A& a) {
    a(code, title, effects, blocks, retired);
  }
};

// The kinds of day of a calling-hours calendar. Stored; never renumber.
enum class DayType : uint8_t {
  kWeekday = 1,  // Monday to Friday
  kSaturday = 2,
  kPreHoliday = 3,  // the day before a holiday (a weekday or Saturday)
  kSunday = 4,
  kHoliday = 5,
};

// One window of a day type: calls from `from_minute` (inclusive) to
// `to_minute` (exclusive), minutes after local midnight (0..1440).
struct CallingWindow {
  DayType day_type = DayType::kWeekday;
  uint16_t from_minute = 0;
  uint16_t to_minute = 0;

  bool operator==(const CallingWindow&) const = default;

  template <class A>
  void serialize(A& a) {
    a(day_type, from_minute, to_minute);
  }
};

// One holiday of a calendar, in the years from_year..until_year (0: no
// bound): a fixed date (month 1..12, day), or, with month 0, Easter Sunday
// (Gregorian) plus `easter_offset` days (1: Easter Monday, 39: Ascension,
// 50: Whit Monday).
struct HolidayRule {
  uint8_t month = 0;
  uint8_t day = 0;
  int16_t easter_offset = 0;
  uint16_t from_year = 0;
  uint16_t until_year = 0;

  bool operator==(const HolidayRule&) const = default;

  template <class A>
  void serialize(A& a) {
    a(month, day, easter_offset, from_year, until_year);
  }
};

// Policy event: the hours at which numbers of some regions may be called, in
// the called party's zone, by day type, with the holiday calendar that
// makes the day types (issue 17). A day type without a window has none.
struct CallingHoursDefined {
  static constexpr PayloadType kType = PayloadType::kCallingHoursDefined;
  static constexpr const char* kName = "calling_hours_defined";
  static constexpr uint16_t kVersion = 1;
  std::string name;                  // "it-code-of-conduct"
  std::vector<std::string> regions;  // CLDR regions of the called numbers
  ChannelMask channels = 0;          // the channels it governs (voice, SMS)
  std::string time_zone;             // the called party's zone
  std::vector<CallingWindow> windows;
  std::vector<HolidayRule> holidays;
  bool retired = false;

  bool operator==(const CallingHoursDefined&) const = default;

  template <class A>
  void serialize(A& a) {
    a(name, regions, channels, time_zone, windows, holidays, retired);
  }
};

// Policy event: a cap on the attempts to one subject in a rolling window,
// and a cool-down after a refusal, on some channels, for numbers of some
// regions (none listed: every subject) and attempts of some campaigns (none
// listed: every campaign). Attempts are counted, not connections.
// Whose attempts a cap counts. Stored; never renumber.
enum class CapScope : uint8_t {
  kSubject = 1,  // the number's or address's own
  kPerson = 2,   // every subject of its person at the decision (issue 18)
};

struct FrequencyCapDefined {
  static constexpr PayloadType kType = PayloadType::kFrequencyCapDefined;
  static constexpr const char* kName = "frequency_cap_defined";
  // Version 2 adds `per` (version 1 counted per subject).
  static constexpr uint16_t kVersion = 2;
  std::string name;  // "fr-d223-9"
  std::vector<std::string> regions;
  std::vector<std::string> campaigns;
  ChannelMask channels = 0;
  uint32_t max_attempts = 0;       // in any window; 0: no cap
  uint32_t window_hours = 0;       // the rolling window (720: 30 days)
  uint32_t cool_down_hours = 0;    // after an attempt with a refusal; 0: none
  bool waived_by_consent = false;  // a valid consent lifts both
  bool retired = false;
  CapScope per = CapScope::kSubject;

  bool operator==(const FrequencyCapDefined&) const = default;

  template <class A>
  void serialize(A& a) {
    a(name, regions, campaigns, channels, max_attempts, window_hours, cool_down_hours,
      waived_by_consent, retired, per);
  }
};

// The verdict of a decision as stored in an event. Stored; never renumber.
enum class StoredVerdict : uint8_t { kAllow = 1, kDeny = 2, kNeedsJustification = 3 };

// Flags of an attempt's audit. Stored bits; never renumber.
enum AttemptFlag : uint8_t {
  kAttemptNoPriorCheck = 1,  // no recorded check cited, or one recorded after the start
  // The caller id shown was not registered for the attempt's campaign at
  // its start (caller_registered), while some number was (version 2 on).
  kAttemptUnregisteredCaller = 2,
};
inline constexpr uint8_t kEveryAttemptFlag = kAttemptNoPriorCheck | kAttemptUnregisteredCaller;

// One contact attempt (issue 17), as the dialer or the CRM reports it, with
// its audit: the decision at its start as known when it was recorded.
// A non-compliant attempt is recorded all the same and flagged by its
// verdict. Sealed: the subject (what an audit shows as the number called);
// the caller id is the company's own number.
struct ContactAttempted {
  static constexpr PayloadType kType = PayloadType::kContactAttempted;
  static constexpr const char* kName = "contact_attempted";
  // Version 2: the same fields; `flags` may hold kAttemptUnregisteredCaller.
  static constexpr uint16_t kVersion = 2;
  SubjectId subject{};
  Channel channel = Channel::kVoice;
  TimeMs started_at = 0;  // the dialer's clock; not after the recording
  std::string outcome;    // an outcome code defined when recorded
  uint8_t effects = 0;    // its OutcomeEffect bits then
  std::string campaign;   // may be empty
  std::string caller_id;  // the calling number shown (the company's), may be empty
  std::string operator_id;
  uint32_t duration_s = 0;
  uint64_t decision_seq = 0;  // the recorded check acted on; 0: none cited
  StoredVerdict verdict = StoredVerdict::kDeny;
  std::vector<std::string> reasons;  // the decision's reason codes, in order
  std::vector<uint64_t> evidence;    // its evidence seqs, ascending
  uint8_t flags = 0;                 // AttemptFlag bits
  Sealed sealed;                     // empty for an erased subject

  template <class A>
  void serialize(A& a) {
    a(subject, channel, started_at, outcome, effects, campaign, caller_id, operator_id, duration_s,
      decision_seq, verdict, reasons, evidence, flags, sealed);
  }
};

// A check whose answer was asked to leave a trace (issue 17): the decision
// on a channel at the moment it was recorded, as then known. A dialer acts
// on it, and the attempt it makes cites its seq. No personal data.
struct CheckRecorded {
  static constexpr PayloadType kType = PayloadType::kCheckRecorded;
  static constexpr const char* kName = "check_recorded";
  static constexpr uint16_t kVersion = 1;
  SubjectId subject{};
  Channel channel = Channel::kVoice;
  std::string campaign;  // may be empty
  StoredVerdict verdict = StoredVerdict::kDeny;
  std::vector<std::string> reasons;  // reason codes, in order
  std::vector<uint64_t> evidence;    // ascending
  TimeMs valid_until = 0;            // 0: until something is recorded

  template <class A>
  void serialize(A& a) {
    a(subject, channel, campaign, verdict, reasons, evidence, valid_until);
  }
};

// A person of the CRM (its "anagrafica" record), by the keyed hash of the
// CRM's own id (PersonKeyer): the ledger keeps no other data about it.
using PersonId = Hash256;

// The subject belongs to the person from now on (to no other: a link to
// another person moves it). What is the person's covers it: person-level
// blocks and objections, caps counted per person. Sealed: the subject and
// the CRM's person id.
struct PersonLinked {
  static constexpr PayloadType kType = PayloadType::kPersonLinked;
  static constexpr const char* kName = "person_linked";
  static constexpr uint16_t kVersion = 1;
  SubjectId subject{};
  PersonId person{};
  Sealed sealed;

  template <class A>
  void serialize(A& a) {
    a(subject, person, sealed);
  }
};

// The subject no longer belongs to the person. Sealed as PersonLinked.
struct PersonUnlinked {
  static constexpr PayloadType kType = PayloadType::kPersonUnlinked;
  static constexpr const char* kName = "person_unlinked";
  static constexpr uint16_t kVersion = 1;
  SubjectId subject{};
  PersonId person{};
  Sealed sealed;

  template <class A>
  void serialize(A& a) {
    a(subject, person, sealed);
  }
};

// The CRM found two records of one person (seed 004's "deduplica"): from
// now on `from` and `into` are one, with both histories (links, blocks,
// attempts counted by person).
struct PersonsMerged {
  static constexpr PayloadType kType = PayloadType::kPersonsMerged;
  static constexpr const char* kName = "persons_merged";
  static constexpr uint16_t kVersion = 1;
  PersonId into{};
  PersonId from{};

  template <class A>
  void serialize(A& a) {
    a(into, from);
  }
};

// Undoes the merge of `from` into `into`: each is again what it was, with
// what was recorded about it since.
struct PersonsSplit {
  static constexpr PayloadType kType = PayloadType::kPersonsSplit;
  static constexpr const char* kName = "persons_split";
  static constexpr uint16_t kVersion = 1;
  PersonId into{};
  PersonId from{};

  template <class A>
  void serialize(A& a) {
    a(into, from);
  }
};

// A block of the person's own (an objection under GDPR art. 21 is the
// person's, not one number's): it covers every subject linked to the person,
// or to a person merged with it, at the moment of each decision, subjects
// linked later included. The CRM's person id and the reason are sealed under
// the person's own data key (its id is the PersonId; key_owner below).
struct PersonBlocked {
  static constexpr PayloadType kType = PayloadType::kPersonBlocked;
  static constexpr const char* kName = "person_blocked";
  static constexpr uint16_t kVersion = 1;
  PersonId person{};
  ChannelMask channels = kEveryChannel;
  std::string source;  // as Blocked's
  Sealed sealed;

  template <class A>
  void serialize(A& a) {
    a(person, channels, source, sealed);
  }
};

// Lifts person-level blocks, by seq, on `channels`. Sealed as PersonBlocked.
struct PersonUnblocked {
  static constexpr PayloadType kType = PayloadType::kPersonUnblocked;
  static constexpr const char* kName = "person_unblocked";
  static constexpr uint16_t kVersion = 1;
  PersonId person{};
  ChannelMask channels = kEveryChannel;
  std::vector<uint64_t> lifted;  // the person_blocked events lifted, ascending
  std::string officer;
  Sealed sealed;

  template <class A>
  void serialize(A& a) {
    a(person, channels, lifted, officer, sealed);
  }
};

// Policy event (issue 18): a number the company may show as its caller id
// for a campaign's calls (Italy: registered in the ROC; France: in ARCEP's
// prefixes for call centres), from `valid_from` to `valid_to` (exclusive;
// 0: no bound). The same number and campaign again replace it from their
// recorded time on; `retired` withdraws it. The company's own number: not
// personal data, in clear.
struct CallerRegistered {
  static constexpr PayloadType kType = PayloadType::kCallerRegistered;
  static constexpr const char* kName = "caller_registered";
  static constexpr uint16_t kVersion = 1;
  std::string number;    // E.164: "+390212345678"
  std::string campaign;  // a campaign's code; empty: every campaign
  std::string roc;       // the registration's reference (ROC entry), may be empty
  TimeMs valid_from = 0;
  TimeMs valid_to = 0;
  bool retired = false;

  bool operator==(const CallerRegistered&) const = default;

  template <class A>
  void serialize(A& a) {
    a(number, campaign, roc, valid_from, valid_to, retired);
  }
};

// Policy event (issue 18): a campaign ("motivo") defined, changed or
// retired: who runs it for which purpose, and whether a number needs
// provenance (membership of one of the campaign's registered lists) to be
// contacted for it.
struct CampaignDefined {
  static constexpr PayloadType kType = PayloadType::kCampaignDefined;
  static constexpr const char* kName = "campaign_defined";
  static constexpr uint16_t kVersion = 1;
  std::string code;
  std::string title;
  std::string controller;  // the data controller the calls are made for
  std::string purpose;
  bool requires_provenance = false;
  bool retired = false;

  bool operator==(const CampaignDefined&) const = default;

  template <class A>
  void serialize(A& a) {
    a(code, title, controller, purpose, requires_provenance, retired);
  }
};

// A list of numbers was acquired for a campaign (issue 18: provenance):
// from whom, when, on which legal basis, and the SHA-256 of its file.
// Followed in the same batch by one ListMember per distinct number of the
// file. No personal data: the file holds the numbers.
struct ListRegistered {
  static constexpr PayloadType kType = PayloadType::kListRegistered;
  static constexpr const char* kName = "list_registered";
  static constexpr uint16_t kVersion = 1;
  uint64_t list_id = 0;  // 1, 2, 3 ... per ledger
  std::string campaign;
  std::string supplier;
  Day acquired_day = 0;
  std::string basis;         // "supplier_consent", "own_customers", ...
  std::string consent_text;  // the consent text's reference, may be empty
  std::string file_name;
  Hash256 file_sha256{};
  uint64_t number_count = 0;  // the ListMember events that follow

  bool operator==(const ListRegistered&) const = default;

  template <class A>
  void serialize(A& a) {
    a(list_id, campaign, supplier, acquired_day, basis, consent_text, file_name, file_sha256,
      number_count);
  }
};

// One number of a registered list, from the list's recording on.
struct ListMember {
  static constexpr PayloadType kType = PayloadType::kListMember;
  static constexpr const char* kName = "list_member";
  static constexpr uint16_t kVersion = 1;
  uint64_t list_id = 0;
  SubjectId subject{};

  template <class A>
  void serialize(A& a) {
    a(list_id, subject);
  }
};

// The number was given to a new subscriber (issue 18) from `since_day` on:
// from then, the consents and the person links recorded for it before this
// event were someone else's. Consents stop counting for moments from
// effective_from (start of since_day in the ledger's zone) as known from
// this event; a link ends with this event, as an unlink would. A
// wrong_number attempt does the same from its recording. Sealed: the
// subject and the note.
struct SubjectReassigned {
  static constexpr PayloadType kType = PayloadType::kSubjectReassigned;
  static constexpr const char* kName = "subject_reassigned";
  static constexpr uint16_t kVersion = 1;
  SubjectId subject{};
  Day since_day = 0;
  TimeMs effective_from = 0;
  Sealed sealed;

  template <class A>
  void serialize(A& a) {
    a(subject, since_day, effective_from, sealed);
  }
};

// The one list of payload types: each alternative carries its stored id
// (kType, its place in this list + 1), its name (kName) and its version;
// names, decoding and the subjects of an event are derived from it.
using Payload =
    std::variant<ExportSessionOpened, SessionNumber, ReturnImported, RegistryResult,
                 ConsentTypeDefined, ReasonDefined, ChannelPolicySet, ConsentGranted,
                 ConsentRevoked, Blocked, Unblocked, Justified, Erased, RegistryDefined,
                 OutcomeDefined, CallingHoursDefined, FrequencyCapDefined, ContactAttempted,
                 CheckRecorded, PersonLinked, PersonUnlinked, PersonsMerged, PersonsSplit,
                 PersonBlocked, PersonUnblocked, CallerRegistered, CampaignDefined, ListRegistered,
                 ListMember, SubjectReassigned>;

PayloadType TypeOf(const Payload& p);
// The SubjectIds an event is about, appended to *out: its `subjects` when
// the payload lists several, else its `subject` (none: nothing); then the
// PersonIds it is about: its `person`, or its `into` and `from`. They feed
// the per-subject index, so history and proofs find the event under each.
void SubjectsOf(const Payload& p, std::vector<SubjectId>* out);
// The one subject of an event about one, or null.
const SubjectId* SubjectOf(const Payload& p);
// Whose data key seals the event's personal fields: its subject, or else
// its person (person_blocked, person_unblocked); null when neither.
const Hash256* KeyOwnerOf(const Payload& p);
// The sealed personal fields of an event, or null when it carries none.
const std::string* SealedOf(const Payload& p);

struct Event {
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
  Actor actor;
  PayloadType type{};
  uint16_t version = 0;
  std::string payload;  // canonical payload bytes
  Hash256 prev_hash{};
  Hash256 hash{};
};

}  // namespace tacet
