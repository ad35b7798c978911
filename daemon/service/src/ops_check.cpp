// check, check_batch and filter: decisions, the daemon's hot path.
#include "handler.h"

namespace tacet::ops {

DecisionAnswer Handler::CheckQuery() {
  Result<Subject> subject = l_.ParseSubject(a_.Required("subject"));
  if (!subject.ok()) Throw(errc::kInvalidSubject, subject.status().message());
  DecisionAnswer a;
  // Without a channel: voice for a number, e-mail for an address.
  a.channel = ChannelArg(subject->kind == SubjectKind::kEmail ? "email" : "voice");
  a.at = At();
  a.known_at = KnownAt();
  a.campaign = a_.Str("campaign");
  // A check that leaves a trace is a write: tacetd turns {"op":"check",
  // "record":true} into check_record before it gets here.
  if (a_.Bool("record"))
    Throw(errc::kBadRequest, "'record': true makes a check a write: op check_record");
  Status fits = ChannelFits(*subject, a.channel);
  if (!fits.ok()) Throw(errc::kBadRequest, fits.message());
  a.subject = std::move(subject).value();
  return a;
}

// One slice of a check_batch: its results (comma-separated items of the
// results array) and counts.
struct BatchPart {
  JsonText items;
  FilterReport report;
  Status status;
  // Most answers of a batch share their valid_until: formatted once.
  TimeMs last_until = 0;
  std::string last_until_text;

  void Add(const FilterItem& it) {
    if (it.answer == nullptr) {
      items.BeginObject().Key("input").String(it.input).Key("error").BeginObject();
      items.Key("code").String(errc::kInvalidSubject).Key("message").String(it.error);
      items.EndObject().EndObject();
      return;
    }
    const Decision& d = it.answer->decision;
    items.BeginObject().Key("subject").String(it.answer->subject.value);
    items.Key("decision").String(VerdictName(d.verdict)).Key("reasons").BeginArray();
    for (const auto& rs : d.reasons) items.String(rs.code);
    items.EndArray().Key("valid_until");
    if (d.valid_until) {
      if (d.valid_until != last_until) {
        last_until = d.valid_until;
        last_until_text = FormatUtc(last_until);
      }
      items.String(last_until_text);
    } else {
      items.Null();
    }
    items.EndObject();
  }
};

std::string Handler::Check() {
  DecisionAnswer a = CheckQuery();
  if (Status st = l_.DecideAll(std::span(&a, 1)); !st.ok()) Throw(CodeOf(st), st.message());
  JsonText j;
  AppendDecision(j, a, l_.zone());
  return j.Take();
}

std::string Handler::CheckBatch() {
  const json* list = a_.Find("subjects");
  if (list == nullptr || !list->is_array())
    Throw(errc::kBadRequest, "'subjects' must be an array of strings");
  if (list->size() > 10000)
    Throw(errc::kTooLarge, "'subjects' holds " + std::to_string(list->size()) +
                               " subjects; at most 10000 per check_batch");
  std::vector<std::string> subjects = a_.List("subjects");
  Channel ch = ChannelArg("voice");
  TimeMs at = At(), known_at = KnownAt();
  const std::string campaign = a_.Str("campaign");
  // Big batches are cut in slices decided at once (CallContext::parallel),
  // each writing its part of the results; the parts join in order.
  const size_t n = subjects.size();
  const size_t slices =
      ctx_.parallel && n >= 2000 ? std::clamp<size_t>(ctx_.parallelism, 1, 16) : 1;
  std::vector<BatchPart> parts(slices);
  std::vector<std::function<void()>> tasks;
  for (size_t k = 0; k < slices; ++k)
    tasks.push_back([&, k] {
      const size_t begin = n * k / slices, end = n * (k + 1) / slices;
      BatchPart& part = parts[k];
      auto r = l_.DecideMany(
          std::span(subjects).subspan(begin, end - begin), ch, at, known_at,
          [&part](const FilterItem& it) { part.Add(it); }, Explain::kCodes, campaign);
      if (r.ok()) {
        part.report = *r;
      } else {
        part.status = r.status();
      }
    });
  if (slices > 1) {
    ctx_.parallel(tasks);
  } else {
    tasks[0]();
  }
  FilterReport r;
  std::string results = "[";
  for (BatchPart& part : parts) {
    if (!part.status.ok()) Must(Result<FilterReport>(part.status));
    r.allowed += part.report.allowed;
    r.denied += part.report.denied;
    r.needs_justification += part.report.needs_justification;
    r.invalid += part.report.invalid;
    if (part.items.str().empty()) continue;
    if (results.size() > 1) results.push_back(',');
    results += part.items.str();
  }
  results.push_back(']');
  JsonText j;
  j.BeginObject().Key("channel").String(ChannelName(ch)).Key("at").String(FormatUtc(at));
  j.Key("count").Uint(subjects.size()).Key("allowed").Uint(r.allowed);
  j.Key("denied").Uint(r.denied).Key("needs_justification").Uint(r.needs_justification);
  j.Key("invalid").Uint(r.invalid).Key("results").Raw(results).EndObject();
  return j.Take();
}

json Handler::Filter() {
  FilterRequest fr;
  auto [path, content] = FileArg("path");
  fr.path = std::move(path);
  fr.content = std::move(content);
  if (fr.path.empty()) Throw(errc::kBadRequest, "'path' or 'content' is required");
  fr.column = a_.Str("column");
  fr.channel = Must(ParseChannel(a_.Required("channel")));
  fr.at = At();
  fr.known_at = KnownAt();
  fr.campaign = a_.Str("campaign");
  json allowed = json::array(), others = json::array();
  FilterReport r = Must(l_.Filter(fr, [&](const FilterItem& it) {
    if (it.answer == nullptr) {
      others.push_back({{"line", it.line},
                        {"input", it.input},
                        {"subject", ""},
                        {"decision", "invalid"},
                        {"reasons", ""},
                        {"evidence", ""},
                        {"detail", it.error}});
      return;
    }
    const Decision& d = it.answer->decision;
    if (d.verdict == Verdict::kAllow) {
      allowed.push_back(it.answer->subject.value);
      return;
    }
    std::string codes, details, evidence;
    for (const auto& rs : d.reasons) {
      if (!codes.empty()) codes.append(";");
      codes.append(rs.code);
      if (!details.empty()) details.append("; ");
      details.append(rs.detail);
    }
    for (uint64_t e : d.evidence) {
      if (!evidence.empty()) evidence.append(";");
      evidence.append(std::to_string(e));
    }
    others.push_back({{"line", it.line},
                      {"input", it.input},
                      {"subject", it.answer->subject.value},
                      {"decision", VerdictName(d.verdict)},
                      {"reasons", codes},
                      {"evidence", evidence},
                      {"detail", details}});
  }));
  json counts = {{"lines", r.lines},     {"allowed", r.allowed},
                 {"denied", r.denied},   {"needs_justification", r.needs_justification},
                 {"invalid", r.invalid}, {"duplicates", r.duplicates}};
  return {{"channel", ChannelName(fr.channel)},
          {"at", FormatUtc(fr.at)},
          {"counts", counts},
          {"allowed", allowed},
          {"rejected", others}};
}

}  // namespace tacet::ops
