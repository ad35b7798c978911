// The one file that includes toml++.
#include "tacet/projections/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

namespace tacet {
namespace {

std::string Where(const std::string& source, const toml::node& n) {
  std::ostringstream os;
  os << source << ":" << n.source().begin.line;
  return os.str();
}

Status UnknownKeys(const toml::table& t, std::initializer_list<std::string_view> known,
                   const std::string& source, const std::string& section) {
  for (auto&& [k, v] : t) {
    bool ok = false;
    for (auto n : known) ok |= k.str() == n;
    if (!ok)
      return Status::InvalidArgument(Where(source, v) + ": unknown key '" + section +
                                     std::string(k.str()) + "'");
  }
  return Status::Ok();
}

template <class T>
Status Read(const toml::table& t, std::string_view key, T& out, const std::string& source) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = n->value<std::string>()) {
      out = *v;
      return Status::Ok();
    }
    return Status::InvalidArgument(Where(source, *n) + ": '" + std::string(key) +
                                   "' must be a string");
  } else {
    auto v = n->value<int64_t>();
    if (!v || *v < 0)
      return Status::InvalidArgument(Where(source, *n) + ": '" + std::string(key) +
                                     "' must be a non-negative integer");
    out = static_cast<T>(*v);
    return Status::Ok();
  }
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& source) {
  Config c;
  c.source = source;
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& err) {
    std::ostringstream os;
    os << source << ":" << err.source().begin.line << ": " << err.description();
    return Status::InvalidArgument(os.str());
  }
  TACET_RETURN_IF_ERROR(UnknownKeys(root, {"data_dir", "default_region", "registry"}, source, ""));
  TACET_RETURN_IF_ERROR(Read(root, "data_dir", c.ledger.data_dir, source));
  TACET_RETURN_IF_ERROR(Read(root, "default_region", c.ledger.default_region, source));
  if (const toml::table* regs = root["registry"].as_table()) {
    for (auto&& [name, node] : *regs) {
      if (name.str() != "it-rpo")
        return Status::InvalidArgument(Where(source, node) + ": unknown registry '" +
                                       std::string(name.str()) + "' (supported: it-rpo)");
      const toml::table* t = node.as_table();
      if (t == nullptr)
        return Status::InvalidArgument(Where(source, node) + ": [registry.it-rpo] must be a table");
      RegistryConfig& r = c.ledger.rpo;
      TACET_RETURN_IF_ERROR(UnknownKeys(*t,
                                        {"time_zone", "validity_days", "overdue_days", "fresh_days",
                                         "file_prefix", "max_lines", "regions"},
                                        source, "registry.it-rpo."));
      TACET_RETURN_IF_ERROR(Read(*t, "time_zone", r.time_zone, source));
      TACET_RETURN_IF_ERROR(Read(*t, "validity_days", r.validity_days, source));
      TACET_RETURN_IF_ERROR(Read(*t, "overdue_days", r.overdue_days, source));
      TACET_RETURN_IF_ERROR(Read(*t, "fresh_days", r.fresh_days, source));
      TACET_RETURN_IF_ERROR(Read(*t, "file_prefix", r.file_prefix, source));
      TACET_RETURN_IF_ERROR(Read(*t, "max_lines", r.max_lines, source));
      if (r.max_lines == 0 || r.max_lines > 1'000'000)
        return Status::InvalidArgument(source + ": registry.it-rpo.max_lines must be 1..1000000");
      if (const toml::array* a = (*t)["regions"].as_array()) {
        r.regions.clear();
        for (auto&& e : *a) {
          auto v = e.value<std::string>();
          if (!v) return Status::InvalidArgument(Where(source, e) + ": regions must be strings");
          r.regions.push_back(*v);
        }
      }
    }
  }
  return c;
}

Result<Config> LoadConfig(const std::string& explicit_path) {
  std::string path = explicit_path;
  if (path.empty())
    if (const char* env = std::getenv("TACET_CONFIG"); env && *env) path = env;
  if (path.empty()) {
    std::error_code ec;
    if (std::filesystem::exists("config/tacet.toml", ec)) path = "config/tacet.toml";
  }
  if (path.empty()) return Config{};
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read config '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace tacet
