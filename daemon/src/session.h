// One connection of tacetd: framing, reply order and queue, idle timer,
// subscription. All its handlers run on its strand.
#pragma once

#include "server_impl.h"

namespace tacet {

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

}  // namespace tacet
