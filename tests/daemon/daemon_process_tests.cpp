// The real tacetd binary: readiness, a second daemon refused with the
// holder's pid, a stale socket replaced, SIGHUP reloading roles, SIGTERM
// draining to exit 0; and the tacet CLI giving the same output through the
// daemon as on the embedded store.
#include "tacet/daemon/client.h"

#define BOOST_TEST_MODULE daemon_process_tests
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "test_util.h"

using namespace tacet;
using json = nlohmann::json;

namespace {

// Logs at debug: a failing test prints the daemon's log, connections included.
std::string Config(const test::TempDir& dir, const std::string& roles = "",
                   const std::string& level = "debug") {
  return "data_dir = \"" + dir / "data" + "\"\n" +
         "[consent_types.newsletter]\ntitle = \"Newsletter\"\nuses = [\"newsletter\"]\n" +
         "[daemon]\nsocket = \"" + dir / "tacet.sock" + "\"\nlog_level = \"" + level + "\"\n" +
         "log_format = \"json\"\n" + roles;
}

// The daemon's log lines whose "msg" is `msg`.
std::vector<json> LogLines(const std::string& path, const std::string& msg) {
  std::vector<json> out;
  std::istringstream in(test::ReadText(path));
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    BOOST_TEST_REQUIRE(!j.is_discarded(), "not a JSON log line: " << line);
    if (j.value("msg", "") == msg) out.push_back(j);
  }
  return out;
}

// Starts tacetd; returns its pid once the socket answers (or -1).
pid_t StartDaemon(const std::string& config, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    execl(TACETD_BIN, "tacetd", "--config", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

bool WaitReady(const std::string& socket, pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    auto c = Client::Connect(socket);
    if (c.ok()) return true;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

int WaitExit(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 400; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

int Run(const std::string& cmd, std::string* out) {
  std::string full = cmd + " > out.txt 2> err.txt";
  int rc = std::system(full.c_str());
  *out = test::ReadText("out.txt");
  return WEXITSTATUS(rc);
}

json Call(Client& c, const json& req) { return json::parse(*c.Call(req.dump())); }

}  // namespace

BOOST_AUTO_TEST_SUITE(daemon_process_tests)

BOOST_AUTO_TEST_CASE(a_second_daemon_is_refused_naming_the_first_and_sigterm_drains) {
  test::TempDir dir;
  test::WriteText(dir / "t.toml", Config(dir));
  pid_t first = StartDaemon(dir / "t.toml", dir / "first.log");
  BOOST_TEST_REQUIRE(WaitReady(dir / "tacet.sock", first));
  pid_t second = StartDaemon(dir / "t.toml", dir / "second.log");
  BOOST_TEST(WaitExit(second) == 1);
  std::string why = test::ReadText(dir / "second.log");
  BOOST_TEST(why.find("pid " + std::to_string(first)) != std::string::npos, why);
  // A request in flight when SIGTERM arrives is answered, then exit 0.
  auto c = Client::Connect(dir / "tacet.sock");
  BOOST_TEST_REQUIRE(c.ok());
  // Accepted (a connection still in the listen backlog at SIGTERM is told
  // shutting_down), then a request sent and not yet answered.
  auto stats = c->Call(json{{"id", 0}, {"op", "stats"}}.dump());
  BOOST_TEST_REQUIRE(stats.ok(), stats.status().message() << "\n"
                                                          << test::ReadText(dir / "first.log"));
  BOOST_TEST(json::parse(*stats).contains("result"));
  BOOST_TEST(
      c->Send(json{{"id", 1}, {"op", "block"}, {"subject", "a@b.it"}, {"reason", "r"}}.dump() +
              "\n")
          .ok());
  kill(first, SIGTERM);
  auto reply = c->ReadLine();
  BOOST_TEST_REQUIRE(reply.ok(), reply.status().message() << "\n"
                                                          << test::ReadText(dir / "first.log"));
  BOOST_TEST(json::parse(*reply).contains("result"));
  BOOST_TEST(WaitExit(first) == 0);
  BOOST_TEST(!std::filesystem::exists(dir / "tacet.sock"));
}

// A reply still being written when SIGTERM arrives (the client has not read
// it yet) is written whole; then the idle connection is closed at once, not
// after the 10 s drain timeout (CI once saw the daemon wait for a client
// that had nothing more to send).
BOOST_AUTO_TEST_CASE(a_reply_in_flight_at_sigterm_is_finished_then_the_idle_connection_closed) {
  test::TempDir dir;
  test::WriteText(dir / "t.toml", Config(dir, "", "info"));
  pid_t pid = StartDaemon(dir / "t.toml", dir / "d.log");
  BOOST_TEST_REQUIRE(WaitReady(dir / "tacet.sock", pid));
  auto c = Client::Connect(dir / "tacet.sock");
  BOOST_TEST_REQUIRE(c.ok());
  // 10,000 decisions: a reply of about a megabyte, far more than the
  // socket's buffer, so its write is still in flight while nobody reads.
  json subjects = json::array();
  for (int i = 0; i < 10000; ++i) {
    std::string address = std::to_string(i);
    address += "@example.it";
    subjects.push_back(address);
  }
  BOOST_TEST_REQUIRE(
      c->Send(json{{"id", 1}, {"op", "check_batch"}, {"channel", "email"}, {"subjects", subjects}}
                  .dump() +
              "\n")
          .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  kill(pid, SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the drain begins
  auto reply = c->ReadLine();
  BOOST_TEST_REQUIRE(reply.ok(), reply.status().message());
  json r = json::parse(*reply);
  BOOST_TEST(r["result"]["count"] == 10000, r.dump().substr(0, 200));
  // The connection stays open on the client's side; the daemon closes it.
  const auto t0 = std::chrono::steady_clock::now();
  BOOST_TEST(WaitExit(pid) == 0, test::ReadText(dir / "d.log"));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST(s < 5.0, "tacetd took " << s << " s to exit after the reply was read");
  BOOST_TEST(!c->ReadLine().ok());  // closed by the daemon
}

BOOST_AUTO_TEST_CASE(the_stale_socket_of_a_dead_daemon_is_replaced) {
  test::TempDir dir;
  test::WriteText(dir / "t.toml", Config(dir));
  pid_t first = StartDaemon(dir / "t.toml", dir / "first.log");
  BOOST_TEST_REQUIRE(WaitReady(dir / "tacet.sock", first));
  kill(first, SIGKILL);
  WaitExit(first);
  BOOST_TEST(std::filesystem::exists(dir / "tacet.sock"));  // left behind
  pid_t again = StartDaemon(dir / "t.toml", dir / "again.log");
  BOOST_TEST_REQUIRE(WaitReady(dir / "tacet.sock", again));
  auto c = Client::Connect(dir / "tacet.sock");
  BOOST_TEST(Call(*c, {{"id", 1}, {"op", "verify"}})["result"]["ok"] == true);
  kill(again, SIGTERM);
  BOOST_TEST(WaitExit(again) == 0);
}

BOOST_AUTO_TEST_CASE(sighup_reloads_roles_without_dropping_connections) {
  test::TempDir dir;
  test::WriteText(dir / "t.toml", Config(dir));
  pid_t pid = StartDaemon(dir / "t.toml", dir / "d.log");
  BOOST_TEST_REQUIRE(WaitReady(dir / "tacet.sock", pid));
  auto before = Client::Connect(dir / "tacet.sock");
  BOOST_TEST(Call(*before, {{"id", 1}, {"op", "stats"}}).contains("result"));
  // The owner loses its role: new connections are forbidden, the open one goes on.
  test::WriteText(dir / "t.toml", Config(dir, "[roles]\nowner = \"none\"\n"));
  kill(pid, SIGHUP);
  bool forbidden = false;
  for (int i = 0; i < 100 && !forbidden; ++i) {
    auto c = Client::Connect(dir / "tacet.sock");
    forbidden = Call(*c, {{"id", 1}, {"op", "stats"}}).contains("error");
    if (!forbidden) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  BOOST_TEST(forbidden);
  BOOST_TEST(Call(*before, {{"id", 2}, {"op", "stats"}}).contains("result"));
  kill(pid, SIGTERM);
  BOOST_TEST(WaitExit(pid) == 0);
}

BOOST_AUTO_TEST_CASE(a_reload_of_a_bad_config_is_refused_and_the_running_one_kept) {
  test::TempDir dir;
  test::WriteText(dir / "t.toml", Config(dir));
  pid_t pid = StartDaemon(dir / "t.toml", dir / "d.log");
  BOOST_TEST_REQUIRE(WaitReady(dir / "tacet.sock", pid));
  auto c = Client::Connect(dir / "tacet.sock");
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST(Call(*c, {{"id", 1}, {"op", "reload"}})["result"]["reloaded"] == true);
  // A socket mode open to every user: refused, named.
  test::WriteText(dir / "t.toml", Config(dir, "socket_mode = \"0666\"\n"));  // in [daemon]
  json bad = Call(*c, {{"id", 2}, {"op", "reload"}});
  BOOST_TEST_REQUIRE(bad.contains("error"), bad.dump());
  BOOST_TEST(bad["error"]["code"] == "bad_request");
  const std::string msg = bad["error"]["message"].get<std::string>();
  BOOST_TEST(msg.find("reload refused; the running configuration is kept") != std::string::npos,
             msg);
  BOOST_TEST(msg.find("opens the socket to every user") != std::string::npos, msg);
  // The running configuration still serves.
  BOOST_TEST(Call(*c, {{"id", 3}, {"op", "stats"}}).contains("result"));
  kill(pid, SIGTERM);
  BOOST_TEST(WaitExit(pid) == 0);
}

// Issue 15: tacetd's start records the config's policy; through tacetd,
// `tacet policy apply` asks it to reload and prints what that recorded.
BOOST_AUTO_TEST_CASE(tacetd_records_the_policy_at_start_and_on_policy_apply) {
  test::TempDir dir;
  test::WriteText(dir / "t.toml", Config(dir));
  pid_t pid = StartDaemon(dir / "t.toml", dir / "d.log");
  BOOST_TEST_REQUIRE(WaitReady(dir / "tacet.sock", pid));
  auto c = Client::Connect(dir / "tacet.sock");
  BOOST_TEST_REQUIRE(c.ok());
  json p = Call(*c, {{"id", 1}, {"op", "policy"}});
  BOOST_TEST(p["result"]["consent_types"].size() == 1u, p.dump());
  test::WriteText(dir / "t.toml",
                  Config(dir) + "[consent_types.tel]\ntitle = \"Calls\"\nuses = [\"phone\"]\n");
  std::string out;
  const std::string tacet = std::string(TACET_BIN) + " --config " + dir / "t.toml";
  BOOST_TEST_REQUIRE(Run(tacet + " policy apply", &out) == 0, out);
  BOOST_TEST(out ==
                 "  policy: consent type defined: tel\ntacetd reloaded its configuration and "
                 "recorded 1 change\n",
             out);
  p = Call(*c, {{"id", 2}, {"op", "policy"}});
  BOOST_TEST(p["result"]["consent_types"].size() == 2u, p.dump());
  json again = Call(*c, {{"id", 3}, {"op", "reload"}});
  BOOST_TEST(again["result"]["policy_changes"].empty(), again.dump());
  kill(pid, SIGTERM);
  BOOST_TEST(WaitExit(pid) == 0);
}

BOOST_AUTO_TEST_CASE(the_cli_prints_the_same_through_the_daemon_as_embedded) {
  test::TempDir dir;
  std::string cfg = dir / "t.toml";
  test::WriteText(cfg, Config(dir));
  std::string tacet = std::string(TACET_BIN) + " --config " + cfg;
  std::string out;
  BOOST_TEST_REQUIRE(Run(tacet + " init", &out) == 0);
  BOOST_TEST(Run(tacet + " consent grant a@b.it --type newsletter --given 2026-01-05", &out) == 0);
  std::string check = tacet + " check a@b.it --channel newsletter --at '2026-06-01 12:00'";
  std::string embedded, via_daemon, hist_embedded, hist_daemon;
  BOOST_TEST(Run(check, &embedded) == 0);
  BOOST_TEST(Run(tacet + " history a@b.it --format csv", &hist_embedded) == 0);
  pid_t pid = StartDaemon(cfg, dir / "d.log");
  BOOST_TEST_REQUIRE(WaitReady(dir / "tacet.sock", pid));
  BOOST_TEST(Run(check, &via_daemon) == 0);
  BOOST_TEST(Run(tacet + " history a@b.it --format csv", &hist_daemon) == 0);
  BOOST_TEST(via_daemon == embedded);
  BOOST_TEST(hist_daemon == hist_embedded);
  BOOST_TEST(embedded.find("ALLOW") != std::string::npos, embedded);
  // Writes go through the daemon too (the store is its own).
  BOOST_TEST(Run(tacet + " block a@b.it --reason test --json", &out) == 0, out);
  BOOST_TEST(json::parse(out)["subject"] == "a@b.it");
  BOOST_TEST(Run(tacet + " stats --json", &out) == 0);
  BOOST_TEST(json::parse(out)["ops"]["block"]["count"] == 1);
  kill(pid, SIGTERM);
  BOOST_TEST(WaitExit(pid) == 0);
}

BOOST_AUTO_TEST_CASE(at_the_default_level_the_log_has_a_line_per_write_and_refusal_none_per_check) {
  test::TempDir dir;
  test::WriteText(dir / "t.toml", Config(dir, "", "info"));
  pid_t pid = StartDaemon(dir / "t.toml", dir / "d.log");
  BOOST_TEST_REQUIRE(WaitReady(dir / "tacet.sock", pid));
  auto c = Client::Connect(dir / "tacet.sock");
  BOOST_TEST_REQUIRE(c.ok());
  for (int i = 0; i < 20; ++i)
    BOOST_TEST(Call(*c, {{"id", i}, {"op", "check"}, {"subject", "a@b.it"}, {"channel", "email"}})
                   .contains("result"));
  BOOST_TEST(Call(*c, {{"id", 20}, {"op", "block"}, {"subject", "a@b.it"}, {"reason", "asked"}})
                 .contains("result"));
  BOOST_TEST(Call(*c, {{"id", 21}, {"op", "block"}, {"subject", "c@d.it"}, {"reason", "asked"}})
                 .contains("result"));
  BOOST_TEST(Call(*c, {{"id", 22}, {"op", "nonsense"}}).contains("error"));
  kill(pid, SIGTERM);
  BOOST_TEST_REQUIRE(WaitExit(pid) == 0);
  const std::string log = dir / "d.log";
  auto writes = LogLines(log, "write");
  BOOST_TEST_REQUIRE(writes.size() == 2u, test::ReadText(log));
  BOOST_TEST(writes[0]["op"] == "block");
  BOOST_TEST(writes[0]["subject"] == "a@b.it");
  BOOST_TEST(writes[1]["subject"] == "c@d.it");
  BOOST_TEST(writes[1]["seq"].get<uint64_t>() == writes[0]["seq"].get<uint64_t>() + 1);
  BOOST_TEST(writes[0]["level"] == "info");
  auto refused = LogLines(log, "refused");
  BOOST_TEST_REQUIRE(refused.size() == 1u, test::ReadText(log));
  BOOST_TEST(refused[0]["code"] == "unknown_op");
  // Nothing per check, and nothing per connection at info.
  BOOST_TEST(test::ReadText(log).find("check") == std::string::npos, test::ReadText(log));
  BOOST_TEST(LogLines(log, "connected").empty());
}

BOOST_AUTO_TEST_SUITE_END()
