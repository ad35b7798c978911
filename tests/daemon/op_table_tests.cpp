// Issue 16: one table registers each operation. PROTOCOL.md's tables of
// operations and roles are held to it, and every operation the table gives
// a handler is served by Service::Execute; the others are the daemon's.
#define BOOST_TEST_MODULE op_table_tests
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "tacet/service/service.h"

using namespace tacet;

namespace {

std::string ReadProtocol() {
  std::ifstream in(std::string(TACET_SOURCE_DIR) + "/daemon/PROTOCOL.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Cells(const std::string& row) {
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 1; i < row.size(); ++i) {
    if (row[i] == '|' && row[i - 1] != '\\') {
      while (!cell.empty() && cell.front() == ' ') cell.erase(0, 1);
      while (!cell.empty() && cell.back() == ' ') cell.pop_back();
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  return cells;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(op_table_tests)

BOOST_AUTO_TEST_CASE(protocol_md_lists_every_operation_with_its_role) {
  std::map<std::string, Role> by_doc_role;
  std::set<std::string> documented;
  std::istringstream doc(ReadProtocol());
  std::string line;
  const std::map<std::string, Role> roles = {
      {"reader", Role::kReader}, {"writer", Role::kWriter}, {"officer", Role::kOfficer}};
  while (std::getline(doc, line)) {
    if (line.rfind("| ", 0) != 0) continue;
    std::vector<std::string> cells = Cells(line);
    if (cells.size() == 2 && roles.count(cells[0]) != 0) {
      std::string ops = cells[1];
      if (ops.rfind("the above + ", 0) == 0) ops = ops.substr(12);
      std::istringstream names(ops);
      std::string name;
      while (std::getline(names, name, ',')) {
        while (!name.empty() && name.front() == ' ') name.erase(0, 1);
        BOOST_TEST(by_doc_role.emplace(name, roles.at(cells[0])).second, name << " listed twice");
      }
    } else if (cells.size() == 3 && FindOp(cells[0]) != nullptr) {
      documented.insert(cells[0]);
    }
  }
  for (const OpSpec& op : AllOps()) {
    const std::string name(op.name);
    BOOST_TEST(documented.count(name) == 1u, name << " has no row in the table of operations");
    auto it = by_doc_role.find(name);
    BOOST_TEST_REQUIRE((it != by_doc_role.end()), name << " is in no role's row");
    BOOST_TEST((it->second == op.role), name << ": PROTOCOL.md gives another role");
  }
  BOOST_TEST(by_doc_role.size() == AllOps().size());
}

BOOST_AUTO_TEST_CASE(only_the_daemons_own_operations_lack_a_handler) {
  std::set<std::string> daemons_own;
  for (const OpSpec& op : AllOps()) {
    BOOST_TEST(!(op.run != nullptr && op.run_text != nullptr), op.name);
    if (op.run == nullptr && op.run_text == nullptr) daemons_own.insert(std::string(op.name));
  }
  BOOST_TEST((daemons_own == std::set<std::string>{"reload", "subscribe"}));
}

BOOST_AUTO_TEST_SUITE_END()
