// Issue 16's bulk targets as users meet them: whole `tacet` processes on
// the embedded store, timed from spawn to exit (what `time tacet ...`
// shows): export of N candidates, then import-return of their N-line
// return, each on a fresh ledger per run.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "bench.h"

extern char** environ;

namespace tacet::bench {

double TimedProcess(const std::vector<std::string>& args, const std::string& log,
                    const std::string& out) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (out.empty()) {
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  pid_t pid = 0;
  const auto t0 = Wall::now();
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0)
    Die(Status::IOError("cannot run " + args[0]));
  int status = 0;
  ::waitpid(pid, &status, 0);
  const double s = Seconds(t0);
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    Die(Status::Internal(args[0] + " " + args[3] + " failed; see " + log));
  return s;
}

namespace {

double Timed(const std::vector<std::string>& args, const std::string& log) {
  return TimedProcess(args, log, "");
}

}  // namespace

int RunCliBench(const Options& opt) {
  const uint64_t n = opt.numbers;
  std::vector<double> exp_s, imp_s;
  const std::string work = opt.tmp + "/tacet-cli-bench-" + std::to_string(::getpid());
  std::filesystem::create_directories(work);
  {
    std::ofstream c(work + "/candidates.txt");
    for (uint64_t i = 0; i < n; ++i) c << Phone(i) << "\n";
  }
  const std::string log = work + "/tacet.log";
  for (int run = 1; run <= opt.runs; ++run) {
    const std::string data = work + "/data-" + std::to_string(run);
    std::filesystem::remove_all(data);
    Timed({opt.tacet, "--data-dir", data, "init"}, log);
    exp_s.push_back(Timed({opt.tacet, "--data-dir", data, "export", "--registry", "it-rpo",
                           "--candidates", work + "/candidates.txt"},
                          log));
    // The return, as SeedRpo writes it: every tenth number listed.
    std::string upload;
    for (const auto& f : std::filesystem::directory_iterator(data + "/exports"))
      if (f.path().extension() == ".txt") upload = f.path().string();
    {
      std::ifstream in(upload, std::ios::binary);
      std::ofstream out(work + "/return.txt", std::ios::binary);
      std::string line;
      uint64_t i = 0;
      while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out << line << (i++ % 10 == 0 ? ",1\r\n" : ",0\r\n");
      }
    }
    const std::string today =
        FormatDate(TimeZone::Load("Europe/Rome").value().DayOf(SystemClock::Default()->NowMs()));
    imp_s.push_back(Timed({opt.tacet, "--data-dir", data, "import-return", "--session", "1",
                           "--received", today, work + "/return.txt"},
                          log));
    std::printf("run %d: tacet export %.3f s, tacet import-return %.3f s (%llu numbers)\n", run,
                exp_s.back(), imp_s.back(), static_cast<unsigned long long>(n));
    std::fflush(stdout);
    std::filesystem::remove_all(data);
  }
  std::printf("median of %d: tacet export %.3f s, tacet import-return %.3f s\n", opt.runs,
              Median(exp_s), Median(imp_s));
  std::filesystem::remove_all(work);
  return 0;
}

}  // namespace tacet::bench
