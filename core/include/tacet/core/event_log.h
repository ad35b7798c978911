// EventLog: the append-only, hash-chained event log on RocksDB, plus the
// column families of the projections that fold it.
//
// Layout (core/FORMAT.md): column family "events" maps big-endian seq to the
// stored event; "subjects" maps (subject, seq) to nothing, the per-subject
// index; "meta" holds the head (seq, hash, time). Projection families are
// named by the caller and opened with the log.
//
// An AppendBatch collects events and projection writes and is committed as
// one RocksDB WriteBatch: no reader ever sees an event without its projection
// updates or the reverse. No API updates or deletes an event.
//
// Thread-safety: reads are thread-safe. One batch may be open at a time per
// log; a commit fails if another commit moved the head meanwhile. After a
// failed commit or WAL sync the log refuses every later write, sync and
// checkpoint (sticky error) until it is reopened, whichever process hosts it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tacet/core/clock.h"
#include "tacet/core/event.h"
#include "tacet/core/hash.h"
#include "tacet/core/note.h"
#include "tacet/core/status.h"

namespace tacet {

struct EventLogOptions {
  bool create_if_missing = false;  // create an empty ledger when `dir` holds none
  bool read_only = false;          // open without the write lock; no batches
  bool sync = true;                // fsync the WAL before a commit returns
  // Extra column families for projections, opened (and created) with the log.
  std::vector<std::string> projection_families;
  // How many events at the head are re-hashed and chained on open.
  uint64_t tail_check = 64;
  // Also hold every projection family in memory (loaded on open, updated by
  // each commit) and serve Get/MultiGet from there: for a long-running
  // reader such as tacetd. RocksDB stays the record; the mirror costs about
  // the families' size in RAM and a scan of them on open.
  bool mirror_projections = false;
  // Projection families read only by range scans (ScanRange), which go to
  // RocksDB: never mirrored, so that the mirror holds only what point
  // lookups read (a contact history can be far larger).
  std::vector<std::string> scanned_families;
  // With a checkpoint key (UseCheckpointKey), a commit that moves the head
  // adds a signed checkpoint to its batch when this process made none in
  // the last `checkpoint_interval_ms`.
  int64_t checkpoint_interval_ms = 1000;
  // Tests of the durability rules only (as leveldb's fault injection): when
  // set, each sync of a WAL file first asks it, and fails as a disk would
  // when it returns true. Null: the real disk, always.
  std::function<bool()> fail_wal_sync;
};

struct Head {
  uint64_t seq = 0;  // 0: empty log
  Hash256 hash{};    // all zero for the empty log
  TimeMs recorded_at = 0;
};

struct VerifyReport {
  bool ok = true;
  uint64_t events = 0;         // events checked
  Head head;                   // as stored in meta
  uint64_t first_bad_seq = 0;  // when !ok; 0 if the fault is in meta
  std::string problem;         // when !ok
  uint64_t checkpoints = 0;    // signed checkpoints checked against the tree
};

class EventLog;

class AppendBatch {
 public:
  ~AppendBatch();
  AppendBatch(AppendBatch&&) noexcept;
  AppendBatch& operator=(AppendBatch&&) = delete;

  // Appends an event with the next seq; returns it with its hash. The
  // reference is valid until the next Add. Not in a projection batch.
  const Event& Add(const Payload& payload);
  // Appends an event recorded by another log, unchanged (a replayed copy):
  // same seq, time, actor, payload and hash. It must extend this batch's
  // chain (seq = head + 1, prev_hash = head hash) and its hash must match its
  // content; Corruption otherwise. The head takes its recorded time.
  Status AddRecorded(const Event& e, const Payload& payload);
  // Reads a projection value: this batch's own writes first, then the store.
  Result<std::optional<std::string>> Get(int family, std::string_view key);
  // Loads `keys` from the store into the batch's view with batched MultiGets,
  // so the following Get calls cost no lookups. Keys the batch already wrote
  // keep the batch's value.
  Status Prefetch(int family, const std::vector<std::string>& keys);
  // Writes a projection value; later Gets in this batch see it.
  void Put(int family, std::string_view key, std::string_view value);
  // The same for a key no later Get of this batch asks for (an import
  // writes each number's record once): kept out of the batch's view unless
  // the log mirrors its projections.
  void PutUnread(int family, std::string_view key, std::string_view value);

  uint64_t first_seq() const { return base_.seq + 1; }
  uint64_t last_seq() const { return head_.seq; }
  size_t size() const { return static_cast<size_t>(head_.seq - base_.seq); }
  TimeMs recorded_at() const { return recorded_at_; }

 private:
  friend class EventLog;
  struct Impl;
  AppendBatch(EventLog* log, Actor actor, Head base, TimeMs recorded_at, size_t expected_events);
  // Writes a chained event and its index entry; moves the batch's head.
  void WriteEvent(const Event& e, std::string_view body, const Payload& payload);
  // Hashes the leaves of the events written since the last Seal and puts
  // the tree records they complete into the batch.
  void Seal();

  EventLog* log_;
  Actor actor_;
  Head base_;
  Head head_;
  TimeMs recorded_at_;
  bool projection_only_ = false;
  Event last_;
  std::unique_ptr<Impl> impl_;  // the WriteBatch and the per-family views
};

class EventLog {
 public:
  // Opens the ledger in `dir`. Checks the tail of the chain against the head
  // stored in meta; a mismatch is reported as Corruption naming the seq.
  static Result<std::unique_ptr<EventLog>> Open(const std::string& dir, EventLogOptions options,
                                                const Clock* clock);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Starts a batch on top of the current head. The batch's events all carry
  // the same recorded_at: the clock's time, or the head's when the clock went
  // backwards, so time never decreases along the chain.
  // `expected_events` sizes the batch's buffer up front (a hint; 0 = unknown).
  // From 16,384 it makes the batch a bulk batch (core/FORMAT.md): its events
  // go to sorted files as they are added and the commit ingests them, with
  // the rest of the batch, in one atomic step.
  Result<AppendBatch> NewBatch(const Actor& actor, size_t expected_events = 0);
  // A batch of projection writes only, for rebuilding projections from the
  // log: no events, the head does not move. Committed to the memtables
  // without the WAL; FlushProjections() makes a run of them durable. The
  // caller marks the rebuild in meta until then (a crash loses the batches).
  Result<AppendBatch> NewProjectionBatch();
  Status FlushProjections();
  // Commits atomically and durably (per options.sync).
  Status Commit(AppendBatch&& batch);
  // Makes every committed batch durable. A failure is sticky (see above).
  Status SyncWal();
  // The failure that made the log refuse writes; OK while it accepts them.
  Status sticky_error() const;

  // Empties every projection family (drops and recreates it). Writer only.
  Status ResetProjections();
  // A digest of one projection family: SHA-256 over every entry in key
  // order, each as u32 BE key length ‖ key ‖ u32 BE value length ‖ value.
  struct FamilyDigest {
    Hash256 sha256{};
    uint64_t entries = 0;
  };
  Result<FamilyDigest> Digest(int family) const;
  const std::vector<std::string>& projection_families() const {
    return options_.projection_families;
  }

  // Small records of the ledger's own state in the meta family (markers of a
  // rebuild in progress, of a replayed copy). "head" and "format" are
  // reserved. Put with nullopt deletes.
  Result<std::optional<std::string>> GetMeta(std::string_view key) const;
  Status PutMeta(std::string_view key, const std::optional<std::string>& value);
  Head head() const;
  int FamilyIndex(std::string_view name) const;  // -1 when unknown

  Result<Event> Read(uint64_t seq) const;
  // Calls fn for seq in [from, to] in order; stops early when fn returns false.
  // fn may move from the event it is given.
  Status Scan(uint64_t from, uint64_t to, const std::function<bool(Event&)>& fn) const;
  // The seqs of the events about `subject`, oldest first.
  Result<std::vector<uint64_t>> SeqsFor(const SubjectId& subject) const;

  Result<std::optional<std::string>> Get(int family, std::string_view key) const;
  // How many point lookups (Get) this log has served since it opened: what
  // a query costs, measured by the bench and asserted by the tests.
  uint64_t point_lookups() const;
  // Bytes the in-memory mirror of the projections holds (0 when off).
  uint64_t mirror_bytes() const;
  Status MultiGet(int family, const std::vector<std::string>& keys,
                  std::vector<std::optional<std::string>>* values) const;
  // The same without copies: found(i, value) for each key present, value
  // valid during the call only; absent keys are skipped. Order unspecified.
  Status MultiGet(int family, const std::vector<std::string>& keys,
                  const std::function<void(size_t, std::string_view)>& found) const;
  // The same for keys held elsewhere (a bulk read builds a million keys in
  // one buffer rather than a million strings).
  Status MultiGet(int family, std::span<const std::string_view> keys,
                  const std::function<void(size_t, std::string_view)>& found) const;
  // Calls fn(key, value) for keys starting with prefix, in key order.
  // kBypass: a long scan whose blocks are read once (an import's million
  // session members): kept out of the block cache, where they would be that
  // much fresh memory and push out the blocks decisions read.
  enum class ScanCache { kFill, kBypass };
  Status ScanFamily(int family, std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& fn,
                    ScanCache cache = ScanCache::kFill) const;
  // A moment of the store that several reads share: an audit's passes see
  // the same attempts while a writer goes on. Released when destroyed; not
  // to outlive the log.
  class Snapshot {
   public:
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    friend class EventLog;
    Snapshot(const EventLog& log, const void* snapshot) : log_(log), snapshot_(snapshot) {}
    const EventLog& log_;
    const void* snapshot_;  // a rocksdb::Snapshot
  };
  std::unique_ptr<Snapshot> NewSnapshot() const;
  // Calls fn(key, value) for keys in [from, to), in key order; stops early
  // when fn returns false. An audit's long range read (kBypass), at one
  // moment when `at` is given; decisions use a RangeReader.
  Status ScanRange(int family, std::string_view from, std::string_view to,
                   const std::function<bool(std::string_view, std::string_view)>& fn,
                   ScanCache cache = ScanCache::kFill, const Snapshot* at = nullptr) const;

  // Many bounded range reads of one family with one iterator: a batch of
  // decisions, each reading its subject's attempts, pays for the iterator
  // once. One thread's; not to outlive the log.
  class RangeReader {
   public:
    ~RangeReader();
    RangeReader(RangeReader&&) noexcept;
    RangeReader& operator=(RangeReader&&) = delete;
    // As ScanRange: fn(key, value) for keys in [from, to), in key order,
    // until fn returns false.
    Status Read(std::string_view from, std::string_view to,
                const std::function<bool(std::string_view, std::string_view)>& fn);

   private:
    friend class EventLog;
    struct Impl;
    explicit RangeReader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
  };
  Result<RangeReader> NewRangeReader(int family) const;

  // Walks the whole chain: dense seqs, each hash, each link, and the head;
  // recomputes the Merkle tree and compares every stored node.
  VerifyReport Verify() const;

  // The RFC 9162 Merkle tree over the events (core/FORMAT.md): leaf i (from
  // 0) is the canonical body of seq i + 1. Sizes are counts of events, at
  // most the head's seq. Each call reads O(log n) stored nodes.
  // FailedPrecondition on a format-1 ledger opened read-only (no tree yet).
  Result<Hash256> TreeRoot(uint64_t size) const;
  // The inclusion proof of event `seq` in the tree of `size` events.
  Result<std::vector<Hash256>> InclusionProof(uint64_t seq, uint64_t size) const;
  // The consistency proof between the trees of `old_size` and `new_size`.
  Result<std::vector<Hash256>> ConsistencyProof(uint64_t old_size, uint64_t new_size) const;
  // Stored tree nodes read since the log opened (what a proof costs).
  uint64_t tree_reads() const;

  // Signed checkpoints (signed notes, core/note.h), kept forever, one per
  // tree size. The verifier key recorded by the first signing writer, if any.
  Result<std::optional<std::string>> CheckpointKey() const;
  // The checkpoint with the largest size; nullopt when none was made.
  Result<std::optional<std::string>> LatestCheckpoint() const;
  // The checkpoint of exactly `size` events; nullopt when none was made.
  Result<std::optional<std::string>> CheckpointOfSize(uint64_t size) const;
  // Calls fn(size, note) for the checkpoints of size >= from, by size.
  Status ScanCheckpoints(uint64_t from,
                         const std::function<bool(uint64_t, std::string_view)>& fn) const;
  // Signs and durably writes a checkpoint of the head now, unless one of
  // this size exists, or (only_when_due) this process signed one less than
  // the checkpoint interval ago: then returns false. FailedPrecondition
  // without a key.
  Result<bool> Checkpoint(bool only_when_due = false);
  // From now on, signs checkpoints (core/FORMAT.md) with `signer`, whose
  // name is their origin. Writer only, before the first batch. The first
  // key a ledger is given is recorded in meta; FailedPrecondition for
  // another one.
  Status UseCheckpointKey(std::shared_ptr<const note::Signer> signer);
  // A copy of another log's prefix (a replay) takes that log's verifier key
  // and those of its checkpoints that sign a size it holds: they sign its
  // tree too. Refused when the log already has another key or a checkpoint
  // is beyond its head.
  Status AdoptCheckpoints(const std::string& verifier_key,
                          const std::vector<std::pair<uint64_t, std::string>>& checkpoints);
  bool has_checkpoint_key() const { return signer_ != nullptr; }

  const std::string& dir() const { return dir_; }

 private:
  friend class AppendBatch;
  struct Impl;
  EventLog(std::string dir, EventLogOptions options, const Clock* clock);
  Status CheckTail();
  Status LoadMirrors();  // mirror_projections: every projection family read into memory
  Status LoadTree();     // the compact range of the head from the stored nodes
  Status CheckTreeSize(uint64_t size, const char* what) const;
  Status LoadCheckpointState();  // the size of the latest checkpoint

  std::string dir_;
  EventLogOptions options_;
  const Clock* clock_;
  std::shared_ptr<const note::Signer> signer_;  // of checkpoints; null: none
  std::unique_ptr<Impl> impl_;
};

// Big-endian encoding of a sequence number: keys sort by seq.
std::string SeqKey(uint64_t seq);
uint64_t DecodeSeqKey(std::string_view key);

}  // namespace tacet
