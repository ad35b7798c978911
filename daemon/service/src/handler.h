// The service's handlers: one request's arguments read with their types
// checked, and the Handler whose members serve the operations (AllOps()
// points at them). Shared by service.cpp and the ops_*.cpp files.
#pragma once

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

[[noreturn]] inline void Throw(std::string code, std::string message) {
  throw RequestError{std::move(code), std::move(message)};
}

inline const char* CodeOf(const Status& s) {
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
inline T Must(Result<T> r, const char* not_found_code = errc::kNotFound) {
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
inline void AppendDecision(JsonText& j, const DecisionAnswer& a, const TimeZone& z) {
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

inline json ChannelNamesJson(ChannelMask m) {
  json out = json::array();
  for (Channel c : kAllChannels)
    if ((m & MaskOf(c)) != 0) out.push_back(ChannelName(c));
  return out;
}

inline ChannelMask ParseChannels(const std::vector<std::string>& names) {
  if (names.empty() || (names.size() == 1 && names[0] == "all")) return kEveryChannel;
  ChannelMask m = 0;
  for (const auto& n : names) m |= MaskOf(Must(ParseChannel(n)));
  return m;
}

// `p` resolved under `import_dir` after symlinks (forbidden outside it);
// `p` itself when there is no import directory (the embedded CLI).
inline std::string ResolvePath(const std::string& p, const std::string& import_dir) {
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
  // The audit of a period: its JSON document, written as text (a million
  // rows would be a million json values).
  std::string Audit();
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
  json PersonLink();
  json PersonUnlink();
  json PersonMerge();
  json PersonSplit();
  json Reassigned();
  json Unblock();
  json Justify();
  json Contact();
  json CheckRecord();
  json ContactImport();
  json Export();
  json ImportReturn();
  json Erase();
  json ExportsPrune();
  // Issue 18: campaigns, caller ids, lists.
  json CampaignDefine();
  json CallerRegister();
  json ListRegister();
  json Lists();

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

}  // namespace ops
}  // namespace tacet
