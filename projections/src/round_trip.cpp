// The round trip with a registry (Italy's RPO): the export of an upload
// file and the import of the registry's return, driven over the
// RoundTripRegistry that reads and writes the registry's files, and the
// sessions they open.
#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_set>

#include "../internal/bytes.h"
#include "../internal/number_file.h"
#include "../internal/text.h"
#include "../internal/zip.h"
#include "tacet/core/utf8.h"
#include "tacet/projections/ledger.h"

namespace tacet {
namespace {

using internal::OrderById;

namespace fs = std::filesystem;
using internal::JoinSamples;
const auto& Q = internal::Quote;

constexpr size_t kMaxSamples = 5;

// How far ahead a pass in one order fetches what it reads in another.
constexpr size_t kAhead = 16;

// fn(from, to) over [0, n) on two threads when n is large enough to pay
// for the second one.
template <class Fn>
void OnTwoThreads(size_t n, Fn&& fn) {
  if (n < 16384) {
    fn(size_t{0}, n);
    return;
  }
  std::thread other(fn, size_t{0}, n / 2);
  fn(n / 2, n);
  other.join();
}

// A MultiGet of the keys make(id_of(0)) .. make(id_of(n - 1)), where
// `make(id)` builds a key that ends with its id; found(k, value) for each
// key found. The keys are built a slice at a time into one buffer, with a
// view of each: a million keys as strings are a million allocations, and
// a million at once are 50 MB of fresh memory, which the kernel zeroes
// first. (Indices, not std::views: clang with libstdc++ 12, the fuzz build,
// cannot compile its ranges.)
template <class IdOf, class Make, class Found>
Status MultiGetByIds(const EventLog& log, int family, size_t n, IdOf&& id_of, Make&& make,
                     Found&& found) {
  constexpr size_t kSlice = 1u << 16;
  const std::string sample = make(SubjectId{});
  const size_t size = sample.size(), prefix = size - SubjectId{}.size();
  std::string bytes;
  std::vector<std::string_view> views;
  for (size_t from = 0; from < n; from += kSlice) {
    const size_t m = std::min(kSlice, n - from);
    bytes.clear();
    bytes.reserve(m * size);
    for (size_t i = from; i < from + m; ++i) {
      bytes.append(sample, 0, prefix);
      bytes.append(AsBytes(id_of(i)));
    }
    views.clear();
    for (size_t i = 0; i < m; ++i) views.emplace_back(bytes.data() + i * size, size);
    TACET_RETURN_IF_ERROR(log.MultiGet(family, std::span<const std::string_view>(views),
                                       [&](size_t k, std::string_view v) { found(from + k, v); }));
  }
  return Status::Ok();
}

}  // namespace

const RegistryConfig& Ledger::RegistrySettings(std::string_view name) const {
  static const RegistryConfig defaults;
  const RegistryConfig* r = options_.policy.FindRegistry(name);
  return r != nullptr ? *r : defaults;
}

Result<std::shared_ptr<const RoundTripRegistry>> Ledger::RoundTrip(std::string_view name,
                                                                   bool in_force) const {
  std::shared_ptr<const Registry> found;
  std::string known;
  {
    std::shared_lock lock(policy_mu_);
    if (in_force) {
      for (const auto& [n, v] : current_policy_.registries) {
        known += (known.empty() ? "" : ", ") + n;
        if (n == name) found = v.value;
      }
    } else if (auto it = policy_.registries.find(std::string(name));
               it != policy_.registries.end()) {
      if (!it->second.empty()) found = it->second.back().value;
    } else if (auto cur = current_policy_.registries.find(std::string(name));
               cur != current_policy_.registries.end()) {
      found = cur->second.value;  // the built-in definition
    }
  }
  if (found == nullptr)
    return in_force
               ? Status::InvalidArgument("unknown registry " + Q(name) +
                                         " (in force: " + (known.empty() ? "none" : known) + ")")
               : Status::Corruption("registry " + Q(name) + " was never defined");
  if (found->kind() != RegistryKind::kRoundTrip)
    return Status::InvalidArgument("registry " + Q(name) + " is a " +
                                   RegistryKindName(found->kind()) +
                                   " registry: nothing is exported to it");
  return std::static_pointer_cast<const RoundTripRegistry>(found);
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
  TACET_ASSIGN_OR_RETURN(std::shared_ptr<const RoundTripRegistry> registry,
                         RoundTrip(req.registry, /*in_force=*/true));
  const RoundTripRegistry* reg = registry.get();
  const RegistryDefined& def = reg->definition();
  if (req.limit && *req.limit == 0)
    return Status::InvalidArgument(
        "--limit 0 would export nothing; leave --limit out for no limit; nothing was exported");
  const uint32_t fresh_days = req.fresh_days.value_or(RegistrySettings(def.name).fresh_days);
  const TimeMs now = clock_->NowMs();
  ExportReport rep;

  // The candidates are parsed as they are read from the content: a vector
  // of a million of them is 40 MB of fresh memory for nothing.
  std::string read;
  if (!req.candidates_content) {
    TACET_ASSIGN_OR_RETURN(read, internal::ReadFile(req.candidates_path, internal::kMaxFileBytes));
  }
  const std::string_view content = req.candidates_content ? *req.candidates_content : read;

  // Unique, valid, in-scope numbers in input order, each with its keyed
  // hash (internal::ParseNumberFile).
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  using Number = internal::ParsedNumber;
  const auto national_of = internal::NationalOf;
  internal::NumberFileCounts counts;
  TACET_ASSIGN_OR_RETURN(std::vector<Number> numbers,
                         internal::ParseNumberFile(
                             content, req.candidates_path, req.column, parser_, *keyer_,
                             [reg](const Subject& s) { return reg->InScope(s); }, &counts));
  rep.lines = counts.lines;
  rep.invalid = counts.invalid;
  rep.invalid_samples = std::move(counts.invalid_samples);
  rep.out_of_scope = counts.out_of_scope;
  rep.duplicates = counts.duplicates;

  // The places in the order of their ids: the reads below then meet each
  // block of the store once, in order, and the session's events are written
  // in this order too. (Each pass reads the numbers in this order, fetching
  // ahead: a random read costs a cache miss otherwise.)
  const std::vector<uint32_t> by_id =
      OrderById(numbers.size(), [&](size_t i) -> const SubjectId& { return numbers[i].id; });
  auto number_at = [&](size_t k) -> const Number& {
    if (k + kAhead < by_id.size()) __builtin_prefetch(&numbers[by_id[k + kAhead]]);
    return numbers[by_id[k]];
  };
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
    auto ids = [&](size_t k) -> const SubjectId& { return number_at(k).id; };
    TACET_RETURN_IF_ERROR(MultiGetByIds(
        *log_, projector_.registry_family(), by_id.size(), ids,
        [&](const SubjectId& id) { return RegistryKey(def.name, id); },
        [&](size_t k, std::string_view v) {
          if (!bad.ok()) return;
          Result<RegistryState> st = DecodeRegistryState(v);
          if (!st.ok()) {
            bad = st.status();
            return;
          }
          const uint32_t i = by_id[k];
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
    TACET_RETURN_IF_ERROR(MultiGetByIds(
        *log_, projector_.subject_family(), by_id.size(), ids,
        [](const SubjectId& id) { return SubjectKey(id); },
        [&](size_t k, std::string_view v) {
          if (!bad.ok()) return;
          Result<SubjectState> ss = DecodeSubjectState(v);
          if (!ss.ok()) {
            bad = ss.status();
            return;
          }
          const uint32_t i = by_id[k];
          if (ss->erased_seq != 0) {
            subject_is[i] = kErasedSubject;
          } else if (!ActiveBlocks(*ss, Channel::kVoice, now).empty() &&
                     !ActiveBlocks(*ss, Channel::kSms, now).empty()) {
            subject_is[i] = kBlockedSubject;
          }
        }));
    TACET_RETURN_IF_ERROR(bad);
  }

  // A campaign that requires provenance (issue 18): only the numbers on one
  // of its lists are asked about.
  std::vector<bool> on_list;
  if (!req.campaign.empty()) {
    std::vector<uint64_t> lists;
    bool required = false;
    {
      std::shared_lock lock(policy_mu_);
      const CampaignDefined* campaign = current_policy_.Campaign(req.campaign);
      if (campaign == nullptr)
        return Status::NotFound("campaign " + Q(req.campaign) +
                                " is not defined (tacet campaign define); nothing was exported");
      required = campaign->requires_provenance;
      lists = current_policy_.ListsOf(req.campaign);
    }
    if (required) {
      on_list.assign(numbers.size(), false);
      for (uint64_t list : lists)
        TACET_RETURN_IF_ERROR(MultiGetByIds(
            *log_, projector_.list_family(), by_id.size(),
            [&](size_t k) -> const SubjectId& { return number_at(k).id; },
            [list](const SubjectId& id) { return ListMemberKey(list, id); },
            [&](size_t k, std::string_view) { on_list[by_id[k]] = true; }));
    }
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
      if (sv.state != SessionState::kOpen || sv.record.registry != def.name) continue;
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
    if (!on_list.empty() && !on_list[i]) {
      ++rep.no_provenance;
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
  // Soonest-expiring first; with no clearance expiring (every pick never
  // checked), the input order already is that order.
  if (!clearance_ends.empty())
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
  for (size_t from = 0; from < picks.size(); from += def.max_lines) {
    const size_t to = std::min(picks.size(), from + def.max_lines);
    by_national.clear();
    char buf[20];
    for (size_t i = from; i < to; ++i)
      by_national.emplace_back(order_of(national_of(numbers[picks[i].index], buf)), picks[i].index);
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
  const uint64_t parts = (picks.size() + def.max_lines - 1) / def.max_lines;
  // A session's name is its time to the second (the registry's naming);
  // a later export in the same second takes the next free second, so every
  // session has a name of its own.
  std::string stamp = reg->zone().CompactStamp(now);
  {
    std::string last;
    for (const SessionView& sv : sessions) last = std::max(last, reg->StampOf(sv.record.file_name));
    for (TimeMs t = now; stamp <= last;) stamp = reg->zone().CompactStamp(t += 1000);
  }
  std::vector<std::string> written;
  auto cleanup = [&] {
    for (auto& p : written) fs::remove(p, ec);
  };

  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, picks.size() + parts));
  // Each picked number's upload file; the others none.
  std::vector<uint32_t> part_of(numbers.size(), UINT32_MAX);
  std::vector<std::string_view> nationals;
  std::string national_text;  // the part's national forms, one after another
  for (uint64_t part = 0; part < parts; ++part) {
    size_t from = part * def.max_lines;
    size_t to = std::min(picks.size(), from + def.max_lines);
    std::string base = reg->UploadName(stamp, static_cast<uint32_t>(part + 1));
    ExportedFile f;
    f.session_id = next_id + part;
    f.txt_path = (fs::path(out_dir) / (base + ".txt")).string();
    f.zip_path = (fs::path(out_dir) / (base + ".zip")).string();
    f.numbers = to - from;
    nationals.clear();
    national_text.clear();
    national_text.reserve((to - from) * 20);  // never reallocated: the views point into it
    for (size_t i = from; i < to; ++i) {
      char buf[20];
      const std::string_view n = national_of(numbers[picks[i].index], buf);
      nationals.emplace_back(national_text.data() + national_text.size(), n.size());
      national_text.append(n);
    }
    const std::string content = reg->UploadContent(nationals);
    if (fs::exists(f.zip_path, ec)) {
      cleanup();
      return Status::AlreadyExists(Q(f.zip_path) + " already exists; nothing was exported");
    }
    // The zip (its deflate is most of the work) on a second thread while
    // the .txt is written and hashed here.
    auto zipped = std::async(std::launch::async, [&]() -> Result<Hash256> {
      TACET_RETURN_IF_ERROR(internal::WriteZip(f.zip_path, base + ".txt", content));
      TACET_ASSIGN_OR_RETURN(std::string zip_bytes,
                             internal::ReadFile(f.zip_path, internal::kMaxFileBytes));
      return Sha256(zip_bytes);
    });
    Status ws = internal::WriteFileExclusive(f.txt_path, content);
    if (ws.ok()) {
      written.push_back(f.txt_path);
      f.txt_sha256 = Sha256(content);
    }
    Result<Hash256> zip_sha256 = zipped.get();
    if (zip_sha256.ok()) written.push_back(f.zip_path);
    if (ws.ok()) ws = zip_sha256.status();
    if (!ws.ok()) {
      cleanup();
      return ws.WithContext("nothing was exported");
    }
    f.zip_sha256 = *zip_sha256;

    ExportSessionOpened opened;
    opened.session_id = f.session_id;
    opened.registry = def.name;
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
    Payload np = SessionNumber{f.session_id, def.name, {}};
    for (size_t k = 0; k < by_id.size() && as.ok(); ++k) {
      const Number& n = number_at(k);
      if (part_of[by_id[k]] != part) continue;
      std::get<SessionNumber>(np).subject = n.id;
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
  TACET_ASSIGN_OR_RETURN(std::shared_ptr<const RoundTripRegistry> registry,
                         RoundTrip(session.registry, /*in_force=*/false));
  const RoundTripRegistry* reg = registry.get();
  const RegistryDefined& def = reg->definition();
  const TimeZone& registry_zone = reg->zone();
  const uint64_t max_return_bytes = RegistrySettings(def.name).max_return_bytes;

  auto received = ParseDate(req.received);
  if (!received.ok()) return received.status().WithContext("--received");
  const Day export_day = registry_zone.DayOf(session.opened_at);
  if (*received < export_day)
    return Status::InvalidArgument("--received " + req.received +
                                   " is before the export of session " +
                                   std::to_string(session.id) + " on " + FormatDate(export_day));
  if (*received > registry_zone.DayOf(now))
    return Status::InvalidArgument("--received " + req.received + " is in the future (today is " +
                                   FormatDate(registry_zone.DayOf(now)) + " in " +
                                   registry_zone.name() + ")");

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
    TACET_ASSIGN_OR_RETURN(content,
                           internal::ReadOnlyMember(content, req.path, max_return_bytes, &entry));
    file_name = entry;
    shown = req.path + "!" + entry;
  } else if (content.size() > max_return_bytes) {
    return Status::InvalidArgument(Q(req.path) + " holds " + std::to_string(content.size()) +
                                   " bytes; a return holds at most " +
                                   std::to_string(max_return_bytes) +
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
        projector_.sessions_family(), prefix,
        [&](std::string_view k, std::string_view) {
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
        },
        EventLog::ScanCache::kBypass));
    return bad_key;
  });

  // Parse every line before touching the ledger.
  TACET_ASSIGN_OR_RETURN(ParsedReturn parsed, reg->ParseReturn(content, shown));
  // An empty filtered return says the registry lists every number sent: a
  // truncated download says the same, so only an officer's word lets it in.
  if (parsed.rows.empty() && !req.empty_is_all_listed)
    return Status::InvalidArgument(
        shown + " holds no number: as a filtered return it would mark all " +
        std::to_string(session.number_count) + " numbers of session " + std::to_string(session.id) +
        " listed. If that is the registry's answer, pass --empty-is-all-listed; nothing was "
        "imported");
  rep.layout = parsed.layout;
  const std::vector<ReturnRow>& rows = parsed.rows;

  // A line of the return is a national form the upload file listed: "+"
  // country code ‖ line is its E.164, whose SubjectId finds its member.
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  const std::string country = reg->CountryPrefix();
  struct Keyed {
    SubjectId id;
    const ReturnRow* row;
  };
  std::vector<Keyed> keyed(rows.size());
  // The keyed hash is most of a large return's CPU: two threads share it.
  OnTwoThreads(rows.size(), [&](size_t from, size_t to) {
    std::string e164 = country;
    for (size_t i = from; i < to; ++i) {
      e164.resize(country.size());
      e164.append(rows[i].number);
      keyed[i] = {keyer_->Of(e164), &rows[i]};
    }
  });
  TACET_RETURN_IF_ERROR(members_read.get());  // read meanwhile
  std::vector<const ReturnRow*> foreign;
  {
    size_t j = 0;
    const std::vector<uint32_t> by_id =
        OrderById(keyed.size(), [&](size_t i) -> const SubjectId& { return keyed[i].id; });
    for (size_t k = 0; k < by_id.size(); ++k) {
      if (k + kAhead < by_id.size()) __builtin_prefetch(&keyed[by_id[k + kAhead]]);
      const Keyed& kr = keyed[by_id[k]];
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
                      foreign.end(),
                      [](const ReturnRow* a, const ReturnRow* b) { return a->line < b->line; });
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
  const TimeMs effective_from = registry_zone.StartOfDay(day);
  rep.valid_until = registry_zone.StartOfDay(day + static_cast<Day>(def.validity_days) + 1);
  for (const Member& m : members) (m.outcome == 1 ? rep.cleared : rep.listed)++;
  const auto& order = members;
  // What the registry already said of each (nothing, for most): read once,
  // in key order, beside the members. Each number's record is written by
  // its one result of this batch and read by nothing else in it, so the
  // fold takes it from here rather than through the batch's view.
  // (Only the records found are kept: a slot per number is fresh memory
  // the kernel must zero first.)
  std::vector<std::pair<uint32_t, std::string>> prior;  // (member, record), ascending
  {
    TACET_RETURN_IF_ERROR(MultiGetByIds(
        *log_, projector_.registry_family(), order.size(),
        [&](size_t i) -> const SubjectId& { return order[i].id; },
        [&](const SubjectId& id) { return RegistryKey(def.name, id); },
        [&](size_t i, std::string_view v) {
          prior.emplace_back(static_cast<uint32_t>(i), std::string(v));
        }));
    std::sort(prior.begin(), prior.end());  // found in key order, mostly: cheap
  }
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, order.size() + 1));
  ReturnImported header;
  header.session_id = session.id;
  header.registry = def.name;
  header.file_name = file_name;
  header.file_sha256 = rep.file_sha256;
  header.received_day = day;
  header.layout = rep.layout;
  header.cleared = rep.cleared;
  header.listed = rep.listed;
  header.validity_days = def.validity_days;
  header.supersedes = !session.returns.empty();
  Payload hp = std::move(header);
  TACET_RETURN_IF_ERROR(projector_.Apply(batch.Add(hp), hp, batch));
  RegistryResult rr;
  rr.session_id = session.id;
  rr.registry = def.name;
  rr.received_day = day;
  rr.effective_from = effective_from;
  Payload p = rr;
  auto next_prior = prior.begin();
  for (size_t i = 0; i < order.size(); ++i) {
    const Member& o = order[i];
    auto& r = std::get<RegistryResult>(p);
    const bool cleared = o.outcome == 1;
    r.subject = o.id;
    r.outcome = cleared ? RegistryOutcome::kCleared : RegistryOutcome::kListed;
    r.valid_until = cleared ? rep.valid_until : 0;
    std::optional<std::string_view> before;
    if (next_prior != prior.end() && next_prior->first == i) before = (next_prior++)->second;
    TACET_RETURN_IF_ERROR(
        projector_.ApplyRegistryResult(batch.Add(p), r, before, batch, /*unread=*/true));
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
  std::map<std::string, TimeMs, std::less<>> overdue_after;  // by registry
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
        } else {
          auto it = overdue_after.find(sv.record.registry);
          if (it == overdue_after.end()) {
            auto reg = RoundTrip(sv.record.registry, /*in_force=*/false);
            if (!reg.ok()) {
              inner = reg.status().WithContext("session " + std::to_string(sv.record.id));
              return false;
            }
            const TimeMs days = (*reg)->definition().overdue_days;
            it = overdue_after.emplace(sv.record.registry, days * kMsPerDay).first;
          }
          if (now - sv.record.opened_at > it->second) sv.state = SessionState::kOverdue;
        }
        out.push_back(std::move(sv));
        return true;
      }));
  TACET_RETURN_IF_ERROR(inner);
  return out;
}

}  // namespace tacet
