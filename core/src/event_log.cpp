// The one file that includes RocksDB. Layout: core/FORMAT.md.
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
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <shared_mutex>
#include <thread>

#include "../internal/bulk_ingest.h"
#include "../internal/overlay.h"
#include "tacet/core/codec.h"
#include "tacet/core/merkle.h"
#include "tacet/core/time.h"

namespace tacet {
namespace {

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

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  if (s.IsNotFound()) return Status::NotFound(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

void PutBe64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetBe64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(s[i]);
  return v;
}

// meta "head": seq (be64) || hash (32) || recorded_at (be64)
std::string EncodeHead(const Head& h) {
  std::string out;
  PutBe64(out, h.seq);
  out.append(AsBytes(h.hash));
  PutBe64(out, static_cast<uint64_t>(h.recorded_at));
  return out;
}
Result<Head> DecodeHead(std::string_view s) {
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
// A bulk batch hashes its events' leaves in runs of this many.
constexpr size_t kSealRun = 1u << 15;
std::string TreeKey(uint64_t end, int level) {
  std::string k;
  k.reserve(9);
  PutBe64(k, end);
  k.push_back(static_cast<char>(level));
  return k;
}
std::string_view BundleBytes(const std::vector<Hash256>& leaves) {
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
std::string SubjectPrefix(const SubjectId& subject) {
  std::string k;
  k.reserve(subject.size() + 8);
  k.append(AsBytes(subject));
  return k;
}

}  // namespace

std::string SeqKey(uint64_t seq) {
  std::string k;
  k.reserve(8);
  PutBe64(k, seq);
  return k;
}
uint64_t DecodeSeqKey(std::string_view key) { return key.size() == 8 ? GetBe64(key) : 0; }

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

  bool mirrored() const { return !mirrors.empty(); }
  TreeReader::Store tree_store() const { return {db.get(), tree, events, &tree_reads}; }
  // A batch's view of each family (its writes, and reads of the same
  // unchanged store) folded into the mirrors. Holds mu.
  void MergeMirrors(const std::vector<internal::Overlay>& views) {
    if (!mirrored()) return;
    std::unique_lock lock(mirror_mu);
    for (size_t i = 0; i < views.size() && i < mirrors.size(); ++i) {
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
    if (!mirrored()) return false;
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

struct AppendBatch::Impl {
  Impl(size_t reserve, size_t families) : wb(reserve), views(families) {}
  ~Impl() {
    if (bulk_dir.empty()) return;
    events_file.reset();
    tree_file.reset();
    std::error_code ec;
    std::filesystem::remove_all(bulk_dir, ec);  // a batch never committed leaves no file
  }
  rocksdb::WriteBatch wb;
  std::vector<internal::Overlay> views;  // per projection family: read-your-writes
  TreeTail tree;                         // of the tree up to the batch's last hashed leaf
  // Events whose leaves are not hashed yet: where each body lies (offset,
  // size) in wb's buffer, or in `pending` for a bulk batch, in seq order.
  // Hashed on two threads by Seal.
  std::vector<std::pair<size_t, size_t>> bodies;
  std::vector<SubjectId> subjects;  // of the event being written (reused)

  // A bulk batch (internal::kStreamMinEvents): its events and tree records
  // are written to sorted files under bulk_dir as they are made, and the
  // commit ingests them with the rest of the batch. Empty bulk_dir: not bulk.
  std::string bulk_dir;
  std::unique_ptr<internal::SortedFile> events_file, tree_file;
  std::string pending;  // bodies awaiting their leaf hashes (reused)
  Status bulk_status;   // the first failure writing those files
  // Its other puts (the subject index, projections, head, checkpoint), by
  // family in batch order, as records of the family's arena
  // (internal::AppendRecord). Read in order at the commit, so no WriteBatch
  // is built only to be taken apart again.
  struct Run {
    rocksdb::ColumnFamilyHandle* family = nullptr;
    std::string arena;
    size_t records = 0;
  };
  std::vector<Run> runs;       // a handful of families: found by a linear search
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
    if (run == nullptr) run = &runs.emplace_back(Run{family, {}, 0});
    // A family with a record per event (the index, an import's registry
    // records) gets room for all of them at once: reserved pages are
    // touched only as they fill, while growing would copy the arena again.
    // Families of a few records (the head) reserve nothing.
    if (run->records == 4096) run->arena.reserve(expected_events * 64);
    internal::AppendRecord(run->arena, key, value);
    ++run->records;
  }
  // The runs as views into their arenas, for the ingest.
  std::vector<internal::FamilyPuts> RunPuts() const {
    std::vector<internal::FamilyPuts> out;
    for (const Run& r : runs) {
      internal::FamilyPuts& f = out.emplace_back();
      f.family = r.family;
      f.puts.reserve(r.records);
      for (size_t at = 0; at < r.arena.size();) f.puts.push_back(internal::RecordAt(r.arena, at));
    }
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

namespace {

// The signed checkpoint of the tree of `size` events with root `root`.
std::string SignedCheckpoint(const note::Signer& signer, uint64_t size, const Hash256& root,
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
// key order. RocksDB wants a chunk's keys sorted: sorting their positions
// here with memcmp costs less than its own sort of key contexts through the
// comparator, and keys already sorted (the bulk paths) skip both.
template <class Fn>
Status MultiGetEach(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h,
                    const std::vector<std::string>& keys, Fn&& fn) {
  const size_t chunk = std::min<size_t>(4096, keys.size());
  std::vector<rocksdb::Slice> slices;
  slices.reserve(chunk);
  std::vector<uint32_t> order(chunk);
  std::vector<rocksdb::PinnableSlice> out(chunk);
  std::vector<rocksdb::Status> st(chunk);
  for (size_t base = 0; base < keys.size(); base += chunk) {
    const size_t n = std::min(chunk, keys.size() - base);
    order.resize(n);
    std::iota(order.begin(), order.end(), 0u);
    auto less = [&](uint32_t a, uint32_t b) { return keys[base + a] < keys[base + b]; };
    if (!std::is_sorted(order.begin(), order.end(), less))
      std::sort(order.begin(), order.end(), less);
    slices.clear();
    for (uint32_t i : order) slices.emplace_back(keys[base + i]);
    db->MultiGet(rocksdb::ReadOptions(), h, n, slices.data(), out.data(), st.data(),
                 /*sorted_input=*/true);
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

}  // namespace

EventLog::EventLog(std::string dir, EventLogOptions options, const Clock* clock)
    : dir_(std::move(dir)),
      options_(std::move(options)),
      clock_(clock),
      impl_(std::make_unique<Impl>()) {}

EventLog::~EventLog() {
  // A process that wrote a large batch flushes its memtables before it goes:
  // otherwise every later open, read-only ones included, replays the whole
  // WAL (seconds for a million events) before its first lookup.
  Impl& im = *impl_;
  if (im.db && im.unflushed_bytes >= kFlushOnCloseBytes && im.sticky.ok()) {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    std::vector<rocksdb::ColumnFamilyHandle*> all(im.handles.begin(), im.handles.end());
    im.db->Flush(fo, all).PermitUncheckedError();  // best effort: the WAL still has it all
  }
}

namespace {

// Who holds RocksDB's fcntl lock on `lock_path`: "pid N (name)", or "another
// tacet process" when the kernel does not say (the holder is this process).
std::string LockHolder(const std::string& lock_path) {
  std::string who = "another tacet process";
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return who;
  struct flock f {};
  f.l_type = F_WRLCK;
  f.l_whence = SEEK_SET;
  if (::fcntl(fd, F_GETLK, &f) == 0 && f.l_type != F_UNLCK && f.l_pid > 0) {
    who = "pid " + std::to_string(f.l_pid);
    std::ifstream comm("/proc/" + std::to_string(f.l_pid) + "/comm");
    std::string name;
    if (std::getline(comm, name) && !name.empty()) who += " (" + name + ")";
  }
  ::close(fd);
  return who;
}

}  // namespace

// Tests of the durability rules (EventLogOptions::fail_wal_sync): the WAL
// files' syncs fail when the hook says so, as a dying disk's would.
class FailingSyncFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FailingSyncFile(std::unique_ptr<rocksdb::FSWritableFile> f, std::function<bool()> fail)
      : FSWritableFileOwnerWrapper(std::move(f)), fail_(std::move(fail)) {}
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (fail_()) return rocksdb::IOStatus::IOError("injected WAL sync failure");
    return FSWritableFileOwnerWrapper::Sync(o, d);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (fail_()) return rocksdb::IOStatus::IOError("injected WAL sync failure");
    return FSWritableFileOwnerWrapper::Fsync(o, d);
  }

 private:
  std::function<bool()> fail_;
};

class FailingSyncFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit FailingSyncFileSystem(std::function<bool()> fail)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), fail_(std::move(fail)) {}
  const char* Name() const override { return "TacetFailingSync"; }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* d) override {
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, d);
    if (s.ok() && f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0)
      *r = std::make_unique<FailingSyncFile>(std::move(*r), fail_);
    return s;
  }

 private:
  std::function<bool()> fail_;
};

// RocksDB's own LOG, written by us: warnings and errors only, and a failed
// write (a full disk) is dropped. RocksDB's file logger asserts when it
// writes again after a failed append, and Debian's build keeps assertions:
// on a full disk its LOG alone aborted the process.
class LedgerInfoLog final : public rocksdb::Logger {
 public:
  explicit LedgerInfoLog(const std::string& path)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL),
        // Like RocksDB's own files: 0644 within the process's umask.
        fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {}
  ~LedgerInfoLog() override {
    if (fd_ >= 0) ::close(fd_);
  }
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (fd_ < 0) return;
    char line[1024];
    int n = std::vsnprintf(line, sizeof line - 1, format, ap);
    if (n < 0) return;
    size_t len = std::min(static_cast<size_t>(n), sizeof line - 2);
    line[len++] = '\n';
    ssize_t w = ::write(fd_, line, len);  // best effort: never an error
    (void)w;
  }

 private:
  int fd_;
};

Result<std::unique_ptr<EventLog>> EventLog::Open(const std::string& dir, EventLogOptions options,
                                                 const Clock* clock) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool exists = fs::exists(fs::path(dir) / "CURRENT", ec);
  if (!exists && (!options.create_if_missing || options.read_only))
    return Status::NotFound("no ledger in '" + dir + "' (create one with 'tacet init')");
  if (!exists) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create '" + dir + "': " + ec.message());
  }

  std::unique_ptr<EventLog> log(new EventLog(dir, options, clock));
  Impl& im = *log->impl_;

  rocksdb::Options db_opts;
  db_opts.info_log = std::make_shared<LedgerInfoLog>(dir + "/LOG");
  if (options.fail_wal_sync) {
    im.fault_env =
        rocksdb::NewCompositeEnv(std::make_shared<FailingSyncFileSystem>(options.fail_wal_sync));
    db_opts.env = im.fault_env.get();
  }
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.IncreaseParallelism(2);
  db_opts.max_total_wal_size = 1ull << 30;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(256 << 20);
  // Every block read is checked: Debian's RocksDB computes CRC32C in
  // software, XXH3 is several times faster (a per-file choice; files
  // written before keep theirs).
  table.checksum = rocksdb::kXXH3;
  rocksdb::ColumnFamilyOptions cf_opts;
  cf_opts.write_buffer_size = 256 << 20;
  cf_opts.max_write_buffer_number = 4;
  cf_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_opts.compression = rocksdb::kLZ4Compression;
  // A batch's seqs, tree records and head come in key order: one insert
  // hint for the whole key space turns each of those memtable inserts into
  // a step from the last. (SubjectId keys come in random order; batches
  // large enough for that to matter take the bulk path, bulk_ingest.h.)
  cf_opts.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(0));

  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName,
                                    kEventsFamily,
                                    kSubjectsFamily,
                                    kMetaFamily,
                                    kTreeFamily,
                                    kCheckpointsFamily};
  if (exists) {
    std::vector<std::string> existing;
    auto s = rocksdb::DB::ListColumnFamilies(db_opts, dir, &existing);
    if (!s.ok()) return FromRocks(s, "cannot list column families of '" + dir + "'");
    for (auto& n : existing)
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  if (!options.read_only)
    for (auto& n : options.projection_families)
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);

  im.cf_opts = cf_opts;
  // The log's own families are read by keys that exist (a seq, a tree
  // record) or by prefix scans (the subject index): a Bloom filter would
  // answer nothing there and costs a hash per key in every file written.
  // Projection families keep theirs: a decision asks for records that
  // mostly do not exist.
  rocksdb::ColumnFamilyOptions unfiltered = cf_opts;
  {
    rocksdb::BlockBasedTableOptions t = table;
    t.filter_policy.reset();
    unfiltered.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (auto& n : names) {
    const bool log_family = n == kEventsFamily || n == kSubjectsFamily || n == kTreeFamily;
    descs.emplace_back(n, log_family ? unfiltered : cf_opts);
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (options.read_only) {
    // A ledger of an older format may lack a family; read-only cannot
    // create it, and the format record below names what the ledger is.
    std::vector<std::string> existing;
    if (rocksdb::DB::ListColumnFamilies(db_opts, dir, &existing).ok()) {
      for (const char* family : {kTreeFamily, kCheckpointsFamily}) {
        if (std::find(existing.begin(), existing.end(), family) != existing.end()) continue;
        descs.erase(std::find_if(descs.begin(), descs.end(),
                                 [&](const auto& d) { return d.name == family; }));
        names.erase(std::find(names.begin(), names.end(), family));
      }
    }
    s = rocksdb::DB::OpenForReadOnly(db_opts, dir, descs, &im.handles, &raw);
  } else {
    s = rocksdb::DB::Open(db_opts, dir, descs, &im.handles, &raw);
  }
  if (!s.ok()) {
    std::string hint;
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
      hint = " (" + LockHolder(dir + "/LOCK") + " is writing to this ledger)";
    return FromRocks(s, "cannot open ledger '" + dir + "'" + hint);
  }
  im.db.reset(raw);
  if (!options.read_only) {
    // The sorted files of a bulk batch a crash interrupted: never ingested.
    fs::remove_all(fs::path(dir) / "bulk.tmp", ec);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == kEventsFamily) im.events = im.handles[i];
    if (names[i] == kSubjectsFamily) im.subjects = im.handles[i];
    if (names[i] == kMetaFamily) im.meta = im.handles[i];
    if (names[i] == kTreeFamily) im.tree = im.handles[i];
    if (names[i] == kCheckpointsFamily) im.checkpoints = im.handles[i];
  }
  for (auto& p : options.projection_families) {
    im.projection_names.push_back(p);
    auto it = std::find(names.begin(), names.end(), p);
    im.projections.push_back(it == names.end() ? nullptr : im.handles[it - names.begin()]);
  }

  std::string value;

  s = im.db->Get(rocksdb::ReadOptions(), im.meta, kFormatKey, &value);
  if (s.IsNotFound()) {
    if (options.read_only) return Status::Corruption("ledger '" + dir + "' has no format record");
    rocksdb::WriteBatch wb;
    wb.Put(im.meta, kFormatKey, kFormatValue).PermitUncheckedError();
    wb.Put(im.meta, kHeadKey, EncodeHead(Head{})).PermitUncheckedError();
    rocksdb::WriteOptions wo;
    wo.sync = true;
    TACET_RETURN_IF_ERROR(FromRocks(im.db->Write(wo, &wb), "cannot initialise ledger"));
  } else if (!s.ok()) {
    return FromRocks(s, "cannot read ledger format");
  } else if (value != kFormatValue) {
    const bool older = value == "tacet-ledger-1" || value == "tacet-ledger-2";
    return Status::FailedPrecondition(
        "'" + dir + "' holds ledger format '" + value + "', not '" + kFormatValue + "'" +
        (older ? ": a ledger of that format keeps subjects in clear and cannot be opened by this "
                 "version (no migration exists; export its data with the version that wrote it)"
               : ""));
  }
  s = im.db->Get(rocksdb::ReadOptions(), im.meta, kHeadKey, &value);
  if (!s.ok()) return FromRocks(s, "cannot read ledger head");
  TACET_ASSIGN_OR_RETURN(im.head, DecodeHead(value));
  TACET_RETURN_IF_ERROR(log->CheckTail());
  TACET_RETURN_IF_ERROR(log->LoadTree());
  if (options.mirror_projections && !options.read_only) TACET_RETURN_IF_ERROR(log->LoadMirrors());
  TACET_RETURN_IF_ERROR(log->LoadCheckpointState());
  return log;
}

Status EventLog::LoadMirrors() {
  Impl& im = *impl_;
  std::vector<internal::Overlay> mirrors(im.projections.size());
  std::vector<size_t> base(im.projections.size(), 0);
  for (size_t i = 0; i < im.projections.size(); ++i) {
    if (im.projections[i] == nullptr) continue;
    std::unique_ptr<rocksdb::Iterator> it(
        im.db->NewIterator(rocksdb::ReadOptions(), im.projections[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      mirrors[i].Set(std::string_view(it->key().data(), it->key().size()),
                     std::string_view(it->value().data(), it->value().size()));
    TACET_RETURN_IF_ERROR(FromRocks(it->status(), "cannot load " + im.projection_names[i]));
    base[i] = mirrors[i].arena_bytes();
  }
  std::unique_lock lock(im.mirror_mu);
  im.mirrors = std::move(mirrors);
  im.mirror_base = std::move(base);
  return Status::Ok();
}

Status EventLog::LoadTree() {
  Impl& im = *impl_;
  const uint64_t size = im.head.seq;
  TreeReader reader(im.tree_store(), size);
  auto context = [&](const Status& s) {
    return s.WithContext("loading the Merkle tree of '" + dir_ + "'");
  };
  std::vector<Hash256> hashes;
  uint64_t begin = 0;
  for (int bit = 63; bit >= 0; --bit) {
    const uint64_t width = uint64_t{1} << bit;
    if ((size & width) == 0) continue;
    auto h = reader.Subtree(begin, begin + width);
    if (!h.ok()) return context(h.status());
    hashes.push_back(*h);
    begin += width;
  }
  TACET_ASSIGN_OR_RETURN(im.tree_tail.range, merkle::CompactRange::From(size, std::move(hashes)));
  auto bundle = reader.Bundle(size / kBundleLeaves);
  if (!bundle.ok()) return context(bundle.status());
  im.tree_tail.bundle = **bundle;
  if (im.tree_tail.bundle.size() != size % kBundleLeaves)
    return context(Status::Corruption("the tree's last bundle has " +
                                      std::to_string(im.tree_tail.bundle.size()) + " leaves"));
  im.tree_ready = true;
  return Status::Ok();
}

Status EventLog::LoadCheckpointState() {
  Impl& im = *impl_;
  if (im.checkpoints != nullptr) {
    std::unique_ptr<rocksdb::Iterator> it(
        im.db->NewIterator(rocksdb::ReadOptions(), im.checkpoints));
    it->SeekToLast();
    if (it->Valid()) im.checkpoint_size = DecodeSeqKey(it->key().ToStringView());
    TACET_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the latest checkpoint"));
  }
  return Status::Ok();
}

Status EventLog::UseCheckpointKey(std::shared_ptr<const note::Signer> signer) {
  if (options_.read_only) return Status::FailedPrecondition("ledger is open read-only");
  TACET_ASSIGN_OR_RETURN(auto recorded, CheckpointKey());
  const std::string mine = signer->verifier().Encode();
  if (!recorded) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    TACET_RETURN_IF_ERROR(FromRocks(impl_->db->Put(wo, impl_->meta, kCheckpointKeyKey, mine),
                                    "cannot record the checkpoint key"));
  } else if (*recorded != mine) {
    return Status::FailedPrecondition("the checkpoint key (" + mine +
                                      ") is not the one that signs this ledger's checkpoints (" +
                                      *recorded + ")");
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  signer_ = std::move(signer);
  return Status::Ok();
}

Status EventLog::AdoptCheckpoints(
    const std::string& verifier_key,
    const std::vector<std::pair<uint64_t, std::string>>& checkpoints) {
  if (options_.read_only) return Status::FailedPrecondition("ledger is open read-only");
  Impl& im = *impl_;
  TACET_ASSIGN_OR_RETURN(auto recorded, CheckpointKey());
  if (recorded && *recorded != verifier_key)
    return Status::FailedPrecondition("this ledger's checkpoints are signed by another key (" +
                                      *recorded + ")");
  rocksdb::WriteBatch wb;
  wb.Put(im.meta, kCheckpointKeyKey, verifier_key);
  uint64_t largest = 0;
  for (const auto& [size, text] : checkpoints) {
    if (size == 0 || size > im.head.seq)
      return Status::InvalidArgument("a checkpoint of size " + std::to_string(size) +
                                     " is beyond this ledger's " + std::to_string(im.head.seq) +
                                     " events");
    wb.Put(im.checkpoints, SeqKey(size), text);
    largest = std::max(largest, size);
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  TACET_RETURN_IF_ERROR(FromRocks(im.db->Write(wo, &wb), "cannot record the checkpoints"));
  std::lock_guard<std::mutex> lock(im.mu);
  im.checkpoint_size = std::max(im.checkpoint_size, largest);
  return Status::Ok();
}

Status EventLog::CheckTail() {
  Impl& im = *impl_;
  const Head& h = im.head;
  std::unique_ptr<rocksdb::Iterator> it(im.db->NewIterator(rocksdb::ReadOptions(), im.events));
  it->SeekToLast();
  uint64_t last = it->Valid() ? DecodeSeqKey(it->key().ToStringView()) : 0;
  TACET_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the last event"));
  if (last != h.seq)
    return Status::Corruption("ledger head says seq " + std::to_string(h.seq) +
                              " but the last stored event is seq " + std::to_string(last));
  if (h.seq == 0) return Status::Ok();
  uint64_t from = h.seq > options_.tail_check ? h.seq - options_.tail_check + 1 : 1;
  std::optional<Hash256> prev;
  Hash256 last_hash{};
  Status st = Scan(from, h.seq, [&](const Event& e) {
    if (prev && e.prev_hash != *prev) {
      st = Status::Corruption("seq " + std::to_string(e.seq) + ": prev_hash does not link");
      return false;
    }
    prev = e.hash;
    last_hash = e.hash;
    return true;
  });
  TACET_RETURN_IF_ERROR(st.WithContext("checking the tail of '" + dir_ + "'"));
  if (last_hash != h.hash)
    return Status::Corruption("seq " + std::to_string(h.seq) +
                              ": hash differs from the head recorded in meta");
  return Status::Ok();
}

Head EventLog::head() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->head;
}

int EventLog::FamilyIndex(std::string_view name) const {
  for (size_t i = 0; i < impl_->projection_names.size(); ++i)
    if (impl_->projection_names[i] == name) return static_cast<int>(i);
  return -1;
}

Result<AppendBatch> EventLog::NewBatch(const Actor& actor, size_t expected_events) {
  if (options_.read_only) return Status::FailedPrecondition("ledger is open read-only");
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->sticky.ok()) return impl_->sticky;
  TimeMs now = std::max(clock_->NowMs(), impl_->head.recorded_at);
  const bool bulk = expected_events >= internal::kStreamMinEvents;
  // A bulk batch's own records go to sorted files, not the WriteBatch.
  AppendBatch b(this, actor, impl_->head, now, bulk ? 0 : expected_events);
  b.impl_->tree = impl_->tree_tail;
  if (bulk) {
    Impl& im = *impl_;
    AppendBatch::Impl& bi = *b.impl_;
    bi.expected_events = expected_events;
    bi.bulk_dir = dir_ + "/bulk.tmp/" + std::to_string(++im.bulk_batches);
    std::error_code ec;
    std::filesystem::remove_all(bi.bulk_dir, ec);
    std::filesystem::create_directories(bi.bulk_dir, ec);
    if (ec) return Status::IOError("cannot create " + bi.bulk_dir + ": " + ec.message());
    bi.events_file = std::make_unique<internal::SortedFile>(
        im.db.get(), im.events, bi.bulk_dir + "/events.sst", /*background=*/true);
    bi.tree_file =
        std::make_unique<internal::SortedFile>(im.db.get(), im.tree, bi.bulk_dir + "/tree.sst");
  }
  return b;
}

Result<AppendBatch> EventLog::NewProjectionBatch() {
  if (options_.read_only) return Status::FailedPrecondition("ledger is open read-only");
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->sticky.ok()) return impl_->sticky;
  AppendBatch b(this, Actor{}, impl_->head, impl_->head.recorded_at, 0);
  b.projection_only_ = true;
  return b;
}

Status EventLog::Commit(AppendBatch&& batch) {
  if (batch.log_ != this) return Status::Internal("batch belongs to another log");
  Impl& im = *impl_;
  batch.Seal();  // before taking the lock: readers of the head need not wait
  std::lock_guard<std::mutex> lock(im.mu);
  if (!im.sticky.ok()) return im.sticky;
  if (batch.projection_only_) {
    rocksdb::WriteBatch& wb = batch.impl_->wb;
    if (wb.Count() == 0) return Status::Ok();
    // No WAL: a projection batch is only ever part of a rebuild, which
    // marks itself in meta until FlushProjections() made it durable.
    // A large run (a rebuild folds 100,000 events at a time) is ingested
    // as sorted files: its keys (SubjectIds) come in random order.
    Status s;
    bool ingested = false;
    if (wb.Count() >= internal::kIngestMinEntries) {
      Result<bool> r = internal::IngestBatch(im.db.get(), im.handles, wb, dir_ + "/ingest.tmp");
      if (r.ok()) {
        ingested = *r;
      } else {
        s = r.status().WithContext("cannot write projections");
      }
    }
    if (s.ok() && !ingested) {
      rocksdb::WriteOptions wo;
      wo.disableWAL = true;
      s = FromRocks(im.db->Write(wo, &wb), "cannot write projections");
    }
    if (!s.ok()) {
      im.sticky = s.WithContext("ledger refuses writes until reopened");
      return s;
    }
    im.unflushed_bytes += wb.GetDataSize();
    im.MergeMirrors(batch.impl_->views);
    return Status::Ok();
  }
  if (batch.size() == 0) return Status::Ok();
  if (batch.base_.seq != im.head.seq || batch.base_.hash != im.head.hash)
    return Status::FailedPrecondition("the ledger moved on while the batch was prepared (head " +
                                      std::to_string(im.head.seq) + ", batch base " +
                                      std::to_string(batch.base_.seq) + ")");
  Head next = batch.head_;
  next.recorded_at = batch.recorded_at_;
  rocksdb::WriteBatch& wb = batch.impl_->wb;
  batch.impl_->Raw(im.meta, kHeadKey, EncodeHead(next));
  const TimeMs now = clock_->NowMs();
  const bool checkpoint =
      signer_ != nullptr && im.tree_ready &&
      (!im.checkpoint_ms || now - *im.checkpoint_ms >= options_.checkpoint_interval_ms);
  if (checkpoint) {
    batch.impl_->Raw(im.checkpoints, SeqKey(next.seq),
                     SignedCheckpoint(*signer_, next.seq, batch.impl_->tree.range.Root(), now));
  }
  const std::string what = "cannot commit events " + std::to_string(batch.first_seq()) + ".." +
                           std::to_string(batch.last_seq());
  Status s;
  bool ingested = false;
  if (batch.impl_->bulk()) {
    // Its events and tree records lie in sorted files only: the whole batch
    // is ingested with them, or nothing is.
    AppendBatch::Impl& bi = *batch.impl_;
    s = bi.bulk_status;
    if (!s.ok()) return s.WithContext(what + "; nothing was committed");
    s = FromRocks(im.db->SyncWAL(), what + ": the WAL before a bulk commit");
    if (s.ok() && wb.Count() != 0)
      s = Status::Internal(what + ": a bulk batch has puts in its WriteBatch");
    if (s.ok()) {
      std::vector<internal::FamilyPuts> puts = bi.RunPuts();
      s = internal::IngestPuts(im.db.get(), puts, dir_ + "/ingest.tmp",
                               {bi.events_file.get(), bi.tree_file.get()})
              .WithContext(what);
      ingested = s.ok();
    }
  } else if (wb.Count() >= internal::kIngestMinEntries) {
    // Earlier commits still only in the WAL's page cache must not be lost
    // behind this one, which is durable as soon as it is ingested.
    s = FromRocks(im.db->SyncWAL(), what + ": the WAL before a bulk commit");
    if (s.ok()) {
      Result<bool> r = internal::IngestBatch(im.db.get(), im.handles, wb, dir_ + "/ingest.tmp");
      if (r.ok()) {
        ingested = *r;
      } else {
        s = r.status().WithContext(what);
      }
    }
  }
  if (s.ok() && !ingested) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    s = FromRocks(im.db->Write(wo, &wb), what);
    if (s.ok()) im.unflushed_bytes += wb.GetDataSize();
  }
  if (!s.ok()) {
    im.sticky = s.WithContext("ledger refuses writes until reopened");
    return s;
  }
  im.head = next;
  im.tree_tail = std::move(batch.impl_->tree);
  if (checkpoint) {
    im.checkpoint_size = next.seq;
    im.checkpoint_ms = now;
  }
  im.MergeMirrors(batch.impl_->views);
  return Status::Ok();
}

Result<bool> EventLog::Checkpoint(bool only_when_due) {
  Impl& im = *impl_;
  if (signer_ == nullptr || options_.read_only)
    return Status::FailedPrecondition("this process has no checkpoint key for '" + dir_ + "'");
  std::lock_guard<std::mutex> lock(im.mu);
  if (!im.sticky.ok()) return im.sticky;
  if (!im.tree_ready) return Status::FailedPrecondition("ledger '" + dir_ + "' has no tree");
  if (im.head.seq == im.checkpoint_size) return false;
  const TimeMs now = clock_->NowMs();
  if (only_when_due && im.checkpoint_ms &&
      now - *im.checkpoint_ms < options_.checkpoint_interval_ms)
    return false;
  rocksdb::WriteOptions wo;
  wo.sync = true;  // rare, and handed out at once: never lost in a crash
  Status s =
      FromRocks(im.db->Put(wo, im.checkpoints, SeqKey(im.head.seq),
                           SignedCheckpoint(*signer_, im.head.seq, im.tree_tail.range.Root(), now)),
                "cannot write the checkpoint of seq " + std::to_string(im.head.seq));
  if (!s.ok()) {
    im.sticky = s.WithContext("ledger refuses writes until reopened");
    return s;
  }
  im.checkpoint_size = im.head.seq;
  im.checkpoint_ms = now;
  return true;
}

Result<std::optional<std::string>> EventLog::CheckpointKey() const {
  return GetMeta(kCheckpointKeyKey);
}

Result<std::optional<std::string>> EventLog::LatestCheckpoint() const {
  std::optional<std::string> latest;
  if (impl_->checkpoints == nullptr) return latest;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->checkpoints));
  it->SeekToLast();
  if (it->Valid()) latest = it->value().ToString();
  TACET_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the latest checkpoint"));
  return latest;
}

Result<std::optional<std::string>> EventLog::CheckpointOfSize(uint64_t size) const {
  std::optional<std::string> found;
  if (impl_->checkpoints == nullptr) return found;
  std::string v;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->checkpoints, SeqKey(size), &v);
  if (s.IsNotFound()) return found;
  TACET_RETURN_IF_ERROR(FromRocks(s, "cannot read the checkpoint of size " + std::to_string(size)));
  found = std::move(v);
  return found;
}

Status EventLog::ScanCheckpoints(uint64_t from,
                                 const std::function<bool(uint64_t, std::string_view)>& fn) const {
  if (impl_->checkpoints == nullptr) return Status::Ok();
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->checkpoints));
  for (it->Seek(SeqKey(from)); it->Valid(); it->Next())
    if (!fn(DecodeSeqKey(it->key().ToStringView()), it->value().ToStringView())) break;
  return FromRocks(it->status(), "cannot read the checkpoints");
}

Status EventLog::SyncWal() {
  Impl& im = *impl_;
  {
    // Not held across the sync: commits go on while the WAL syncs.
    std::lock_guard<std::mutex> lock(im.mu);
    if (!im.sticky.ok()) return im.sticky;
  }
  Status s = FromRocks(im.db->SyncWAL(), "cannot sync the WAL");
  if (!s.ok()) {
    // What was acknowledged as written may not be on the disk: nothing more
    // is written, synced or signed until the ledger is reopened (and a
    // second SyncWAL on RocksDB's failed writer would assert).
    std::lock_guard<std::mutex> lock(im.mu);
    if (im.sticky.ok()) im.sticky = s.WithContext("ledger refuses writes until reopened");
  }
  return s;
}

Status EventLog::sticky_error() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->sticky;
}

Status EventLog::FlushProjections() {
  Impl& im = *impl_;
  if (Status sticky = sticky_error(); !sticky.ok()) return sticky;
  rocksdb::FlushOptions fo;
  fo.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  for (auto* h : im.projections)
    if (h != nullptr) families.push_back(h);
  return FromRocks(im.db->Flush(fo, families), "cannot flush the projections");
}

Status EventLog::ResetProjections() {
  if (options_.read_only) return Status::FailedPrecondition("ledger is open read-only");
  Impl& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mu);
  for (size_t i = 0; i < im.projections.size(); ++i) {
    rocksdb::ColumnFamilyHandle* old = im.projections[i];
    auto pos = std::find(im.handles.begin(), im.handles.end(), old);
    if (old != nullptr) {
      TACET_RETURN_IF_ERROR(
          FromRocks(im.db->DropColumnFamily(old), "cannot drop " + im.projection_names[i]));
      TACET_RETURN_IF_ERROR(FromRocks(im.db->DestroyColumnFamilyHandle(old),
                                      "cannot drop " + im.projection_names[i]));
    }
    rocksdb::ColumnFamilyHandle* fresh = nullptr;
    TACET_RETURN_IF_ERROR(
        FromRocks(im.db->CreateColumnFamily(im.cf_opts, im.projection_names[i], &fresh),
                  "cannot recreate " + im.projection_names[i]));
    im.projections[i] = fresh;
    if (im.mirrored()) {
      std::unique_lock mirror_lock(im.mirror_mu);
      im.mirrors[i] = internal::Overlay();
      im.mirror_base[i] = 0;
    }
    if (pos != im.handles.end()) {
      *pos = fresh;
    } else {
      im.handles.push_back(fresh);
    }
  }
  return Status::Ok();
}

Result<EventLog::FamilyDigest> EventLog::Digest(int family) const {
  FamilyDigest d;
  Sha256Stream sha;
  auto put_len = [&](size_t n) {
    char b[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                 static_cast<char>(n)};
    sha.Update(std::string_view(b, 4));
  };
  TACET_RETURN_IF_ERROR(ScanFamily(family, "", [&](std::string_view k, std::string_view v) {
    put_len(k.size());
    sha.Update(k);
    put_len(v.size());
    sha.Update(v);
    ++d.entries;
    return true;
  }));
  d.sha256 = sha.Finish();
  return d;
}

Result<std::optional<std::string>> EventLog::GetMeta(std::string_view key) const {
  std::string value;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->meta,
                          rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  TACET_RETURN_IF_ERROR(FromRocks(s, "cannot read meta " + std::string(key)));
  return std::optional<std::string>(std::move(value));
}

Status EventLog::PutMeta(std::string_view key, const std::optional<std::string>& value) {
  if (options_.read_only) return Status::FailedPrecondition("ledger is open read-only");
  if (key == kHeadKey || key == kFormatKey)
    return Status::InvalidArgument("meta key '" + std::string(key) + "' is reserved");
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  rocksdb::Slice k(key.data(), key.size());
  auto s =
      value ? impl_->db->Put(wo, impl_->meta, k, *value) : impl_->db->Delete(wo, impl_->meta, k);
  return FromRocks(s, "cannot write meta " + std::string(key));
}

Result<Event> EventLog::Read(uint64_t seq) const {
  std::string value;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->events, SeqKey(seq), &value);
  if (s.IsNotFound()) return Status::NotFound("no event with seq " + std::to_string(seq));
  TACET_RETURN_IF_ERROR(FromRocks(s, "cannot read seq " + std::to_string(seq)));
  auto e = DecodeAndCheckEvent(value);
  if (!e.ok()) return e.status().WithContext("seq " + std::to_string(seq));
  return e;
}

Status EventLog::Scan(uint64_t from, uint64_t to, const std::function<bool(Event&)>& fn) const {
  rocksdb::ReadOptions ro;
  std::string upper = SeqKey(to + 1);
  rocksdb::Slice upper_slice(upper);
  if (to != UINT64_MAX) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->events));
  uint64_t expect = from;
  for (it->Seek(SeqKey(from)); it->Valid(); it->Next()) {
    uint64_t seq = DecodeSeqKey(it->key().ToStringView());
    if (seq != expect)
      return Status::Corruption("seq " + std::to_string(expect) + " is missing (next stored is " +
                                std::to_string(seq) + ")");
    auto e = DecodeAndCheckEvent(it->value().ToStringView());
    if (!e.ok()) return e.status().WithContext("seq " + std::to_string(seq));
    if (e->seq != seq)
      return Status::Corruption("seq " + std::to_string(seq) + ": stored under the wrong key (" +
                                std::to_string(e->seq) + ")");
    if (!fn(*e)) return Status::Ok();
    ++expect;
  }
  return FromRocks(it->status(), "scanning events");
}

Result<std::vector<uint64_t>> EventLog::SeqsFor(const SubjectId& subject) const {
  std::string prefix = SubjectPrefix(subject);
  std::vector<uint64_t> seqs;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->subjects));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto k = it->key().ToStringView();
    if (k.size() == prefix.size() + 8) seqs.push_back(GetBe64(k.substr(prefix.size())));
  }
  TACET_RETURN_IF_ERROR(FromRocks(it->status(), "reading the index of a subject"));
  return seqs;
}

Status EventLog::CheckTreeSize(uint64_t size, const char* what) const {
  if (!impl_->tree_ready)
    return Status::FailedPrecondition("ledger '" + dir_ +
                                      "' has no Merkle tree yet (format 1): open it once with a "
                                      "writer (tacet init) to build it");
  const uint64_t head_seq = head().seq;
  if (size > head_seq)
    return Status::InvalidArgument(std::string(what) + " " + std::to_string(size) +
                                   " is beyond the head (seq " + std::to_string(head_seq) + ")");
  return Status::Ok();
}

Result<Hash256> EventLog::TreeRoot(uint64_t size) const {
  TACET_RETURN_IF_ERROR(CheckTreeSize(size, "tree size"));
  if (size == 0) return merkle::EmptyRoot();
  return TreeReader(impl_->tree_store(), size).Subtree(0, size);
}

Result<std::vector<Hash256>> EventLog::InclusionProof(uint64_t seq, uint64_t size) const {
  TACET_RETURN_IF_ERROR(CheckTreeSize(size, "tree size"));
  if (seq == 0 || seq > size)
    return Status::InvalidArgument("seq " + std::to_string(seq) + " is not in the tree of " +
                                   std::to_string(size) + " events");
  TreeReader reader(impl_->tree_store(), size);
  return merkle::InclusionProof(seq - 1, size,
                                [&](uint64_t b, uint64_t e) { return reader.Subtree(b, e); });
}

Result<std::vector<Hash256>> EventLog::ConsistencyProof(uint64_t old_size,
                                                        uint64_t new_size) const {
  TACET_RETURN_IF_ERROR(CheckTreeSize(new_size, "tree size"));
  TreeReader reader(impl_->tree_store(), new_size);
  return merkle::ConsistencyProof(old_size, new_size,
                                  [&](uint64_t b, uint64_t e) { return reader.Subtree(b, e); });
}

uint64_t EventLog::point_lookups() const {
  return impl_->point_lookups.load(std::memory_order_relaxed);
}

uint64_t EventLog::tree_reads() const { return impl_->tree_reads.load(std::memory_order_relaxed); }

uint64_t EventLog::mirror_bytes() const {
  std::shared_lock lock(impl_->mirror_mu);
  uint64_t n = 0;
  for (const auto& m : impl_->mirrors) n += m.memory_bytes();
  return n;
}

Result<std::optional<std::string>> EventLog::Get(int family, std::string_view key) const {
  impl_->point_lookups.fetch_add(1, std::memory_order_relaxed);
  auto* h = impl_->projections.at(static_cast<size_t>(family));
  if (h == nullptr) return std::optional<std::string>();
  if (std::optional<std::string> v; impl_->FromMirror(static_cast<size_t>(family), key, &v))
    return v;
  std::string value;
  auto s =
      impl_->db->Get(rocksdb::ReadOptions(), h, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  TACET_RETURN_IF_ERROR(FromRocks(s, "projection read"));
  return std::optional<std::string>(std::move(value));
}

Status EventLog::MultiGet(int family, const std::vector<std::string>& keys,
                          std::vector<std::optional<std::string>>* values) const {
  values->assign(keys.size(), std::nullopt);
  return MultiGet(family, keys, [&](size_t i, std::string_view v) { (*values)[i] = v; });
}

Status EventLog::MultiGet(int family, const std::vector<std::string>& keys,
                          const std::function<void(size_t, std::string_view)>& found) const {
  auto* h = impl_->projections.at(static_cast<size_t>(family));
  if (h == nullptr || keys.empty()) return Status::Ok();
  if (impl_->mirrored()) {
    const internal::Overlay& m = impl_->mirrors[static_cast<size_t>(family)];
    std::shared_lock lock(impl_->mirror_mu);
    m.FindEach(keys, [&](size_t i, std::optional<std::string_view> v) {
      if (v) found(i, *v);
    });
    return Status::Ok();
  }
  if (keys.size() == 1) {  // a lone check: Get costs less than MultiGet's setup
    TACET_ASSIGN_OR_RETURN(auto v, Get(family, keys[0]));
    if (v) found(0, *v);
    return Status::Ok();
  }
  return MultiGetEach(impl_->db.get(), h, keys, [&](size_t i, const rocksdb::PinnableSlice* v) {
    if (v != nullptr) found(i, v->ToStringView());
  });
}

Status EventLog::ScanFamily(
    int family, std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  auto* h = impl_->projections.at(static_cast<size_t>(family));
  if (h == nullptr) return Status::Ok();
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), h));
  rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return FromRocks(it->status(), "projection scan");
}

VerifyReport EventLog::Verify() const {
  VerifyReport r;
  r.head = head();
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->events));
  Hash256 prev{};
  uint64_t expect = 1;
  auto fail = [&](uint64_t seq, std::string problem) {
    r.ok = false;
    r.first_bad_seq = seq;
    r.problem = std::move(problem);
    return r;
  };
  // The tree family is read alongside, in key order: the order in which the
  // appends complete its nodes, so every node is compared as it is rebuilt.
  std::unique_ptr<rocksdb::Iterator> nodes;
  if (impl_->tree != nullptr) {
    nodes.reset(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->tree));
    nodes->SeekToFirst();
  }
  // Every checkpoint is checked when the walk reaches its size: signed by
  // the recorded key, for this origin, with the root of the events so far.
  std::optional<note::Verifier> verifier;
  if (auto key = CheckpointKey(); !key.ok()) {
    return fail(0, key.status().message());
  } else if (*key) {
    auto v = note::Verifier::Parse(**key);
    if (!v.ok()) return fail(0, "meta checkpoint_key: " + v.status().message());
    verifier = std::move(v).value();
  }
  std::unique_ptr<rocksdb::Iterator> cps;
  if (impl_->checkpoints != nullptr) {
    cps.reset(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->checkpoints));
    cps->SeekToFirst();
  }
  uint64_t good_size = 0;  // of the last checkpoint that matched
  TreeTail tail;
  auto check_checkpoints = [&](uint64_t seq) -> std::optional<std::pair<uint64_t, std::string>> {
    for (; cps && cps->Valid(); cps->Next()) {
      const uint64_t size = DecodeSeqKey(cps->key().ToStringView());
      if (size > seq) break;
      const std::string what = "the checkpoint of size " + std::to_string(size);
      if (size < seq || cps->key().size() != 8)
        return std::pair(seq, what + " is stored out of place");
      if (!verifier) return std::pair(seq, what + " exists but meta records no checkpoint key");
      auto text = verifier->Open(cps->value().ToStringView());
      if (!text.ok()) return std::pair(seq, what + ": " + text.status().message());
      auto c = note::ParseCheckpoint(*text);
      if (!c.ok()) return std::pair(seq, what + ": " + c.status().message());
      if (c->origin != verifier->name() || c->size != size)
        return std::pair(
            seq, what + " names origin '" + c->origin + "' and size " + std::to_string(c->size));
      if (c->root != tail.range.Root())
        return std::pair(good_size + 1, what + " signed a root that events 1.." +
                                            std::to_string(size) + " do not hash to: events " +
                                            std::to_string(good_size + 1) + ".." +
                                            std::to_string(size) + " changed after it was signed");
      good_size = size;
      ++r.checkpoints;
    }
    return std::nullopt;
  };
  uint64_t bad_seq = 0;  // set with tree_problem
  std::string tree_problem;
  auto check_record = [&](uint64_t end, int level, std::string_view expected) {
    if (!tree_problem.empty()) return;
    const uint64_t width = level == 0 ? kBundleLeaves : uint64_t{1} << level;
    std::string what =
        (level == 0 ? "the tree's bundle of leaf hashes of seqs " : "the tree node of seqs ") +
        std::to_string(end - width + 1) + ".." + std::to_string(end);
    bad_seq = end;
    if (!nodes->Valid() || nodes->key().ToStringView() != TreeKey(end, level)) {
      tree_problem = what + " is missing";
      return;
    }
    std::string_view stored = nodes->value().ToStringView();
    if (stored != expected) {
      tree_problem = what + " differs from the hashes of the events";
      if (level == 0 && stored.size() == expected.size()) {
        // Name the event whose leaf hash differs.
        size_t i = 0;
        while (stored.substr(i * 32, 32) == expected.substr(i * 32, 32)) ++i;
        bad_seq = end - width + 1 + i;
        tree_problem = "the tree's leaf hash of seq " + std::to_string(bad_seq) +
                       " differs from the hash of the event";
      }
      return;
    }
    nodes->Next();
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint64_t seq = DecodeSeqKey(it->key().ToStringView());
    if (seq != expect)
      return fail(expect, "seq " + std::to_string(expect) + " is missing (next stored key is seq " +
                              std::to_string(seq) + ")");
    auto e = DecodeStoredEvent(it->value().ToStringView());
    if (!e.ok()) return fail(seq, e.status().message());
    auto body = it->value().ToStringView();
    body.remove_suffix(64);
    if (e->seq != seq)
      return fail(seq, "stored under key " + std::to_string(seq) + " but says seq " +
                           std::to_string(e->seq));
    if (ChainHash(e->prev_hash, body) != e->hash)
      return fail(seq, "hash does not match the event's content");
    if (e->prev_hash != prev)
      return fail(seq, "prev_hash does not match the hash of seq " + std::to_string(seq - 1));
    prev = e->hash;
    if (nodes) {
      tail.Append(merkle::LeafHash(body), check_record);
      if (!tree_problem.empty()) return fail(bad_seq, tree_problem);
      if (auto bad = check_checkpoints(seq)) return fail(bad->first, bad->second);
    }
    ++r.events;
    ++expect;
  }
  if (!it->status().ok()) return fail(expect, "read error: " + it->status().ToString());
  if (nodes) {
    if (!nodes->status().ok())
      return fail(expect, "read error in the tree: " + nodes->status().ToString());
    if (nodes->Valid())
      return fail(expect, "the tree holds a node beyond the last event (key " +
                              ToHex(nodes->key().ToStringView()) + ")");
  }
  if (cps && cps->Valid())
    return fail(expect, "a checkpoint of size " +
                            std::to_string(DecodeSeqKey(cps->key().ToStringView())) +
                            " lies beyond the last event");
  if (cps && !cps->status().ok())
    return fail(expect, "read error in the checkpoints: " + cps->status().ToString());
  if (r.events != r.head.seq)
    return fail(r.events + 1, "meta head says seq " + std::to_string(r.head.seq) +
                                  " but the chain ends at seq " + std::to_string(r.events));
  if (prev != r.head.hash)
    return fail(r.head.seq, "the head hash in meta differs from the chain's last hash");
  return r;
}

// ---------------------------------------------------------------------------

AppendBatch::AppendBatch(EventLog* log, Actor actor, Head base, TimeMs recorded_at,
                         size_t expected_events)
    : log_(log),
      actor_(std::move(actor)),
      base_(base),
      head_(base),
      recorded_at_(recorded_at),
      // 350-500 bytes per event in format 3 (the event with its SubjectId,
      // its 40-byte index entry, a projection write keyed by SubjectId, its
      // share of the tree): reserved generously, since growing copies the
      // whole batch, while reserved pages cost nothing untouched.
      impl_(std::make_unique<Impl>(std::min<size_t>(expected_events, 4'000'000) * 768,
                                   log->impl_->projections.size())) {
  last_.actor = actor_;
  last_.recorded_at = recorded_at_;
}
AppendBatch::~AppendBatch() = default;
AppendBatch::AppendBatch(AppendBatch&&) noexcept = default;

void AppendBatch::WriteEvent(const Event& e, std::string_view body, const Payload& payload) {
  auto* im = log_->impl_.get();
  const std::string stored = EncodeStoredEvent(e, body);
  if (impl_->bulk()) {
    Impl& b = *impl_;
    if (b.bulk_status.ok()) b.bulk_status = b.events_file->Put(SeqKey(e.seq), stored);
    b.bodies.emplace_back(b.pending.size(), body.size());
    b.pending.append(body);
    // Hashed in runs: enough for two threads, few enough to stay cached.
    if (b.bodies.size() >= kSealRun) Seal();
  } else {
    impl_->wb.Put(im->events, SeqKey(e.seq), stored).PermitUncheckedError();
    // A Put appends its value last to the batch's buffer: the body is there,
    // to be hashed into its leaf when the batch is sealed. Should that ever
    // not hold, the leaf is hashed now.
    const size_t at = impl_->wb.GetDataSize() - stored.size();
    if (impl_->wb.Data().compare(at, body.size(), body) == 0) {
      impl_->bodies.emplace_back(at, body.size());
    } else {
      Seal();
      impl_->AppendLeaf(im->tree, merkle::LeafHash(body));
    }
  }
  std::vector<SubjectId>& subjects = impl_->subjects;
  subjects.clear();
  SubjectsOf(payload, &subjects);
  for (const SubjectId& subject : subjects) {
    std::string k = SubjectPrefix(subject);
    PutBe64(k, e.seq);
    impl_->Raw(im->subjects, k, std::string_view());
  }
  head_.seq = e.seq;
  head_.hash = e.hash;
}

void AppendBatch::Seal() {
  Impl& b = *impl_;
  const size_t n = b.bodies.size();
  if (n == 0) return;
  // Leaf hashes are independent: a large batch (an import) hashes them on
  // two threads. The tree records then go in order, after the events.
  std::vector<Hash256> leaves(n);
  const std::string_view rep = b.bulk() ? std::string_view(b.pending) : b.wb.Data();
  auto hash = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i)
      leaves[i] = merkle::LeafHash(rep.substr(b.bodies[i].first, b.bodies[i].second));
  };
  constexpr size_t kParallelLeaves = 16384;
  if (n >= kParallelLeaves) {
    std::thread other(hash, 0, n / 2);
    hash(n / 2, n);
    other.join();
  } else {
    hash(0, n);
  }
  for (const Hash256& leaf : leaves) b.AppendLeaf(log_->impl_->tree, leaf);
  b.bodies.clear();
  b.pending.clear();
}

Status AppendBatch::AddRecorded(const Event& e, const Payload& payload) {
  if (projection_only_) return Status::Internal("events added to a projection batch");
  if (e.seq != head_.seq + 1 || e.prev_hash != head_.hash)
    return Status::Corruption("seq " + std::to_string(e.seq) +
                              " does not extend the chain at seq " + std::to_string(head_.seq));
  std::string body = EncodeEventBody(e);
  if (ChainHash(e.prev_hash, body) != e.hash)
    return Status::Corruption("seq " + std::to_string(e.seq) +
                              ": hash does not match the event's content");
  WriteEvent(e, body, payload);
  recorded_at_ = e.recorded_at;  // times never decrease along a chain
  return Status::Ok();
}

const Event& AppendBatch::Add(const Payload& payload) {
  Event& e = last_;
  e.seq = head_.seq + 1;
  e.type = TypeOf(payload);
  e.version =
      std::visit([](const auto& p) { return std::decay_t<decltype(p)>::kVersion; }, payload);
  e.payload = EncodePayload(payload);
  e.prev_hash = head_.hash;
  std::string body = EncodeEventBody(e);
  e.hash = ChainHash(e.prev_hash, body);
  WriteEvent(e, body, payload);
  return e;
}

Result<std::optional<std::string>> AppendBatch::Get(int family, std::string_view key) {
  std::optional<std::string_view> v;
  if (impl_->views.at(static_cast<size_t>(family)).Find(key, &v))
    return v ? std::optional<std::string>(*v) : std::nullopt;
  return log_->Get(family, key);
}

Status AppendBatch::Prefetch(int family, const std::vector<std::string>& keys) {
  auto* h = log_->impl_->projections.at(static_cast<size_t>(family));
  if (h == nullptr) return Status::Ok();
  internal::Overlay& view = impl_->views.at(static_cast<size_t>(family));
  view.Reserve(view.size() + keys.size());
  std::optional<std::string_view> mine;
  return MultiGetEach(
      log_->impl_->db.get(), h, keys, [&](size_t i, const rocksdb::PinnableSlice* v) {
        if (view.Find(keys[i], &mine)) return;  // the batch's own write wins
        view.Set(keys[i], v ? std::optional<std::string_view>(v->ToStringView()) : std::nullopt);
      });
}

void AppendBatch::PutUnread(int family, std::string_view key, std::string_view value) {
  if (log_->impl_->mirrored()) {
    Put(family, key, value);
    return;
  }
  impl_->Raw(log_->impl_->projections.at(static_cast<size_t>(family)), key, value);
}

void AppendBatch::Put(int family, std::string_view key, std::string_view value) {
  impl_->Raw(log_->impl_->projections.at(static_cast<size_t>(family)), key, value);
  impl_->views[static_cast<size_t>(family)].Set(key, value);
}

}  // namespace tacet
