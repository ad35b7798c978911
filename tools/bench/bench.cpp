// tacet-bench: measures the speed targets on a fresh ledger in a temporary
// directory, with the same library calls as the CLI: export of N
// candidates, import of their N-line return, check latency (issue 2);
// decisions on every channel with their point lookups, and a rebuild of
// every projection from the whole log (issue 3).
// Prints each run and the median of --runs runs.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "tacet/core/allocator.h"
#include "tacet/projections/ledger.h"

namespace {

using namespace tacet;
using Wall = std::chrono::steady_clock;

double Seconds(Wall::time_point since) {
  return std::chrono::duration<double>(Wall::now() - since).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

[[noreturn]] void Die(const Status& s) {
  std::fprintf(stderr, "tacet-bench: %s\n", s.ToString().c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tacet-bench: export/import/check speed on a fresh temporary ledger"};
  uint64_t n = 1'000'000;
  int runs = 3;
  uint64_t checks = 100'000;
  std::string tmp = std::filesystem::temp_directory_path().string();
  app.add_option("--numbers", n, "Candidates exported and returned (default 1000000)");
  app.add_option("--runs", runs, "Runs; the median is reported (default 3)");
  app.add_option("--checks", checks, "Point checks timed per run (default 100000)");
  app.add_option("--tmp", tmp, "Where the temporary ledgers go");
  CLI11_PARSE(app, argc, argv);

  std::printf("allocator: %s\n", AllocatorInfo().c_str());
  std::vector<double> exp_s, imp_s, check_us, rebuild_eps;
  std::vector<double> decide_us[4];  // voice, sms, email, newsletter
  uint64_t lookups = 0;
  for (int run = 1; run <= runs; ++run) {
    std::string dir = tmp + "/tacet-bench-" + std::to_string(getpid()) + "-" + std::to_string(run);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    {
      std::ofstream c(dir + "/candidates.txt");
      for (uint64_t i = 0; i < n; ++i) c << (i % 2 ? "06 " : "+39 347 ") << 1'000'000 + i << "\n";
    }
    LedgerOptions o;
    o.data_dir = dir;
    o.create_if_missing = true;
    auto ledger = Ledger::Open(o);
    if (!ledger.ok()) Die(ledger.status());
    Actor actor{"bench", "", "tacet-bench"};

    ExportRequest ex;
    ex.candidates_path = dir + "/candidates.txt";
    auto t0 = Wall::now();
    auto er = (*ledger)->Export(ex, actor);
    if (!er.ok()) Die(er.status());
    exp_s.push_back(Seconds(t0));

    // The return: one line per exported number (N lines), in the status
    // layout; every tenth number is registered (status 1), the rest callable.
    std::string ret_path = dir + "/return.txt";
    {
      std::ifstream in(er->files[0].txt_path, std::ios::binary);
      std::ofstream out(ret_path, std::ios::binary);
      std::string line;
      uint64_t i = 0;
      while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out << line << (i++ % 10 == 0 ? ",1\r\n" : ",0\r\n");
      }
    }
    ImportRequest im;
    im.session_id = er->files[0].session_id;
    im.received = FormatDate((*ledger)->zone().DayOf((*ledger)->clock().NowMs()));
    im.path = ret_path;
    t0 = Wall::now();
    auto ir = (*ledger)->ImportReturn(im, actor);
    if (!ir.ok()) Die(ir.status());
    imp_s.push_back(Seconds(t0));

    std::mt19937_64 rng(run);
    TimeMs now = (*ledger)->clock().NowMs();
    uint64_t allowed = 0;
    t0 = Wall::now();
    for (uint64_t i = 0; i < checks; ++i) {
      uint64_t k = rng() % n;
      auto a = (*ledger)->Decide((k % 2 ? "06 " : "+39 347 ") + std::to_string(1'000'000 + k),
                                 Channel::kVoice, now);
      if (!a.ok()) Die(a.status());
      allowed += a->decision.verdict == Verdict::kAllow;
    }
    check_us.push_back(Seconds(t0) * 1e6 / static_cast<double>(checks));

    // Consent and do-not-call records for a tenth of the numbers and as many
    // e-mail addresses (recorded without waiting for the disk: this part
    // prepares the decisions, it is not timed), then decisions on every
    // channel, counting the point lookups each costs.
    ledger->reset();
    o.sync = false;
    o.create_if_missing = false;
    o.policy.consent_types_declared = true;
    o.policy.consent_types = {{"mkt", "Marketing", "", 365,
                               static_cast<uint8_t>(kUseNewsletter | kUseEmail | kUsePhone)}};
    o.policy.reasons_declared = true;
    o.policy.reasons = {{"callback", "Asked to be called back"}};
    ledger = Ledger::Open(o);
    if (!ledger.ok()) Die(ledger.status());
    const std::string today = FormatDate((*ledger)->zone().DayOf((*ledger)->clock().NowMs()));
    auto phone = [](uint64_t k) {
      return (k % 2 ? "06 " : "+39 347 ") + std::to_string(1'000'000 + k);
    };
    auto email = [](uint64_t k) { return "person" + std::to_string(k) + "@example.it"; };
    const uint64_t seeded = std::min<uint64_t>(n / 10, 20'000);
    {
      std::ofstream dnc(dir + "/dnc.txt");
      for (uint64_t i = 0; i < seeded; ++i) {
        uint64_t k = rng() % n;
        dnc << phone(k) << "\n" << email(k) << "\n";
        Status st =
            (*ledger)->GrantConsent({phone(rng() % n), "mkt", today, "bench"}, actor).status();
        if (st.ok())
          st = (*ledger)->GrantConsent({email(rng() % n), "mkt", today, "bench"}, actor).status();
        if (!st.ok()) Die(st);
      }
    }
    BlockRequest br;
    br.reason = "bench";
    br.source = "robinson";
    auto blocked = (*ledger)->BlockFile(dir + "/dnc.txt", br, actor);
    if (!blocked.ok()) Die(blocked.status());
    now = (*ledger)->clock().NowMs();
    uint64_t max_lookups = 0;
    for (Channel ch : kAllChannels) {
      const bool is_phone = ch == Channel::kVoice || ch == Channel::kSms;
      t0 = Wall::now();
      for (uint64_t i = 0; i < checks; ++i) {
        uint64_t k = rng() % n;
        uint64_t before = (*ledger)->log().point_lookups();
        auto a = (*ledger)->Decide(is_phone ? phone(k) : email(k), ch, now);
        if (!a.ok()) Die(a.status());
        max_lookups = std::max(max_lookups, (*ledger)->log().point_lookups() - before);
      }
      decide_us[static_cast<size_t>(ch) - 1].push_back(Seconds(t0) * 1e6 /
                                                       static_cast<double>(checks));
    }
    lookups = std::max(lookups, max_lookups);

    // Rebuild: every projection dropped and refolded from the whole log.
    auto rb = (*ledger)->Rebuild();
    if (!rb.ok()) Die(rb.status());
    if (!rb->equal) Die(Status::Corruption("rebuild differs from the incremental projections"));
    rebuild_eps.push_back(static_cast<double>(rb->events) / rb->seconds);

    std::printf(
        "run %d: export %llu in %.2f s, import %llu lines (%llu cleared, %llu listed) in %.2f s, "
        "check %.2f us (%llu allowed); decide voice %.2f sms %.2f email %.2f newsletter %.2f us "
        "(at most %llu lookups); rebuild %llu events in %.2f s = %.0f events/s\n",
        run, static_cast<unsigned long long>(er->exported), exp_s.back(),
        static_cast<unsigned long long>(ir->lines), static_cast<unsigned long long>(ir->cleared),
        static_cast<unsigned long long>(ir->listed), imp_s.back(), check_us.back(),
        static_cast<unsigned long long>(allowed), decide_us[0].back(), decide_us[1].back(),
        decide_us[2].back(), decide_us[3].back(), static_cast<unsigned long long>(max_lookups),
        static_cast<unsigned long long>(rb->events), rb->seconds, rebuild_eps.back());
    std::fflush(stdout);
    ledger->reset();
    std::filesystem::remove_all(dir);
  }
  std::printf(
      "median of %d: export %.2f s, import %.2f s, check %.2f us, decide voice %.2f sms %.2f "
      "email %.2f newsletter %.2f us, at most %llu point lookups per decision, rebuild %.0f "
      "events/s\n",
      runs, Median(exp_s), Median(imp_s), Median(check_us), Median(decide_us[0]),
      Median(decide_us[1]), Median(decide_us[2]), Median(decide_us[3]),
      static_cast<unsigned long long>(lookups), Median(rebuild_eps));
  return 0;
}
