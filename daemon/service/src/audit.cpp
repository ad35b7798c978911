// The audit document in its three formats (audit.h).
#include "tacet/service/audit.h"

#include "tacet/core/csv_text.h"
#include "tacet/core/json_text.h"
#include "tacet/core/subject_id.h"

namespace tacet {

namespace {

constexpr size_t kPiece = 1 << 20;  // bytes handed to the sink at a time

const char* StoredVerdictName(StoredVerdict v) { return VerdictName(VerdictOf(v)); }

// What the audit shows of the subject called: the number or address when
// its seal opens, else why not.
std::string SubjectText(const Disclosed& d) {
  switch (d.state) {
    case Disclosed::State::kOpen:
      return d.fields.subject;
    case Disclosed::State::kErased:
      return "(erased)";
    default:
      return "(sealed)";
  }
}

std::string Joined(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(sep);
    out += items[i];
  }
  return out;
}

std::string Joined(const std::vector<uint64_t>& items, char sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(sep);
    out += std::to_string(items[i]);
  }
  return out;
}

constexpr const char* kCsvHeader =
    "seq,started,recorded_at,subject,channel,outcome,campaign,caller_id,operator,duration_s,"
    "decision_seq,verdict,violation,reasons,evidence,no_prior_check,unregistered_caller,"
    "suppliers\n";

class Writer {
 public:
  Writer(const TimeZone& zone, AuditFormat format,
         const std::function<void(std::string_view)>& sink)
      : zone_(zone), format_(format), sink_(sink) {}

  void Totals(const AuditRequest& req, const AuditTotals& t) {
    if (format_ == AuditFormat::kCsv) {
      text_ += kCsvHeader;
    } else if (format_ == AuditFormat::kJson) {
      json_.BeginObject().Key("from").String(FormatUtc(req.from));
      json_.Key("to").String(FormatUtc(req.to));
      json_.Key("campaign");
      if (req.campaign.empty()) {
        json_.Null();
      } else {
        json_.String(req.campaign);
      }
      json_.Key("totals").BeginObject();
      CountJson(t.all);
      json_.Key("allowed").Uint(t.allowed).Key("denied").Uint(t.denied);
      json_.Key("needs_justification").Uint(t.needs_justification).EndObject();
      json_.Key("by_reason").BeginObject();
      for (const auto& [code, n] : t.by_reason) json_.Key(code).Uint(n);
      json_.EndObject().Key("by_campaign").BeginObject();
      for (const auto& [code, c] : t.by_campaign) {
        json_.Key(code).BeginObject();
        CountJson(c);
        json_.EndObject();
      }
      json_.EndObject().Key("by_supplier").BeginObject();
      for (const auto& [supplier, c] : t.by_supplier) {
        json_.Key(supplier).BeginObject().Key("attempts").Uint(c.attempts);
        json_.Key("listed").Uint(c.listed).Key("complaints").Uint(c.complaints).EndObject();
      }
      json_.EndObject().Key("attempts").BeginArray();
    } else {
      text_ += "audit of the attempts started from " + zone_.Format(req.from) + " to " +
               zone_.Format(req.to) +
               (req.campaign.empty() ? std::string() : ", campaign " + req.campaign) + "\n";
      text_ += std::to_string(t.all.attempts) + " attempts: " + std::to_string(t.allowed) +
               " allowed, " + std::to_string(t.denied) + " denied, " +
               std::to_string(t.needs_justification) + " without consent or justification; " +
               std::to_string(t.all.violations) + " violations; " +
               std::to_string(t.all.no_prior_check) + " made without a prior check; " +
               std::to_string(t.all.unregistered_caller) + " with an unregistered caller id\n";
      if (!t.by_reason.empty()) {
        text_ += "violations by reason:\n";
        for (const auto& [code, n] : t.by_reason)
          text_ += "  " + code + ": " + std::to_string(n) + "\n";
      }
      if (!t.by_campaign.empty()) {
        text_ += "by campaign (attempts, violations, without a prior check):\n";
        for (const auto& [code, c] : t.by_campaign)
          text_ += "  " + (code.empty() ? std::string("(none)") : code) + ": " +
                   std::to_string(c.attempts) + ", " + std::to_string(c.violations) + ", " +
                   std::to_string(c.no_prior_check) + "\n";
      }
      if (!t.by_supplier.empty()) {
        text_ +=
            "by supplier of the campaigns' lists (attempts, listed by the registry, "
            "complaints):\n";
        for (const auto& [supplier, c] : t.by_supplier)
          text_ += "  " + (supplier.empty() ? std::string("(on no list)") : supplier) + ": " +
                   std::to_string(c.attempts) + ", " + std::to_string(c.listed) + ", " +
                   std::to_string(c.complaints) + "\n";
      }
      violations_left_ = t.all.violations;
      others_left_ = t.all.attempts - t.all.violations;
    }
    Drain(false);
  }

  void Row(const AuditRow& r) {
    const ContactAttempted& a = *r.attempt;
    const bool unchecked = (a.flags & kAttemptNoPriorCheck) != 0;
    const bool unregistered = (a.flags & kAttemptUnregisteredCaller) != 0;
    if (format_ == AuditFormat::kJson) {
      json_.BeginObject().Key("seq").Uint(r.seq);
      json_.Key("started").String(FormatUtc(a.started_at));
      json_.Key("started_local").String(zone_.Format(a.started_at));
      json_.Key("recorded_at").String(FormatUtc(r.recorded_at));
      json_.Key("subject").String(SubjectText(r.subject));
      json_.Key("subject_id").String(ToHex(a.subject));
      json_.Key("channel").String(ChannelName(a.channel));
      json_.Key("outcome").String(a.outcome).Key("campaign").String(a.campaign);
      json_.Key("caller_id").String(a.caller_id).Key("operator").String(a.operator_id);
      json_.Key("duration_s").Uint(a.duration_s);
      json_.Key("decision_seq");
      if (a.decision_seq) {
        json_.Uint(a.decision_seq);
      } else {
        json_.Null();
      }
      json_.Key("verdict").String(StoredVerdictName(a.verdict));
      json_.Key("violation").Bool(r.violation).Key("reasons").BeginArray();
      for (const std::string& code : a.reasons) json_.String(code);
      json_.EndArray().Key("evidence").BeginArray();
      for (uint64_t s : a.evidence) json_.Uint(s);
      json_.EndArray().Key("no_prior_check").Bool(unchecked);
      json_.Key("unregistered_caller").Bool(unregistered).Key("suppliers").BeginArray();
      for (const std::string& supplier : r.suppliers) json_.String(supplier);
      json_.EndArray().EndObject();
    } else if (format_ == AuditFormat::kCsv) {
      text_ += std::to_string(r.seq);
      text_ += ',';
      text_ += FormatUtc(a.started_at);
      text_ += ',';
      text_ += FormatUtc(r.recorded_at);
      text_ += ',';
      AppendCsvField(text_, SubjectText(r.subject));
      text_ += ',';
      text_ += ChannelName(a.channel);
      text_ += ',';
      AppendCsvField(text_, a.outcome);
      text_ += ',';
      AppendCsvField(text_, a.campaign);
      text_ += ',';
      AppendCsvField(text_, a.caller_id);
      text_ += ',';
      AppendCsvField(text_, a.operator_id);
      text_ += ',';
      text_ += std::to_string(a.duration_s);
      text_ += ',';
      if (a.decision_seq) text_ += std::to_string(a.decision_seq);
      text_ += ',';
      text_ += StoredVerdictName(a.verdict);
      text_ += r.violation ? ",true," : ",false,";
      AppendCsvField(text_, Joined(a.reasons, ' '));
      text_ += ',';
      text_ += Joined(a.evidence, ' ');
      text_ += unchecked ? ",true," : ",false,";
      text_ += unregistered ? "true," : "false,";
      AppendCsvField(text_, Joined(r.suppliers, ' '));
      text_ += '\n';
    } else {
      if (r.violation && !in_violations_) {
        in_violations_ = true;
        text_ += "\nviolations (" + std::to_string(violations_left_) + "):\n";
      } else if (!r.violation && !in_others_) {
        in_others_ = true;
        text_ += "\nother attempts (" + std::to_string(others_left_) + "):\n";
      }
      text_ += "seq " + std::to_string(r.seq) + "  " + zone_.Format(a.started_at) + "  " +
               SubjectText(r.subject) + "  " + ChannelName(a.channel) + "  " + a.outcome + "  " +
               StoredVerdictName(a.verdict);
      if (!a.reasons.empty()) text_ += " (" + Joined(a.reasons, ',') + ")";
      if (!a.evidence.empty()) text_ += "  evidence " + Joined(a.evidence, ',');
      if (!a.campaign.empty()) text_ += "  campaign " + a.campaign;
      if (!a.caller_id.empty()) text_ += "  caller " + a.caller_id;
      if (!a.operator_id.empty()) text_ += "  operator " + a.operator_id;
      if (a.decision_seq) text_ += "  check " + std::to_string(a.decision_seq);
      if (!r.suppliers.empty()) text_ += "  supplier " + Joined(r.suppliers, ',');
      if (unchecked) text_ += "  NO PRIOR CHECK";
      if (unregistered) text_ += "  UNREGISTERED CALLER ID";
      text_ += "\n";
    }
    Drain(false);
  }

  void Finish(const AuditTotals& t) {
    if (format_ == AuditFormat::kJson) {
      json_.EndArray().EndObject();
    } else if (format_ == AuditFormat::kText && t.all.attempts == 0) {
      text_ += "no attempts\n";
    }
    Drain(true);
  }

 private:
  void CountJson(const AuditTotals::Count& c) {
    json_.Key("attempts").Uint(c.attempts).Key("violations").Uint(c.violations);
    json_.Key("no_prior_check").Uint(c.no_prior_check);
    json_.Key("unregistered_caller").Uint(c.unregistered_caller);
  }
  // Hands what is written to the sink once a piece is full (or at the end).
  void Drain(bool all) {
    if (format_ == AuditFormat::kJson) {
      if (all || json_.str().size() >= kPiece) json_.Drain(sink_);
    } else if (all || text_.size() >= kPiece) {
      sink_(text_);
      text_.clear();
    }
  }

  const TimeZone& zone_;
  AuditFormat format_;
  const std::function<void(std::string_view)>& sink_;
  JsonText json_;
  std::string text_;
  uint64_t violations_left_ = 0, others_left_ = 0;
  bool in_violations_ = false, in_others_ = false;
};

}  // namespace

Result<AuditFormat> ParseAuditFormat(std::string_view name) {
  if (name == "text") return AuditFormat::kText;
  if (name == "csv") return AuditFormat::kCsv;
  if (name == "json") return AuditFormat::kJson;
  return Status::InvalidArgument("format '" + std::string(name) + "' is not text, csv or json");
}

Result<AuditRequest> AuditPeriod(const TimeZone& zone, std::string_view from, std::string_view to,
                                 std::string campaign) {
  AuditRequest req;
  req.campaign = std::move(campaign);
  if (from.empty()) return Status::InvalidArgument("the audit needs 'from' (a date or time)");
  if (to.empty()) return Status::InvalidArgument("the audit needs 'to' (a date or time)");
  auto f = zone.Parse(from);
  if (!f.ok()) return f.status().WithContext("from");
  req.from = *f;
  if (to.size() == 10) {  // a bare date: to the end of that day
    auto day = ParseDate(to);
    if (!day.ok()) return day.status().WithContext("to");
    req.to = zone.StartOfDay(*day + 1);
  } else {
    auto t = zone.Parse(to);
    if (!t.ok()) return t.status().WithContext("to");
    req.to = *t;
  }
  if (req.to <= req.from)
    return Status::InvalidArgument("the audit's period is empty: 'to' (" + std::string(to) +
                                   ") is not after 'from' (" + std::string(from) + ")");
  return req;
}

Result<AuditTotals> WriteAudit(const Ledger& ledger, const AuditRequest& req, AuditFormat format,
                               const std::function<void(std::string_view)>& sink) {
  Writer w(ledger.zone(), format, sink);
  TACET_ASSIGN_OR_RETURN(AuditTotals t,
                         ledger.Audit(
                             req, [&](const AuditTotals& totals) { w.Totals(req, totals); },
                             [&](const AuditRow& r) { w.Row(r); }));
  w.Finish(t);
  return t;
}

}  // namespace tacet
