// Opening an event log: RocksDB's options and families, the format check,
// the head, the tail's check and what is loaded into memory.
#include "impl.h"

namespace tacet {

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
  // Opening loads every table file's handle, by default on 16 new threads
  // per column family: 160 thread starts for a dozen families of a few
  // files, most of a one-shot command's open. Two suffice for this machine.
  db_opts.max_file_opening_threads = 2;
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
    im.scanned.push_back(std::find(options.scanned_families.begin(), options.scanned_families.end(),
                                   p) != options.scanned_families.end());
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
    if (im.projections[i] == nullptr || im.scanned[i]) continue;
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

}  // namespace tacet
