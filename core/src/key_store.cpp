// The data key store (core/key_store.h).
#include "tacet/core/key_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

namespace tacet {
namespace {

constexpr uint8_t kKeyRecordVersion = 1;

// The store writes no LOG of its own: RocksDB's file logger aborts on the
// write after a failed one (a full disk), and this store's errors reach the
// caller as statuses.
class SilentLogger final : public rocksdb::Logger {
 public:
  SilentLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(what + ": " + s.ToString());
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

rocksdb::Slice SliceOf(const SubjectId& id) {
  return rocksdb::Slice(reinterpret_cast<const char*>(id.data()), id.size());
}

Result<DataKey> DecodeRecord(const std::string& v) {
  if (v.size() != 33 || static_cast<uint8_t>(v[0]) != kKeyRecordVersion)
    return Status::Corruption("a data key record of " + std::to_string(v.size()) +
                              " bytes is not version 1 (33 bytes)");
  DataKey k;
  std::memcpy(k.data(), v.data() + 1, k.size());
  return k;
}

std::string EncodeRecord(const DataKey& k) {
  std::string v(1, static_cast<char>(kKeyRecordVersion));
  v.append(reinterpret_cast<const char*>(k.data()), k.size());
  return v;
}

// The data key of each of `ids` (one MultiGet); for one the store lacks,
// make(id, fresh) decides, `fresh` drawing the next of the random keys
// drawn for them in one call (a call per key costs a getpid() each,
// OpenSSL's fork check: a million of them a second).
template <class Make>
Result<std::vector<DataKey>> FindOrMake(rocksdb::DB& db, std::span<const SubjectId> ids,
                                        Make&& make) {
  std::vector<rocksdb::Slice> keys;
  keys.reserve(ids.size());
  for (const SubjectId& id : ids) keys.push_back(SliceOf(id));
  std::vector<std::string> values(ids.size());
  std::vector<rocksdb::Status> found = db.MultiGet(rocksdb::ReadOptions(), keys, &values);
  size_t missing = 0;
  for (size_t i = 0; i < ids.size(); ++i) missing += found[i].IsNotFound();
  std::vector<DataKey> fresh;
  if (missing > 0) {
    TACET_ASSIGN_OR_RETURN(fresh, NewDataKeys(missing));
  }
  size_t next = 0;
  auto draw = [&]() -> const DataKey& { return fresh[next++]; };
  std::vector<DataKey> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (found[i].ok()) {
      TACET_ASSIGN_OR_RETURN(out[i], DecodeRecord(values[i]));
    } else if (found[i].IsNotFound()) {
      out[i] = make(ids[i], draw);
    } else {
      return FromRocks(found[i], "cannot read a data key");
    }
  }
  return out;
}

// Where a bulk writes its table file before ingesting it.
constexpr const char* kBulkFile = "bulk-keys.sst.tmp";

}  // namespace

struct KeyStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::Options options;  // as opened: a bulk's table file is written with them
  bool read_only = false;
  std::mutex write_mu;  // GetOrCreate and Destroy: one key per subject
};

KeyStore::KeyStore(std::string dir, std::unique_ptr<Impl> impl)
    : dir_(std::move(dir)), impl_(std::move(impl)) {}

KeyStore::~KeyStore() {
  // A writer leaves the keys it made in a table file: the next process to
  // open the store (an audit opening a million subjects) then reads them
  // there instead of replaying the whole log into a memtable first. An
  // empty memtable costs nothing to flush.
  if (impl_ != nullptr && impl_->db != nullptr && !impl_->read_only) {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    (void)impl_->db->Flush(fo);
  }
}

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& dir,
                                                 const KeyStoreOptions& options) {
  rocksdb::Options o;
  o.create_if_missing = options.create_if_missing;
  o.info_log = std::make_shared<SilentLogger>();
  // Nothing that would keep a destroyed key in a file: no recycled or
  // archived WAL, obsolete files deleted as soon as they are obsolete.
  o.recycle_log_file_num = 0;
  o.WAL_ttl_seconds = 0;
  o.WAL_size_limit_MB = 0;
  o.delete_obsolete_files_period_micros = 0;
  o.avoid_unnecessary_blocking_io = false;
  o.keep_log_file_num = 1;
  o.max_file_opening_threads = 1;  // a few files: no 16 threads to open them
  // A bulk batch (a contact import) asks for a million keys most of which
  // do not exist yet: a Bloom filter answers those without reading blocks.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Keys are SubjectIds, uniformly spread: a million lookups (an import, an
  // audit) touch every block of the store. A cache that holds the blocks of
  // a few million keys reads each block once instead of once per key.
  table.block_cache = rocksdb::NewLRUCache(size_t{64} << 20);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  o.memtable_whole_key_filtering = true;  // the same for keys still in the memtable
  o.memtable_prefix_bloom_size_ratio = 0.05;
  auto impl = std::make_unique<Impl>();
  impl->read_only = options.read_only;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = options.read_only ? rocksdb::DB::OpenForReadOnly(o, dir, &db)
                                        : rocksdb::DB::Open(o, dir, &db);
  if (!s.ok()) return FromRocks(s, "cannot open the data key store '" + dir + "'");
  impl->db.reset(db);
  impl->options = o;
  if (!options.read_only) {
    // A bulk's table file left by a crash before its ingestion: its keys
    // sealed nothing that was committed.
    std::error_code ec;
    std::filesystem::remove(std::filesystem::path(dir) / kBulkFile, ec);
  }
  return std::unique_ptr<KeyStore>(new KeyStore(dir, std::move(impl)));
}

Result<std::optional<DataKey>> KeyStore::Get(const SubjectId& id) const {
  std::string v;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), SliceOf(id), &v);
  if (s.IsNotFound()) return std::optional<DataKey>();
  TACET_RETURN_IF_ERROR(FromRocks(s, "cannot read a data key"));
  TACET_ASSIGN_OR_RETURN(DataKey k, DecodeRecord(v));
  return std::optional<DataKey>(k);
}

Status KeyStore::GetSorted(std::span<const SubjectId> ids,
                           std::vector<std::optional<DataKey>>* out) const {
  out->assign(ids.size(), std::nullopt);
  if (ids.empty()) return Status::Ok();
  // Next() costs a fraction of a Seek(): a few steps are tried before
  // seeking, so a dense run of ids walks and a sparse one jumps.
  constexpr int kStepsBeforeSeek = 8;
  rocksdb::ReadOptions ro;
  ro.readahead_size = size_t{2} << 20;
  ro.fill_cache = false;  // a walk: its blocks are not read again
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro));
  it->Seek(SliceOf(ids[0]));
  for (size_t i = 0; i < ids.size(); ++i) {
    const rocksdb::Slice target = SliceOf(ids[i]);
    int steps = 0;
    while (it->Valid() && it->key().compare(target) < 0 && steps++ < kStepsBeforeSeek) it->Next();
    if (it->Valid() && it->key().compare(target) < 0) it->Seek(target);
    if (!it->Valid()) break;
    if (it->key() != target) continue;
    TACET_ASSIGN_OR_RETURN(DataKey k, DecodeRecord(it->value().ToString()));
    (*out)[i] = k;
  }
  return FromRocks(it->status(), "cannot read the data keys");
}

Result<std::vector<DataKey>> KeyStore::GetOrCreate(std::span<const SubjectId> ids, bool sync) {
  if (impl_->read_only) return Status::FailedPrecondition("the data key store is open read-only");
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  std::map<SubjectId, DataKey> made;  // a subject named twice gets one key
  rocksdb::WriteBatch batch;
  TACET_ASSIGN_OR_RETURN(std::vector<DataKey> out,
                         FindOrMake(*impl_->db, ids, [&](const SubjectId& id, auto& draw) {
                           auto [it, fresh] = made.try_emplace(id, DataKey{});
                           if (fresh) {
                             it->second = draw();
                             batch.Put(SliceOf(id), EncodeRecord(it->second));
                           }
                           return it->second;
                         }));
  if (batch.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = sync;  // a key is durable before any event sealed under it
    TACET_RETURN_IF_ERROR(
        FromRocks(impl_->db->Write(wo, &batch), "cannot write the new data keys"));
  }
  return out;
}

Result<std::unique_ptr<KeyStore::Bulk>> KeyStore::StartBulk() {
  if (impl_->read_only) return Status::FailedPrecondition("the data key store is open read-only");
  return std::unique_ptr<Bulk>(new Bulk(*this));
}

KeyStore::Bulk::Bulk(KeyStore& store) : store_(store), lock_(store.impl_->write_mu) {}

KeyStore::Bulk::~Bulk() = default;

Result<std::vector<DataKey>> KeyStore::Bulk::GetOrCreate(std::span<const SubjectId> ids) {
  if (!lock_.owns_lock()) return Status::FailedPrecondition("the bulk of data keys is finished");
  return FindOrMake(*store_.impl_->db, ids, [&](const SubjectId& id, auto& draw) {
    // Made once per subject.
    auto [it, fresh] = made_at_.try_emplace(id, static_cast<uint32_t>(made_.size()));
    if (fresh) made_.emplace_back(id, draw());
    return made_[it->second].second;
  });
}

Status KeyStore::Bulk::Finish() {
  if (!lock_.owns_lock()) return Status::Ok();
  made_at_ = {};  // (its memory back before the file's is taken)
  std::sort(made_.begin(), made_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  Status s = Write();
  // Written or not, the bulk is over: a failed one wrote nothing.
  made_ = {};
  lock_.unlock();
  return s;
}

Status KeyStore::Bulk::Write() const {
  rocksdb::DB& db = *store_.impl_->db;
  // A record's bytes (EncodeRecord's) built in place: no string per key.
  char record[1 + sizeof(DataKey)];
  record[0] = static_cast<char>(kKeyRecordVersion);
  auto value = [&](const DataKey& k) {
    std::memcpy(record + 1, k.data(), k.size());
    return rocksdb::Slice(record, sizeof record);
  };
  // A few keys go the usual way (one write to the memtable and its log,
  // synced with it); a table file and its ingestion cost a flush and a
  // few syncs, worth it for tens of thousands.
  constexpr size_t kTableFrom = 16384;
  if (made_.size() < kTableFrom) {
    if (made_.empty()) return Status::Ok();
    rocksdb::WriteBatch batch;
    for (const auto& [id, key] : made_) batch.Put(SliceOf(id), value(key));
    return FromRocks(db.Write(rocksdb::WriteOptions(), &batch), "cannot write the new data keys");
  }
  const std::string path = (std::filesystem::path(store_.dir_) / kBulkFile).string();
  // Keys are random bytes: compressing their blocks only costs the time.
  rocksdb::Options options = store_.impl_->options;
  options.compression = rocksdb::kNoCompression;
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(options), options);
  rocksdb::Status s = writer.Open(path);
  for (size_t i = 0; s.ok() && i < made_.size(); ++i)
    s = writer.Put(SliceOf(made_[i].first), value(made_[i].second));
  if (s.ok()) s = writer.Finish();
  if (s.ok()) {
    rocksdb::IngestExternalFileOptions io;
    io.move_files = true;  // linked into the store, not copied
    s = db.IngestExternalFile({path}, io);
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);  // ingested (linked) or failed: the name goes
  return FromRocks(s, "cannot write the new data keys as a table file");
}

Status KeyStore::Sync() {
  if (impl_->read_only) return Status::Ok();
  return FromRocks(impl_->db->SyncWAL(), "cannot sync the data key store");
}

Status KeyStore::Destroy(const SubjectId& id) {
  if (impl_->read_only) return Status::FailedPrecondition("the data key store is open read-only");
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  TACET_ASSIGN_OR_RETURN(auto key, Get(id));
  if (!key) return Status::NotFound("the subject has no data key");
  rocksdb::DB& db = *impl_->db;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  TACET_RETURN_IF_ERROR(FromRocks(db.Delete(wo, SliceOf(id)), "cannot delete the data key"));
  // The memtable (and with it the WAL that logged the key) goes to an SST
  // holding only the tombstone; the WAL is then obsolete and deleted.
  rocksdb::FlushOptions fo;
  fo.wait = true;
  TACET_RETURN_IF_ERROR(FromRocks(db.Flush(fo), "cannot flush the data key store"));
  // Every level rewritten to the bottom: the tombstone and the older copies
  // of the key are dropped, and the files that held them deleted.
  rocksdb::CompactRangeOptions co;
  co.exclusive_manual_compaction = true;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  TACET_RETURN_IF_ERROR(
      FromRocks(db.CompactRange(co, nullptr, nullptr), "cannot compact the data key store"));
  return Status::Ok();
}

Status KeyStore::CopyTo(const std::string& dir) const {
  KeyStoreOptions o;
  o.create_if_missing = true;
  TACET_ASSIGN_OR_RETURN(auto copy, Open(dir, o));
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    batch.Put(it->key(), it->value()).PermitUncheckedError();
  TACET_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the data key store"));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(copy->impl_->db->Write(wo, &batch), "cannot write the copy's data keys");
}

Result<uint64_t> KeyStore::Count() const {
  uint64_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  TACET_RETURN_IF_ERROR(FromRocks(it->status(), "cannot read the data key store"));
  return n;
}

}  // namespace tacet
