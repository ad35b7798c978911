#include "tacet/projections/proof.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "tacet/core/codec.h"
#include "tacet/core/merkle.h"
#include "tacet/core/utf8.h"
#include "tacet/projections/ledger.h"
#include "tacet/projections/person_state.h"

namespace tacet {

using json = nlohmann::json;

namespace {

// Version 2: subjects by SubjectId, personal fields sealed, the data key
// that opens them carried along (projections/FORMAT.md).
constexpr const char* kProofFormat = "tacet-proof-2";

// The checkpoint's fields, from a note this ledger signed.
Result<note::Checkpoint> OwnCheckpoint(const EventLog& log, const std::string& signed_note) {
  TACET_ASSIGN_OR_RETURN(auto key, log.CheckpointKey());
  if (!key) return Status::Corruption("the ledger has checkpoints but no checkpoint key in meta");
  TACET_ASSIGN_OR_RETURN(note::Verifier v, note::Verifier::Parse(*key));
  TACET_ASSIGN_OR_RETURN(std::string text, v.Open(signed_note));
  return note::ParseCheckpoint(text);
}

// A data key as a proof file carries it.
std::string KeyText(const DataKey& key) {
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

// The person's part of a proof (issue 18): its ids and key, each subject
// ever linked to it with its key (or `erased`), into *out; the seqs of
// every event about the person or one of those subjects.
Result<std::vector<uint64_t>> PersonProofHead(const Ledger& ledger, const std::string& crm_id,
                                              json* out) {
  TACET_ASSIGN_OR_RETURN(PersonState person, ledger.Person(crm_id));
  TACET_ASSIGN_OR_RETURN(PersonId pid, ledger.PersonIdOf(crm_id));
  (*out)["person"] = crm_id;
  (*out)["person_id"] = ToHex(pid);
  TACET_ASSIGN_OR_RETURN(std::optional<DataKey> person_key, ledger.DataKeyOf(pid));
  if (person_key) (*out)["person_key"] = KeyText(*person_key);
  json subjects = json::array();
  std::set<SubjectId> listed;
  for (const PersonState::Link& l : person.links) {
    if (!listed.insert(l.subject).second) continue;
    json s = {{"subject_id", ToHex(l.subject)}};
    TACET_ASSIGN_OR_RETURN(std::optional<DataKey> key, ledger.DataKeyOf(l.subject));
    if (key) {
      s["data_key"] = KeyText(*key);
      // Its canonical text, from the link's sealed fields.
      TACET_ASSIGN_OR_RETURN(Event e, ledger.log().Read(l.seq));
      TACET_ASSIGN_OR_RETURN(Payload p, DecodePayload(e.type, e.version, e.payload));
      const Disclosed d = ledger.Disclose(p);
      if (d.state == Disclosed::State::kOpen) s["subject"] = d.fields.subject;
    } else {
      s["erased"] = true;
    }
    subjects.push_back(std::move(s));
  }
  (*out)["subjects"] = std::move(subjects);
  return ledger.PersonSeqs(crm_id);
}

}  // namespace

Result<json> MakeProof(const Ledger& ledger, const ProofRequest& req) {
  const EventLog& log = ledger.log();
  TACET_ASSIGN_OR_RETURN(auto latest, log.LatestCheckpoint());
  if (!latest)
    return Status::FailedPrecondition(
        "the ledger has no signed checkpoint yet (a writer signs "
        "one with its next commit)");
  TACET_ASSIGN_OR_RETURN(note::Checkpoint cp, OwnCheckpoint(log, *latest));
  json out = {{"format", kProofFormat}, {"checkpoint", *latest}};
  std::vector<uint64_t> seqs;
  std::optional<SubjectId> id;
  if (!req.person.empty()) {
    TACET_ASSIGN_OR_RETURN(seqs, PersonProofHead(ledger, req.person, &out));
  } else if (!req.subject.empty()) {
    TACET_ASSIGN_OR_RETURN(Subject s, ledger.ParseSubject(req.subject));
    out["subject"] = s.value;
    TACET_ASSIGN_OR_RETURN(id, ledger.IdOf(s));
    TACET_ASSIGN_OR_RETURN(seqs, log.SeqsFor(*id));
  } else {
    if (req.seq == 0 || req.seq > log.head().seq)
      return Status::NotFound("no event with seq " + std::to_string(req.seq));
    seqs.push_back(req.seq);
    TACET_ASSIGN_OR_RETURN(Event e, log.Read(req.seq));
    TACET_ASSIGN_OR_RETURN(Payload p, DecodePayload(e.type, e.version, e.payload));
    if (const SubjectId* about = SubjectOf(p)) id = *about;
  }
  if (id) {
    // What a regulator needs to read the sealed fields: the subject's data
    // key (it opens this subject's fields only). An erased subject has none.
    out["subject_id"] = ToHex(*id);
    TACET_ASSIGN_OR_RETURN(std::optional<DataKey> key, ledger.DataKeyOf(*id));
    if (key) {
      out["data_key"] = KeyText(*key);
    } else {
      out["erased"] = true;
    }
  }
  json events = json::array(), pending = json::array();
  for (uint64_t seq : seqs) {
    if (seq > cp.size) {
      pending.push_back(seq);
      continue;
    }
    TACET_ASSIGN_OR_RETURN(Event e, log.Read(seq));
    TACET_ASSIGN_OR_RETURN(Payload p, DecodePayload(e.type, e.version, e.payload));
    TACET_ASSIGN_OR_RETURN(std::vector<Hash256> path, log.InclusionProof(seq, cp.size));
    const Disclosed personal = ledger.Disclose(p);
    json hashes = json::array();
    for (const Hash256& h : path) hashes.push_back(Base64Encode(AsBytes(h)));
    events.push_back({{"seq", seq},
                      {"body", Base64Encode(EncodeEventBody(e))},
                      {"inclusion", std::move(hashes)},
                      {"recorded_at", FormatUtc(e.recorded_at)},
                      {"summary", DescribeEvent(e, p, ledger.zone(), &personal)}});
  }
  out["events"] = std::move(events);
  out["pending"] = std::move(pending);
  return out;
}

namespace {

// Parses `text`, noting in *dup the first member name an object holds
// twice: a proof is read exactly as written, and a parser that keeps one of
// two values would let two readers see different proofs.
json ParseNotingDuplicates(std::string_view text, std::optional<std::string>* dup) {
  std::vector<std::set<std::string>> open;
  json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!open.empty()) open.pop_back();
    } else if (event == json::parse_event_t::key && !open.empty() && !*dup) {
      std::string k = parsed.get<std::string>();
      if (!open.back().insert(k).second) *dup = std::move(k);
    }
    return true;
  };
  return json::parse(text, cb, false);
}

// What a proof file says of one holder of a data key.
struct KeyHolder {
  std::optional<DataKey> key;
  bool erased = false;
  std::string text;  // what its sealed fields must name ("": unchecked)
};

Result<DataKey> ReadKey(const json& j, const std::string& what) {
  auto raw = j.is_string() ? Base64Decode(j.get<std::string>())
                           : Result<std::string>(Status::InvalidArgument(""));
  if (!raw.ok() || raw->size() != 32)
    return Status::InvalidArgument(what + ": not 32 bytes of base64");
  DataKey key;
  std::copy(raw->begin(), raw->end(), reinterpret_cast<char*>(key.data()));
  return key;
}

Result<Hash256> ReadId(const json& j, const std::string& what) {
  auto id = j.is_string() ? HashFromHex(j.get<std::string>())
                          : Result<Hash256>(Status::InvalidArgument(""));
  if (!id.ok()) return Status::InvalidArgument(what + ": not 64 hexadecimal digits");
  return *id;
}

// A person's file (issue 18): "person", "person_id", "person_key" and
// "subjects" into *out and *holders.
Status ReadPersonHead(const json& doc, ProofCheck* out, std::map<Hash256, KeyHolder>* holders) {
  auto bad = [](const std::string& why) { return Status::InvalidArgument(why); };
  if (!doc["person"].is_string() || doc["person"].get<std::string>().empty())
    return bad("\"person\": not a non-empty string");
  out->person = doc["person"].get<std::string>();
  if (!doc.contains("person_id")) return bad("\"person\" without \"person_id\"");
  TACET_ASSIGN_OR_RETURN(out->person_id, ReadId(doc["person_id"], "\"person_id\""));
  KeyHolder person;
  person.text = out->person;
  if (doc.contains("person_key")) {
    TACET_ASSIGN_OR_RETURN(person.key, ReadKey(doc["person_key"], "\"person_key\""));
  }
  (*holders)[*out->person_id] = std::move(person);
  if (!doc.contains("subjects") || !doc["subjects"].is_array())
    return bad("\"subjects\": missing or not an array");
  const json& subjects = doc["subjects"];
  for (size_t i = 0; i < subjects.size(); ++i) {
    const json& sj = subjects[i];
    const std::string where = "\"subjects\"[" + std::to_string(i) + "]";
    if (!sj.is_object() || !sj.contains("subject_id")) return bad(where + ": needs subject_id");
    ProofSubject ps;
    TACET_ASSIGN_OR_RETURN(ps.id, ReadId(sj["subject_id"], where + ".subject_id"));
    KeyHolder h;
    if (sj.contains("subject")) {
      if (!sj["subject"].is_string()) return bad(where + ".subject: not a string");
      ps.subject = h.text = sj["subject"].get<std::string>();
    }
    if (sj.contains("data_key")) {
      TACET_ASSIGN_OR_RETURN(h.key, ReadKey(sj["data_key"], where + ".data_key"));
    }
    if (sj.contains("erased")) {
      if (!sj["erased"].is_boolean()) return bad(where + ".erased: not true or false");
      ps.erased = h.erased = sj["erased"].get<bool>();
      if (h.erased && h.key) return bad(where + ": \"erased\" is true, yet a data_key is given");
    }
    if (holders->contains(ps.id)) return bad(where + ": subject_id listed twice");
    (*holders)[ps.id] = std::move(h);
    out->subjects.push_back(std::move(ps));
  }
  return Status::Ok();
}

// Whether the event links a subject to, or unlinks it from, `person`.
bool LinksTo(const Payload& p, const PersonId& person) {
  if (const auto* l = std::get_if<PersonLinked>(&p)) return l->person == person;
  if (const auto* u = std::get_if<PersonUnlinked>(&p)) return u->person == person;
  return false;
}

}  // namespace

Result<ProofCheck> VerifyProof(std::string_view file, const note::Verifier& key) {
  auto bad = [](const std::string& why) { return Status::InvalidArgument(why); };
  std::optional<std::string> dup;
  json doc = ParseNotingDuplicates(file, &dup);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a proof file: not a JSON object");
  if (dup)
    return bad("not a proof file: the member \"" + EscapeInvalidUtf8(*dup) + "\" appears twice");
  // A "format" of another type is no proof file either: value() would throw.
  const auto format = doc.find("format");
  if (format == doc.end() || !format->is_string() || format->get<std::string>() != kProofFormat)
    return bad("not a proof file: \"format\" is not \"" + std::string(kProofFormat) + "\"");
  if (!doc.contains("checkpoint") || !doc["checkpoint"].is_string())
    return bad("\"checkpoint\": missing or not a string");
  auto text = key.Open(doc["checkpoint"].get<std::string>());
  if (!text.ok()) return bad("\"checkpoint\": " + text.status().message());
  auto cp = note::ParseCheckpoint(*text);
  if (!cp.ok()) return bad("\"checkpoint\": " + cp.status().message());
  if (cp->origin != key.name())
    return bad("\"checkpoint\": origin '" + cp->origin + "' is not the key's '" + key.name() + "'");
  ProofCheck out;
  out.checkpoint = *cp;
  if (doc.contains("subject")) {
    if (!doc["subject"].is_string()) return bad("\"subject\": not a string");
    out.subject = doc["subject"].get<std::string>();
    if (!doc.contains("subject_id")) return bad("\"subject\" without \"subject_id\"");
  }
  if (doc.contains("subject_id")) {
    auto id = doc["subject_id"].is_string() ? HashFromHex(doc["subject_id"].get<std::string>())
                                            : Result<Hash256>(Status::InvalidArgument(""));
    if (!id.ok()) return bad("\"subject_id\": not 64 hexadecimal digits");
    out.subject_id = *id;
  }
  // Whose sealed fields the file can open: the subject's, or the person's
  // and each of its subjects' (issue 18), each with its key or `erased`,
  // and the text its sealed fields must name.
  std::map<Hash256, KeyHolder> holders;
  if (doc.contains("person")) {
    if (doc.contains("subject") || doc.contains("subject_id") || doc.contains("data_key") ||
        doc.contains("erased"))
      return bad("\"person\" with a subject's fields: a file is about a subject or a person");
    TACET_RETURN_IF_ERROR(ReadPersonHead(doc, &out, &holders));
  } else {
    KeyHolder h;
    if (doc.contains("data_key")) {
      if (!out.subject_id) return bad("\"data_key\" without \"subject_id\"");
      TACET_ASSIGN_OR_RETURN(h.key, ReadKey(doc["data_key"], "\"data_key\""));
    }
    if (doc.contains("erased")) {
      if (!doc["erased"].is_boolean()) return bad("\"erased\": not true or false");
      out.erased = h.erased = doc["erased"].get<bool>();
      if (out.erased && h.key) return bad("\"erased\" is true, yet a \"data_key\" is given");
    }
    h.text = out.subject;
    if (out.subject_id) holders[*out.subject_id] = std::move(h);
  }
  if (!doc.contains("events") || !doc["events"].is_array())
    return bad("\"events\": missing or not an array");
  const json& events = doc["events"];
  uint64_t last_seq = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const json& ej = events[i];
    const std::string where = "\"events\"[" + std::to_string(i) + "]";
    if (!ej.is_object() || !ej.contains("seq") || !ej["seq"].is_number_unsigned() ||
        !ej.contains("body") || !ej["body"].is_string() || !ej.contains("inclusion") ||
        !ej["inclusion"].is_array())
      return bad(where + ": needs seq (a positive integer), body and inclusion");
    const uint64_t seq = ej["seq"].get<uint64_t>();
    const std::string at = where + " (seq " + std::to_string(seq) + ")";
    if (seq == 0 || seq > cp->size)
      return bad(at + ": not in the checkpoint's tree of " + std::to_string(cp->size) + " events");
    auto body = Base64Decode(ej["body"].get<std::string>());
    if (!body.ok()) return bad(at + ": body: " + body.status().message());
    std::vector<Hash256> path;
    for (const json& h : ej["inclusion"]) {
      auto hash = h.is_string() ? HashFromBase64(h.get<std::string>())
                                : Result<Hash256>(Status::InvalidArgument("not a string"));
      if (!hash.ok()) return bad(at + ": inclusion: every element must be 32 bytes of base64");
      path.push_back(*hash);
    }
    if (!merkle::VerifyInclusion(seq - 1, cp->size, merkle::LeafHash(*body), path, cp->root))
      return bad(at +
                 ": the inclusion proof does not lead from this body to the checkpoint's "
                 "root: the event, its seq or the proof was altered");
    auto e = DecodeEventBody(*body);
    if (!e.ok()) return bad(at + ": body: " + e.status().message());
    if (e->seq != seq) return bad(at + ": the body is the event of seq " + std::to_string(e->seq));
    auto p = DecodePayload(e->type, e->version, e->payload);
    if (!p.ok()) return bad(at + ": payload: " + p.status().message());
    if (seq <= last_seq)
      return bad(at + ": events must be in ascending seq order, each once (after seq " +
                 std::to_string(last_seq) + ")");
    last_seq = seq;
    // Text is UTF-8 (core/FORMAT.md): a body that is not is no event Tacet wrote.
    for (const std::string* t : {&e->actor.os_user, &e->actor.operator_id, &e->actor.tool})
      if (!IsValidUtf8(*t)) return bad(at + ": the actor is not valid UTF-8");
    size_t bad_field = 0;
    ForEachText(*p, [&](size_t field, std::string_view text) {
      if (!IsValidUtf8(text)) bad_field = field;
      return bad_field == 0;
    });
    if (bad_field != 0)
      return bad(at + ": payload field " + std::to_string(bad_field) + " is not valid UTF-8");
    if (auto* b = std::get_if<Blocked>(&*p);
        b != nullptr &&
        std::find(kBlockSources.begin(), kBlockSources.end(), b->source) == kBlockSources.end())
      return bad(at + ": a block's source '" + EscapeInvalidUtf8(b->source) +
                 "' is none of the documented ones");
    const SubjectId* about = SubjectOf(*p);
    if (out.subject_id && (about == nullptr || *about != *out.subject_id))
      return bad(at + ": the event is about " +
                 (about == nullptr ? std::string("no subject") : "subject " + ToHex(*about)) +
                 ", not " + ToHex(*out.subject_id));
    if (out.person_id) {
      std::vector<SubjectId> ids;
      SubjectsOf(*p, &ids);
      if (std::none_of(ids.begin(), ids.end(),
                       [&](const Hash256& x) { return holders.contains(x); }))
        return bad(at + ": the event is about neither the person nor a subject of the file");
    }
    Disclosed personal;
    if (const std::string* sealed = SealedOf(*p)) {
      const Hash256& owner = *KeyOwnerOf(*p);  // (sealed fields always have one)
      auto holder = holders.find(owner);
      personal.state = holder != holders.end() && holder->second.erased ? Disclosed::State::kErased
                                                                        : Disclosed::State::kSealed;
      if (holder != holders.end() && holder->second.key) {
        auto fields = OpenPersonal(*holder->second.key, e->type, owner, *sealed);
        if (!fields.ok())
          return bad(at + ": its sealed fields do not open with the file's data key");
        if (!IsValidUtf8(fields->subject) || !IsValidUtf8(fields->text))
          return bad(at + ": its sealed fields are not valid UTF-8");
        // The sealed subject is what binds the SubjectId to the number or
        // address (a PersonId to the CRM's id): the keyed hash cannot be
        // recomputed without the secret.
        const std::string& named = holder->second.text;
        if (!named.empty() && fields->subject != named)
          return bad(at + ": its sealed subject is '" + EscapeInvalidUtf8(fields->subject) +
                     "', not " + named);
        // A link to the file's person names the person's CRM id.
        if (out.person_id && LinksTo(*p, *out.person_id) && fields->text != out.person)
          return bad(at + ": it links to person '" + EscapeInvalidUtf8(fields->text) + "', not " +
                     out.person);
        personal.state = Disclosed::State::kOpen;
        personal.fields = std::move(fields).value();
      }
    }
    out.events.push_back({std::move(e).value(), std::move(p).value(), std::move(personal)});
  }
  if (doc.contains("pending")) {
    if (!doc["pending"].is_array()) return bad("\"pending\": not an array");
    for (const json& s : doc["pending"]) {
      if (!s.is_number_unsigned() || s.get<uint64_t>() == 0)
        return bad("\"pending\": every element must be a positive integer (a seq)");
      out.pending.push_back(s.get<uint64_t>());
    }
  }
  return out;
}

}  // namespace tacet
