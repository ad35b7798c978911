#include "tacet/service/service.h"

#include "handler.h"

namespace tacet {

using namespace ops;

const std::vector<OpSpec>& AllOps() {
  using H = Handler;
  constexpr Role kR = Role::kReader, kW = Role::kWriter, kO = Role::kOfficer;
  constexpr OpKind kRead = OpKind::kRead, kLong = OpKind::kLongRead, kWrite = OpKind::kWrite;
  // clang-format off
  static const std::vector<OpSpec> ops = {
      // name            role kind     fields besides id and op                  handler
      {"check",          kR, kRead,  {"subject", "channel", "at", "as_known_at", "campaign", "record"}, nullptr, &H::Check},
      {"check_batch",    kR, kRead,  {"subjects", "channel", "at", "as_known_at", "campaign"}, nullptr, &H::CheckBatch},
      {"filter",         kR, kLong,  {"path", "content", "column", "channel", "at", "as_known_at", "campaign"}, &H::Filter},
      {"history",        kR, kRead,  {"subject", "person"}, &H::History},
      {"audit",          kR, kLong,  {"from", "to", "campaign", "format"}, nullptr, &H::Audit},
      {"sessions",       kR, kRead,  {}, &H::Sessions},
      {"policy",         kR, kRead,  {"at"}, &H::Policy},
      {"lists",          kR, kRead,  {"campaign"}, &H::Lists},
      {"verify",         kR, kLong,  {}, &H::Verify},
      {"checkpoint",     kR, kRead,  {"size"}, &H::Checkpoint},
      {"proof",          kR, kLong,  {"subject", "person", "seq"}, &H::Proof},
      {"consistency",    kR, kRead,  {"old_size", "new_size"}, &H::Consistency},
      {"stats",          kR, kRead,  {}, &H::Stats},
      {"subscribe",      kR, OpKind::kStream, {"from_seq"}},  // the daemon's: a stream
      {"consent_grant",  kW, kWrite, {"subject", "type", "given", "evidence", "operator"}, &H::ConsentGrant},
      {"consent_revoke", kW, kWrite, {"subject", "type", "reason", "operator"}, &H::ConsentRevoke},
      {"block",          kW, kWrite, {"subject", "person", "path", "content", "channels", "reason", "source", "operator"}, &H::Block},
      {"justify",        kW, kWrite, {"subject", "channel", "reason", "operator"}, &H::Justify},
      {"person_link",    kW, kWrite, {"person", "subjects", "operator"}, &H::PersonLink},
      {"person_unlink",  kW, kWrite, {"person", "subjects", "operator"}, &H::PersonUnlink},
      {"person_merge",   kW, kWrite, {"into", "from", "operator"}, &H::PersonMerge},
      {"person_split",   kW, kWrite, {"into", "from", "operator"}, &H::PersonSplit},
      {"reassigned",     kW, kWrite, {"subject", "since", "note", "operator"}, &H::Reassigned},
      {"contact_import", kW, kWrite, {"path", "content", "operator"}, &H::ContactImport},
      {"check_record",   kW, kWrite, {"subject", "channel", "campaign", "record", "operator"}, &H::CheckRecord},
      {"contact",        kW, kWrite, {"subject", "channel", "started", "outcome", "campaign", "caller_id",
                                      "duration", "decision", "operator"}, &H::Contact},
      {"unblock",        kO, kWrite, {"subject", "person", "channels", "sources", "reason", "officer", "operator"}, &H::Unblock},
      {"export",         kO, kWrite, {"registry", "candidates", "content", "column", "limit", "fresh_days",
                                      "include_pending", "out", "campaign", "operator"}, &H::Export},
      {"import_return",  kO, kWrite, {"session", "received", "path", "supersede", "empty_is_all_listed",
                                      "operator"}, &H::ImportReturn},
      {"erase",          kO, kWrite, {"subject", "person", "request", "officer", "operator"}, &H::Erase},
      {"exports_prune",  kO, kWrite, {"answered_before", "operator"}, &H::ExportsPrune},
      {"campaign_define", kO, kWrite, {"code", "title", "controller", "purpose", "requires_provenance",
                                       "retire", "operator"}, &H::CampaignDefine},
      {"caller_register", kO, kWrite, {"number", "campaign", "roc", "valid_from", "valid_to", "retire",
                                       "operator"}, &H::CallerRegister},
      {"list_register",  kO, kWrite, {"path", "content", "column", "campaign", "supplier", "acquired",
                                      "basis", "consent_text", "operator"}, &H::ListRegister},
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
  // An event about a person alone (issue 18) names its PersonId; its sealed
  // "subject" is then the CRM's id.
  const SubjectId* id = SubjectOf(p);
  const Hash256* owner = KeyOwnerOf(p);
  if (id == nullptr && owner != nullptr) j["person_id"] = ToHex(*owner);
  if (owner != nullptr) {
    if (id != nullptr) j["subject_id"] = ToHex(*id);
    if (personal != nullptr && personal->state == Disclosed::State::kOpen)
      j[id != nullptr ? "subject" : "person"] = EscapeInvalidUtf8(personal->fields.subject);
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
