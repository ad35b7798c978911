#include "tacet/service/service.h"

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <unordered_map>

#include "internal/text.h"
#include "tacet/core/json_text.h"
#include "tacet/core/note.h"
#include "tacet/core/utf8.h"
#include "tacet/projections/proof.h"

namespace tacet {
// The handlers of the operations and their helpers: named (not anonymous)
// because the table of operations (service.h) points at the handlers.
namespace ops {

// Thrown by the argument helpers and Must(); Execute turns it into a Reply.
struct RequestError {
  std::string code;
  std::string message;
};

[[noreturn]] void Throw(std::string code, std::string message) {
  throw RequestError{std::move(code), std::move(message)};
}

const char* CodeOf(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
    case StatusCode::kInvalidArgument:
      return errc::kBadRequest;
    case StatusCode::kNotFound:
      return errc::kNotFound;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return errc::kConflict;
    case StatusCode::kCorruption:
      return errc::kCorruption;
    case StatusCode::kIOError:
      return errc::kIOError;
    case StatusCode::kInternal:
      return errc::kInternal;
  }
  return errc::kInternal;
}

template <class T>
T Must(Result<T> r, const char* not_found_code = errc::kNotFound) {
  if (!r.ok()) {
    const char* code = CodeOf(r.status());
    if (r.status().code() == StatusCode::kNotFound) code = not_found_code;
    Throw(code, r.status().message());
  }
  return std::move(r).value();
}

// The request's arguments, each read with its type checked.
class Args {
 public:
  explicit Args(const json& j) : j_(j) {}

  const json* Find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  std::string Str(const char* key, std::string def = "") const {
    const json* v = Find(key);
    if (v == nullptr) return def;
    if (!v->is_string()) Throw(errc::kBadRequest, std::string("'") + key + "' must be a string");
    return v->get<std::string>();
  }
  std::string Required(const char* key) const {
    std::string s = Str(key);
    if (s.empty()) Throw(errc::kBadRequest, std::string("'") + key + "' is required");
    return s;
  }
  std::optional<std::string> OptStr(const char* key) const {
    if (Find(key) == nullptr) return std::nullopt;
    return Str(key);
  }
  uint64_t U64(const char* key, uint64_t def = 0) const {
    const json* v = Find(key);
    if (v == nullptr) return def;
    if (!v->is_number_unsigned())
      Throw(errc::kBadRequest, std::string("'") + key + "' must be a non-negative integer");
    return v->get<uint64_t>();
  }
  bool Bool(const char* key, bool def = false) const {
    const json* v = Find(key);
    if (v == nullptr) return def;
    if (!v->is_boolean())
      Throw(errc::kBadRequest, std::string("'") + key + "' must be true or false");
    return v->get<bool>();
  }
  // An array of strings, or one string "a,b".
  std::vector<std::string> List(const char* key) const {
    const json* v = Find(key);
    std::vector<std::string> out;
    if (v == nullptr) return out;
    if (v->is_string()) {
      std::string s = v->get<std::string>();
      size_t pos = 0;
      while (pos <= s.size() && !s.empty()) {
        size_t end = s.find(',', pos);
        if (end == std::string::npos) end = s.size();
        out.push_back(s.substr(pos, end - pos));
        pos = end + 1;
      }
      return out;
    }
    if (!v->is_array())
      Throw(errc::kBadRequest, std::string("'") + key + "' must be an array of strings");
    out.reserve(v->size());
    for (const auto& e : *v) {
      if (!e.is_string())
        Throw(errc::kBadRequest, std::string("'") + key + "' must be an array of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }

 private:
  const json& j_;
};

// The check reply, written as text: the hot path of the daemon.
void AppendDecision(JsonText& j, const DecisionAnswer& a, const TimeZone& z) {
  const Decision& d = a.decision;
  j.BeginObject().Key("subject").String(a.subject.value);
  j.Key("channel").String(ChannelName(a.channel));
  if (a.subject.kind == SubjectKind::kPhone)
    j.Key("line_type").String(LineTypeName(a.subject.line_type));
  j.Key("at").String(FormatUtc(a.at)).Key("at_local").String(z.Format(a.at));
  if (a.known_at != kKnownNow) {
    j.Key("as_known_at").String(FormatUtc(a.known_at));
    j.Key("as_known_at_local").String(z.Format(a.known_at));
  }
  j.Key("decision").String(VerdictName(d.verdict));
  j.Key("reasons").BeginArray();
  for (const auto& r : d.reasons) {
    j.BeginObject().Key("code").String(r.code).Key("detail").String(r.detail);
    j.Key("seqs").BeginArray();
    for (uint64_t s : r.seqs) j.Uint(s);
    j.EndArray().EndObject();
  }
  j.EndArray().Key("evidence").BeginArray();
  for (uint64_t s : d.evidence) j.Uint(s);
  j.EndArray();
  if (d.valid_until) {
    j.Key("valid_until").String(FormatUtc(d.valid_until));
    j.Key("valid_until_local").String(z.Format(d.valid_until));
  } else {
    j.Key("valid_until").Null();
  }
  if (d.verdict == Verdict::kNeedsJustification) {
    j.Key("allowed_reasons").BeginArray();
    for (const auto& r : d.allowed_reasons) j.String(r);
    j.EndArray();
  }
  j.EndObject();
}

json ChannelNamesJson(ChannelMask m) {
  json out = json::array();
  for (Channel c : kAllChannels)
    if ((m & MaskOf(c)) != 0) out.push_back(ChannelName(c));
  return out;
}

ChannelMask ParseChannels(const std::vector<std::string>& names) {
  if (names.empty() || (names.size() == 1 && names[0] == "all")) return kEveryChannel;
  ChannelMask m = 0;
  for (const auto& n : names) m |= MaskOf(Must(ParseChannel(n)));
  return m;
}

// `p` resolved under `import_dir` after symlinks (forbidden outside it);
// `p` itself when there is no import directory (the embedded CLI).
std::string ResolvePath(const std::string& p, const std::string& import_dir) {
  if (p.empty() || import_dir.empty()) return p;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path base = fs::weakly_canonical(import_dir, ec);
  fs::path full = fs::path(p).is_absolute() ? fs::path(p) : base / p;
  full = fs::weakly_canonical(full, ec);
  auto [b, f] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (ec || b != base.end())
    Throw(errc::kForbidden, "'" + p + "' is outside the daemon's import directory " +
                                base.string() + " (symlinks resolved); put the file there");
  return full.string();
}

class Handler {
 public:
  Handler(Ledger& l, const json& args, const CallContext& ctx) : l_(l), a_(args), ctx_(ctx) {}
  // check's arguments, validated: the answer to decide.
  DecisionAnswer CheckQuery();
  // check and check_batch answer JSON text (Reply::raw). (tacetd answers
  // pipelined checks together: Service::ExecuteChecks.)
  std::string Check();
  std::string CheckBatch();
  // The other operations' handlers (AllOps names each).
  json Filter();
  json History();
  json Sessions();
  json Policy();
  json Verify();
  json Checkpoint();
  json Proof();
  json Consistency();
  json Stats();
  json ConsentGrant();
  json ConsentRevoke();
  json Block();
  json Unblock();
  json Justify();
  json Export();
  json ImportReturn();
  json Erase();
  json ExportsPrune();

 private:
  Actor MakeActor() const {
    Actor actor = ctx_.actor;
    actor.operator_id = a_.Str("operator");
    return actor;
  }
  // Parsed first, so that a bad subject is answered invalid_subject.
  std::string SubjectArg(const char* key = "subject") const {
    std::string s = a_.Required(key);
    Result<Subject> p = l_.ParseSubject(s);
    if (!p.ok()) Throw(errc::kInvalidSubject, p.status().message());
    return s;
  }
  Channel ChannelArg(const char* def) const { return Must(ParseChannel(a_.Str("channel", def))); }
  TimeMs At() const {
    std::string at = a_.Str("at");
    if (at.empty() && l_.replayed_as_known_at()) return *l_.replayed_as_known_at();
    if (at.empty() || at == "now") return l_.clock().NowMs();
    return Must(l_.zone().Parse(at));
  }
  TimeMs KnownAt() const {
    std::string k = a_.Str("as_known_at");
    if (k.empty()) return kKnownNow;
    if (k == "now") return l_.clock().NowMs();
    return Must(l_.zone().Parse(k));
  }
  // A path of the request: under the import directory when one is set.
  std::string PathArg(const char* key) const {
    if (const RequestFile* f = Preloaded(key)) return f->path;
    return ResolvePath(a_.Str(key), ctx_.import_dir);
  }
  // The file of argument `key` when it was read beforehand.
  const RequestFile* Preloaded(const char* key) const {
    if (!ctx_.files) return nullptr;
    auto it = ctx_.files->find(std::string_view(key));
    return it == ctx_.files->end() ? nullptr : &it->second;
  }
  // The file of argument `key`: the path naming it and its content when
  // already at hand (read beforehand, or sent inline as "content", the path
  // then only naming it); no content: the operation reads the path.
  struct FileArgument {
    std::string path;
    std::optional<std::string> content;
  };
  FileArgument FileArg(const char* key) const {
    if (const RequestFile* f = Preloaded(key)) return {f->path, f->content};
    if (auto inline_content = a_.OptStr("content"))
      return {a_.Str(key, "request"), std::move(inline_content)};
    return {PathArg(key), std::nullopt};
  }

  Ledger& l_;
  Args a_;
  const CallContext& ctx_;
};

DecisionAnswer Handler::CheckQuery() {
  Result<Subject> subject = l_.ParseSubject(a_.Required("subject"));
  if (!subject.ok()) Throw(errc::kInvalidSubject, subject.status().message());
  DecisionAnswer a;
  // Without a channel: voice for a number, e-mail for an address.
  a.channel = ChannelArg(subject->kind == SubjectKind::kEmail ? "email" : "voice");
  a.at = At();
  a.known_at = KnownAt();
  Status fits = l_.ChannelFits(*subject, a.channel);
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
          [&part](const FilterItem& it) { part.Add(it); }, Explain::kCodes);
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

json Handler::History() {
  std::string subject = SubjectArg();
  auto items = Must(l_.History(subject));
  json arr = json::array();
  for (auto& it : items) {
    json e = EventJson(it.event, it.payload, l_.zone(), &it.personal);
    e["policy"] = it.policy;
    arr.push_back(std::move(e));
  }
  return {{"subject", Must(l_.ParseSubject(subject)).value}, {"events", std::move(arr)}};
}

json Handler::Sessions() {
  auto list = Must(l_.Sessions());
  const auto& z = l_.zone();
  json arr = json::array();
  for (auto& s : list) {
    const auto& r = s.record;
    json js = {{"id", r.id},
               {"state", SessionStateName(s.state)},
               {"registry", r.registry},
               {"file", r.file_name},
               {"sha256", ToHex(r.file_sha256)},
               {"zip", r.zip_name},
               {"exported_at", FormatUtc(r.opened_at)},
               {"exported_at_local", z.Format(r.opened_at)},
               {"numbers", r.number_count},
               {"seq", r.opened_seq}};
    json rets = json::array();
    for (auto& ret : r.returns)
      rets.push_back({{"seq", ret.seq},
                      {"file", ret.file_name},
                      {"sha256", ToHex(ret.file_sha256)},
                      {"received", FormatDate(ret.received_day)},
                      {"cleared", ret.cleared},
                      {"listed", ret.listed}});
    js["returns"] = rets;
    arr.push_back(js);
  }
  return {{"sessions", std::move(arr)}};
}

json Handler::Policy() {
  PolicyView v = l_.Policy(At());
  json types = json::array(), reasons = json::array();
  for (const auto& [code, t] : v.consent_types) {
    std::vector<std::string> uses;
    if (t.value.uses & kUseNewsletter) uses.push_back("newsletter");
    if (t.value.uses & kUseEmail) uses.push_back("email");
    if (t.value.uses & kUsePhone) uses.push_back("phone");
    types.push_back({{"code", code},
                     {"title", t.value.title},
                     {"description", t.value.description},
                     {"validity_days", t.value.validity_days},
                     {"uses", uses},
                     {"seq", t.seq}});
  }
  for (const auto& [code, r] : v.reasons)
    reasons.push_back({{"code", code}, {"title", r.value.title}, {"seq", r.seq}});
  std::vector<std::string> req;
  for (Channel ch : kAllChannels)
    if (v.channel_policy.value.consent_required & MaskOf(ch)) req.push_back(ChannelName(ch));
  json registries = json::array();
  for (const auto& [name, r] : v.registries) {
    const RegistryDefined& d = r.value->definition();
    registries.push_back({{"name", name},
                          {"kind", RegistryKindName(d.kind)},
                          {"layout", d.layout},
                          {"regions", d.regions},
                          {"channels", ChannelNamesJson(d.channels)},
                          {"time_zone", d.time_zone},
                          {"validity_days", d.validity_days},
                          {"overdue_days", d.overdue_days},
                          {"file_prefix", d.file_prefix},
                          {"max_lines", d.max_lines},
                          {"seq", r.seq}});
  }
  return {{"consent_types", types},
          {"reasons", reasons},
          {"channels",
           {{"consent_required", req},
            {"justification_minutes", v.channel_policy.value.justification_minutes},
            {"seq", v.channel_policy.seq}}},
          {"registries", registries}};
}

json Handler::Verify() {
  VerifyReport r = l_.Verify();
  if (!r.ok) return {{"ok", false}, {"first_bad_seq", r.first_bad_seq}, {"problem", r.problem}};
  return {{"ok", true},
          {"events", r.events},
          {"checkpoints", r.checkpoints},
          {"head_seq", r.head.seq},
          {"head_hash", ToHex(r.head.hash)}};
}

json Handler::Checkpoint() {
  const EventLog& log = l_.log();
  auto key = Must(log.CheckpointKey());
  std::optional<std::string> cp;
  if (a_.Find("size") != nullptr) {
    cp = Must(log.CheckpointOfSize(a_.U64("size")));
    if (!cp) Throw(errc::kNotFound, "no checkpoint of size " + std::to_string(a_.U64("size")));
  } else {
    cp = Must(log.LatestCheckpoint());
  }
  json out = {{"key", key ? json(*key) : json()}, {"head_seq", log.head().seq}};
  if (!cp) {
    out["checkpoint"] = nullptr;
    return out;
  }
  note::Checkpoint c = Must(note::ParseCheckpoint(note::UnverifiedText(*cp)));
  out["checkpoint"] = *cp;
  out["origin"] = c.origin;
  out["size"] = c.size;
  out["root"] = ToHex(c.root);
  return out;
}

json Handler::Proof() {
  ProofRequest r;
  if (a_.Find("seq") != nullptr) r.seq = a_.U64("seq");
  if (a_.Find("subject") != nullptr) r.subject = a_.Str("subject");
  if (r.subject.empty() == (r.seq == 0))
    Throw(errc::kBadRequest, "give either subject or seq (a positive number)");
  return Must(MakeProof(l_, r));
}

json Handler::Consistency() {
  const EventLog& log = l_.log();
  const uint64_t old_size = a_.U64("old_size");
  auto latest = Must(log.LatestCheckpoint());
  std::optional<std::string> cp = latest;
  uint64_t new_size = 0;
  if (a_.Find("new_size") != nullptr) {
    new_size = a_.U64("new_size");
    cp = Must(log.CheckpointOfSize(new_size));
    if (!cp) Throw(errc::kNotFound, "no checkpoint of size " + std::to_string(new_size));
  } else if (latest) {
    new_size = Must(note::ParseCheckpoint(note::UnverifiedText(*latest))).size;
  } else {
    Throw(errc::kNotFound, "the ledger has no checkpoint yet");
  }
  if (old_size > new_size)
    Throw(errc::kBadRequest, "old_size " + std::to_string(old_size) +
                                 " is beyond the checkpoint's size " + std::to_string(new_size));
  json proof = json::array();
  for (const Hash256& h : Must(log.ConsistencyProof(old_size, new_size)))
    proof.push_back(Base64Encode(AsBytes(h)));
  return {{"old_size", old_size},
          {"new_size", new_size},
          {"checkpoint", *cp},
          {"old_root", Base64Encode(AsBytes(Must(log.TreeRoot(old_size))))},
          {"proof", std::move(proof)}};
}

json Handler::Stats() {
  Head h = l_.log().head();
  return {{"head_seq", h.seq}, {"head_hash", ToHex(h.hash)}, {"data_dir", l_.options().data_dir}};
}

json Handler::ConsentGrant() {
  ConsentRequest cr;
  cr.subject = SubjectArg();
  cr.type_code = a_.Required("type");
  cr.given = a_.Required("given");
  cr.evidence = a_.Str("evidence");
  Recorded r = Must(l_.GrantConsent(cr, MakeActor()));
  return {{"seq", r.seq},
          {"subject", r.subject},
          {"type", cr.type_code},
          {"given", cr.given},
          {"valid_until", r.valid_until ? json(FormatUtc(r.valid_until)) : json(nullptr)},
          {"valid_until_local", r.valid_until ? json(l_.zone().Format(r.valid_until)) : json()}};
}

json Handler::ConsentRevoke() {
  std::string subject = SubjectArg();
  std::string type = a_.Required("type");
  Recorded r = Must(l_.RevokeConsent(subject, type, a_.Str("reason"), MakeActor()));
  return {{"seq", r.seq}, {"subject", r.subject}, {"type", type}};
}

json Handler::Block() {
  BlockRequest br;
  br.channels = ParseChannels(a_.List("channels"));
  br.reason = a_.Str("reason");
  br.source = a_.Str("source", "request");
  auto [path, content] = FileArg("path");
  if (a_.Find("subject") != nullptr) {
    if (!path.empty() || content)
      Throw(errc::kBadRequest, "give either 'subject' or a file ('path' or 'content')");
    br.subject = SubjectArg();
    Recorded r = Must(l_.Block(br, MakeActor()));
    return {{"seq", r.seq}, {"subject", r.subject}};
  }
  if (path.empty()) Throw(errc::kBadRequest, "'subject', 'path' or 'content' is required");
  BlockFileReport r = Must(l_.BlockFile(path, br, MakeActor(), content));
  return {{"file", path},
          {"lines", r.lines},
          {"newly_blocked", r.newly},
          {"already_blocked", r.already},
          {"invalid", r.invalid},
          {"duplicates", r.duplicates},
          {"invalid_lines", r.invalid_lines},
          {"first_seq", r.first_seq},
          {"last_seq", r.last_seq}};
}

json Handler::Unblock() {
  UnblockRequest ur;
  ur.subject = SubjectArg();
  ur.channels = ParseChannels(a_.List("channels"));
  ur.sources = a_.List("sources");
  ur.reason = a_.Required("reason");
  ur.officer = a_.Str("officer");
  UnblockReport r = Must(l_.Unblock(ur, MakeActor()));
  json lifted = json::array();
  for (const auto& b : r.lifted)
    lifted.push_back(
        {{"seq", b.seq}, {"source", b.source}, {"channels", ChannelNamesJson(b.channels)}});
  return {{"seq", r.seq},
          {"subject", r.subject},
          {"officer", ur.officer},
          {"channels", ChannelNamesJson(r.channels)},
          {"lifted", std::move(lifted)}};
}

json Handler::Justify() {
  JustifyRequest jr;
  jr.subject = SubjectArg();
  jr.channel = Must(ParseChannel(a_.Required("channel")));
  jr.reason_code = a_.Required("reason");
  jr.operator_id = a_.Str("operator");
  Recorded r = Must(l_.Justify(jr, MakeActor()));
  return {{"seq", r.seq},
          {"subject", r.subject},
          {"channel", ChannelName(jr.channel)},
          {"reason", jr.reason_code},
          {"valid_until", FormatUtc(r.valid_until)},
          {"valid_until_local", l_.zone().Format(r.valid_until)}};
}

json Handler::Export() {
  ExportRequest ex;
  ex.registry = a_.Str("registry", "it-rpo");
  auto [path, content] = FileArg("candidates");
  ex.candidates_path = std::move(path);
  ex.candidates_content = std::move(content);
  if (ex.candidates_path.empty()) Throw(errc::kBadRequest, "'candidates' or 'content' is required");
  ex.column = a_.Str("column");
  if (a_.Find("limit")) ex.limit = a_.U64("limit");
  ex.include_pending = a_.Bool("include_pending");
  if (a_.Find("fresh_days")) {
    const uint64_t days = a_.U64("fresh_days");
    if (days > 3650)
      Throw(errc::kBadRequest,
            "'fresh_days' " + std::to_string(days) + " is beyond 3650 (ten years)");
    ex.fresh_days = static_cast<uint32_t>(days);
  }
  ex.out_dir = a_.Str("out");
  if (!ex.out_dir.empty() && !ctx_.import_dir.empty())
    Throw(errc::kForbidden, "'out' is not accepted through the daemon; exports go to " +
                                l_.options().data_dir + "/exports");
  ExportReport r = Must(l_.Export(ex, MakeActor()));
  json files = json::array();
  for (auto& f : r.files)
    files.push_back({{"session", f.session_id},
                     {"file", f.txt_path},
                     {"sha256", ToHex(f.txt_sha256)},
                     {"zip", f.zip_path},
                     {"zip_sha256", ToHex(f.zip_sha256)},
                     {"numbers", f.numbers}});
  json left = {
      {"invalid", r.invalid}, {"duplicate", r.duplicates},      {"out_of_scope", r.out_of_scope},
      {"blocked", r.blocked}, {"known_listed", r.known_listed}, {"fresh", r.fresh},
      {"pending", r.pending}, {"over_limit", r.over_limit},     {"erased", r.erased}};
  return {{"candidates", r.lines},
          {"exported", r.exported},
          {"left_out", left},
          {"sessions", files},
          {"invalid_samples", r.invalid_samples}};
}

json Handler::Erase() {
  EraseRequest er;
  er.subject = SubjectArg();
  er.request = a_.Required("request");
  er.officer = a_.Str("officer");
  EraseReport r = Must(l_.Erase(er, MakeActor()));
  return {{"seq", r.seq},
          {"subject", r.subject},
          {"request", er.request},
          {"officer", er.officer},
          {"key_destroyed", r.key_destroyed},
          {"export_files", r.export_files}};
}

json Handler::ExportsPrune() {
  const std::string before = a_.Required("answered_before");
  auto day = ParseDate(before);
  if (!day.ok()) Throw(errc::kBadRequest, "'answered_before': " + day.status().message());
  PruneReport r = Must(l_.PruneExports(*day));
  return {{"answered_before", before},
          {"sessions", r.sessions},
          {"removed", r.removed},
          {"bytes", r.bytes}};
}

json Handler::ImportReturn() {
  ImportRequest im;
  if (a_.Find("session") == nullptr) Throw(errc::kBadRequest, "'session' is required");
  im.session_id = a_.U64("session");
  im.received = a_.Required("received");
  // import_return takes no inline content (CheckFields refuses it): the
  // file as tacetd read it, or its path.
  auto [path, content] = FileArg("path");
  im.path = std::move(path);
  im.content = std::move(content);
  if (im.path.empty()) Throw(errc::kBadRequest, "'path' is required");
  im.supersede = a_.Bool("supersede");
  im.empty_is_all_listed = a_.Bool("empty_is_all_listed");
  ImportReport r = Must(l_.ImportReturn(im, MakeActor()), errc::kUnknownSession);
  return {{"session", r.session_id},
          {"file", r.file_name},
          {"sha256", ToHex(r.file_sha256)},
          {"layout", r.layout == ReturnLayout::kStatus ? "status" : "filtered"},
          {"received", FormatDate(r.received_day)},
          {"lines", r.lines},
          {"cleared", r.cleared},
          {"listed", r.listed},
          {"valid_until", FormatUtc(r.valid_until)},
          {"valid_until_local", l_.zone().Format(r.valid_until)},
          {"first_seq", r.first_seq},
          {"last_seq", r.last_seq}};
}

}  // namespace ops

using namespace ops;

const std::vector<OpSpec>& AllOps() {
  using H = Handler;
  constexpr Role kR = Role::kReader, kW = Role::kWriter, kO = Role::kOfficer;
  constexpr OpKind kRead = OpKind::kRead, kLong = OpKind::kLongRead, kWrite = OpKind::kWrite;
  // clang-format off
  static const std::vector<OpSpec> ops = {
      // name            role kind     fields besides id and op                  handler
      {"check",          kR, kRead,  {"subject", "channel", "at", "as_known_at"}, nullptr, &H::Check},
      {"check_batch",    kR, kRead,  {"subjects", "channel", "at", "as_known_at"}, nullptr, &H::CheckBatch},
      {"filter",         kR, kLong,  {"path", "content", "column", "channel", "at", "as_known_at"}, &H::Filter},
      {"history",        kR, kRead,  {"subject"}, &H::History},
      {"sessions",       kR, kRead,  {}, &H::Sessions},
      {"policy",         kR, kRead,  {"at"}, &H::Policy},
      {"verify",         kR, kLong,  {}, &H::Verify},
      {"checkpoint",     kR, kRead,  {"size"}, &H::Checkpoint},
      {"proof",          kR, kLong,  {"subject", "seq"}, &H::Proof},
      {"consistency",    kR, kRead,  {"old_size", "new_size"}, &H::Consistency},
      {"stats",          kR, kRead,  {}, &H::Stats},
      {"subscribe",      kR, OpKind::kStream, {"from_seq"}},  // the daemon's: a stream
      {"consent_grant",  kW, kWrite, {"subject", "type", "given", "evidence", "operator"}, &H::ConsentGrant},
      {"consent_revoke", kW, kWrite, {"subject", "type", "reason", "operator"}, &H::ConsentRevoke},
      {"block",          kW, kWrite, {"subject", "path", "content", "channels", "reason", "source", "operator"}, &H::Block},
      {"justify",        kW, kWrite, {"subject", "channel", "reason", "operator"}, &H::Justify},
      {"unblock",        kO, kWrite, {"subject", "channels", "sources", "reason", "officer", "operator"}, &H::Unblock},
      {"export",         kO, kWrite, {"registry", "candidates", "content", "column", "limit", "fresh_days",
                                      "include_pending", "out", "operator"}, &H::Export},
      {"import_return",  kO, kWrite, {"session", "received", "path", "supersede", "empty_is_all_listed",
                                      "operator"}, &H::ImportReturn},
      {"erase",          kO, kWrite, {"subject", "request", "officer", "operator"}, &H::Erase},
      {"exports_prune",  kO, kWrite, {"answered_before", "operator"}, &H::ExportsPrune},
      {"reload",         kO, kWrite, {}},  // the daemon's: rereads its configuration
  };
  // clang-format on
  return ops;
}

const OpSpec* FindOp(std::string_view name) {
  for (const OpSpec& op : AllOps())
    if (op.name == name) return &op;
  return nullptr;
}

namespace {

void CheckFields(const OpSpec& op, const json& args) {
  if (!args.is_object()) Throw(errc::kBadRequest, "a request must be a JSON object");
  for (auto it = args.begin(); it != args.end(); ++it) {
    const std::string& k = it.key();
    if (k == "id" || k == "op") continue;
    if (std::find(op.fields.begin(), op.fields.end(), k) == op.fields.end())
      Throw(errc::kBadRequest, "unknown field '" + k + "' for " + std::string(op.name));
  }
}

// The arguments of each operation that name a file to read.
constexpr const char* kFileArguments[] = {"path", "candidates"};

// Runs fn, turning what it throws into an error Reply.
template <class Fn>
Reply Guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const RequestError& e) {
    return Reply::Error(e.code, e.message);
  } catch (const json::exception& e) {
    return Reply::Error(errc::kBadRequest, e.what());
  } catch (const std::bad_alloc&) {
    return Reply::Error(errc::kInternal, "out of memory");
  } catch (const std::exception& e) {
    return Reply::Error(errc::kInternal, e.what());
  }
}

}  // namespace

bool Service::NamesFiles(const OpSpec& op, const json& args) {
  if (!args.is_object() || args.contains("content")) return false;
  for (const char* key : kFileArguments) {
    auto it = args.find(key);
    if (it != args.end() && it->is_string() && !it->get_ref<const std::string&>().empty() &&
        std::find(op.fields.begin(), op.fields.end(), key) != op.fields.end())
      return true;
  }
  return false;
}

std::optional<Reply> Service::LoadFiles(const OpSpec& op, const json& args,
                                        CallContext& ctx) const {
  if (!NamesFiles(op, args)) return std::nullopt;
  Reply r = Guarded([&] {
    CheckFields(op, args);
    auto files = std::make_shared<RequestFiles>();
    // A return is bounded by its registry (here the largest bound: the
    // session's registry is known once the ledger reads it); other files
    // by the general cap.
    uint64_t cap = internal::kMaxFileBytes;
    if (op.name == "import_return") {
      cap = RegistryConfig{}.max_return_bytes;
      for (const RegistryConfig& reg : ledger_.options().policy.registries)
        cap = std::max(cap, reg.max_return_bytes);
    }
    for (const char* key : kFileArguments) {
      auto it = args.find(key);
      if (it == args.end() || !it->is_string()) continue;
      RequestFile f;
      f.path = ResolvePath(it->get<std::string>(), ctx.import_dir);
      if (f.path.empty()) continue;
      auto content = internal::ReadFile(f.path, cap);
      if (!content.ok()) Throw(CodeOf(content.status()), content.status().message());
      f.content = std::move(content).value();
      (*files)[key] = std::move(f);
    }
    ctx.files = std::move(files);
    return Reply();
  });
  if (!r.ok) return r;
  return std::nullopt;
}

std::optional<Reply> Service::CheckArguments(const OpSpec& op, const json& args) {
  Reply r = Guarded([&] {
    CheckFields(op, args);
    return Reply();
  });
  if (!r.ok) return r;
  return std::nullopt;
}

std::vector<Reply> Service::ExecuteChecks(std::span<const json* const> requests,
                                          const CallContext& ctx) const {
  const OpSpec& op = *FindOp("check");
  std::vector<Reply> replies(requests.size());
  std::vector<DecisionAnswer> answers;
  std::vector<size_t> index;  // answers[k] answers requests[index[k]]
  answers.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    replies[i] = Guarded([&] {
      CheckFields(op, *requests[i]);
      answers.push_back(Handler(ledger_, *requests[i], ctx).CheckQuery());
      index.push_back(i);
      return Reply();
    });
  }
  Status st = ledger_.DecideAll(answers);
  for (size_t k = 0; k < answers.size(); ++k) {
    Reply& r = replies[index[k]];
    if (!st.ok()) {
      r = Reply::Error(CodeOf(st), st.message());
      continue;
    }
    std::string buf;
    buf.reserve(1024);
    JsonText j(std::move(buf));
    AppendDecision(j, answers[k], ledger_.zone());
    r.raw = j.Take();
  }
  return replies;
}

Reply Service::Execute(const OpSpec& op, const json& args, const CallContext& ctx) const {
  return Guarded([&] {
    CheckFields(op, args);
    Reply r;
    Handler h(ledger_, args, ctx);
    if (op.run != nullptr) {
      r.result = (h.*op.run)();
    } else if (op.run_text != nullptr) {
      r.raw = (h.*op.run_text)();
    } else {
      Throw(errc::kUnknownOp,
            "operation '" + std::string(op.name) + "' is served by the daemon only");
    }
    return r;
  });
}

namespace {

// A copy of `j` whose strings, keys included, are valid UTF-8.
json ValidCopy(const json& j) {
  if (j.is_string()) return EscapeInvalidUtf8(j.get_ref<const std::string&>());
  if (j.is_array()) {
    json out = json::array();
    for (const auto& v : j) out.push_back(ValidCopy(v));
    return out;
  }
  if (j.is_object()) {
    json out = json::object();
    for (auto it = j.begin(); it != j.end(); ++it)
      out[EscapeInvalidUtf8(it.key())] = ValidCopy(*it);
    return out;
  }
  return j;
}

}  // namespace

std::string ToJsonText(const json& j, int indent) {
  try {
    return j.dump(indent);
  } catch (const json::type_error&) {
    // Only invalid UTF-8 makes dump throw; the common case pays nothing.
    return ValidCopy(j).dump(indent, ' ', false, json::error_handler_t::replace);
  }
}

json EventJson(const Event& e, const Payload& p, const TimeZone& zone, const Disclosed* personal) {
  json j = {{"seq", e.seq},
            {"recorded_at", FormatUtc(e.recorded_at)},
            {"recorded_at_local", zone.Format(e.recorded_at)},
            {"type", PayloadTypeName(e.type)}};
  // Stored text is shown with any stray byte escaped (ToJsonText): a ledger
  // written before input was checked may hold some.
  if (const SubjectId* id = SubjectOf(p)) {
    j["subject_id"] = ToHex(*id);
    if (personal != nullptr && personal->state == Disclosed::State::kOpen)
      j["subject"] = EscapeInvalidUtf8(personal->fields.subject);
    if (SealedOf(p) != nullptr)
      j["personal"] = personal == nullptr || personal->state == Disclosed::State::kSealed ? "sealed"
                      : personal->state == Disclosed::State::kErased                      ? "erased"
                                                                                          : "open";
  }
  j["actor"] = {{"os_user", EscapeInvalidUtf8(e.actor.os_user)},
                {"operator", EscapeInvalidUtf8(e.actor.operator_id)},
                {"tool", EscapeInvalidUtf8(e.actor.tool)}};
  j["hash"] = ToHex(e.hash);
  j["summary"] = EscapeInvalidUtf8(DescribeEvent(e, p, zone, personal));
  return j;
}

}  // namespace tacet
