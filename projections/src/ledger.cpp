#include "tacet/projections/ledger.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>
#include <unordered_set>

#include "../internal/bytes.h"
#include "../internal/text.h"
#include "../internal/zip.h"
#include "tacet/core/codec.h"
#include "tacet/core/secret_file.h"
#include "tacet/core/utf8.h"

namespace tacet {
namespace {

namespace fs = std::filesystem;
}  // namespace

const RegistryConfig* PolicyConfig::FindRegistry(std::string_view name) const {
  for (const RegistryConfig& r : registries)
    if (r.definition.name == name) return &r;
  return nullptr;
}

const char* SessionStateName(SessionState s) {
  switch (s) {
    case SessionState::kOpen:
      return "open";
    case SessionState::kAnswered:
      return "answered";
    case SessionState::kOverdue:
      return "overdue";
  }
  return "unknown";
}

Ledger::Ledger(LedgerOptions options, std::unique_ptr<EventLog> log, TimeZone zone)
    : options_(std::move(options)),
      clock_(options_.clock),
      log_(std::move(log)),
      zone_(std::move(zone)),
      parser_(options_.default_region),
      projector_(*log_) {}

namespace {

// "0755": a file's permission bits as chmod takes them.
std::string OctalMode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// The gid of a configured data group: a name, or a number.
Result<gid_t> DataGroupId(const std::string& group) {
  if (!group.empty() &&
      std::all_of(group.begin(), group.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      group.size() <= 9)
    return static_cast<gid_t>(std::stoul(group));
  std::vector<char> buf(16384);
  struct group gr {};
  struct group* found = nullptr;
  if (::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return Status::InvalidArgument("data_group '" + group + "' is not a group of this system");
  return found->gr_gid;
}

// A writer's data directory: made 0700 when missing (whatever the umask),
// or 02750 owned by the configured data group; refused when every user may
// read or enter it, as the key file is.
Status GuardDataDir(const std::string& dir, bool create, const std::string& data_group) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || !create)
      return Status::IOError("cannot read data directory '" + dir + "': " + std::strerror(errno));
    std::error_code ec;
    fs::path parent = fs::path(dir).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return Status::IOError("cannot create data directory '" + dir + "': " + std::strerror(errno));
    if (::chmod(dir.c_str(), 0700) != 0)
      return Status::IOError("cannot chmod data directory '" + dir + "': " + std::strerror(errno));
    if (::stat(dir.c_str(), &st) != 0)
      return Status::IOError("cannot read data directory '" + dir + "': " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode))
    return Status::FailedPrecondition("data directory '" + dir + "' is not a directory");
  if ((st.st_mode & 0007) != 0) {
    return Status::FailedPrecondition("data directory '" + dir + "' is open to every user (mode " +
                                      OctalMode(st.st_mode) +
                                      "); it holds personal data and the signing key: "
                                      "run: chmod 700 " +
                                      dir);
  }
  if (data_group.empty()) return Status::Ok();
  TACET_ASSIGN_OR_RETURN(gid_t gid, DataGroupId(data_group));
  if (st.st_gid != gid && ::chown(dir.c_str(), static_cast<uid_t>(-1), gid) != 0)
    return Status::FailedPrecondition("cannot give data directory '" + dir + "' to data_group '" +
                                      data_group + "': " + std::strerror(errno) +
                                      " (the writer's user must belong to it)");
  // Set-group-ID: what is created inside (the ledger, exports) takes the
  // group too.
  if ((st.st_mode & 07777) != 02750 && ::chmod(dir.c_str(), 02750) != 0)
    return Status::IOError("cannot chmod data directory '" + dir + "': " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Ledger>> Ledger::Open(LedgerOptions options) {
  if (options.clock == nullptr) options.clock = SystemClock::Default();
  if (!options.read_only)
    TACET_RETURN_IF_ERROR(
        GuardDataDir(options.data_dir, options.create_if_missing, options.data_group));
  auto zone = TimeZone::Load(options.time_zone);
  if (!zone.ok()) return zone.status().WithContext("[ledger] time_zone");
  EventLogOptions lo;
  lo.create_if_missing = options.create_if_missing;
  lo.read_only = options.read_only;
  lo.sync = options.sync;
  lo.mirror_projections = options.mirror_projections;
  lo.projection_families = ProjectionFamilies();
  lo.scanned_families = ScannedFamilies();
  lo.checkpoint_interval_ms = options.checkpoint.interval_ms;
  TACET_ASSIGN_OR_RETURN(auto log, EventLog::Open((fs::path(options.data_dir) / "ledger").string(),
                                                  lo, options.clock));
  TACET_ASSIGN_OR_RETURN(auto rebuilding, log->GetMeta(kRebuildMetaKey));
  if (rebuilding && !options.repair)
    return Status::FailedPrecondition("the projections of '" + options.data_dir +
                                      "' are incomplete: a rebuild was interrupted (" +
                                      *rebuilding + "); run 'tacet rebuild' to finish it");
  TACET_ASSIGN_OR_RETURN(auto replayed, log->GetMeta(kReplayMetaKey));
  std::optional<TimeMs> replayed_at;
  if (replayed) {
    internal::ByteReader r(*replayed);
    replayed_at = r.I64();
    if (r.failed() || !r.done()) return Status::Corruption("meta replay record is malformed");
    if (!options.read_only)
      return Status::FailedPrecondition("'" + options.data_dir +
                                        "' is a replayed copy as known at " +
                                        FormatUtc(*replayed_at) + ": it is read-only");
  }
  std::unique_ptr<Ledger> ledger(
      new Ledger(std::move(options), std::move(log), std::move(zone).value()));
  ledger->replayed_as_known_at_ = replayed_at;
  if (!ledger->options_.read_only) TACET_RETURN_IF_ERROR(ledger->LoadCheckpointKey());
  TACET_RETURN_IF_ERROR(ledger->LoadSubjectKeys());
  if (!ledger->options_.read_only) TACET_RETURN_IF_ERROR(ledger->FinishErasures());
  TACET_RETURN_IF_ERROR(ledger->LoadPolicy());
  if (!ledger->options_.read_only && !ledger->options_.repair &&
      ledger->options_.reconcile_policy) {
    auto rep = ledger->ReconcilePolicy(ledger->options_.policy, ledger->options_.policy_actor);
    if (!rep.ok()) return rep.status().WithContext("reconciling the policy with the config");
    ledger->reconciled_ = std::move(rep).value();
  } else {
    auto diff = ledger->PolicyDifferences(ledger->options_.policy);
    if (!diff.ok()) return diff.status().WithContext("comparing the config's policy");
    ledger->policy_differences_ = std::move(diff).value();
  }
  return ledger;
}

std::string Ledger::CheckpointKeyPath() const {
  return options_.checkpoint.key_path.empty()
             ? (fs::path(options_.data_dir) / "checkpoint.key").string()
             : options_.checkpoint.key_path;
}

namespace {

// tacet/<host name>/<8 random hex digits>: a key name (no '+' or spaces).
std::string DefaultOrigin() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == 0) std::strcpy(host, "localhost");
  std::string name = "tacet/";
  for (const char* c = host; *c != 0; ++c)
    name.push_back(std::isalnum(static_cast<unsigned char>(*c)) || *c == '.' || *c == '-' ? *c
                                                                                          : '-');
  std::random_device rd;
  char id[16];
  std::snprintf(id, sizeof id, "/%08x", static_cast<unsigned>(rd()));
  return name + id;
}

}  // namespace

Status Ledger::LoadCheckpointKey() {
  const std::string path = CheckpointKeyPath();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT)
      return Status::IOError("cannot read the checkpoint key '" + path +
                             "': " + std::strerror(errno));
    TACET_ASSIGN_OR_RETURN(auto recorded, log_->CheckpointKey());
    if (recorded)
      return Status::FailedPrecondition(
          "the checkpoint key '" + path + "' is missing; it signs this ledger's checkpoints (" +
          *recorded + "): restore it, or set [checkpoint] key to where it is");
    // A new ledger, or one from before checkpoints: its key is made now.
    const std::string name =
        options_.checkpoint.origin.empty() ? DefaultOrigin() : options_.checkpoint.origin;
    auto signer = note::Signer::Generate(name);
    if (!signer.ok()) return signer.status().WithContext("[checkpoint] origin");
    TACET_RETURN_IF_ERROR(WriteSecretFile(path, signer->Encode() + "\n", "the checkpoint key"));
    return log_->UseCheckpointKey(std::make_shared<const note::Signer>(std::move(signer).value()));
  }
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    return Status::FailedPrecondition("the checkpoint key '" + path +
                                      "' is open to every user (mode " + OctalMode(st.st_mode) +
                                      "); run: chmod 600 " + path);
  }
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (!in && !in.eof()) return Status::IOError("cannot read the checkpoint key '" + path + "'");
  auto signer = note::Signer::Parse(text);
  if (!signer.ok()) return signer.status().WithContext("checkpoint key '" + path + "'");
  return log_->UseCheckpointKey(std::make_shared<const note::Signer>(std::move(signer).value()));
}

std::string DescribeEvent(const Event& e, const Payload& p, const TimeZone& zone,
                          const Disclosed* personal) {
  // The free text of a sealed field as a reader may see it.
  auto text = [&]() -> std::string {
    if (personal == nullptr || personal->state == Disclosed::State::kSealed) return "[sealed]";
    if (personal->state == Disclosed::State::kErased) return "[erased]";
    return personal->fields.text;
  };
  if (auto* s = std::get_if<ExportSessionOpened>(&p))
    return "export session " + std::to_string(s->session_id) + " opened for " + s->registry + ": " +
           s->file_name + " (" + std::to_string(s->number_count) + " numbers, sha256 " +
           ToHex(s->file_sha256).substr(0, 16) + ")";
  if (auto* n = std::get_if<SessionNumber>(&p))
    return "sent to " + n->registry + " in export session " + std::to_string(n->session_id);
  if (auto* r = std::get_if<ReturnImported>(&p))
    return "return for session " + std::to_string(r->session_id) + " imported: " + r->file_name +
           " received " + FormatDate(r->received_day) + ", " + std::to_string(r->cleared) +
           " cleared, " + std::to_string(r->listed) + " listed" +
           (r->supersedes ? " (supersedes earlier return)" : "");
  if (auto* r = std::get_if<RegistryResult>(&p)) {
    if (r->outcome == RegistryOutcome::kCleared)
      return r->registry + " cleared (session " + std::to_string(r->session_id) + ", received " +
             FormatDate(r->received_day) + "), valid until " + zone.Format(r->valid_until);
    return r->registry + " listed (session " + std::to_string(r->session_id) + ", received " +
           FormatDate(r->received_day) + ")";
  }
  auto channels = [](ChannelMask m) {
    if (m == kEveryChannel) return std::string("every channel");
    std::string out;
    for (Channel c : kAllChannels)
      if (m & MaskOf(c)) out += (out.empty() ? "" : ", ") + std::string(ChannelName(c));
    return out;
  };
  auto uses = [](uint8_t u) {
    std::string out;
    if (u & kUseNewsletter) out += "newsletter";
    if (u & kUseEmail) out += std::string(out.empty() ? "" : ", ") + "email";
    if (u & kUsePhone) out += std::string(out.empty() ? "" : ", ") + "phone";
    return out;
  };
  auto validity = [](uint32_t days) {
    return days == 0 ? std::string("no expiry") : std::to_string(days) + " days";
  };
  if (auto* t = std::get_if<ConsentTypeDefined>(&p))
    return "policy: consent type " + t->code + (t->retired ? " retired" : " defined") + " (" +
           t->title + "; " + validity(t->validity_days) + "; uses " + uses(t->uses) + ")";
  if (auto* r = std::get_if<ReasonDefined>(&p))
    return "policy: reason " + r->code + (r->retired ? " retired" : " defined") + " (" + r->title +
           ")";
  if (auto* c = std::get_if<ChannelPolicySet>(&p))
    return "policy: consent required for " + channels(c->consent_required) +
           "; a justification lasts " + std::to_string(c->justification_minutes) + " minutes";
  if (auto* g = std::get_if<ConsentGranted>(&p))
    return "consent " + g->type_code + " given " + FormatDate(g->given_day) + ", " +
           (g->expires_at == 0 ? "no expiry" : "valid until " + zone.Format(g->expires_at)) +
           (text().empty() ? "" : "; evidence: " + text());
  if (auto* v = std::get_if<ConsentRevoked>(&p))
    return "consent " + v->type_code + " revoked" + (text().empty() ? "" : ": " + text());
  if (auto* b = std::get_if<Blocked>(&p))
    return "blocked on " + channels(b->channels) + " (source " + b->source + "): " + text();
  auto lifting = [](const std::vector<uint64_t>& seqs) {
    std::string out;
    for (uint64_t b : seqs) out += (out.empty() ? ", lifting seq " : ", ") + std::to_string(b);
    return out;
  };
  if (auto* u = std::get_if<Unblocked>(&p)) {
    std::string sources;
    for (const auto& src : u->sources) sources += (sources.empty() ? "" : ", ") + src;
    return "unblocked on " + channels(u->channels) +
           (sources.empty() ? std::string() : " (sources " + sources + ")") + lifting(u->lifted) +
           " by officer " + u->officer + ": " + text();
  }
  // A person's events: the CRM's id is sealed with them, as the text of a
  // link (sealed under the subject's key, with the subject) and as the
  // subject of a person's own block (sealed under the person's key).
  auto person = [&](bool in_text) {
    if (personal != nullptr && personal->state == Disclosed::State::kOpen)
      return "person " + (in_text ? personal->fields.text : personal->fields.subject);
    return std::string("a person");
  };
  if (auto* l = std::get_if<PersonLinked>(&p))
    return "linked to " + person(true) + " (" + ToHex(l->person).substr(0, 16) + ")";
  if (auto* l = std::get_if<PersonUnlinked>(&p))
    return "unlinked from " + person(true) + " (" + ToHex(l->person).substr(0, 16) + ")";
  if (auto* m = std::get_if<PersonsMerged>(&p))
    return "persons merged: " + ToHex(m->from).substr(0, 16) + " into " +
           ToHex(m->into).substr(0, 16);
  if (auto* m = std::get_if<PersonsSplit>(&p))
    return "persons split: " + ToHex(m->from).substr(0, 16) + " from " +
           ToHex(m->into).substr(0, 16);
  if (auto* b = std::get_if<PersonBlocked>(&p))
    return person(false) + " blocked on " + channels(b->channels) + " (source " + b->source +
           "), every number of theirs: " + text();
  if (auto* u = std::get_if<PersonUnblocked>(&p))
    return person(false) + " unblocked on " + channels(u->channels) + lifting(u->lifted) +
           " by officer " + u->officer + ": " + text();
  if (auto* j = std::get_if<Justified>(&p))
    return std::string("contact by ") + ChannelName(j->channel) + " justified: " + j->reason_code +
           (j->operator_id.empty() ? "" : " (operator " + j->operator_id + ")") + ", until " +
           zone.Format(j->valid_until);
  if (auto* g = std::get_if<RegistryDefined>(&p))
    return "policy: registry " + g->name + (g->retired ? " retired" : " defined") + " (" +
           RegistryKindName(g->kind) + ", layout " + g->layout + "; regions " +
           [&] {
             std::string r;
             for (const auto& x : g->regions) r += (r.empty() ? "" : ", ") + x;
             return r;
           }() +
           "; " + channels(g->channels) + "; " + g->time_zone + "; answers valid " +
           std::to_string(g->validity_days) + " days; overdue after " +
           std::to_string(g->overdue_days) + " days)";
  if (auto* x = std::get_if<Erased>(&p))
    return "personal data erased on request " + x->request + " by officer " + x->officer +
           "; suppressed on every channel";
  auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
    return out.empty() ? std::string("every") : out;
  };
  if (auto* o = std::get_if<OutcomeDefined>(&p))
    return "policy: outcome " + o->code + (o->retired ? " retired" : " defined") + " (" + o->title +
           (o->effects & kOutcomeConnected ? "; connected" : "") +
           (o->effects & kOutcomeRefusal ? "; a refusal" : "") +
           (o->effects & kOutcomeWrongNumber ? "; a wrong number" : "") +
           (o->blocks != 0 ? "; blocks " + channels(o->blocks) : "") + ")";
  if (auto* h = std::get_if<CallingHoursDefined>(&p))
    return "policy: calling hours " + h->name + (h->retired ? " retired" : " defined") +
           " (regions " + list(h->regions) + "; " + channels(h->channels) + "; " + h->time_zone +
           "; " + std::to_string(h->windows.size()) + " windows, " +
           std::to_string(h->holidays.size()) + " holidays)";
  if (auto* f = std::get_if<FrequencyCapDefined>(&p))
    return "policy: frequency cap " + f->name + (f->retired ? " retired" : " defined") +
           " (regions " + list(f->regions) + "; campaigns " + list(f->campaigns) + "; " +
           channels(f->channels) + "; at most " + std::to_string(f->max_attempts) +
           " attempts in " + std::to_string(f->window_hours) + " hours; " +
           std::to_string(f->cool_down_hours) + " hours after a refusal" +
           (f->waived_by_consent ? "; waived by a consent" : "") +
           (f->per == CapScope::kPerson ? "; counted per person" : "") + ")";
  if (auto* a = std::get_if<ContactAttempted>(&p)) {
    static constexpr const char* kVerdicts[] = {"?", "allowed", "denied", "needed a justification"};
    std::string reasons;
    for (const auto& r : a->reasons) reasons += (reasons.empty() ? "" : ", ") + r;
    return std::string("contact attempt by ") + ChannelName(a->channel) + " started " +
           zone.Format(a->started_at) + ": " + a->outcome +
           (a->campaign.empty() ? "" : ", campaign " + a->campaign) +
           (a->caller_id.empty() ? "" : ", from " + a->caller_id) +
           (a->operator_id.empty() ? "" : ", operator " + a->operator_id) +
           (a->duration_s ? ", " + std::to_string(a->duration_s) + " s" : "") + "; at its start " +
           kVerdicts[static_cast<int>(a->verdict) & 3] +
           (reasons.empty() ? "" : " (" + reasons + ")") +
           (a->decision_seq ? "; acted on check seq " + std::to_string(a->decision_seq) : "") +
           ((a->flags & kAttemptNoPriorCheck) ? "; no prior check" : "") +
           ((a->flags & kAttemptUnregisteredCaller) ? "; caller id not registered" : "");
  }
  if (auto* n = std::get_if<CallerRegistered>(&p))
    return "policy: caller id " + n->number + (n->retired ? " retired" : " registered") +
           (n->campaign.empty() ? " for every campaign" : " for campaign " + n->campaign) +
           (n->roc.empty() ? "" : " (ROC " + n->roc + ")") +
           (n->retired ? "" : " from " + zone.Format(n->valid_from)) +
           (n->valid_to != 0 && !n->retired ? " to " + zone.Format(n->valid_to) : "");
  if (auto* m = std::get_if<CampaignDefined>(&p))
    return "policy: campaign " + m->code + (m->retired ? " retired" : " defined") + " (" +
           m->title + "; controller " + m->controller + "; purpose " + m->purpose +
           (m->requires_provenance ? "; requires provenance" : "") + ")";
  if (auto* l = std::get_if<ListRegistered>(&p))
    return "list " + std::to_string(l->list_id) + " registered for campaign " + l->campaign + ": " +
           l->file_name + " from " + l->supplier + ", acquired " + FormatDate(l->acquired_day) +
           ", basis " + l->basis +
           (l->consent_text.empty() ? "" : ", consent text " + l->consent_text) + " (" +
           std::to_string(l->number_count) + " numbers, sha256 " +
           ToHex(l->file_sha256).substr(0, 16) + ")";
  if (auto* m = std::get_if<ListMember>(&p)) return "on list " + std::to_string(m->list_id);
  return PayloadTypeName(e.type);
}

}  // namespace tacet
