// A Ledger in a temporary directory on a clock the test moves (Europe/Rome),
// shared by the projections tests.
#pragma once

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include "tacet/projections/ledger.h"
#include "test_util.h"

namespace tacet::test {

const Actor kOfficer{"officer", "", "projections_tests"};

struct VoiceAnswer {
  bool allow = false;
  std::string status;  // the registry reason: "registry_cleared", ...
  TimeMs valid_until = 0;
  std::vector<uint64_t> decided_by;
};
inline VoiceAnswer Summarise(const Decision& d) {
  VoiceAnswer v{d.verdict == Verdict::kAllow, "", d.valid_until, d.evidence};
  for (const auto& r : d.reasons)
    if (r.code.rfind("registry_", 0) == 0 && v.status.empty()) v.status = r.code;
  return v;
}

// A ledger in a temporary directory on a clock the test moves (Europe/Rome).
struct Fixture {
  test::TempDir dir;
  ManualClock clock{0};
  std::unique_ptr<Ledger> ledger;
  TimeZone rome = TimeZone::Load("Europe/Rome").value();

  // `sync`: wait for the disk on every commit (tests of long histories turn
  // it off; durability is the crash tests' subject).
  explicit Fixture(bool sync = true) {
    SetNow("2026-08-31 10:00");
    LedgerOptions o;
    o.sync = sync;
    o.data_dir = dir / "data";
    o.create_if_missing = true;
    o.clock = &clock;
    auto l = Ledger::Open(o);
    BOOST_TEST_REQUIRE(l.ok(), l.status().ToString());
    ledger = std::move(l).value();
  }
  void SetNow(const std::string& local) { clock.Set(rome.Parse(local).value()); }
  TimeMs At(const std::string& local) { return rome.Parse(local).value(); }

  ExportReport Export(const std::string& candidates, uint64_t limit = 0) {
    std::string path = dir / ("candidates-" + std::to_string(clock.NowMs()) + ".txt");
    test::WriteText(path, candidates);
    ExportRequest req;
    req.candidates_path = path;
    if (limit != 0) req.limit = limit;
    req.out_dir = dir / "out";
    auto r = ledger->Export(req, kOfficer);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    return std::move(r).value();
  }
  Result<ImportReport> Import(uint64_t session, const std::string& received,
                              const std::string& content, bool supersede = false,
                              const std::string& name = "") {
    std::string path = dir / (name.empty() ? "return-" + std::to_string(clock.NowMs()) + "-" +
                                                 std::to_string(++imports_) + ".txt"
                                           : name);
    test::WriteText(path, content);
    return ImportFile(session, received, path, supersede);
  }
  Result<ImportReport> ImportFile(uint64_t session, const std::string& received,
                                  const std::string& path, bool supersede = false,
                                  bool empty_is_all_listed = false) {
    ImportRequest req;
    req.session_id = session;
    req.received = received;
    req.path = path;
    req.supersede = supersede;
    req.empty_is_all_listed = empty_is_all_listed;
    return ledger->ImportReturn(req, kOfficer);
  }
  // An empty filtered return: the registry lists every number sent.
  Result<ImportReport> ImportAllListed(uint64_t session, const std::string& received) {
    std::string path = dir / ("return-" + std::to_string(clock.NowMs()) + "-" +
                              std::to_string(++imports_) + "-empty.txt");
    test::WriteText(path, "");
    return ImportFile(session, received, path, false, true);
  }
  // The voice answer at a local time, summarised.
  VoiceAnswer Check(const std::string& subject, const std::string& at) {
    auto a = ledger->Decide(subject, Channel::kVoice, At(at));
    BOOST_TEST_REQUIRE(a.ok(), a.status().ToString());
    return Summarise(a->decision);
  }
  std::vector<std::string> FileLines(const std::string& path) {
    std::vector<std::string> lines;
    std::string content = test::ReadText(path);
    size_t pos = 0;
    while (pos < content.size()) {
      size_t e = content.find("\r\n", pos);
      BOOST_TEST_REQUIRE(e != std::string::npos, "every line ends with CRLF");
      lines.push_back(content.substr(pos, e - pos));
      pos = e + 2;
    }
    return lines;
  }
  int imports_ = 0;
};

// Head seq and hash must not move across a refused operation.
struct HeadGuard {
  explicit HeadGuard(Ledger& l) : ledger(l), before(l.log().head()) {}
  void Check() const {
    Head after = ledger.log().head();
    BOOST_TEST(after.seq == before.seq);
    BOOST_TEST(after.hash == before.hash);
  }
  Ledger& ledger;
  Head before;
};

}  // namespace tacet::test
