// Ledger operations of issue 17: contact attempts, each audited when it is
// recorded, and the effects of its outcome.
#include <algorithm>

#include "../../internal/text.h"
#include "../provenance/caller_check.h"
#include "tacet/core/codec.h"
#include "tacet/core/utf8.h"
#include "tacet/projections/ledger.h"

namespace tacet {
namespace {

const auto& Q = internal::Quote;

// Text fields of an attempt are short identifiers, not free text.
constexpr size_t kMaxFieldBytes = 256;

Status CheckField(const char* name, const std::string& value) {
  if (value.size() > kMaxFieldBytes)
    return Status::InvalidArgument(std::string(name) + " is " + std::to_string(value.size()) +
                                   " bytes (at most " + std::to_string(kMaxFieldBytes) +
                                   "); nothing was recorded");
  if (!IsValidUtf8(value))
    return Status::InvalidArgument(std::string(name) + " " + Q(value) +
                                   " is not UTF-8; nothing was recorded");
  return Status::Ok();
}

}  // namespace

Result<ContactReport> Ledger::RecordContact(const ContactRequest& req, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  TACET_RETURN_IF_ERROR(ChannelFits(subject, req.channel));
  TACET_RETURN_IF_ERROR(CheckField("--campaign", req.campaign));
  TACET_RETURN_IF_ERROR(CheckField("--caller-id", req.caller_id));
  TACET_RETURN_IF_ERROR(CheckField("--operator", req.operator_id));
  const TimeMs now = clock_->NowMs();
  if (req.started_at > now)
    return Status::InvalidArgument("--started " + FormatUtc(req.started_at) +
                                   " is after its recording (now " + FormatUtc(now) +
                                   "); nothing was recorded");
  OutcomeDefined outcome;
  {
    std::shared_lock lock(policy_mu_);
    auto it = current_policy_.outcomes.find(req.outcome);
    if (it == current_policy_.outcomes.end()) {
      std::string known;
      for (const auto& [code, o] : current_policy_.outcomes)
        known += (known.empty() ? "" : ", ") + code;
      return Status::InvalidArgument("unknown outcome " + Q(req.outcome) + " (known: " + known +
                                     "); nothing was recorded");
    }
    outcome = it->second.value;
  }
  TACET_ASSIGN_OR_RETURN(SubjectId id, IdOf(subject));

  // The check it acted on: a recorded check of this subject on this channel.
  bool prior_check = false;
  if (req.decision_seq != 0) {
    const std::string what = "--decision " + std::to_string(req.decision_seq);
    if (req.decision_seq > log_->head().seq)
      return Status::InvalidArgument(what + ": no such event (the head is seq " +
                                     std::to_string(log_->head().seq) + "); nothing was recorded");
    TACET_ASSIGN_OR_RETURN(Event e, log_->Read(req.decision_seq));
    TACET_ASSIGN_OR_RETURN(Payload p, DecodePayload(e.type, e.version, e.payload));
    const auto* check = std::get_if<CheckRecorded>(&p);
    if (check == nullptr || check->subject != id || check->channel != req.channel)
      return Status::InvalidArgument(
          what + " is not a recorded check of " + subject.value + " on " +
          ChannelName(req.channel) + " (it is a " + PayloadTypeName(e.type) +
          (check ? " of another subject or channel" : "") + "); nothing was recorded");
    prior_check = e.recorded_at <= req.started_at;
  }

  // The audit: the decision at the start, from everything recorded so far.
  DecisionAnswer audit;
  audit.subject = subject;
  audit.channel = req.channel;
  audit.at = req.started_at;
  audit.known_at = kKnownNow;
  audit.explain = Explain::kCodes;
  audit.campaign = req.campaign;
  TACET_RETURN_IF_ERROR(DecideAll(std::span(&audit, 1)));

  ContactAttempted a;
  a.subject = id;
  a.channel = req.channel;
  a.started_at = req.started_at;
  a.outcome = req.outcome;
  a.effects = outcome.effects;
  a.campaign = req.campaign;
  a.caller_id = req.caller_id;
  a.operator_id = req.operator_id;
  a.duration_s = req.duration_s;
  a.verdict = StoredVerdictOf(audit.decision.verdict);
  for (const DecisionReason& r : audit.decision.reasons) a.reasons.push_back(r.code);
  a.evidence = audit.decision.evidence;
  a.decision_seq = req.decision_seq;
  bool unregistered_caller;
  {
    std::shared_lock lock(policy_mu_);
    unregistered_caller =
        internal::CallerUnregistered(policy_, parser_, req.caller_id, req.campaign, req.started_at);
  }
  a.flags = (prior_check ? 0 : kAttemptNoPriorCheck) |
            (unregistered_caller ? kAttemptUnregisteredCaller : 0);

  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 2));
  // An erased subject's attempt is recorded all the same, without its
  // sealed subject (its key is gone); it needs no block: it is suppressed
  // for good.
  const Status alive = RefuseIfErased(batch, id, subject);
  const bool erased = alive.code() == StatusCode::kFailedPrecondition;
  if (!alive.ok() && !erased) return alive;
  std::vector<Payload> payloads;
  payloads.emplace_back(std::move(a));
  if (!erased) TACET_RETURN_IF_ERROR(SealInto(subject, &payloads.back()));
  if (outcome.blocks != 0 && !erased) {
    Payload b = Blocked{
        id, outcome.blocks, "call_outcome",
        Sealed{"outcome " + req.outcome + " of the attempt started " + FormatUtc(req.started_at)}};
    TACET_RETURN_IF_ERROR(SealInto(subject, &b));
    payloads.push_back(std::move(b));
  }
  ContactReport rep;
  rep.subject = subject.value;
  for (size_t i = 0; i < payloads.size(); ++i) {
    const Event& e = batch.Add(payloads[i]);
    if (i == 0) {
      rep.seq = e.seq;
      rep.recorded_at = e.recorded_at;
    } else {
      rep.block_seq = e.seq;
    }
    TACET_RETURN_IF_ERROR(projector_.Apply(e, payloads[i], batch));
  }
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  rep.decision = std::move(audit.decision);
  rep.no_prior_check = !prior_check;
  rep.unregistered_caller = unregistered_caller;
  return rep;
}

Result<CheckReport> Ledger::RecordCheck(const CheckRequest& req, const Actor& actor) {
  TACET_ASSIGN_OR_RETURN(Subject subject, parser_.Parse(req.subject));
  TACET_RETURN_IF_ERROR(ChannelFits(subject, req.channel));
  TACET_RETURN_IF_ERROR(CheckField("campaign", req.campaign));
  TACET_ASSIGN_OR_RETURN(SubjectId id, IdOf(subject));
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, 1));
  // The answer at the event's own time, from everything recorded before it.
  CheckReport rep;
  rep.answer.subject = subject;
  rep.answer.channel = req.channel;
  rep.answer.at = batch.recorded_at();
  rep.answer.known_at = kKnownNow;
  rep.answer.campaign = req.campaign;
  TACET_RETURN_IF_ERROR(DecideAll(std::span(&rep.answer, 1)));
  const Decision& d = rep.answer.decision;
  CheckRecorded c;
  c.subject = id;
  c.channel = req.channel;
  c.campaign = req.campaign;
  c.verdict = StoredVerdictOf(d.verdict);
  for (const DecisionReason& r : d.reasons) c.reasons.push_back(r.code);
  c.evidence = d.evidence;
  c.valid_until = d.valid_until;
  Payload p = std::move(c);
  const Event& e = batch.Add(p);
  rep.seq = e.seq;
  rep.recorded_at = e.recorded_at;
  TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  return rep;
}

}  // namespace tacet
