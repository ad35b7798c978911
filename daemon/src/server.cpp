// tacetd's server: open, bind, accept, run, stop and reload (Server::Impl,
// server_impl.h). The session, the write pipeline, the hub, roles, stats
// and the log each have a file of their own.
#include "tacet/daemon/server.h"

#include "session.h"

namespace tacet {

std::string PeerName(uint32_t uid, uint32_t gid) {
  std::string out = "uid=" + std::to_string(uid);
  if (const passwd* pw = getpwuid(uid)) out += std::string("(") + pw->pw_name + ")";
  out += " gid=" + std::to_string(gid);
  if (const group* gr = getgrgid(gid)) out += std::string("(") + gr->gr_name + ")";
  return out;
}

// ---------------------------------------------------------------- Impl

Status Server::Impl::Open() {
  Config& c = options_.config;
  log_.Configure(c.daemon.log_format, c.daemon.log_level);
  std::vector<std::string> warnings;
  roles_ = RoleTable::From(c.daemon, &warnings);
  for (const auto& w : warnings) log_.Write(spdlog::level::warn, w);
  LedgerOptions lo = c.ledger;
  lo.read_only = false;
  lo.create_if_missing = true;
  lo.sync = false;               // the writer syncs the WAL once per group
  lo.mirror_projections = true;  // checks read memory, not RocksDB's blocks
  lo.clock = options_.clock;
  lo.policy_actor = Actor{PeerName(::geteuid(), ::getegid()), "",
                          "tacetd config" + (c.source.empty() ? std::string() : " " + c.source)};
  lo.reconcile_policy = true;  // tacetd's start, like its reload, records the config's policy
  auto ledger = Ledger::Open(lo);
  if (!ledger.ok() && ledger.status().code() == StatusCode::kIOError &&
      ledger.status().message().find(std::strerror(ENOSPC)) != std::string::npos) {
    // A writer's open needs space (RocksDB flushes the recovered WAL): on a
    // full disk the ledger is served read-only, so every dialer still gets
    // its answers, and writes are refused until space is freed and tacetd
    // restarted.
    read_only_ =
        Status::IOError("the disk was full when tacetd started (" + ledger.status().message() +
                        "); it serves reads only: free space and restart tacetd");
    log_.Write(spdlog::level::critical, "disk full: serving the ledger read-only",
               {{"error", ledger.status().message()}});
    lo.read_only = true;
    ledger = Ledger::Open(lo);
  }
  if (!ledger.ok()) return ledger.status();
  ledger_ = std::move(ledger).value();
  if (ledger_->replayed_as_known_at())
    return Status::FailedPrecondition("'" + lo.data_dir +
                                      "' is a replayed copy (read-only); tacetd serves ledgers");
  if (read_only_.ok()) TACET_RETURN_IF_ERROR(ledger_->SyncWal());
  for (const auto& ch : ledger_->reconciled().changes)
    log_.Write(spdlog::level::info, "policy reconciled", {{"change", ch}});
  service_ = std::make_unique<Service>(*ledger_);
  published_ = ledger_->log().head().seq;
  socket_path_ = c.daemon.SocketPath(lo.data_dir);
  import_dir_ = c.daemon.ImportDir(lo.data_dir);
  std::error_code ec;
  std::filesystem::create_directories(import_dir_, ec);
  TACET_RETURN_IF_ERROR(BindSocket());
  GroupCommit::Hooks hooks;
  hooks.synced = [this](const GroupCommit::Synced& s) {
    if (s.sync_failed)
      log_.Write(spdlog::level::critical, "WAL sync failed; refusing every further write",
                 {{"error", s.durable.message()}});
    if (s.durable.ok())
      for (const auto& [first, last] : s.appended) Publish(first, last);
  };
  hooks.completed = [this](const GroupCommit::Synced&) {
    for (const json& fields : write_lines_) log_.Buffer(spdlog::level::info, "write", fields);
    if (!write_lines_.empty()) log_.Flush();
    write_lines_.clear();
  };
  commits_ = std::make_unique<GroupCommit>(*ledger_, c.daemon.max_queued_writes, std::move(hooks));
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
  return Status::Ok();
}

void Server::Impl::ForkJoin(std::vector<std::function<void()>>& tasks) {
  if (tasks.empty()) return;
  // What a task throws (out of memory) is rethrown here, after all are done.
  std::vector<std::exception_ptr> errors(tasks.size());
  auto run = [&tasks, &errors](size_t i) {
    try {
      tasks[i]();
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  std::latch done(static_cast<std::ptrdiff_t>(tasks.size() - 1));
  for (size_t i = 1; i < tasks.size(); ++i)
    asio::post(compute_, [&run, &done, i] {
      run(i);
      done.count_down();
    });
  run(0);
  done.wait();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

Status Server::Impl::BindSocket() {
  namespace fs = std::filesystem;
  struct stat st {};
  if (::lstat(socket_path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return Status::FailedPrecondition("'" + socket_path_ +
                                        "' exists and is not a socket; remove it or configure "
                                        "another daemon.socket");
    auto c = Client::Connect(socket_path_);
    if (c.ok()) {
      pid_t pid = c->peer_pid();
      std::string who = "pid " + std::to_string(pid);
      std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
      std::string name;
      if (std::getline(comm, name) && !name.empty()) who += " (" + name + ")";
      return Status::FailedPrecondition("socket '" + socket_path_ + "' is served by " + who +
                                        "; stop it first");
    }
    log_.Write(spdlog::level::info, "replacing the stale socket of a dead daemon",
               {{"socket", socket_path_}});
    ::unlink(socket_path_.c_str());
  }
  std::error_code fec;
  fs::create_directories(fs::path(socket_path_).parent_path(), fec);
  boost::system::error_code ec;
  asio::local::stream_protocol::endpoint ep(socket_path_);
  acceptor_.open(ep.protocol(), ec);
  mode_t old = ::umask(0177);  // never world-accessible, even for a moment
  if (!ec) acceptor_.bind(ep, ec);
  ::umask(old);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError("cannot listen on '" + socket_path_ + "': " + ec.message());
  const DaemonConfig& d = options_.config.daemon;
  if (!d.socket_group.empty()) {
    const group* gr = getgrnam(d.socket_group.c_str());
    if (gr == nullptr || ::chown(socket_path_.c_str(), static_cast<uid_t>(-1), gr->gr_gid) != 0)
      return Status::InvalidArgument("cannot give socket '" + socket_path_ + "' to group '" +
                                     d.socket_group + "'");
  }
  if (::chmod(socket_path_.c_str(), static_cast<mode_t>(d.socket_mode)) != 0)
    return Status::IOError("cannot chmod socket '" + socket_path_ + "'");
  return Status::Ok();
}

void Server::Impl::Accept() {
  acceptor_.async_accept(NextIo(), [this](boost::system::error_code ec, Socket s) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) return;
      log_.Write(spdlog::level::err, "accept failed", {{"error", ec.message()}});
      Accept();
      return;
    }
    auto session = std::make_shared<Session>(*this, std::move(s));
    size_t limit = daemon_config().max_connections;
    bool over = false, late = false;
    {
      // Stop() sets stopping_ before it takes its snapshot under this lock.
      std::lock_guard lock(sessions_mu_);
      over = sessions_.size() >= limit;
      late = stopping_;
      sessions_.insert(session);
    }
    if (late) {
      session->Refuse(errc::kShuttingDown, "tacetd is stopping");
    } else if (over) {
      log_.Write(spdlog::level::warn, "refused",
                 {{"code", errc::kBusy}, {"message", "too many connections"}});
      session->Refuse(errc::kBusy,
                      "too many connections (max " + std::to_string(limit) + "); retry later");
    } else {
      session->Start();
    }
    if (!stopping_) Accept();
  });
}

void Server::Impl::Release(Session* s) {
  std::shared_ptr<Session> keep;  // destroyed outside the lock
  std::lock_guard lock(sessions_mu_);
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
    if (it->get() == s) {
      keep = *it;
      sessions_.erase(it);
      break;
    }
  if (stopping_ && sessions_.empty() && drain_timer_) {
    asio::post(io_, [this] { drain_timer_->cancel(); });
  }
}

json Server::Impl::StatsJson() {
  Head h = ledger_->log().head();
  size_t conns = 0, subs = 0;
  {
    std::lock_guard lock(sessions_mu_);
    conns = sessions_.size();
  }
  {
    std::lock_guard lock(hub_mu_);
    subs = subscribers_.size();
  }
  double uptime = std::chrono::duration<double>(Clock_::now() - started_).count();
  return {{"uptime_seconds", uptime},
          {"pid", ::getpid()},
          {"head_seq", h.seq},
          {"connections", conns},
          {"subscribers", subs},
          {"group_commits", commits_->group_commits()},
          {"committed_writes", committed_writes_.load()},
          {"projections_in_memory_bytes", ledger_->log().mirror_bytes()},
          {"ops", stats_.ToJson()}};
}

Status Server::Impl::Run() {
  if (options_.handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.add(SIGHUP);
    on_signal_ = [this](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        log_.Write(spdlog::level::info, "SIGHUP: reloading the configuration");
        QueueReload();
        signals_.async_wait(on_signal_);
        return;
      }
      log_.Write(spdlog::level::info,
                 std::string("signal ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ": draining");
      Stop();
    };
    signals_.async_wait(on_signal_);
  }
  Accept();
  log_.Write(spdlog::level::info, "ready",
             {{"socket", socket_path_},
              {"data_dir", ledger_->options().data_dir},
              {"head_seq", ledger_->log().head().seq},
              {"pid", ::getpid()}});
  ::sd_notify(0, "READY=1");
  // The other contexts may have nothing to do for a while: they are kept
  // running until the first (acceptor, drain) is done.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> io_threads;
  for (size_t i = 1; i < ios_.size(); ++i) {
    guards.push_back(asio::make_work_guard(*ios_[i]));
    io_threads.emplace_back([this, i] { ios_[i]->run(); });
  }
  io_.run();
  guards.clear();
  for (auto& t : io_threads) t.join();
  // Every session is closed: nothing more reaches the writer.
  if (commits_) commits_->Stop();
  {
    std::lock_guard lock(checkpoint_mu_);
    checkpoint_exit_ = true;
    checkpoint_cv_.notify_one();
  }
  if (checkpointer_.joinable()) checkpointer_.join();
  pool_.join();
  compute_.join();
  Status st = Sticky();
  if (st.ok() && read_only_.ok()) st = ledger_->SyncWal();
  if (st.ok() && read_only_.ok() && ledger_->log().has_checkpoint_key())
    st = ledger_->log().Checkpoint().status();  // the last head, signed
  if (st.ok() && read_only_.ok()) st = ledger_->log().FlushProjections();
  ledger_.reset();
  ::unlink(socket_path_.c_str());
  log_.Write(spdlog::level::info, "stopped", {{"ok", st.ok()}});
  return st;
}

void Server::Impl::Stop() {
  asio::post(io_, [this] {
    if (stopping_.exchange(true)) return;
    ::sd_notify(0, "STOPPING=1");
    boost::system::error_code ec;
    acceptor_.close(ec);
    signals_.cancel(ec);
    std::vector<std::shared_ptr<Session>> all;
    {
      std::lock_guard lock(sessions_mu_);
      all.assign(sessions_.begin(), sessions_.end());
    }
    {
      // Under the lock: Release() looks at it from the sessions' threads.
      std::lock_guard lock(sessions_mu_);
      drain_timer_.emplace(io_, std::chrono::seconds(10));
    }
    for (auto& s : all) s->Drain();
    // Sessions whose client does not read its replies are closed after 10 s.
    drain_timer_->async_wait([this](boost::system::error_code) {
      std::vector<std::shared_ptr<Session>> left;
      {
        std::lock_guard lock(sessions_mu_);
        left.assign(sessions_.begin(), sessions_.end());
      }
      for (auto& s : left) s->ForceClose();
    });
    bool empty = false;
    {
      std::lock_guard lock(sessions_mu_);
      empty = sessions_.empty();
    }
    if (empty) drain_timer_->cancel();
  });
}

bool Server::Impl::QueueReload() {
  auto job = std::make_shared<WriteJob>();
  WriteItem& w = job->items.emplace_back();
  w.op = FindOp("reload");
  w.args = json::object();
  if (SubmitWrite(job)) return true;
  log_.Write(spdlog::level::warn, "reload dropped: the writer queue is full; send SIGHUP again");
  return false;
}

// On the writer thread (SIGHUP's job or a reload request).
Status Server::Impl::Reload(std::vector<std::string>* policy_changes) {
  if (options_.config_path.empty()) {
    log_.Write(spdlog::level::info, "reload: no config file; nothing to reread");
    return Status::Ok();
  }
  auto c = LoadConfig(options_.config_path);
  if (!c.ok()) {
    log_.Write(spdlog::level::err, "reload refused; keeping the running configuration",
               {{"error", c.status().message()}});
    return c.status().WithContext("reload refused; the running configuration is kept");
  }
  std::vector<std::string> warnings;
  RoleTable roles = RoleTable::From(c->daemon, &warnings);
  for (const auto& w : warnings) log_.Write(spdlog::level::warn, w);
  const Config& old = options_.config;
  if (c->daemon.SocketPath(c->ledger.data_dir) != old.daemon.SocketPath(old.ledger.data_dir) ||
      c->ledger.data_dir != old.ledger.data_dir || c->daemon.threads != old.daemon.threads)
    log_.Write(spdlog::level::warn,
               "reload: data_dir, socket and threads change only with a restart");
  Actor actor{PeerName(::geteuid(), ::getegid()), "", "tacetd reload " + options_.config_path};
  auto rec = ledger_->ReconcilePolicy(c->ledger.policy, actor);
  if (!rec.ok()) {
    log_.Write(spdlog::level::err, "reload: policy reconciliation failed",
               {{"error", rec.status().message()}});
    return rec.status().WithContext("reload refused; the running configuration is kept");
  }
  for (const auto& ch : rec->changes)
    log_.Write(spdlog::level::info, "policy reconciled", {{"change", ch}});
  if (policy_changes != nullptr) *policy_changes = rec->changes;
  {
    std::lock_guard lock(config_mu_);
    roles_ = std::move(roles);
    DaemonConfig d = c->daemon;
    // What needs a restart keeps its running value.
    d.socket = old.daemon.socket;
    d.threads = old.daemon.threads;
    options_.config.daemon = d;
    options_.config.ledger.policy = c->ledger.policy;
    commits_->set_max_queued_items(d.max_queued_writes);
  }
  log_.Configure(c->daemon.log_format, c->daemon.log_level);
  log_.Write(spdlog::level::info, "reloaded", {{"config", options_.config_path}});
  return Status::Ok();
}

// ---------------------------------------------------------------- Server

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  TACET_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;
Status Server::Run() { return impl_->Run(); }
void Server::Stop() { impl_->Stop(); }
bool Server::Reload() { return impl_->QueueReload(); }
const std::string& Server::socket_path() const { return impl_->socket_path(); }

}  // namespace tacet
