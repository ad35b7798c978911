// tacetd's server: the state shared by its parts (server.cpp: open, bind,
// accept, run, stop, reload; session.h: one connection; write_pipeline.cpp:
// the writer, syncer and checkpointer; hub.cpp: subscriptions).
#pragma once

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "log.h"
#include "roles.h"
#include "stats.h"
#include "tacet/core/codec.h"
#include "tacet/core/utf8.h"
#include "tacet/daemon/client.h"
#include "tacet/daemon/request.h"
#include "tacet/daemon/server.h"
#include "tacet/projections/group_commit.h"
#include "tacet/service/service.h"

namespace tacet {

namespace asio = boost::asio;
using Socket = asio::local::stream_protocol::socket;
using Clock_ = std::chrono::steady_clock;

// ---------------------------------------------------------------- the server

class Session;

// A write request waiting for (or done by) the writer thread.
struct WriteItem {
  const OpSpec* op = nullptr;
  json args;
  CallContext ctx;
  std::string id;  // the request's id, serialised
  Clock_::time_point start;
  Reply reply;
  bool answered = false;  // reply set when queued (an error): not executed
};
struct WriteJob {
  std::vector<WriteItem> items;
  // Called on the writer thread, with the job, once its items are durable
  // (or failed).
  std::function<void(std::shared_ptr<WriteJob>)> done;
};

class Server::Impl {
 public:
  explicit Impl(ServerOptions o)
      : options_(std::move(o)),
        ios_(MakeContexts(options_.config.daemon.threads)),
        io_(*ios_[0]),
        acceptor_(io_),
        signals_(io_),
        pool_(2),
        compute_threads_(std::max<uint32_t>(options_.config.daemon.threads, 1)),
        compute_(compute_threads_) {}

  Status Open();
  Status Run();
  void Stop();
  // On the writer thread: rereads the config. The refusal keeps the
  // running configuration.
  // Rereads the config; `policy_changes` gets what reconciling its policy
  // recorded.
  Status Reload(std::vector<std::string>* policy_changes = nullptr);
  // Queues a reload as SIGHUP does; false when the writer queue is full.
  bool QueueReload();

  // Called by sessions.
  void Release(Session* s);
  bool SubmitWrite(std::shared_ptr<WriteJob> job);
  Role RoleOf(uid_t uid, gid_t gid) {
    std::lock_guard lock(config_mu_);
    return roles_.For(uid, gid);
  }
  DaemonConfig daemon_config() {
    std::lock_guard lock(config_mu_);
    return options_.config.daemon;
  }
  // Registers a subscriber; returns the first seq it will be pushed.
  uint64_t Subscribe(const std::shared_ptr<Session>& s);
  void Unsubscribe(Session* s);
  json StatsJson();

  const std::string& socket_path() const { return socket_path_; }
  std::string import_dir() const { return import_dir_; }
  Ledger& ledger() { return *ledger_; }
  Service& service() { return *service_; }
  Log& log() { return log_; }
  Stats& stats() { return stats_; }
  // The I/O context of the next connection: round robin over the threads.
  asio::io_context& NextIo() { return *ios_[next_io_++ % ios_.size()]; }
  asio::thread_pool& pool() { return pool_; }
  // Runs tasks[0] on the calling thread and the others on the compute pool;
  // returns when all are done.
  void ForkJoin(std::vector<std::function<void()>>& tasks);
  unsigned compute_threads() const { return compute_threads_; }
  bool stopping() const { return stopping_.load(); }

 private:
  void Accept();
  // A write job's parts in the group commit: its writes, on the writer
  // thread; its answers, once its group is durable (or failed).
  void ExecuteWrites(WriteJob& job);
  void CompleteWrites(const std::shared_ptr<WriteJob>& job, const Status& durable);
  void CheckpointLoop();
  // A failed commit, sync or checkpoint: the log refuses every later write
  // until tacetd restarts (EventLog keeps it, for every host of a ledger).
  Status Sticky() const { return ledger_->log().sticky_error(); }
  // Set when the disk was full at start: the ledger is open read-only,
  // reads are served and every write is refused io_error with this.
  Status read_only_ = Status::Ok();
  void Publish(uint64_t from, uint64_t to);
  Status BindSocket();
  void FinishStop();

  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(uint32_t n) {
    std::vector<std::unique_ptr<asio::io_context>> v;
    for (uint32_t i = 0; i < std::max<uint32_t>(n, 1); ++i)
      v.push_back(std::make_unique<asio::io_context>(1));
    return v;
  }

  ServerOptions options_;
  // One I/O context per I/O thread, each run by its thread alone: a
  // connection lives on one of them, so its handlers never run
  // concurrently and never hop threads. The first also runs the acceptor,
  // the signals and the drain.
  std::vector<std::unique_ptr<asio::io_context>> ios_;
  asio::io_context& io_;
  size_t next_io_ = 0;  // on io_ (the acceptor's handler)
  asio::local::stream_protocol::acceptor acceptor_;
  asio::signal_set signals_;
  asio::thread_pool pool_;  // long reads, subscription catch-up
  // Helpers of the I/O threads for big runs of checks and big check_batch
  // requests (ForkJoin): never blocked on I/O or a long read.
  unsigned compute_threads_;
  asio::thread_pool compute_;
  std::optional<asio::steady_timer> drain_timer_;
  std::function<void(boost::system::error_code, int)> on_signal_;
  std::string socket_path_, import_dir_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<Service> service_;
  Log log_;
  Stats stats_;
  Clock_::time_point started_ = Clock_::now();

  std::mutex config_mu_;
  RoleTable roles_;

  std::mutex sessions_mu_;
  std::set<std::shared_ptr<Session>> sessions_;
  std::atomic<bool> stopping_{false};

  // The writes: group commit below the ledger (GroupCommit); on its
  // syncer thread, the log lines of the writes answered by the last sync.
  std::unique_ptr<GroupCommit> commits_;
  std::vector<json> write_lines_;
  std::atomic<uint64_t> committed_writes_{0};
  // Signs the head when a quiet checkpoint interval left it unsigned.
  std::thread checkpointer_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_exit_ = false;

  // Subscriptions.
  std::mutex hub_mu_;
  uint64_t published_ = 0;
  std::vector<std::weak_ptr<Session>> subscribers_;

  friend class Session;
};

}  // namespace tacet
