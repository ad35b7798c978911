// tacetd's protocol over a real Unix socket (daemon/PROTOCOL.md): one test
// per operation and per error code, framing, roles, subscriptions, and 32
// concurrent clients whose acknowledged writes must all be in the log.
#include "tacet/daemon/server.h"

#define BOOST_TEST_MODULE protocol_tests
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "daemon/daemon_fixture.h"
#include "tacet/core/clock.h"
#include "tacet/core/merkle.h"
#include "tacet/core/time.h"
#include "tacet/projections/ledger.h"
#include "tacet/projections/proof.h"

using namespace tacet;
using json = nlohmann::json;
using test::Daemon;

namespace {

// prefix + n + suffix (built with append: g++ 12 warns falsely on "a" + s).
std::string Cat(const char* prefix, long n, const char* suffix = "") {
  std::string s(prefix);
  s.append(std::to_string(n));
  s.append(suffix);
  return s;
}

std::string Code(const json& reply) { return reply["error"]["code"].get<std::string>(); }

// n Italian mobile numbers, one per line.
std::string Numbers(int n, int base = 0) {
  std::string out;
  for (int i = 0; i < n; ++i) out += Cat("+39347", 1000000 + base + i, "\n");
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(protocol_tests)

BOOST_AUTO_TEST_CASE(check_echoes_the_id_and_names_its_reasons) {
  Daemon d;
  Client c = d.Connect();
  json r = Daemon::Call(c, {{"id", "req-7"}, {"op", "check"}, {"subject", "06 1234 5678"}});
  BOOST_TEST(r["id"] == "req-7");
  BOOST_TEST(r["result"]["subject"] == "+390612345678");
  BOOST_TEST(r["result"]["decision"] == "deny");
  BOOST_TEST(r["result"]["reasons"][0]["code"] == "registry_unchecked");
  json n = Daemon::Call(
      c, {{"id", 8}, {"op", "check"}, {"subject", "x@y.it"}, {"channel", "newsletter"}});
  BOOST_TEST(n["id"] == 8);
  BOOST_TEST(n["result"]["decision"] == "deny");
}

// Issue 17: a check with "record": true is a write whose seq the attempt
// made on it cites; the attempt comes back with its audit.
BOOST_AUTO_TEST_CASE(a_recorded_check_and_the_contact_that_cites_it) {
  Daemon d;
  Client c = d.Connect();
  json k = Daemon::Call(c, {{"id", 1},
                            {"op", "check"},
                            {"subject", "+33123456789"},
                            {"record", true},
                            {"campaign", "autumn"}});
  BOOST_TEST_REQUIRE(k.contains("result"), k.dump());
  const uint64_t seq = k["result"]["seq"].get<uint64_t>();
  BOOST_TEST(seq > 0u);
  BOOST_TEST(k["result"]["decision"].is_string());
  // A plain check records nothing; a record that is not true is refused.
  json plain = Daemon::Call(c, {{"id", 2}, {"op", "check"}, {"subject", "+33123456789"}});
  BOOST_TEST(plain["result"]["decision"] == k["result"]["decision"]);
  BOOST_TEST(
      Code(Daemon::Call(
          c, {{"id", 3}, {"op", "check"}, {"subject", "+33123456789"}, {"record", "yes"}})) ==
      "bad_request");
  json a = Daemon::Call(c, {{"id", 4},
                            {"op", "contact"},
                            {"subject", "+33 1 23 45 67 89"},
                            {"started", "now"},
                            {"outcome", "do_not_call"},
                            {"caller_id", "+390299999999"},
                            {"duration", 42},
                            {"decision", seq}});
  BOOST_TEST_REQUIRE(a.contains("result"), a.dump());
  BOOST_TEST(a["result"]["seq"].get<uint64_t>() > seq);
  BOOST_TEST(a["result"]["no_prior_check"] == false);
  BOOST_TEST(a["result"]["block_seq"] == a["result"]["seq"].get<uint64_t>() + 1);
  json after = Daemon::Call(c, {{"id", 5}, {"op", "check"}, {"subject", "+33123456789"}});
  BOOST_TEST(after["result"]["decision"] == "deny");
  BOOST_TEST(after["result"]["reasons"][0]["code"] == "blocked");
  json bad = Daemon::Call(c, {{"id", 6},
                              {"op", "contact"},
                              {"subject", "+33123456789"},
                              {"started", "now"},
                              {"outcome", "hung_up"}});
  BOOST_TEST(Code(bad) == "bad_request");
  BOOST_TEST(bad["error"]["message"].get<std::string>().find("unknown outcome 'hung_up'") !=
             std::string::npos);
  // The audit of today (a reader's long read): the attempt, its verdict at
  // its start and the check it cited; as JSON, and as the CLI's CSV.
  json audit = Daemon::Call(c, {{"id", 7}, {"op", "audit"}, {"from", "now"}, {"to", "now"}});
  BOOST_TEST(Code(audit) == "bad_request");  // "now" is no date
  const std::string today =
      FormatDate(TimeZone::Load("Europe/Rome").value().DayOf(SystemClock::Default()->NowMs()));
  audit = Daemon::Call(c, {{"id", 8}, {"op", "audit"}, {"from", today}, {"to", today}});
  BOOST_TEST_REQUIRE(audit.contains("result"), audit.dump());
  const json& doc = audit["result"];
  BOOST_TEST(doc["totals"]["attempts"] == 1);
  BOOST_TEST_REQUIRE(doc["attempts"].size() == 1u);
  BOOST_TEST(doc["attempts"][0]["seq"] == a["result"]["seq"]);
  BOOST_TEST(doc["attempts"][0]["subject"] == "+33123456789");
  BOOST_TEST(doc["attempts"][0]["decision_seq"] == seq);
  BOOST_TEST(doc["attempts"][0]["no_prior_check"] == false);
  BOOST_TEST(doc["attempts"][0]["caller_id"] == "+390299999999");
  json csv = Daemon::Call(
      c, {{"id", 9}, {"op", "audit"}, {"from", today}, {"to", today}, {"format", "csv"}});
  BOOST_TEST_REQUIRE(csv.contains("result"), csv.dump());
  const std::string text = csv["result"]["text"].get<std::string>();
  BOOST_TEST(std::count(text.begin(), text.end(), '\n') == 2);
  BOOST_TEST(text.find(",+33123456789,voice,do_not_call,") != std::string::npos, text);
  BOOST_TEST(
      Code(Daemon::Call(
          c, {{"id", 10}, {"op", "audit"}, {"from", today}, {"to", today}, {"format", "xml"}})) ==
      "bad_request");
}

BOOST_AUTO_TEST_CASE(check_batch_answers_every_subject_in_order) {
  Daemon d;
  Client c = d.Connect();
  BOOST_TEST(Daemon::Call(c, {{"id", 1},
                              {"op", "consent_grant"},
                              {"subject", "a@b.it"},
                              {"type", "newsletter"},
                              {"given", "2026-01-10"}})
                 .contains("result"));
  json r = Daemon::Call(c, {{"id", 2},
                            {"op", "check_batch"},
                            {"channel", "newsletter"},
                            {"subjects", {"a@b.it", "not an address", "c@d.it", "a@b.it"}}});
  const json& res = r["result"];
  BOOST_TEST(res["count"] == 4);
  BOOST_TEST(res["results"].size() == 4u);
  BOOST_TEST(res["results"][0]["decision"] == "allow");
  BOOST_TEST(res["results"][1]["error"]["code"] == "invalid_subject");
  BOOST_TEST(res["results"][2]["decision"] == "deny");
  BOOST_TEST(res["results"][3]["decision"] == "allow");
  BOOST_TEST(res["allowed"] == 2);
  json big = {{"id", 3}, {"op", "check_batch"}, {"subjects", json::array()}};
  for (int i = 0; i < 10001; ++i) big["subjects"].push_back("a@b.it");
  BOOST_TEST(Code(Daemon::Call(c, big)) == "too_large");
  // The connection goes on.
  BOOST_TEST(Daemon::Call(c, {{"id", 4}, {"op", "stats"}})["result"]["head_seq"].get<uint64_t>() >
             0);
}

BOOST_AUTO_TEST_CASE(a_read_pipelined_after_a_write_sees_it) {
  Daemon d;
  Client c = d.Connect();
  std::string both =
      json{{"id", 1},
           {"op", "consent_grant"},
           {"subject", "p@q.it"},
           {"type", "newsletter"},
           {"given", "2026-02-01"}}
          .dump() +
      "\n" +
      json{{"id", 2}, {"op", "check"}, {"subject", "p@q.it"}, {"channel", "newsletter"}}.dump() +
      "\n";
  BOOST_TEST(c.Send(both).ok());
  json w = Daemon::Read(c), r = Daemon::Read(c);
  BOOST_TEST(w["id"] == 1);
  BOOST_TEST(r["id"] == 2);
  BOOST_TEST(r["result"]["decision"] == "allow");
  BOOST_TEST(r["result"]["evidence"][0] == w["result"]["seq"]);
}

// A pipelined run of checks is decided together (batched lookups, split
// between two threads from 64 on): each reply must still be the one its
// request gets alone, in request order, and a write in the run is seen by
// the checks after it only.
BOOST_AUTO_TEST_CASE(a_long_pipelined_run_of_checks_answers_each_in_order) {
  Daemon d;
  Client c = d.Connect();
  for (int i = 0; i < 40; i += 3)
    BOOST_TEST_REQUIRE(Daemon::Call(c, {{"id", i},
                                        {"op", "consent_grant"},
                                        {"subject", Cat("p", i, "@q.it")},
                                        {"type", "newsletter"},
                                        {"given", "2026-02-01"}})
                           .contains("result"));
  auto request = [](int i) -> json {
    json r = {{"id", i}, {"op", "check"}, {"channel", "newsletter"}};
    switch (i % 10) {
      case 7:
        r["subject"] = "not an address";  // invalid_subject
        break;
      case 8:
        r["subject"] = Cat("p", i % 40, "@q.it");
        r["channel"] = "voice";  // bad_request: an address has no voice channel
        break;
      case 9:
        r["subject"] = Cat("p", i % 40, "@q.it");
        r["colour"] = "red";  // bad_request: unknown field
        break;
      default:
        r["subject"] = Cat("p", i % 40, "@q.it");
    }
    return r;
  };
  std::string run;
  const int kRun = 400, kBlockAt = 200;
  for (int i = 0; i < kRun; ++i) {
    if (i == kBlockAt) {
      run += json{{"id", "block"}, {"op", "block"}, {"subject", "p3@q.it"}, {"reason", "asked"}}
                 .dump() +
             "\n";
    }
    run += request(i).dump() + "\n";
  }
  BOOST_TEST_REQUIRE(c.Send(run).ok());
  std::vector<json> replies;
  for (int i = 0; i <= kRun; ++i) replies.push_back(Daemon::Read(c));
  BOOST_TEST(replies[kBlockAt]["id"] == "block");
  BOOST_TEST(replies[kBlockAt].contains("result"));
  replies.erase(replies.begin() + kBlockAt);
  // Alone, one at a time, now that the block is recorded: the same answers,
  // except p3 before the block.
  Client alone = d.Connect();
  size_t compared = 0;
  for (int i = 0; i < kRun; ++i) {
    const json& r = replies[static_cast<size_t>(i)];
    BOOST_TEST_REQUIRE(r["id"] == i);
    json a = Daemon::Call(alone, request(i));
    if (a.contains("error")) {
      BOOST_TEST(r["error"] == a["error"], i << ": " << r.dump() << " vs " << a.dump());
      continue;
    }
    const json& got = r["result"];
    const json& want = a["result"];
    if (want["subject"] == "p3@q.it" && i < kBlockAt) {
      BOOST_TEST(got["decision"] == "allow");
      continue;
    }
    for (const char* k : {"subject", "decision", "reasons", "evidence", "valid_until"})
      BOOST_TEST(got[k] == want[k], i << " " << k << ": " << got[k] << " vs " << want[k]);
    ++compared;
  }
  BOOST_TEST(compared > 250u);
  BOOST_TEST(replies[kBlockAt + 3 - kBlockAt % 40 + 40]["result"]["decision"] == "deny");
}

// A check_batch big enough to be decided in slices on two threads: every
// result where its subject is, and each the answer of a single check.
BOOST_AUTO_TEST_CASE(a_big_check_batch_is_sliced_without_reordering) {
  Daemon d;
  Client c = d.Connect();
  for (int i = 0; i < 100; i += 7)
    BOOST_TEST_REQUIRE(Daemon::Call(c, {{"id", i},
                                        {"op", "block"},
                                        {"subject", Cat("+39347", 1000000 + i)},
                                        {"reason", "asked"}})
                           .contains("result"));
  json batch = {
      {"id", "b"}, {"op", "check_batch"}, {"channel", "voice"}, {"subjects", json::array()}};
  const int kSubjects = 6000;
  for (int i = 0; i < kSubjects; ++i)
    batch["subjects"].push_back(i % 997 == 5 ? std::string("no number")
                                             : Cat("+39347", 1000000 + i % 100));
  json r = Daemon::Call(c, batch);
  const json& res = r["result"];
  BOOST_TEST_REQUIRE(res["results"].size() == static_cast<size_t>(kSubjects));
  BOOST_TEST(res["count"] == kSubjects);
  size_t invalid = 0, blocked = 0;
  for (int i = 0; i < kSubjects; ++i) {
    const json& one = res["results"][static_cast<size_t>(i)];
    if (i % 997 == 5) {
      BOOST_TEST(one["error"]["code"] == "invalid_subject");
      BOOST_TEST(one["input"] == "no number");
      ++invalid;
      continue;
    }
    BOOST_TEST_REQUIRE(one["subject"] == Cat("+39347", 1000000 + i % 100));
    const bool is_blocked = (i % 100) % 7 == 0;
    blocked += is_blocked;
    BOOST_TEST(one["decision"] == "deny");
    BOOST_TEST((one["reasons"][0] == "blocked") == is_blocked, i << ": " << one.dump());
  }
  BOOST_TEST(res["invalid"] == invalid);
  BOOST_TEST(res["denied"] == kSubjects - static_cast<int>(invalid));
  BOOST_TEST(blocked > 800u);
  json single = Daemon::Call(c, {{"id", 1}, {"op", "check"}, {"subject", "+393471000014"}});
  BOOST_TEST(single["result"]["reasons"][0]["code"] == "blocked");
}

BOOST_AUTO_TEST_CASE(every_write_operation_records_one_event) {
  Daemon d;
  Client c = d.Connect();
  auto seq = [&](const json& req) {
    json r = Daemon::Call(c, req);
    BOOST_TEST_REQUIRE(r.contains("result"), r.dump());
    return r["result"]["seq"].get<uint64_t>();
  };
  uint64_t s1 = seq({{"id", 1},
                     {"op", "consent_grant"},
                     {"subject", "+41791234567"},
                     {"type", "phone-marketing"},
                     {"given", "2026-03-01"},
                     {"operator", "op7"}});
  uint64_t s2 = seq({{"id", 2},
                     {"op", "consent_revoke"},
                     {"subject", "+41791234567"},
                     {"type", "phone-marketing"},
                     {"reason", "asked"}});
  uint64_t s3 = seq({{"id", 3},
                     {"op", "block"},
                     {"subject", "+41791234567"},
                     {"channels", {"voice"}},
                     {"reason", "asked"}});
  uint64_t s4 = seq({{"id", 4},
                     {"op", "unblock"},
                     {"subject", "+41791234567"},
                     {"channels", "voice"},
                     {"reason", "called back"},
                     {"officer", "m.bianchi"}});
  // A Swiss number: outside the RPO's scope, so no registry denial stands
  // in the way of the justification.
  uint64_t s5 = seq({{"id", 5},
                     {"op", "justify"},
                     {"subject", "+41791234567"},
                     {"channel", "voice"},
                     {"reason", "callback-requested"},
                     {"operator", "op7"}});
  BOOST_TEST(s2 == s1 + 1);
  BOOST_TEST(s3 == s2 + 1);
  BOOST_TEST(s4 == s3 + 1);
  BOOST_TEST(s5 == s4 + 1);
  json h = Daemon::Call(c, {{"id", 6}, {"op", "history"}, {"subject", "+41791234567"}});
  std::vector<uint64_t> seqs;
  for (const auto& e : h["result"]["events"])
    if (!e["policy"].get<bool>()) seqs.push_back(e["seq"].get<uint64_t>());
  BOOST_TEST(seqs == (std::vector<uint64_t>{s1, s2, s3, s4, s5}), boost::test_tools::per_element());
  // The peer's uid and gid are the actor, with the operator the client gave.
  const json& first = h["result"]["events"][h["result"]["events"].size() - 5];
  BOOST_TEST(first["actor"]["os_user"] == PeerName(::getuid(), ::getgid()));
  BOOST_TEST(first["actor"]["operator"] == "op7");
  BOOST_TEST(first["actor"]["tool"] == "tacetd");
  // Blocks per source: the unblock names each block it lifts; a second one
  // finds nothing and is refused.
  json ob = Daemon::Call(c, {{"id", 8},
                             {"op", "block"},
                             {"subject", "+41791234567"},
                             {"reason", "do not call"},
                             {"source", "call_outcome"}});
  BOOST_TEST_REQUIRE(ob.contains("result"), ob.dump());
  json ub = Daemon::Call(c, {{"id", 9},
                             {"op", "unblock"},
                             {"subject", "+41791234567"},
                             {"sources", {"call_outcome"}},
                             {"reason", "operator error"},
                             {"officer", "m.bianchi"}});
  BOOST_TEST_REQUIRE(ub.contains("result"), ub.dump());
  BOOST_TEST(ub["result"]["lifted"] ==
                 json::array({{{"seq", ob["result"]["seq"]},
                               {"source", "call_outcome"},
                               {"channels", {"voice", "sms", "email", "newsletter"}}}}),
             ub.dump());
  json none = Daemon::Call(c, {{"id", 10},
                               {"op", "unblock"},
                               {"subject", "+41791234567"},
                               {"reason", "again"},
                               {"officer", "m.bianchi"}});
  BOOST_TEST(none["error"]["code"] == "conflict", none.dump());
  BOOST_TEST(none["error"]["message"] == "+41791234567 is not blocked; nothing was recorded");
  // A block of a whole list, sent as content.
  json b = Daemon::Call(c, {{"id", 7},
                            {"op", "block"},
                            {"content", Numbers(5) + "junk\n"},
                            {"path", "list.txt"},
                            {"reason", "robinson"},
                            {"source", "robinson"}});
  BOOST_TEST(b["result"]["newly_blocked"] == 5);
  BOOST_TEST(b["result"]["invalid"] == 1);
}

BOOST_AUTO_TEST_CASE(filter_sessions_policy_verify_and_stats_answer) {
  Daemon d;
  Client c = d.Connect();
  json f = Daemon::Call(
      c, {{"id", 1}, {"op", "filter"}, {"channel", "voice"}, {"content", Numbers(3) + "bad\n"}});
  BOOST_TEST(f["result"]["counts"]["lines"] == 4);
  BOOST_TEST(f["result"]["counts"]["invalid"] == 1);
  BOOST_TEST(f["result"]["counts"]["denied"] == 3);
  json s = Daemon::Call(c, {{"id", 2}, {"op", "sessions"}});
  BOOST_TEST(s["result"]["sessions"].size() == 0u);
  json p = Daemon::Call(c, {{"id", 3}, {"op", "policy"}});
  BOOST_TEST(p["result"]["consent_types"].size() == 2u);
  BOOST_TEST(p["result"]["reasons"][0]["code"] == "callback-requested");
  json v = Daemon::Call(c, {{"id", 4}, {"op", "verify"}});
  BOOST_TEST(v["result"]["ok"] == true);
  json st = Daemon::Call(c, {{"id", 5}, {"op", "stats"}});
  BOOST_TEST(st["result"]["ops"]["filter"]["count"] == 1);
  BOOST_TEST(st["result"]["head_seq"] == v["result"]["head_seq"]);
  BOOST_TEST(st["result"]["uptime_seconds"].get<double>() >= 0.0);
  // The projections are mirrored in memory: the policy records at least.
  BOOST_TEST(st["result"]["projections_in_memory_bytes"].get<uint64_t>() > 0u);
}

BOOST_AUTO_TEST_CASE(export_and_import_read_files_only_under_the_import_directory) {
  Daemon d;
  Client c = d.Connect();
  test::WriteText(d.inbox() + "/candidates.txt", Numbers(10));
  json e = Daemon::Call(
      c, {{"id", 1}, {"op", "export"}, {"registry", "it-rpo"}, {"candidates", "candidates.txt"}});
  BOOST_TEST_REQUIRE(e.contains("result"), e.dump());
  BOOST_TEST(e["result"]["exported"] == 10);
  uint64_t session = e["result"]["sessions"][0]["session"].get<uint64_t>();
  test::WriteText(d.dir() / "outside.txt", Numbers(10));
  json out = Daemon::Call(c, {{"id", 2},
                              {"op", "export"},
                              {"registry", "it-rpo"},
                              {"candidates", d.dir() / "outside.txt"}});
  BOOST_TEST(Code(out) == "forbidden");
  json esc = Daemon::Call(c, {{"id", 3},
                              {"op", "import_return"},
                              {"session", session},
                              {"received", "2026-11-20"},
                              {"path", "../outside.txt"}});
  BOOST_TEST(Code(esc) == "forbidden");
  // The filtered return: the numbers not listed.
  std::string txt = e["result"]["sessions"][0]["file"].get<std::string>();
  std::string name = txt.substr(txt.find_last_of('/') + 1);
  test::WriteText(d.inbox() + "/" + name.substr(0, name.size() - 4) + "_ret.txt", Numbers(7));
  json unknown = Daemon::Call(c, {{"id", 4},
                                  {"op", "import_return"},
                                  {"session", 999},
                                  {"received", "2026-11-20"},
                                  {"path", name.substr(0, name.size() - 4) + "_ret.txt"}});
  BOOST_TEST(Code(unknown) == "unknown_session");
}

BOOST_AUTO_TEST_CASE(each_error_code_is_answered_and_the_connection_goes_on) {
  Daemon d([](Config& c) { c.daemon.max_in_flight = 2; });
  Client c = d.Connect();
  BOOST_TEST(c.Send("this is not json\n").ok());
  json bad = Daemon::Read(c);
  BOOST_TEST(Code(bad) == "bad_request");
  BOOST_TEST(bad["id"].is_null());
  BOOST_TEST(Code(Daemon::Call(c, {{"id", 1}, {"op", "launch"}})) == "unknown_op");
  BOOST_TEST(Code(Daemon::Call(c, {{"id", 2}, {"op", "check"}, {"subject", "12"}})) ==
             "invalid_subject");
  BOOST_TEST(Code(Daemon::Call(
                 c, {{"id", 3}, {"op", "check"}, {"subject", "a@b.it"}, {"chanel", "email"}})) ==
             "bad_request");
  BOOST_TEST(Code(Daemon::Call(c, {{"id", 4},
                                   {"op", "consent_grant"},
                                   {"subject", "a@b.it"},
                                   {"type", "nope"},
                                   {"given", "2026-01-01"}})) == "bad_request");
  // Three writes in one send with max_in_flight 2: the third is busy, in order.
  std::string three;
  for (int i = 0; i < 3; ++i)
    three +=
        json{{"id", 10 + i}, {"op", "block"}, {"subject", Cat("a", i, "@b.it")}, {"reason", "r"}}
            .dump() +
        "\n";
  BOOST_TEST(c.Send(three).ok());
  json r0 = Daemon::Read(c), r1 = Daemon::Read(c), r2 = Daemon::Read(c);
  BOOST_TEST(r0["id"] == 10);
  BOOST_TEST(r0.contains("result"));
  BOOST_TEST(r1.contains("result"));
  BOOST_TEST(r2["id"] == 12);
  BOOST_TEST(Code(r2) == "busy");
  BOOST_TEST(Daemon::Call(c, {{"id", 5}, {"op", "stats"}}).contains("result"));
}

BOOST_AUTO_TEST_CASE(a_line_over_the_limit_is_answered_too_large_and_closed) {
  Daemon d([](Config& c) { c.daemon.max_line_bytes = 4096; });
  Client c = d.Connect();
  std::string huge = "{\"id\":1,\"op\":\"check\",\"subject\":\"" + std::string(5000, 'x') + "\"}\n";
  BOOST_TEST(c.Send(huge).ok());
  json r = Daemon::Read(c);
  BOOST_TEST(Code(r) == "too_large");
  BOOST_TEST(!c.ReadLine().ok());  // closed
}

BOOST_AUTO_TEST_CASE(an_idle_connection_is_told_and_closed) {
  Daemon d([](Config& c) { c.daemon.idle_timeout_seconds = 1; });
  Client c = d.Connect();
  json r = Daemon::Read(c);  // after about a second
  BOOST_TEST(Code(r) == "idle_timeout");
  BOOST_TEST(!c.ReadLine().ok());
}

BOOST_AUTO_TEST_CASE(connections_over_the_limit_are_refused_busy) {
  Daemon d([](Config& c) { c.daemon.max_connections = 2; });
  Client a = d.Connect(), b = d.Connect();
  BOOST_TEST(Daemon::Call(a, {{"id", 1}, {"op", "stats"}}).contains("result"));
  BOOST_TEST(Daemon::Call(b, {{"id", 1}, {"op", "stats"}}).contains("result"));
  Client third = d.Connect();
  BOOST_TEST(Code(Daemon::Read(third)) == "busy");
  BOOST_TEST(!third.ReadLine().ok());
}

// Issue 15: a reload that finds the writer queue full is answered busy, like
// any write: two writes read together make one job, over a queue of one.
BOOST_AUTO_TEST_CASE(a_reload_on_a_full_writer_queue_is_answered_busy) {
  Daemon d([](Config& c) { c.daemon.max_queued_writes = 1; });
  Client c = d.Connect();
  BOOST_TEST(
      c.Send(json{{"id", 1}, {"op", "block"}, {"subject", "0612345678"}, {"reason", "r"}}.dump() +
             "\n" + json{{"id", 2}, {"op", "reload"}}.dump() + "\n")
          .ok());
  json first = Daemon::Read(c), second = Daemon::Read(c);
  BOOST_TEST(first["id"] == 1);
  BOOST_TEST(Code(first) == "busy", first.dump());
  BOOST_TEST(second["id"] == 2);
  BOOST_TEST(Code(second) == "busy", second.dump());
  // Alone, it fits.
  BOOST_TEST(Daemon::Call(c, {{"id", 3}, {"op", "reload"}})["result"]["reloaded"] == true);
}

BOOST_AUTO_TEST_CASE(partial_split_and_batched_lines_are_framed) {
  Daemon d;
  Client c = d.Connect();
  std::string req =
      json{{"id", 1}, {"op", "check"}, {"subject", "a@b.it"}, {"channel", "email"}}.dump();
  // Split across writes, byte by byte for the first part.
  for (size_t i = 0; i < 10; ++i) BOOST_TEST(c.Send(req.substr(i, 1)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(c.Send(req.substr(10) + "\n").ok());
  BOOST_TEST(Daemon::Read(c)["id"] == 1);
  // Several requests in one write, and a partial one completed later.
  std::string many;
  for (int i = 2; i <= 50; ++i)
    many += json{{"id", i}, {"op", "check"}, {"subject", "a@b.it"}, {"channel", "email"}}.dump() +
            "\r\n";
  std::string last =
      json{{"id", 51}, {"op", "check"}, {"subject", "a@b.it"}, {"channel", "email"}}.dump();
  BOOST_TEST(c.Send(many + last.substr(0, 20)).ok());
  for (int i = 2; i <= 50; ++i) BOOST_TEST(Daemon::Read(c)["id"] == i);
  BOOST_TEST(c.Send(last.substr(20) + "\n").ok());
  BOOST_TEST(Daemon::Read(c)["id"] == 51);
}

BOOST_AUTO_TEST_CASE(a_uid_without_a_role_is_forbidden_and_a_reader_cannot_write) {
  {
    Daemon d([](Config& c) { c.daemon.owner_role = Role::kNone; });
    Client c = d.Connect();
    json r =
        Daemon::Call(c, {{"id", 1}, {"op", "check"}, {"subject", "a@b.it"}, {"channel", "email"}});
    BOOST_TEST(Code(r) == "forbidden");
    BOOST_TEST(r["error"]["message"].get<std::string>().find("role none") != std::string::npos);
  }
  {
    Daemon d([](Config& c) {
      c.daemon.owner_role = Role::kNone;
      c.daemon.readers.users = {std::to_string(::getuid())};
    });
    Client c = d.Connect();
    BOOST_TEST(
        Daemon::Call(c, {{"id", 1}, {"op", "check"}, {"subject", "a@b.it"}, {"channel", "email"}})
            .contains("result"));
    uint64_t head =
        Daemon::Call(c, {{"id", 2}, {"op", "stats"}})["result"]["head_seq"].get<uint64_t>();
    BOOST_TEST(Code(Daemon::Call(
                   c, {{"id", 3}, {"op", "block"}, {"subject", "a@b.it"}, {"reason", "r"}})) ==
               "forbidden");
    BOOST_TEST(Code(Daemon::Call(c, {{"id", 4},
                                     {"op", "unblock"},
                                     {"subject", "a@b.it"},
                                     {"reason", "r"},
                                     {"officer", "x"}})) == "forbidden");
    BOOST_TEST(Daemon::Call(c, {{"id", 5}, {"op", "stats"}})["result"]["head_seq"] == head);
  }
  {
    // A writer writes but may not unblock or export: officer work.
    Daemon d([](Config& c) {
      c.daemon.owner_role = Role::kNone;
      c.daemon.writers.groups = {std::to_string(::getgid())};
    });
    Client c = d.Connect();
    BOOST_TEST(Daemon::Call(c, {{"id", 1}, {"op", "block"}, {"subject", "a@b.it"}, {"reason", "r"}})
                   .contains("result"));
    BOOST_TEST(Code(Daemon::Call(c, {{"id", 2},
                                     {"op", "unblock"},
                                     {"subject", "a@b.it"},
                                     {"reason", "r"},
                                     {"officer", "x"}})) == "forbidden");
  }
}

// Issue 16: erase over the socket is officer work; afterwards the subject
// denies on every channel, its history reads erased, and it cannot be erased
// twice.
BOOST_AUTO_TEST_CASE(erase_is_an_officers_and_keeps_the_suppression) {
  {
    Daemon d([](Config& c) {
      c.daemon.owner_role = Role::kNone;
      c.daemon.writers.groups = {std::to_string(::getgid())};
    });
    Client c = d.Connect();
    BOOST_TEST(Code(Daemon::Call(c, {{"id", 1},
                                     {"op", "erase"},
                                     {"subject", "a@b.it"},
                                     {"request", "DPO-1"},
                                     {"officer", "x"}})) == "forbidden");
  }
  Daemon d;
  Client c = d.Connect();
  json b = Daemon::Call(c, {{"id", 1},
                            {"op", "block"},
                            {"subject", "luisa@example.it"},
                            {"reason", "wrote to object, luisa@example.it"},
                            {"source", "objection"}});
  BOOST_TEST_REQUIRE(b.contains("result"), b.dump());
  json h = Daemon::Call(c, {{"id", 2}, {"op", "history"}, {"subject", "luisa@example.it"}});
  const json& blocked = h["result"]["events"].back();
  BOOST_TEST(blocked["subject"] == "luisa@example.it");
  BOOST_TEST(blocked["personal"] == "open");
  BOOST_TEST(blocked["subject_id"].get<std::string>().size() == 64u);
  BOOST_TEST(blocked["summary"].get<std::string>().find("wrote to object") != std::string::npos);
  json e = Daemon::Call(c, {{"id", 3},
                            {"op", "erase"},
                            {"subject", "Luisa@Example.it"},
                            {"request", "DPO-2026-118"},
                            {"officer", "m.bianchi"}});
  BOOST_TEST_REQUIRE(e.contains("result"), e.dump());
  BOOST_TEST(e["result"]["subject"] == "luisa@example.it");
  BOOST_TEST(e["result"]["key_destroyed"] == true);
  json chk = Daemon::Call(
      c, {{"id", 4}, {"op", "check"}, {"subject", "luisa@example.it"}, {"channel", "newsletter"}});
  BOOST_TEST(chk["result"]["decision"] == "deny");
  BOOST_TEST(chk["result"]["reasons"][0]["code"] == "erased");
  h = Daemon::Call(c, {{"id", 5}, {"op", "history"}, {"subject", "luisa@example.it"}});
  for (const json& ev : h["result"]["events"]) {
    if (ev["type"] != "blocked") continue;
    BOOST_TEST(ev["personal"] == "erased");
    BOOST_TEST(!ev.contains("subject"));
    BOOST_TEST(ev["summary"].get<std::string>().find("[erased]") != std::string::npos);
  }
  BOOST_TEST(h["result"]["events"].back()["type"] == "erased");
  json twice = Daemon::Call(c, {{"id", 6},
                                {"op", "erase"},
                                {"subject", "luisa@example.it"},
                                {"request", "DPO-2026-119"},
                                {"officer", "m.bianchi"}});
  BOOST_TEST(Code(twice) == "conflict", twice.dump());
  json no_request = Daemon::Call(
      c, {{"id", 7}, {"op", "erase"}, {"subject", "x@example.it"}, {"officer", "m.bianchi"}});
  BOOST_TEST(Code(no_request) == "bad_request", no_request.dump());
}

BOOST_AUTO_TEST_CASE(subscribe_streams_past_then_live_events) {
  Daemon d;
  Client w = d.Connect();
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(
        Daemon::Call(
            w, {{"id", i}, {"op", "block"}, {"subject", Cat("s", i, "@b.it")}, {"reason", "r"}})
            .contains("result"));
  uint64_t head =
      Daemon::Call(w, {{"id", 9}, {"op", "stats"}})["result"]["head_seq"].get<uint64_t>();
  Client s = d.Connect();
  json ok = Daemon::Call(s, {{"id", "sub"}, {"op", "subscribe"}, {"from_seq", head - 1}});
  BOOST_TEST(ok["result"]["head_seq"] == head);
  BOOST_TEST(Daemon::Read(s)["event"]["seq"] == head - 1);
  BOOST_TEST(Daemon::Read(s)["event"]["seq"] == head);
  json live =
      Daemon::Call(w, {{"id", 10}, {"op", "block"}, {"subject", "live@b.it"}, {"reason", "r"}});
  json e = Daemon::Read(s)["event"];
  BOOST_TEST(e["seq"] == live["result"]["seq"]);
  BOOST_TEST(e["subject"] == "live@b.it");
  BOOST_TEST(e["type"] == "blocked");
}

BOOST_AUTO_TEST_CASE(a_subscriber_behind_its_queue_is_disconnected_and_resumes) {
  Daemon d([](Config& c) { c.daemon.subscriber_queue = 100; });
  Client s = d.Connect();
  uint64_t head =
      Daemon::Call(s, {{"id", 1}, {"op", "subscribe"}, {"from_seq", 1000000}})["result"]["head_seq"]
          .get<uint64_t>();
  Client w = d.Connect();
  json b =
      Daemon::Call(w, {{"id", 1}, {"op", "block"}, {"content", Numbers(500)}, {"reason", "list"}});
  BOOST_TEST(b["result"]["newly_blocked"] == 500);
  json lag = Daemon::Read(s);
  BOOST_TEST(Code(lag) == "lagging");
  BOOST_TEST(!s.ReadLine().ok());
  // Resume from the first event it did not get: all 500 arrive, in order.
  Client again = d.Connect();
  BOOST_TEST(Daemon::Call(again, {{"id", 2}, {"op", "subscribe"}, {"from_seq", head + 1}})
                 .contains("result"));
  for (uint64_t i = 1; i <= 500; ++i)
    BOOST_TEST_REQUIRE(Daemon::Read(again)["event"]["seq"] == head + i);
}

void CheckLedger(const std::string& data_dir, const std::vector<uint64_t>& acked, uint64_t checks);

BOOST_AUTO_TEST_CASE(thirty_two_clients_for_ten_seconds_lose_no_acknowledged_write) {
  std::string data_dir;
  std::vector<uint64_t> acked;
  std::mutex mu;
  std::atomic<uint64_t> checks{0};
  {
    Daemon d;
    data_dir = d.data_dir();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::vector<std::thread> clients;
    std::atomic<int> failures{0};
    for (int t = 0; t < 32; ++t)
      clients.emplace_back([&, t] {
        try {
          Client c = d.Connect();
          std::vector<uint64_t> mine;
          for (int i = 0; std::chrono::steady_clock::now() < until; ++i) {
            std::string subject = Cat("+39347", 2000000 + t * 10000 + i % 5000);
            json r;
            if (i % 3 == 0) {
              r = Daemon::Call(c, {{"id", i},
                                   {"op", "block"},
                                   {"subject", subject},
                                   {"channels", "voice"},
                                   {"reason", "load"}});
              if (r.contains("result"))
                mine.push_back(r["result"]["seq"].get<uint64_t>());
              else if (Code(r) != "busy")
                ++failures;
            } else if (i % 3 == 1) {
              r = Daemon::Call(c, {{"id", i},
                                   {"op", "consent_grant"},
                                   {"subject", subject},
                                   {"type", "phone-marketing"},
                                   {"given", "2026-05-01"}});
              if (r.contains("result"))
                mine.push_back(r["result"]["seq"].get<uint64_t>());
              else if (Code(r) != "busy")
                ++failures;
            } else {
              r = Daemon::Call(
                  c, {{"id", i}, {"op", "check"}, {"subject", subject}, {"channel", "sms"}});
              if (!r.contains("result")) ++failures;
              ++checks;
            }
          }
          std::lock_guard lock(mu);
          acked.insert(acked.end(), mine.begin(), mine.end());
        } catch (const std::exception&) {
          ++failures;
        }
      });
    for (auto& t : clients) t.join();
    BOOST_TEST(failures.load() == 0);
    d.Stop();
    BOOST_TEST(d.result().ok());
    CheckLedger(data_dir, acked, checks.load());
  }
}

void CheckLedger(const std::string& data_dir, const std::vector<uint64_t>& acked, uint64_t checks) {
  BOOST_TEST_MESSAGE(acked.size() << " writes and " << checks << " checks acknowledged");
  BOOST_TEST(acked.size() > 1000u);
  std::set<uint64_t> unique(acked.begin(), acked.end());
  BOOST_TEST(unique.size() == acked.size());  // every write its own event
  LedgerOptions o;
  o.data_dir = data_dir;
  auto l = Ledger::Open(o);
  BOOST_TEST_REQUIRE(l.ok(), l.status().ToString());
  VerifyReport v = (*l)->Verify();
  BOOST_TEST(v.ok);
  BOOST_TEST(v.head.seq >= *unique.rbegin());
  for (uint64_t seq : unique) BOOST_TEST_REQUIRE((*l)->log().Read(seq).ok());
  auto rebuilt = (*l)->Rebuild();
  BOOST_TEST_REQUIRE(rebuilt.ok(), rebuilt.status().ToString());
  BOOST_TEST(rebuilt->equal);
}

BOOST_AUTO_TEST_CASE(checkpoint_proof_and_consistency_over_the_socket) {
  Daemon d([](Config& c) { c.ledger.checkpoint.interval_ms = 200; });
  Client c = d.Connect();
  json first = Daemon::Call(c, {{"op", "checkpoint"}, {"id", 1}});
  const uint64_t first_size = first["result"]["size"].get<uint64_t>();  // the policy's events
  auto key = note::Verifier::Parse(first["result"]["key"].get<std::string>());
  BOOST_TEST_REQUIRE(key.ok());
  // Three writes in a row: the first one's batch may be signed, the rest
  // fall within the interval. A quiet interval later the head is signed.
  for (int i = 0; i < 3; ++i)
    BOOST_TEST_REQUIRE(
        Daemon::Call(
            c, {{"op", "block"}, {"id", 2}, {"subject", "+393471000001"}, {"reason", Cat("r", i)}})
            .contains("result"));
  json head = Daemon::Call(c, {{"op", "stats"}, {"id", 3}});
  const uint64_t head_seq = head["result"]["head_seq"].get<uint64_t>();
  json latest;
  for (int tries = 0; tries < 50; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    latest = Daemon::Call(c, {{"op", "checkpoint"}, {"id", 4}});
    if (latest["result"]["size"] == head_seq) break;
  }
  BOOST_TEST(latest["result"]["size"].get<uint64_t>() == head_seq);
  BOOST_TEST_REQUIRE(key->Open(latest["result"]["checkpoint"].get<std::string>()).ok());

  json proof = Daemon::Call(c, {{"op", "proof"}, {"id", 5}, {"subject", "347 100 0001"}});
  BOOST_TEST_REQUIRE(proof.contains("result"), proof.dump());
  auto check = VerifyProof(proof["result"].dump(), *key);
  BOOST_TEST_REQUIRE(check.ok(), check.status().ToString());
  BOOST_TEST(check->events.size() == 3u);
  BOOST_TEST(check->checkpoint.size == head_seq);

  json cons = Daemon::Call(c, {{"op", "consistency"}, {"id", 6}, {"old_size", first_size}});
  BOOST_TEST_REQUIRE(cons.contains("result"), cons.dump());
  auto old_cp = note::ParseCheckpoint(*key->Open(first["result"]["checkpoint"].get<std::string>()));
  std::vector<Hash256> path;
  for (const json& h : cons["result"]["proof"])
    path.push_back(HashFromBase64(h.get<std::string>()).value());
  BOOST_TEST(
      merkle::VerifyConsistency(first_size, head_seq, old_cp->root, check->checkpoint.root, path));
  // Errors name the field.
  json bad = Daemon::Call(c, {{"op", "consistency"}, {"id", 7}, {"old_size", head_seq + 5}});
  BOOST_TEST(Code(bad) == "bad_request");
  json neither = Daemon::Call(c, {{"op", "proof"}, {"id", 8}});
  BOOST_TEST(Code(neither) == "bad_request");
}

BOOST_AUTO_TEST_SUITE_END()
