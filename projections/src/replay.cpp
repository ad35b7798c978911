// Rebuilding projections from the log, and replaying the log as known at a
// moment into a read-only copy. Both fold runs of events with
// Projector::ApplyRun, the fold every append uses.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "../internal/bytes.h"
#include "../internal/text.h"
#include "tacet/core/codec.h"
#include "tacet/core/secret_file.h"
#include "tacet/projections/ledger.h"

namespace tacet {
namespace {

namespace fs = std::filesystem;

// Events folded per batch: large enough for MultiGet and memtable hints to
// pay, small enough to bound memory (two runs in flight, ~100 MB).
constexpr size_t kRunEvents = 100'000;

struct Run {
  std::vector<Event> events;
  std::vector<Payload> payloads;
};

// Reads the log in runs of decoded events and calls fn(events, payloads) for
// each run, for the events recorded up to known_at. Two stages on two
// threads: this thread folds run i while a reader scans and decodes run i+1
// (reading and folding cost about the same).
template <class Fn>
Status ForEachRun(const EventLog& log, TimeMs known_at, Fn&& fn) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Run> ready;  // decoded, waiting to be folded; at most 2
  bool done = false, stop = false;
  Status read_status;
  std::thread reader([&] {
    Run run;
    auto hand_over = [&] {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return ready.size() < 2 || stop; });
      if (stop) return false;
      ready.push_back(std::move(run));
      cv.notify_all();
      run = Run();
      return true;
    };
    Status inner;
    Status st = log.Scan(1, UINT64_MAX, [&](Event& e) {
      if (e.recorded_at > known_at) return false;  // times never decrease along the chain
      auto p = DecodePayload(e.type, e.version, e.payload);
      if (!p.ok()) {
        inner = p.status().WithContext("seq " + std::to_string(e.seq));
        return false;
      }
      if (run.events.empty()) {
        run.events.reserve(kRunEvents);
        run.payloads.reserve(kRunEvents);
      }
      run.events.push_back(std::move(e));
      run.payloads.push_back(std::move(p).value());
      return run.events.size() < kRunEvents || hand_over();
    });
    if (st.ok()) st = inner;
    if (st.ok() && !run.events.empty()) hand_over();
    std::lock_guard<std::mutex> lock(mu);
    read_status = st;
    done = true;
    cv.notify_all();
  });
  Status fold_status;
  for (;;) {
    Run run;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !ready.empty() || done; });
      if (ready.empty()) break;
      run = std::move(ready.front());
      ready.pop_front();
      cv.notify_all();
    }
    fold_status = fn(run.events, run.payloads);
    if (!fold_status.ok()) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
    cv.notify_all();
  }
  reader.join();
  TACET_RETURN_IF_ERROR(fold_status);
  return read_status;
}

}  // namespace

Result<RebuildReport> Ledger::Rebuild() {
  if (options_.read_only)
    return Status::FailedPrecondition("rebuild needs the ledger open for writing");
  RebuildReport rep;
  const auto& names = log_->projection_families();
  for (const auto& name : names) {
    TACET_ASSIGN_OR_RETURN(auto d, log_->Digest(log_->FamilyIndex(name)));
    rep.families.push_back({name, d, {}});
  }
  TACET_RETURN_IF_ERROR(log_->PutMeta(kRebuildMetaKey, "started " + FormatUtc(clock_->NowMs())));
  TACET_RETURN_IF_ERROR(log_->ResetProjections());
  const auto start = std::chrono::steady_clock::now();
  TACET_RETURN_IF_ERROR(ForEachRun(
      *log_, kKnownNow, [&](const std::vector<Event>& ev, const std::vector<Payload>& pl) {
        TACET_ASSIGN_OR_RETURN(AppendBatch b, log_->NewProjectionBatch());
        TACET_RETURN_IF_ERROR(projector_.ApplyRun(ev, pl, b));
        rep.events += ev.size();
        return log_->Commit(std::move(b));
      }));
  TACET_RETURN_IF_ERROR(log_->FlushProjections());
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  TACET_RETURN_IF_ERROR(log_->PutMeta(kRebuildMetaKey, std::nullopt));
  for (auto& f : rep.families) {
    TACET_ASSIGN_OR_RETURN(f.after, log_->Digest(log_->FamilyIndex(f.name)));
    rep.equal &= f.after.sha256 == f.before.sha256 && f.after.entries == f.before.entries;
  }
  TACET_RETURN_IF_ERROR(LoadPolicy());
  return rep;
}

Result<ReplayReport> Ledger::ReplayTo(const std::string& out_data_dir, TimeMs known_at) const {
  std::error_code ec;
  if (fs::exists(out_data_dir, ec) && !fs::is_empty(out_data_dir, ec))
    return Status::FailedPrecondition("replay target " + internal::Quote(out_data_dir) +
                                      " exists and is not empty; nothing was written");
  if (fs::equivalent(out_data_dir, options_.data_dir, ec))
    return Status::InvalidArgument("replay target is the ledger itself");
  const TimeMs now = clock_->NowMs();
  if (known_at > now)
    return Status::InvalidArgument("--as-known-at " + zone_.Format(known_at) +
                                   " is in the future (now is " + zone_.Format(now) +
                                   "): a replay copies what was known; nothing was written");
  ReplayReport rep;
  rep.data_dir = out_data_dir;
  rep.known_at = known_at;
  rep.source_head_seq = log_->head().seq;
  // The copy holds what the ledger holds: its owner's alone, as the original.
  fs::create_directories(out_data_dir, ec);
  fs::permissions(out_data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec)
    return Status::IOError("cannot create replay target " + internal::Quote(out_data_dir) + ": " +
                           ec.message());
  {
    EventLogOptions lo;
    lo.create_if_missing = true;
    lo.sync = false;  // one sync at the end: an interrupted copy is simply thrown away
    lo.projection_families = ProjectionFamilies();
    TACET_ASSIGN_OR_RETURN(
        auto copy, EventLog::Open((fs::path(out_data_dir) / "ledger").string(), lo, clock_));
    Projector projector(*copy);
    TACET_RETURN_IF_ERROR(ForEachRun(
        *log_, known_at, [&](const std::vector<Event>& ev, const std::vector<Payload>& pl) {
          TACET_ASSIGN_OR_RETURN(AppendBatch b, copy->NewBatch(Actor{}, ev.size()));
          for (size_t i = 0; i < ev.size(); ++i) TACET_RETURN_IF_ERROR(b.AddRecorded(ev[i], pl[i]));
          TACET_RETURN_IF_ERROR(projector.ApplyRun(ev, pl, b));
          rep.events += ev.size();
          return copy->Commit(std::move(b));
        }));
    // The original's verifier key and the checkpoints of the copied prefix:
    // `tacet key` on the copy prints the original's key, and a proof from
    // the copy verifies with it.
    TACET_ASSIGN_OR_RETURN(auto key, log_->CheckpointKey());
    if (key) {
      std::vector<std::pair<uint64_t, std::string>> signed_sizes;
      TACET_RETURN_IF_ERROR(log_->ScanCheckpoints(1, [&](uint64_t size, std::string_view note) {
        if (size > rep.events) return false;
        signed_sizes.emplace_back(size, std::string(note));
        return true;
      }));
      TACET_RETURN_IF_ERROR(copy->AdoptCheckpoints(*key, signed_sizes));
    }
    // The subject keys go with the events: the same secret names the same
    // subjects, and the data keys (those not destroyed since) open their
    // sealed fields.
    if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
    TACET_ASSIGN_OR_RETURN(std::string secret, ReadSecretFile(SecretPath(), "the ledger secret"));
    TACET_RETURN_IF_ERROR(WriteSecretFile((fs::path(out_data_dir) / "ledger.secret").string(),
                                          secret, "the ledger secret of the copy"));
    TACET_RETURN_IF_ERROR(
        copy->PutMeta(kSecretMetaKey, std::string(AsBytes(keyer_->Fingerprint()))));
    if (keys_ != nullptr)
      TACET_RETURN_IF_ERROR(keys_->CopyTo((fs::path(out_data_dir) / "keys").string()));
    TACET_RETURN_IF_ERROR(copy->SyncWal());
    std::string marker;
    internal::ByteWriter(marker).I64(known_at);
    TACET_RETURN_IF_ERROR(copy->PutMeta(kReplayMetaKey, marker));
    rep.head = copy->head();
  }
  return rep;
}

}  // namespace tacet
