// Ledger: the event log with its projections, and the operations of the RPO
// cycle on top of them (export, import of a return, check, sessions, history,
// verify). Used by the `tacet` CLI on the embedded store and, later, by tacetd.
//
// Every write appends one batch: the events and their projection updates
// commit atomically. Every refusal leaves the ledger exactly as it was.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "tacet/core/clock.h"
#include "tacet/core/event_log.h"
#include "tacet/core/key_store.h"
#include "tacet/core/personal.h"
#include "tacet/core/subject.h"
#include "tacet/core/subject_id.h"
#include "tacet/core/time.h"
#include "tacet/projections/decision.h"
#include "tacet/projections/person_state.h"
#include "tacet/projections/registry.h"
#include "tacet/projections/state.h"
#include "tacet/projections/subject_state.h"

namespace tacet {
namespace internal {
struct Candidate;
}  // namespace internal

// A registry as the configuration declares it: its definition, recorded
// as policy (RegistryDefined), and how this host works with it.
struct RegistryConfig {
  RegistryDefined definition = ItRpoDefinition();
  uint32_t fresh_days = 3;  // default of export --fresh-days
  // A return's text (the .txt, or the one file of the .zip decompressed)
  // holds at most this much: a 1,000,000-line return in the status layout
  // with dates needs about 30 MB.
  uint64_t max_return_bytes = 64ull << 20;
};

// Policy declared in the configuration; the ledger is reconciled to it by
// appending only the differences (Ledger::ReconcilePolicy).
struct ConsentTypeConfig {
  std::string code;
  std::string title;
  std::string description;
  uint32_t validity_days = 0;  // 0: never expires
  uint8_t uses = 0;            // ConsentUse bits
};
struct ReasonConfig {
  std::string code;
  std::string title;
};
struct PolicyConfig {
  // When a list is declared, items of the ledger missing from it are retired.
  bool consent_types_declared = false;
  std::vector<ConsentTypeConfig> consent_types;
  bool reasons_declared = false;
  std::vector<ReasonConfig> reasons;
  std::optional<ChannelPolicySet> channels;
  // Registries: each declared one is defined or changed to match; when
  // declared, the ledger's others are retired.
  bool registries_declared = false;
  std::vector<RegistryConfig> registries = {RegistryConfig{}};
  // Contact attempts (issue 17): outcome codes (none recorded: the shipped
  // ones, DefaultOutcomes), calling hours and frequency caps. Each declared
  // one is defined or changed to match; when a list is declared, the
  // ledger's others are retired.
  bool outcomes_declared = false;
  std::vector<OutcomeDefined> outcomes;
  bool calling_hours_declared = false;
  std::vector<CallingHoursDefined> calling_hours;
  bool caps_declared = false;
  std::vector<FrequencyCapDefined> caps;
  // The declared registry of that name, or null.
  const RegistryConfig* FindRegistry(std::string_view name) const;
};

// Signed checkpoints of the ledger's Merkle tree (core/FORMAT.md).
struct CheckpointOptions {
  std::string key_path;  // the writer's signing key; empty: <data_dir>/checkpoint.key
  // The name of a key made by the first writer (and so the checkpoints'
  // origin); empty: tacet/<host name>/<8 random hex digits>.
  std::string origin;
  uint32_t interval_ms = 1000;  // at most one checkpoint per interval
};

struct LedgerOptions {
  std::string data_dir = "./var";
  // The ledger's own calendar ([ledger] time_zone): the days of consents
  // and their expiry, and local times shown. A registry's windows follow
  // the registry's zone (RegistryDefined::time_zone), not this one.
  std::string time_zone = "Europe/Rome";
  // A group (name or gid) that may read the ledger's files: a writer makes
  // the data directory 02750 and owned by it (files inherit the group; the
  // tools' umask 027 makes them 0640). Empty: the owner's alone, 0700 and
  // 0600. Keys stay 0600 either way.
  std::string data_group;
  std::string default_region = "IT";  // for numbers written without +CC
  // The config's policy. A writer's open with `reconcile_policy` records
  // the differences as events by `policy_actor` (tacet init, tacet policy
  // apply, tacetd's start and reload: policy changes only by intent); any
  // other open compares and reports them (policy_differences()), and the
  // ledger's policy stays the one in force.
  PolicyConfig policy;
  Actor policy_actor{"", "", "tacet config"};
  bool reconcile_policy = false;
  bool create_if_missing = false;
  bool read_only = false;
  bool sync = true;
  // Open even when an interrupted rebuild left the projections incomplete
  // (only `tacet rebuild` does, to finish the job).
  bool repair = false;
  // Serve projection reads from an in-memory mirror (EventLogOptions): the
  // daemon's choice; a CLI run would pay the load for a few reads.
  bool mirror_projections = false;
  // A writer signs checkpoints with the key at checkpoint.key_path: it
  // makes one (mode 0600) when the ledger has none yet, refuses to open
  // when the ledger's key file is missing or readable by every user.
  CheckpointOptions checkpoint;
  // The ledger secret, the key of every SubjectId (mode 0600, made with the
  // ledger); empty: <data_dir>/ledger.secret.
  std::string secret_path;
  const Clock* clock = nullptr;  // null: the system clock
};

struct ExportRequest {
  std::string registry = "it-rpo";
  std::string candidates_path;
  // The candidates file's content; unset: read candidates_path. Set, the
  // path only names it in messages (a daemon's client sends the file).
  std::optional<std::string> candidates_content;
  std::string column;             // CSV column; empty: detect by name
  std::optional<uint64_t> limit;  // unset: no limit; 0 is refused
  // Export numbers still pending in an open session of the registry too
  // (by default they are left out and counted as `pending`).
  bool include_pending = false;
  std::optional<uint32_t> fresh_days;  // default: the registry's (RegistryConfig)
  std::string out_dir;                 // empty: <data_dir>/exports
  // The campaign the numbers are exported for (issue 18): when it requires
  // provenance, numbers on none of its lists are left out (no_provenance).
  std::string campaign = {};
};

// GDPR art. 17: the subject's personal data erased, its suppression kept.
struct EraseRequest {
  std::string subject;
  std::string request;  // the erasure request's reference: required
  std::string officer;  // required: only an officer erases
  // Instead of `subject`, the CRM's id of a person (issue 18): each subject
  // ever linked to it is erased, then the person's own sealed fields.
  std::string person = {};
};

struct EraseReport {
  uint64_t seq = 0;
  std::string subject;
  bool key_destroyed = false;  // false: it had no data key (no sealed field)
  // Upload files under exports/ that still list the number: the registry's
  // copy, removed by `tacet exports prune` once their sessions are answered.
  std::vector<std::string> export_files;
  // A person's erasure: each subject ever linked to it (seq 0: it was
  // erased already); seq and key_destroyed above are the person's own.
  struct Part {
    std::string subject_id;  // hex
    uint64_t seq = 0;
    bool key_destroyed = false;
  };
  std::vector<Part> parts;
};

// Removes the upload files of answered sessions; their SHA-256 stays in the
// ledger (the session's event), so the files' content stays provable.
struct PruneReport {
  std::vector<std::string> removed;
  uint64_t bytes = 0;
  uint64_t sessions = 0;  // answered before the date, whose files were looked for
};

struct ExportedFile {
  uint64_t session_id = 0;
  std::string txt_path;
  Hash256 txt_sha256{};
  std::string zip_path;
  Hash256 zip_sha256{};
  uint64_t numbers = 0;
};

struct ExportReport {
  uint64_t lines = 0;       // candidate values read
  uint64_t duplicates = 0;  // repeated numbers, counted once
  uint64_t invalid = 0;
  std::vector<std::string> invalid_samples;  // "line N: reason"
  uint64_t out_of_scope = 0;                 // not a number of the registry's regions
  uint64_t blocked = 0;                      // on the internal do-not-call list
  uint64_t erased = 0;                       // erased on request: never sent again
  uint64_t known_listed = 0;                 // the registry last said listed
  uint64_t fresh = 0;                        // cleared and valid for more than fresh_days
  uint64_t pending = 0;        // in an open, not overdue session of the registry (no return yet)
  uint64_t no_provenance = 0;  // on none of the campaign's lists, which it requires
  uint64_t over_limit = 0;     // eligible but cut by --limit
  uint64_t exported = 0;
  std::vector<ExportedFile> files;
};

struct ImportRequest {
  uint64_t session_id = 0;
  std::string received;  // YYYY-MM-DD
  std::string path;      // .txt or .zip holding it
  bool supersede = false;
  // A file with no number says every number of the session is listed (the
  // filtered layout); refused unless the officer says that is what it means.
  bool empty_is_all_listed = false;
  // The file's bytes when already read (tacetd reads them before the write
  // is queued); else `path` is read.
  std::optional<std::string> content;
};

struct ImportReport {
  uint64_t session_id = 0;
  std::string file_name;
  Hash256 file_sha256{};
  ReturnLayout layout = ReturnLayout::kFiltered;
  Day received_day = 0;
  TimeMs valid_until = 0;  // of the numbers it cleared
  uint64_t lines = 0;      // numbers read from the file
  uint64_t duplicate_lines = 0;
  uint64_t cleared = 0;
  uint64_t listed = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
};

struct ConsentRequest {
  std::string subject;
  std::string type_code;
  std::string given;     // YYYY-MM-DD, not in the future
  std::string evidence;  // capture channel, form or script version, recording id
};

struct BlockRequest {
  std::string subject;
  ChannelMask channels = kEveryChannel;
  std::string reason;
  std::string source = "request";  // see kBlockSources
  // Instead of `subject`, the CRM's id of a person (issue 18): the block is
  // the person's and covers every subject linked to it, then and later.
  std::string person = {};  // (= {}: brace initialisations may stop before it)
};
// request, call_outcome, robinson, crm_classifier, objection
extern const std::vector<std::string> kBlockSources;

// A whole list blocked as one recorded batch.
struct BlockFileReport {
  uint64_t lines = 0;
  uint64_t newly = 0;    // blocked now
  uint64_t already = 0;  // already blocked on those channels by the same source: nothing recorded
  uint64_t invalid = 0;  // skipped, with their line numbers in `invalid_lines`
  uint64_t duplicates = 0;
  std::vector<std::string> invalid_lines;  // "line N 'text': reason", the first 100
  uint64_t first_seq = 0;                  // of the batch; 0 when nothing was recorded
  uint64_t last_seq = 0;
};

struct UnblockRequest {
  std::string subject;
  // Every channel: wherever a block of the sources is in force; fewer
  // channels: each of them must have one.
  ChannelMask channels = kEveryChannel;
  std::vector<std::string> sources;  // the blocks of these sources; empty: of every source
  std::string reason;
  std::string officer;      // required: only an officer lifts a block
  std::string person = {};  // instead of `subject`: a person's own blocks (its CRM id)
};

// What an unblock lifted: each block by its seq, on the channels where it
// was in force and is no longer.
struct UnblockReport {
  struct Lifted {
    uint64_t seq = 0;
    std::string source;
    ChannelMask channels = 0;
  };
  uint64_t seq = 0;
  std::string subject;
  ChannelMask channels = 0;  // the union of the lifted channels, recorded
  std::vector<Lifted> lifted;
};

struct JustifyRequest {
  std::string subject;
  Channel channel = Channel::kVoice;
  std::string reason_code;
  std::string operator_id;
};

struct Recorded {
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
  TimeMs valid_until = 0;  // consents and justifications; 0: never
  std::string subject;     // canonical
};

// Persons (issue 18): subjects linked to one record of the CRM, named by
// the CRM's own id.
struct PersonLinkRequest {
  std::string person;                 // the CRM's id: 1..128 bytes of UTF-8, no control
  std::vector<std::string> subjects;  // numbers or addresses, as typed
};
struct PersonLinkReport {
  std::vector<Recorded> recorded;      // one event per subject whose link changed
  std::vector<std::string> unchanged;  // subjects already (un)linked so: nothing recorded
};

// A number given to a new subscriber (issue 18).
struct ReassignRequest {
  std::string subject;
  std::string since;  // YYYY-MM-DD (the ledger's calendar), not in the future
  std::string note;   // how the ledger learnt it (sealed)
};

// One contact attempt (issue 17), as the dialer or the CRM reports it.
struct ContactRequest {
  std::string subject;
  Channel channel = Channel::kVoice;
  TimeMs started_at = 0;  // not after its recording
  std::string outcome;    // a code of the outcomes in force
  std::string campaign;
  std::string caller_id;  // the calling number shown
  std::string operator_id;
  uint32_t duration_s = 0;
  uint64_t decision_seq = 0;  // the recorded check acted on (RecordCheck); 0: none
};
struct ContactReport {
  uint64_t seq = 0;  // the contact_attempted event
  TimeMs recorded_at = 0;
  std::string subject;     // canonical
  uint64_t block_seq = 0;  // the block its outcome recorded in the same batch; 0: none
  bool no_prior_check = true;
  bool unregistered_caller = false;  // its caller id was not registered (issue 18)
  // The decision at its start as known when recorded: the attempt's audit.
  Decision decision;
};

// A dialer's call-detail export (issue 17): a CSV with named columns.
// Required: subject (or phone, number, email), started, outcome; optional:
// channel, campaign, caller_id, operator, duration, decision. Other
// columns are ignored.
struct ContactImportRequest {
  std::string path;
  std::optional<std::string> content;  // the file's content; unset: read path
};
struct ContactImportReport {
  uint64_t lines = 0;     // attempts in the file
  uint64_t recorded = 0;  // all of them, or none
  uint64_t blocks = 0;    // blocks their outcomes recorded
  uint64_t allowed = 0;   // verdicts at their start
  uint64_t denied = 0;
  uint64_t needs_justification = 0;
  uint64_t no_prior_check = 0;
  uint64_t unregistered_caller = 0;  // attempts whose caller id was not registered (issue 18)
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
};

// Campaigns, their lists and their caller ids (issue 18: provenance).
struct CampaignRequest {
  std::string code;
  std::string title;
  std::string controller;
  std::string purpose;
  bool requires_provenance = false;
  bool retire = false;  // withdraw the campaign (its other fields unused)
};
struct CallerRequest {
  std::string number;    // as typed: normalised to E.164
  std::string campaign;  // a campaign in force, or empty: every campaign
  std::string roc = {};
  TimeMs valid_from = 0;  // 0: from now on
  TimeMs valid_to = 0;    // exclusive; 0: no end
  bool retire = false;    // withdraw the number for the campaign
};
struct ListRequest {
  std::string path;
  std::optional<std::string> content;  // the file's content; unset: read path
  std::string column;                  // CSV column; empty: detect a phone column
  std::string campaign;                // a campaign in force
  std::string supplier;
  std::string acquired;  // YYYY-MM-DD, not in the future
  std::string basis;     // the legal basis
  std::string consent_text = {};
};
struct ListReport {
  uint64_t list_id = 0;
  uint64_t lines = 0;
  uint64_t invalid = 0;
  std::vector<std::string> invalid_samples;
  uint64_t duplicates = 0;
  uint64_t members = 0;  // the list_member events recorded
  Hash256 file_sha256{};
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
};

struct PolicyReconcileReport {
  uint64_t appended = 0;  // policy events written
  std::vector<std::string> changes;
};

// A decision with what it was asked.
struct DecisionAnswer {
  Subject subject;
  Channel channel = Channel::kVoice;
  TimeMs at = 0;
  TimeMs known_at = kKnownNow;
  Explain explain = Explain::kFull;  // how much of the decision to explain
  std::string campaign;              // the contact's campaign, for caps (empty: none)
  // The subject's SubjectId when the caller already has it (an import keys
  // its rows by it): DecideAll then does not compute the HMAC again.
  std::optional<SubjectId> subject_id;
  // Attempts to the same subject recorded in the same batch before this
  // one (a contact import's earlier lines): counted by caps with the
  // store's.
  std::span<const AttemptEntry> batch_attempts;
  Decision decision;
  bool subject_erased = false;  // set by DecideAll: erased, whenever (as known now)
};

// A check that leaves a trace: the decision now, recorded as an event whose
// seq a later attempt cites.
struct CheckRequest {
  std::string subject;
  Channel channel = Channel::kVoice;
  std::string campaign;
};
struct CheckReport {
  uint64_t seq = 0;  // the check_recorded event
  TimeMs recorded_at = 0;
  DecisionAnswer answer;  // at recorded_at, as known then
};

// Meta records of the ledger's own state (projections/FORMAT.md).
inline constexpr const char* kRebuildMetaKey = "rebuild";  // text: since when
inline constexpr const char* kReplayMetaKey = "replay";    // i64 BE: as known at
// The ledger secret's fingerprint (32 bytes, SubjectKeyer::Fingerprint).
inline constexpr const char* kSecretMetaKey = "ledger_secret";
// The SubjectId (32 bytes) of an erasure under way: its key is destroyed
// after its event commits, and a crash between the two is finished on open.
inline constexpr const char* kErasingMetaKey = "erasing";

struct RebuildReport {
  struct Family {
    std::string name;
    EventLog::FamilyDigest before;  // the incrementally maintained projection
    EventLog::FamilyDigest after;   // refolded from the log
  };
  std::vector<Family> families;
  uint64_t events = 0;
  double seconds = 0;  // of the refold
  bool equal = true;   // every family's digest unchanged
};

struct ReplayReport {
  std::string data_dir;
  TimeMs known_at = 0;
  uint64_t events = 0;  // copied: every event recorded up to known_at
  Head head;            // of the copy
  uint64_t source_head_seq = 0;
};

// A list of subjects sorted by their answer on one channel.
struct FilterRequest {
  std::string path;                    // one subject per line, or a CSV
  std::optional<std::string> content;  // the file's content; unset: read path
  std::string column;                  // CSV column; empty: detect a phone or e-mail column
  Channel channel = Channel::kVoice;
  TimeMs at = 0;
  TimeMs known_at = kKnownNow;
  std::string campaign = {};  // the contact's campaign (caps, provenance); empty: none
};
struct FilterItem {
  uint64_t line = 0;
  std::string input;                       // as written
  std::string error;                       // set when the subject cannot be decided
  const DecisionAnswer* answer = nullptr;  // otherwise
};
struct FilterReport {
  uint64_t lines = 0;
  uint64_t allowed = 0;
  uint64_t denied = 0;
  uint64_t needs_justification = 0;
  uint64_t invalid = 0;
  uint64_t duplicates = 0;  // repeated subjects, answered once
};

enum class SessionState { kOpen, kAnswered, kOverdue };
const char* SessionStateName(SessionState s);

struct SessionView {
  SessionRecord record;
  SessionState state = SessionState::kOpen;
};

// The audit of the attempts of a period (issue 17): each with its verdict
// at its start, violations first.
struct AuditRequest {
  TimeMs from = 0;  // attempts that started in [from, to)
  TimeMs to = 0;
  std::string campaign;  // empty: every campaign
};
struct AuditRow {
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
  const ContactAttempted* attempt = nullptr;  // valid during the callback
  Disclosed subject;                          // the number or address called, opened
  bool violation = false;                     // its verdict at its start was not allow
  // The suppliers of the campaign's lists its decision cited (issue 18),
  // by list id; empty when it was on none.
  std::vector<std::string> suppliers;
};
struct AuditTotals {
  struct Count {
    uint64_t attempts = 0;
    uint64_t violations = 0;
    uint64_t no_prior_check = 0;
    uint64_t unregistered_caller = 0;  // shown a caller id not registered (issue 18)
  };
  // Per supplier of lists (issue 18): attempts whose number its list gave,
  // those the registry said listed, and those whose outcome was a refusal
  // (the person complained of the call).
  struct SupplierCount {
    uint64_t attempts = 0;
    uint64_t listed = 0;
    uint64_t complaints = 0;
  };
  Count all;
  uint64_t allowed = 0;
  uint64_t denied = 0;
  uint64_t needs_justification = 0;
  std::map<std::string, uint64_t> by_reason;  // reason codes of the violations
  std::map<std::string, Count> by_campaign;   // "" for attempts of no campaign
  // Attempts of campaigns with registered lists, by supplier; "" for those
  // whose number was on none of the campaign's lists (no provenance).
  std::map<std::string, SupplierCount> by_supplier;
};
// An attempt is a violation when its verdict at start was deny or
// needs_justification, or it showed an unregistered caller id.
bool IsViolation(const ContactAttempted& a);

struct HistoryItem {
  Event event;
  Payload payload;
  bool policy = false;  // a policy change that bears on the subject's answers
  Disclosed personal;   // its personal fields, opened (or erased)
};

// Thread safety: const methods may run concurrently with each other and
// with one thread calling the writing methods (tacetd's writer thread).
// Rebuild and ReplayTo want the ledger to themselves.
class Ledger {
 public:
  static Result<std::unique_ptr<Ledger>> Open(LedgerOptions options);

  Result<ExportReport> Export(const ExportRequest& req, const Actor& actor);
  Result<ImportReport> ImportReturn(const ImportRequest& req, const Actor& actor);
  Result<std::vector<SessionView>> Sessions() const;

  // Consent, the internal do-not-call list and justifications. Each records
  // one event, or refuses with nothing recorded.
  Result<Recorded> GrantConsent(const ConsentRequest& req, const Actor& actor);
  Result<Recorded> RevokeConsent(std::string_view subject, std::string_view type_code,
                                 std::string_view reason, const Actor& actor);
  Result<Recorded> Block(const BlockRequest& req, const Actor& actor);
  // Links each subject to the person (moving it from any other), or
  // unlinks it, in one batch: all or nothing. A subject already so is
  // reported unchanged; an erased one refuses the request.
  Result<PersonLinkReport> LinkPerson(const PersonLinkRequest& req, const Actor& actor);
  Result<PersonLinkReport> UnlinkPerson(const PersonLinkRequest& req, const Actor& actor);
  // Records that `from` and `into` are one person from now on (the CRM
  // deduplicated them), or undoes that. Refused when they are the same id,
  // or already merged (split: not merged).
  Result<Recorded> MergePersons(std::string_view into, std::string_view from, const Actor& actor);
  Result<Recorded> SplitPersons(std::string_view into, std::string_view from, const Actor& actor);
  // The person's record (p_person): its subjects and merges as recorded;
  // empty when nothing was recorded about it.
  Result<PersonState> Person(std::string_view crm_id) const;
  // Every event about the person and about each subject ever linked to it,
  // by seq, personal fields opened (issue 18: "one file").
  Result<std::vector<HistoryItem>> PersonHistory(std::string_view crm_id) const;
  // The seqs of PersonHistory: every event about the person or about a
  // subject ever linked to it, ascending, each once (what its proof holds).
  Result<std::vector<uint64_t>> PersonSeqs(std::string_view crm_id) const;
  // The PersonId of a CRM id in this ledger (its keyed hash).
  Result<PersonId> PersonIdOf(std::string_view crm_id) const;
  // Blocks every subject of a file (one per line, or a CSV column) with
  // req's channels, source and reason, in one batch. Invalid lines are
  // skipped and reported; subjects already blocked by the same source are counted, not recorded.
  // `content`, when set, is the file's content and `path` only names it.
  Result<BlockFileReport> BlockFile(const std::string& path, const BlockRequest& req,
                                    const Actor& actor,
                                    const std::optional<std::string>& content = std::nullopt);
  // Refused, nothing recorded, when no block of the sources is in force on
  // the channels (or on one of the channels named).
  Result<UnblockReport> Unblock(const UnblockRequest& req, const Actor& actor);
  Result<Recorded> Justify(const JustifyRequest& req, const Actor& actor);
  // Records that the subject belongs to a new subscriber since a day: the
  // consents recorded for it so far stop counting from that day, and its
  // link to a person ends now (a wrong_number attempt does both from its
  // recording). Refused for an erased subject.
  Result<Recorded> Reassign(const ReassignRequest& req, const Actor& actor);
  // Issue 18. A campaign defined, changed or retired; a caller id
  // registered for a campaign or withdrawn (policy events: LoadPolicy
  // follows); a list registered with every distinct number of its file as
  // a member, in one batch (refused, nothing recorded, when no line holds
  // a valid number).
  Result<Recorded> DefineCampaign(const CampaignRequest& req, const Actor& actor);
  Result<Recorded> RegisterCaller(const CallerRequest& req, const Actor& actor);
  Result<ListReport> RegisterList(const ListRequest& req, const Actor& actor);
  // Records one contact attempt with its audit (the decision at its start,
  // as known now), and what its outcome implies in the same batch (a block
  // of source call_outcome). A non-compliant attempt is recorded all the
  // same: it happened. Refused, nothing recorded, for an unknown outcome, a
  // start after now, or a subject that does not fit the channel.
  Result<ContactReport> RecordContact(const ContactRequest& req, const Actor& actor);
  // Records every attempt of a call-detail file as one batch, each audited
  // like RecordContact (counting, for caps, the file's earlier lines about
  // the same subject). On any bad line nothing is recorded: the refusal
  // names the file, line, column and value (the first 20 such lines).
  Result<ContactImportReport> ImportContacts(const ContactImportRequest& req, const Actor& actor);
  // Decides now and records the answer (check_recorded), erased subjects
  // included (their answer is deny).
  Result<CheckReport> RecordCheck(const CheckRequest& req, const Actor& actor);
  // Records `erased` and destroys the subject's data key: afterwards no
  // file of the data directory holds its personal data (the export files
  // the report lists aside). Refused when the subject is already erased.
  Result<EraseReport> Erase(const EraseRequest& req, const Actor& actor);
  // Removes the files of sessions whose last return was imported before
  // the start of `before` (the ledger's calendar). Writer only.
  Result<PruneReport> PruneExports(Day before);
  // Appends the policy events that make the ledger's policy equal `config`.
  Result<PolicyReconcileReport> ReconcilePolicy(const PolicyConfig& config, const Actor& actor);
  // What ReconcilePolicy(config) would record, described, without recording.
  Result<std::vector<std::string>> PolicyDifferences(const PolicyConfig& config) const;
  // The policy in force at `cut` (recorded at or before it).
  PolicyView Policy(TimeMs cut) const {
    std::shared_lock lock(policy_mu_);
    return PolicyAt(policy_, cut);
  }

  // The answer on `channel` at `at`, from the events recorded up to
  // `known_at`: two point lookups (the subject's record, its registry record).
  Result<DecisionAnswer> Decide(std::string_view subject, Channel channel, TimeMs at,
                                TimeMs known_at = kKnownNow) const;
  // Decides many at once: each answer comes with its subject (parsed),
  // channel, at and known_at set, and gets its decision. Two batched
  // lookups (MultiGet) for all of them instead of two per subject.
  // InvalidArgument when a subject does not fit its channel.
  Status DecideAll(std::span<DecisionAnswer> answers) const;
  // Decides every subject of a file, in file order, with batched lookups;
  // calls fn once per line (repeated subjects: only the first time).
  Result<FilterReport> Filter(const FilterRequest& req,
                              const std::function<void(const FilterItem&)>& fn) const;
  // Decides every subject of `subjects` (as written), in order, with
  // batched lookups; calls fn once for each, repeated ones included
  // (FilterItem.line is the 1-based index).
  // `campaign`: the contact's campaign (caps, provenance); empty: none.
  Result<FilterReport> DecideMany(std::span<const std::string> subjects, Channel channel, TimeMs at,
                                  TimeMs known_at, const std::function<void(const FilterItem&)>& fn,
                                  Explain explain = Explain::kFull,
                                  std::string_view campaign = {}) const;
  // Every event about the subject, and the policy changes that bear on its
  // answers (the channel policy, the consent types and reasons it refers
  // to), in seq order.
  Result<std::vector<HistoryItem>> History(std::string_view subject) const;
  // Calls counted() with the period's totals, then row() for each of its
  // attempts: the violations by start, then the others by start. Three
  // range reads of p_audit (count, violations, others): memory bounded by
  // a chunk of rows, whatever the period.
  Result<AuditTotals> Audit(const AuditRequest& req,
                            const std::function<void(const AuditTotals&)>& counted,
                            const std::function<void(const AuditRow&)>& row) const;
  // The subject's id in this ledger: the keyed hash of its canonical text.
  // FailedPrecondition when this process cannot read the ledger secret.
  Result<SubjectId> IdOf(const Subject& s) const;
  Result<PersonLinkReport> ChangeLinks(const PersonLinkRequest& req, bool link, const Actor& actor);
  Result<Recorded> ChangeMerge(std::string_view into, std::string_view from, bool merge,
                               const Actor& actor);
  // Adds one event to `batch` with its projection update, and commits.
  Result<Recorded> CommitOne(AppendBatch batch, const Payload& p);
  // History's items: the events of `seqs` and `policy` by seq, each of
  // `policy` marked a policy change.
  Result<std::vector<HistoryItem>> HistoryItems(std::vector<uint64_t> seqs,
                                                const std::vector<uint64_t>& policy) const;
  // Erasure: the request's checks; one subject's (or a person's own) key
  // and `erased` event (`shown` names it in messages); a person's.
  Status CheckErasure(const EraseRequest& req) const;
  Result<EraseReport> EraseId(const Hash256& id, const std::string& shown, const EraseRequest& req,
                              const Actor& actor);
  Result<EraseReport> ErasePerson(const EraseRequest& req, const Actor& actor);
  // Block and Unblock of a person (req.person set; req.subject must not be).
  Result<Recorded> BlockPerson(const BlockRequest& req, const Actor& actor);
  Result<UnblockReport> UnblockPerson(const UnblockRequest& req, const Actor& actor);
  // The event's personal fields, opened with the subject's data key.
  Disclosed Disclose(const Payload& p) const;
  // The subject's data key (for a proof), or nullopt: erased, or none made.
  Result<std::optional<DataKey>> DataKeyOf(const SubjectId& id) const;
  VerifyReport Verify() const { return log_->Verify(); }
  // Makes every commit durable: the data keys made for them, then the WAL
  // (a host that commits without syncing, as tacetd's group commit).
  Status SyncWal();

  // Drops every projection and refolds the whole log into it; reports the
  // digest of each projection before and after. Writer only. A marker in
  // meta makes an interrupted rebuild visible to every later open.
  Result<RebuildReport> Rebuild();
  // Writes to `out_data_dir` (absent or empty) a complete copy of this
  // ledger as it stood at `known_at`: every event recorded up to then,
  // unchanged, and the projections folded from them. The copy opens
  // read-only only.
  Result<ReplayReport> ReplayTo(const std::string& out_data_dir, TimeMs known_at) const;
  // The path of the checkpoint key a writer uses.
  std::string CheckpointKeyPath() const;
  // The path of the ledger secret (LedgerOptions::secret_path).
  std::string SecretPath() const;
  // What the open recorded to reconcile the policy with the config
  // (LedgerOptions::reconcile_policy).
  const PolicyReconcileReport& reconciled() const { return reconciled_; }
  // An open that did not reconcile: how the config's policy differs from the
  // ledger's, which is the one in force (empty: they agree).
  const std::vector<std::string>& policy_differences() const { return policy_differences_; }
  // Set on a replayed copy: the time it was replayed as known at.
  std::optional<TimeMs> replayed_as_known_at() const { return replayed_as_known_at_; }

  Result<Subject> ParseSubject(std::string_view text) const { return parser_.Parse(text); }
  const TimeZone& zone() const { return zone_; }
  const Clock& clock() const { return *clock_; }
  EventLog& log() { return *log_; }
  const EventLog& log() const { return *log_; }
  const LedgerOptions& options() const { return options_; }

 private:
  Ledger(LedgerOptions options, std::unique_ptr<EventLog> log, TimeZone zone);
  // The round-trip registry of that name: in force now, or (`in_force`
  // false) its last definition, retired or not (its sessions' returns
  // still come in).
  Result<std::shared_ptr<const RoundTripRegistry>> RoundTrip(std::string_view name,
                                                             bool in_force) const;
  // The host's settings for a registry (declared, or the defaults).
  const RegistryConfig& RegistrySettings(std::string_view name) const;
  Result<SessionRecord> LoadSession(uint64_t id) const;
  Status LoadPolicy();
  // The policy events that make the ledger's policy equal `config`, each
  // described in `described`.
  Result<std::vector<Payload>> PolicyChanges(const PolicyConfig& config,
                                             std::vector<std::string>* described) const;
  Status LoadCheckpointKey();  // a writer's: read, or made for a ledger without one
  // The ledger secret (made with a new ledger) and the data key store.
  Status LoadSubjectKeys();
  // Seals the personal fields of an event about `id` under its data key
  // (made when it has none).
  Result<Sealed> SealFor(const SubjectId& id, PayloadType type, Personal fields);
  // Destroys the data keys of erasures recorded but not finished (a crash
  // between the record and the key's destruction).
  Status FinishErasures();
  // What a decision reads beyond the subject's own records (issue 18): its
  // person (DecisionInput::persons, person_attempts, person_evidence) and
  // its memberships of the campaign's lists (DecisionInput::lists).
  struct PersonFacts {
    const PersonRecords* persons = nullptr;
    const std::vector<AttemptEntry>* attempts = nullptr;
    std::vector<uint64_t> evidence;
    std::span<const ListMembership> lists;  // DecisionInput::lists
  };
  // The decision from the subject's two records, decoded (absent: null),
  // under `policy` (the view at min(at, known_at)); `registry`: the
  // registry that covers it, or null.
  // `attempts`: the subject's attempts within the caps' reach (null: no cap
  // covers it).
  Decision DecideWith(const DecisionAnswer& a, const PolicyView& policy,
                      const SubjectState* subject_state, const Registry* registry,
                      const RegistryState* registry_state,
                      const std::vector<AttemptEntry>* attempts, const PersonFacts& person) const;
  // The persons `wanted` names and every person merged with one of them by
  // known_at, transitively, into *out (issue 18).
  Status LoadPersons(std::vector<PersonId> wanted, TimeMs known_at, PersonRecords* out) const;
  // The subject's attempts that started in [from, to], by start, read with
  // `reader` (of p_attempts).
  Status LoadAttempts(EventLog::RangeReader& reader, const SubjectId& id, TimeMs from, TimeMs to,
                      std::vector<AttemptEntry>* out) const;
  Result<FilterReport> DecideCandidates(const std::vector<internal::Candidate>& cands,
                                        Channel channel, TimeMs at, TimeMs known_at,
                                        bool skip_duplicates,
                                        const std::function<void(const FilterItem&)>& fn,
                                        Explain explain = Explain::kFull,
                                        std::string_view campaign = {}) const;
  // Appends one policy event (its projection update) and reloads the policy.
  Result<Recorded> CommitPolicy(const Payload& p, const Actor& actor);
  // Appends one event about `subject` (with its projection update), its
  // personal fields sealed: `sealed.bytes` holds the free text until then.
  // Refused when the subject is erased.
  Result<Recorded> AppendOne(const Subject& subject, Payload p, const Actor& actor);
  Status RefuseIfErased(AppendBatch& batch, const SubjectId& id, const Subject& subject);
  // Replaces the free text in p's `sealed` with the sealed subject and text.
  Status SealInto(const Subject& subject, Payload* p);

  LedgerOptions options_;
  const Clock* clock_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SubjectKeyer> keyer_;  // null: the secret is not readable here
  std::string keyer_error_;              // why, when null
  std::unique_ptr<KeyStore> keys_;       // null: a reader without the key store
  TimeZone zone_;                        // the ledger's calendar (LedgerOptions::time_zone)
  SubjectParser parser_;
  Projector projector_;
  // Guards the three policy members below: a writer's reconcile replaces
  // them while readers decide (exclusive for the writer, shared for reads).
  mutable std::shared_mutex policy_mu_;
  PolicyHistory policy_;  // the p_policy family, in memory
  // The policy after its last recorded change, and that change's time: the
  // view of every decision about a moment since then, built once.
  PolicyView current_policy_;
  TimeMs policy_changed_at_ = 0;
  std::optional<TimeMs> replayed_as_known_at_;
  PolicyReconcileReport reconciled_;
  std::vector<std::string> policy_differences_;
};

// One line describing an event, for history and logs.
// `personal` supplies the sealed fields (null, or not open: shown as such).
std::string DescribeEvent(const Event& e, const Payload& p, const TimeZone& zone,
                          const Disclosed* personal = nullptr);

}  // namespace tacet
