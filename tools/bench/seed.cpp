#include <fstream>

#include "bench.h"

namespace tacet::bench {

Seeded SeedRpo(Ledger& ledger, const std::string& dir, uint64_t n) {
  Seeded s;
  {
    std::ofstream c(dir + "/candidates.txt");
    for (uint64_t i = 0; i < n; ++i) c << Phone(i) << "\n";
  }
  Actor actor{"bench", "", "tacet-bench"};
  ExportRequest ex;
  ex.candidates_path = dir + "/candidates.txt";
  auto t0 = Wall::now();
  auto er = ledger.Export(ex, actor);
  if (!er.ok()) Die(er.status());
  s.export_s = Seconds(t0);
  s.exported = std::move(er).value();

  // The return: one line per exported number (N lines), in the status
  // layout; every tenth number is registered (status 1), the rest callable.
  std::string ret_path = dir + "/return.txt";
  {
    std::ifstream in(s.exported.files[0].txt_path, std::ios::binary);
    std::ofstream out(ret_path, std::ios::binary);
    std::string line;
    uint64_t i = 0;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out << line << (i++ % 10 == 0 ? ",1\r\n" : ",0\r\n");
    }
  }
  ImportRequest im;
  im.session_id = s.exported.files[0].session_id;
  im.received = FormatDate(ledger.zone().DayOf(ledger.clock().NowMs()));
  im.path = ret_path;
  t0 = Wall::now();
  auto ir = ledger.ImportReturn(im, actor);
  if (!ir.ok()) Die(ir.status());
  s.import_s = Seconds(t0);
  s.imported = std::move(ir).value();
  return s;
}

}  // namespace tacet::bench
