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
using internal::Candidate;
using internal::Line;
const auto& Q = internal::Quote;

constexpr size_t kMaxSamples = 5;
constexpr size_t kMaxReturnNumberDigits = 15;

// Bytewise order of SubjectIds (the keys' order), decided in one integer
// comparison of their first 8 bytes but for one pair in 2^64.
uint64_t BigEndianPrefix(const SubjectId& id) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = v << 8 | id[i];
  return v;
}
bool IdLess(const SubjectId& a, const SubjectId& b) {
  const uint64_t pa = BigEndianPrefix(a), pb = BigEndianPrefix(b);
  return pa != pb ? pa < pb : a < b;
}

std::string JoinSamples(const std::vector<std::string>& samples, uint64_t total) {
  std::string out;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i) out += "; ";
    out += samples[i];
  }
  if (total > samples.size()) out += "; and " + std::to_string(total - samples.size()) + " more";
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

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

Ledger::Ledger(LedgerOptions options, std::unique_ptr<EventLog> log, TimeZone zone,
               TimeZone registry_zone)
    : options_(std::move(options)),
      clock_(options_.clock),
      log_(std::move(log)),
      zone_(std::move(zone)),
      registry_zone_(std::move(registry_zone)),
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
  auto registry_zone = TimeZone::Load(options.rpo.time_zone);
  if (!registry_zone.ok()) return registry_zone.status().WithContext("[registry.it-rpo] time_zone");
  EventLogOptions lo;
  lo.create_if_missing = options.create_if_missing;
  lo.read_only = options.read_only;
  lo.sync = options.sync;
  lo.mirror_projections = options.mirror_projections;
  lo.projection_families = ProjectionFamilies();
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
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(options), std::move(log),
                                            std::move(zone).value(),
                                            std::move(registry_zone).value()));
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

const RegistryConfig* Ledger::FindRegistry(std::string_view name) const {
  return name == options_.rpo.name ? &options_.rpo : nullptr;
}

bool Ledger::InScope(const Subject& s, const RegistryConfig& reg) const {
  return s.kind == SubjectKind::kPhone &&
         std::find(reg.regions.begin(), reg.regions.end(), s.region) != reg.regions.end();
}

Result<SessionRecord> Ledger::LoadSession(uint64_t id) const {
  TACET_ASSIGN_OR_RETURN(auto bytes, log_->Get(projector_.sessions_family(), SessionKey(id)));
  if (!bytes)
    return Status::NotFound("unknown session " + std::to_string(id) +
                            " (list them with 'tacet sessions')");
  return DecodeSession(*bytes);
}

// ---------------------------------------------------------------------------
// Export

Result<ExportReport> Ledger::Export(const ExportRequest& req, const Actor& actor) {
  const RegistryConfig* reg = FindRegistry(req.registry);
  if (reg == nullptr)
    return Status::InvalidArgument("unknown registry " + Q(req.registry) +
                                   " (known: " + options_.rpo.name + ")");
  if (req.limit && *req.limit == 0)
    return Status::InvalidArgument(
        "--limit 0 would export nothing; leave --limit out for no limit; nothing was exported");
  const uint32_t fresh_days = req.fresh_days.value_or(reg->fresh_days);
  const TimeMs now = clock_->NowMs();
  ExportReport rep;

  TACET_ASSIGN_OR_RETURN(
      std::vector<Candidate> cands,
      internal::Candidates(req.candidates_path, req.candidates_content, req.column, false));
  rep.lines = cands.size();

  // Unique, valid, in-scope numbers in input order. Parsed one by one and kept
  // as their two strings: a million Subjects held at once cost more in fresh
  // memory than the parse itself. (Sequential on purpose: libphonenumber's
  // regex cache takes a lock per match, and two threads measured slower.)
  struct Number {
    std::string e164, national;
    SubjectId id;
  };
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  std::vector<Number> numbers;
  numbers.reserve(cands.size());
  {
    std::unordered_set<std::string> foreign;
    for (const Candidate& c : cands) {
      Result<Subject> parsed = parser_.ParsePhone(c.value, false);
      if (!parsed.ok()) {
        if (rep.invalid++ < kMaxSamples)
          rep.invalid_samples.push_back("line " + std::to_string(c.line) + ": " +
                                        parsed.status().message());
        continue;
      }
      Subject& s = parsed.value();
      if (!InScope(s, *reg)) {
        (foreign.insert(std::move(s.value)).second ? rep.out_of_scope : rep.duplicates)++;
        continue;
      }
      numbers.push_back({std::move(s.value), std::move(s.national), {}});
    }
  }
  // Repeated numbers: the first keeps its place, the others go. An E.164
  // number is at most 15 digits after the "+", its country code never
  // starting with 0: as an integer it names the number exactly, and a
  // million of them sort (beside their places) faster than a hash set of
  // strings fills.
  {
    std::vector<std::pair<uint64_t, uint32_t>> by_value;
    by_value.reserve(numbers.size());
    for (size_t i = 0; i < numbers.size(); ++i) {
      const std::string& e = numbers[i].e164;
      uint64_t v = 0;
      bool digits = e.size() >= 2 && e.size() <= 16 && e[0] == '+';
      for (size_t j = 1; digits && j < e.size(); ++j) {
        digits = e[j] >= '0' && e[j] <= '9';
        v = v * 10 + static_cast<uint64_t>(e[j] - '0');
      }
      if (!digits) return Status::Internal("not an E.164 number: " + Q(e));
      by_value.emplace_back(v, static_cast<uint32_t>(i));
    }
    std::sort(by_value.begin(), by_value.end());
    std::vector<bool> repeated(numbers.size(), false);
    for (size_t i = 1; i < by_value.size(); ++i)
      if (by_value[i].first == by_value[i - 1].first) repeated[by_value[i].second] = true;
    size_t kept = 0;
    for (size_t i = 0; i < numbers.size(); ++i) {
      if (repeated[i]) {
        ++rep.duplicates;
        continue;
      }
      if (kept != i) numbers[kept] = std::move(numbers[i]);
      ++kept;
    }
    numbers.resize(kept, Number{});
  }

  for (Number& n : numbers) n.id = keyer_->Of(n.e164);
  // The ids in key order, beside their places: the reads below then meet
  // each block of the store once, in order, and the session's events are
  // written in this order too.
  std::vector<std::pair<SubjectId, uint32_t>> by_id;
  by_id.reserve(numbers.size());
  for (size_t i = 0; i < numbers.size(); ++i)
    by_id.emplace_back(numbers[i].id, static_cast<uint32_t>(i));
  std::sort(by_id.begin(), by_id.end(),
            [](const auto& a, const auto& b) { return IdLess(a.first, b.first); });
  // What the ledger knows of each, decoded as it is read: whether the
  // internal do-not-call list holds it for every channel the registry
  // governs (voice and SMS: not worth checking) or it was erased, and the
  // registry's last answer.
  enum : uint8_t { kUnknown, kErasedSubject, kBlockedSubject };
  enum : uint8_t { kNoAnswer, kListedNumber, kFreshNumber, kExpiring };
  std::vector<uint8_t> subject_is(numbers.size(), kUnknown);
  std::vector<uint8_t> registry_says(numbers.size(), kNoAnswer);
  std::vector<TimeMs> clearance_ends;  // by place, for kExpiring only
  const TimeMs fresh_until = now + static_cast<TimeMs>(fresh_days) * kMsPerDay;
  {
    Status bad;
    std::vector<std::string> keys;
    keys.reserve(by_id.size());
    for (const auto& [id, i] : by_id) keys.push_back(RegistryKey(reg->name, id));
    TACET_RETURN_IF_ERROR(
        log_->MultiGet(projector_.registry_family(), keys, [&](size_t k, std::string_view v) {
          if (!bad.ok()) return;
          Result<RegistryState> st = DecodeRegistryState(v);
          if (!st.ok()) {
            bad = st.status();
            return;
          }
          const uint32_t i = by_id[k].second;
          if (const RegistryEntry* e = st->At(now)) {
            if (e->outcome == RegistryOutcome::kListed) {
              registry_says[i] = kListedNumber;
            } else if (e->valid_until > fresh_until) {
              registry_says[i] = kFreshNumber;
            } else {
              if (clearance_ends.empty()) clearance_ends.assign(numbers.size(), INT64_MAX);
              registry_says[i] = kExpiring;
              clearance_ends[i] = e->valid_until;
            }
          }
        }));
    keys.clear();
    for (const auto& [id, i] : by_id) keys.push_back(SubjectKey(id));
    TACET_RETURN_IF_ERROR(
        log_->MultiGet(projector_.subject_family(), keys, [&](size_t k, std::string_view v) {
          if (!bad.ok()) return;
          Result<SubjectState> ss = DecodeSubjectState(v);
          if (!ss.ok()) {
            bad = ss.status();
            return;
          }
          const uint32_t i = by_id[k].second;
          if (ss->erased_seq != 0) {
            subject_is[i] = kErasedSubject;
          } else if (!ActiveBlocks(*ss, Channel::kVoice, now).empty() &&
                     !ActiveBlocks(*ss, Channel::kSms, now).empty()) {
            subject_is[i] = kBlockedSubject;
          }
        }));
    TACET_RETURN_IF_ERROR(bad);
  }

  // Numbers sent in a session of this registry that is still open (no
  // return, not overdue) await their answer: sending them again would open
  // a second question about the same number.
  TACET_ASSIGN_OR_RETURN(std::vector<SessionView> sessions, Sessions());
  // (A SubjectId is a keyed hash: any 8 of its bytes hash it well.)
  struct IdHash {
    size_t operator()(const SubjectId& id) const {
      size_t h;
      std::memcpy(&h, id.data(), sizeof h);
      return h;
    }
  };
  std::unordered_set<SubjectId, IdHash> pending;
  if (!req.include_pending)
    for (const SessionView& sv : sessions) {
      if (sv.state != SessionState::kOpen || sv.record.registry != reg->name) continue;
      const std::string prefix = SessionMembersPrefix(sv.record.id);
      TACET_RETURN_IF_ERROR(log_->ScanFamily(projector_.sessions_family(), prefix,
                                             [&](std::string_view k, std::string_view) {
                                               if (auto id = HashFromBytes(k.substr(prefix.size())))
                                                 pending.insert(*id);
                                               return true;
                                             }));
    }

  struct Pick {
    TimeMs expires;  // clearance end; never checked: INT64_MAX (last)
    size_t index;
  };
  std::vector<Pick> picks;
  picks.reserve(numbers.size());
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (subject_is[i] == kErasedSubject) {
      ++rep.erased;
      continue;
    }
    if (subject_is[i] == kBlockedSubject) {
      ++rep.blocked;
      continue;
    }
    if (registry_says[i] == kListedNumber) {
      ++rep.known_listed;
      continue;
    }
    if (registry_says[i] == kFreshNumber) {
      ++rep.fresh;
      continue;
    }
    const TimeMs expires = registry_says[i] == kExpiring ? clearance_ends[i] : INT64_MAX;
    if (!pending.empty() && pending.count(numbers[i].id) != 0) {
      ++rep.pending;
      continue;
    }
    picks.push_back({expires, i});
  }
  std::stable_sort(picks.begin(), picks.end(),
                   [](const Pick& a, const Pick& b) { return a.expires < b.expires; });
  if (req.limit && picks.size() > *req.limit) {
    rep.over_limit = picks.size() - *req.limit;
    picks.resize(*req.limit);
  }
  rep.exported = picks.size();
  if (picks.empty()) return rep;
  // The selection decided who goes; each file lists its numbers in national
  // order (deterministic, and sequential keys insert fastest into RocksDB).
  // (Each national form, at most 17 digits, as a number in base 11 with
  // the digits shifted by one and padded with 0, below 11^17 < 2^64:
  // integer order is string order, and a million compare as integers.)
  auto order_of = [](std::string_view digits) {
    uint64_t v = 0;
    for (size_t i = 0; i < 17; ++i)
      v = v * 11 + (i < digits.size() ? static_cast<uint64_t>(digits[i] - '0') + 1 : 0);
    return v;
  };
  std::vector<std::pair<uint64_t, size_t>> by_national;
  for (size_t from = 0; from < picks.size(); from += reg->max_lines) {
    const size_t to = std::min(picks.size(), from + reg->max_lines);
    by_national.clear();
    for (size_t i = from; i < to; ++i)
      by_national.emplace_back(order_of(numbers[picks[i].index].national), picks[i].index);
    std::sort(by_national.begin(), by_national.end());
    for (size_t i = from; i < to; ++i) picks[i].index = by_national[i - from].second;
  }

  // Files first (refused if any exists), then one batch; files are removed
  // again if the batch does not commit.
  std::string out_dir =
      req.out_dir.empty() ? (fs::path(options_.data_dir) / "exports").string() : req.out_dir;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec)
    return Status::IOError("cannot create output directory " + Q(out_dir) + ": " + ec.message());

  TACET_ASSIGN_OR_RETURN(auto next_bytes, log_->Get(projector_.sessions_family(), kNextSessionKey));
  uint64_t next_id = next_bytes ? internal::ByteReader(*next_bytes).U64() : 1;
  const uint64_t parts = (picks.size() + reg->max_lines - 1) / reg->max_lines;
  // A session's name is its time to the second (the registry's naming);
  // a later export in the same second takes the next free second, so every
  // session has a name of its own.
  std::string stamp = registry_zone_.CompactStamp(now);
  {
    std::string last;
    for (const SessionView& sv : sessions) {
      const std::string& name = sv.record.file_name;
      if (name.size() < reg->file_prefix.size() + stamp.size() ||
          name.compare(0, reg->file_prefix.size(), reg->file_prefix) != 0)
        continue;
      std::string used = name.substr(reg->file_prefix.size(), stamp.size());
      if (std::all_of(used.begin(), used.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        last = std::max(last, used);
    }
    for (TimeMs t = now; stamp <= last;) stamp = registry_zone_.CompactStamp(t += 1000);
  }
  std::vector<std::string> written;
  auto cleanup = [&] {
    for (auto& p : written) fs::remove(p, ec);
  };

  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, picks.size() + parts));
  // Each picked number's upload file; the others none.
  std::vector<uint32_t> part_of(numbers.size(), UINT32_MAX);
  for (uint64_t part = 0; part < parts; ++part) {
    size_t from = part * reg->max_lines;
    size_t to = std::min(picks.size(), from + reg->max_lines);
    std::string base = reg->file_prefix + stamp + (part == 0 ? "" : "_" + std::to_string(part + 1));
    ExportedFile f;
    f.session_id = next_id + part;
    f.txt_path = (fs::path(out_dir) / (base + ".txt")).string();
    f.zip_path = (fs::path(out_dir) / (base + ".zip")).string();
    f.numbers = to - from;
    std::string content;
    content.reserve((to - from) * 12);
    for (size_t i = from; i < to; ++i) {
      content.append(numbers[picks[i].index].national);
      content.append("\r\n");
    }
    if (fs::exists(f.zip_path, ec)) {
      cleanup();
      return Status::AlreadyExists(Q(f.zip_path) + " already exists; nothing was exported");
    }
    Status ws = internal::WriteFileExclusive(f.txt_path, content);
    if (!ws.ok()) {
      cleanup();
      return ws.WithContext("nothing was exported");
    }
    written.push_back(f.txt_path);
    ws = internal::WriteZip(f.zip_path, base + ".txt", content);
    if (!ws.ok()) {
      cleanup();
      return ws.WithContext("nothing was exported");
    }
    written.push_back(f.zip_path);
    f.txt_sha256 = Sha256(content);
    auto zip_bytes = internal::ReadFile(f.zip_path, internal::kMaxFileBytes);
    if (!zip_bytes.ok()) {
      cleanup();
      return zip_bytes.status();
    }
    f.zip_sha256 = Sha256(*zip_bytes);

    ExportSessionOpened opened;
    opened.session_id = f.session_id;
    opened.registry = reg->name;
    opened.file_name = base + ".txt";
    opened.file_sha256 = f.txt_sha256;
    opened.zip_name = base + ".zip";
    opened.zip_sha256 = f.zip_sha256;
    opened.number_count = f.numbers;
    opened.fresh_days = fresh_days;
    opened.limit = req.limit.value_or(0);
    opened.part = static_cast<uint32_t>(part + 1);
    opened.parts = static_cast<uint32_t>(parts);
    Payload p = std::move(opened);
    Status as = projector_.Apply(batch.Add(p), p, batch);
    // The events go in SubjectId order (the file keeps national order):
    // their index entries and the session's member keys then come sorted,
    // and the bulk path writes them as they lie instead of sorting a
    // million keys scattered over the batch.
    for (size_t i = from; i < to; ++i) part_of[picks[i].index] = static_cast<uint32_t>(part);
    Payload np = SessionNumber{f.session_id, reg->name, {}};
    for (const auto& [id, i] : by_id) {
      if (!as.ok()) break;
      if (part_of[i] != part) continue;
      std::get<SessionNumber>(np).subject = id;
      as = projector_.Apply(batch.Add(np), np, batch);
    }
    if (!as.ok()) {
      cleanup();
      return as;
    }
    rep.files.push_back(std::move(f));
  }
  Status cs = log_->Commit(std::move(batch));
  if (!cs.ok()) {
    cleanup();
    return cs.WithContext("nothing was exported");
  }
  return rep;
}

// ---------------------------------------------------------------------------
// Import of a return

Result<ImportReport> Ledger::ImportReturn(const ImportRequest& req, const Actor& actor) {
  const TimeMs now = clock_->NowMs();
  TACET_ASSIGN_OR_RETURN(SessionRecord session, LoadSession(req.session_id));
  const RegistryConfig* reg = FindRegistry(session.registry);
  if (reg == nullptr)
    return Status::Internal("session " + std::to_string(session.id) + " names unknown registry " +
                            Q(session.registry));

  auto received = ParseDate(req.received);
  if (!received.ok()) return received.status().WithContext("--received");
  const Day export_day = registry_zone_.DayOf(session.opened_at);
  if (*received < export_day)
    return Status::InvalidArgument("--received " + req.received +
                                   " is before the export of session " +
                                   std::to_string(session.id) + " on " + FormatDate(export_day));
  if (*received > registry_zone_.DayOf(now))
    return Status::InvalidArgument("--received " + req.received + " is in the future (today is " +
                                   FormatDate(registry_zone_.DayOf(now)) + " in " +
                                   registry_zone_.name() + ")");

  // The file: a .txt, or a .zip holding it.
  std::string content;
  if (req.content) {
    content = *req.content;
  } else {
    TACET_ASSIGN_OR_RETURN(content, internal::ReadFile(req.path, internal::kMaxFileBytes));
  }
  std::string file_name = fs::path(req.path).filename().string();
  std::string shown = req.path;
  if (internal::LooksLikeZip(content)) {
    std::string entry;
    TACET_ASSIGN_OR_RETURN(
        content, internal::ReadOnlyMember(content, req.path, reg->max_return_bytes, &entry));
    file_name = entry;
    shown = req.path + "!" + entry;
  } else if (content.size() > reg->max_return_bytes) {
    return Status::InvalidArgument(Q(req.path) + " holds " + std::to_string(content.size()) +
                                   " bytes; a return holds at most " +
                                   std::to_string(reg->max_return_bytes) +
                                   " (registry max_return_bytes); nothing was imported");
  }
  if (auto bad = CheckUtf8File(content, shown)) return Status::InvalidArgument(*bad);
  ImportReport rep;
  rep.session_id = session.id;
  rep.file_name = file_name;
  rep.file_sha256 = Sha256(content);
  rep.received_day = *received;

  TACET_ASSIGN_OR_RETURN(auto dup, log_->Get(projector_.sessions_family(),
                                             ReturnFileKey(session.id, rep.file_sha256)));
  if (dup)
    return Status::AlreadyExists(
        shown + ": this file (SHA-256 " + ToHex(rep.file_sha256).substr(0, 16) +
        "...) was already imported for session " + std::to_string(session.id) + " as seq " +
        std::to_string(internal::ByteReader(*dup).U64()));
  if (!session.returns.empty() && !req.supersede)
    return Status::FailedPrecondition("session " + std::to_string(session.id) +
                                      " already has a return (" + session.returns.back().file_name +
                                      ", seq " + std::to_string(session.returns.back().seq) +
                                      "); pass --supersede to replace it with " + Q(file_name));

  // The session's numbers by SubjectId, in key order: read while the file
  // is parsed (a refusal waits for the read, which changes nothing).
  struct Member {
    SubjectId id;
    uint8_t outcome;  // 0 absent from the return, 1 cleared, 2 listed
  };
  std::vector<Member> members;
  std::future<Status> members_read = std::async(std::launch::async, [&]() -> Status {
    members.reserve(session.number_count);
    const std::string prefix = SessionMembersPrefix(session.id);
    Status bad_key;
    TACET_RETURN_IF_ERROR(log_->ScanFamily(
        projector_.sessions_family(), prefix, [&](std::string_view k, std::string_view) {
          k.remove_prefix(prefix.size());
          std::optional<SubjectId> id = HashFromBytes(k);
          if (!id) {
            bad_key =
                Status::Corruption("session " + std::to_string(session.id) +
                                   " has a member key of " + std::to_string(k.size()) + " bytes");
            return false;
          }
          members.push_back({*id, 0});
          return true;
        }));
    return bad_key;
  });

  // Parse every line before touching the ledger.
  std::vector<Line> lines = internal::SplitLines(content);
  // An empty filtered return says the registry lists every number sent: a
  // truncated download says the same, so only an officer's word lets it in.
  if (lines.empty() && !req.empty_is_all_listed)
    return Status::InvalidArgument(
        shown + " holds no number: as a filtered return it would mark all " +
        std::to_string(session.number_count) + " numbers of session " + std::to_string(session.id) +
        " listed. If that is the registry's answer, pass --empty-is-all-listed; nothing was "
        "imported");
  bool status_layout = !lines.empty() && lines[0].text.find(',') != std::string_view::npos;
  rep.layout = status_layout ? ReturnLayout::kStatus : ReturnLayout::kFiltered;
  std::vector<std::string> bad;
  uint64_t bad_count = 0;
  auto malformed = [&](const Line& l, const std::string& why) {
    if (bad_count++ < kMaxSamples)
      bad.push_back("line " + std::to_string(l.number) + " " + Q(l.text) + " (" + why + ")");
  };
  struct Row {
    std::string_view number;
    bool listed;
    uint64_t line;
  };
  std::vector<Row> rows;
  rows.reserve(lines.size());
  std::vector<std::string_view> fields;
  for (const Line& l : lines) {
    std::string_view number = l.text;
    bool listed = false;
    if (status_layout) {
      fields.clear();
      std::string_view rest = l.text;
      while (true) {
        size_t c = rest.find(',');
        std::string_view f = rest.substr(0, c);
        while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
        while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
        fields.push_back(f);
        if (c == std::string_view::npos) break;
        rest.remove_prefix(c + 1);
      }
      if (fields.size() < 2 || fields.size() > 3) {
        malformed(l, "expected number,status[,date]");
        continue;
      }
      number = fields[0];
      if (fields[1] == "1") {
        listed = true;
      } else if (fields[1] != "0") {
        malformed(l, "status must be 0 or 1");
        continue;
      }
      if (fields.size() == 3 && !fields[2].empty() && !ParseDate(fields[2]).ok()) {
        malformed(l, "date must be YYYY-MM-DD");
        continue;
      }
    }
    if (!AllDigits(number)) {
      malformed(l, "not a number");
      continue;
    }
    if (number.size() > kMaxReturnNumberDigits) {
      malformed(l, "too long");
      continue;
    }
    rows.push_back({number, listed, l.number});
  }
  if (bad_count > 0)
    return Status::InvalidArgument(shown + ": " + std::to_string(bad_count) + " malformed line" +
                                   (bad_count > 1 ? "s" : "") + ": " + JoinSamples(bad, bad_count) +
                                   "; nothing was imported");

  // A line of the return is a national form the upload file listed: "+"
  // country code ‖ line is its E.164, whose SubjectId finds its member.
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  TACET_RETURN_IF_ERROR(members_read.get());
  const std::string country = "+" + std::to_string(SubjectParser::CountryCodeOf(
                                        reg->regions.empty() ? "IT" : reg->regions.front()));
  struct Keyed {
    SubjectId id;
    const Row* row;
  };
  std::vector<Keyed> keyed(rows.size());
  {
    auto hash = [&](size_t from, size_t to) {
      std::string e164 = country;
      for (size_t i = from; i < to; ++i) {
        e164.resize(country.size());
        e164.append(rows[i].number);
        keyed[i] = {keyer_->Of(e164), &rows[i]};
      }
    };
    // The keyed hash is most of a large return's CPU: two threads share it.
    if (rows.size() >= 16384) {
      std::thread other(hash, 0, rows.size() / 2);
      hash(rows.size() / 2, rows.size());
      other.join();
    } else {
      hash(0, rows.size());
    }
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const Keyed& a, const Keyed& b) { return IdLess(a.id, b.id); });
  std::vector<const Row*> foreign;
  {
    size_t j = 0;
    for (const Keyed& kr : keyed) {
      while (j < members.size() && members[j].id < kr.id) ++j;
      if (j == members.size() || members[j].id != kr.id) {
        foreign.push_back(kr.row);
        continue;
      }
      uint8_t& outcome = members[j].outcome;
      if (outcome != 0) ++rep.duplicate_lines;
      // A number reported both ways counts as listed: the conservative reading.
      outcome = std::max<uint8_t>(outcome, kr.row->listed ? 2 : 1);
    }
  }
  if (!foreign.empty()) {
    // The first offending lines of the file.
    size_t shown_n = std::min(kMaxSamples, foreign.size());
    std::partial_sort(foreign.begin(), foreign.begin() + static_cast<std::ptrdiff_t>(shown_n),
                      foreign.end(), [](const Row* a, const Row* b) { return a->line < b->line; });
    std::vector<std::string> samples;
    for (size_t i = 0; i < shown_n; ++i)
      samples.push_back("line " + std::to_string(foreign[i]->line) + " " + Q(foreign[i]->number));
    uint64_t n = foreign.size();
    return Status::InvalidArgument(
        shown + ": " + std::to_string(n) + " number" + (n > 1 ? "s are" : " is") +
        " not in session " + std::to_string(session.id) + " (" + session.file_name +
        "): " + JoinSamples(samples, n) +
        "; is the right session selected? (see 'tacet sessions'); nothing was imported");
  }
  rep.lines = rows.size();

  // One batch: the header, then a result for every number of the session, in
  // SubjectId order: sequential keys insert fastest.
  const Day day = *received;
  const TimeMs effective_from = registry_zone_.StartOfDay(day);
  rep.valid_until = registry_zone_.StartOfDay(day + static_cast<Day>(reg->validity_days) + 1);
  for (const Member& m : members) (m.outcome == 1 ? rep.cleared : rep.listed)++;
  const auto& order = members;
  // What the registry already said of each (nothing, for most): read once,
  // in key order, beside the members. Each number's record is written by
  // its one result of this batch and read by nothing else in it, so the
  // fold takes it from here rather than through the batch's view.
  std::vector<std::optional<std::string>> prior(order.size());
  {
    std::vector<std::string> keys;
    keys.reserve(order.size());
    for (auto& o : order) keys.push_back(RegistryKey(reg->name, o.id));
    TACET_RETURN_IF_ERROR(log_->MultiGet(projector_.registry_family(), keys,
                                         [&](size_t i, std::string_view v) { prior[i] = v; }));
  }
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, order.size() + 1));
  ReturnImported header;
  header.session_id = session.id;
  header.registry = reg->name;
  header.file_name = file_name;
  header.file_sha256 = rep.file_sha256;
  header.received_day = day;
  header.layout = rep.layout;
  header.cleared = rep.cleared;
  header.listed = rep.listed;
  header.validity_days = reg->validity_days;
  header.supersedes = !session.returns.empty();
  Payload hp = std::move(header);
  TACET_RETURN_IF_ERROR(projector_.Apply(batch.Add(hp), hp, batch));
  RegistryResult rr;
  rr.session_id = session.id;
  rr.registry = reg->name;
  rr.received_day = day;
  rr.effective_from = effective_from;
  Payload p = rr;
  for (size_t i = 0; i < order.size(); ++i) {
    const Member& o = order[i];
    auto& r = std::get<RegistryResult>(p);
    const bool cleared = o.outcome == 1;
    r.subject = o.id;
    r.outcome = cleared ? RegistryOutcome::kCleared : RegistryOutcome::kListed;
    r.valid_until = cleared ? rep.valid_until : 0;
    TACET_RETURN_IF_ERROR(projector_.ApplyRegistryResult(
        batch.Add(p), r, prior[i] ? std::optional<std::string_view>(*prior[i]) : std::nullopt,
        batch,
        /*unread=*/true));
  }
  rep.first_seq = batch.first_seq();
  rep.last_seq = batch.last_seq();
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  return rep;
}

// ---------------------------------------------------------------------------
// Queries

Result<std::vector<SessionView>> Ledger::Sessions() const {
  std::vector<SessionView> out;
  const TimeMs now = clock_->NowMs();
  Status inner;
  TACET_RETURN_IF_ERROR(log_->ScanFamily(
      projector_.sessions_family(), "s", [&](std::string_view, std::string_view v) {
        auto rec = DecodeSession(v);
        if (!rec.ok()) {
          inner = rec.status();
          return false;
        }
        SessionView sv;
        sv.record = std::move(rec).value();
        if (!sv.record.returns.empty()) {
          sv.state = SessionState::kAnswered;
        } else if (now - sv.record.opened_at >
                   static_cast<TimeMs>(options_.rpo.overdue_days) * kMsPerDay) {
          sv.state = SessionState::kOverdue;
        }
        out.push_back(std::move(sv));
        return true;
      }));
  TACET_RETURN_IF_ERROR(inner);
  return out;
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
  if (auto* u = std::get_if<Unblocked>(&p)) {
    std::string lifted;
    for (uint64_t b : u->lifted) lifted += (lifted.empty() ? "" : ", ") + std::to_string(b);
    std::string sources;
    for (const auto& src : u->sources) sources += (sources.empty() ? "" : ", ") + src;
    return "unblocked on " + channels(u->channels) +
           (sources.empty() ? std::string() : " (sources " + sources + ")") +
           (lifted.empty() ? std::string() : ", lifting seq " + lifted) + " by officer " +
           u->officer + ": " + text();
  }
  if (auto* j = std::get_if<Justified>(&p))
    return std::string("contact by ") + ChannelName(j->channel) + " justified: " + j->reason_code +
           (j->operator_id.empty() ? "" : " (operator " + j->operator_id + ")") + ", until " +
           zone.Format(j->valid_until);
  if (auto* x = std::get_if<Erased>(&p))
    return "personal data erased on request " + x->request + " by officer " + x->officer +
           "; suppressed on every channel";
  return PayloadTypeName(e.type);
}

}  // namespace tacet
