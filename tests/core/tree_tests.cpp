// The Merkle tree the event log keeps beside its events (core/FORMAT.md,
// "tree"): compared with the tree computed in memory from the events.
#include "tacet/core/event_log.h"

#define BOOST_TEST_MODULE tree_tests
#include <boost/test/unit_test.hpp>

#include <rocksdb/db.h>

#include <bit>
#include <map>

#include "tacet/core/codec.h"
#include "tacet/core/merkle.h"
#include "tacet/core/note.h"
#include "tacet/core/time.h"
#include "test_util.h"

using namespace tacet;

namespace {

// The log indexes whatever SubjectId an event names; a test's stands in
// for the ledger's keyed hash.
SubjectId IdOf(const std::string& subject) { return Sha256(subject); }

Payload Number(uint64_t i) {
  return SessionNumber{1, "it-rpo", IdOf("+3906" + std::to_string(10000000 + i))};
}

std::unique_ptr<EventLog> OpenLog(const std::string& dir, const Clock* clock,
                                  bool read_only = false,
                                  std::shared_ptr<const note::Signer> signer = nullptr) {
  EventLogOptions o;
  o.create_if_missing = !read_only;
  o.read_only = read_only;
  o.tail_check = 1'000'000;
  auto log = EventLog::Open(dir, o, clock);
  BOOST_TEST_REQUIRE(log.ok(), log.status().ToString());
  if (signer) BOOST_TEST_REQUIRE((*log)->UseCheckpointKey(std::move(signer)).ok());
  return std::move(log).value();
}

void AppendNumbers(EventLog& log, uint64_t n) {
  auto batch = log.NewBatch(Actor{"tester", "op7", "tree_tests"});
  BOOST_TEST_REQUIRE(batch.ok());
  for (uint64_t i = 0; i < n; ++i) batch->Add(Number(log.head().seq + i));
  BOOST_TEST_REQUIRE(log.Commit(std::move(batch).value()).ok());
}

// The leaf hashes of every event, computed from the events themselves.
std::vector<Hash256> Leaves(const EventLog& log) {
  std::vector<Hash256> leaves;
  Status s = log.Scan(1, log.head().seq, [&](const Event& e) {
    leaves.push_back(merkle::LeafHash(EncodeEventBody(e)));
    return true;
  });
  BOOST_TEST_REQUIRE(s.ok(), s.ToString());
  return leaves;
}

// The ledger's RocksDB opened behind the log's back, to damage it.
class RawLedger {
 public:
  explicit RawLedger(const std::string& dir) {
    std::vector<std::string> names;
    BOOST_TEST_REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    BOOST_TEST_REQUIRE(rocksdb::DB::Open(rocksdb::Options(), dir, cfs, &handles, &db).ok());
    db_.reset(db);
    for (size_t i = 0; i < names.size(); ++i) families_[names[i]] = handles[i];
  }
  ~RawLedger() {
    for (auto& [name, h] : families_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  std::string Get(const std::string& family, const std::string& key) {
    std::string v;
    BOOST_TEST_REQUIRE(db_->Get(rocksdb::ReadOptions(), families_.at(family), key, &v).ok());
    return v;
  }
  void Put(const std::string& family, const std::string& key, const std::string& value) {
    BOOST_TEST_REQUIRE(db_->Put(rocksdb::WriteOptions(), families_.at(family), key, value).ok());
  }
  void Delete(const std::string& family, const std::string& key) {
    BOOST_TEST_REQUIRE(db_->Delete(rocksdb::WriteOptions(), families_.at(family), key).ok());
  }
  void Drop(const std::string& family) {
    BOOST_TEST_REQUIRE(db_->DropColumnFamily(families_.at(family)).ok());
    BOOST_TEST_REQUIRE(db_->DestroyColumnFamilyHandle(families_.at(family)).ok());
    families_.erase(family);
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families_;
};

// Key of a tree record: be64 end || level.
std::string TreeKey(uint64_t end, int level) {
  std::string k = SeqKey(end);
  k.push_back(static_cast<char>(level));
  return k;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tree_tests)

BOOST_AUTO_TEST_CASE(every_root_and_proof_equals_the_tree_of_the_events) {
  test::TempDir dir;
  ManualClock clock(1'780'000'000'000);
  // Batches of many sizes, and a reopen in the middle of a bundle of 16:
  // the tree continues from what the store holds.
  {
    auto log = OpenLog(dir.path(), &clock);
    for (uint64_t n : {1, 2, 13, 16, 31}) AppendNumbers(*log, n);  // 63
  }
  auto log = OpenLog(dir.path(), &clock);
  for (uint64_t n : {1, 37, 49}) AppendNumbers(*log, n);  // 150
  BOOST_TEST_REQUIRE(log->head().seq == 150u);
  const std::vector<Hash256> leaves = Leaves(*log);
  const merkle::SubtreeFn memory = merkle::InMemory(leaves);

  size_t inclusion = 0, consistency = 0;
  for (uint64_t size = 0; size <= 150; ++size) {
    auto root = log->TreeRoot(size);
    BOOST_TEST_REQUIRE(root.ok(), root.status().ToString());
    BOOST_TEST_REQUIRE((*root == merkle::RootOf(std::span(leaves).first(size))), "size " << size);
    for (uint64_t seq = 1; seq <= size; ++seq, ++inclusion) {
      auto stored = log->InclusionProof(seq, size);
      BOOST_TEST_REQUIRE(stored.ok(), stored.status().ToString());
      BOOST_TEST_REQUIRE((*stored == *merkle::InclusionProof(seq - 1, size, memory)),
                         "seq " << seq << " size " << size);
      BOOST_TEST_REQUIRE(merkle::VerifyInclusion(seq - 1, size, leaves[seq - 1], *stored, *root));
    }
    for (uint64_t old = 0; old <= size; ++old, ++consistency) {
      auto stored = log->ConsistencyProof(old, size);
      BOOST_TEST_REQUIRE(stored.ok(), stored.status().ToString());
      BOOST_TEST_REQUIRE((*stored == *merkle::ConsistencyProof(old, size, memory)),
                         old << " -> " << size);
    }
  }
  BOOST_TEST(inclusion == 150u * 151 / 2);
  BOOST_TEST(consistency == 151u * 152 / 2);

  // Beyond the head there is no tree yet.
  BOOST_TEST(log->TreeRoot(151).status().code() == StatusCode::kInvalidArgument);
  BOOST_TEST(log->InclusionProof(151, 151).status().code() == StatusCode::kInvalidArgument);
  BOOST_TEST(log->InclusionProof(0, 150).status().code() == StatusCode::kInvalidArgument);
  BOOST_TEST(log->ConsistencyProof(10, 151).status().code() == StatusCode::kInvalidArgument);
  BOOST_TEST(log->Verify().ok);
}

BOOST_AUTO_TEST_CASE(a_large_batch_hashed_on_two_threads_makes_the_same_tree) {
  // 20,000 events in one batch (an import's shape: its leaves are hashed on
  // two threads at commit), after a small one.
  test::TempDir dir;
  ManualClock clock(1);
  auto log = OpenLog(dir.path(), &clock);
  AppendNumbers(*log, 7);
  AppendNumbers(*log, 20'000);
  const std::vector<Hash256> leaves = Leaves(*log);
  BOOST_TEST_REQUIRE(leaves.size() == 20'007u);
  for (uint64_t size : {7u, 8u, 16'384u, 20'000u, 20'007u})
    BOOST_TEST((*log->TreeRoot(size) == merkle::RootOf(std::span(leaves).first(size))),
               "size " << size);
  VerifyReport r = log->Verify();
  BOOST_TEST(r.ok, r.problem);
}

BOOST_AUTO_TEST_CASE(a_proof_reads_a_logarithmic_number_of_records) {
  test::TempDir dir;
  ManualClock clock(1);
  auto log = OpenLog(dir.path(), &clock);
  for (int i = 0; i < 4; ++i) AppendNumbers(*log, 1000);
  const uint64_t n = log->head().seq;
  const uint64_t log2n = std::bit_width(n);  // 12 for 4000
  uint64_t most = 0;
  for (uint64_t seq = 1; seq <= n; seq += 7) {
    const uint64_t before = log->tree_reads();
    BOOST_TEST_REQUIRE(log->InclusionProof(seq, n).ok());
    most = std::max(most, log->tree_reads() - before);
  }
  // One bundle for levels 0-3, a node per level above, and the few nodes of
  // the one sibling that is not a perfect subtree.
  BOOST_TEST(most <= 2 * log2n, most << " records read for one inclusion proof");
  most = 0;
  for (uint64_t old = 1; old <= n; old += 13) {
    const uint64_t before = log->tree_reads();
    BOOST_TEST_REQUIRE(log->ConsistencyProof(old, n).ok());
    most = std::max(most, log->tree_reads() - before);
  }
  BOOST_TEST(most <= 2 * log2n, most << " records read for one consistency proof");
}

BOOST_AUTO_TEST_CASE(a_ledger_of_an_older_format_is_refused_naming_its_format) {
  // Formats 1 and 2 kept subjects in clear; no migration exists (none is in
  // use), so every open refuses them and says which format it found.
  for (const char* older : {"tacet-ledger-1", "tacet-ledger-2", "tacet-ledger-9"}) {
    test::TempDir dir;
    ManualClock clock(1);
    {
      auto log = OpenLog(dir.path(), &clock);
      AppendNumbers(*log, 3);
    }
    RawLedger(dir.path()).Put("meta", "format", older);
    for (bool read_only : {false, true}) {
      EventLogOptions o;
      o.read_only = read_only;
      auto log = EventLog::Open(dir.path(), o, &clock);
      BOOST_TEST_REQUIRE(!log.ok());
      BOOST_TEST(log.status().code() == StatusCode::kFailedPrecondition);
      const std::string& m = log.status().message();
      BOOST_TEST(m.find(std::string("'") + older + "'") != std::string::npos, m);
      BOOST_TEST(m.find("tacet-ledger-3") != std::string::npos, m);
      const bool known_older = std::string(older) != "tacet-ledger-9";
      BOOST_TEST((m.find("subjects in clear") != std::string::npos) == known_older, m);
    }
  }
}

BOOST_AUTO_TEST_CASE(verify_names_an_event_rewritten_with_its_whole_chain) {
  // Someone rewrites seq 77 and re-hashes the chain after it, and the head:
  // the chain alone is consistent again, the tree's leaf hash is not.
  test::TempDir dir;
  ManualClock clock(1);
  {
    auto log = OpenLog(dir.path(), &clock);
    AppendNumbers(*log, 200);
  }
  {
    RawLedger raw(dir.path());
    Hash256 prev{};
    for (uint64_t seq = 77; seq <= 200; ++seq) {
      auto e = DecodeStoredEvent(raw.Get("events", SeqKey(seq)));
      BOOST_TEST_REQUIRE(e.ok());
      if (seq == 77) {
        e->actor.operator_id = "op8";
      } else {
        e->prev_hash = prev;
      }
      std::string body = EncodeEventBody(*e);
      e->hash = ChainHash(e->prev_hash, body);
      prev = e->hash;
      raw.Put("events", SeqKey(seq), EncodeStoredEvent(*e, body));
    }
    std::string head = raw.Get("meta", "head");
    head.replace(8, 32, AsBytes(prev));
    raw.Put("meta", "head", head);
  }
  auto log = OpenLog(dir.path(), &clock);  // every link holds
  VerifyReport r = log->Verify();
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.first_bad_seq == 77u, r.problem);
  BOOST_TEST(r.problem.find("leaf hash of seq 77") != std::string::npos, r.problem);
}

BOOST_AUTO_TEST_CASE(verify_names_a_damaged_or_missing_tree_record) {
  struct Damage {
    std::string name;
    std::function<void(RawLedger&)> apply;
    uint64_t first_bad_seq;
    std::string says;
  };
  const std::vector<Damage> damages = {
      {"a node's hash",
       [](RawLedger& raw) {
         std::string v = raw.Get("tree", TreeKey(64, 5));
         v[3] ^= 1;
         raw.Put("tree", TreeKey(64, 5), v);
       },
       64, "tree node of seqs 33..64 differs"},
      {"a leaf in a bundle",
       [](RawLedger& raw) {
         std::string v = raw.Get("tree", TreeKey(48, 0));
         v[32 * 5] ^= 1;  // leaf 6 of seqs 33..48
         raw.Put("tree", TreeKey(48, 0), v);
       },
       38, "leaf hash of seq 38 differs"},
      {"a missing bundle", [](RawLedger& raw) { raw.Delete("tree", TreeKey(96, 0)); }, 96,
       "leaf hashes of seqs 81..96 is missing"},
      {"a record beyond the head",
       [](RawLedger& raw) { raw.Put("tree", TreeKey(256, 8), std::string(32, 'x')); }, 201,
       "beyond the last event"},
  };
  for (const Damage& d : damages) {
    test::TempDir dir;
    ManualClock clock(1);
    {
      auto log = OpenLog(dir.path(), &clock);
      AppendNumbers(*log, 200);
      BOOST_TEST_REQUIRE(log->Verify().ok);
    }
    {
      RawLedger raw(dir.path());
      d.apply(raw);
    }
    auto log = OpenLog(dir.path(), &clock);
    VerifyReport r = log->Verify();
    BOOST_TEST(!r.ok, d.name);
    BOOST_TEST(r.first_bad_seq == d.first_bad_seq, d.name << ": " << r.problem);
    BOOST_TEST(r.problem.find(d.says) != std::string::npos, d.name << ": " << r.problem);
  }
}

std::shared_ptr<const note::Signer> NewSigner(const std::string& name) {
  auto s = note::Signer::Generate(name);
  BOOST_TEST_REQUIRE(s.ok());
  return std::make_shared<const note::Signer>(std::move(s).value());
}

// Opens a stored checkpoint; checks it against the log's own tree.
note::Checkpoint OpenCheckpoint(const EventLog& log, const note::Verifier& v,
                                const std::string& signed_note) {
  auto text = v.Open(signed_note);
  BOOST_TEST_REQUIRE(text.ok(), text.status().ToString());
  auto c = note::ParseCheckpoint(*text);
  BOOST_TEST_REQUIRE(c.ok(), c.status().ToString());
  BOOST_TEST(c->origin == v.name());
  BOOST_TEST((c->root == *log.TreeRoot(c->size)), "size " << c->size);
  return *c;
}

BOOST_AUTO_TEST_CASE(commits_sign_a_checkpoint_at_most_once_per_interval) {
  test::TempDir dir;
  ManualClock clock(1'780'000'000'000);
  auto signer = NewSigner("tacet.test/ledger");
  auto log = OpenLog(dir.path(), &clock, false, signer);
  BOOST_TEST(log->CheckpointKey()->value_or("") == signer->verifier().Encode());
  std::vector<uint64_t> sizes;
  auto record = [&] {
    sizes.clear();
    BOOST_TEST_REQUIRE(log->ScanCheckpoints(0,
                                            [&](uint64_t size, std::string_view n) {
                                              OpenCheckpoint(*log, signer->verifier(),
                                                             std::string(n));
                                              sizes.push_back(size);
                                              return true;
                                            })
                           .ok());
    return sizes;
  };
  AppendNumbers(*log, 10);  // the first commit signs one
  clock.Advance(400);
  AppendNumbers(*log, 10);  // within the interval (1 s): none
  clock.Advance(599);
  AppendNumbers(*log, 10);  // 999 ms after the first: none
  BOOST_TEST(record() == std::vector<uint64_t>({10}));
  clock.Advance(1);
  AppendNumbers(*log, 5);  // 1000 ms: one
  BOOST_TEST(record() == std::vector<uint64_t>({10, 35}));
  AppendNumbers(*log, 5);
  // Checkpoint() covers the head now, whatever the interval; once.
  BOOST_TEST(*log->Checkpoint() == true);
  BOOST_TEST(*log->Checkpoint() == false);
  BOOST_TEST(record() == std::vector<uint64_t>({10, 35, 40}));
  auto latest = log->LatestCheckpoint();
  BOOST_TEST(OpenCheckpoint(*log, signer->verifier(), latest->value()).size == 40u);
  BOOST_TEST(OpenCheckpoint(*log, signer->verifier(), latest->value()).extensions[0] ==
             "time " + FormatUtc(clock.NowMs()));
  BOOST_TEST(!log->CheckpointOfSize(20)->has_value());
  BOOST_TEST(log->CheckpointOfSize(35)->has_value());
  VerifyReport r = log->Verify();
  BOOST_TEST(r.ok, r.problem);
  BOOST_TEST(r.checkpoints == 3u);
}

BOOST_AUTO_TEST_CASE(a_writer_with_another_key_is_refused) {
  test::TempDir dir;
  ManualClock clock(1);
  {
    auto log = OpenLog(dir.path(), &clock, false, NewSigner("tacet.test/ledger"));
    AppendNumbers(*log, 3);
  }
  auto log = OpenLog(dir.path(), &clock);
  Status s = log->UseCheckpointKey(NewSigner("tacet.test/ledger"));
  BOOST_TEST(s.code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(s.message().find("is not the one that signs") != std::string::npos, s.message());
  BOOST_TEST(!log->has_checkpoint_key());
}

BOOST_AUTO_TEST_CASE(events_proven_once_stay_proven_by_every_later_checkpoint) {
  // An auditor holds the inclusion proofs of some events against checkpoint
  // A; each later checkpoint B comes with a consistency proof A -> B.
  test::TempDir dir;
  ManualClock clock(1'780'000'000'000);
  auto signer = NewSigner("tacet.test/ledger");
  auto log = OpenLog(dir.path(), &clock, false, signer);
  AppendNumbers(*log, 77);
  const note::Checkpoint first =
      OpenCheckpoint(*log, signer->verifier(), log->LatestCheckpoint()->value());
  BOOST_TEST_REQUIRE(first.size == 77u);
  const std::vector<Hash256> leaves = Leaves(*log);
  for (uint64_t seq : {1, 16, 17, 50, 77}) {
    auto proof = log->InclusionProof(seq, first.size);
    BOOST_TEST(merkle::VerifyInclusion(seq - 1, first.size, leaves[seq - 1], *proof, first.root));
  }
  size_t later = 0;
  for (uint64_t n : {1, 15, 16, 33, 100, 256}) {
    clock.Advance(1000);
    AppendNumbers(*log, n);
    const note::Checkpoint b =
        OpenCheckpoint(*log, signer->verifier(), log->LatestCheckpoint()->value());
    auto proof = log->ConsistencyProof(first.size, b.size);
    BOOST_TEST_REQUIRE(proof.ok());
    BOOST_TEST(merkle::VerifyConsistency(first.size, b.size, first.root, b.root, *proof),
               first.size << " -> " << b.size);
    // And not for a root that is not the first checkpoint's.
    Hash256 other = first.root;
    other[0] ^= 1;
    BOOST_TEST(!merkle::VerifyConsistency(first.size, b.size, other, b.root, *proof));
    ++later;
  }
  BOOST_TEST(later == 6u);
}

BOOST_AUTO_TEST_CASE(verify_names_a_forged_or_altered_checkpoint) {
  auto signer = NewSigner("tacet.test/ledger");
  struct Damage {
    std::string name;
    std::function<void(RawLedger&)> apply;
    uint64_t first_bad_seq;
    std::string says;
  };
  const std::vector<Damage> damages = {
      {"a changed signature",
       [](RawLedger& raw) {
         std::string n = raw.Get("checkpoints", SeqKey(150));
         n[n.size() - 6] = n[n.size() - 6] == 'A' ? 'B' : 'A';
         raw.Put("checkpoints", SeqKey(150), n);
       },
       150, "checkpoint of size 150: the signature by 'tacet.test/ledger'"},
      {"a properly signed checkpoint of other events",
       [&](RawLedger& raw) {
         note::Checkpoint c;
         c.origin = "tacet.test/ledger";
         c.size = 150;
         c.root = merkle::LeafHash("something else");
         raw.Put("checkpoints", SeqKey(150), *signer->Sign(note::FormatCheckpoint(c)));
       },
       101, "events 101..150 changed after it was signed"},
      {"a checkpoint beyond the head",
       [&](RawLedger& raw) {
         raw.Put("checkpoints", SeqKey(999), raw.Get("checkpoints", SeqKey(150)));
       },
       201, "checkpoint of size 999 lies beyond the last event"},
  };
  for (const Damage& d : damages) {
    test::TempDir dir;
    ManualClock clock(1);
    {
      auto log = OpenLog(dir.path(), &clock, false, signer);
      for (int i = 0; i < 4; ++i) {
        AppendNumbers(*log, 50);
        clock.Advance(1000);
      }
      VerifyReport r = log->Verify();
      BOOST_TEST_REQUIRE(r.ok, r.problem);
      BOOST_TEST_REQUIRE(r.checkpoints == 4u);
    }
    {
      RawLedger raw(dir.path());
      d.apply(raw);
    }
    auto log = OpenLog(dir.path(), &clock, true);
    VerifyReport r = log->Verify();
    BOOST_TEST(!r.ok, d.name);
    BOOST_TEST(r.first_bad_seq == d.first_bad_seq, d.name << ": " << r.problem);
    BOOST_TEST(r.problem.find(d.says) != std::string::npos, d.name << ": " << r.problem);
  }
}

BOOST_AUTO_TEST_SUITE_END()
