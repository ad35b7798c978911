// The bulk path of a commit (core/internal/bulk_ingest.h).
#include "../internal/bulk_ingest.h"

#include <fcntl.h>
#include <rocksdb/sst_file_reader.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

namespace tacet::internal {
namespace {

namespace fs = std::filesystem;

using Entry = Put;

// The batch's puts by column family id, in batch order.
class Collector final : public rocksdb::WriteBatch::Handler {
 public:
  explicit Collector(size_t entries) : entries_(entries) {}
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    auto [it, fresh] = by_family_.try_emplace(cf);
    // Room for the whole batch: pages a family never fills are never
    // touched, while growing would copy each family's entries again.
    if (fresh) it->second.reserve(entries_);
    it->second.push_back({key, value});
    return rocksdb::Status::OK();
  }
  // Anything else (deletes, merges, log data) has no place in a sorted file
  // of puts: the caller writes such a batch the usual way.
  rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice&) override { return Unsupported(); }
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override { return Unsupported(); }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return Unsupported();
  }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return Unsupported();
  }
  void LogData(const rocksdb::Slice&) override { unsupported_ = true; }
  bool unsupported() const { return unsupported_; }
  std::map<uint32_t, std::vector<Entry>>& by_family() { return by_family_; }

 private:
  rocksdb::Status Unsupported() {
    unsupported_ = true;
    return rocksdb::Status::NotSupported("not a put");
  }
  size_t entries_;
  std::map<uint32_t, std::vector<Entry>> by_family_;
  bool unsupported_ = false;
};

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

// Up to this many ascending runs are merged rather than sorted.
constexpr size_t kMergedRuns = 16;

// Sorts one family's entries by key; of a key put twice, the batch's last
// value wins (as it would in a memtable). Keys of one family share a prefix
// (a family tag, a session id) and then differ at once (SubjectIds are
// random): sorting small records by the 16 bytes after the shared prefix,
// the batch order breaking ties, is several times faster than comparing
// whole keys, which is left for the rare equal prefixes.
void SortKeepingLast(std::vector<Entry>& entries) {
  auto less = [](const Entry& a, const Entry& b) { return a.key.compare(b.key) < 0; };
  // The ascending runs of the batch's order. A family is often one run, or
  // a few (a session's record and counter, then its million members):
  // merged in place, each stable, so equal keys keep the batch's order.
  std::vector<size_t> run_starts = {0};
  for (size_t i = 1; i < entries.size() && run_starts.size() <= kMergedRuns; ++i)
    if (less(entries[i], entries[i - 1])) run_starts.push_back(i);
  if (run_starts.size() <= kMergedRuns) {
    for (size_t r = 1; r < run_starts.size(); ++r) {
      const size_t end = r + 1 < run_starts.size() ? run_starts[r + 1] : entries.size();
      std::inplace_merge(entries.begin(),
                         entries.begin() + static_cast<std::ptrdiff_t>(run_starts[r]),
                         entries.begin() + static_cast<std::ptrdiff_t>(end), less);
    }
    // Equal keys are adjacent, in batch order: fall through to the dedupe.
  } else {
    const rocksdb::Slice first = entries.front().key;
    size_t common = first.size();
    for (const Entry& e : entries) {
      size_t n = std::min(common, e.key.size());
      size_t i = 0;
      while (i < n && e.key[i] == first[i]) ++i;
      common = i;
      if (common == 0) break;
    }
    // 16 bytes: a family may mix key kinds ("s", "m" ‖ session ‖ id) whose
    // shared part is only found past the first 8.
    struct Order {
      uint64_t hi, lo;
      uint32_t index;
    };
    std::vector<Order> order(entries.size());
    for (uint32_t i = 0; i < order.size(); ++i) {
      const rocksdb::Slice& k = entries[i].key;
      uint64_t part[2] = {0, 0};
      for (size_t b = 0; b < 16; ++b)
        part[b / 8] =
            (part[b / 8] << 8) | (common + b < k.size() ? static_cast<uint8_t>(k[common + b]) : 0);
      order[i] = {part[0], part[1], i};
    }
    std::sort(order.begin(), order.end(), [&](const Order& a, const Order& b) {
      if (a.hi != b.hi) return a.hi < b.hi;
      if (a.lo != b.lo) return a.lo < b.lo;
      const int c = entries[a.index].key.compare(entries[b.index].key);
      return c != 0 ? c < 0 : a.index < b.index;
    });
    std::vector<Entry> sorted;
    sorted.reserve(entries.size());
    for (const Order& o : order) sorted.push_back(entries[o.index]);
    entries.swap(sorted);
  }
  size_t out = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + 1 < entries.size() && entries[i + 1].key == entries[i].key) continue;
    entries[out++] = entries[i];
  }
  entries.resize(out);
}

// The options of a bulk file of `family`: written once and read soon,
// compaction compresses it later, off the commit's path.
rocksdb::Options BulkOptions(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) {
  rocksdb::Options options = db->GetOptions(family);
  options.compression = rocksdb::kNoCompression;
  // Writeback starts every megabyte (sync_file_range), so the file's sync
  // at the end of the commit has little left to wait for.
  options.bytes_per_sync = 1u << 20;
  return options;
}

// A writer that leaves the file's pages in the page cache (the default
// drops them every megabyte: a syscall each, and the reads that follow an
// import would then go to the disk).
std::unique_ptr<rocksdb::SstFileWriter> NewWriter(const rocksdb::Options& options,
                                                  rocksdb::ColumnFamilyHandle* family) {
  return std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(options), options, family,
                                                  /*invalidate_page_cache=*/false);
}

Status WriteFile(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, std::vector<Entry>& entries,
                 const std::string& path) {
  SortKeepingLast(entries);
  const rocksdb::Options options = BulkOptions(db, family);
  auto writer = NewWriter(options, family);
  TACET_RETURN_IF_ERROR(FromRocks(writer->Open(path), "cannot create " + path));
  // Sorted, the entries point all over their arena: each key and value a
  // cache miss of its own (and on a VM, a page walk). Asked for a few
  // entries ahead, the misses overlap instead of following one another.
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + kAhead < entries.size()) {
      __builtin_prefetch(entries[i + kAhead].key.data());
      __builtin_prefetch(entries[i + kAhead].value.data());
    }
    const Entry& e = entries[i];
    TACET_RETURN_IF_ERROR(FromRocks(writer->Put(e.key, e.value), "cannot write " + path));
  }
  return FromRocks(writer->Finish(), "cannot finish " + path);
}

}  // namespace

constexpr size_t kChunkBytes = 1u << 20;
// A background file is synced every so many bytes while it is written. The
// commit syncs every file before the ingestion and would otherwise wait for
// the whole batch to reach the disk at once (on a virtual disk, the host's
// cache flush: about 0.2 s for an import's 400 MB); synced as it goes, the
// flushes overlap the batch's making and the commit waits for a tail.
constexpr size_t kSyncEveryBytes = 16u << 20;

void AppendRecord(std::string& buffer, std::string_view key, std::string_view value,
                  std::string_view value_tail) {
  auto put32 = [&](size_t n) {
    const uint32_t v = static_cast<uint32_t>(n);
    buffer.append(reinterpret_cast<const char*>(&v), sizeof v);
  };
  put32(key.size());
  buffer.append(key);
  put32(value.size() + value_tail.size());
  buffer.append(value);
  buffer.append(value_tail);
}

Put RecordAt(std::string_view buffer, size_t& at) {
  auto field = [&] {
    uint32_t n;
    std::memcpy(&n, buffer.data() + at, sizeof n);
    const rocksdb::Slice bytes(buffer.data() + at + sizeof n, n);
    at += sizeof n + n;
    return bytes;
  };
  const rocksdb::Slice key = field();
  return {key, field()};
}

SortedFile::SortedFile(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, std::string path,
                       bool background)
    : db_(db), family_(family), path_(std::move(path)), background_(background) {}

SortedFile::~SortedFile() = default;

Status SortedFile::Open() {
  options_ = BulkOptions(db_, family_);
  writer_ = NewWriter(options_, family_);
  TACET_RETURN_IF_ERROR(FromRocks(writer_->Open(path_), "cannot create " + path_));
  if (background_) {
    chunk_.reserve(kChunkBytes + 4096);
    worker_ = std::make_unique<ChunkWorker>([this](std::string_view c) { return WriteChunk(c); });
  }
  return Status::Ok();
}

Status SortedFile::Write(std::string_view key, std::string_view value) {
  return FromRocks(writer_->Put(rocksdb::Slice(key.data(), key.size()),
                                rocksdb::Slice(value.data(), value.size())),
                   "cannot write " + path_);
}

Status SortedFile::Put(std::string_view key, std::string_view value, std::string_view tail) {
  if (finished_) return Status::Internal(path_ + " is already finished");
  if (writer_ == nullptr) TACET_RETURN_IF_ERROR(Open());
  // (The order is the writer's to check: in the background mode a key out
  // of order fails a later Put, or Finish.)
  if (entries_++ == 0) first_key_.assign(key);
  if (!background_) {
    last_key_.assign(key);
    if (tail.empty()) return Write(key, value);
    std::string whole(value);
    whole += tail;
    return Write(key, whole);
  }
  last_at_ = chunk_.size();
  AppendRecord(chunk_, key, value, tail);
  if (chunk_.size() < kChunkBytes) return Status::Ok();
  last_key_.assign(last_key());  // the chunk is handed over: its last key is kept
  return worker_->Hand(chunk_, kChunkBytes + 4096);
}

std::string_view SortedFile::last_key() const {
  if (!background_ || chunk_.empty()) return last_key_;
  size_t at = last_at_;
  return RecordAt(chunk_, at).key.ToStringView();
}

Status SortedFile::WriteChunk(std::string_view chunk) {
  for (size_t at = 0; at < chunk.size();) {
    const Entry p = RecordAt(chunk, at);
    TACET_RETURN_IF_ERROR(Write(p.key.ToStringView(), p.value.ToStringView()));
  }
  unsynced_ += chunk.size();
  if (unsynced_ < kSyncEveryBytes) return Status::Ok();
  unsynced_ = 0;
  return SyncWritten();
}

Status SortedFile::SyncWritten() {
  // The writer's own handle is not reachable: a second descriptor of the
  // same file syncs the same pages. (Its final sync stays the writer's,
  // whose descriptor also sees any write error.)
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open " + path_ + ": " + std::strerror(errno));
  const int rc = ::fdatasync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IOError("cannot sync " + path_ + ": " + std::strerror(err));
  return Status::Ok();
}

Status SortedFile::Finish() {
  if (finished_ || writer_ == nullptr) {
    finished_ = true;
    return Status::Ok();
  }
  finished_ = true;
  if (background_) {
    last_key_.assign(last_key());
    Status s = worker_->Hand(chunk_, 0);
    Status done = worker_->Finish();
    TACET_RETURN_IF_ERROR(s);
    TACET_RETURN_IF_ERROR(done);
  }
  return FromRocks(writer_->Finish(), "cannot finish " + path_);
}

Status SortedFile::TakeBack(std::string& records) {
  TACET_RETURN_IF_ERROR(Finish());
  if (entries_ == 0) return Status::Ok();
  rocksdb::SstFileReader reader(options_);
  TACET_RETURN_IF_ERROR(FromRocks(reader.Open(path_), "cannot reopen " + path_));
  rocksdb::ReadOptions ro;
  ro.verify_checksums = false;  // written by this process a moment ago
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(ro));
  uint64_t read = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++read)
    AppendRecord(records, it->key().ToStringView(), it->value().ToStringView());
  TACET_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read back " + path_));
  if (read != entries_)
    return Status::Internal("read back " + std::to_string(read) + " of the " +
                            std::to_string(entries_) + " entries of " + path_);
  it.reset();
  std::error_code ec;
  fs::remove(path_, ec);
  entries_ = 0;
  first_key_.clear();
  last_key_.clear();
  return Status::Ok();
}

Result<bool> IngestBatch(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
                         const rocksdb::WriteBatch& wb, const std::string& scratch_dir) {
  Collector collector(wb.Count());
  rocksdb::Status it = wb.Iterate(&collector);
  if (collector.unsupported()) return false;
  TACET_RETURN_IF_ERROR(FromRocks(it, "cannot read the batch"));
  std::vector<FamilyPuts> puts;
  for (auto& [id, entries] : collector.by_family()) {
    auto h = std::find_if(families.begin(), families.end(),
                          [id = id](rocksdb::ColumnFamilyHandle* f) { return f->GetID() == id; });
    if (h == families.end())
      return Status::Internal("a batch writes to column family " + std::to_string(id) +
                              ", which is not open");
    puts.push_back({*h, std::move(entries)});
  }
  TACET_RETURN_IF_ERROR(IngestPuts(db, puts, scratch_dir));
  return true;
}

Status IngestPuts(rocksdb::DB* db, std::vector<FamilyPuts>& families,
                  const std::string& scratch_dir, const std::vector<SortedFile*>& streamed) {
  std::error_code ec;
  fs::remove_all(scratch_dir, ec);
  fs::create_directories(scratch_dir, ec);
  if (ec) return Status::IOError("cannot create " + scratch_dir + ": " + ec.message());
  struct Job {
    rocksdb::ColumnFamilyHandle* family;
    std::vector<Entry>* entries;
    std::string path;
    Status status;
  };
  std::vector<Job> jobs;
  for (FamilyPuts& f : families) {
    if (f.puts.empty()) continue;
    const uint32_t id = f.family->GetID();
    jobs.push_back({f.family, &f.puts, scratch_dir + "/" + std::to_string(id) + ".sst", {}});
  }
  // The families' files are independent: the two largest halves of the
  // work go to two threads.
  std::sort(jobs.begin(), jobs.end(),
            [](const Job& a, const Job& b) { return a.entries->size() > b.entries->size(); });
  // Sides are assigned before either thread starts: a family's entries are
  // sorted (and resized) while the other thread works.
  std::vector<size_t> side(jobs.size());
  {
    size_t load[2] = {0, 0};
    for (size_t i = 0; i < jobs.size(); ++i) {
      side[i] = load[0] <= load[1] ? 0 : 1;
      load[side[i]] += jobs[i].entries->size();
    }
  }
  auto run = [&](size_t which) {
    for (size_t i = 0; i < jobs.size(); ++i)
      if (side[i] == which)
        jobs[i].status = WriteFile(db, jobs[i].family, *jobs[i].entries, jobs[i].path);
  };
  if (jobs.size() > 1) {
    std::thread other(run, 1);
    run(0);
    other.join();
  } else {
    run(0);
  }
  for (const Job& j : jobs)
    if (!j.status.ok()) {
      fs::remove_all(scratch_dir, ec);
      return j.status;
    }
  for (SortedFile* f : streamed) {
    Status fs_status = f->Finish();
    if (!fs_status.ok()) {
      fs::remove_all(scratch_dir, ec);
      return fs_status;
    }
  }

  // One argument per family (RocksDB takes each family once), with its
  // files; a family's files must not overlap, or RocksDB would order their
  // equal keys by the file instead of the batch.
  std::vector<rocksdb::IngestExternalFileArg> args;
  auto ingest = [&](rocksdb::ColumnFamilyHandle* family, const std::string& path) {
    for (rocksdb::IngestExternalFileArg& a : args)
      if (a.column_family == family) {
        a.external_files.push_back(path);
        return;
      }
    rocksdb::IngestExternalFileArg& arg = args.emplace_back();
    arg.column_family = family;
    arg.external_files = {path};
    arg.options.move_files = true;            // a link, not a copy
    arg.options.write_global_seqno = false;   // the seqno goes to the MANIFEST
    arg.options.allow_blocking_flush = true;  // memtable keys in range are flushed first
  };
  for (const Job& j : jobs) ingest(j.family, j.path);
  for (const SortedFile* f : streamed) {
    if (f->entries() == 0) continue;
    for (const Job& j : jobs) {
      if (j.family != f->family()) continue;
      const rocksdb::Slice first(f->first_key().data(), f->first_key().size());
      const rocksdb::Slice last(f->last_key().data(), f->last_key().size());
      if (j.entries->front().key.compare(last) <= 0 && j.entries->back().key.compare(first) >= 0) {
        fs::remove_all(scratch_dir, ec);
        return Status::Internal("column family " + std::to_string(f->family()->GetID()) +
                                ": a sorted file overlaps the batch's other puts");
      }
    }
    ingest(f->family(), f->path());
  }
  Status s = FromRocks(db->IngestExternalFiles(args), "cannot ingest the batch");
  fs::remove_all(scratch_dir, ec);
  return s;
}

}  // namespace tacet::internal
