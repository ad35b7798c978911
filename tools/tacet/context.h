// The tacet CLI's shared parts: global options, the context that reaches
// the ledger (through tacetd's socket when one serves it, else the store
// opened here), and the printing helpers every command uses.
#pragma once

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "tacet/core/csv_text.h"
#include "tacet/core/merkle.h"
#include "tacet/core/note.h"
#include "tacet/core/utf8.h"
#include "tacet/daemon/client.h"
#include "tacet/projections/ledger.h"
#include "tacet/projections/proof.h"
#include "tacet/service/config.h"
#include "tacet/service/service.h"

namespace tacet::cli {

using json = nlohmann::json;
using namespace tacet;

struct Globals {
  std::string config_path;
  std::string data_dir;
  std::string socket;
  std::string operator_id;
  bool json = false;
  bool local = false;
};

inline std::string OsUser() {
  if (const passwd* pw = getpwuid(geteuid())) return pw->pw_name;
  return "uid:" + std::to_string(geteuid());
}

[[noreturn]] inline void Fail(const Status& s, int code = 1) {
  std::cerr << "tacet: " << s.message() << "\n";
  std::exit(code);
}

template <class T>
inline T Must(Result<T> r) {
  if (!r.ok()) Fail(r.status());
  return std::move(r).value();
}

struct Context {
  Globals g;
  Config config;
  std::unique_ptr<Ledger> ledger;
  std::optional<Client> client;  // set when a daemon serves the socket
  std::string socket;

  void LoadConfigOnce() {
    if (!config.source.empty() || loaded) return;
    config = Must(LoadConfig(g.config_path));
    loaded = true;
    // A data group reads the files this run writes: 0640 instead of 0600.
    if (!config.ledger.data_group.empty()) ::umask(027);
  }
  std::string DataDir() {
    LoadConfigOnce();
    return g.data_dir.empty() ? config.ledger.data_dir : g.data_dir;
  }
  // The daemon's socket for this data directory: --socket, else the
  // configured one, unless --data-dir names another ledger.
  std::string SocketPath() {
    LoadConfigOnce();
    if (!g.socket.empty()) return g.socket;
    if (!g.data_dir.empty() && g.data_dir != config.ledger.data_dir)
      return g.data_dir + "/tacet.sock";
    return config.daemon.SocketPath(DataDir());
  }
  // Connects when a daemon serves the socket (and --local is not given).
  bool ConnectDaemon() {
    if (g.local) return false;
    if (client) return true;
    socket = SocketPath();
    auto c = Client::Connect(socket);
    if (!c.ok()) {
      if (c.status().code() == StatusCode::kNotFound) return false;
      Fail(c.status());
    }
    client.emplace(std::move(c).value());
    return true;
  }

  // Only `init` and `policy apply` record the config's policy (reconcile);
  // any other command goes on with the ledger's and says on stderr when the
  // config's differs, so another --config never swings the policy unseen.
  void Open(bool write, bool create = false, bool repair = false, bool reconcile = false) {
    LoadConfigOnce();
    LedgerOptions o = config.ledger;
    if (!g.data_dir.empty()) o.data_dir = g.data_dir;
    o.read_only = !write;
    o.create_if_missing = create;
    o.repair = repair;
    o.reconcile_policy = write && (create || reconcile);
    o.policy_actor = Actor{OsUser(), "",
                           "tacet " + std::string(create ? "init" : "policy apply") +
                               (config.source.empty() ? "" : " " + config.source)};
    ledger = Must(Ledger::Open(o));
    const std::vector<std::string>& diff = ledger->policy_differences();
    if (!diff.empty() && !reconcile) {
      std::cerr << "tacet: the policy of "
                << (config.source.empty() ? "the built-in defaults" : config.source)
                << " differs from the ledger's (";
      for (size_t i = 0; i < diff.size(); ++i) std::cerr << (i ? "; " : "") << diff[i];
      std::cerr << "); going on with the ledger's. 'tacet policy apply' records it.\n";
    }
  }

  // Runs one operation through the daemon when one serves the socket,
  // otherwise on the store opened here. Same result either way; an error
  // exits with its message.
  json Run(const std::string& op, json args) {
    const OpSpec* spec = FindOp(op);
    if (ConnectDaemon()) {
      args["op"] = op;
      args["id"] = 1;
      std::string line = Must(client->Call(ToJsonText(args)));
      json reply = json::parse(line, nullptr, false);
      if (reply.is_discarded() || !reply.is_object())
        Fail(Status::Internal("tacetd sent an unreadable reply: " +
                              EscapeInvalidUtf8(TruncateUtf8(line, 200))));
      if (auto e = reply.find("error"); e != reply.end())
        Fail(Status::InvalidArgument(e->value("message", std::string("error")) + " [" +
                                     e->value("code", std::string("?")) + "]"));
      return reply["result"];
    }
    if (!ledger) Open(spec->kind == OpKind::kWrite);
    CallContext ctx;
    ctx.actor = MakeActor(op);
    Reply r = Service(*ledger).Execute(*spec, args, ctx);
    if (!r.ok) Fail(Status::InvalidArgument(r.message));
    // A one-shot writer leaves the head signed: its commits may have fallen
    // within the checkpoint interval.
    if (spec->kind == OpKind::kWrite && ledger->log().has_checkpoint_key())
      (void)Must(ledger->log().Checkpoint());
    return r.Result();
  }

  // A file of the request: its path when the daemon can read it (under its
  // import directory) or when the store is opened here; else its content.
  void AddFile(json& args, const char* path_key, const std::string& path, bool content_ok) {
    namespace fs = std::filesystem;
    if (!ConnectDaemon()) {
      args[path_key] = path;
      return;
    }
    std::error_code ec;
    fs::path full = fs::weakly_canonical(fs::absolute(path, ec), ec);
    fs::path base = fs::weakly_canonical(fs::absolute(config.daemon.ImportDir(DataDir()), ec), ec);
    auto [b, f] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
    if (b == base.end() || !content_ok) {
      args[path_key] = full.string();
      return;
    }
    auto size = fs::file_size(full, ec);
    if (ec) Fail(Status::InvalidArgument("cannot read '" + path + "': " + ec.message()));
    if (size > config.daemon.max_line_bytes / 2)
      Fail(Status::InvalidArgument("'" + path + "' is too large to send to tacetd (" +
                                   std::to_string(size) + " bytes); put it under " + base.string() +
                                   " or run with --local after stopping tacetd"));
    std::ifstream in(full, std::ios::binary);
    std::string content(std::istreambuf_iterator<char>(in), {});
    // Checked here: the request's JSON could not carry the stray bytes.
    if (auto bad = CheckUtf8File(content, path)) Fail(Status::InvalidArgument(*bad));
    args["content"] = std::move(content);
    args[path_key] = path;
  }

  Actor MakeActor(const std::string& tool) const {
    return Actor{OsUser(), g.operator_id, "tacet " + tool};
  }

  bool loaded = false;
};

inline void Print(const Context& c, const json& j, const std::string& text) {
  if (c.g.json) {
    std::cout << ToJsonText(j, 2) << "\n";
  } else {
    std::cout << text;
  }
}

inline std::string Hex16(const std::string& hex) { return hex.substr(0, 16); }
inline std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || !it->is_string() ? std::string() : it->get<std::string>();
}
inline std::string Num(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || !it->is_number() ? std::string("0") : it->dump();
}

// The strings of a JSON array joined with `sep`.
inline std::string Join(const json& arr, const char* sep) {
  std::string out;
  for (const auto& x : arr) {
    if (!out.empty()) out.append(sep);
    out.append(x.get<std::string>());
  }
  return out;
}

inline std::string SeqList(const json& seqs) {
  std::string out;
  for (const auto& s : seqs) out += (out.empty() ? "seq " : ", ") + s.dump();
  return out;
}

// The text of a check's answer, from its JSON.
inline std::string DecisionText(const json& a) {
  std::string verdict = Str(a, "decision");
  for (char& ch : verdict) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string text = Str(a, "subject");
  if (a.contains("line_type")) text += " (" + Str(a, "line_type") + ")";
  text += " " + Str(a, "channel") + " at " + Str(a, "at_local");
  if (a.contains("as_known_at_local")) text += " as known at " + Str(a, "as_known_at_local");
  text += ": " + verdict;
  text += a.contains("valid_until_local") ? " until " + Str(a, "valid_until_local")
                                          : std::string(" (no change ahead)");
  text += "\n";
  for (const auto& r : a["reasons"]) {
    text += "  " + Str(r, "code") + ": " + Str(r, "detail");
    if (!r["seqs"].empty()) text += " [" + SeqList(r["seqs"]) + "]";
    text += "\n";
  }
  if (a.contains("allowed_reasons")) {
    std::string list = Join(a["allowed_reasons"], ", ");
    text += "  record one with: tacet justify " + Str(a, "subject") + " --channel " +
            Str(a, "channel") +
            " --reason CODE   (reasons: " + (list.empty() ? "none defined" : list) + ")\n";
  }
  return text;
}

// A CSV field, quoted when it must be (RFC 4180).
inline std::string Csv(const std::string& v) {
  std::string out;
  AppendCsvField(out, v);
  return out;
}

}  // namespace tacet::cli
