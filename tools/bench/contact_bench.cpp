// Issues 17 and 18's targets as users meet them: whole `tacet` processes
// on the embedded store. A supplier's list of the N numbers registered for
// a campaign (issue 18), a dialer's call-detail export of N attempts (each
// to another number, 1% ending do_not_call) imported on a fresh ledger,
// then the audit of their day written as CSV.
#include <filesystem>
#include <fstream>

#include "bench.h"

namespace tacet::bench {

int RunContactBench(const Options& opt) {
  const uint64_t n = opt.numbers;
  const std::string work = opt.tmp + "/tacet-contact-bench-" + std::to_string(::getpid());
  std::filesystem::create_directories(work);
  const TimeZone rome = TimeZone::Load("Europe/Rome").value();
  // Yesterday, 09:00-19:00: every attempt started before its recording.
  const Day day = rome.DayOf(SystemClock::Default()->NowMs()) - 1;
  const std::string date = FormatDate(day);
  {
    static constexpr const char* kOutcomes[] = {"no_answer", "answered", "busy",
                                                "voicemail", "refused",  "sale"};
    std::ofstream c(work + "/calls.csv");
    c << "subject,started,outcome,campaign,caller_id,operator,duration\n";
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t minute = 9 * 60 + (i * 600) / n;  // spread over ten hours
      char started[32];
      std::snprintf(started, sizeof started, "%s %02llu:%02llu", date.c_str(),
                    static_cast<unsigned long long>(minute / 60),
                    static_cast<unsigned long long>(minute % 60));
      c << Phone(i) << "," << started << "," << (i % 100 == 7 ? "do_not_call" : kOutcomes[i % 6])
        << "," << (i % 2 ? "autumn" : "winter") << ",+390299999999,op" << i % 50 << "," << i % 300
        << "\n";
    }
  }
  {
    std::ofstream l(work + "/leads.csv");
    l << "telefono\n";
    for (uint64_t i = 0; i < n; ++i) l << Phone(i) << "\n";
  }
  const std::string log = work + "/tacet.log";
  std::vector<double> list_s, imp_s, aud_s;
  for (int run = 1; run <= opt.runs; ++run) {
    const std::string data = work + "/data-" + std::to_string(run);
    std::filesystem::remove_all(data);
    TimedProcess({opt.tacet, "--data-dir", data, "init"}, log, "");
    TimedProcess({opt.tacet, "--data-dir", data, "campaign", "define", "spring", "--title",
                  "Winter", "--controller", "Acme", "--purpose", "marketing"},
                 log, "");
    list_s.push_back(TimedProcess(
        {opt.tacet, "--data-dir", data, "list", "register", work + "/leads.csv", "--campaign",
         "spring", "--supplier", "Lead Co", "--acquired", date, "--basis", "supplier_consent"},
        log, ""));
    imp_s.push_back(TimedProcess(
        {opt.tacet, "--data-dir", data, "contact", "import", work + "/calls.csv"}, log, ""));
    aud_s.push_back(TimedProcess(
        {opt.tacet, "--data-dir", data, "audit", "--from", date, "--to", date, "--format", "csv"},
        log, work + "/audit.csv"));
    std::printf(
        "run %d: tacet list register %.3f s, tacet contact import %.3f s, tacet audit --format "
        "csv %.3f s (%llu numbers and attempts)\n",
        run, list_s.back(), imp_s.back(), aud_s.back(), static_cast<unsigned long long>(n));
    std::fflush(stdout);
    std::filesystem::remove_all(data);
  }
  std::printf(
      "median of %d: tacet list register %.3f s, tacet contact import %.3f s, tacet audit %.3f "
      "s\n",
      opt.runs, Median(list_s), Median(imp_s), Median(aud_s));
  std::filesystem::remove_all(work);
  return 0;
}

}  // namespace tacet::bench
