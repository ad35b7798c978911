// tacet verify: the whole chain, the Merkle tree and every checkpoint.
#include "impl.h"

namespace tacet {

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

}  // namespace tacet
