// Files named by requests: only regular files under the import directory
// (symlinks resolved), read without blocking and never on the writer
// thread; archives decompressed as a stream under a cap, one member only.
#include "tacet/daemon/server.h"

#define BOOST_TEST_MODULE request_files_tests
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <boost/test/unit_test.hpp>
#include <chrono>

#include "daemon/daemon_fixture.h"
#include "tacet/core/clock.h"
#include "tacet/core/time.h"

using namespace tacet;
using json = nlohmann::json;
using test::Daemon;

namespace {

std::string Message(const json& r) { return r["error"]["message"].get<std::string>(); }

uint64_t HeadSeq(Client& c) {
  return Daemon::Call(c, {{"id", 99}, {"op", "stats"}})["result"]["head_seq"].get<uint64_t>();
}

std::string Today() {
  return FormatDate(TimeZone::Load("Europe/Rome").value().DayOf(SystemClock::Default()->NowMs()));
}

// A zip holding `members` (name, content), made with libzip.
void WriteZipFile(const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& members) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  BOOST_REQUIRE(z != nullptr);
  for (const auto& [name, content] : members) {
    zip_source_t* src = zip_source_buffer(z, content.data(), content.size(), 0);
    BOOST_REQUIRE(zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8) >= 0);
  }
  BOOST_REQUIRE(zip_close(z) == 0);
}

// Exports `n` numbers; returns the session and its national numbers.
uint64_t ExportSession(Daemon& d, Client& c, int n) {
  std::string list;
  for (int i = 0; i < n; ++i) list += "+39347" + std::to_string(1000000 + i) + "\n";
  test::WriteText(d.inbox() + "/candidates.txt", list);
  json e = Daemon::Call(c, {{"id", 1}, {"op", "export"}, {"candidates", "candidates.txt"}});
  BOOST_REQUIRE_MESSAGE(e.contains("result"), e.dump());
  return e["result"]["sessions"][0]["session"].get<uint64_t>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(request_files_tests)

BOOST_AUTO_TEST_CASE(a_fifo_a_directory_and_a_device_are_refused_without_blocking) {
  Daemon d;
  Client c = d.Connect();
  const std::string fifo = d.inbox() + "/list.fifo";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::filesystem::create_directories(d.inbox() + "/adir");
  BOOST_REQUIRE(::symlink("/dev/zero", (d.inbox() + "/zero").c_str()) == 0);
  const uint64_t before = HeadSeq(c);
  const auto start = std::chrono::steady_clock::now();
  json r1 = Daemon::Call(c, {{"id", 1}, {"op", "block"}, {"path", "list.fifo"}, {"reason", "x"}});
  BOOST_TEST(r1["error"]["code"] == "bad_request");
  BOOST_TEST(Message(r1).find("is a FIFO; give a regular file") != std::string::npos, Message(r1));
  json r2 = Daemon::Call(c, {{"id", 2}, {"op", "export"}, {"candidates", "adir"}});
  BOOST_TEST(Message(r2).find("is a directory") != std::string::npos, Message(r2));
  json r3 =
      Daemon::Call(c, {{"id", 3}, {"op", "filter"}, {"path", "list.fifo"}, {"channel", "email"}});
  BOOST_TEST(Message(r3).find("is a FIFO") != std::string::npos, Message(r3));
  // /dev/zero lies outside the import directory once the symlink is
  // resolved: forbidden before it is opened.
  json r4 = Daemon::Call(c, {{"id", 4}, {"op", "block"}, {"path", "zero"}, {"reason", "x"}});
  BOOST_TEST(r4["error"]["code"] == "forbidden");
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(5)));
  BOOST_TEST(HeadSeq(c) == before);
}

BOOST_AUTO_TEST_CASE(a_symlink_out_of_the_import_directory_is_forbidden) {
  Daemon d;
  Client c = d.Connect();
  test::WriteText(d.dir() / "secret.txt", "+393471000001\n");
  BOOST_REQUIRE(::symlink((d.dir() / "secret.txt").c_str(), (d.inbox() + "/link.txt").c_str()) ==
                0);
  json r = Daemon::Call(c, {{"id", 1}, {"op", "block"}, {"path", "link.txt"}, {"reason", "x"}});
  BOOST_TEST(r["error"]["code"] == "forbidden");
  BOOST_TEST(Message(r).find("outside the daemon's import directory") != std::string::npos);
  // A symlink that stays inside is followed.
  test::WriteText(d.inbox() + "/real.txt", "+393471000001\n");
  BOOST_REQUIRE(::symlink("real.txt", (d.inbox() + "/inside.txt").c_str()) == 0);
  json ok = Daemon::Call(c, {{"id", 2}, {"op", "block"}, {"path", "inside.txt"}, {"reason", "x"}});
  BOOST_TEST_REQUIRE(ok.contains("result"), ok.dump());
  BOOST_TEST(ok["result"]["newly_blocked"] == 1);
}

BOOST_AUTO_TEST_CASE(a_zip_is_read_under_its_cap_and_with_one_member_only) {
  Daemon d([](Config& c) { c.ledger.policy.registries[0].max_return_bytes = 4096; });
  Client c = d.Connect();
  const uint64_t session = ExportSession(d, c, 3);
  const uint64_t before = HeadSeq(c);
  auto import = [&](const std::string& name) {
    return Daemon::Call(c, {{"id", 7},
                            {"op", "import_return"},
                            {"session", session},
                            {"received", Today()},
                            {"path", name}});
  };
  // Beyond the cap once decompressed (it compresses to a few dozen bytes).
  WriteZipFile(d.inbox() + "/big.zip", {{"ret.txt", std::string(100000, '3')}});
  json big = import("big.zip");
  BOOST_TEST(big["error"]["code"] == "bad_request");
  BOOST_TEST(Message(big).find("decompresses to more than 4096 bytes") != std::string::npos,
             Message(big));
  // Two members, even if one is a .txt.
  WriteZipFile(d.inbox() + "/two.zip", {{"ret.txt", "3471000000\r\n"}, {"notes.txt", "x"}});
  json two = import("two.zip");
  BOOST_TEST(Message(two).find("holds 2 entries") != std::string::npos, Message(two));
  // Bytes that only look like a zip.
  test::WriteText(d.inbox() + "/fake.zip", std::string("PK\x03\x04", 4) + std::string(200, '\xff'));
  json fake = import("fake.zip");
  BOOST_TEST(Message(fake).find("not a readable zip archive") != std::string::npos, Message(fake));
  // A plain return beyond the cap.
  test::WriteText(d.inbox() + "/big.txt", std::string(5000, '3'));
  json plain = import("big.txt");
  BOOST_TEST(Message(plain).find("at most 4096") != std::string::npos, Message(plain));
  BOOST_TEST(HeadSeq(c) == before);
  // The good one, zipped: imported.
  WriteZipFile(d.inbox() + "/good.zip",
               {{"ret.txt", "3471000000\r\n3471000001\r\n3471000002\r\n"}});
  json good = import("good.zip");
  BOOST_TEST_REQUIRE(good.contains("result"), good.dump());
  BOOST_TEST(good["result"]["cleared"] == 3);
}

BOOST_AUTO_TEST_CASE(reload_refuses_unknown_fields) {
  Daemon d;
  Client c = d.Connect();
  json unknown = Daemon::Call(c, {{"id", 1}, {"op", "reload"}, {"force", true}});
  BOOST_TEST(unknown["error"]["code"] == "bad_request");
  BOOST_TEST(Message(unknown) == "unknown field 'force' for reload");
  json ok = Daemon::Call(c, {{"id", 2}, {"op", "reload"}});
  BOOST_TEST(ok["result"]["reloaded"] == true);
}

BOOST_AUTO_TEST_CASE(fresh_days_beyond_range_is_refused_not_wrapped) {
  Daemon d;
  Client c = d.Connect();
  test::WriteText(d.inbox() + "/candidates.txt", "+393471000001\n");
  const uint64_t before = HeadSeq(c);
  json r = Daemon::Call(c, {{"id", 1},
                            {"op", "export"},
                            {"candidates", "candidates.txt"},
                            {"fresh_days", 4294967299ULL}});
  BOOST_TEST(r["error"]["code"] == "bad_request");
  BOOST_TEST(Message(r).find("'fresh_days' 4294967299") != std::string::npos, Message(r));
  BOOST_TEST(HeadSeq(c) == before);
}

BOOST_AUTO_TEST_SUITE_END()
