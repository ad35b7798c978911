// tacetd's subscription hub: sessions subscribe, the syncer publishes each
// durable range of events to them.
#include "session.h"

namespace tacet {

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

}  // namespace tacet
