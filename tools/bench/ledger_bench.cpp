// Issues 2 and 3 on the library, as the CLI calls it: export of N
// candidates, import of their N-line return, check latency; decisions on
// every channel with their point lookups, and a rebuild of every projection
// from the whole log. Issue 5: the import maintains the Merkle tree and signs
// checkpoints; proof files of one event against the latest checkpoint.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "bench.h"
#include "tacet/projections/ledger.h"
#include "tacet/projections/proof.h"

namespace tacet::bench {

int RunLedgerBench(const Options& opt) {
  const uint64_t n = opt.numbers, checks = opt.checks;
  const int runs = opt.runs;
  const std::string& tmp = opt.tmp;
  std::vector<double> exp_s, imp_s, check_us, rebuild_eps, proof_us, proof_p99_us;
  uint64_t proof_reads = 0;
  std::vector<double> decide_us[4];  // voice, sms, email, newsletter
  uint64_t lookups = 0;
  for (int run = 1; run <= runs; ++run) {
    std::string dir = tmp + "/tacet-bench-" + std::to_string(getpid()) + "-" + std::to_string(run);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    LedgerOptions o;
    o.data_dir = dir;
    o.create_if_missing = true;
    auto ledger = Ledger::Open(o);
    if (!ledger.ok()) Die(ledger.status());
    Actor actor{"bench", "", "tacet-bench"};
    Seeded seeded_rpo = SeedRpo(**ledger, dir, n);
    exp_s.push_back(seeded_rpo.export_s);
    imp_s.push_back(seeded_rpo.import_s);
    const ExportReport* er = &seeded_rpo.exported;
    const ImportReport* ir = &seeded_rpo.imported;

    std::mt19937_64 rng(run);
    TimeMs now = (*ledger)->clock().NowMs();
    uint64_t allowed = 0;
    auto t0 = Wall::now();
    for (uint64_t i = 0; i < checks; ++i) {
      uint64_t k = rng() % n;
      auto a = (*ledger)->Decide(Phone(k), Channel::kVoice, now);
      if (!a.ok()) Die(a.status());
      allowed += a->decision.verdict == Verdict::kAllow;
    }
    check_us.push_back(Seconds(t0) * 1e6 / static_cast<double>(checks));

    // Proof files of one random event each, against the latest checkpoint
    // (the whole tacet proof --seq N but the printing).
    if (!(*ledger)->log().Checkpoint().ok()) Die(Status::Internal("no checkpoint"));
    const uint64_t head = (*ledger)->log().head().seq;
    std::vector<double> one;
    uint64_t reads = 0;
    for (uint64_t i = 0; i < std::min<uint64_t>(checks, 2000); ++i) {
      const uint64_t seq = 1 + rng() % head;
      const uint64_t before = (*ledger)->log().tree_reads();
      auto p0 = Wall::now();
      auto proof = MakeProof(**ledger, ProofRequest{"", seq});
      if (!proof.ok()) Die(proof.status());
      one.push_back(Seconds(p0) * 1e6);
      reads = std::max(reads, (*ledger)->log().tree_reads() - before);
    }
    proof_reads = std::max(proof_reads, reads);
    proof_us.push_back(Median(one));
    std::sort(one.begin(), one.end());
    proof_p99_us.push_back(one[one.size() * 99 / 100]);

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
    o.reconcile_policy = true;
    ledger = Ledger::Open(o);
    if (!ledger.ok()) Die(ledger.status());
    const std::string today = FormatDate((*ledger)->zone().DayOf((*ledger)->clock().NowMs()));
    auto email = [](uint64_t k) { return "person" + std::to_string(k) + "@example.it"; };
    const uint64_t seeded = std::min<uint64_t>(n / 10, 20'000);
    {
      std::ofstream dnc(dir + "/dnc.txt");
      for (uint64_t i = 0; i < seeded; ++i) {
        uint64_t k = rng() % n;
        dnc << Phone(k) << "\n" << email(k) << "\n";
        Status st =
            (*ledger)->GrantConsent({Phone(rng() % n), "mkt", today, "bench"}, actor).status();
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
        auto a = (*ledger)->Decide(is_phone ? Phone(k) : email(k), ch, now);
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
        "(at most %llu lookups); rebuild %llu events in %.2f s = %.0f events/s; proof of one "
        "event %.0f us (p99 %.0f us, at most %llu tree records)\n",
        run, static_cast<unsigned long long>(er->exported), exp_s.back(),
        static_cast<unsigned long long>(ir->lines), static_cast<unsigned long long>(ir->cleared),
        static_cast<unsigned long long>(ir->listed), imp_s.back(), check_us.back(),
        static_cast<unsigned long long>(allowed), decide_us[0].back(), decide_us[1].back(),
        decide_us[2].back(), decide_us[3].back(), static_cast<unsigned long long>(max_lookups),
        static_cast<unsigned long long>(rb->events), rb->seconds, rebuild_eps.back(),
        proof_us.back(), proof_p99_us.back(), static_cast<unsigned long long>(reads));
    std::fflush(stdout);
    ledger->reset();
    std::filesystem::remove_all(dir);
  }
  std::printf(
      "median of %d: export %.2f s, import %.2f s, check %.2f us, decide voice %.2f sms %.2f "
      "email %.2f newsletter %.2f us, at most %llu point lookups per decision, rebuild %.0f "
      "events/s, proof of one event %.0f us (p99 %.0f us, at most %llu tree records)\n",
      runs, Median(exp_s), Median(imp_s), Median(check_us), Median(decide_us[0]),
      Median(decide_us[1]), Median(decide_us[2]), Median(decide_us[3]),
      static_cast<unsigned long long>(lookups), Median(rebuild_eps), Median(proof_us),
      Median(proof_p99_us), static_cast<unsigned long long>(proof_reads));
  return 0;
}

}  // namespace tacet::bench
