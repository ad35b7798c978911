// EventLog's parts, shared by the files of core/src/event_log/ (open,
// commit, read, tree proofs, verify, append batch) as RocksDB spreads
// DBImpl over db_impl_*.cc. (RocksDB is also included by bulk_ingest.cpp
// and by the data key store, key_store.cpp.)
#pragma once

#include "tacet/core/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <shared_mutex>
#include <thread>

#include "../../internal/bulk_ingest.h"
#include "../../internal/chunk_worker.h"
#include "../../internal/overlay.h"
#include "tacet/core/codec.h"
#include "tacet/core/merkle.h"
#include "tacet/core/time.h"

namespace tacet {
namespace log_detail {

constexpr const char* kEventsFamily = "events";
constexpr const char* kSubjectsFamily = "subjects";
constexpr const char* kMetaFamily = "meta";
constexpr const char* kTreeFamily = "tree";
constexpr const char* kCheckpointsFamily = "checkpoints";
constexpr const char* kCheckpointKeyKey = "checkpoint_key";
constexpr const char* kHeadKey = "head";
constexpr const char* kFormatKey = "format";
// Format 3: subjects are SubjectIds and personal fields sealed. Formats 1
// and 2 (subjects in clear) are refused: no ledger of theirs is in use, and
// none can be turned into format 3 without rewriting signed history.
constexpr const char* kFormatValue = "tacet-ledger-3";
// Closing a log that committed at least this much since it opened flushes
// the memtables (see ~EventLog).
constexpr uint64_t kFlushOnCloseBytes = 32 << 20;

inline Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  if (s.IsNotFound()) return Status::NotFound(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

inline void PutBe64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline uint64_t GetBe64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(s[i]);
  return v;
}

// meta "head": seq (be64) || hash (32) || recorded_at (be64)
inline std::string EncodeHead(const Head& h) {
  std::string out;
  PutBe64(out, h.seq);
  out.append(AsBytes(h.hash));
  PutBe64(out, static_cast<uint64_t>(h.recorded_at));
  return out;
}
inline Result<Head> DecodeHead(std::string_view s) {
  if (s.size() != 48)
    return Status::Corruption("meta head record has " + std::to_string(s.size()) +
                              " bytes, expected 48");
  Head h;
  h.seq = GetBe64(s);
  std::copy_n(s.data() + 8, 32, reinterpret_cast<char*>(h.hash.data()));
  h.recorded_at = static_cast<TimeMs>(GetBe64(s.substr(40)));
  return h;
}

// The Merkle tree's records (core/FORMAT.md, "tree"). Key: be64 end ||
// level (1 byte), in the order appends complete them. Level 0: the 16 leaf
// hashes of leaves [end - 16, end); level >= 4: the hash of the perfect
// subtree of 2^level leaves ending at `end` (exclusive). Levels 1-3 are
// hashed from a bundle when needed; the leaves of the last, incomplete
// bundle from their events.
constexpr uint64_t kBundleLeaves = 16;
constexpr int kFirstNodeLevel = 4;  // 2^4 = kBundleLeaves
// A bulk batch hands its events' bodies to the thread that hashes their
// leaves in chunks of about this many bytes.
constexpr size_t kSealChunkBytes = 1u << 20;
inline std::string TreeKey(uint64_t end, int level) {
  std::string k;
  k.reserve(9);
  PutBe64(k, end);
  k.push_back(static_cast<char>(level));
  return k;
}
inline std::string_view BundleBytes(const std::vector<Hash256>& leaves) {
  return {reinterpret_cast<const char*>(leaves.data()), leaves.size() * sizeof(Hash256)};
}

// The right edge of the tree: what the next append needs.
struct TreeTail {
  merkle::CompactRange range;   // the whole tree, as its perfect subtrees
  std::vector<Hash256> bundle;  // the leaves after the last complete bundle

  // Appends a leaf; emit(end, level, value) for each record it completes, in
  // key order.
  template <class Fn>
  void Append(const Hash256& leaf, Fn&& emit) {
    bundle.push_back(leaf);
    if (bundle.size() == kBundleLeaves) {
      emit(range.size() + 1, 0, BundleBytes(bundle));
      bundle.clear();
    }
    range.Append(leaf, [&](int level, uint64_t end, const Hash256& h) {
      if (level >= kFirstNodeLevel) emit(end, level, AsBytes(h));
    });
  }
};

// Reads the stored tree of the first `size` events (size <= head): subtree
// hashes from the records, the leaves of levels 1-3 from a bundle (kept for
// the reader's life), those of the incomplete bundle from their events.
class TreeReader {
 public:
  struct Store {
    rocksdb::DB* db;
    rocksdb::ColumnFamilyHandle* tree;
    rocksdb::ColumnFamilyHandle* events;
    std::atomic<uint64_t>* reads;  // counts the records read
  };
  TreeReader(Store store, uint64_t head_seq) : im_(store), head_(head_seq) {}

  // MTH(D[begin:end]), for 0 <= begin < end <= head.
  Result<Hash256> Subtree(uint64_t begin, uint64_t end) {
    const uint64_t n = end - begin;
    if (std::has_single_bit(n) && begin % n == 0) {
      const int level = std::countr_zero(n);
      if (level >= kFirstNodeLevel) return Node(end, level);
      TACET_ASSIGN_OR_RETURN(const std::vector<Hash256>* leaves, Bundle(begin / kBundleLeaves));
      const uint64_t first = begin % kBundleLeaves;
      if (first + n > leaves->size())
        return Status::Corruption("events " + std::to_string(begin + 1) + ".." +
                                  std::to_string(end) + " are missing");
      return merkle::RootOf(std::span(*leaves).subspan(first, n));
    }
    const uint64_t k = merkle::SplitPoint(n);
    TACET_ASSIGN_OR_RETURN(Hash256 left, Subtree(begin, begin + k));
    TACET_ASSIGN_OR_RETURN(Hash256 right, Subtree(begin + k, end));
    return merkle::NodeHash(left, right);
  }

  // The leaves of bundle `b` (leaves [16 b, 16 b + 16)), as far as the head.
  Result<const std::vector<Hash256>*> Bundle(uint64_t b) {
    auto [it, fresh] = bundles_.try_emplace(b);
    std::vector<Hash256>& leaves = it->second;
    if (!fresh) return &leaves;
    const uint64_t end = (b + 1) * kBundleLeaves;
    if (end <= head_) {
      std::string v;
      TACET_ASSIGN_OR_RETURN(v, Read(end, 0));
      if (v.size() != kBundleLeaves * sizeof(Hash256))
        return Status::Corruption(What(end, 0) + " has " + std::to_string(v.size()) + " bytes");
      leaves.resize(kBundleLeaves);
      std::memcpy(leaves.data(), v.data(), v.size());
      return &leaves;
    }
    // The incomplete bundle: not stored, hashed from its events' bodies.
    std::unique_ptr<rocksdb::Iterator> e(im_.db->NewIterator(rocksdb::ReadOptions(), im_.events));
    for (e->Seek(SeqKey(b * kBundleLeaves + 1)); e->Valid(); e->Next()) {
      const uint64_t seq = DecodeSeqKey(e->key().ToStringView());
      if (seq > head_) break;
      if (seq != b * kBundleLeaves + leaves.size() + 1 || e->value().size() < 64)
        return Status::Corruption("event seq " + std::to_string(seq) + " is out of place");
      std::string_view stored = e->value().ToStringView();
      leaves.push_back(merkle::LeafHash(stored.substr(0, stored.size() - 64)));
    }
    TACET_RETURN_IF_ERROR(FromRocks(e->status(), "reading the events of the tree's right edge"));
    return &leaves;
  }

 private:
  static std::string What(uint64_t end, int level) {
    return level == 0 ? "tree leaf bundle of seqs " + std::to_string(end - kBundleLeaves + 1) +
                            ".." + std::to_string(end)
                      : "tree node of seqs " + std::to_string(end - (uint64_t{1} << level) + 1) +
                            ".." + std::to_string(end);
  }
  Result<std::string> Read(uint64_t end, int level) {
    im_.reads->fetch_add(1, std::memory_order_relaxed);
    std::string v;
    auto s = im_.db->Get(rocksdb::ReadOptions(), im_.tree, TreeKey(end, level), &v);
    if (s.IsNotFound()) return Status::Corruption(What(end, level) + " is missing");
    TACET_RETURN_IF_ERROR(FromRocks(s, "cannot read the " + What(end, level)));
    return v;
  }
  Result<Hash256> Node(uint64_t end, int level) {
    TACET_ASSIGN_OR_RETURN(std::string v, Read(end, level));
    if (v.size() != sizeof(Hash256))
      return Status::Corruption(What(end, level) + " has " + std::to_string(v.size()) + " bytes");
    Hash256 h;
    std::memcpy(h.data(), v.data(), h.size());
    return h;
  }

  Store im_;
  uint64_t head_;
  std::map<uint64_t, std::vector<Hash256>> bundles_;
};

// subjects key: SubjectId (32 bytes) || be64 seq
inline std::string SubjectPrefix(const SubjectId& subject) {
  std::string k;
  k.reserve(subject.size() + 8);
  k.append(AsBytes(subject));
  return k;
}

}  // namespace log_detail
using namespace log_detail;

struct EventLog::Impl {
  // Only with EventLogOptions::fail_wal_sync (tests); outlives db.
  std::unique_ptr<rocksdb::Env> fault_env;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // all open families, owned
  rocksdb::ColumnFamilyHandle* events = nullptr;
  rocksdb::ColumnFamilyHandle* subjects = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* tree = nullptr;
  rocksdb::ColumnFamilyHandle* checkpoints = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> projections;  // by FamilyIndex; null if absent
  std::vector<std::string> projection_names;
  rocksdb::ColumnFamilyOptions cf_opts;  // of every family, for recreating one
  mutable std::mutex mu;
  Head head;
  TreeTail tree_tail;                   // of the tree of the events up to head
  bool tree_ready = false;              // false: a format-1 ledger opened read-only
  uint64_t checkpoint_size = 0;         // of the latest checkpoint
  std::optional<TimeMs> checkpoint_ms;  // when this process signed its last one
  Status sticky;                        // first failed commit; every later write returns it
  uint64_t unflushed_bytes = 0;         // committed since open, only in the WAL and memtables
  uint64_t bulk_batches = 0;  // bulk batches begun: each one's files have a directory of their own
  mutable std::atomic<uint64_t> point_lookups{0};
  mutable std::atomic<uint64_t> tree_reads{0};
  // mirror_projections: each projection family in memory, by FamilyIndex
  // (empty when off). Commit updates it after RocksDB took the write.
  mutable std::shared_mutex mirror_mu;
  std::vector<internal::Overlay> mirrors;
  std::vector<size_t> mirror_base;  // arena bytes after the last compaction
  std::vector<bool> scanned;        // by FamilyIndex: EventLogOptions::scanned_families

  bool mirrored() const { return !mirrors.empty(); }
  bool mirrored(size_t family) const { return mirrored() && !scanned[family]; }
  TreeReader::Store tree_store() const { return {db.get(), tree, events, &tree_reads}; }
  // A batch's view of each family (its writes, and reads of the same
  // unchanged store) folded into the mirrors. Holds mu.
  void MergeMirrors(const std::vector<internal::Overlay>& views) {
    if (!mirrored()) return;
    std::unique_lock lock(mirror_mu);
    for (size_t i = 0; i < views.size() && i < mirrors.size(); ++i) {
      if (scanned[i]) continue;
      internal::Overlay& m = mirrors[i];
      views[i].ForEach([&](std::string_view k, std::optional<std::string_view> v) { m.Set(k, v); });
      // Superseded records pile up in the arena: compacted once they are
      // more than the live ones.
      if (m.arena_bytes() > 2 * mirror_base[i] + (16u << 20)) {
        m = m.Compacted();
        mirror_base[i] = m.arena_bytes();
      }
    }
  }
  // A read of the mirror: true when the family is mirrored.
  bool FromMirror(size_t family, std::string_view key, std::optional<std::string>* out) const {
    if (!mirrored(family)) return false;
    std::optional<std::string_view> v;
    std::shared_lock lock(mirror_mu);
    if (mirrors[family].Find(key, &v) && v) {
      *out = std::string(*v);
    } else {
      *out = std::nullopt;
    }
    return true;
  }

  ~Impl() {
    if (db) {
      for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
      db->Close().PermitUncheckedError();
    }
  }
};

// a < b, bytewise, eight bytes at a time: the keys of a family share a
// prefix and then differ at once (SubjectIds), where a call to memcmp per
// key costs more than the comparison.
inline bool KeyLess(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  if constexpr (std::endian::native == std::endian::little) {
    for (; i + 8 <= n; i += 8) {
      uint64_t x, y;
      std::memcpy(&x, a.data() + i, 8);
      std::memcpy(&y, b.data() + i, 8);
      if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y);
    }
  }
  for (; i < n; ++i)
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  return a.size() < b.size();
}

struct AppendBatch::Impl {
  Impl(size_t reserve, size_t families) : wb(reserve), views(families) {}
  ~Impl() {
    if (bulk_dir.empty()) return;
    sealer.reset();  // stops before the files it writes go
    events_file.reset();
    tree_file.reset();
    runs.clear();  // their threads stop before the files go
    index_run.stream.reset();
    std::error_code ec;
    std::filesystem::remove_all(bulk_dir, ec);  // a batch never committed leaves no file
  }
  rocksdb::WriteBatch wb;
  std::vector<internal::Overlay> views;  // per projection family: read-your-writes
  TreeTail tree;                         // of the tree up to the batch's last hashed leaf
  // Events whose leaves are not hashed yet: where each body lies (offset,
  // size) in wb's buffer, in seq order. Hashed on two threads by Seal.
  std::vector<std::pair<size_t, size_t>> bodies;
  std::vector<SubjectId> subjects;  // of the event being written (reused)
  std::string body;                 // of the event being added (reused)

  // The events a batch adds share their format, time, actor, type and
  // version: only the seq and the payload differ. Their body is the body of
  // a template event (seq 0, empty payload) with the seq and the payload's
  // size written in, and the payload appended, instead of each encoded
  // field by field. The first body made from a template is compared with
  // the full encoding; should they ever differ, every body is encoded in
  // full.
  struct BodyTemplate {
    PayloadType type{};
    uint16_t version = 0;
    TimeMs recorded_at = 0;
    std::string bytes;  // the template's body, its payload's length last (u32, 0)
    bool checked = false;
  };
  BodyTemplate body_template;
  bool full_bodies = false;            // a template's body did not match
  static constexpr size_t kSeqAt = 2;  // after the archive's header and the format
  // The body of `e` into `body`.
  void MakeBody(const Event& e) {
    BodyTemplate& t = body_template;
    if (!full_bodies && (t.bytes.empty() || t.type != e.type || t.version != e.version ||
                         t.recorded_at != e.recorded_at)) {
      Event blank;
      blank.recorded_at = e.recorded_at;
      blank.actor = e.actor;
      blank.type = e.type;
      blank.version = e.version;
      t = {e.type, e.version, e.recorded_at, EncodeEventBody(blank), false};
      if (t.bytes.size() < kSeqAt + 8 + 4 ||
          t.bytes.compare(t.bytes.size() - 4, 4, std::string(4, '\0')) != 0)
        full_bodies = true;
    }
    if (full_bodies) {
      body = EncodeEventBody(e);
      return;
    }
    auto put_le = [](char* at, uint64_t v, int bytes) {
      for (int i = 0; i < bytes; ++i) at[i] = static_cast<char>(v >> (8 * i));
    };
    body.assign(t.bytes, 0, t.bytes.size() - 4);
    put_le(body.data() + kSeqAt, e.seq, 8);
    char length[4];
    put_le(length, e.payload.size(), 4);
    body.append(length, 4);
    body.append(e.payload);
    if (t.checked) return;
    const std::string full = EncodeEventBody(e);
    t.checked = true;
    if (full != body) {
      full_bodies = true;
      body = full;
    }
  }

  // A bulk batch (internal::kStreamMinEvents): its events and tree records
  // are written to sorted files under bulk_dir as they are made, and the
  // commit ingests them with the rest of the batch. Empty bulk_dir: not bulk.
  std::string bulk_dir;
  std::unique_ptr<internal::SortedFile> events_file, tree_file;
  Status bulk_status;  // the first failure writing those files (the caller's)
  // The rest of each event's writing is done by a thread of its own (the
  // sealer) while the next events are made: its leaf hash, the tree
  // records it completes, its record in the events' file and its subject
  // index entries. The events go to it in chunks of records (host order):
  //   u64 seq ‖ u32 n ‖ body (n bytes) ‖ prev_hash ‖ hash ‖ u32 k ‖ k SubjectIds
  // `tree`, `events_file`, `tree_file` and `index_run` are the sealer's
  // until Seal has finished it.
  std::string pending;  // records not handed to the sealer yet
  std::unique_ptr<internal::ChunkWorker> sealer;
  // The record of one event, to `pending`.
  void AppendSealRecord(const Event& e, std::string_view body,
                        const std::vector<SubjectId>& subjects) {
    auto put = [&](const void* p, size_t n) { pending.append(static_cast<const char*>(p), n); };
    const uint32_t n = static_cast<uint32_t>(body.size());
    const uint32_t k = static_cast<uint32_t>(subjects.size());
    put(&e.seq, sizeof e.seq);
    put(&n, sizeof n);
    pending.append(body);
    put(e.prev_hash.data(), e.prev_hash.size());
    put(e.hash.data(), e.hash.size());
    put(&k, sizeof k);
    for (const SubjectId& id : subjects) put(id.data(), id.size());
  }
  // On the sealer's thread: the records of `chunk`.
  Status SealChunk(std::string_view chunk) {
    Status s;
    std::string index_key;
    for (size_t at = 0; at < chunk.size() && s.ok();) {
      uint64_t seq;
      uint32_t n, k;
      std::memcpy(&seq, chunk.data() + at, sizeof seq);
      std::memcpy(&n, chunk.data() + at + sizeof seq, sizeof n);
      at += sizeof seq + sizeof n;
      const std::string_view body = chunk.substr(at, n);
      const std::string_view hashes = chunk.substr(at + n, 64);
      at += n + 64;
      std::memcpy(&k, chunk.data() + at, sizeof k);
      at += sizeof k;
      tree.Append(merkle::LeafHash(body), [&](uint64_t end, int level, std::string_view value) {
        if (s.ok()) s = tree_file->Put(TreeKey(end, level), value);
      });
      if (s.ok()) s = events_file->Put(SeqKey(seq), body, hashes);
      for (uint32_t i = 0; i < k; ++i, at += sizeof(SubjectId)) {
        index_key.assign(chunk.substr(at, sizeof(SubjectId)));
        PutBe64(index_key, seq);
        RawTo(index_run, index_key, std::string_view(), s);
      }
    }
    return s;
  }
  // Its other puts (the subject index, projections, head, checkpoint), by
  // family in batch order, as records of the family's arena
  // (internal::AppendRecord), sorted at the commit (IngestPuts). Once
  // kStreamAfterRecords puts in a row came in strictly ascending key order
  // (an import's results, in SubjectId order), they and the family's next
  // ones go to a sorted file of its own instead, written by a thread while
  // the batch goes on. A put that breaks the order takes the file's records
  // back into the arena, after the earlier ones, so any order stays correct
  // and only the ordered one is fast; so does a file whose key range
  // overlaps the arena's at the commit.
  struct Run {
    rocksdb::ColumnFamilyHandle* family = nullptr;
    std::string arena;
    size_t records = 0;                            // in the arena
    size_t last_at = 0;                            // where the arena's last record begins
    size_t streak = 0;                             // the arena's last records, in ascending order
    size_t streak_from = 0;                        // where they begin in the arena
    bool reserved = false;                         // the arena has room for a record per event
    std::unique_ptr<internal::SortedFile> stream;  // the puts after the arena's
  };
  static constexpr size_t kStreamAfterRecords = 4096;
  rocksdb::DB* db = nullptr;   // of a bulk batch: where its files go
  std::vector<Run> runs;       // a handful of families: found by a linear search
  Run index_run;               // the subject index's: the sealer's until Seal
  size_t expected_events = 0;  // NewBatch's hint
  bool bulk() const { return !bulk_dir.empty(); }

  // A put of this batch (not an event or a tree record).
  void Raw(rocksdb::ColumnFamilyHandle* family, std::string_view key, std::string_view value) {
    if (!bulk()) {
      wb.Put(family, rocksdb::Slice(key.data(), key.size()),
             rocksdb::Slice(value.data(), value.size()))
          .PermitUncheckedError();
      return;
    }
    Run* run = nullptr;
    for (Run& r : runs)
      if (r.family == family) run = &r;
    if (run == nullptr) {
      run = &runs.emplace_back();
      run->family = family;
    }
    RawTo(*run, key, value, bulk_status);
  }
  // A put of a bulk batch to `run`; a failure goes to `status`. (The
  // caller's thread, or the sealer's for the subject index.)
  void RawTo(Run& run, std::string_view key, std::string_view value, Status& status) {
    // The family's last put is the file's last, or the arena's.
    std::string_view last;
    if (run.stream) {
      last = run.stream->last_key();
    } else if (run.records != 0) {
      size_t at = run.last_at;
      last = internal::RecordAt(run.arena, at).key.ToStringView();
    }
    const bool ascends = last.data() == nullptr || KeyLess(last, key);
    if (run.stream) {
      if (ascends) {
        if (status.ok()) status = run.stream->Put(key, value);
        return;
      }
      TakeBack(run, status);
    }
    if (!ascends) run.streak = 0;
    if (run.streak == 0) run.streak_from = run.arena.size();
    run.last_at = run.arena.size();
    internal::AppendRecord(run.arena, key, value);
    ++run.records;
    ++run.streak;
    if (run.streak == kStreamAfterRecords) {
      // The streak and what follows it go to a file.
      run.stream = std::make_unique<internal::SortedFile>(
          db, run.family, bulk_dir + "/" + std::to_string(run.family->GetID()) + ".sst",
          /*background=*/true);
      for (size_t at = run.streak_from; at < run.arena.size() && status.ok();) {
        const internal::Put p = internal::RecordAt(run.arena, at);
        status = run.stream->Put(p.key.ToStringView(), p.value.ToStringView());
      }
      run.arena.resize(run.streak_from);
      run.records -= run.streak;
      run.streak = 0;
    } else if (run.records == kStreamAfterRecords && !run.reserved) {
      // A family with a record per event in no order (an export's index
      // over several files) gets room for all of them at once, at the size
      // of its records so far and an eighth more: reserved pages are
      // touched only as they fill, while growing would copy the arena again
      // (and touch twice its size). Families of a few records (the head)
      // reserve nothing.
      const size_t per_record = run.arena.size() / run.records + 1;
      run.arena.reserve(expected_events * per_record / 8 * 9);
      run.reserved = true;
    }
  }
  // A run's file's records back into its arena, after the earlier ones.
  void TakeBack(Run& run, Status& status) {
    run.records += run.stream->entries();
    if (status.ok()) status = run.stream->TakeBack(run.arena);
    run.stream.reset();
    run.streak = 0;
  }
  // Every run: the projections' and the subject index's.
  template <class Fn>
  void ForEachRun(Fn&& fn) {
    for (Run& r : runs) fn(r);
    fn(index_run);
  }
  template <class Fn>
  void ForEachRun(Fn&& fn) const {
    for (const Run& r : runs) fn(r);
    fn(index_run);
  }
  // Before the commit (the sealer done): each run's file and arena must
  // not overlap.
  void SettleRuns() {
    ForEachRun([&](Run& run) {
      if (!run.stream || run.records == 0) return;
      std::string_view lo, hi;
      for (size_t at = 0; at < run.arena.size();) {
        const std::string_view k = internal::RecordAt(run.arena, at).key.ToStringView();
        if (lo.data() == nullptr || k < lo) lo = k;
        if (hi.data() == nullptr || k > hi) hi = k;
      }
      if (lo <= run.stream->last_key() && hi >= run.stream->first_key()) TakeBack(run, bulk_status);
    });
  }
  // The collected runs as views into their arenas, for the ingest.
  std::vector<internal::FamilyPuts> RunPuts() const {
    std::vector<internal::FamilyPuts> out;
    ForEachRun([&](const Run& r) {
      if (r.records == 0) return;
      internal::FamilyPuts& f = out.emplace_back();
      f.family = r.family;
      f.puts.reserve(r.records);
      for (size_t at = 0; at < r.arena.size();) f.puts.push_back(internal::RecordAt(r.arena, at));
    });
    return out;
  }
  // The bulk batch's sorted files: its events, its tree, its streamed runs.
  std::vector<internal::SortedFile*> StreamedFiles() const {
    std::vector<internal::SortedFile*> out = {events_file.get(), tree_file.get()};
    ForEachRun([&](const Run& r) {
      if (r.stream) out.push_back(r.stream.get());
    });
    return out;
  }

  void PutTree(rocksdb::ColumnFamilyHandle* family, uint64_t end, int level,
               std::string_view value) {
    const std::string key = TreeKey(end, level);
    if (bulk()) {
      if (bulk_status.ok()) bulk_status = tree_file->Put(key, value);
    } else {
      wb.Put(family, key, rocksdb::Slice(value.data(), value.size())).PermitUncheckedError();
    }
  }
  // Puts the tree records a leaf completes.
  void AppendLeaf(rocksdb::ColumnFamilyHandle* family, const Hash256& leaf) {
    tree.Append(leaf, [&](uint64_t end, int level, std::string_view value) {
      PutTree(family, end, level, value);
    });
  }
};

namespace log_detail {

// The signed checkpoint of the tree of `size` events with root `root`.
inline std::string SignedCheckpoint(const note::Signer& signer, uint64_t size, const Hash256& root,
                                    TimeMs now) {
  note::Checkpoint c;
  c.origin = signer.name();
  c.size = size;
  c.root = root;
  c.extensions.push_back("time " + FormatUtc(now));
  auto signed_note = signer.Sign(note::FormatCheckpoint(c));
  // A checkpoint's text is always a valid note text: its origin is a key name.
  return signed_note.ok() ? *signed_note : std::string();
}

// MultiGet of `keys` in chunks; calls fn(i, value or null when absent), in
// key order, all read at one snapshot. RocksDB wants a chunk's keys sorted:
// sorting their positions here with memcmp costs less than its own sort of
// key contexts through the comparator, and keys already sorted (the bulk
// paths) skip both. A chunk whose key range holds no key at all (a fresh
// ledger's, or new numbers') costs one seek instead of a lookup per key.
template <class Keys, class Fn>
inline Status MultiGetEach(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h, const Keys& keys,
                           Fn&& fn) {
  const size_t chunk = std::min<size_t>(4096, keys.size());
  std::vector<rocksdb::Slice> slices;
  slices.reserve(chunk);
  std::vector<uint32_t> order(chunk);
  std::vector<rocksdb::PinnableSlice> out(chunk);
  std::vector<rocksdb::Status> st(chunk);
  const rocksdb::Snapshot* snapshot = db->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() { db->ReleaseSnapshot(s); }
  } release{db, snapshot};
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> range;  // made at the first chunk of several keys
  for (size_t base = 0; base < keys.size(); base += chunk) {
    const size_t n = std::min(chunk, keys.size() - base);
    order.resize(n);
    std::iota(order.begin(), order.end(), 0u);
    auto less = [&](uint32_t a, uint32_t b) { return keys[base + a] < keys[base + b]; };
    if (!std::is_sorted(order.begin(), order.end(), less))
      std::sort(order.begin(), order.end(), less);
    slices.clear();
    for (uint32_t i : order) slices.emplace_back(keys[base + i]);
    if (n >= 64) {
      if (range == nullptr) range.reset(db->NewIterator(ro, h));
      range->Seek(slices.front());
      TACET_RETURN_IF_ERROR(FromRocks(range->status(), "projection read"));
      if (!range->Valid() || range->key().compare(slices.back()) > 0) {
        for (uint32_t i : order) fn(base + i, nullptr);
        continue;
      }
    }
    db->MultiGet(ro, h, n, slices.data(), out.data(), st.data(), /*sorted_input=*/true);
    for (size_t j = 0; j < n; ++j) {
      if (st[j].ok()) {
        fn(base + order[j], &out[j]);
      } else if (st[j].IsNotFound()) {
        fn(base + order[j], nullptr);
      } else {
        return FromRocks(st[j], "projection read");
      }
      out[j].Reset();
    }
  }
  return Status::Ok();
}

}  // namespace log_detail
using namespace log_detail;

}  // namespace tacet
