// A full disk, for real: a small tmpfs mounted in the test's own mount
// namespace (root, or an unprivileged user namespace), with the real `tacet`
// and `tacetd`. Writes are refused io_error and never acknowledged, reads are
// served (also by a tacetd started on the full disk), nothing aborts, and
// after space is freed and a restart every acknowledged write is there and
// the ledger verifies.
#define BOOST_TEST_MODULE disk_full_tests
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tacet/daemon/client.h"
#include "test_util.h"

extern char** environ;

using namespace tacet;
using json = nlohmann::json;

namespace {

void WriteProc(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) return;
  (void)!::write(fd, text.data(), text.size());
  ::close(fd);
}

// Enters a mount namespace of this process's own (as root, or as root of a
// new user namespace) and mounts a tmpfs of `kib` KiB at `dir`.
void MountSmallFs(const std::string& dir, int kib) {
  static bool entered = false;
  if (!entered) {
    const uid_t uid = ::geteuid();
    const gid_t gid = ::getegid();
    if (::unshare(CLONE_NEWNS) != 0) {
      BOOST_TEST_REQUIRE(::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0,
                         "cannot make a mount namespace for the test: " << std::strerror(errno));
      WriteProc("/proc/self/setgroups", "deny");
      WriteProc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
      WriteProc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
    }
    BOOST_TEST_REQUIRE(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
    entered = true;
  }
  std::filesystem::create_directories(dir);
  const std::string opts = "size=" + std::to_string(kib) + "k";
  BOOST_TEST_REQUIRE(::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0,
                     "mount tmpfs: " << std::strerror(errno));
}

// Fills the file system holding `dir` to its last byte.
void Fill(const std::string& dir) {
  int fd = ::open((dir + "/filler").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  BOOST_TEST_REQUIRE(fd >= 0);
  std::string block(4096, 'x');
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  while (::write(fd, block.data(), 1) > 0) {
  }
  ::close(fd);
}

// An empty config off the small file systems: no ./config/tacet.toml is
// picked up by accident.
const std::string& EmptyConfig() {
  static const std::string path = [] {
    std::string p = "/tmp/tacet-disk-full-" + std::to_string(::getpid()) + ".toml";
    test::WriteText(p, "");
    return p;
  }();
  return path;
}

struct Run {
  int status = -1;  // exit status, or 128 + signal
  std::string out, err;
};

Run Tacet(const std::string& args) {
  const std::string out = "/tmp/tacet-disk-full-" + std::to_string(::getpid());
  // An empty config: no ./config/tacet.toml is picked up by accident.
  std::string cmd = std::string(TACET_BIN) + " --config " + EmptyConfig() + " " + args + " >" +
                    out + ".out 2>" + out + ".err";
  int rc = std::system(cmd.c_str());
  Run r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
  r.out = test::ReadText(out + ".out");
  r.err = test::ReadText(out + ".err");
  return r;
}

pid_t StartDaemon(const std::string& data_dir) {
  std::string log = "/tmp/tacet-disk-full-" + std::to_string(::getpid()) + ".log";
  std::vector<std::string> args = {TACETD_BIN, "--config", EmptyConfig(), "--data-dir", data_dir};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  pid_t pid = 0;
  BOOST_TEST_REQUIRE(posix_spawn(&pid, TACETD_BIN, &fa, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

Client ConnectWhenReady(const std::string& socket) {
  for (int i = 0; i < 200; ++i) {
    auto c = Client::Connect(socket);
    if (c.ok()) return std::move(c).value();
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  BOOST_FAIL("tacetd did not come up on " << socket);
  std::abort();
}

json Call(Client& c, const json& req) {
  auto line = c.Call(req.dump());
  BOOST_TEST_REQUIRE(line.ok(), line.status().ToString());
  return json::parse(*line);
}

int Stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Number(int i) { return "+39347" + std::to_string(2000000 + i); }

}  // namespace

BOOST_AUTO_TEST_SUITE(disk_full_tests)

BOOST_AUTO_TEST_CASE(tacetd_on_a_full_disk_refuses_writes_serves_reads_and_loses_nothing) {
  test::TempDir dir;
  const std::string fs = dir / "fs", data = fs + "/d";
  MountSmallFs(fs, 8192);
  BOOST_TEST_REQUIRE(Tacet("--data-dir " + data + " init").status == 0);
  pid_t pid = StartDaemon(data);
  std::vector<std::string> acknowledged;
  {
    Client c = ConnectWhenReady(data + "/tacet.sock");
    for (int i = 0; i < 5; ++i) {
      json r = Call(c, {{"id", i}, {"op", "block"}, {"subject", Number(i)}, {"reason", "r"}});
      BOOST_TEST_REQUIRE(r.contains("result"), r.dump());
      acknowledged.push_back(Number(i));
    }
    Fill(fs);
    int refused = 0;
    for (int i = 5; i < 400 && refused < 3; ++i) {
      json r = Call(c, {{"id", i}, {"op", "block"}, {"subject", Number(i)}, {"reason", "r"}});
      if (r.contains("result")) {
        acknowledged.push_back(Number(i));
        continue;
      }
      BOOST_TEST(r["error"]["code"] == "io_error", r.dump());
      ++refused;
    }
    BOOST_TEST_REQUIRE(refused == 3);
    // Reads go on.
    json check = Call(c, {{"id", 500}, {"op", "check"}, {"subject", acknowledged.front()}});
    BOOST_TEST(check["result"]["decision"] == "deny");
    BOOST_TEST(check["result"]["reasons"][0]["code"] == "blocked");
    // Space freed: still refused until the restart (the WAL's state is unknown).
    std::filesystem::remove(fs + "/filler");
    json after = Call(c, {{"id", 501}, {"op", "block"}, {"subject", Number(999)}, {"reason", "r"}});
    BOOST_TEST(after["error"]["code"] == "io_error");
    BOOST_TEST(after["error"]["message"].get<std::string>().find("restart tacetd") !=
               std::string::npos);
  }
  const int stopped = Stop(pid);
  BOOST_TEST(stopped < 128, "tacetd died of signal " << stopped - 128);
  Run verify = Tacet("--data-dir " + data + " verify --json");
  BOOST_TEST_REQUIRE(verify.status == 0, verify.err);
  BOOST_TEST(json::parse(verify.out)["ok"] == true);
  BOOST_TEST(json::parse(verify.out)["events"].get<size_t>() == acknowledged.size());
  for (const std::string& n : acknowledged) {
    Run h = Tacet("--data-dir " + data + " history " + n + " --json");
    BOOST_TEST_REQUIRE(h.status == 0, h.err);
    BOOST_TEST(json::parse(h.out).size() == 1u, n);
  }
  // Restarted with space: writes again.
  pid = StartDaemon(data);
  {
    Client c = ConnectWhenReady(data + "/tacet.sock");
    json r = Call(c, {{"id", 1}, {"op", "block"}, {"subject", Number(999)}, {"reason", "r"}});
    BOOST_TEST(r.contains("result"), r.dump());
  }
  BOOST_TEST(Stop(pid) == 0);
}

BOOST_AUTO_TEST_CASE(tacetd_started_on_a_full_disk_serves_reads_and_refuses_writes) {
  test::TempDir dir;
  const std::string fs = dir / "fs", data = fs + "/d";
  MountSmallFs(fs, 8192);
  BOOST_TEST_REQUIRE(Tacet("--data-dir " + data + " init").status == 0);
  BOOST_TEST_REQUIRE(Tacet("--data-dir " + data + " block " + Number(1) + " --reason r").status ==
                     0);
  Fill(fs);
  pid_t pid = StartDaemon(data);
  {
    Client c = ConnectWhenReady(data + "/tacet.sock");
    json check = Call(c, {{"id", 1}, {"op", "check"}, {"subject", Number(1)}});
    BOOST_TEST(check["result"]["reasons"][0]["code"] == "blocked", check.dump());
    json w = Call(c, {{"id", 2}, {"op", "block"}, {"subject", Number(2)}, {"reason", "r"}});
    BOOST_TEST(w["error"]["code"] == "io_error", w.dump());
    BOOST_TEST(w["error"]["message"].get<std::string>().find(
                   "the disk was full when tacetd started") != std::string::npos,
               w.dump());
  }
  BOOST_TEST(Stop(pid) == 0);
  std::filesystem::remove(fs + "/filler");
  pid = StartDaemon(data);
  {
    Client c = ConnectWhenReady(data + "/tacet.sock");
    json w = Call(c, {{"id", 1}, {"op", "block"}, {"subject", Number(2)}, {"reason", "r"}});
    BOOST_TEST(w.contains("result"), w.dump());
  }
  BOOST_TEST(Stop(pid) == 0);
  Run verify = Tacet("--data-dir " + data + " verify --json");
  BOOST_TEST_REQUIRE(verify.status == 0, verify.err);
  BOOST_TEST(json::parse(verify.out)["events"] == 2);
}

BOOST_AUTO_TEST_CASE(the_cli_on_a_full_or_tiny_disk_fails_cleanly) {
  test::TempDir dir;
  const std::string fs = dir / "fs", data = fs + "/d";
  MountSmallFs(fs, 8192);
  BOOST_TEST_REQUIRE(Tacet("--data-dir " + data + " init").status == 0);
  BOOST_TEST_REQUIRE(Tacet("--data-dir " + data + " block " + Number(1) + " --reason r").status ==
                     0);
  Fill(fs);
  std::string list;
  for (int i = 0; i < 20000; ++i) list += Number(i) + "\n";
  test::WriteText(dir / "list.txt", list);
  Run block = Tacet("--data-dir " + data + " block --file " + dir / "list.txt" +
                    " --source robinson --reason r");
  BOOST_TEST(block.status == 1, block.err);
  BOOST_TEST(block.err.find("No space left on device") != std::string::npos, block.err);
  Run check = Tacet("--data-dir " + data + " check " + Number(1));
  BOOST_TEST(check.status == 0, check.err);
  BOOST_TEST(check.out.find("DENY") != std::string::npos);
  std::filesystem::remove(fs + "/filler");
  Run verify = Tacet("--data-dir " + data + " verify --json");
  BOOST_TEST_REQUIRE(verify.status == 0, verify.err);
  BOOST_TEST(json::parse(verify.out)["events"] == 1);

  // A file system too small for a ledger: init says so, and aborts nothing.
  const std::string tiny = dir / "tiny";
  MountSmallFs(tiny, 64);
  Run init = Tacet("--data-dir " + tiny + "/d init");
  BOOST_TEST(init.status == 1, init.err);
  BOOST_TEST(init.err.find("No space left on device") != std::string::npos, init.err);
}

BOOST_AUTO_TEST_SUITE_END()
