// Writing: batches, the atomic commit (WriteBatch or bulk ingestion), the
// sticky error, checkpoints, syncing, meta and the projection families.
#include "impl.h"

namespace tacet {

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
    bi.db = im.db.get();
    bi.index_run.family = im.subjects;
    bi.bulk_dir = dir_ + "/bulk.tmp/" + std::to_string(++im.bulk_batches);
    std::error_code ec;
    std::filesystem::remove_all(bi.bulk_dir, ec);
    std::filesystem::create_directories(bi.bulk_dir, ec);
    if (ec) return Status::IOError("cannot create " + bi.bulk_dir + ": " + ec.message());
    bi.events_file = std::make_unique<internal::SortedFile>(
        im.db.get(), im.events, bi.bulk_dir + "/events.sst", /*background=*/true);
    bi.tree_file =
        std::make_unique<internal::SortedFile>(im.db.get(), im.tree, bi.bulk_dir + "/tree.sst");
    bi.pending.reserve(kSealChunkBytes + 4096);
    bi.sealer = std::make_unique<internal::ChunkWorker>(
        [&bi](std::string_view chunk) { return bi.SealChunk(chunk); });
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
    bi.SettleRuns();
    s = bi.bulk_status;
    if (!s.ok()) return s.WithContext(what + "; nothing was committed");
    s = FromRocks(im.db->SyncWAL(), what + ": the WAL before a bulk commit");
    if (s.ok() && wb.Count() != 0)
      s = Status::Internal(what + ": a bulk batch has puts in its WriteBatch");
    if (s.ok()) {
      std::vector<internal::FamilyPuts> puts = bi.RunPuts();
      s = internal::IngestPuts(im.db.get(), puts, dir_ + "/ingest.tmp", bi.StreamedFiles())
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

}  // namespace tacet
