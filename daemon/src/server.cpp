// tacetd's server. One file for the session skeleton (a strand per
// connection, bulk reads, one write in flight), the writer thread that
// group-commits, the subscription hub, roles and statistics.
#include "tacet/daemon/server.h"

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

#include "tacet/core/codec.h"
#include "tacet/core/utf8.h"
#include "tacet/daemon/client.h"
#include "tacet/daemon/request.h"
#include "tacet/service/service.h"

namespace tacet {

namespace asio = boost::asio;
using Socket = asio::local::stream_protocol::socket;
using Clock_ = std::chrono::steady_clock;

std::string PeerName(uint32_t uid, uint32_t gid) {
  std::string out = "uid=" + std::to_string(uid);
  if (const passwd* pw = getpwuid(uid)) out += std::string("(") + pw->pw_name + ")";
  out += " gid=" + std::to_string(gid);
  if (const group* gr = getgrgid(gid)) out += std::string("(") + gr->gr_name + ")";
  return out;
}

namespace {

// ---------------------------------------------------------------- logging

// stderr, written with one write(2) per flush rather than per line: the
// syncer logs the writes of a whole group commit and flushes once.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    pending_.append(line.data(), line.size());
  }
  void flush_() override {
    size_t done = 0;
    while (done < pending_.size()) {
      ssize_t n = ::write(STDERR_FILENO, pending_.data() + done, pending_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr is gone: nothing better to do with the line
      done += static_cast<size_t>(n);
    }
    pending_.clear();
  }

 private:
  std::string pending_;
};

// A field's value in a text log line: bare when it is a plain word, else
// quoted as JSON, so that no value can forge another field or line.
std::string TextLogValue(const json& v) {
  if (!v.is_string()) return ToJsonText(v);
  const std::string& s = v.get_ref<const std::string&>();
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && c != '"' && c != '\\' &&
           static_cast<unsigned char>(c) < 0x7F;
  });
  return plain ? s : ToJsonText(v);
}

// One line per event: text ("msg key=value ...") or a JSON object. Never
// throws: stray bytes in text are escaped.
class Log {
 public:
  void Configure(const std::string& format, const std::string& level) {
    json_ = format == "json";
    // Not in spdlog's registry: several servers may live in one process (tests).
    if (!logger_)
      logger_ = std::make_shared<spdlog::logger>("tacetd", std::make_shared<StderrSink>());
    logger_->set_pattern(json_ ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l",%v})"
                               : "%Y-%m-%d %H:%M:%S.%e %l %v");
    logger_->set_level(spdlog::level::from_str(level));
    logger_->flush_on(spdlog::level::off);  // Write flushes; Buffer leaves it to Flush
  }
  bool enabled(spdlog::level::level_enum l) const { return logger_ && logger_->should_log(l); }
  // Logs one line and writes it out.
  void Write(spdlog::level::level_enum l, std::string_view msg,
             const json& fields = json::object()) {
    if (!enabled(l)) return;
    Buffer(l, msg, fields);
    Flush();
  }
  // Logs one line, written out by the next Flush (or Write, from any thread).
  void Buffer(spdlog::level::level_enum l, std::string_view msg, const json& fields) {
    if (!enabled(l)) return;
    std::string line;
    if (json_) {
      line = "\"msg\":" + ToJsonText(json(msg));
      for (auto it = fields.begin(); it != fields.end(); ++it)
        line += "," + ToJsonText(json(it.key())) + ":" + ToJsonText(it.value());
    } else {
      line = EscapeInvalidUtf8(msg);
      for (auto it = fields.begin(); it != fields.end(); ++it)
        line += " " + it.key() + "=" + TextLogValue(it.value());
    }
    logger_->log(l, "{}", line);
  }
  void Flush() {
    if (logger_) logger_->flush();
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<bool> json_{false};  // changed by a reload while others log
};

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

// ---------------------------------------------------------------- stats

// Counts and a log-linear latency histogram per operation (4 buckets per
// power of two of nanoseconds): lock-free to record, read by `stats`.
class Stats {
 public:
  static constexpr size_t kBuckets = 64 * 4;

  void Record(size_t op, bool ok, Clock_::duration d) {
    Op& o = ops_[op];
    o.count.fetch_add(1, std::memory_order_relaxed);
    if (!ok) o.errors.fetch_add(1, std::memory_order_relaxed);
    uint64_t ns =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    o.buckets[Bucket(ns)].fetch_add(1, std::memory_order_relaxed);
  }

  json ToJson() const {
    json out = json::object();
    const auto& all = AllOps();
    for (size_t i = 0; i < all.size(); ++i) {
      const Op& o = ops_[i];
      uint64_t n = o.count.load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::array<uint64_t, kBuckets> b{};
      uint64_t total = 0;
      for (size_t k = 0; k < kBuckets; ++k)
        total += b[k] = o.buckets[k].load(std::memory_order_relaxed);
      auto pct = [&](double p) {
        uint64_t want = static_cast<uint64_t>(p * static_cast<double>(total)), seen = 0;
        for (size_t k = 0; k < kBuckets; ++k) {
          seen += b[k];
          if (seen > want) return static_cast<double>(Upper(k)) / 1000.0;
        }
        return static_cast<double>(Upper(kBuckets - 1)) / 1000.0;
      };
      out[std::string(all[i].name)] = {
          {"count", n},          {"errors", o.errors.load(std::memory_order_relaxed)},
          {"p50_us", pct(0.50)}, {"p90_us", pct(0.90)},
          {"p99_us", pct(0.99)}, {"p999_us", pct(0.999)}};
    }
    return out;
  }

 private:
  static size_t Bucket(uint64_t ns) {
    if (ns < 4) return static_cast<size_t>(ns);
    int log = 63 - __builtin_clzll(ns);
    size_t sub = static_cast<size_t>((ns >> (log - 2)) & 3);
    return std::min(kBuckets - 1, static_cast<size_t>(log) * 4 + sub);
  }
  // The largest value of bucket k (an upper bound on its members).
  static uint64_t Upper(size_t k) {
    if (k < 4) return k;
    size_t log = k / 4, sub = k % 4;
    return ((4 + sub + 1) << (log - 2)) - 1;
  }
  struct Op {
    std::atomic<uint64_t> count{0}, errors{0};
    std::array<std::atomic<uint64_t>, kBuckets> buckets{};
  };
  // One slot per operation of the table, however many it grows to.
  std::unique_ptr<Op[]> ops_ = std::make_unique<Op[]>(AllOps().size());
};

size_t OpIndex(const OpSpec* op) { return static_cast<size_t>(op - AllOps().data()); }

}  // namespace

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
  void WriterLoop();
  void CheckpointLoop();
  void SyncLoop();
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

  // Writer thread and its queue.
  std::thread writer_;
  std::mutex writer_mu_;
  std::condition_variable writer_cv_;
  std::deque<std::shared_ptr<WriteJob>> writer_queue_;
  size_t queued_items_ = 0;
  std::atomic<size_t> max_queued_writes_{0};  // from the config; a reload changes it
  bool writer_exit_ = false;
  // Groups executed by the writer, waiting for the syncer.
  struct SyncGroup {
    std::vector<std::shared_ptr<WriteJob>> jobs;
    uint64_t before = 0, after = 0;  // head seq around their execution
  };
  // Signs the head when a quiet checkpoint interval left it unsigned.
  std::thread checkpointer_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_exit_ = false;
  std::thread syncer_;
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<SyncGroup> sync_queue_;
  bool sync_exit_ = false;
  std::atomic<uint64_t> group_commits_{0}, committed_writes_{0};

  // Subscriptions.
  std::mutex hub_mu_;
  uint64_t published_ = 0;
  std::vector<std::weak_ptr<Session>> subscribers_;

  friend class Session;
};

// One connection. All its handlers run on its strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::Impl& server, Socket socket)
      : server_(server),
        socket_(std::move(socket)),
        strand_(socket_.get_executor()),
        idle_(strand_),
        config_(server.daemon_config()) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      uid_ = cred.uid;
      gid_ = cred.gid;
    }
    peer_ = PeerName(uid_, gid_);
    role_ = server_.RoleOf(uid_, gid_);
  }

  void Start() {
    server_.log().Write(spdlog::level::debug, "connected",
                        {{"peer", peer_}, {"role", RoleName(role_)}});
    asio::dispatch(strand_, [self = shared_from_this()] {
      self->ArmIdle();
      self->DoRead();
    });
  }

  // Refuse a connection over the limit: one error line, then close.
  void Refuse(const std::string& code, const std::string& message) {
    asio::dispatch(strand_, [self = shared_from_this(), code, message] {
      self->closing_ = true;
      self->Queue(ReplyLine("null", Reply::Error(code, message)));
    });
  }

  // Begin the drain: read nothing more, finish what is in flight.
  void Drain() {
    asio::dispatch(strand_, [self = shared_from_this()] {
      self->draining_ = true;
      if (self->subscriber_) {
        self->closing_ = true;
        self->Queue(ReplyLine("null", Reply::Error(errc::kShuttingDown, "tacetd is stopping")));
        return;
      }
      self->MaybeFinish();
    });
  }
  void ForceClose() {
    asio::dispatch(strand_, [self = shared_from_this()] { self->Close("drain timeout"); });
  }

  // Subscription: a pushed event line (under the hub's mutex).
  void PushLocked(std::shared_ptr<const std::string> line, uint64_t seq, size_t limit) {
    if (overflow_) return;
    if (live_.size() >= limit) {
      overflow_ = true;
    } else {
      live_.emplace_back(seq, std::move(line));
    }
    if (!wake_posted_) {
      wake_posted_ = true;
      asio::post(strand_, [self = shared_from_this()] { self->OnWake(); });
    }
  }

 private:
  // ------------------------------------------------ reading and framing
  void DoRead() {
    if (reading_ || closing_ || subscriber_) return;
    boost::system::error_code ec;
    if (draining_ && socket_.available(ec) == 0) return;  // only what was already sent
    reading_ = true;
    socket_.async_read_some(asio::buffer(chunk_),
                            asio::bind_executor(strand_, [self = shared_from_this()](
                                                             boost::system::error_code ec,
                                                             size_t n) { self->OnRead(ec, n); }));
  }

  void OnRead(boost::system::error_code ec, size_t n) {
    reading_ = false;
    if (ec) {
      if (ec == asio::error::operation_aborted && draining_) {
        MaybeFinish();
        return;
      }
      eof_ = true;  // the client is done sending; answer what it sent
      if (ec != asio::error::eof) read_error_ = ec.message();
      Process();
      MaybeFinish();
      return;
    }
    last_activity_ = Clock_::now();
    in_.append(chunk_.data(), n);
    Process();
  }

  // Handles complete lines until one must wait (a write, a long read) or the
  // output backs up; then reads more when nothing is pending.
  void Process() {
    while (!waiting_ && !closing_ && out_pending_.size() < (1u << 20)) {
      size_t nl = in_.find('\n', scan_);
      if (nl == std::string::npos) {
        scan_ = in_.size();
        if (in_.size() - pos_ > config_.max_line_bytes) {
          TooLarge();
          return;
        }
        break;
      }
      std::string_view line(in_.data() + pos_, nl - pos_);
      pos_ = nl + 1;
      scan_ = pos_;
      if (line.size() > config_.max_line_bytes) {
        TooLarge();
        return;
      }
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      Handle(line, static_cast<size_t>(line.data() - in_.data()));
    }
    if (pos_ > 0 && (pos_ == in_.size() || pos_ > (1u << 16))) {
      in_.erase(0, pos_);
      scan_ -= pos_;
      pos_ = 0;
    }
    FlushChecks();
    if (!pending_writes_.empty() && !waiting_) SubmitWrites();
    Flush();
    if (!waiting_ && !closing_ && out_pending_.size() < (1u << 20)) {
      if (eof_ || draining_) {
        MaybeFinish();
      } else {
        DoRead();
      }
    }
  }

  void TooLarge() {
    FlushChecks();
    closing_ = true;
    Queue(
        ReplyLine("null", Reply::Error(errc::kTooLarge, "request line longer than " +
                                                            std::to_string(config_.max_line_bytes) +
                                                            " bytes; closing the connection")));
    server_.log().Write(spdlog::level::warn, "refused",
                        {{"code", errc::kTooLarge}, {"peer", peer_}});
  }

  // ------------------------------------------------ one request
  // An answer that needs no work. After writes still to be submitted it
  // rides with them, so that replies keep the order of the requests.
  void Immediate(const OpSpec* op, const std::string& id, Reply r, Clock_::time_point start) {
    if (pending_writes_.empty()) {
      Answer(op, id, r, start);
      return;
    }
    WriteItem& w = pending_writes_.emplace_back();
    w.op = op;
    w.id = id;
    w.start = start;
    w.reply = std::move(r);
    w.answered = true;
  }

  // Parses a request line: its id and operation, or the refusal to answer
  // (not JSON, no such operation, a role too low).
  bool ParseRequest(std::string_view line, json& req, std::string& id, const OpSpec*& op,
                    Reply& refusal) {
    Request parsed;
    std::optional<Reply> bad = tacet::ParseRequest(line, parsed);
    id = std::move(parsed.id);
    op = parsed.op;
    if (bad) {
      refusal = std::move(*bad);
      return false;
    }
    req = std::move(parsed.args);
    if (role_ < op->role) {
      refusal = Reply::Error(errc::kForbidden, peer_ + " has role " + RoleName(role_) + "; " +
                                                   std::string(op->name) + " needs " +
                                                   RoleName(op->role));
      return false;
    }
    return true;
  }

  void Handle(std::string_view line, size_t line_start) {
    const auto start = Clock_::now();
    json req;
    std::string id = "null";
    const OpSpec* op = nullptr;
    Reply refusal;
    const bool ok = ParseRequest(line, req, id, op, refusal);
    if (ok && op == kCheckOp && pending_writes_.empty()) {
      // Consecutive checks are decided together (batched lookups, both
      // cores): see FlushChecks.
      checks_.push_back(PendingCheck{std::move(req), std::move(id), start});
      if (checks_.size() >= kMaxCheckRun) FlushChecks();
      return;
    }
    FlushChecks();  // replies keep the order of the requests
    if (!ok) {
      Immediate(op, id, std::move(refusal), start);
      return;
    }
    if (op->kind != OpKind::kWrite && !pending_writes_.empty()) {
      // A read sees the writes sent before it: submit them, come back to it.
      pos_ = scan_ = line_start;
      SubmitWrites();
      return;
    }
    CallContext ctx = Context();
    switch (op->kind) {
      case OpKind::kRead:
        if (op->name == "stats") {
          Answer(op, id, StatsReply(req, ctx), start);
        } else {
          Answer(op, id, server_.service().Execute(*op, req, ctx), start);
        }
        return;
      case OpKind::kLongRead: {
        waiting_ = true;
        asio::post(server_.pool(),
                   [self = shared_from_this(), op, req = std::move(req), ctx, id, start]() mutable {
                     Reply r = self->server_.service().Execute(*op, req, ctx);
                     asio::post(self->strand_, [self, op, id, r = std::move(r), start]() mutable {
                       self->waiting_ = false;
                       self->Answer(op, id, r, start);
                       self->Process();
                     });
                   });
        return;
      }
      case OpKind::kWrite: {
        if (pending_writes_.size() >= config_.max_in_flight) {
          Immediate(op, id,
                    Reply::Error(errc::kBusy, "more than " + std::to_string(config_.max_in_flight) +
                                                  " writes in flight on this connection; wait "
                                                  "for their replies"),
                    start);
          return;
        }
        if (Service::NamesFiles(*op, req)) {
          // The file is read here, on the blocking pool: the writer thread
          // never waits on a file (a slow disk, a FIFO, a huge file).
          waiting_ = true;
          asio::post(server_.pool(), [self = shared_from_this(), op, req = std::move(req),
                                      ctx = std::move(ctx), id, start]() mutable {
            std::optional<Reply> bad = self->server_.service().LoadFiles(*op, req, ctx);
            asio::post(self->strand_, [self, op, req = std::move(req), ctx = std::move(ctx), id,
                                       start, bad = std::move(bad)]() mutable {
              self->waiting_ = false;
              if (bad) {
                self->Immediate(op, id, std::move(*bad), start);
              } else {
                self->AddWrite(op, std::move(req), std::move(ctx), id, start);
              }
              self->Process();
            });
          });
          return;
        }
        AddWrite(op, std::move(req), std::move(ctx), id, start);
        return;
      }
      case OpKind::kStream:
        StartSubscription(req, id, start);
        return;
    }
  }

  // Queues a write for the next submission to the writer.
  void AddWrite(const OpSpec* op, json req, CallContext ctx, const std::string& id,
                Clock_::time_point start) {
    WriteItem& w = pending_writes_.emplace_back();
    w.op = op;
    w.args = std::move(req);
    w.ctx = std::move(ctx);
    w.id = id;
    w.start = start;
  }

  // Answers the run of checks read so far, in order. A long run is split
  // between this thread and the compute pool.
  void FlushChecks() {
    if (checks_.empty()) return;
    const size_t n = checks_.size();
    std::vector<const json*> reqs;
    reqs.reserve(n);
    for (const PendingCheck& c : checks_) reqs.push_back(&c.req);
    const CallContext ctx = Context();
    std::vector<Reply> replies(n);
    std::vector<std::string> lines(n);
    // Decides checks [begin, end), writes their reply lines and frees their
    // requests: all of it off this thread for the second half of a long run.
    auto part = [&](size_t begin, size_t end) {
      std::vector<Reply> r =
          server_.service().ExecuteChecks(std::span(reqs).subspan(begin, end - begin), ctx);
      for (size_t i = begin; i < end; ++i) {
        lines[i] = ReplyLine(checks_[i].id, r[i - begin]);
        replies[i] = std::move(r[i - begin]);
        replies[i].raw.clear();  // in lines[i] now
        checks_[i].req = json();
      }
    };
    if (n < kParallelCheckRun) {
      part(0, n);
    } else {
      std::vector<std::function<void()>> tasks = {[&] { part(0, n / 2); }, [&] { part(n / 2, n); }};
      try {
        server_.ForkJoin(tasks);
      } catch (const std::exception& e) {  // out of memory: answer, keep serving
        for (size_t i = 0; i < n; ++i) {
          replies[i] = Reply::Error(errc::kInternal, e.what());
          lines[i] = ReplyLine(checks_[i].id, replies[i]);
        }
      }
    }
    for (size_t i = 0; i < n; ++i) {
      Account(kCheckOp, replies[i], checks_[i].start);
      Queue(std::move(lines[i]));
    }
    checks_.clear();
  }

  CallContext Context() const {
    CallContext ctx;
    ctx.actor = Actor{peer_, "", "tacetd"};
    ctx.import_dir = server_.import_dir();
    ctx.parallel = [this](std::vector<std::function<void()>>& tasks) { server_.ForkJoin(tasks); };
    ctx.parallelism = server_.compute_threads() + 1;
    return ctx;
  }

  Reply StatsReply(const json& req, const CallContext& ctx) {
    Reply r = server_.service().Execute(*FindOp("stats"), req, ctx);
    if (r.ok) {
      json s = server_.StatsJson();
      for (auto it = s.begin(); it != s.end(); ++it) r.result[it.key()] = it.value();
      r.result["role"] = RoleName(role_);
      r.result["peer"] = peer_;
    }
    return r;
  }

  // A reply in request order. Replies of writes submitted earlier come
  // first: a read after a write waits for it (Process stops on waiting_).
  void Answer(const OpSpec* op, const std::string& id, const Reply& r, Clock_::time_point start) {
    Account(op, r, start);
    Queue(ReplyLine(id, r));
  }

  // Counts a reply in the stats and logs a refusal.
  void Account(const OpSpec* op, const Reply& r, Clock_::time_point start) {
    ++replies_;
    if (op != nullptr) server_.stats().Record(OpIndex(op), r.ok, Clock_::now() - start);
    if (!r.ok && r.code != errc::kInvalidSubject)
      server_.log().Write(spdlog::level::warn, "refused",
                          {{"op", op ? std::string(op->name) : std::string("?")},
                           {"code", r.code},
                           {"message", r.message},
                           {"peer", peer_}});
  }

  void SubmitWrites() {
    auto job = std::make_shared<WriteJob>();
    job->items = std::move(pending_writes_);
    pending_writes_.clear();
    waiting_ = true;
    job->done = [self = shared_from_this()](std::shared_ptr<WriteJob> done) {
      asio::post(self->strand_, [self, done] {
        for (WriteItem& w : done->items) self->Answer(w.op, w.id, w.reply, w.start);
        self->waiting_ = false;
        self->Process();
      });
    };
    if (!server_.SubmitWrite(job)) {
      // The queue is full: everything of this job is answered busy.
      job->done = nullptr;
      waiting_ = false;
      for (WriteItem& w : job->items)
        Answer(w.op, w.id, Reply::Error(errc::kBusy, "the writer queue is full; retry shortly"),
               w.start);
    }
  }

  // ------------------------------------------------ writing replies
  void Queue(std::string bytes) {
    if (out_pending_.empty())
      out_pending_ = std::move(bytes);
    else
      out_pending_ += bytes;
    if (!writing_) Flush();
  }

  void Flush() {
    if (writing_ || out_pending_.empty()) {
      if (!writing_ && closing_) Close("refused");
      return;
    }
    writing_ = true;
    out_writing_.swap(out_pending_);
    out_pending_.clear();
    asio::async_write(
        socket_, asio::buffer(out_writing_),
        asio::bind_executor(strand_, [self = shared_from_this()](boost::system::error_code ec,
                                                                 size_t) { self->OnWrite(ec); }));
  }

  void OnWrite(boost::system::error_code ec) {
    writing_ = false;
    out_writing_.clear();
    if (ec) {
      Close("write failed: " + ec.message());
      return;
    }
    last_activity_ = Clock_::now();
    if (!out_pending_.empty()) {
      Flush();
      return;
    }
    if (closing_) {
      Close("refused");
      return;
    }
    if (subscriber_) {
      PumpSubscription();
      return;
    }
    Process();
  }

  // When draining or at the client's end of input: close once everything
  // is answered and written.
  // A read still in flight (even cancelled) may have taken requests off the
  // socket already: its completion decides, so it must come first.
  void MaybeFinish() {
    if (closed_ || subscriber_) return;
    if (!(draining_ || eof_) || waiting_ || writing_ || !out_pending_.empty() ||
        !pending_writes_.empty() || in_.find('\n', pos_) != std::string::npos)
      return;
    boost::system::error_code ec;
    if (reading_) {
      // Draining with everything answered: a read armed before the drain
      // (or while the last reply was still being written) would wait for a
      // client that has nothing more to say. Requests already in the
      // socket's buffer still get answered; otherwise the read is ended, and
      // its completion closes. (Never while a write is in flight: cancel
      // would abort that too.)
      if (draining_ && socket_.available(ec) == 0) socket_.cancel(ec);
      return;
    }
    if (draining_ && !eof_ && socket_.available(ec) > 0) {
      DoRead();  // requests sent before the drain are still answered
      return;
    }
    Close(draining_ ? "drained" : read_error_.empty() ? "end of input" : read_error_);
  }

  void Close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    server_.log().Write(spdlog::level::debug, "disconnected",
                        {{"peer", peer_}, {"replies", replies_}, {"why", why}});
    boost::system::error_code ec;
    idle_.cancel();
    socket_.shutdown(Socket::shutdown_both, ec);
    socket_.close(ec);
    if (subscriber_) server_.Unsubscribe(this);
    server_.Release(this);
  }

  // ------------------------------------------------ idle timeout
  void ArmIdle() {
    if (config_.idle_timeout_seconds == 0) return;
    idle_.expires_after(std::chrono::seconds(config_.idle_timeout_seconds));
    idle_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closed_) return;
      auto idle_for = Clock_::now() - self->last_activity_;
      if (self->subscriber_ || self->waiting_ ||
          idle_for < std::chrono::seconds(self->config_.idle_timeout_seconds)) {
        self->ArmIdle();
        return;
      }
      self->closing_ = true;
      self->Queue(ReplyLine(
          "null",
          Reply::Error(errc::kIdleTimeout, "no request for " +
                                               std::to_string(self->config_.idle_timeout_seconds) +
                                               " s; closing the connection")));
    });
  }

  // ------------------------------------------------ subscription
  void StartSubscription(const json& req, const std::string& id, Clock_::time_point start) {
    const OpSpec* op = FindOp("subscribe");
    uint64_t from = 1;
    if (auto it = req.find("from_seq"); it != req.end() && !it->is_null()) {
      if (!it->is_number_unsigned()) {
        Answer(op, id, Reply::Error(errc::kBadRequest, "'from_seq' must be a non-negative integer"),
               start);
        return;
      }
      from = std::max<uint64_t>(1, it->get<uint64_t>());
    }
    for (auto it = req.begin(); it != req.end(); ++it)
      if (it.key() != "id" && it.key() != "op" && it.key() != "from_seq") {
        Answer(op, id,
               Reply::Error(errc::kBadRequest, "unknown field '" + it.key() + "' for subscribe"),
               start);
        return;
      }
    subscriber_ = true;
    next_seq_ = from;
    live_from_ = server_.Subscribe(shared_from_this());
    Reply r;
    r.result = {{"from_seq", from}, {"head_seq", live_from_ - 1}};
    Answer(op, id, r, start);
    server_.log().Write(spdlog::level::info, "subscribed", {{"from_seq", from}, {"peer", peer_}});
  }

  // Catch-up from the log while next_seq_ < live_from_, then the pushed
  // live events. One write in flight; runs after each write completes.
  void PumpSubscription() {
    if (closed_ || closing_ || writing_ || catching_up_) return;
    if (next_seq_ < live_from_) {
      catching_up_ = true;
      uint64_t from = next_seq_, to = std::min(live_from_ - 1, next_seq_ + 999);
      asio::post(server_.pool(), [self = shared_from_this(), from, to] {
        std::string out;
        uint64_t last = from - 1;
        Ledger& l = self->server_.ledger();
        Status st = l.log().Scan(from, to, [&](Event& e) {
          auto p = DecodePayload(e.type, e.version, e.payload);
          if (!p.ok()) return false;
          const Disclosed personal = l.Disclose(*p);
          out += "{\"event\":" + ToJsonText(EventJson(e, *p, l.zone(), &personal)) + "}\n";
          last = e.seq;
          return true;
        });
        asio::post(self->strand_, [self, out = std::move(out), last, st]() mutable {
          self->catching_up_ = false;
          if (!st.ok() || last < self->next_seq_) {
            self->closing_ = true;
            self->Queue(ReplyLine(
                "null", Reply::Error(errc::kInternal,
                                     "cannot read the log for the subscription: " + st.message())));
            return;
          }
          self->next_seq_ = last + 1;
          self->Queue(std::move(out));  // its write's completion pumps again
        });
      });
      return;
    }
    std::string out;
    bool overflow = false;
    {
      std::lock_guard lock(server_.hub_mu_);
      wake_posted_ = false;
      overflow = overflow_;
      while (!live_.empty() && out.size() < (1u << 20)) {
        auto& [seq, line] = live_.front();
        if (seq >= next_seq_) {
          out += *line;
          next_seq_ = seq + 1;
        }
        live_.pop_front();
      }
      if (!live_.empty()) overflow = false;  // more to send first
    }
    if (!out.empty()) {
      Queue(std::move(out));
      return;
    }
    if (overflow) {
      closing_ = true;
      server_.log().Write(spdlog::level::warn, "subscriber lagging",
                          {{"next_seq", next_seq_}, {"peer", peer_}});
      Queue(ReplyLine(
          "null",
          Reply::Error(errc::kLagging,
                       "the subscriber fell more than " + std::to_string(config_.subscriber_queue) +
                           " events behind; resume with from_seq " + std::to_string(next_seq_))));
    }
  }

  void OnWake() { PumpSubscription(); }

  Server::Impl& server_;
  Socket socket_;
  // The connection's I/O context, run by one thread: the handlers of a
  // session are serialised as a strand would serialise them.
  asio::any_io_executor strand_;
  asio::steady_timer idle_;
  DaemonConfig config_;
  uid_t uid_ = static_cast<uid_t>(-1);
  gid_t gid_ = static_cast<gid_t>(-1);
  std::string peer_;
  Role role_ = Role::kNone;

  std::array<char, 65536> chunk_;
  std::string in_;
  size_t pos_ = 0, scan_ = 0;
  std::string out_pending_, out_writing_;
  std::vector<WriteItem> pending_writes_;
  bool reading_ = false, writing_ = false, waiting_ = false;
  bool eof_ = false, draining_ = false, closing_ = false, closed_ = false;
  Clock_::time_point last_activity_ = Clock_::now();
  uint64_t replies_ = 0;  // for the log
  // The run of check requests read and not yet decided (FlushChecks).
  struct PendingCheck {
    json req;
    std::string id;
    Clock_::time_point start;
  };
  static constexpr size_t kMaxCheckRun = 1024;
  static constexpr size_t kParallelCheckRun = 64;  // from this many, on two threads
  inline static const OpSpec* const kCheckOp = FindOp("check");
  std::vector<PendingCheck> checks_;
  std::string read_error_;  // why reading stopped, when not the client's end

  // Subscription state; live_, overflow_ and wake_posted_ under hub_mu_.
  bool subscriber_ = false, catching_up_ = false;
  uint64_t next_seq_ = 1, live_from_ = 1;
  std::deque<std::pair<uint64_t, std::shared_ptr<const std::string>>> live_;
  bool overflow_ = false, wake_posted_ = false;
};

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
  max_queued_writes_ = c.daemon.max_queued_writes;
  published_ = ledger_->log().head().seq;
  socket_path_ = c.daemon.SocketPath(lo.data_dir);
  import_dir_ = c.daemon.ImportDir(lo.data_dir);
  std::error_code ec;
  std::filesystem::create_directories(import_dir_, ec);
  TACET_RETURN_IF_ERROR(BindSocket());
  writer_ = std::thread([this] { WriterLoop(); });
  syncer_ = std::thread([this] { SyncLoop(); });
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

bool Server::Impl::SubmitWrite(std::shared_ptr<WriteJob> job) {
  std::lock_guard lock(writer_mu_);
  if (queued_items_ + job->items.size() > max_queued_writes_.load()) return false;
  queued_items_ += job->items.size();
  writer_queue_.push_back(std::move(job));
  writer_cv_.notify_one();
  return true;
}

namespace {

// Waits (on `lock`, of `q`) until `q` has items or `exit` is set, then moves
// every item to `out`. False when exiting with nothing left.
template <class T>
bool TakeAll(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, std::deque<T>& q,
             const bool& exit, std::vector<T>& out) {
  cv.wait(lock, [&] { return exit || !q.empty(); });
  if (q.empty()) return false;
  for (T& item : q) out.push_back(std::move(item));
  q.clear();
  return true;
}

}  // namespace

// The writer executes groups of writes (no sync) and hands each group that
// appended events to the syncer; the syncer makes everything handed so far
// durable with one WAL sync, then answers. While one group syncs, the next
// executes: throughput is bounded by the slower of the two, not their sum
// (RocksDB's SyncWAL does not block writes of other threads).
void Server::Impl::WriterLoop() {
  std::vector<std::shared_ptr<WriteJob>> group;
  for (;;) {
    {
      std::unique_lock lock(writer_mu_);
      if (!TakeAll(lock, writer_cv_, writer_queue_, writer_exit_, group)) break;
      queued_items_ = 0;
    }
    const Status sticky = Sticky();
    const uint64_t before = ledger_->log().head().seq;
    for (auto& job : group) {
      for (WriteItem& w : job->items) {
        if (w.answered) continue;
        if (!read_only_.ok()) {
          w.reply = Reply::Error(errc::kIOError, read_only_.message());
          continue;
        }
        if (!sticky.ok()) {
          w.reply = Reply::Error(errc::kIOError, "an earlier write failed to reach the disk (" +
                                                     sticky.message() + "); restart tacetd");
          continue;
        }
        if (w.op->name == "reload") {
          if (auto bad = Service::CheckArguments(*w.op, w.args)) {
            w.reply = std::move(*bad);
            continue;
          }
          std::vector<std::string> changes;
          Status st = Reload(&changes);
          if (st.ok()) {
            w.reply.result = {{"reloaded", true},
                              {"head_seq", ledger_->log().head().seq},
                              {"policy_changes", changes}};
          } else {
            w.reply = Reply::Error(errc::kBadRequest, st.message());
          }
          continue;
        }
        w.reply = service_->Execute(*w.op, w.args, w.ctx);
      }
    }
    const uint64_t after = ledger_->log().head().seq;
    std::lock_guard lock(sync_mu_);
    sync_queue_.push_back(SyncGroup{std::move(group), before, after});
    sync_cv_.notify_one();
    group.clear();
  }
  std::lock_guard lock(sync_mu_);
  sync_exit_ = true;
  sync_cv_.notify_one();
}

void Server::Impl::CheckpointLoop() {
  if (!ledger_->log().has_checkpoint_key()) return;
  const auto interval =
      std::chrono::milliseconds(std::max<uint32_t>(ledger_->options().checkpoint.interval_ms, 10));
  std::unique_lock lock(checkpoint_mu_);
  while (!checkpoint_cv_.wait_for(lock, interval, [&] { return checkpoint_exit_; })) {
    if (!Sticky().ok()) continue;
    auto made = ledger_->log().Checkpoint(/*only_when_due=*/true);
    if (!made.ok()) {
      log_.Write(spdlog::level::critical, "checkpoint failed; refusing every further write",
                 {{"error", made.status().message()}});
    }
  }
}

void Server::Impl::SyncLoop() {
  std::vector<SyncGroup> groups;
  std::vector<json> lines;
  for (;;) {
    {
      std::unique_lock lock(sync_mu_);
      if (!TakeAll(lock, sync_cv_, sync_queue_, sync_exit_, groups)) return;
    }
    const bool appended = std::any_of(groups.begin(), groups.end(),
                                      [](const SyncGroup& g) { return g.after != g.before; });
    Status st = Sticky();
    if (appended && st.ok()) {
      st = ledger_->SyncWal();
      if (!st.ok()) {
        log_.Write(spdlog::level::critical, "WAL sync failed; refusing every further write",
                   {{"error", st.message()}});
      }
    }
    // One log line per durable write, written once the writers are answered.
    const bool log_writes = log_.enabled(spdlog::level::info);
    size_t ok_writes = 0;
    for (SyncGroup& g : groups)
      for (auto& job : g.jobs)
        for (WriteItem& w : job->items) {
          if (w.answered || !w.reply.ok || w.op->name == "reload") continue;
          if (!st.ok()) {
            w.reply = Reply::Error(errc::kIOError, "the write may not be durable: " + st.message());
            continue;
          }
          ++ok_writes;
          if (log_writes)
            lines.push_back({{"op", std::string(w.op->name)},
                             {"peer", w.ctx.actor.os_user},
                             {"seq", w.reply.result.value("seq", json(nullptr))},
                             {"subject", w.reply.result.value("subject", json(nullptr))}});
        }
    group_commits_.fetch_add(appended ? 1 : 0, std::memory_order_relaxed);
    committed_writes_.fetch_add(ok_writes, std::memory_order_relaxed);
    if (st.ok())
      for (SyncGroup& g : groups)
        if (g.after != g.before) Publish(g.before + 1, g.after);
    for (SyncGroup& g : groups)
      for (auto& job : g.jobs)
        if (job->done) job->done(job);
    groups.clear();
    for (const json& fields : lines) log_.Buffer(spdlog::level::info, "write", fields);
    if (!lines.empty()) log_.Flush();
    lines.clear();
  }
}

uint64_t Server::Impl::Subscribe(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(hub_mu_);
  subscribers_.push_back(s);
  return published_ + 1;
}

void Server::Impl::Unsubscribe(Session* s) {
  std::lock_guard lock(hub_mu_);
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [s](const std::weak_ptr<Session>& w) {
                                      auto p = w.lock();
                                      return !p || p.get() == s;
                                    }),
                     subscribers_.end());
}

void Server::Impl::Publish(uint64_t from, uint64_t to) {
  std::vector<std::pair<uint64_t, std::shared_ptr<const std::string>>> lines;
  {
    std::lock_guard lock(hub_mu_);
    if (subscribers_.empty()) {
      published_ = to;
      return;
    }
  }
  Status st = ledger_->log().Scan(from, to, [&](Event& e) {
    auto p = DecodePayload(e.type, e.version, e.payload);
    if (!p.ok()) return false;
    // Subscribers are readers, who may read any history: the feed opens
    // the sealed fields as history does (an erased subject's stay erased).
    const Disclosed personal = ledger_->Disclose(*p);
    lines.emplace_back(
        e.seq,
        std::make_shared<const std::string>(
            "{\"event\":" + ToJsonText(EventJson(e, *p, ledger_->zone(), &personal)) + "}\n"));
    return true;
  });
  if (!st.ok()) log_.Write(spdlog::level::err, "cannot publish events", {{"error", st.message()}});
  const size_t limit = daemon_config().subscriber_queue;  // a reload may change it
  std::lock_guard lock(hub_mu_);
  published_ = to;
  for (auto& w : subscribers_)
    if (auto s = w.lock())
      for (auto& [seq, line] : lines) s->PushLocked(line, seq, limit);
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
          {"group_commits", group_commits_.load()},
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
  {
    std::lock_guard lock(writer_mu_);
    writer_exit_ = true;
    writer_cv_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
  if (syncer_.joinable()) syncer_.join();
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
    max_queued_writes_ = d.max_queued_writes;
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
