// Ledger operations of issue 3: policy (consent types, reasons, channel
// rules) as events, consents, the internal do-not-call list,
// justifications, and the decision on every channel.
#include <algorithm>

#include "../internal/text.h"
#include "tacet/projections/ledger.h"

namespace tacet {
namespace {

const auto& Q = internal::Quote;

}  // namespace

const std::vector<std::string> kBlockSources = {"request", "call_outcome", "robinson",
                                                "crm_classifier", "objection"};

Result<Channel> ParseChannel(std::string_view name) {
  for (Channel c : kAllChannels)
    if (name == ChannelName(c)) return c;
  return Status::InvalidArgument("unknown channel " + Q(name) +
                                 " (known: voice, sms, email, newsletter)");
}

Status Ledger::LoadPolicy() {
  PolicyHistory h;
  Status st = Status::Ok();
  TACET_RETURN_IF_ERROR(
      log_->ScanFamily(projector_.policy_family(), "", [&](std::string_view k, std::string_view v) {
        st = LoadPolicyRecord(k, v, &h);
        return st.ok();
      }));
  TACET_RETURN_IF_ERROR(st);
  policy_ = std::move(h);
  return Status::Ok();
}

Result<Recorded> Ledger::AppendOne(const Payload& p, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 1));
  const Event& e = batch.Add(p);
  Recorded r;
  r.seq = e.seq;
  r.recorded_at = e.recorded_at;
  r.subject = std::string(SubjectOf(p));
  TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  return r;
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
  auto given = ParseDate(req.given);
  if (!given.ok()) return given.status().WithContext("--given");
  if (*given > zone_.DayOf(now))
    return Status::InvalidArgument("--given " + req.given + " is in the future (today is " +
                                   FormatDate(zone_.DayOf(now)) + " in " + zone_.name() +
                                   "); nothing was recorded");
  ConsentGranted g;
  g.subject = subject.value;
  g.type_code = req.type_code;
  g.given_day = *given;
  g.validity_days = type->second.value.validity_days;
  g.effective_from = zone_.StartOfDay(*given);
  g.expires_at =
      g.validity_days == 0 ? 0 : zone_.StartOfDay(*given + static_cast<Day>(g.validity_days) + 1);
  g.evidence = req.evidence;
  TACET_ASSIGN_OR_RETURN(Recorded r, AppendOne(g, actor));
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
  return AppendOne(ConsentRevoked{subject.value, std::string(type_code), std::string(reason)},
                   actor);
}

Result<Recorded> Ledger::Block(const BlockRequest& req, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  if (req.reason.empty())
    return Status::InvalidArgument("a block needs a reason (--reason); nothing was recorded");
  if (std::find(kBlockSources.begin(), kBlockSources.end(), req.source) == kBlockSources.end())
    return Status::InvalidArgument("unknown block source " + Q(req.source) +
                                   " (known: request, call_outcome, robinson, crm_classifier, "
                                   "objection); nothing was recorded");
  if ((req.channels & kEveryChannel) == 0 || (req.channels & ~kEveryChannel) != 0)
    return Status::InvalidArgument(
        "a block needs at least one known channel; nothing was recorded");
  return AppendOne(Blocked{subject.value, req.channels, req.source, req.reason}, actor);
}

Result<Recorded> Ledger::Unblock(const UnblockRequest& req, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  if (req.officer.empty())
    return Status::FailedPrecondition(
        "only an officer lifts a block: pass --officer NAME; nothing was recorded");
  if (req.reason.empty())
    return Status::InvalidArgument("an unblock needs a reason (--reason); nothing was recorded");
  if ((req.channels & kEveryChannel) == 0 || (req.channels & ~kEveryChannel) != 0)
    return Status::InvalidArgument(
        "an unblock needs at least one known channel; nothing was "
        "recorded");
  return AppendOne(Unblocked{subject.value, req.channels, req.reason, req.officer}, actor);
}

Result<Recorded> Ledger::Justify(const JustifyRequest& req, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  if (req.channel == Channel::kNewsletter)
    return Status::InvalidArgument(
        "a newsletter cannot be justified: it goes only to subjects with a valid consent; nothing "
        "was recorded");
  const TimeMs now = clock_->NowMs();
  PolicyView policy = Policy(now);
  if (policy.reasons.find(req.reason_code) == policy.reasons.end()) {
    std::string known;
    for (const auto& [code, r] : policy.reasons) known += (known.empty() ? "" : ", ") + code;
    return Status::InvalidArgument("unknown reason " + Q(req.reason_code) + " (known: " +
                                   (known.empty() ? "none; declare them in the config" : known) +
                                   "); nothing was recorded");
  }
  Justified j;
  j.subject = subject.value;
  j.channel = req.channel;
  j.reason_code = req.reason_code;
  j.operator_id = req.operator_id.empty() ? actor.operator_id : req.operator_id;
  // The window runs from the recorded time, which is the batch's time.
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 1));
  j.valid_until = batch.recorded_at() +
                  static_cast<TimeMs>(policy.channel_policy.value.justification_minutes) * 60'000;
  Payload p = j;
  const Event& e = batch.Add(p);
  Recorded r{e.seq, e.recorded_at, j.valid_until, subject.value};
  TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  return r;
}

Result<PolicyReconcileReport> Ledger::ReconcilePolicy(const PolicyConfig& config,
                                                      const Actor& actor) {
  PolicyReconcileReport rep;
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
      rep.changes.push_back((cur ? "consent type changed: " : "consent type defined: ") + t.code);
      changes.push_back(d);
    }
  }
  if (config.consent_types_declared)
    for (const auto& [code, v] : now.consent_types)
      if (std::none_of(config.consent_types.begin(), config.consent_types.end(),
                       [&](const ConsentTypeConfig& t) { return t.code == code; })) {
        ConsentTypeDefined d = v.value;
        d.retired = true;
        rep.changes.push_back("consent type retired: " + code);
        changes.push_back(d);
      }
  for (const auto& r : config.reasons) {
    if (r.code.empty()) return Status::InvalidArgument("a reason needs a code");
    auto it = now.reasons.find(r.code);
    if (it == now.reasons.end() || it->second.value.title != r.title) {
      rep.changes.push_back((it == now.reasons.end() ? "reason defined: " : "reason changed: ") +
                            r.code);
      changes.push_back(ReasonDefined{r.code, r.title, false});
    }
  }
  if (config.reasons_declared)
    for (const auto& [code, v] : now.reasons)
      if (std::none_of(config.reasons.begin(), config.reasons.end(),
                       [&](const ReasonConfig& r) { return r.code == code; })) {
        rep.changes.push_back("reason retired: " + code);
        changes.push_back(ReasonDefined{code, v.value.title, true});
      }
  if (config.channels) {
    const ChannelPolicySet& cur = now.channel_policy.value;
    if (now.channel_policy.seq == 0 || cur.consent_required != config.channels->consent_required ||
        cur.justification_minutes != config.channels->justification_minutes) {
      rep.changes.push_back("channel policy set");
      changes.push_back(*config.channels);
    }
  }
  if (changes.empty()) return rep;
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, changes.size()));
  for (const Payload& p : changes) TACET_RETURN_IF_ERROR(projector_.Apply(batch.Add(p), p, batch));
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  rep.appended = changes.size();
  TACET_RETURN_IF_ERROR(LoadPolicy());
  return rep;
}

Result<DecisionAnswer> Ledger::Decide(std::string_view text, Channel channel, TimeMs at,
                                      TimeMs known_at) const {
  DecisionAnswer a;
  TACET_ASSIGN_OR_RETURN(a.subject, parser_.Parse(text));
  a.channel = channel;
  a.at = at;
  a.known_at = known_at;
  if (a.subject.kind == SubjectKind::kEmail &&
      (channel == Channel::kVoice || channel == Channel::kSms))
    return Status::InvalidArgument(a.subject.value + " is an e-mail address: it has no " +
                                   ChannelName(channel) + " channel");
  if (a.subject.kind == SubjectKind::kPhone &&
      (channel == Channel::kEmail || channel == Channel::kNewsletter))
    return Status::InvalidArgument(a.subject.value + " is a phone number: it has no " +
                                   ChannelName(channel) + " channel");
  const RegistryConfig& reg = options_.rpo;
  DecisionInput in;
  in.channel = channel;
  in.at = at;
  in.known_at = known_at;
  in.registry = reg.name;
  in.registry_applies =
      (channel == Channel::kVoice || channel == Channel::kSms) && InScope(a.subject, reg);
  // Point lookup 1: the subject's own records.
  TACET_ASSIGN_OR_RETURN(auto subject_bytes,
                         log_->Get(projector_.subject_family(), a.subject.value));
  SubjectState subject_state;
  if (subject_bytes) {
    TACET_ASSIGN_OR_RETURN(subject_state, DecodeSubjectState(*subject_bytes));
    in.subject_state = &subject_state;
  }
  // Point lookup 2: its registry record, when the registry applies.
  RegistryState registry_state;
  if (in.registry_applies) {
    TACET_ASSIGN_OR_RETURN(auto bytes, log_->Get(projector_.registry_family(),
                                                 RegistryKey(reg.name, a.subject.value)));
    if (bytes) {
      TACET_ASSIGN_OR_RETURN(registry_state, DecodeRegistryState(*bytes));
      in.registry_state = &registry_state;
    }
  }
  PolicyView policy = Policy(std::min(at, known_at));
  in.policy = &policy;
  a.decision = Evaluate(in);
  return a;
}

}  // namespace tacet
