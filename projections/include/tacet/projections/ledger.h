// Ledger: the event log with its projections, and the operations of the RPO
// cycle on top of them (export, import of a return, check, sessions, history,
// verify). Used by the `tacet` CLI on the embedded store and, later, by tacetd.
//
// Every write appends one batch: the events and their projection updates
// commit atomically. Every refusal leaves the ledger exactly as it was.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tacet/core/clock.h"
#include "tacet/core/event_log.h"
#include "tacet/core/subject.h"
#include "tacet/core/time.h"
#include "tacet/projections/decision.h"
#include "tacet/projections/state.h"
#include "tacet/projections/subject_state.h"

namespace tacet {

// A national registry's rules. Only "it-rpo" exists so far.
struct RegistryConfig {
  std::string name = "it-rpo";
  std::vector<std::string> regions = {"IT"};  // numbers of these regions are in scope
  std::string time_zone = "Europe/Rome";      // windows are calendar days here
  uint32_t validity_days = 15;                // a clearance lasts through received + this
  uint32_t overdue_days = 2;                  // an unanswered session is overdue after this
  uint32_t fresh_days = 3;                    // default of export --fresh-days
  std::string file_prefix = "crm";            // upload file: <prefix>YYYYMMDDhhmmss.txt
  uint64_t max_lines = 1'000'000;             // lines per upload file
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
};

struct LedgerOptions {
  std::string data_dir = "./var";
  std::string default_region = "IT";  // for numbers written without +CC
  RegistryConfig rpo;
  PolicyConfig policy;
  bool create_if_missing = false;
  bool read_only = false;
  bool sync = true;
  const Clock* clock = nullptr;  // null: the system clock
};

struct ExportRequest {
  std::string registry = "it-rpo";
  std::string candidates_path;
  std::string column;                  // CSV column; empty: detect by name
  uint64_t limit = 0;                  // 0: no limit
  std::optional<uint32_t> fresh_days;  // default: the registry's fresh_days
  std::string out_dir;                 // empty: <data_dir>/exports
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
  uint64_t known_listed = 0;                 // the registry last said listed
  uint64_t fresh = 0;                        // cleared and valid for more than fresh_days
  uint64_t over_limit = 0;                   // eligible but cut by --limit
  uint64_t exported = 0;
  std::vector<ExportedFile> files;
};

struct ImportRequest {
  uint64_t session_id = 0;
  std::string received;  // YYYY-MM-DD
  std::string path;      // .txt or .zip holding it
  bool supersede = false;
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

enum class RegistryStatus { kUnchecked, kListed, kExpired, kCleared, kOutOfScope };
const char* RegistryStatusName(RegistryStatus s);  // "registry_listed", ...

struct CheckAnswer {
  Subject subject;
  std::string channel = "voice";
  std::string registry;
  TimeMs at = 0;
  bool allow = false;
  RegistryStatus status = RegistryStatus::kUnchecked;
  TimeMs valid_until = 0;            // cleared: end of the clearance (exclusive)
  std::vector<uint64_t> decided_by;  // seqs of the events that decided it
  uint64_t session_id = 0;
  Day received_day = 0;
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
};
// request, call_outcome, robinson, crm_classifier, objection
extern const std::vector<std::string> kBlockSources;

struct UnblockRequest {
  std::string subject;
  ChannelMask channels = kEveryChannel;
  std::string reason;
  std::string officer;  // required: only an officer lifts a block
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
  Decision decision;
};

// "voice", "sms", "email", "newsletter"; InvalidArgument otherwise.
Result<Channel> ParseChannel(std::string_view name);

enum class SessionState { kOpen, kAnswered, kOverdue };
const char* SessionStateName(SessionState s);

struct SessionView {
  SessionRecord record;
  SessionState state = SessionState::kOpen;
};

struct HistoryItem {
  Event event;
  Payload payload;
};

class Ledger {
 public:
  static Result<std::unique_ptr<Ledger>> Open(LedgerOptions options);

  Result<ExportReport> Export(const ExportRequest& req, const Actor& actor);
  Result<ImportReport> ImportReturn(const ImportRequest& req, const Actor& actor);
  // Voice-channel registry answer for `subject` at `at`: one point lookup.
  Result<CheckAnswer> Check(std::string_view subject, TimeMs at) const;
  Result<std::vector<SessionView>> Sessions() const;

  // Consent, the internal do-not-call list and justifications. Each records
  // one event, or refuses with nothing recorded.
  Result<Recorded> GrantConsent(const ConsentRequest& req, const Actor& actor);
  Result<Recorded> RevokeConsent(std::string_view subject, std::string_view type_code,
                                 std::string_view reason, const Actor& actor);
  Result<Recorded> Block(const BlockRequest& req, const Actor& actor);
  Result<Recorded> Unblock(const UnblockRequest& req, const Actor& actor);
  Result<Recorded> Justify(const JustifyRequest& req, const Actor& actor);
  // Appends the policy events that make the ledger's policy equal `config`.
  Result<PolicyReconcileReport> ReconcilePolicy(const PolicyConfig& config, const Actor& actor);
  // The policy in force at `cut` (recorded at or before it).
  PolicyView Policy(TimeMs cut) const { return PolicyAt(policy_, cut); }

  // The answer on `channel` at `at`, from the events recorded up to
  // `known_at`: two point lookups (the subject's record, its registry record).
  Result<DecisionAnswer> Decide(std::string_view subject, Channel channel, TimeMs at,
                                TimeMs known_at = kKnownNow) const;
  Result<std::vector<HistoryItem>> History(std::string_view subject) const;
  VerifyReport Verify() const { return log_->Verify(); }

  Result<Subject> ParseSubject(std::string_view text) const { return parser_.Parse(text); }
  const TimeZone& zone() const { return zone_; }
  const Clock& clock() const { return *clock_; }
  EventLog& log() { return *log_; }
  const LedgerOptions& options() const { return options_; }

 private:
  Ledger(LedgerOptions options, std::unique_ptr<EventLog> log, TimeZone zone);
  const RegistryConfig* FindRegistry(std::string_view name) const;
  bool InScope(const Subject& s, const RegistryConfig& reg) const;
  Result<SessionRecord> LoadSession(uint64_t id) const;
  Status LoadPolicy();
  // Appends one event about a subject (with its projection update).
  Result<Recorded> AppendOne(const Payload& p, const Actor& actor);

  LedgerOptions options_;
  const Clock* clock_;
  std::unique_ptr<EventLog> log_;
  TimeZone zone_;
  SubjectParser parser_;
  Projector projector_;
  PolicyHistory policy_;  // the p_policy family, in memory
};

// One line describing an event, for history and logs.
std::string DescribeEvent(const Event& e, const Payload& p, const TimeZone& zone);

}  // namespace tacet
