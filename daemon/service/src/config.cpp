// The one file that includes toml++.
#include "tacet/service/config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <toml++/toml.h>

#include "tacet/core/time.h"
#include "tacet/projections/calling_hours.h"

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
    // An integer node only: toml++'s conversion of a float (value<int64_t>)
    // casts it unchecked, undefined beyond int64's range (the config
    // fuzzer's 7.4e90), and a count of days written as 365.0 is a typo.
    std::optional<int64_t> v;
    if (const toml::value<int64_t>* i = n->as_integer()) v = i->get();
    if (!v || *v < 0)
      return Status::InvalidArgument(Where(source, *n) + ": '" + std::string(key) +
                                     "' must be a non-negative integer");
    if (static_cast<uint64_t>(*v) > std::numeric_limits<T>::max())
      return Status::InvalidArgument(Where(source, *n) + ": '" + std::string(key) +
                                     "' = " + std::to_string(*v) + " is beyond its largest value " +
                                     std::to_string(std::numeric_limits<T>::max()));
    out = static_cast<T>(*v);
    return Status::Ok();
  }
}

Result<std::vector<std::string>> Strings(const toml::node& n, std::string_view key,
                                         const std::string& source) {
  const toml::array* a = n.as_array();
  if (a == nullptr)
    return Status::InvalidArgument(Where(source, n) + ": '" + std::string(key) +
                                   "' must be an array of strings");
  std::vector<std::string> out;
  for (auto&& e : *a) {
    auto v = e.value<std::string>();
    if (!v)
      return Status::InvalidArgument(Where(source, e) + ": '" + std::string(key) +
                                     "' must be an array of strings");
    out.push_back(*v);
  }
  return out;
}

bool ValidCode(std::string_view code) {
  return !code.empty() && code.size() <= 64 && std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

// The table of one policy item, [SECTION.CODE], with a valid code.
Result<const toml::table*> CodeTable(const toml::node& node, std::string_view code,
                                     const std::string& section, const std::string& source) {
  const toml::table* t = node.as_table();
  if (t == nullptr || !ValidCode(code))
    return Status::InvalidArgument(Where(source, node) + ": [" +
                                   section.substr(0, section.size() - 1) +
                                   "] must be a table whose code uses a-z, 0-9, '-', '_', '.' "
                                   "(at most 64)");
  return t;
}

// A list of channel names as a channel mask.
Result<ChannelMask> ChannelList(const toml::node& n, std::string_view key,
                                const std::string& source) {
  TACET_ASSIGN_OR_RETURN(auto names, Strings(n, key, source));
  ChannelMask m = 0;
  for (const auto& name : names) {
    auto ch = ParseChannel(name);
    if (!ch.ok()) return Status::InvalidArgument(Where(source, n) + ": " + ch.status().message());
    m |= MaskOf(*ch);
  }
  return m;
}

// Hours of `key`, written as KEY_days or KEY_hours (one of them).
Status ReadHours(const toml::table& t, const std::string& key, uint32_t& hours,
                 const std::string& section, const std::string& source) {
  uint32_t days = 0, h = 0;
  TACET_RETURN_IF_ERROR(Read(t, key + "_days", days, source));
  TACET_RETURN_IF_ERROR(Read(t, key + "_hours", h, source));
  if (t.get(key + "_days") != nullptr && t.get(key + "_hours") != nullptr)
    return Status::InvalidArgument(Where(source, t) + ": give " + section + key + "_days or " +
                                   section + key + "_hours, not both");
  if (days > 100'000)
    return Status::InvalidArgument(Where(source, t) + ": " + section + key +
                                   "_days = " + std::to_string(days) + " is beyond 100000");
  hours = days != 0 ? days * 24 : h;
  return Status::Ok();
}

// [outcomes.CODE], [calling_hours], [caps.NAME] (issue 17).
Status ParseContactPolicy(const toml::table& root, const std::string& source,
                          PolicyConfig& policy) {
  if (const toml::node* n = root.get("outcomes")) {
    const toml::table* outcomes = n->as_table();
    if (outcomes == nullptr)
      return Status::InvalidArgument(Where(source, *n) + ": [outcomes] must be a table");
    policy.outcomes_declared = true;
    for (auto&& [code, node] : *outcomes) {
      const std::string section = "outcomes." + std::string(code.str()) + ".";
      TACET_ASSIGN_OR_RETURN(const toml::table* t, CodeTable(node, code.str(), section, source));
      TACET_RETURN_IF_ERROR(UnknownKeys(*t, {"title", "effects", "blocks"}, source, section));
      OutcomeDefined o;
      o.code = std::string(code.str());
      TACET_RETURN_IF_ERROR(Read(*t, "title", o.title, source));
      if (const toml::node* e = t->get("effects")) {
        TACET_ASSIGN_OR_RETURN(auto names, Strings(*e, "effects", source));
        for (const auto& name : names) {
          if (name == "connected") {
            o.effects |= kOutcomeConnected;
          } else if (name == "refusal") {
            o.effects |= kOutcomeRefusal;
          } else if (name == "wrong_number") {
            o.effects |= kOutcomeWrongNumber;
          } else {
            return Status::InvalidArgument(Where(source, *e) + ": unknown effect '" + name +
                                           "' in " + section +
                                           "effects (known: connected, refusal, wrong_number)");
          }
        }
      }
      if (const toml::node* b = t->get("blocks")) {
        TACET_ASSIGN_OR_RETURN(o.blocks, ChannelList(*b, "blocks", source));
      }
      policy.outcomes.push_back(std::move(o));
    }
  }
  if (const toml::node* n = root.get("calling_hours")) {
    const toml::table* t = n->as_table();
    if (t == nullptr)
      return Status::InvalidArgument(Where(source, *n) + ": [calling_hours] must be a table");
    TACET_RETURN_IF_ERROR(
        UnknownKeys(*t, {"it-code-of-conduct", "fr-d223-9"}, source, "calling_hours."));
    policy.calling_hours_declared = true;
    for (auto&& [name, node] : *t) {
      auto on = node.value<bool>();
      if (!on || !node.is_boolean())
        return Status::InvalidArgument(Where(source, node) + ": calling_hours." +
                                       std::string(name.str()) + " must be true or false");
      if (!*on) continue;
      policy.calling_hours.push_back(name.str() == "fr-d223-9" ? FranceD2239Hours()
                                                               : ItalyCodeOfConductHours());
    }
  }
  if (const toml::node* n = root.get("caps")) {
    const toml::table* caps = n->as_table();
    if (caps == nullptr)
      return Status::InvalidArgument(Where(source, *n) + ": [caps] must be a table");
    policy.caps_declared = true;
    for (auto&& [name, node] : *caps) {
      const std::string section = "caps." + std::string(name.str()) + ".";
      TACET_ASSIGN_OR_RETURN(const toml::table* t, CodeTable(node, name.str(), section, source));
      TACET_RETURN_IF_ERROR(UnknownKeys(
          *t,
          {"regions", "campaigns", "channels", "max_attempts", "window_days", "window_hours",
           "cool_down_days", "cool_down_hours", "waived_by_consent", "per"},
          source, section));
      FrequencyCapDefined f;
      f.name = std::string(name.str());
      if (const toml::node* r = t->get("regions")) {
        TACET_ASSIGN_OR_RETURN(f.regions, Strings(*r, "regions", source));
      }
      if (const toml::node* c = t->get("campaigns")) {
        TACET_ASSIGN_OR_RETURN(f.campaigns, Strings(*c, "campaigns", source));
      }
      const toml::node* ch = t->get("channels");
      if (ch == nullptr)
        return Status::InvalidArgument(Where(source, node) + ": '" + section +
                                       "channels' is required");
      TACET_ASSIGN_OR_RETURN(f.channels, ChannelList(*ch, "channels", source));
      if (f.channels == 0)
        return Status::InvalidArgument(Where(source, *ch) + ": " + section + "channels names none");
      TACET_RETURN_IF_ERROR(Read(*t, "max_attempts", f.max_attempts, source));
      TACET_RETURN_IF_ERROR(ReadHours(*t, "window", f.window_hours, section, source));
      TACET_RETURN_IF_ERROR(ReadHours(*t, "cool_down", f.cool_down_hours, section, source));
      if (f.max_attempts != 0 && f.window_hours == 0)
        return Status::InvalidArgument(Where(source, node) + ": " + section +
                                       "max_attempts needs window_days or window_hours");
      if (const toml::node* w = t->get("waived_by_consent")) {
        if (!w->is_boolean())
          return Status::InvalidArgument(Where(source, *w) + ": " + section +
                                         "waived_by_consent must be true or false");
        f.waived_by_consent = *w->value<bool>();
      }
      if (const toml::node* per = t->get("per")) {
        const std::optional<std::string> v = per->value<std::string>();
        if (!v || (*v != "subject" && *v != "person"))
          return Status::InvalidArgument(Where(source, *per) + ": " + section +
                                         "per must be \"subject\" or \"person\"");
        f.per = *v == "person" ? CapScope::kPerson : CapScope::kSubject;
      }
      policy.caps.push_back(std::move(f));
    }
  }
  return Status::Ok();
}

// [channels], [consent_types.CODE], [reasons.CODE].
Status ParsePolicy(const toml::table& root, const std::string& source, PolicyConfig& policy) {
  if (const toml::node* n = root.get("channels")) {
    const toml::table* t = n->as_table();
    if (t == nullptr)
      return Status::InvalidArgument(Where(source, *n) + ": [channels] must be a table");
    TACET_RETURN_IF_ERROR(
        UnknownKeys(*t, {"consent_required", "justification_minutes"}, source, "channels."));
    ChannelPolicySet c = DefaultChannelPolicy();
    if (const toml::node* req = t->get("consent_required")) {
      TACET_ASSIGN_OR_RETURN(auto names, Strings(*req, "consent_required", source));
      c.consent_required = kAlwaysConsentChannels;
      for (const auto& name : names) {
        auto ch = ParseChannel(name);
        if (!ch.ok())
          return Status::InvalidArgument(Where(source, *req) + ": " + ch.status().message());
        c.consent_required |= MaskOf(*ch);
      }
    }
    TACET_RETURN_IF_ERROR(Read(*t, "justification_minutes", c.justification_minutes, source));
    if (c.justification_minutes == 0 || c.justification_minutes > 24 * 60)
      return Status::InvalidArgument(Where(source, *t) +
                                     ": channels.justification_minutes must be 1..1440");
    policy.channels = c;
  }
  if (const toml::node* n = root.get("consent_types")) {
    const toml::table* types = n->as_table();
    if (types == nullptr)
      return Status::InvalidArgument(Where(source, *n) + ": [consent_types] must be a table");
    policy.consent_types_declared = true;
    for (auto&& [code, node] : *types) {
      const std::string section = "consent_types." + std::string(code.str()) + ".";
      TACET_ASSIGN_OR_RETURN(const toml::table* t, CodeTable(node, code.str(), section, source));
      TACET_RETURN_IF_ERROR(
          UnknownKeys(*t, {"title", "description", "validity_days", "uses"}, source, section));
      ConsentTypeConfig ct;
      ct.code = std::string(code.str());
      TACET_RETURN_IF_ERROR(Read(*t, "title", ct.title, source));
      TACET_RETURN_IF_ERROR(Read(*t, "description", ct.description, source));
      TACET_RETURN_IF_ERROR(Read(*t, "validity_days", ct.validity_days, source));
      const toml::node* uses = t->get("uses");
      if (uses == nullptr)
        return Status::InvalidArgument(Where(source, node) + ": '" + section +
                                       "uses' is required (newsletter, email, phone)");
      TACET_ASSIGN_OR_RETURN(auto names, Strings(*uses, "uses", source));
      for (const auto& u : names) {
        if (u == "newsletter") {
          ct.uses |= kUseNewsletter;
        } else if (u == "email") {
          ct.uses |= kUseEmail;
        } else if (u == "phone") {
          ct.uses |= kUsePhone;
        } else {
          return Status::InvalidArgument(Where(source, *uses) + ": unknown use '" + u + "' in " +
                                         section + "uses (known: newsletter, email, phone)");
        }
      }
      if (ct.uses == 0)
        return Status::InvalidArgument(Where(source, *uses) + ": " + section +
                                       "uses permits nothing");
      policy.consent_types.push_back(std::move(ct));
    }
  }
  TACET_RETURN_IF_ERROR(ParseContactPolicy(root, source, policy));
  if (const toml::node* n = root.get("reasons")) {
    const toml::table* reasons = n->as_table();
    if (reasons == nullptr)
      return Status::InvalidArgument(Where(source, *n) + ": [reasons] must be a table");
    policy.reasons_declared = true;
    for (auto&& [code, node] : *reasons) {
      const std::string section = "reasons." + std::string(code.str()) + ".";
      TACET_ASSIGN_OR_RETURN(const toml::table* t, CodeTable(node, code.str(), section, source));
      TACET_RETURN_IF_ERROR(UnknownKeys(*t, {"title"}, source, section));
      ReasonConfig r;
      r.code = std::string(code.str());
      TACET_RETURN_IF_ERROR(Read(*t, "title", r.title, source));
      policy.reasons.push_back(std::move(r));
    }
  }
  return Status::Ok();
}

Result<Role> ParseRole(std::string_view name) {
  if (name == "none") return Role::kNone;
  if (name == "reader") return Role::kReader;
  if (name == "writer") return Role::kWriter;
  if (name == "officer") return Role::kOfficer;
  return Status::InvalidArgument("unknown role '" + std::string(name) +
                                 "' (known: none, reader, writer, officer)");
}

// [daemon] and [roles].
Status ParseDaemon(const toml::table& root, const std::string& source, DaemonConfig& d) {
  if (const toml::node* n = root.get("daemon")) {
    const toml::table* t = n->as_table();
    if (t == nullptr)
      return Status::InvalidArgument(Where(source, *n) + ": [daemon] must be a table");
    TACET_RETURN_IF_ERROR(
        UnknownKeys(*t,
                    {"socket", "socket_mode", "socket_group", "import_dir", "max_line_bytes",
                     "max_connections", "idle_timeout_seconds", "max_in_flight",
                     "max_queued_writes", "subscriber_queue", "threads", "log_format", "log_level"},
                    source, "daemon."));
    TACET_RETURN_IF_ERROR(Read(*t, "socket", d.socket, source));
    if (const toml::node* m = t->get("socket_mode")) {
      auto v = m->value<std::string>();
      char* end = nullptr;
      unsigned long mode = v ? std::strtoul(v->c_str(), &end, 8) : 0;
      if (!v || v->empty() || *end != '\0' || mode > 0777)
        return Status::InvalidArgument(Where(source, *m) +
                                       ": 'socket_mode' must be an octal string such as \"0660\"");
      if ((mode & 0007) != 0)
        return Status::InvalidArgument(Where(source, *m) + ": 'socket_mode' " + *v +
                                       " opens the socket to every user; give other users no "
                                       "bit (such as \"0660\") and grant roles instead");
      d.socket_mode = static_cast<uint32_t>(mode);
    }
    TACET_RETURN_IF_ERROR(Read(*t, "socket_group", d.socket_group, source));
    TACET_RETURN_IF_ERROR(Read(*t, "import_dir", d.import_dir, source));
    TACET_RETURN_IF_ERROR(Read(*t, "max_line_bytes", d.max_line_bytes, source));
    TACET_RETURN_IF_ERROR(Read(*t, "max_connections", d.max_connections, source));
    TACET_RETURN_IF_ERROR(Read(*t, "idle_timeout_seconds", d.idle_timeout_seconds, source));
    TACET_RETURN_IF_ERROR(Read(*t, "max_in_flight", d.max_in_flight, source));
    TACET_RETURN_IF_ERROR(Read(*t, "max_queued_writes", d.max_queued_writes, source));
    TACET_RETURN_IF_ERROR(Read(*t, "subscriber_queue", d.subscriber_queue, source));
    TACET_RETURN_IF_ERROR(Read(*t, "threads", d.threads, source));
    TACET_RETURN_IF_ERROR(Read(*t, "log_format", d.log_format, source));
    TACET_RETURN_IF_ERROR(Read(*t, "log_level", d.log_level, source));
    if (d.max_line_bytes < 1024 || d.max_connections == 0 || d.max_in_flight == 0 ||
        d.max_queued_writes == 0 || d.subscriber_queue == 0 || d.threads == 0 || d.threads > 64)
      return Status::InvalidArgument(Where(source, *n) +
                                     ": [daemon] limits must be positive (max_line_bytes at "
                                     "least 1024, threads 1..64)");
    if (d.log_format != "text" && d.log_format != "json")
      return Status::InvalidArgument(Where(source, *n) +
                                     ": daemon.log_format must be text or json");
    static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (std::find(std::begin(kLevels), std::end(kLevels), d.log_level) == std::end(kLevels))
      return Status::InvalidArgument(Where(source, *n) +
                                     ": daemon.log_level must be one of "
                                     "trace, debug, info, warn, error, critical, off");
  }
  if (const toml::node* n = root.get("roles")) {
    const toml::table* t = n->as_table();
    if (t == nullptr)
      return Status::InvalidArgument(Where(source, *n) + ": [roles] must be a table");
    TACET_RETURN_IF_ERROR(
        UnknownKeys(*t, {"owner", "reader", "writer", "officer"}, source, "roles."));
    if (const toml::node* o = t->get("owner")) {
      auto v = o->value<std::string>();
      auto r = ParseRole(v.value_or(""));
      if (!r.ok())
        return Status::InvalidArgument(Where(source, *o) +
                                       ": roles.owner: " + r.status().message());
      d.owner_role = *r;
    }
    for (auto [name, members] : {std::pair<const char*, RoleMembers*>{"reader", &d.readers},
                                 {"writer", &d.writers},
                                 {"officer", &d.officers}}) {
      const toml::node* m = t->get(name);
      if (m == nullptr) continue;
      const toml::table* mt = m->as_table();
      const std::string section = std::string("roles.") + name + ".";
      if (mt == nullptr)
        return Status::InvalidArgument(Where(source, *m) + ": [" +
                                       section.substr(0, section.size() - 1) +
                                       "] must be a table with users and groups");
      TACET_RETURN_IF_ERROR(UnknownKeys(*mt, {"users", "groups"}, source, section));
      if (const toml::node* u = mt->get("users")) {
        TACET_ASSIGN_OR_RETURN(members->users, Strings(*u, section + "users", source));
      }
      if (const toml::node* g = mt->get("groups")) {
        TACET_ASSIGN_OR_RETURN(members->groups, Strings(*g, section + "groups", source));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kNone:
      return "none";
    case Role::kReader:
      return "reader";
    case Role::kWriter:
      return "writer";
    case Role::kOfficer:
      return "officer";
  }
  return "none";
}

std::string DaemonConfig::SocketPath(const std::string& data_dir) const {
  return socket.empty() ? data_dir + "/tacet.sock" : socket;
}

std::string DaemonConfig::ImportDir(const std::string& data_dir) const {
  return import_dir.empty() ? data_dir + "/inbox" : import_dir;
}

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
  TACET_RETURN_IF_ERROR(UnknownKeys(root,
                                    {"data_dir", "data_group", "default_region", "ledger",
                                     "registry", "channels", "consent_types", "reasons", "outcomes",
                                     "calling_hours", "caps", "daemon", "roles", "checkpoint"},
                                    source, ""));
  TACET_RETURN_IF_ERROR(ParseDaemon(root, source, c.daemon));
  TACET_RETURN_IF_ERROR(ParsePolicy(root, source, c.ledger.policy));
  TACET_RETURN_IF_ERROR(Read(root, "data_dir", c.ledger.data_dir, source));
  TACET_RETURN_IF_ERROR(Read(root, "default_region", c.ledger.default_region, source));
  TACET_RETURN_IF_ERROR(Read(root, "data_group", c.ledger.data_group, source));
  if (const toml::node* n = root.get("ledger")) {
    const toml::table* t = n->as_table();
    if (t == nullptr)
      return Status::InvalidArgument(Where(source, *n) + ": [ledger] must be a table");
    TACET_RETURN_IF_ERROR(UnknownKeys(*t, {"time_zone", "secret"}, source, "ledger."));
    TACET_RETURN_IF_ERROR(Read(*t, "time_zone", c.ledger.time_zone, source));
    TACET_RETURN_IF_ERROR(Read(*t, "secret", c.ledger.secret_path, source));
    if (auto z = TimeZone::Load(c.ledger.time_zone); !z.ok())
      return Status::InvalidArgument(Where(source, *t->get("time_zone")) +
                                     ": [ledger] time_zone: " + z.status().message());
  }
  if (const toml::node* n = root.get("checkpoint")) {
    const toml::table* t = n->as_table();
    if (t == nullptr)
      return Status::InvalidArgument(Where(source, *n) + ": [checkpoint] must be a table");
    TACET_RETURN_IF_ERROR(UnknownKeys(*t, {"key", "origin", "interval_ms"}, source, "checkpoint."));
    CheckpointOptions& cp = c.ledger.checkpoint;
    TACET_RETURN_IF_ERROR(Read(*t, "key", cp.key_path, source));
    TACET_RETURN_IF_ERROR(Read(*t, "origin", cp.origin, source));
    TACET_RETURN_IF_ERROR(Read(*t, "interval_ms", cp.interval_ms, source));
  }
  if (const toml::node* n = root.get("registry")) {
    const toml::table* regs = n->as_table();
    if (regs == nullptr)
      return Status::InvalidArgument(Where(source, *n) + ": [registry] must be a table");
    PolicyConfig& policy = c.ledger.policy;
    policy.registries_declared = true;
    policy.registries.clear();
    for (auto&& [key, node] : *regs) {
      const std::string name(key.str());
      const std::string where = "registry." + name + ".";
      const toml::table* t = node.as_table();
      if (t == nullptr)
        return Status::InvalidArgument(Where(source, node) + ": [registry." + name +
                                       "] must be a table");
      TACET_RETURN_IF_ERROR(UnknownKeys(
          *t,
          {"kind", "layout", "regions", "channels", "time_zone", "validity_days", "overdue_days",
           "fresh_days", "file_prefix", "max_lines", "max_return_bytes"},
          source, where));
      RegistryConfig r;  // it-rpo's values unless said otherwise
      RegistryDefined& d = r.definition;
      d.name = name;
      std::string kind = RegistryKindName(d.kind);
      TACET_RETURN_IF_ERROR(Read(*t, "kind", kind, source));
      if (kind == RegistryKindName(RegistryKind::kRoundTrip)) {
        d.kind = RegistryKind::kRoundTrip;
      } else if (kind == RegistryKindName(RegistryKind::kDownloadedList)) {
        d.kind = RegistryKind::kDownloadedList;
      } else {
        return Status::InvalidArgument(Where(source, *t->get("kind")) + ": " + where +
                                       "kind must be round_trip or downloaded_list, not '" + kind +
                                       "'");
      }
      TACET_RETURN_IF_ERROR(Read(*t, "layout", d.layout, source));
      TACET_RETURN_IF_ERROR(Read(*t, "time_zone", d.time_zone, source));
      TACET_RETURN_IF_ERROR(Read(*t, "validity_days", d.validity_days, source));
      TACET_RETURN_IF_ERROR(Read(*t, "overdue_days", d.overdue_days, source));
      TACET_RETURN_IF_ERROR(Read(*t, "file_prefix", d.file_prefix, source));
      TACET_RETURN_IF_ERROR(Read(*t, "max_lines", d.max_lines, source));
      TACET_RETURN_IF_ERROR(Read(*t, "fresh_days", r.fresh_days, source));
      TACET_RETURN_IF_ERROR(Read(*t, "max_return_bytes", r.max_return_bytes, source));
      if (r.max_return_bytes < 1024)
        return Status::InvalidArgument(source + ": " + where +
                                       "max_return_bytes must be at least 1024");
      if (const toml::node* rn = t->get("regions")) {
        TACET_ASSIGN_OR_RETURN(d.regions, Strings(*rn, where + "regions", source));
      }
      if (const toml::node* cn = t->get("channels")) {
        TACET_ASSIGN_OR_RETURN(auto names, Strings(*cn, where + "channels", source));
        d.channels = 0;
        for (const auto& name : names) {
          auto ch = ParseChannel(name);
          if (!ch.ok())
            return Status::InvalidArgument(Where(source, *cn) + ": " + where +
                                           "channels: " + ch.status().message());
          d.channels |= MaskOf(*ch);
        }
      }
      if (auto made = MakeRegistry(d); !made.ok())
        return Status::InvalidArgument(Where(source, node) + ": " + made.status().message());
      policy.registries.push_back(std::move(r));
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
  if (path.empty()) {
    Config defaults;  // named: g++ 12 misreads the temporary as uninitialized
    return defaults;
  }
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read config '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace tacet
