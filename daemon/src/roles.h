// tacetd's roles: who may call what, from the peer's uid and groups.
#pragma once

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tacet/service/config.h"

namespace tacet {

// ---------------------------------------------------------------- roles

class RoleTable {
 public:
  // Unknown user or group names are reported in `warnings`, not fatal.
  static RoleTable From(const DaemonConfig& d, std::vector<std::string>* warnings) {
    RoleTable t;
    t.owner_role_ = d.owner_role;
    t.owner_ = ::geteuid();
    // A numeric id, or a name looked up with `lookup` (nullopt: unknown).
    auto grant = [&](const std::vector<std::string>& names, const char* kind, auto lookup,
                     std::map<uint32_t, Role>& into, Role r) {
      for (const auto& n : names) {
        std::optional<uint32_t> id;
        if (!n.empty() && n.find_first_not_of("0123456789") == std::string::npos)
          id = static_cast<uint32_t>(std::stoul(n));
        else
          id = lookup(n);
        if (!id) {
          warnings->push_back(std::string("roles: unknown ") + kind + " '" + n + "'");
          continue;
        }
        into[*id] = std::max(into[*id], r);
      }
    };
    auto user = [](const std::string& n) -> std::optional<uint32_t> {
      const passwd* pw = getpwnam(n.c_str());
      return pw ? std::optional<uint32_t>(pw->pw_uid) : std::nullopt;
    };
    auto grp = [](const std::string& n) -> std::optional<uint32_t> {
      const group* gr = getgrnam(n.c_str());
      return gr ? std::optional<uint32_t>(gr->gr_gid) : std::nullopt;
    };
    auto add = [&](const RoleMembers& m, Role r) {
      grant(m.users, "user", user, t.users_, r);
      grant(m.groups, "group", grp, t.groups_, r);
    };
    add(d.readers, Role::kReader);
    add(d.writers, Role::kWriter);
    add(d.officers, Role::kOfficer);
    return t;
  }

  // The highest role of the user, its primary group and its other groups.
  Role For(uid_t uid, gid_t gid) const {
    Role r = Role::kNone;
    if (uid == owner_) r = std::max(r, owner_role_);
    if (auto it = users_.find(uid); it != users_.end()) r = std::max(r, it->second);
    std::vector<gid_t> groups = {gid};
    if (const passwd* pw = getpwuid(uid)) {
      int n = 64;
      std::vector<gid_t> list(static_cast<size_t>(n));
      if (getgrouplist(pw->pw_name, gid, list.data(), &n) < 0) {
        list.resize(static_cast<size_t>(n));
        getgrouplist(pw->pw_name, gid, list.data(), &n);
      }
      list.resize(static_cast<size_t>(std::max(n, 0)));
      groups.insert(groups.end(), list.begin(), list.end());
    }
    for (gid_t g : groups)
      if (auto it = groups_.find(g); it != groups_.end()) r = std::max(r, it->second);
    return r;
  }

 private:
  Role owner_role_ = Role::kOfficer;
  uid_t owner_ = 0;
  std::map<uint32_t, Role> users_;   // by uid
  std::map<uint32_t, Role> groups_;  // by gid
};

}  // namespace tacet
