// The data key store: keys made once per subject and durable, and a
// destroyed key gone from every file of the store, whether it was still in
// the WAL and memtable or already in SST files.
#define BOOST_TEST_MODULE key_store_tests
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>

#include "tacet/core/key_store.h"
#include "test_util.h"

using namespace tacet;

namespace {

SubjectId Id(int i) { return Sha256("subject " + std::to_string(i)); }

std::unique_ptr<KeyStore> Open(const std::string& dir) {
  auto s = KeyStore::Open(dir, KeyStoreOptions{true, false});
  BOOST_TEST_REQUIRE(s.ok(), s.status().ToString());
  return std::move(s).value();
}

// The files under `dir` whose bytes contain `needle`.
std::vector<std::string> FilesHolding(const std::string& dir, std::string_view needle) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    if (test::ReadText(e.path().string()).find(needle) != std::string::npos)
      out.push_back(e.path().filename().string());
  }
  return out;
}

std::string_view Bytes(const DataKey& k) {
  return {reinterpret_cast<const char*>(k.data()), k.size()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(key_store_tests)

BOOST_AUTO_TEST_CASE(one_key_per_subject_made_once_and_kept) {
  test::TempDir dir;
  std::vector<SubjectId> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(Id(i % 600));  // 400 named twice
  std::vector<DataKey> first;
  {
    auto store = Open(dir / "keys");
    auto made = store->GetOrCreate(ids);
    BOOST_TEST_REQUIRE(made.ok());
    first = *made;
    BOOST_TEST((first[0] == first[600]));  // the same subject, the same key
    BOOST_TEST((first[0] != first[1]));
    BOOST_TEST(store->Count().value() == 600u);
  }
  auto store = Open(dir / "keys");
  auto again = store->GetOrCreate(ids);
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST((*again == first));
  BOOST_TEST(store->Count().value() == 600u);
  BOOST_TEST((store->Get(Id(5)).value() == first[5]));
  BOOST_TEST(!store->Get(Id(9999)).value().has_value());
}

BOOST_AUTO_TEST_CASE(a_destroyed_key_is_in_no_file) {
  test::TempDir dir;
  const std::string path = dir / "keys";
  std::vector<SubjectId> ids;
  for (int i = 0; i < 5000; ++i) ids.push_back(Id(i));
  DataKey old_key, fresh_key, kept_key;
  {
    auto store = Open(path);
    auto keys = store->GetOrCreate(ids);
    BOOST_TEST_REQUIRE(keys.ok());
    old_key = (*keys)[17];
    kept_key = (*keys)[18];
  }
  // Reopened: the keys went from the WAL into an SST file.
  auto store = Open(path);
  auto fresh = store->GetOrCreate(std::vector<SubjectId>{Id(100000)});
  BOOST_TEST_REQUIRE(fresh.ok());
  fresh_key = (*fresh)[0];  // only in the WAL and the memtable
  BOOST_TEST(!FilesHolding(path, Bytes(old_key)).empty());
  BOOST_TEST(!FilesHolding(path, Bytes(fresh_key)).empty());

  BOOST_TEST_REQUIRE(store->Destroy(Id(17)).ok());
  BOOST_TEST_REQUIRE(store->Destroy(Id(100000)).ok());
  const std::vector<std::string> holding = FilesHolding(path, Bytes(old_key));
  BOOST_TEST(holding.empty(), "still in " << (holding.empty() ? "" : holding.front()));
  BOOST_TEST(FilesHolding(path, Bytes(fresh_key)).empty());
  BOOST_TEST(!FilesHolding(path, Bytes(kept_key)).empty());
  BOOST_TEST(!store->Get(Id(17)).value().has_value());
  BOOST_TEST((store->Get(Id(18)).value() == kept_key));
  BOOST_TEST((store->Destroy(Id(17)).code() == StatusCode::kNotFound));
  store.reset();
  store = Open(path);
  BOOST_TEST(!store->Get(Id(17)).value().has_value());
  BOOST_TEST(store->Count().value() == 4999u);
  // A subject met again later gets a new key.
  auto renewed = store->GetOrCreate(std::vector<SubjectId>{Id(17)});
  BOOST_TEST_REQUIRE(renewed.ok());
  BOOST_TEST(((*renewed)[0] != old_key));
}

// A contact import's keys: made in memory, written together by Finish (a
// table file ingested when they are many), one per subject, and found by
// GetSorted's walk as by Get.
BOOST_AUTO_TEST_CASE(a_bulk_makes_one_key_per_subject_and_writes_them_together) {
  test::TempDir dir;
  for (const int n : {10, 20000}) {  // one write; a table file
    const std::string path = dir / ("keys-" + std::to_string(n));
    auto store = Open(path);
    const DataKey before = store->GetOrCreate(std::vector<SubjectId>{Id(0)}).value()[0];
    std::vector<SubjectId> ids;
    for (int i = 0; i < n; ++i) ids.push_back(Id(i));
    std::vector<DataKey> first, again;
    {
      auto bulk = store->StartBulk().value();
      first = bulk->GetOrCreate(ids).value();
      again = bulk->GetOrCreate(std::vector<SubjectId>{Id(n - 1), Id(0)}).value();
      BOOST_TEST(first[0] == before);        // the store's key stays
      BOOST_TEST(again[0] == first[n - 1]);  // made once
      BOOST_TEST(again[1] == before);
      BOOST_TEST(!store->Get(Id(n - 1)).value().has_value());  // not written yet
      BOOST_TEST_REQUIRE(bulk->Finish().ok());
    }
    BOOST_TEST(store->Count().value() == static_cast<uint64_t>(n));
    std::vector<SubjectId> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    sorted.push_back(Id(n + 1));  // never made
    std::vector<std::optional<DataKey>> walked;
    BOOST_TEST_REQUIRE(store->GetSorted(sorted, &walked).ok());
    BOOST_TEST(!walked.back().has_value());
    for (size_t i = 0; i + 1 < sorted.size(); i += 97)
      BOOST_TEST((walked[i] == store->Get(sorted[i]).value()), i);
    store.reset();
    store = Open(path);  // durable
    BOOST_TEST((store->Get(Id(n - 1)).value() == first[n - 1]));
    BOOST_TEST(!std::filesystem::exists(std::filesystem::path(path) / "bulk-keys.sst.tmp"));
  }
  // An unfinished bulk writes nothing; a crash's leftover file is removed.
  const std::string path = dir / "keys-unfinished";
  auto store = Open(path);
  {
    auto bulk = store->StartBulk().value();
    (void)bulk->GetOrCreate(std::vector<SubjectId>{Id(1), Id(2)}).value();
  }
  BOOST_TEST(store->Count().value() == 0u);
  store.reset();
  test::WriteText(path + "/bulk-keys.sst.tmp", "left by a crash");
  store = Open(path);
  BOOST_TEST(!std::filesystem::exists(path + "/bulk-keys.sst.tmp"));
}

BOOST_AUTO_TEST_CASE(a_read_only_store_reads_and_refuses_writes) {
  test::TempDir dir;
  DataKey k;
  {
    auto store = Open(dir / "keys");
    k = store->GetOrCreate(std::vector<SubjectId>{Id(1)}).value()[0];
  }
  auto ro = KeyStore::Open(dir / "keys", KeyStoreOptions{false, true});
  BOOST_TEST_REQUIRE(ro.ok(), ro.status().ToString());
  BOOST_TEST(((*ro)->Get(Id(1)).value() == k));
  BOOST_TEST((*ro)->GetOrCreate(std::vector<SubjectId>{Id(2)}).status().code() ==
             StatusCode::kFailedPrecondition);
  BOOST_TEST((*ro)->Destroy(Id(1)).code() == StatusCode::kFailedPrecondition);
  auto missing = KeyStore::Open(dir / "none", KeyStoreOptions{});
  BOOST_TEST(!missing.ok());
}

BOOST_AUTO_TEST_SUITE_END()
