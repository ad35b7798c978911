// Ledger operations of issue 3: policy (consent types, reasons, channel
// rules) as events, consents, the internal do-not-call list,
// justifications, and the decision on every channel.
#include <algorithm>
#include <deque>
#include <mutex>
#include <set>
#include <unordered_set>

#include "../internal/bytes.h"
#include "../internal/dates.h"
#include "../internal/text.h"
#include "block_requests.h"
#include "tacet/core/codec.h"
#include "tacet/projections/ledger.h"

namespace tacet {
namespace {

const auto& Q = internal::Quote;

Status CheckSource(const std::string& source) {
  if (std::find(kBlockSources.begin(), kBlockSources.end(), source) == kBlockSources.end())
    return Status::InvalidArgument("unknown block source " + Q(source) +
                                   " (known: request, call_outcome, robinson, crm_classifier, "
                                   "objection); nothing was recorded");
  return Status::Ok();
}

}  // namespace

const std::vector<std::string> kBlockSources = {"request", "call_outcome", "robinson",
                                                "crm_classifier", "objection"};

namespace internal {

Status CheckBlock(const BlockRequest& req) {
  if (req.reason.empty())
    return Status::InvalidArgument("a block needs a reason (--reason); nothing was recorded");
  TACET_RETURN_IF_ERROR(CheckSource(req.source));
  if ((req.channels & kEveryChannel) == 0 || (req.channels & ~kEveryChannel) != 0)
    return Status::InvalidArgument(
        "a block needs at least one known channel; nothing was recorded");
  return Status::Ok();
}

Result<std::vector<std::string>> CheckUnblock(const UnblockRequest& req) {
  if (req.officer.empty())
    return Status::FailedPrecondition(
        "only an officer lifts a block: pass --officer NAME; nothing was recorded");
  if (req.reason.empty())
    return Status::InvalidArgument("an unblock needs a reason (--reason); nothing was recorded");
  if ((req.channels & kEveryChannel) == 0 || (req.channels & ~kEveryChannel) != 0)
    return Status::InvalidArgument(
        "an unblock needs at least one known channel; nothing was recorded");
  std::vector<std::string> sources = req.sources;
  std::sort(sources.begin(), sources.end());
  sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
  for (const std::string& src : sources) TACET_RETURN_IF_ERROR(CheckSource(src));
  return sources;
}

Status ChooseLifted(std::span<const BlockEntry> blocks, std::span<const UnblockEntry> unblocks,
                    const UnblockRequest& req, const std::vector<std::string>& sources, TimeMs now,
                    const std::string& who, UnblockReport* rep) {
  for (const BlockEntry& b : blocks) {
    if (!sources.empty() && !std::binary_search(sources.begin(), sources.end(), b.source)) continue;
    ChannelMask in_force = 0;
    for (Channel c : kAllChannels) {
      if ((req.channels & b.channels & MaskOf(c)) == 0) continue;
      std::vector<uint64_t> active = ActiveBlocks(blocks, unblocks, c, now);
      if (std::find(active.begin(), active.end(), b.seq) != active.end()) in_force |= MaskOf(c);
    }
    if (in_force == 0) continue;
    rep->lifted.push_back({b.seq, b.source, in_force});
    rep->channels |= in_force;
  }
  std::string by;
  for (const std::string& src : sources) by += (by.empty() ? " by " : " or ") + src;
  if (rep->lifted.empty())
    return Status::FailedPrecondition(
        who + " is not blocked" +
        (req.channels == kEveryChannel ? "" : " on " + ChannelNames(req.channels, " or ")) + by +
        "; nothing was recorded");
  if (req.channels != kEveryChannel && rep->channels != req.channels)
    return Status::FailedPrecondition(who + " is not blocked on " +
                                      ChannelNames(req.channels & ~rep->channels, " or ") + by +
                                      "; nothing was recorded");
  return Status::Ok();
}

}  // namespace internal

Status Ledger::LoadPolicy() {
  PolicyHistory h;
  Status st = Status::Ok();
  TACET_RETURN_IF_ERROR(
      log_->ScanFamily(projector_.policy_family(), "", [&](std::string_view k, std::string_view v) {
        st = LoadPolicyRecord(k, v, &h);
        return st.ok();
      }));
  TACET_RETURN_IF_ERROR(st);
  std::unique_lock lock(policy_mu_);
  policy_ = std::move(h);
  // The last change of any kind of policy item: a decision whose cut comes
  // before it needs the view of its own moment (DecideAll), not today's.
  policy_changed_at_ = 0;
  auto latest = [this](const auto& versions) {
    for (const auto& v : versions) policy_changed_at_ = std::max(policy_changed_at_, v.recorded_at);
  };
  for (const auto& [code, versions] : policy_.consent_types) latest(versions);
  for (const auto& [code, versions] : policy_.reasons) latest(versions);
  latest(policy_.channel_policy);
  for (const auto& [name, versions] : policy_.registries) latest(versions);
  for (const auto& [code, versions] : policy_.outcomes) latest(versions);
  for (const auto& [name, versions] : policy_.calling_hours) latest(versions);
  for (const auto& [name, versions] : policy_.caps) latest(versions);
  for (const auto& [key, versions] : policy_.callers) latest(versions);
  for (const auto& [code, versions] : policy_.campaigns) latest(versions);
  for (const auto& [id, list] : policy_.lists)
    policy_changed_at_ = std::max(policy_changed_at_, list.recorded_at);
  current_policy_ = PolicyAt(policy_, kKnownNow);
  return Status::Ok();
}

Result<Recorded> Ledger::AppendOne(const Subject& subject, Payload p, const Actor& actor) {
  const SubjectId& id = *SubjectOf(p);
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 1));
  TACET_RETURN_IF_ERROR(RefuseIfErased(batch, id, subject));
  TACET_RETURN_IF_ERROR(SealInto(subject, &p));
  const Event& e = batch.Add(p);
  Recorded r;
  r.seq = e.seq;
  r.recorded_at = e.recorded_at;
  r.subject = subject.value;
  TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  return r;
}

Status Ledger::RefuseIfErased(AppendBatch& batch, const SubjectId& id, const Subject& subject) {
  TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(projector_.subject_family(), SubjectKey(id)));
  if (!bytes) return Status::Ok();
  TACET_ASSIGN_OR_RETURN(SubjectState st, DecodeSubjectState(*bytes));
  if (st.erased_seq == 0) return Status::Ok();
  return Status::FailedPrecondition(
      subject.value + " was erased (seq " + std::to_string(st.erased_seq) +
      "): it stays suppressed on every channel and no personal data about it is recorded again; "
      "nothing was recorded");
}

Status Ledger::SealInto(const Subject& subject, Payload* p) {
  return std::visit(
      [&](auto& v) -> Status {
        if constexpr (requires {
                        v.sealed;
                        v.subject;
                      }) {
          TACET_ASSIGN_OR_RETURN(v.sealed,
                                 SealFor(v.subject, std::decay_t<decltype(v)>::kType,
                                         Personal{subject.value, std::move(v.sealed.bytes)}));
        }
        return Status::Ok();
      },
      *p);
}

Result<Recorded> Ledger::GrantConsent(const ConsentRequest& req, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  const TimeMs now = clock_->NowMs();
  PolicyView policy = Policy(now);
  auto type = policy.consent_types.find(req.type_code);
  if (type == policy.consent_types.end()) {
    std::string known;
    for (const auto& [code, t] : policy.consent_types) known += (known.empty() ? "" : ", ") + code;
    return Status::InvalidArgument("unknown consent type " + Q(req.type_code) + " (known: " +
                                   (known.empty() ? "none; declare them in the config" : known) +
                                   "); nothing was recorded");
  }
  TACET_ASSIGN_OR_RETURN(const Day given, internal::PastOrToday("--given", req.given, zone_, now));
  ConsentGranted g;
  TACET_ASSIGN_OR_RETURN(g.subject, IdOf(subject));
  g.type_code = req.type_code;
  g.given_day = given;
  g.validity_days = type->second.value.validity_days;
  g.effective_from = zone_.StartOfDay(given);
  g.expires_at =
      g.validity_days == 0 ? 0 : zone_.StartOfDay(given + static_cast<Day>(g.validity_days) + 1);
  g.sealed.bytes = req.evidence;  // sealed by AppendOne
  TACET_ASSIGN_OR_RETURN(Recorded r, AppendOne(subject, g, actor));
  r.valid_until = g.expires_at;
  return r;
}

Result<Recorded> Ledger::RevokeConsent(std::string_view subject_text, std::string_view type_code,
                                       std::string_view reason, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(subject_text));
  // Withdrawal must be as easy as giving: a retired type can still be revoked.
  if (policy_.consent_types.find(std::string(type_code)) == policy_.consent_types.end())
    return Status::InvalidArgument("unknown consent type " + Q(type_code) +
                                   "; nothing was recorded");
  TACET_ASSIGN_OR_RETURN(SubjectId id, IdOf(subject));
  return AppendOne(subject, ConsentRevoked{id, std::string(type_code), {std::string(reason)}},
                   actor);
}

Result<Recorded> Ledger::Block(const BlockRequest& req, const Actor& actor) {
  if (!req.person.empty()) return BlockPerson(req, actor);
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  TACET_RETURN_IF_ERROR(internal::CheckBlock(req));
  TACET_ASSIGN_OR_RETURN(SubjectId id, IdOf(subject));
  return AppendOne(subject, Blocked{id, req.channels, req.source, {req.reason}}, actor);
}

Result<BlockFileReport> Ledger::BlockFile(const std::string& path, const BlockRequest& req,
                                          const Actor& actor,
                                          const std::optional<std::string>& content) {
  TACET_RETURN_IF_ERROR(internal::CheckBlock(req));
  TACET_ASSIGN_OR_RETURN(std::vector<internal::Candidate> cands,
                         internal::Candidates(path, content, "", true));
  BlockFileReport rep;
  rep.lines = cands.size();
  struct Entry {
    SubjectId id;
    std::string text;
  };
  std::vector<Entry> subjects;
  std::unordered_set<std::string> seen;
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  for (const auto& c : cands) {
    Result<Subject> s = parser_.Parse(c.value);
    if (!s.ok()) {
      if (rep.invalid++ < 100)
        rep.invalid_lines.push_back("line " + std::to_string(c.line) + " " + Q(c.value) + ": " +
                                    s.status().message());
      continue;
    }
    if (!seen.insert(s->value).second) {
      ++rep.duplicates;
      continue;
    }
    subjects.push_back({keyer_->Of(s->value), std::move(s->value)});
  }
  // Looked up in key order (sorted keys read fastest), recorded in the
  // file's order.
  std::vector<std::optional<std::string>> records(subjects.size());
  {
    std::vector<uint32_t> by_key(subjects.size());
    for (uint32_t i = 0; i < by_key.size(); ++i) by_key[i] = i;
    std::sort(by_key.begin(), by_key.end(),
              [&](uint32_t a, uint32_t b) { return subjects[a].id < subjects[b].id; });
    std::vector<std::string> keys;
    keys.reserve(subjects.size());
    for (uint32_t i : by_key) keys.push_back(SubjectKey(subjects[i].id));
    std::vector<std::optional<std::string>> sorted;
    TACET_RETURN_IF_ERROR(log_->MultiGet(projector_.subject_family(), keys, &sorted));
    for (size_t k = 0; k < by_key.size(); ++k) records[by_key[k]] = std::move(sorted[k]);
  }
  const TimeMs now = clock_->NowMs();
  std::vector<size_t> fresh;
  for (size_t i = 0; i < subjects.size(); ++i) {
    bool covered = false;
    if (records[i]) {
      TACET_ASSIGN_OR_RETURN(SubjectState st, DecodeSubjectState(*records[i]));
      if (st.erased_seq != 0) {  // suppressed for good, and no data to record
        ++rep.already;
        continue;
      }
      // Blocks are per source: a block by another source leaves this one to
      // record (an unblock of the other must not reopen contact).
      covered = true;
      for (Channel c : kAllChannels) {
        if ((req.channels & MaskOf(c)) == 0) continue;
        const std::vector<uint64_t> active = ActiveBlocks(st, c, now);
        const bool by_source = std::any_of(st.blocks.begin(), st.blocks.end(), [&](const auto& b) {
          return b.source == req.source &&
                 std::find(active.begin(), active.end(), b.seq) != active.end();
        });
        if (!by_source) covered = false;
      }
    }
    if (covered) {
      ++rep.already;
    } else {
      fresh.push_back(i);
    }
  }
  if (fresh.empty()) return rep;
  if (keys_ == nullptr) return Status::FailedPrecondition("the data key store is not open");
  std::vector<SubjectId> ids;
  ids.reserve(fresh.size());
  for (size_t i : fresh) ids.push_back(subjects[i].id);
  // Synced now, whatever the host's durability: a large batch is ingested
  // and durable as soon as it commits.
  TACET_ASSIGN_OR_RETURN(std::vector<DataKey> data_keys, keys_->GetOrCreate(ids, true));
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, fresh.size()));
  std::vector<Event> events;
  std::vector<Payload> payloads;
  events.reserve(fresh.size());
  payloads.reserve(fresh.size());
  for (size_t k = 0; k < fresh.size(); ++k) {
    const Entry& en = subjects[fresh[k]];
    TACET_ASSIGN_OR_RETURN(std::string sealed, SealPersonal(data_keys[k], PayloadType::kBlocked,
                                                            en.id, Personal{en.text, req.reason}));
    payloads.push_back(Blocked{en.id, req.channels, req.source, {std::move(sealed)}});
    events.push_back(batch.Add(payloads.back()));
  }
  TACET_RETURN_IF_ERROR(projector_.ApplyRun(events, payloads, batch));
  rep.first_seq = batch.first_seq();
  rep.last_seq = batch.last_seq();
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  rep.newly = fresh.size();
  return rep;
}

Result<UnblockReport> Ledger::Unblock(const UnblockRequest& req, const Actor& actor) {
  if (!req.person.empty()) return UnblockPerson(req, actor);
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  TACET_ASSIGN_OR_RETURN(const std::vector<std::string> sources, internal::CheckUnblock(req));

  // The blocks in force now are read in the batch that records the unblock,
  // so no write can come between the check and the record.
  TACET_ASSIGN_OR_RETURN(SubjectId id, IdOf(subject));
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 1));
  TACET_RETURN_IF_ERROR(RefuseIfErased(batch, id, subject));
  TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(projector_.subject_family(), SubjectKey(id)));
  SubjectState st;
  if (bytes) {
    TACET_ASSIGN_OR_RETURN(st, DecodeSubjectState(*bytes));
  }
  UnblockReport rep;
  rep.subject = subject.value;
  TACET_RETURN_IF_ERROR(internal::ChooseLifted(st.blocks, st.unblocks, req, sources,
                                               batch.recorded_at(), subject.value, &rep));
  Unblocked u{id, rep.channels, sources, {}, req.officer, {req.reason}};
  for (const auto& l : rep.lifted) u.lifted.push_back(l.seq);
  Payload p = std::move(u);
  TACET_RETURN_IF_ERROR(SealInto(subject, &p));
  const Event& e = batch.Add(p);
  rep.seq = e.seq;
  TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  return rep;
}

Result<Recorded> Ledger::Justify(const JustifyRequest& req, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  if (InfoOf(req.channel).always_needs_consent)
    return Status::InvalidArgument(std::string("a ") + ChannelName(req.channel) +
                                   " cannot be justified: it goes only to subjects with a valid "
                                   "consent; nothing was recorded");
  const TimeMs now = clock_->NowMs();
  PolicyView policy = Policy(now);
  if (policy.reasons.find(req.reason_code) == policy.reasons.end()) {
    std::string known;
    for (const auto& [code, r] : policy.reasons) known += (known.empty() ? "" : ", ") + code;
    return Status::InvalidArgument("unknown reason " + Q(req.reason_code) + " (known: " +
                                   (known.empty() ? "none; declare them in the config" : known) +
                                   "); nothing was recorded");
  }
  // A justification stands in for a missing consent only: a block, a
  // registry listing, an expired or missing clearance deny whatever the
  // operator's reason. The writer is the only one, so nothing can change
  // the decision between this read and the record.
  DecisionAnswer now_answer;
  now_answer.subject = subject;
  now_answer.channel = req.channel;
  now_answer.at = now;
  TACET_RETURN_IF_ERROR(DecideAll(std::span(&now_answer, 1)));
  if (now_answer.decision.verdict == Verdict::kDeny) {
    std::string why;
    for (const DecisionReason& r : now_answer.decision.reasons) {
      if (!why.empty()) why += "; ";
      why += r.code + " (" + r.detail;
      for (size_t i = 0; i < r.seqs.size(); ++i)
        why += (i == 0 ? ", seq " : ", ") + std::to_string(r.seqs[i]);
      why += ")";
    }
    return Status::FailedPrecondition("a justification cannot lift this denial of " +
                                      std::string(ChannelName(req.channel)) + " to " +
                                      subject.value + ": " + why + "; nothing was recorded");
  }
  Justified j;
  TACET_ASSIGN_OR_RETURN(j.subject, IdOf(subject));
  j.channel = req.channel;
  j.reason_code = req.reason_code;
  j.operator_id = req.operator_id.empty() ? actor.operator_id : req.operator_id;
  // The window runs from the recorded time, which is the batch's time.
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 1));
  j.valid_until = batch.recorded_at() +
                  static_cast<TimeMs>(policy.channel_policy.value.justification_minutes) * 60'000;
  Payload p = j;
  TACET_RETURN_IF_ERROR(SealInto(subject, &p));
  const Event& e = batch.Add(p);
  Recorded r{e.seq, e.recorded_at, j.valid_until, subject.value};
  TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  return r;
}

Result<std::vector<std::string>> Ledger::PolicyDifferences(const PolicyConfig& config) const {
  std::vector<std::string> out;
  TACET_RETURN_IF_ERROR(PolicyChanges(config, &out).status());
  return out;
}

Result<PolicyReconcileReport> Ledger::ReconcilePolicy(const PolicyConfig& config,
                                                      const Actor& actor) {
  PolicyReconcileReport rep;
  TACET_ASSIGN_OR_RETURN(std::vector<Payload> changes, PolicyChanges(config, &rep.changes));
  if (changes.empty()) return rep;
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, changes.size()));
  for (const Payload& p : changes) TACET_RETURN_IF_ERROR(projector_.Apply(batch.Add(p), p, batch));
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  rep.appended = changes.size();
  TACET_RETURN_IF_ERROR(LoadPolicy());
  policy_differences_.clear();
  return rep;
}

Result<std::vector<Payload>> Ledger::PolicyChanges(const PolicyConfig& config,
                                                   std::vector<std::string>* described) const {
  std::vector<std::string>& changes_text = *described;
  const PolicyView now = Policy(kKnownNow);
  std::vector<Payload> changes;
  for (const auto& t : config.consent_types) {
    if (t.code.empty()) return Status::InvalidArgument("a consent type needs a code");
    if ((t.uses & ~(kUseNewsletter | kUseEmail | kUsePhone)) != 0 || t.uses == 0)
      return Status::InvalidArgument("consent type " + Q(t.code) + " permits no known use");
    ConsentTypeDefined d{t.code, t.title, t.description, t.validity_days, t.uses, false};
    auto it = now.consent_types.find(t.code);
    const ConsentTypeDefined* cur = it == now.consent_types.end() ? nullptr : &it->second.value;
    if (cur == nullptr || cur->title != d.title || cur->description != d.description ||
        cur->validity_days != d.validity_days || cur->uses != d.uses) {
      changes_text.push_back((cur ? "consent type changed: " : "consent type defined: ") + t.code);
      changes.push_back(d);
    }
  }
  if (config.consent_types_declared)
    for (const auto& [code, v] : now.consent_types)
      if (std::none_of(config.consent_types.begin(), config.consent_types.end(),
                       [&code = code](const ConsentTypeConfig& t) { return t.code == code; })) {
        ConsentTypeDefined d = v.value;
        d.retired = true;
        changes_text.push_back("consent type retired: " + code);
        changes.push_back(d);
      }
  for (const auto& r : config.reasons) {
    if (r.code.empty()) return Status::InvalidArgument("a reason needs a code");
    auto it = now.reasons.find(r.code);
    if (it == now.reasons.end() || it->second.value.title != r.title) {
      changes_text.push_back((it == now.reasons.end() ? "reason defined: " : "reason changed: ") +
                             r.code);
      changes.push_back(ReasonDefined{r.code, r.title, false});
    }
  }
  if (config.reasons_declared)
    for (const auto& [code, v] : now.reasons)
      if (std::none_of(config.reasons.begin(), config.reasons.end(),
                       [&code = code](const ReasonConfig& r) { return r.code == code; })) {
        changes_text.push_back("reason retired: " + code);
        changes.push_back(ReasonDefined{code, v.value.title, true});
      }
  if (config.registries_declared) {
    for (const RegistryConfig& r : config.registries) {
      TACET_RETURN_IF_ERROR(MakeRegistry(r.definition).status());
      RegistryDefined d = r.definition;
      d.retired = false;
      auto it = now.registries.find(d.name);
      const bool recorded = it != now.registries.end() && it->second.seq != 0;
      if (!recorded || !(it->second.value->definition() == d)) {
        changes_text.push_back((recorded ? "registry changed: " : "registry defined: ") + d.name);
        changes.push_back(std::move(d));
      }
    }
    for (const auto& [name, v] : now.registries)
      if (v.seq != 0 && config.FindRegistry(name) == nullptr) {
        RegistryDefined d = v.value->definition();
        d.retired = true;
        changes_text.push_back("registry retired: " + name);
        changes.push_back(std::move(d));
      }
  }
  // Outcomes, calling hours and caps: each declared item defined or
  // changed; when the list is declared, the others retired.
  auto reconcile = [&](const char* what, bool declared, const auto& items, const auto& in_force,
                       auto key_of, auto value_of) -> Status {
    for (auto item : items) {
      const std::string key = key_of(item);
      if (key.empty()) return Status::InvalidArgument(std::string("a ") + what + " needs a name");
      item.retired = false;
      // What the decoder would refuse is refused here, before it is recorded.
      const Payload probe = item;
      if (auto back = DecodePayload(TypeOf(probe), std::decay_t<decltype(item)>::kVersion,
                                    EncodePayload(probe));
          !back.ok())
        return Status::InvalidArgument(std::string(what) + " " + key + ": " +
                                       back.status().message());
      auto it = in_force.find(key);
      const bool recorded = it != in_force.end() && it->second.seq != 0;
      if (!recorded || !(value_of(it->second) == item)) {
        changes_text.push_back(std::string(what) + (recorded ? " changed: " : " defined: ") + key);
        changes.push_back(std::move(item));
      }
    }
    if (declared)
      for (const auto& [key, v] : in_force)
        if (v.seq != 0 &&
            std::none_of(items.begin(), items.end(),
                         [&key = key, &key_of](const auto& x) { return key_of(x) == key; })) {
          auto retired = value_of(v);
          retired.retired = true;
          changes_text.push_back(std::string(what) + " retired: " + key);
          changes.push_back(std::move(retired));
        }
    return Status::Ok();
  };
  TACET_RETURN_IF_ERROR(reconcile(
      "outcome", config.outcomes_declared, config.outcomes, now.outcomes,
      [](const OutcomeDefined& o) { return o.code; },
      [](const Versioned<OutcomeDefined>& v) { return v.value; }));
  for (const CallingHoursDefined& h : config.calling_hours)
    TACET_RETURN_IF_ERROR(CallingHours::Make(h).status());
  TACET_RETURN_IF_ERROR(reconcile(
      "calling hours", config.calling_hours_declared, config.calling_hours, now.calling_hours,
      [](const CallingHoursDefined& h) { return h.name; },
      [](const CallingHoursVersion& v) { return v.value->definition(); }));
  TACET_RETURN_IF_ERROR(reconcile(
      "frequency cap", config.caps_declared, config.caps, now.caps,
      [](const FrequencyCapDefined& f) { return f.name; },
      [](const Versioned<FrequencyCapDefined>& v) { return v.value; }));
  if (config.channels) {
    const ChannelPolicySet& cur = now.channel_policy.value;
    if (now.channel_policy.seq == 0 || cur.consent_required != config.channels->consent_required ||
        cur.justification_minutes != config.channels->justification_minutes) {
      changes_text.push_back("channel policy set");
      changes.push_back(*config.channels);
    }
  }
  return changes;
}

Decision Ledger::DecideWith(const DecisionAnswer& a, const PolicyView& policy,
                            const SubjectState* subject_state, const Registry* registry,
                            const RegistryState* registry_state,
                            const std::vector<AttemptEntry>* attempts,
                            const PersonFacts& person) const {
  DecisionInput in;
  in.explain = a.explain;
  in.channel = a.channel;
  in.at = a.at;
  in.known_at = a.known_at;
  in.registry_applies = registry != nullptr;
  if (registry != nullptr) {
    in.registry = registry->name();
    in.registry_state = registry_state;
  }
  in.subject_state = subject_state;
  in.policy = &policy;
  in.region = a.subject.region;
  in.campaign = a.campaign;
  in.attempts = attempts;
  in.persons = person.persons;
  in.person_attempts = person.attempts;
  in.person_evidence = person.evidence;
  in.lists = person.lists;
  return Evaluate(in);
}

Status Ledger::LoadAttempts(EventLog::RangeReader& reader, const SubjectId& id, TimeMs from,
                            TimeMs to, std::vector<AttemptEntry>* out) const {
  Status bad;
  // The range's bounds, in buffers each deciding thread keeps.
  thread_local std::string lo, hi;
  SetAttemptRangeStart(lo, id, from);
  SetAttemptRangeStart(hi, id, to == INT64_MAX ? to : to + 1);
  TACET_RETURN_IF_ERROR(reader.Read(lo, hi, [&](std::string_view k, std::string_view v) {
    auto e = DecodeAttempt(k, v);
    if (!e.ok()) {
      bad = e.status();
      return false;
    }
    out->push_back(std::move(e).value());
    return true;
  }));
  return bad;
}

Result<DecisionAnswer> Ledger::Decide(std::string_view text, Channel channel, TimeMs at,
                                      TimeMs known_at) const {
  DecisionAnswer a;
  TACET_ASSIGN_OR_RETURN(a.subject, parser_.Parse(text));
  a.channel = channel;
  a.at = at;
  a.known_at = known_at;
  // Point lookup 1: the subject's own records; 2: its registry record.
  TACET_RETURN_IF_ERROR(DecideAll(std::span(&a, 1)));
  return a;
}

Result<FilterReport> Ledger::Filter(const FilterRequest& req,
                                    const std::function<void(const FilterItem&)>& fn) const {
  TACET_ASSIGN_OR_RETURN(std::vector<internal::Candidate> cands,
                         internal::Candidates(req.path, req.content, req.column, true));
  return DecideCandidates(cands, req.channel, req.at, req.known_at, true, fn, Explain::kFull,
                          req.campaign);
}

Result<FilterReport> Ledger::DecideMany(std::span<const std::string> subjects, Channel channel,
                                        TimeMs at, TimeMs known_at,
                                        const std::function<void(const FilterItem&)>& fn,
                                        Explain explain, std::string_view campaign) const {
  std::vector<internal::Candidate> cands;
  cands.reserve(subjects.size());
  for (size_t i = 0; i < subjects.size(); ++i) cands.push_back({i + 1, subjects[i]});
  return DecideCandidates(cands, channel, at, known_at, false, fn, explain, campaign);
}

Status Ledger::DecideAll(std::span<DecisionAnswer> answers) const {
  const size_t n = answers.size();
  if (keyer_ == nullptr && n > 0) return Status::FailedPrecondition(keyer_error_);
  // One shared lock for the whole batch: a lock per decision makes its
  // counter bounce between the cores deciding halves of a run.
  std::shared_lock lock(policy_mu_);
  // The policy each answer is decided under: the current one, or the one
  // in force at its cut (a batch asks about one moment, mostly: one view).
  std::deque<PolicyView> past;
  std::vector<const PolicyView*> policy_of(n);
  std::vector<const Registry*> registry_of_answer(n, nullptr);
  std::vector<std::string> subject_keys, registry_keys;
  std::vector<uint32_t> registry_of;  // registry_keys[k] belongs to answers[registry_of[k]]
  std::vector<SubjectId> ids;
  ids.reserve(n);
  subject_keys.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const DecisionAnswer& a = answers[i];
    TACET_RETURN_IF_ERROR(ChannelFits(a.subject, a.channel));
    const TimeMs cut = std::min(a.at, a.known_at);
    if (cut >= policy_changed_at_) {
      policy_of[i] = &current_policy_;
    } else {
      if (i == 0 || policy_of[i - 1] == &current_policy_ || answers[i - 1].at != a.at ||
          answers[i - 1].known_at != a.known_at)
        past.push_back(PolicyAt(policy_, cut, a.known_at));
      policy_of[i] = &past.back();
    }
    const SubjectId& id =
        ids.emplace_back(a.subject_id ? *a.subject_id : keyer_->Of(a.subject.value));
    subject_keys.push_back(SubjectKey(id));
    if (const Registry* reg = policy_of[i]->RoundTripCovering(a.subject, a.channel)) {
      registry_of_answer[i] = reg;
      registry_keys.push_back(RegistryKey(reg->name(), id));
      registry_of.push_back(static_cast<uint32_t>(i));
    }
  }
  // Records are decoded straight from RocksDB's buffers (no copies).
  std::vector<std::optional<SubjectState>> subjects(n);
  std::vector<std::optional<RegistryState>> registries(n);
  Status bad;
  TACET_RETURN_IF_ERROR(
      log_->MultiGet(projector_.subject_family(), subject_keys, [&](size_t i, std::string_view v) {
        Result<SubjectState> s = DecodeSubjectState(v);
        if (s.ok()) {
          subjects[i] = std::move(s).value();
        } else if (bad.ok()) {
          bad = s.status();
        }
      }));
  TACET_RETURN_IF_ERROR(log_->MultiGet(projector_.registry_family(), registry_keys,
                                       [&](size_t k, std::string_view v) {
                                         Result<RegistryState> r = DecodeRegistryState(v);
                                         if (r.ok()) {
                                           registries[registry_of[k]] = std::move(r).value();
                                         } else if (bad.ok()) {
                                           bad = r.status();
                                         }
                                       }));
  TACET_RETURN_IF_ERROR(bad);
  // Persons (issue 18): read only for subjects linked to one by known_at
  // (most are not: nothing more is read for them).
  PersonRecords persons;
  {
    std::vector<PersonId> wanted;
    TimeMs latest = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!subjects[i]) continue;
      for (const SubjectState::Link& l : subjects[i]->links)
        if (l.recorded_at <= answers[i].known_at) {
          wanted.push_back(l.person);
          latest = std::max(latest, answers[i].known_at);
        }
    }
    if (!wanted.empty()) TACET_RETURN_IF_ERROR(LoadPersons(std::move(wanted), latest, &persons));
  }
  // Provenance (issue 18): for answers asked for a campaign with registered
  // lists, one point lookup per list (recorded by known_at) in one MultiGet.
  std::vector<std::vector<ListMembership>> memberships;
  if (!policy_.lists.empty()) {
    std::vector<std::string> keys;
    std::vector<std::pair<uint32_t, const Versioned<ListRegistered>*>> owner;
    // The campaign's lists, found once per run of answers for one campaign
    // (a batch asks for one, mostly).
    std::string_view campaign;
    std::vector<const Versioned<ListRegistered>*> of_campaign;
    for (size_t i = 0; i < n; ++i) {
      if (answers[i].campaign.empty()) continue;
      if (answers[i].campaign != campaign) {
        campaign = answers[i].campaign;
        of_campaign.clear();
        for (const auto& [list_id, list] : policy_.lists)
          if (list.value.campaign == campaign) of_campaign.push_back(&list);
      }
      for (const Versioned<ListRegistered>* list : of_campaign)
        if (list->recorded_at <= answers[i].known_at) {
          keys.push_back(ListMemberKey(list->value.list_id, ids[i]));
          owner.emplace_back(static_cast<uint32_t>(i), list);
        }
    }
    if (!keys.empty()) {
      memberships.resize(n);
      TACET_RETURN_IF_ERROR(
          log_->MultiGet(projector_.list_family(), keys, [&](size_t k, std::string_view v) {
            internal::ByteReader r(v);
            const uint64_t seq = r.U64();
            if (r.failed() || !r.done()) {
              if (bad.ok())
                bad = Status::Corruption("list projection: a member record of " +
                                         std::to_string(v.size()) + " bytes");
              return;
            }
            const auto& [i, list] = owner[k];
            memberships[i].push_back({list->value.list_id, seq, list->recorded_at});
          }));
      TACET_RETURN_IF_ERROR(bad);
    }
  }
  // Frequency caps: one bounded range read per subject a cap covers, all
  // with one iterator, made when the first is needed.
  std::vector<AttemptEntry> attempts, person_attempts;
  std::optional<EventLog::RangeReader> reader;
  for (size_t i = 0; i < n; ++i) {
    DecisionAnswer& a = answers[i];
    const PolicyView& policy = *policy_of[i];
    const bool capped = !policy.caps.empty() && policy.AnyCapCovers(a.subject.region, a.channel);
    if (capped) {
      attempts.clear();
      const TimeMs reach = policy.LongestCapReach(a.subject.region, a.channel);
      if (!reader) {
        TACET_ASSIGN_OR_RETURN(EventLog::RangeReader r,
                               log_->NewRangeReader(projector_.attempts_family()));
        reader.emplace(std::move(r));
      }
      TACET_RETURN_IF_ERROR(LoadAttempts(*reader, ids[i], a.at - reach, a.at, &attempts));
      if (!a.batch_attempts.empty()) {
        for (const AttemptEntry& b : a.batch_attempts)
          if (b.started_at >= a.at - reach && b.started_at <= a.at) attempts.push_back(b);
        std::stable_sort(attempts.begin(), attempts.end(),
                         [](const AttemptEntry& x, const AttemptEntry& y) {
                           return x.started_at < y.started_at;
                         });
      }
    }
    PersonFacts person;
    if (subjects[i] && !subjects[i]->links.empty() && !persons.empty()) person.persons = &persons;
    // Caps counted per person (issue 18): the attempts to every subject of
    // the subject's person at the cut, one range read each.
    const SubjectState::Link* link =
        subjects[i] ? subjects[i]->PersonAt(std::min(a.at, a.known_at)) : nullptr;
    if (capped && link != nullptr && policy.AnyPersonCapReaches(a.subject.region, a.channel)) {
      const TimeMs cut = std::min(a.at, a.known_at);
      const TimeMs reach = policy.LongestCapReach(a.subject.region, a.channel);
      person_attempts = attempts;
      person.evidence = {link->seq};
      for (const GroupMember& m : GroupAt(persons, link->person, cut)) {
        person.evidence.insert(person.evidence.end(), m.via.begin(), m.via.end());
        if (m.state == nullptr) continue;
        for (const PersonState::Link* other : m.state->SubjectsAt(cut)) {
          if (other->subject == ids[i]) continue;
          person.evidence.push_back(other->seq);
          TACET_RETURN_IF_ERROR(
              LoadAttempts(*reader, other->subject, a.at - reach, a.at, &person_attempts));
        }
      }
      std::stable_sort(
          person_attempts.begin(), person_attempts.end(),
          [](const AttemptEntry& x, const AttemptEntry& y) { return x.started_at < y.started_at; });
      std::sort(person.evidence.begin(), person.evidence.end());
      person.evidence.erase(std::unique(person.evidence.begin(), person.evidence.end()),
                            person.evidence.end());
      person.attempts = &person_attempts;
    }
    a.subject_erased = subjects[i] && subjects[i]->erased_seq != 0;
    if (!memberships.empty()) person.lists = memberships[i];
    a.decision =
        DecideWith(a, policy, subjects[i] ? &*subjects[i] : nullptr, registry_of_answer[i],
                   registries[i] ? &*registries[i] : nullptr, capped ? &attempts : nullptr, person);
  }
  return Status::Ok();
}

Result<FilterReport> Ledger::DecideCandidates(const std::vector<internal::Candidate>& cands,
                                              Channel channel, TimeMs at, TimeMs known_at,
                                              bool skip_duplicates,
                                              const std::function<void(const FilterItem&)>& fn,
                                              Explain explain, std::string_view campaign) const {
  FilterReport rep;
  rep.lines = cands.size();
  std::unordered_set<std::string> seen;
  constexpr size_t kChunk = 4096;
  std::vector<const internal::Candidate*> pending;
  std::vector<DecisionAnswer> answers;
  auto flush = [&]() -> Status {
    TACET_RETURN_IF_ERROR(DecideAll(answers));
    for (size_t i = 0; i < answers.size(); ++i) {
      switch (answers[i].decision.verdict) {
        case Verdict::kAllow:
          ++rep.allowed;
          break;
        case Verdict::kDeny:
          ++rep.denied;
          break;
        case Verdict::kNeedsJustification:
          ++rep.needs_justification;
          break;
      }
      fn(FilterItem{pending[i]->line, pending[i]->value, "", &answers[i]});
    }
    pending.clear();
    answers.clear();
    return Status::Ok();
  };
  for (const internal::Candidate& c : cands) {
    Result<Subject> s = parser_.Parse(c.value);
    Status st = s.ok() ? ChannelFits(*s, channel) : s.status();
    if (!st.ok()) {
      ++rep.invalid;
      TACET_RETURN_IF_ERROR(flush());  // keep file order
      fn(FilterItem{c.line, c.value, st.message(), nullptr});
      continue;
    }
    if (skip_duplicates && !seen.insert(s->value).second) {
      ++rep.duplicates;
      continue;
    }
    pending.push_back(&c);
    DecisionAnswer& a = answers.emplace_back();
    a.subject = std::move(s).value();
    a.channel = channel;
    a.at = at;
    a.known_at = known_at;
    a.explain = explain;
    a.campaign = campaign;
    if (pending.size() == kChunk) TACET_RETURN_IF_ERROR(flush());
  }
  TACET_RETURN_IF_ERROR(flush());
  return rep;
}

Result<std::vector<HistoryItem>> Ledger::History(std::string_view text) const {
  TACET_ASSIGN_OR_RETURN(Subject s, parser_.Parse(text));
  TACET_ASSIGN_OR_RETURN(SubjectId id, IdOf(s));
  TACET_ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, log_->SeqsFor(id));
  // The policy that bears on its answers: the channel policy, the
  // registries and lists that hold it, and the consent types and reasons
  // its records name.
  std::vector<uint64_t> policy;
  TACET_ASSIGN_OR_RETURN(auto record, log_->Get(projector_.subject_family(), SubjectKey(id)));
  std::shared_lock lock(policy_mu_);
  if (!seqs.empty()) {
    for (const auto& v : policy_.channel_policy) policy.push_back(v.seq);
    for (const auto& [name, versions] : policy_.registries)
      for (const auto& v : versions)
        if (v.value->InScope(s)) policy.push_back(v.seq);
    // The lists it is on (issue 18): where the number came from. A list's
    // members follow its list_registered event in its batch.
    for (const auto& [list_id, l] : policy_.lists) {
      auto member = std::upper_bound(seqs.begin(), seqs.end(), l.seq);
      if (member != seqs.end() && *member <= l.seq + l.value.number_count) policy.push_back(l.seq);
    }
  }
  if (record) {
    TACET_ASSIGN_OR_RETURN(SubjectState st, DecodeSubjectState(*record));
    std::set<std::string> types, reasons;
    for (const auto& c : st.consents) types.insert(c.type_code);
    for (const auto& r : st.revocations) types.insert(r.type_code);
    for (const auto& j : st.justifications) reasons.insert(j.reason_code);
    for (const auto& code : types)
      if (auto it = policy_.consent_types.find(code); it != policy_.consent_types.end())
        for (const auto& v : it->second) policy.push_back(v.seq);
    for (const auto& code : reasons)
      if (auto it = policy_.reasons.find(code); it != policy_.reasons.end())
        for (const auto& v : it->second) policy.push_back(v.seq);
  }
  std::sort(policy.begin(), policy.end());
  return HistoryItems(std::move(seqs), policy);
}

Result<std::vector<HistoryItem>> Ledger::HistoryItems(std::vector<uint64_t> seqs,
                                                      const std::vector<uint64_t>& policy) const {
  seqs.insert(seqs.end(), policy.begin(), policy.end());
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  std::vector<HistoryItem> out;
  out.reserve(seqs.size());
  for (uint64_t seq : seqs) {
    TACET_ASSIGN_OR_RETURN(Event e, log_->Read(seq));
    auto p = DecodePayload(e.type, e.version, e.payload);
    if (!p.ok()) return p.status().WithContext("seq " + std::to_string(seq));
    bool is_policy = std::binary_search(policy.begin(), policy.end(), seq);
    Disclosed personal = Disclose(*p);
    out.push_back({std::move(e), std::move(p).value(), is_policy, std::move(personal)});
  }
  return out;
}

}  // namespace tacet
