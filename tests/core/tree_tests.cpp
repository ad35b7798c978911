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
#include "test_util.h"

using namespace tacet;

namespace {

Payload Number(uint64_t i) {
  return SessionNumber{1, "it-rpo", "+3906" + std::to_string(10000000 + i),
                       "06" + std::to_string(10000000 + i)};
}

std::unique_ptr<EventLog> OpenLog(const std::string& dir, const Clock* clock,
                                  bool read_only = false) {
  EventLogOptions o;
  o.create_if_missing = !read_only;
  o.read_only = read_only;
  o.tail_check = 1'000'000;
  auto log = EventLog::Open(dir, o, clock);
  BOOST_TEST_REQUIRE(log.ok(), log.status().ToString());
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

BOOST_AUTO_TEST_CASE(a_ledger_of_format_1_gets_its_tree_from_its_first_writer) {
  test::TempDir dir;
  ManualClock clock(1);
  Hash256 expected{};
  {
    auto log = OpenLog(dir.path(), &clock);
    AppendNumbers(*log, 100);
    expected = merkle::RootOf(Leaves(*log));
  }
  {  // What a ledger written before the tree looks like.
    RawLedger raw(dir.path());
    raw.Drop("tree");
    raw.Put("meta", "format", "tacet-ledger-1");
  }
  {
    auto reader = OpenLog(dir.path(), &clock, /*read_only=*/true);
    auto root = reader->TreeRoot(100);
    BOOST_TEST(root.status().code() == StatusCode::kFailedPrecondition);
    BOOST_TEST(root.status().message().find("tacet init") != std::string::npos,
               root.status().message());
    BOOST_TEST(reader->Verify().ok);  // the chain still verifies
  }
  auto log = OpenLog(dir.path(), &clock);
  BOOST_TEST(log->GetMeta("format")->value_or("") == "tacet-ledger-2");
  BOOST_TEST((*log->TreeRoot(100) == expected));
  AppendNumbers(*log, 21);
  BOOST_TEST((*log->TreeRoot(121) == merkle::RootOf(Leaves(*log))));
  BOOST_TEST(log->Verify().ok);
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

BOOST_AUTO_TEST_SUITE_END()
