// AppendBatch: the events of one commit, hashed and chained as they are
// added, with their index, tree and projection writes.
#include "impl.h"

namespace tacet {

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
  std::vector<SubjectId>& subjects = impl_->subjects;
  subjects.clear();
  SubjectsOf(payload, &subjects);
  if (impl_->bulk()) {
    // The rest is the sealer's (Impl::SealChunk).
    Impl& b = *impl_;
    if (b.sealer == nullptr && b.bulk_status.ok())
      b.bulk_status = Status::Internal("an event added to a bulk batch already sealed");
    b.AppendSealRecord(e, body, subjects);
    if (b.pending.size() >= kSealChunkBytes && b.bulk_status.ok())
      b.bulk_status = b.sealer->Hand(b.pending, kSealChunkBytes + 4096);
    head_.seq = e.seq;
    head_.hash = e.hash;
    return;
  }
  const std::string stored = EncodeStoredEvent(e, body);
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
  if (b.sealer) {
    // The last bodies, then the sealer's end: the tree is the caller's again.
    Status handed = b.bulk_status.ok() ? b.sealer->Hand(b.pending, 0) : Status::Ok();
    Status sealed = b.sealer->Finish();
    b.sealer.reset();
    if (b.bulk_status.ok()) b.bulk_status = !handed.ok() ? handed : sealed;
    return;
  }
  const size_t n = b.bodies.size();
  if (n == 0) return;
  // Leaf hashes are independent: a large batch (an import) hashes them on
  // two threads. The tree records then go in order, after the events.
  std::vector<Hash256> leaves(n);
  const std::string_view rep = b.wb.Data();
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
  e.payload.clear();
  AppendPayload(payload, e.payload);
  e.prev_hash = head_.hash;
  impl_->MakeBody(e);
  e.hash = ChainHash(e.prev_hash, impl_->body);
  WriteEvent(e, impl_->body, payload);
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
  if (log_->impl_->mirrored(static_cast<size_t>(family))) {
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
