// Group commit below the ledger (issue 16): writes submitted while a group
// executes go together into the next group and share one sync; each write
// completes only once durable; the queue's bound refuses what would pass
// it; Stop completes everything submitted.
#define BOOST_TEST_MODULE group_commit_tests
#include <boost/test/unit_test.hpp>

#include "tacet/projections/group_commit.h"

#include <future>
#include <latch>
#include <mutex>

#include "projections/ledger_fixture.h"

namespace tacet {
namespace {

struct UnsyncedFixture : test::Fixture {
  UnsyncedFixture() : test::Fixture(/*sync=*/false) {}
  std::string Number(int i) { return "+39 347 " + std::to_string(2'000'000 + i); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(group_commit, UnsyncedFixture)

BOOST_AUTO_TEST_CASE(writes_queued_during_a_group_share_the_next_sync) {
  std::vector<std::pair<uint64_t, uint64_t>> appended;
  GroupCommit::Hooks hooks;
  hooks.synced = [&](const GroupCommit::Synced& s) {
    BOOST_TEST(s.durable.ok());
    appended.insert(appended.end(), s.appended.begin(), s.appended.end());
  };
  GroupCommit commits(*ledger, 1000, hooks);
  const uint64_t head = ledger->log().head().seq;
  // The first job holds the writer until the 40 others are queued: they
  // are then one group, made durable by one sync.
  std::latch started(1), queued(1);
  std::mutex mu;
  std::vector<Status> completions;
  std::vector<std::future<void>> done;
  auto job = [&](int i, bool first) {
    auto j = std::make_shared<GroupCommit::Job>();
    auto completed = std::make_shared<std::promise<void>>();
    done.push_back(completed->get_future());
    j->execute = [&, i, first] {
      if (first) {
        started.count_down();
        queued.wait();
      }
      auto r = ledger->Block({Number(i), kEveryChannel, "objection by phone", "objection"},
                             test::kOfficer);
      BOOST_TEST(r.ok(), r.status().ToString());
    };
    j->complete = [&, completed](const Status& durable) {
      {
        std::lock_guard lock(mu);
        completions.push_back(durable);
      }
      completed->set_value();
    };
    return j;
  };
  BOOST_TEST_REQUIRE(commits.Submit(job(0, true)));
  started.wait();
  for (int i = 1; i <= 40; ++i) BOOST_TEST_REQUIRE(commits.Submit(job(i, false)));
  queued.count_down();
  for (auto& f : done) f.wait();
  BOOST_TEST(completions.size() == 41u);
  for (const Status& s : completions) BOOST_TEST(s.ok());
  BOOST_TEST(ledger->log().head().seq == head + 41);
  // Two groups; the syncer may have taken both at once.
  BOOST_TEST(commits.group_commits() >= 1u);
  BOOST_TEST(commits.group_commits() <= 2u);
  BOOST_TEST_REQUIRE(appended.size() == 2u);
  BOOST_TEST(appended[0].first == head + 1);
  BOOST_TEST(appended[0].second == head + 1);
  BOOST_TEST(appended[1].first == head + 2);
  BOOST_TEST(appended[1].second == head + 41);
}

BOOST_AUTO_TEST_CASE(the_bound_refuses_what_would_pass_it_and_stop_completes_the_rest) {
  GroupCommit commits(*ledger, 10);
  std::latch release(1);
  std::atomic<int> executed{0}, completed{0};
  auto job = [&](size_t items, bool hold) {
    auto j = std::make_shared<GroupCommit::Job>();
    j->items = items;
    j->execute = [&, hold] {
      if (hold) release.wait();
      ++executed;
    };
    j->complete = [&](const Status&) { ++completed; };
    return j;
  };
  BOOST_TEST_REQUIRE(commits.Submit(job(1, true)));
  // The held job may still be queued or already taken: wait until taken.
  for (int i = 0; i < 1000 && commits.Submit(job(10, false)) == false; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  BOOST_TEST(!commits.Submit(job(1, false)));  // 10 queued: one more passes the bound
  release.count_down();
  commits.Stop();
  BOOST_TEST(executed.load() == 2);
  BOOST_TEST(completed.load() == 2);
  BOOST_TEST(!commits.Submit(job(1, false)));  // stopped
  BOOST_TEST(commits.group_commits() == 0u);   // nothing appended: nothing synced
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace tacet
