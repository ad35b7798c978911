#include "tacet/core/event_log.h"

#define BOOST_TEST_MODULE event_log_tests
#include <boost/test/unit_test.hpp>

#include <rocksdb/db.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <thread>

#include "../../core/internal/chunk_worker.h"
#include "tacet/core/codec.h"
#include "tacet/core/hash.h"
#include "test_util.h"

using namespace tacet;

namespace {

// The log indexes whatever SubjectId an event names; a test's stands in
// for the ledger's keyed hash.
SubjectId IdOf(const std::string& subject) { return Sha256(subject); }

// A SubjectId whose bytes a known answer can spell: 0x00, 0x01, ... 0x1f.
SubjectId CountingId() {
  SubjectId id;
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(i);
  return id;
}

Payload Number(uint64_t i) {
  return SessionNumber{1, "it-rpo", IdOf("+3906" + std::to_string(10000000 + i))};
}

std::unique_ptr<EventLog> OpenLog(const std::string& dir, const Clock* clock) {
  EventLogOptions o;
  o.create_if_missing = true;
  auto log = EventLog::Open(dir, o, clock);
  BOOST_TEST_REQUIRE(log.ok(), log.status().ToString());
  return std::move(log).value();
}

void AppendNumbers(EventLog& log, uint64_t n) {
  auto batch = log.NewBatch(Actor{"tester", "op7", "event_log_tests"});
  BOOST_TEST_REQUIRE(batch.ok());
  for (uint64_t i = 0; i < n; ++i) batch->Add(Number(i));
  BOOST_TEST_REQUIRE(log.Commit(std::move(batch).value()).ok());
}

// Rewrites the stored bytes of one event, behind the log's back.
void TamperWithEvent(const std::string& dir, uint64_t seq, size_t byte) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  std::vector<std::string> names;
  BOOST_TEST_REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), dir, &names).ok());
  for (auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  BOOST_TEST_REQUIRE(rocksdb::DB::Open(rocksdb::Options(), dir, cfs, &handles, &db).ok());
  rocksdb::ColumnFamilyHandle* events = nullptr;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == "events") events = handles[i];
  std::string value;
  BOOST_TEST_REQUIRE(db->Get(rocksdb::ReadOptions(), events, SeqKey(seq), &value).ok());
  value[byte % value.size()] ^= 0x01;
  BOOST_TEST_REQUIRE(db->Put(rocksdb::WriteOptions(), events, SeqKey(seq), value).ok());
  for (auto* h : handles) BOOST_TEST_REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
  delete db;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_log_tests)

BOOST_AUTO_TEST_CASE(appended_events_are_dense_chained_and_indexed) {
  test::TempDir dir;
  ManualClock clock(1'780'000'000'000);
  auto log = OpenLog(dir.path(), &clock);
  AppendNumbers(*log, 10);
  AppendNumbers(*log, 5);
  BOOST_TEST(log->head().seq == 15u);
  Hash256 prev{};
  for (uint64_t s = 1; s <= 15; ++s) {
    auto e = log->Read(s);
    BOOST_TEST_REQUIRE(e.ok());
    BOOST_TEST(e->seq == s);
    BOOST_TEST(e->prev_hash == prev);
    BOOST_TEST(e->hash == ChainHash(e->prev_hash, EncodeEventBody(*e)));
    BOOST_TEST(e->actor.operator_id == "op7");
    BOOST_TEST(e->recorded_at == clock.NowMs());
    prev = e->hash;
  }
  BOOST_TEST(log->head().hash == prev);
  auto seqs = log->SeqsFor(IdOf("+390610000003"));
  BOOST_TEST_REQUIRE(seqs.ok());
  BOOST_TEST(*seqs == std::vector<uint64_t>({4, 14}));
  auto r = log->Verify();
  BOOST_TEST(r.ok);
  BOOST_TEST(r.events == 15u);
}

// Issue 16: a batch announced with 16,384 events or more writes its events
// and tree records into sorted files as it goes and ingests them at commit.
// What it stores is what small batches store, byte for byte; one that is
// never committed leaves the ledger and its directory as they were.
BOOST_AUTO_TEST_CASE(a_bulk_batch_stores_what_small_batches_store_and_an_abandoned_one_no_file) {
  const uint64_t n = 40'000;
  test::TempDir small_dir, bulk_dir;
  ManualClock clock(1'780'000'000'000);
  const Actor actor{"tester", "op7", "event_log_tests"};
  auto small = OpenLog(small_dir.path(), &clock);
  for (uint64_t from = 0; from < n; from += 1000) {
    auto batch = small->NewBatch(actor);
    BOOST_TEST_REQUIRE(batch.ok());
    for (uint64_t i = from; i < from + 1000; ++i) batch->Add(Number(i));
    BOOST_TEST_REQUIRE(small->Commit(std::move(batch).value()).ok());
  }
  auto files_under = [](const std::string& dir) {
    size_t files = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file()) ++files;
    return files;
  };
  {
    auto log = OpenLog(bulk_dir.path(), &clock);
    {
      auto abandoned = log->NewBatch(actor, n);
      BOOST_TEST_REQUIRE(abandoned.ok());
      for (uint64_t i = 0; i < n; ++i) abandoned->Add(Number(n + i));
      BOOST_TEST(files_under(bulk_dir / "bulk.tmp") > 0u);  // the events are in files already
    }
    BOOST_TEST(files_under(bulk_dir / "bulk.tmp") == 0u);
    BOOST_TEST(log->head().seq == 0u);
    auto batch = log->NewBatch(actor, n);
    BOOST_TEST_REQUIRE(batch.ok());
    for (uint64_t i = 0; i < n; ++i) batch->Add(Number(i));
    Status s = log->Commit(std::move(batch).value());
    BOOST_TEST_REQUIRE(s.ok(), s.ToString());
    BOOST_TEST(files_under(bulk_dir / "bulk.tmp") == 0u);
  }
  // What a crash in the middle of a bulk batch would leave: removed by the
  // next writer's open, never ingested.
  std::filesystem::create_directories(bulk_dir / "bulk.tmp/7");
  test::WriteText(bulk_dir / "bulk.tmp/7/events.sst", "half a file");
  auto bulk = OpenLog(bulk_dir.path(), &clock);  // reopened: all of it is durable
  BOOST_TEST(files_under(bulk_dir / "bulk.tmp") == 0u);
  BOOST_TEST(bulk->head().seq == n);
  BOOST_TEST(ToHex(bulk->head().hash) == ToHex(small->head().hash));
  for (uint64_t size : {uint64_t{1}, uint64_t{17}, uint64_t{16'384}, n - 1, n})
    BOOST_TEST(ToHex(*bulk->TreeRoot(size)) == ToHex(*small->TreeRoot(size)), size);
  for (uint64_t seq : {uint64_t{1}, uint64_t{32'769}, n}) {
    BOOST_TEST(EncodeEventBody(*bulk->Read(seq)) == EncodeEventBody(*small->Read(seq)));
    BOOST_TEST(*bulk->InclusionProof(seq, n) == *small->InclusionProof(seq, n));
  }
  BOOST_TEST(*bulk->SeqsFor(IdOf("+390610012345")) == std::vector<uint64_t>({12'346}));
  VerifyReport r = bulk->Verify();
  BOOST_TEST(r.ok, r.problem);
  BOOST_TEST(r.events == n);
}

// The bulk path sorts each family's puts itself, or streams them to a file
// while they ascend: the batch's last value of a key wins, whether the
// family came as a few ascending runs (streamed, then taken back when the
// order breaks), in no order at all (sorted), as a few records and then an
// ascending stream beside them (two files), or as a stream that repeats an
// earlier key (taken back at the commit).
BOOST_AUTO_TEST_CASE(a_bulk_batch_keeps_the_last_value_of_a_key_whatever_the_order) {
  test::TempDir dir;
  ManualClock clock(1'000);
  EventLogOptions o;
  o.create_if_missing = true;
  o.projection_families = {"p_runs", "p_random", "p_beside", "p_repeat"};
  auto opened = EventLog::Open(dir.path(), o, &clock);
  BOOST_TEST_REQUIRE(opened.ok(), opened.status().ToString());
  EventLog& log = **opened;
  const int runs = log.FamilyIndex("p_runs"), random = log.FamilyIndex("p_random");
  const int beside = log.FamilyIndex("p_beside"), repeat = log.FamilyIndex("p_repeat");
  const uint64_t n = 20'000;
  auto key = [](uint64_t i) {
    std::string k = "k";
    const std::string digits = std::to_string(100'000 + i);
    k += digits;
    return k;
  };
  auto batch = log.NewBatch(Actor{}, n);
  BOOST_TEST_REQUIRE(batch.ok());
  for (uint64_t i = 0; i < n; ++i) batch->Add(Number(i));
  // Three ascending runs: "z", then k100000.., then "a" and k100005 again.
  batch->Put(runs, "z", "z");
  for (uint64_t i = 0; i < n; ++i) batch->Put(runs, key(i), "first");
  batch->Put(runs, "a", "a");
  batch->Put(runs, key(5), "second");
  // Every key twice, in a shuffled order each time.
  std::vector<uint64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  for (uint64_t i : order) batch->Put(random, key(i), "first");
  std::shuffle(order.begin(), order.end(), rng);
  for (uint64_t i : order) batch->Put(random, key(i), "last " + std::to_string(i));
  // A session's record, then its members (an export's order): "s1" sorts
  // after every "k" key, so the record and the stream do not overlap.
  batch->Put(beside, "s1", "session");
  for (uint64_t i = 0; i < n; ++i) batch->Put(beside, key(i), "member");
  // An early value of key(7), then every key in order, key(7) again.
  batch->Put(repeat, key(7), "early");
  for (uint64_t i = 0; i < n; ++i) batch->Put(repeat, key(i), "late");
  Status committed = log.Commit(std::move(batch).value());
  BOOST_TEST_REQUIRE(committed.ok(), committed.ToString());
  auto get = [&](int family, const std::string& k) {
    auto v = log.Get(family, k);
    BOOST_TEST_REQUIRE(v.ok());
    return v->value_or("(absent)");
  };
  BOOST_TEST(get(runs, "z") == "z");
  BOOST_TEST(get(runs, "a") == "a");
  BOOST_TEST(get(runs, key(5)) == "second");
  BOOST_TEST(get(runs, key(6)) == "first");
  BOOST_TEST(get(runs, key(n - 1)) == "first");
  for (uint64_t i : {uint64_t{0}, uint64_t{5}, uint64_t{12'345}, n - 1})
    BOOST_TEST(get(random, key(i)) == "last " + std::to_string(i));
  BOOST_TEST(get(beside, "s1") == "session");
  BOOST_TEST(get(beside, key(0)) == "member");
  BOOST_TEST(get(beside, key(n - 1)) == "member");
  BOOST_TEST(get(repeat, key(7)) == "late");
  BOOST_TEST(get(repeat, key(8)) == "late");
  auto entries = [&](int family) {
    uint64_t count = 0;
    BOOST_TEST(log.ScanFamily(family, "",
                              [&](std::string_view, std::string_view) {
                                ++count;
                                return true;
                              })
                   .ok());
    return count;
  };
  BOOST_TEST(entries(runs) == n + 2);
  BOOST_TEST(entries(random) == n);
  BOOST_TEST(entries(beside) == n + 1);
  BOOST_TEST(entries(repeat) == n);
  VerifyReport r = log.Verify();
  BOOST_TEST(r.ok, r.problem);
}

// The thread behind a bulk batch's files and its sealer: chunks are
// processed in the order handed and come back for reuse; the first failure
// stops the processing and reaches the producer.
BOOST_AUTO_TEST_CASE(a_chunk_worker_processes_in_order_and_reports_its_first_failure) {
  std::string seen;
  {
    internal::ChunkWorker worker([&](std::string_view c) {
      seen += c;
      return Status::Ok();
    });
    std::string chunk;
    for (int i = 0; i < 100; ++i) {
      chunk = std::to_string(i) + ",";
      BOOST_TEST_REQUIRE(worker.Hand(chunk, 64).ok());
      BOOST_TEST(chunk.empty());
      BOOST_TEST(chunk.capacity() >= 64u);
    }
    BOOST_TEST(worker.Finish().ok());
  }
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += std::to_string(i) + ",";
  BOOST_TEST(seen == expected);

  std::vector<std::string> processed;
  internal::ChunkWorker failing([&](std::string_view c) {
    processed.emplace_back(c);
    return c == "bad" ? Status::IOError("disk full at chunk 'bad'") : Status::Ok();
  });
  std::string chunk = "good";
  BOOST_TEST(failing.Hand(chunk, 0).ok());
  chunk = "bad";
  BOOST_TEST(failing.Hand(chunk, 0).ok());  // handed; fails on the thread
  Status later;
  for (int i = 0; i < 1000 && later.ok(); ++i) {
    chunk = "after";
    later = failing.Hand(chunk, 0);
  }
  BOOST_TEST(later.message().find("disk full at chunk 'bad'") != std::string::npos,
             later.ToString());
  Status finished = failing.Finish();
  BOOST_TEST(finished.message().find("disk full") != std::string::npos);
  BOOST_TEST(processed.size() == 2u);  // nothing after the failure
  BOOST_TEST(processed.back() == "bad");

  // Destroyed with chunks waiting and without Finish: it stops, it does not hang.
  internal::ChunkWorker slow([](std::string_view) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return Status::Ok();
  });
  for (int i = 0; i < 3; ++i) {
    chunk = "x";
    BOOST_TEST(slow.Hand(chunk, 0).ok());
  }
}

BOOST_AUTO_TEST_CASE(recorded_time_never_goes_backwards) {
  test::TempDir dir;
  ManualClock clock(2'000'000);
  auto log = OpenLog(dir.path(), &clock);
  AppendNumbers(*log, 1);
  clock.Set(1'000'000);
  AppendNumbers(*log, 1);
  BOOST_TEST(log->Read(2)->recorded_at == 2'000'000);
}

BOOST_AUTO_TEST_CASE(a_batch_on_a_stale_head_is_refused) {
  test::TempDir dir;
  ManualClock clock(1);
  auto log = OpenLog(dir.path(), &clock);
  auto a = log->NewBatch(Actor{});
  auto b = log->NewBatch(Actor{});
  a->Add(Number(1));
  b->Add(Number(2));
  BOOST_TEST(log->Commit(std::move(a).value()).ok());
  Status s = log->Commit(std::move(b).value());
  BOOST_TEST(s.code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(log->head().seq == 1u);
}

BOOST_AUTO_TEST_CASE(one_changed_byte_makes_verify_name_that_seq) {
  for (size_t byte : {3u, 20u, 60u, 100u}) {
    test::TempDir dir;
    ManualClock clock(1'780'000'000'000);
    {
      auto log = OpenLog(dir.path(), &clock);
      AppendNumbers(*log, 200);
    }
    TamperWithEvent(dir.path(), 77, byte);
    EventLogOptions o;
    o.tail_check = 8;  // the damage is far from the head: open succeeds
    auto log = EventLog::Open(dir.path(), o, &clock);
    BOOST_TEST_REQUIRE(log.ok(), log.status().ToString());
    VerifyReport r = (*log)->Verify();
    BOOST_TEST(!r.ok);
    BOOST_TEST(r.first_bad_seq == 77u, "byte " << byte << ": " << r.problem);
  }
}

BOOST_AUTO_TEST_CASE(opening_checks_the_tail_of_the_chain) {
  test::TempDir dir;
  ManualClock clock(1);
  {
    auto log = OpenLog(dir.path(), &clock);
    AppendNumbers(*log, 50);
  }
  TamperWithEvent(dir.path(), 49, 30);
  auto log = EventLog::Open(dir.path(), EventLogOptions{}, &clock);
  BOOST_TEST(!log.ok());
  BOOST_TEST(log.status().code() == StatusCode::kCorruption);
  BOOST_TEST(log.status().message().find("seq 49") != std::string::npos, log.status().message());
}

BOOST_AUTO_TEST_CASE(a_missing_ledger_is_not_created_unless_asked) {
  test::TempDir dir;
  ManualClock clock(1);
  auto log = EventLog::Open(dir / "nothing", EventLogOptions{}, &clock);
  BOOST_TEST(log.status().code() == StatusCode::kNotFound);
  BOOST_TEST(log.status().message().find("tacet init") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_batch_reads_its_own_projection_writes) {
  test::TempDir dir;
  ManualClock clock(1'000);
  EventLogOptions o;
  o.create_if_missing = true;
  o.projection_families = {"p_test"};
  auto opened = EventLog::Open(dir.path(), o, &clock);
  BOOST_TEST_REQUIRE(opened.ok(), opened.status().ToString());
  EventLog& log = **opened;
  const int f = log.FamilyIndex("p_test");
  BOOST_TEST_REQUIRE(f == 0);
  const Actor actor{"tester", "", "event_log_tests"};
  {
    auto b = log.NewBatch(actor);
    BOOST_TEST_REQUIRE(b.ok());
    b->Add(Number(0));
    b->Put(f, "stored", "old");
    BOOST_TEST_REQUIRE(log.Commit(std::move(b).value()).ok());
  }
  auto b = log.NewBatch(actor);
  BOOST_TEST_REQUIRE(b.ok());
  b->Add(Number(1));
  b->Put(f, "mine", "written before the prefetch");
  BOOST_TEST_REQUIRE(b->Prefetch(f, {"absent", "mine", "stored"}).ok());
  auto get = [&](std::string_view key) {
    auto v = b->Get(f, key);
    BOOST_TEST_REQUIRE(v.ok());
    return *v;
  };
  BOOST_TEST(get("stored").value_or("-") == "old");
  BOOST_TEST(!get("absent").has_value());
  BOOST_TEST(get("mine").value_or("-") == "written before the prefetch");
  b->Put(f, "stored", "new");
  b->Put(f, "absent", "");
  BOOST_TEST(get("stored").value_or("-") == "new");
  BOOST_TEST(get("absent").value_or("-") == "");
  // Enough keys to grow the batch's view many times over.
  auto key = [](int i) {
    std::string k = std::to_string(i);
    k.insert(k.begin(), 'k');  // "k" + to_string trips g++ 12's -Wrestrict
    return k;
  };
  for (int i = 0; i < 20'000; ++i) b->Put(f, key(i), std::to_string(i * 7));
  for (int i = 0; i < 20'000; i += 997) BOOST_TEST(*get(key(i)) == std::to_string(i * 7));
  BOOST_TEST(get("stored").value_or("-") == "new");
  // Nothing reaches the store before the commit.
  BOOST_TEST(log.Get(f, "stored")->value_or("-") == "old");
  BOOST_TEST_REQUIRE(log.Commit(std::move(b).value()).ok());
  BOOST_TEST(log.Get(f, "stored")->value_or("-") == "new");
  BOOST_TEST(log.Get(f, "absent")->value_or("-") == "");
  BOOST_TEST(log.Get(f, "k19999")->value_or("-") == std::to_string(19999 * 7));
}

BOOST_AUTO_TEST_CASE(the_in_memory_mirror_answers_as_the_store_does) {
  test::TempDir dir;
  ManualClock clock(1'000);
  const Actor actor{"tester", "", "event_log_tests"};
  EventLogOptions o;
  o.create_if_missing = true;
  o.sync = false;
  o.projection_families = {"p_test"};
  auto key = [](int i) {
    std::string k = std::to_string(i);
    k.insert(k.begin(), 'k');
    return k;
  };
  // Value of key i written in round r: "i:r" padded, so that the rounds
  // below supersede far more than the live bytes (the mirror compacts).
  auto value = [](int i, int r) {
    std::string v = std::to_string(i) + ":" + std::to_string(r);
    v.resize(600, '.');
    return v;
  };
  std::map<std::string, std::string> model;
  uint64_t events = 0;
  {
    auto opened = EventLog::Open(dir.path(), o, &clock);  // no mirror
    BOOST_TEST_REQUIRE(opened.ok(), opened.status().ToString());
    auto b = (*opened)->NewBatch(actor);
    BOOST_TEST_REQUIRE(b.ok());
    b->Add(Number(events++));
    for (int i = 0; i < 500; ++i) b->Put(0, key(i), model[key(i)] = value(i, 0));
    b->Put(0, "before-the-mirror", "x");
    BOOST_TEST_REQUIRE((*opened)->Commit(std::move(b).value()).ok());
  }
  o.mirror_projections = true;
  auto opened = EventLog::Open(dir.path(), o, &clock);
  BOOST_TEST_REQUIRE(opened.ok(), opened.status().ToString());
  EventLog& log = **opened;
  // What the store held before: loaded on open.
  BOOST_TEST(log.Get(0, "before-the-mirror")->value_or("-") == "x");
  BOOST_TEST(log.Get(0, key(3))->value_or("-") == value(3, 0));

  // A reader never sees a key go back to an older round.
  std::atomic<bool> stop{false};
  std::atomic<int> regressions{0}, reads{0};
  std::thread reader([&] {
    std::vector<std::string> keys;
    for (int i = 500; i < 2500; i += 7) keys.push_back(key(i));
    std::map<std::string, int> seen;
    while (!stop) {
      Status st = log.MultiGet(0, keys, [&](size_t i, std::string_view v) {
        int round = std::stoi(std::string(v.substr(v.find(':') + 1)));
        if (v.substr(0, v.find(':')) != keys[i].substr(1) || round < seen[keys[i]]) ++regressions;
        seen[keys[i]] = round;
      });
      if (!st.ok()) ++regressions;
      ++reads;
    }
  });
  std::mt19937 rng(7);
  for (int r = 1; r <= 120; ++r) {
    auto b = log.NewBatch(actor);
    BOOST_TEST_REQUIRE(b.ok());
    b->Add(Number(events++));
    std::vector<std::string> prefetch;
    for (int j = 0; j < 400; ++j) {
      int i = static_cast<int>(500 + rng() % 2000);  // the first 500 keys stay as loaded
      b->Put(0, key(i), model[key(i)] = value(i, r));
      // Reads join the batch's view, and so the mirror, too: of keys no
      // round writes, so that they cannot mend what a bad compaction lost.
      prefetch.push_back(key(static_cast<int>(2500 + rng() % 500)));
    }
    BOOST_TEST_REQUIRE(b->Prefetch(0, prefetch).ok());
    BOOST_TEST_REQUIRE(log.Commit(std::move(b).value()).ok());
    if (r % 40 == 0) {
      // A batch the log refuses (prepared on an older head) changes nothing.
      auto stale = log.NewBatch(actor);
      auto winner = log.NewBatch(actor);
      BOOST_TEST_REQUIRE((stale.ok() && winner.ok()));
      stale->Add(Number(events));
      stale->Put(0, key(1), "lost");
      stale->Put(0, "only-in-the-stale-batch", "lost");
      winner->Add(Number(events++));
      BOOST_TEST_REQUIRE(log.Commit(std::move(winner).value()).ok());
      BOOST_TEST(log.Commit(std::move(stale).value()).code() == StatusCode::kFailedPrecondition);
      BOOST_TEST(!log.Get(0, "only-in-the-stale-batch")->has_value());
    }
  }
  stop = true;
  reader.join();
  BOOST_TEST(regressions == 0);
  BOOST_TEST(reads > 0);

  auto check_all = [&](EventLog& l) {
    std::vector<std::string> keys;
    for (int i = 0; i < 3000; ++i) keys.push_back(key(i));
    std::vector<std::optional<std::string>> got;
    BOOST_TEST_REQUIRE(l.MultiGet(0, keys, &got).ok());
    size_t wrong = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      auto it = model.find(keys[i]);
      std::optional<std::string> want;
      if (it != model.end()) want = it->second;
      wrong += got[i] != want;
      if (i % 101 == 0) wrong += *l.Get(0, keys[i]) != want;
    }
    BOOST_TEST(wrong == 0u);
  };
  check_all(log);
  opened->reset();
  o.mirror_projections = false;
  auto plain = EventLog::Open(dir.path(), o, &clock);
  BOOST_TEST_REQUIRE(plain.ok());
  check_all(**plain);  // the store holds what the mirror answered
  plain->reset();
  o.mirror_projections = true;
  auto again = EventLog::Open(dir.path(), o, &clock);
  BOOST_TEST_REQUIRE(again.ok());
  check_all(**again);
  // Dropped projections are dropped from the mirror too.
  BOOST_TEST_REQUIRE((*again)->ResetProjections().ok());
  BOOST_TEST(!(*again)->Get(0, key(1))->has_value());
}

BOOST_AUTO_TEST_CASE(payloads_round_trip_canonically) {
  RegistryResult r{7,     "it-rpo",      CountingId(), RegistryOutcome::kCleared,
                   20696, 1788127200000, 1789423200000};
  std::string bytes = EncodePayload(r);
  auto back = DecodePayload(PayloadType::kRegistryResult, 1, bytes);
  BOOST_TEST_REQUIRE(back.ok());
  BOOST_TEST(EncodePayload(*back) == bytes);
  BOOST_TEST(std::get<RegistryResult>(*back).valid_until == 1789423200000);
  BOOST_TEST(!DecodePayload(PayloadType::kRegistryResult, 1, bytes + "x").ok());
  BOOST_TEST(!DecodePayload(PayloadType::kRegistryResult, 2, bytes).ok());
  BOOST_TEST(!DecodePayload(PayloadType::kRegistryResult, 1, bytes.substr(0, 10)).ok());
}

// core/FORMAT.md's layout of registry_defined (type 14), byte for byte.
BOOST_AUTO_TEST_CASE(a_registry_definition_encodes_as_documented) {
  RegistryDefined d;
  d.name = "it-rpo";
  d.kind = RegistryKind::kRoundTrip;
  d.layout = "it-rpo";
  d.regions = {"IT"};
  d.channels = MaskOf(Channel::kVoice) | MaskOf(Channel::kSms);
  d.time_zone = "Europe/Rome";
  d.validity_days = 15;
  d.overdue_days = 2;
  d.file_prefix = "crm";
  d.max_lines = 1000000;
  // clang-format off
  const std::string expected =
      "01"                                 // cereal's endianness flag: little
      "06000000" "69742d72706f"            // name "it-rpo"
      "01"                                 // kind: round trip
      "06000000" "69742d72706f"            // layout "it-rpo"
      "01000000" "02000000" "4954"         // regions: ["IT"]
      "06"                                 // channels: voice (bit 2) and SMS (bit 4)
      "0b000000" "4575726f70652f526f6d65"  // time_zone "Europe/Rome"
      "0f000000"                           // validity_days 15
      "02000000"                           // overdue_days 2
      "03000000" "63726d"                  // file_prefix "crm"
      "40420f0000000000"                   // max_lines 1,000,000
      "00";                                // retired: no
  // clang-format on
  const std::string bytes = EncodePayload(d);
  BOOST_TEST(ToHex(bytes) == expected);
  auto back = DecodePayload(PayloadType::kRegistryDefined, 1, bytes);
  BOOST_TEST_REQUIRE(back.ok(), back.status().ToString());
  BOOST_TEST((std::get<RegistryDefined>(*back) == d));
  std::string bad_kind = bytes;
  bad_kind[1 + 4 + 6] = 3;
  BOOST_TEST(DecodePayload(PayloadType::kRegistryDefined, 1, bad_kind).status().message() ==
             "registry_defined: kind 3 (only 1 or 2)");
}

BOOST_AUTO_TEST_CASE(a_bool_or_an_enum_outside_its_documented_set_is_refused) {
  ReturnImported r{7, "it-rpo", "f.txt", Hash256{}, 20696, ReturnLayout::kStatus, 9, 1, 15, true};
  std::string bytes = EncodePayload(r);
  BOOST_TEST_REQUIRE(bytes.back() == '\x01');  // supersedes, the last field
  BOOST_TEST(DecodePayload(PayloadType::kReturnImported, 1, bytes).ok());
  bytes.back() = 2;
  auto two = DecodePayload(PayloadType::kReturnImported, 1, bytes);
  BOOST_TEST(!two.ok());
  BOOST_TEST(two.status().message().find("a bool of 2 (only 0 or 1)") != std::string::npos,
             two.status().message());
  RegistryResult rr{7, "it-rpo", CountingId(), RegistryOutcome::kCleared, 20696, 1, 2};
  std::string rb = EncodePayload(rr);
  const size_t outcome_at = 1 + 8 + 4 + 6 + 32;
  BOOST_TEST_REQUIRE(rb[outcome_at] == '\x01');
  rb[outcome_at] = 3;
  auto three = DecodePayload(PayloadType::kRegistryResult, 1, rb);
  BOOST_TEST(!three.ok());
  BOOST_TEST(three.status().message().find("outcome 3 (only 1 or 2)") != std::string::npos,
             three.status().message());
  Blocked none{CountingId(), 0, "request", {"sealed"}};
  auto empty_mask = DecodePayload(PayloadType::kBlocked, 1, EncodePayload(none));
  BOOST_TEST(empty_mask.status().message().find("channel mask 0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(payload_bytes_follow_the_format_document) {
  // core/FORMAT.md: an endianness byte 0x01, then the fields in order,
  // integers little-endian, strings as u32 length and bytes.
  std::string want;
  auto le = [&](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) want.push_back(static_cast<char>(v >> (8 * i) & 0xff));
  };
  auto str = [&](std::string_view s) {
    le(s.size(), 4);
    want.append(s);
  };
  le(1, 1);
  le(7, 8);
  str("it-rpo");
  for (int i = 0; i < 32; ++i) le(i, 1);  // the SubjectId: 32 raw bytes, no length
  le(1, 1);                               // cleared
  le(20696, 4);
  le(1788127200000, 8);
  le(1789423200000, 8);
  RegistryResult r{7,     "it-rpo",      CountingId(), RegistryOutcome::kCleared,
                   20696, 1788127200000, 1789423200000};
  BOOST_TEST(ToHex(EncodePayload(r)) == ToHex(want));
  // A sealed field is a length and its bytes, whatever they are.
  want.clear();
  le(1, 1);
  for (int i = 0; i < 32; ++i) le(i, 1);
  le(0x06, 1);
  str("robinson");
  str(std::string("\x00\xff\x10", 3));
  Blocked b{CountingId(), 0x06, "robinson", {std::string("\x00\xff\x10", 3)}};
  BOOST_TEST(ToHex(EncodePayload(b)) == ToHex(want));
  // Persons (types 20-23): ids are 32 raw bytes each.
  PersonId other{};
  other.fill(0xab);
  want.clear();
  le(1, 1);
  for (int i = 0; i < 32; ++i) le(i, 1);     // subject
  for (int i = 0; i < 32; ++i) le(0xab, 1);  // person
  str("s");
  BOOST_TEST(ToHex(EncodePayload(PersonLinked{CountingId(), other, {"s"}})) == ToHex(want));
  want.clear();
  le(1, 1);
  for (int i = 0; i < 32; ++i) le(0xab, 1);  // into
  for (int i = 0; i < 32; ++i) le(i, 1);     // from
  BOOST_TEST(ToHex(EncodePayload(PersonsMerged{other, CountingId()})) == ToHex(want));
  BOOST_TEST(ToHex(EncodePayload(PersonsSplit{other, CountingId()})) == ToHex(want));
  // Indexed under the subject and the person, or under both persons.
  std::vector<SubjectId> ids;
  SubjectsOf(PersonLinked{CountingId(), other, {"s"}}, &ids);
  BOOST_TEST((ids == std::vector<SubjectId>{CountingId(), other}));
  ids.clear();
  SubjectsOf(PersonsMerged{other, CountingId()}, &ids);
  BOOST_TEST((ids == std::vector<SubjectId>{other, CountingId()}));
}

BOOST_AUTO_TEST_CASE(unblocked_version_2_lists_sources_and_lifted_blocks_version_1_still_reads) {
  std::string v2, v1;
  auto le = [](std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i) & 0xff));
  };
  auto str = [&](std::string& out, std::string_view s) {
    le(out, s.size(), 4);
    out.append(s);
  };
  // core/FORMAT.md, payload 11 version 2.
  le(v2, 1, 1);
  for (int i = 0; i < 32; ++i) le(v2, i, 1);
  le(v2, 0x06, 1);  // voice and SMS
  le(v2, 1, 4);
  str(v2, "call_outcome");
  le(v2, 2, 4);
  le(v2, 5, 8);
  le(v2, 9, 8);
  str(v2, "m.bianchi");
  str(v2, "sealed bytes");
  Unblocked u{CountingId(), 0x06, {"call_outcome"}, {5, 9}, "m.bianchi", {"sealed bytes"}};
  BOOST_TEST(ToHex(EncodePayload(u)) == ToHex(v2));
  auto back = DecodePayload(PayloadType::kUnblocked, 2, v2);
  BOOST_TEST_REQUIRE(back.ok(), back.status().ToString());
  BOOST_TEST(std::get<Unblocked>(*back).lifted == (std::vector<uint64_t>{5, 9}));

  // Version 1 (no lists) decodes with both lists empty: it lifted every
  // earlier block on its channels.
  le(v1, 1, 1);
  for (int i = 0; i < 32; ++i) le(v1, i, 1);
  le(v1, 0x1e, 1);
  str(v1, "m.bianchi");
  str(v1, "sealed bytes");
  auto old = DecodePayload(PayloadType::kUnblocked, 1, v1);
  BOOST_TEST_REQUIRE(old.ok(), old.status().ToString());
  BOOST_TEST(std::get<Unblocked>(*old).officer == "m.bianchi");
  BOOST_TEST(std::get<Unblocked>(*old).sealed.bytes == "sealed bytes");
  BOOST_TEST((std::get<Unblocked>(*old).subject == CountingId()));
  BOOST_TEST(std::get<Unblocked>(*old).lifted.empty());
  BOOST_TEST(std::get<Unblocked>(*old).sources.empty());
  BOOST_TEST(!DecodePayload(PayloadType::kUnblocked, 3, v2).ok());

  // A length beyond the bytes left is refused before anything is sized by
  // it: 4,294,967,295 lifted seqs would be 32 GiB.
  std::string huge = v2.substr(0, 1 + 32 + 1 + 4 + 4 + 12);
  le(huge, 0xffffffff, 4);
  auto refused = DecodePayload(PayloadType::kUnblocked, 2, huge);
  BOOST_TEST(!refused.ok());
  BOOST_TEST(refused.status().message().find("a length of 4294967295") != std::string::npos,
             refused.status().message());
}

// Issue 18: frequency_cap_defined version 2 ends with `per`; version 1
// still reads, counting per subject. person_blocked and person_unblocked
// (24, 25) byte for byte, as core/FORMAT.md lists them.
BOOST_AUTO_TEST_CASE(caps_per_person_and_person_blocks_have_known_bytes) {
  std::string v2, v1;
  auto le = [](std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i) & 0xff));
  };
  auto str = [&](std::string& out, std::string_view s) {
    le(out, s.size(), 4);
    out.append(s);
  };
  auto cap_fields = [&](std::string& out) {
    le(out, 1, 1);
    str(out, "fl-3");
    le(out, 1, 4);
    str(out, "US");
    le(out, 0, 4);     // every campaign
    le(out, 0x02, 1);  // voice
    le(out, 3, 4);     // max_attempts
    le(out, 24, 4);    // window_hours
    le(out, 0, 4);     // cool_down_hours
    le(out, 0, 1);     // waived_by_consent
    le(out, 0, 1);     // retired
  };
  cap_fields(v2);
  le(v2, 2, 1);  // per person
  FrequencyCapDefined cap;
  cap.name = "fl-3";
  cap.regions = {"US"};
  cap.channels = 0x02;
  cap.max_attempts = 3;
  cap.window_hours = 24;
  cap.per = CapScope::kPerson;
  BOOST_TEST(ToHex(EncodePayload(cap)) == ToHex(v2));
  auto back = DecodePayload(PayloadType::kFrequencyCapDefined, 2, v2);
  BOOST_TEST_REQUIRE(back.ok(), back.status().ToString());
  BOOST_TEST((std::get<FrequencyCapDefined>(*back) == cap));
  cap_fields(v1);
  auto old = DecodePayload(PayloadType::kFrequencyCapDefined, 1, v1);
  BOOST_TEST_REQUIRE(old.ok(), old.status().ToString());
  BOOST_TEST((std::get<FrequencyCapDefined>(*old).per == CapScope::kSubject));
  BOOST_TEST(std::get<FrequencyCapDefined>(*old).max_attempts == 3u);
  std::string bad = v2;
  bad.back() = 3;  // per 3: none
  BOOST_TEST(!DecodePayload(PayloadType::kFrequencyCapDefined, 2, bad).ok());

  std::string blocked, unblocked;
  le(blocked, 1, 1);
  for (int i = 0; i < 32; ++i) le(blocked, i, 1);  // person
  le(blocked, 0x1e, 1);                            // every channel
  str(blocked, "objection");
  str(blocked, "sealed");
  BOOST_TEST(ToHex(EncodePayload(PersonBlocked{CountingId(), 0x1e, "objection", {"sealed"}})) ==
             ToHex(blocked));
  le(unblocked, 1, 1);
  for (int i = 0; i < 32; ++i) le(unblocked, i, 1);
  le(unblocked, 0x02, 1);
  le(unblocked, 1, 4);
  le(unblocked, 7, 8);
  str(unblocked, "dpo");
  str(unblocked, "sealed");
  BOOST_TEST(ToHex(EncodePayload(PersonUnblocked{CountingId(), 0x02, {7}, "dpo", {"sealed"}})) ==
             ToHex(unblocked));
  // Indexed under the person; sealed under the person's key.
  std::vector<SubjectId> ids;
  const Payload p = PersonBlocked{CountingId(), 0x1e, "objection", {"sealed"}};
  SubjectsOf(p, &ids);
  BOOST_TEST((ids == std::vector<SubjectId>{CountingId()}));
  BOOST_TEST(SubjectOf(p) == nullptr);
  BOOST_TEST((*KeyOwnerOf(p) == CountingId()));
  std::string no_channel = blocked;
  no_channel[33] = 0;
  BOOST_TEST(!DecodePayload(PayloadType::kPersonBlocked, 1, no_channel).ok());
}

// Issue 18: caller_registered, campaign_defined, list_registered,
// list_member and subject_reassigned (26-30) byte for byte, as core/FORMAT.md lists them; and
// contact_attempted version 2, whose flags may hold 2 (an unregistered
// caller id), which a version-1 payload may not.
BOOST_AUTO_TEST_CASE(provenance_events_and_attempt_flags_have_known_bytes) {
  std::string want;
  auto le = [&](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) want.push_back(static_cast<char>(v >> (8 * i) & 0xff));
  };
  auto str = [&](std::string_view s) {
    le(s.size(), 4);
    want.append(s);
  };
  le(1, 1);
  str("+390212345678");
  str("WINTER26");
  str("ROC-12345");
  le(1796079600000, 8);  // 2026-12-01 00:00 Rome
  le(0, 8);              // no end
  le(0, 1);              // not retired
  CallerRegistered caller{"+390212345678", "WINTER26", "ROC-12345", 1796079600000, 0, false};
  BOOST_TEST(ToHex(EncodePayload(caller)) == ToHex(want));
  auto back = DecodePayload(PayloadType::kCallerRegistered, 1, want);
  BOOST_TEST_REQUIRE(back.ok(), back.status().ToString());
  BOOST_TEST((std::get<CallerRegistered>(*back) == caller));
  // valid_to must come after valid_from.
  std::string ends_before = want;
  ends_before[ends_before.size() - 9] = 1;  // valid_to 1 ms after the epoch
  BOOST_TEST(!DecodePayload(PayloadType::kCallerRegistered, 1, ends_before).ok());

  want.clear();
  le(1, 1);
  str("WINTER26");
  str("Winter offers");
  str("Acme Energia SpA");
  str("marketing");
  le(1, 1);  // requires provenance
  le(0, 1);
  CampaignDefined campaign{"WINTER26", "Winter offers", "Acme Energia SpA", "marketing", true,
                           false};
  BOOST_TEST(ToHex(EncodePayload(campaign)) == ToHex(want));

  want.clear();
  le(1, 1);
  le(3, 8);  // list_id
  str("WINTER26");
  str("Lead Co Srl");
  le(20777, 4);  // 2026-11-20
  str("supplier_consent");
  str("");
  str("leads.csv");
  for (int i = 0; i < 32; ++i) le(0xcd, 1);
  le(1000000, 8);
  Hash256 sha{};
  sha.fill(0xcd);
  ListRegistered list{3,  "WINTER26",  "Lead Co Srl", 20777,  "supplier_consent",
                      "", "leads.csv", sha,           1000000};
  BOOST_TEST(ToHex(EncodePayload(list)) == ToHex(want));

  want.clear();
  le(1, 1);
  le(3, 8);
  for (int i = 0; i < 32; ++i) le(i, 1);
  BOOST_TEST(ToHex(EncodePayload(ListMember{3, CountingId()})) == ToHex(want));
  std::vector<SubjectId> ids;
  SubjectsOf(ListMember{3, CountingId()}, &ids);
  BOOST_TEST((ids == std::vector<SubjectId>{CountingId()}));

  // subject_reassigned (30).
  want.clear();
  le(1, 1);
  for (int i = 0; i < 32; ++i) le(i, 1);
  le(20701, 4);          // 2026-09-05
  le(1788559200000, 8);  // its start in Rome
  str("note");
  BOOST_TEST(ToHex(EncodePayload(
                 SubjectReassigned{CountingId(), 20701, 1788559200000, {"note"}})) == ToHex(want));

  // contact_attempted: the same fields at versions 1 and 2; flag 2 only at 2.
  ContactAttempted a;
  a.subject = CountingId();
  a.started_at = 1796130000000;
  a.outcome = "no_answer";
  a.campaign = "WINTER26";
  a.caller_id = "0211111111";
  a.verdict = StoredVerdict::kAllow;
  a.flags = kAttemptNoPriorCheck | kAttemptUnregisteredCaller;
  const std::string bytes = EncodePayload(a);
  BOOST_TEST(static_cast<uint8_t>(bytes[bytes.size() - 5]) == 3u);  // flags, then sealed's length
  BOOST_TEST(DecodePayload(PayloadType::kContactAttempted, 2, bytes).ok());
  auto v1 = DecodePayload(PayloadType::kContactAttempted, 1, bytes);
  BOOST_TEST(!v1.ok());
  BOOST_TEST(v1.status().message().find("only version 2") != std::string::npos,
             v1.status().message());
  a.flags = kAttemptNoPriorCheck;
  BOOST_TEST(DecodePayload(PayloadType::kContactAttempted, 1, EncodePayload(a)).ok());
  a.flags = 4;  // no such flag
  BOOST_TEST(!DecodePayload(PayloadType::kContactAttempted, 2, EncodePayload(a)).ok());
}

// leveldb's rule: after a failed sync nothing more is written, synced or
// signed until the log is reopened, whoever hosts it (the daemon syncs once
// per group; the CLI syncs every commit).
BOOST_AUTO_TEST_CASE(a_failed_wal_sync_is_sticky_until_reopened) {
  test::TempDir dir;
  const Clock* clock = SystemClock::Default();
  for (bool sync_each_commit : {false, true}) {
    const std::string path = dir / (sync_each_commit ? "cli" : "daemon");
    auto fail = std::make_shared<std::atomic<bool>>(false);
    auto syncs_tried = std::make_shared<std::atomic<int>>(0);
    EventLogOptions o;
    o.create_if_missing = true;
    o.sync = sync_each_commit;
    o.fail_wal_sync = [fail, syncs_tried] {
      ++*syncs_tried;
      return fail->load();
    };
    {
      auto log = EventLog::Open(path, o, clock);
      BOOST_TEST_REQUIRE(log.ok(), log.status().ToString());
      AppendNumbers(**log, 3);
      BOOST_TEST_REQUIRE((*log)->SyncWal().ok());
      fail->store(true);
      Status failed;
      if (sync_each_commit) {
        auto batch = (*log)->NewBatch(Actor{"tester", "", "event_log_tests"});
        BOOST_TEST_REQUIRE(batch.ok());
        batch->Add(Number(99));
        failed = (*log)->Commit(std::move(batch).value());
      } else {
        AppendNumbers(**log, 1);
        failed = (*log)->SyncWal();
      }
      BOOST_TEST(failed.code() == StatusCode::kIOError, failed.ToString());
      BOOST_TEST(failed.message().find("injected WAL sync failure") != std::string::npos);
      // The disk is back; the log still refuses, without asking RocksDB.
      fail->store(false);
      const int tried = syncs_tried->load();
      BOOST_TEST((*log)->sticky_error().code() == StatusCode::kIOError);
      BOOST_TEST((*log)->SyncWal().code() == StatusCode::kIOError);
      BOOST_TEST(!(*log)->NewBatch(Actor{"tester", "", "event_log_tests"}).ok());
      BOOST_TEST((*log)->FlushProjections().code() == StatusCode::kIOError);
      BOOST_TEST(syncs_tried->load() == tried);
      // Reads are still served.
      BOOST_TEST((*log)->head().seq >= 3u);
    }
    // Reopened: writes again, and the chain verifies.
    EventLogOptions plain;
    auto again = EventLog::Open(path, plain, clock);
    BOOST_TEST_REQUIRE(again.ok(), again.status().ToString());
    BOOST_TEST((*again)->sticky_error().ok());
    const uint64_t head = (*again)->head().seq;
    BOOST_TEST(head >= 3u);
    AppendNumbers(**again, 1);
    BOOST_TEST((*again)->head().seq == head + 1);
    BOOST_TEST((*again)->Verify().ok);
  }
}

BOOST_AUTO_TEST_SUITE_END()
