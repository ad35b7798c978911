// An in-process tacetd on a real Unix socket in a temporary directory, with
// a small policy; clients are real sockets (tacet::Client).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "tacet/daemon/client.h"
#include "tacet/daemon/server.h"
#include "tacet/service/config.h"
#include "test_util.h"

namespace tacet::test {

inline const char* kDaemonPolicy = R"(
[consent_types.newsletter]
title = "Newsletter"
validity_days = 730
uses = ["newsletter"]

[consent_types.phone-marketing]
title = "Calls and SMS"
validity_days = 365
uses = ["phone"]

[reasons.callback-requested]
title = "The person asked to be called back"

[daemon]
log_level = "off"
)";

class Daemon {
 public:
  explicit Daemon(const std::function<void(Config&)>& tweak = {}) { Start(tweak); }
  ~Daemon() { Stop(); }

  void Start(const std::function<void(Config&)>& tweak = {}) {
    auto cfg = ParseConfig(kDaemonPolicy, "test.toml");
    if (!cfg.ok()) throw std::runtime_error(cfg.status().message());
    Config c = std::move(cfg).value();
    c.ledger.data_dir = dir_ / "data";
    c.daemon.socket = dir_ / "tacet.sock";
    c.daemon.import_dir = dir_ / "inbox";
    if (tweak) tweak(c);
    config_ = c;
    ServerOptions o;
    o.config = c;
    o.handle_signals = false;
    auto s = Server::Start(o);
    if (!s.ok()) throw std::runtime_error(s.status().message());
    server_ = std::move(s).value();
    thread_ = std::thread([this] { result_ = server_->Run(); });
  }
  void Stop() {
    if (!server_) return;
    server_->Stop();
    thread_.join();
    server_.reset();
  }

  Client Connect() const {
    auto c = Client::Connect(socket());
    if (!c.ok()) throw std::runtime_error(c.status().message());
    return std::move(c).value();
  }
  // One request, one parsed reply.
  static nlohmann::json Call(Client& c, const nlohmann::json& req) {
    auto line = c.Call(req.dump());
    if (!line.ok()) throw std::runtime_error(line.status().message());
    return nlohmann::json::parse(*line);
  }
  static nlohmann::json Read(Client& c) {
    auto line = c.ReadLine();
    if (!line.ok()) throw std::runtime_error(line.status().message());
    return nlohmann::json::parse(*line);
  }

  std::string socket() const { return dir_ / "tacet.sock"; }
  std::string data_dir() const { return dir_ / "data"; }
  std::string inbox() const { return dir_ / "inbox"; }
  const TempDir& dir() const { return dir_; }
  Server& server() { return *server_; }
  const Status& result() const { return result_; }
  const Config& config() const { return config_; }

 private:
  TempDir dir_;
  Config config_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  Status result_;
};

}  // namespace tacet::test
