// Reading: events by seq and by subject, tree roots and inclusion proofs,
// projection records (point, batched, scanned).
#include "impl.h"

namespace tacet {

std::string SeqKey(uint64_t seq) {
  std::string k;
  k.reserve(8);
  PutBe64(k, seq);
  return k;
}
uint64_t DecodeSeqKey(std::string_view key) { return key.size() == 8 ? GetBe64(key) : 0; }

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
  std::vector<std::string_view> views(keys.begin(), keys.end());
  return MultiGet(family, std::span<const std::string_view>(views), found);
}

Status EventLog::MultiGet(int family, std::span<const std::string_view> keys,
                          const std::function<void(size_t, std::string_view)>& found) const {
  auto* h = impl_->projections.at(static_cast<size_t>(family));
  if (h == nullptr || keys.empty()) return Status::Ok();
  if (impl_->mirrored(static_cast<size_t>(family))) {
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

Status EventLog::ScanFamily(int family, std::string_view prefix,
                            const std::function<bool(std::string_view, std::string_view)>& fn,
                            ScanCache cache) const {
  auto* h = impl_->projections.at(static_cast<size_t>(family));
  if (h == nullptr) return Status::Ok();
  rocksdb::ReadOptions ro;
  ro.fill_cache = cache == ScanCache::kFill;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, h));
  rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return FromRocks(it->status(), "projection scan");
}

Status EventLog::ScanRange(int family, std::string_view from, std::string_view to,
                           const std::function<bool(std::string_view, std::string_view)>& fn,
                           ScanCache cache, const Snapshot* at) const {
  if (family < 0 || static_cast<size_t>(family) >= impl_->projections.size())
    return Status::InvalidArgument("no projection family " + std::to_string(family));
  auto* h = impl_->projections[static_cast<size_t>(family)];
  if (h == nullptr || from >= to) return Status::Ok();
  rocksdb::ReadOptions ro;
  ro.fill_cache = cache == ScanCache::kFill;
  if (cache == ScanCache::kBypass) ro.readahead_size = size_t{2} << 20;
  if (at != nullptr) ro.snapshot = static_cast<const rocksdb::Snapshot*>(at->snapshot_);
  rocksdb::Slice upper(to.data(), to.size());
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, h));
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next())
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  return FromRocks(it->status(), "projection range read");
}

std::unique_ptr<EventLog::Snapshot> EventLog::NewSnapshot() const {
  return std::unique_ptr<Snapshot>(new Snapshot(*this, impl_->db->GetSnapshot()));
}

EventLog::Snapshot::~Snapshot() {
  log_.impl_->db->ReleaseSnapshot(static_cast<const rocksdb::Snapshot*>(snapshot_));
}

struct EventLog::RangeReader::Impl {
  std::unique_ptr<rocksdb::Iterator> it;  // null: the family is not open (reads nothing)
};

EventLog::RangeReader::RangeReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventLog::RangeReader::~RangeReader() = default;
EventLog::RangeReader::RangeReader(RangeReader&&) noexcept = default;

Result<EventLog::RangeReader> EventLog::NewRangeReader(int family) const {
  if (family < 0 || static_cast<size_t>(family) >= impl_->projections.size())
    return Status::InvalidArgument("no projection family " + std::to_string(family));
  auto impl = std::make_unique<RangeReader::Impl>();
  if (auto* h = impl_->projections[static_cast<size_t>(family)])
    impl->it.reset(impl_->db->NewIterator(rocksdb::ReadOptions(), h));
  return RangeReader(std::move(impl));
}

Status EventLog::RangeReader::Read(
    std::string_view from, std::string_view to,
    const std::function<bool(std::string_view, std::string_view)>& fn) {
  rocksdb::Iterator* it = impl_->it.get();
  if (it == nullptr || from >= to) return Status::Ok();
  // No upper bound in the iterator's options (they are fixed when it is
  // made): each read stops at its own `to`.
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
    const std::string_view k = it->key().ToStringView();
    if (k >= to || !fn(k, it->value().ToStringView())) break;
  }
  return FromRocks(it->status(), "projection range read");
}

}  // namespace tacet
