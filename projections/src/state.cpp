#include "tacet/projections/state.h"

#include <algorithm>
#include <optional>

#include "../internal/bytes.h"
#include "tacet/projections/attempts.h"
#include "tacet/projections/decision.h"
#include "tacet/projections/person_state.h"
#include "tacet/projections/subject_state.h"

namespace tacet {

using internal::ByteReader;
using internal::ByteWriter;

const RegistryEntry* RegistryState::At(TimeMs at, TimeMs known_at) const {
  // entries are ordered by (effective_from, seq): the last one effective at
  // `at` and recorded by `known_at` decides.
  auto it = std::upper_bound(entries.begin(), entries.end(), at,
                             [](TimeMs t, const RegistryEntry& e) { return t < e.effective_from; });
  while (it != entries.begin()) {
    --it;
    if (it->recorded_at <= known_at) return &*it;
  }
  return nullptr;
}

std::string RegistryKey(std::string_view registry, const SubjectId& subject) {
  std::string k;
  k.reserve(registry.size() + subject.size() + 1);
  AppendRegistryKey(k, registry, subject);
  return k;
}

void AppendRegistryKey(std::string& out, std::string_view registry, const SubjectId& subject) {
  out.append(registry);
  out.push_back('\0');
  out.append(AsBytes(subject));
}

std::string SubjectKey(const SubjectId& subject) { return std::string(AsBytes(subject)); }

std::string EncodeRegistryState(const RegistryState& s) {
  std::string out;
  out.reserve(1 + 4 + s.entries.size() * 45);
  AppendRegistryState(out, s.entries);
  return out;
}

void AppendRegistryState(std::string& out, std::span<const RegistryEntry> entries) {
  ByteWriter w(out);
  w.U8(2).U32(static_cast<uint32_t>(entries.size()));
  for (const auto& e : entries)
    w.U8(static_cast<uint8_t>(e.outcome))
        .I32(e.received_day)
        .I64(e.effective_from)
        .I64(e.valid_until)
        .U64(e.seq)
        .U64(e.session_id)
        .I64(e.recorded_at);
}

Result<RegistryState> DecodeRegistryState(std::string_view bytes) {
  ByteReader r(bytes);
  RegistryState s;
  const uint8_t version = r.U8();
  if (version != 1 && version != 2)
    return Status::Corruption("registry projection: unknown record version");
  uint32_t n = r.U32();
  if (n > bytes.size() / 37 + 1) return Status::Corruption("registry projection: bad entry count");
  s.entries.resize(n);
  for (auto& e : s.entries) {
    e.outcome = static_cast<RegistryOutcome>(r.U8());
    e.received_day = r.I32();
    e.effective_from = r.I64();
    e.valid_until = r.I64();
    e.seq = r.U64();
    e.session_id = r.U64();
    if (version >= 2) e.recorded_at = r.I64();
  }
  if (r.failed() || !r.done()) return Status::Corruption("registry projection: truncated record");
  return s;
}

std::string SessionKey(uint64_t id) {
  std::string k = "s";
  ByteWriter(k).U64(id);
  return k;
}

std::string SessionMembersPrefix(uint64_t id) {
  std::string k = "m";
  ByteWriter(k).U64(id);
  return k;
}

std::string SessionMemberKey(uint64_t id, const SubjectId& subject) {
  std::string k = SessionMembersPrefix(id);
  k.append(AsBytes(subject));
  return k;
}

std::string ListMemberKey(uint64_t list_id, const SubjectId& subject) {
  std::string k;
  k.reserve(40);
  ByteWriter(k).U64(list_id);
  k.append(AsBytes(subject));
  return k;
}

std::string ReturnFileKey(uint64_t session_id, const Hash256& sha) {
  std::string k = "r";
  ByteWriter(k).U64(session_id);
  k.append(AsBytes(sha));
  return k;
}

std::string EncodeSession(const SessionRecord& s) {
  std::string out;
  ByteWriter w(out);
  w.U8(1)
      .U64(s.id)
      .Str(s.registry)
      .Str(s.file_name)
      .Raw(AsBytes(s.file_sha256))
      .Str(s.zip_name)
      .U64(s.number_count)
      .U64(s.opened_seq)
      .I64(s.opened_at)
      .U32(static_cast<uint32_t>(s.returns.size()));
  for (const auto& r : s.returns)
    w.U64(r.seq)
        .I64(r.imported_at)
        .I32(r.received_day)
        .Str(r.file_name)
        .Raw(AsBytes(r.file_sha256))
        .U64(r.cleared)
        .U64(r.listed);
  return out;
}

Result<SessionRecord> DecodeSession(std::string_view bytes) {
  ByteReader r(bytes);
  SessionRecord s;
  auto hash = [&](Hash256& h) {
    auto raw = r.Raw(32);
    if (raw.size() == 32) std::copy_n(raw.data(), 32, reinterpret_cast<char*>(h.data()));
  };
  if (r.U8() != 1) return Status::Corruption("session projection: unknown record version");
  s.id = r.U64();
  s.registry = r.Str();
  s.file_name = r.Str();
  hash(s.file_sha256);
  s.zip_name = r.Str();
  s.number_count = r.U64();
  s.opened_seq = r.U64();
  s.opened_at = r.I64();
  uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    ReturnInfo ri;
    ri.seq = r.U64();
    ri.imported_at = r.I64();
    ri.received_day = r.I32();
    ri.file_name = r.Str();
    hash(ri.file_sha256);
    ri.cleared = r.U64();
    ri.listed = r.U64();
    s.returns.push_back(std::move(ri));
  }
  if (r.failed() || !r.done()) return Status::Corruption("session projection: truncated record");
  return s;
}

namespace {

// The projections, one fold each: its family and what it keeps. Every
// payload type names the fold that takes it (FoldOf), or none: the table
// and the payload variant are the only lists.
enum class Fold : uint8_t {
  kNone,
  kRegistry,
  kSessions,
  kSubject,
  kPolicy,
  kAttempts,
  kPersons,
  kLists,
  kReassignment,  // p_subject, and the person it leaves in p_person
};
struct FoldSpec {
  Fold fold;
  const char* family;
};
constexpr FoldSpec kFolds[] = {
    {Fold::kRegistry, kRegistryFamily},  // what each registry said about each number
    {Fold::kSessions, kSessionsFamily},  // export sessions, their members and returns
    {Fold::kSubject, kSubjectFamily},    // consents, blocks, justifications, erasure
    {Fold::kPolicy, kPolicyFamily},      // consent types, reasons, channels, registries,
                                         // outcomes, calling hours, caps
    {Fold::kAttempts, kAttemptsFamily},  // contact attempts by subject and start
    {Fold::kAttempts, kAuditFamily},     // contact attempts by start, for the audit
    {Fold::kPersons, kPersonFamily},     // persons: their subjects and merges
    {Fold::kLists, kListFamily},         // registered lists' members (issue 18)
};

// The fold of each payload type: a type without one does not compile.
template <class T>
constexpr Fold kFoldOf = T::kNoFoldDeclared;  // (no such member: declare it below)
template <>
constexpr Fold kFoldOf<ExportSessionOpened> = Fold::kSessions;
template <>
constexpr Fold kFoldOf<SessionNumber> = Fold::kSessions;
template <>
constexpr Fold kFoldOf<ReturnImported> = Fold::kSessions;
template <>
constexpr Fold kFoldOf<RegistryResult> = Fold::kRegistry;
template <>
constexpr Fold kFoldOf<ConsentTypeDefined> = Fold::kPolicy;
template <>
constexpr Fold kFoldOf<ReasonDefined> = Fold::kPolicy;
template <>
constexpr Fold kFoldOf<ChannelPolicySet> = Fold::kPolicy;
template <>
constexpr Fold kFoldOf<RegistryDefined> = Fold::kPolicy;
template <>
constexpr Fold kFoldOf<OutcomeDefined> = Fold::kPolicy;
template <>
constexpr Fold kFoldOf<CallingHoursDefined> = Fold::kPolicy;
template <>
constexpr Fold kFoldOf<FrequencyCapDefined> = Fold::kPolicy;
template <>
constexpr Fold kFoldOf<CallerRegistered> = Fold::kPolicy;
template <>
constexpr Fold kFoldOf<CampaignDefined> = Fold::kPolicy;
template <>
constexpr Fold kFoldOf<ListRegistered> = Fold::kPolicy;
template <>
constexpr Fold kFoldOf<ListMember> = Fold::kLists;
template <>
constexpr Fold kFoldOf<ContactAttempted> = Fold::kAttempts;
template <>
constexpr Fold kFoldOf<CheckRecorded> = Fold::kNone;  // read by seq: the subject index finds it
template <>
constexpr Fold kFoldOf<SubjectReassigned> = Fold::kReassignment;
template <>
constexpr Fold kFoldOf<ConsentGranted> = Fold::kSubject;
template <>
constexpr Fold kFoldOf<ConsentRevoked> = Fold::kSubject;
template <>
constexpr Fold kFoldOf<Blocked> = Fold::kSubject;
template <>
constexpr Fold kFoldOf<Unblocked> = Fold::kSubject;
template <>
constexpr Fold kFoldOf<Justified> = Fold::kSubject;
template <>
constexpr Fold kFoldOf<Erased> = Fold::kSubject;
// (A link also writes the subject's record: FoldPersons.)
template <>
constexpr Fold kFoldOf<PersonLinked> = Fold::kPersons;
template <>
constexpr Fold kFoldOf<PersonUnlinked> = Fold::kPersons;
template <>
constexpr Fold kFoldOf<PersonsMerged> = Fold::kPersons;
template <>
constexpr Fold kFoldOf<PersonsSplit> = Fold::kPersons;
template <>
constexpr Fold kFoldOf<PersonBlocked> = Fold::kPersons;
template <>
constexpr Fold kFoldOf<PersonUnblocked> = Fold::kPersons;

// p_policy's key of a policy event.
std::string PolicyKeyOf(const ConsentTypeDefined& t) { return PolicyTypeKey(t.code); }
std::string PolicyKeyOf(const ReasonDefined& r) { return PolicyReasonKey(r.code); }
std::string PolicyKeyOf(const ChannelPolicySet&) { return kPolicyChannelKey; }
std::string PolicyKeyOf(const RegistryDefined& g) { return PolicyRegistryKey(g.name); }
std::string PolicyKeyOf(const OutcomeDefined& o) { return PolicyOutcomeKey(o.code); }
std::string PolicyKeyOf(const CallingHoursDefined& h) { return PolicyCallingHoursKey(h.name); }
std::string PolicyKeyOf(const FrequencyCapDefined& f) { return PolicyCapKey(f.name); }
std::string PolicyKeyOf(const CallerRegistered& n) { return PolicyCallerKey(n.number, n.campaign); }
std::string PolicyKeyOf(const CampaignDefined& m) { return PolicyCampaignKey(m.code); }
std::string PolicyKeyOf(const ListRegistered& l) { return PolicyListKey(l.list_id); }

// What an event about a subject adds to its record.
void Into(SubjectState& st, const Event& e, const ConsentGranted& g) {
  st.consents.push_back(
      {g.type_code, g.given_day, g.effective_from, g.expires_at, e.seq, e.recorded_at});
}
void Into(SubjectState& st, const Event& e, const ConsentRevoked& v) {
  st.revocations.push_back({v.type_code, e.seq, e.recorded_at});
}
void Into(SubjectState& st, const Event& e, const Blocked& b) {
  st.blocks.push_back({b.channels, b.source, e.seq, e.recorded_at});
}
void Into(SubjectState& st, const Event& e, const Unblocked& u) {
  UnblockEntry entry{u.channels, e.seq, e.recorded_at, u.lifted};
  if (u.lifted.empty())  // version 1: every earlier block on its channels
    for (const BlockEntry& b : st.blocks)
      if ((b.channels & u.channels) != 0) entry.lifted.push_back(b.seq);
  std::sort(entry.lifted.begin(), entry.lifted.end());  // ActiveBlocks searches it
  st.unblocks.push_back(std::move(entry));
}
void Into(SubjectState& st, const Event& e, const Justified& j) {
  st.justifications.push_back({j.channel, j.reason_code, e.seq, e.recorded_at, j.valid_until});
}
void Into(SubjectState& st, const Event& e, const Erased&) {
  if (st.erased_seq == 0) {
    st.erased_seq = e.seq;
    st.erased_at = e.recorded_at;
  }
}

Result<SessionRecord> LoadSession(AppendBatch& batch, int family, uint64_t id) {
  TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(family, SessionKey(id)));
  if (!bytes) return Status::Corruption("session " + std::to_string(id) + " has no record");
  return DecodeSession(*bytes);
}

}  // namespace

std::vector<std::string> ProjectionFamilies() {
  std::vector<std::string> out;
  for (const FoldSpec& f : kFolds) out.push_back(f.family);
  return out;
}

std::vector<std::string> ScannedFamilies() { return {kAttemptsFamily, kAuditFamily}; }

Projector::Projector(const EventLog& log)
    : registry_(log.FamilyIndex(kRegistryFamily)),
      sessions_(log.FamilyIndex(kSessionsFamily)),
      subject_(log.FamilyIndex(kSubjectFamily)),
      policy_(log.FamilyIndex(kPolicyFamily)),
      attempts_(log.FamilyIndex(kAttemptsFamily)),
      audit_(log.FamilyIndex(kAuditFamily)),
      person_(log.FamilyIndex(kPersonFamily)),
      lists_(log.FamilyIndex(kListFamily)) {}

Status Projector::FoldSessions(const Event& e, const Payload& p, AppendBatch& batch) const {
  if (auto* s = std::get_if<ExportSessionOpened>(&p)) {
    SessionRecord rec;
    rec.id = s->session_id;
    rec.registry = s->registry;
    rec.file_name = s->file_name;
    rec.file_sha256 = s->file_sha256;
    rec.zip_name = s->zip_name;
    rec.number_count = s->number_count;
    rec.opened_seq = e.seq;
    rec.opened_at = e.recorded_at;
    batch.Put(sessions_, SessionKey(s->session_id), EncodeSession(rec));
    std::string next;
    ByteWriter(next).U64(s->session_id + 1);
    batch.Put(sessions_, kNextSessionKey, next);
  } else if (auto* n = std::get_if<SessionNumber>(&p)) {
    // Members are only ever scanned from the store, never read through a
    // batch: a million of them need no place in the batch's view.
    // (Its key built in a buffer reused from one member to the next.)
    thread_local std::string key;
    key = SessionMembersPrefix(n->session_id);
    key.append(AsBytes(n->subject));
    batch.PutUnread(sessions_, key, "");
  } else if (auto* r = std::get_if<ReturnImported>(&p)) {
    TACET_ASSIGN_OR_RETURN(SessionRecord rec, LoadSession(batch, sessions_, r->session_id));
    ReturnInfo ri;
    ri.seq = e.seq;
    ri.imported_at = e.recorded_at;
    ri.received_day = r->received_day;
    ri.file_name = r->file_name;
    ri.file_sha256 = r->file_sha256;
    ri.cleared = r->cleared;
    ri.listed = r->listed;
    rec.returns.push_back(std::move(ri));
    batch.Put(sessions_, SessionKey(rec.id), EncodeSession(rec));
    std::string seq;
    ByteWriter(seq).U64(e.seq);
    batch.Put(sessions_, ReturnFileKey(r->session_id, r->file_sha256), seq);
  }
  return Status::Ok();
}

namespace {
// A join or leave entry of `subject`, with e's seq and time, on the
// person's p_person record.
Status AppendPersonLink(AppendBatch& batch, int family, const Event& e, const PersonId& person,
                        const SubjectId& subject, bool linked) {
  TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(family, PersonKey(person)));
  PersonState st;
  if (bytes) {
    TACET_ASSIGN_OR_RETURN(st, DecodePersonState(*bytes));
  }
  st.links.push_back({e.seq, e.recorded_at, subject, linked});
  batch.Put(family, PersonKey(person), EncodePersonState(st));
  return Status::Ok();
}
}  // namespace

Status Projector::FoldAttempt(const Event& e, const ContactAttempted& a, AppendBatch& batch) const {
  AttemptEntry entry{a.started_at, e.seq, e.recorded_at, a.channel, a.effects, a.campaign};
  // No later event of a batch reads an attempt's record: decisions read
  // the store, and a batch of attempts counts its own (Ledger::Contacts).
  batch.PutUnread(attempts_, AttemptKey(a.subject, a.started_at, e.seq), EncodeAttempt(entry));
  batch.PutUnread(audit_, AuditKey(a.started_at, e.seq), EncodeAuditRecord(e));
  if ((a.effects & kOutcomeWrongNumber) == 0) return Status::Ok();
  return FoldReassignment(e, a.subject, e.recorded_at, batch);
}

Status Projector::FoldReassignment(const Event& e, const SubjectId& subject, TimeMs effective_from,
                                   AppendBatch& batch) const {
  const std::string key = SubjectKey(subject);
  TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(subject_, key));
  SubjectState st;
  if (bytes) {
    TACET_ASSIGN_OR_RETURN(st, DecodeSubjectState(*bytes));
  }
  st.reassignments.push_back({e.seq, e.recorded_at, effective_from});
  // The number is someone else's now: its link to a person ends, on both
  // records, as an unlink would.
  if (const SubjectState::Link* now = st.PersonAt(kKnownNow)) {
    const PersonId person = now->person;
    st.links.push_back({e.seq, e.recorded_at, person, false});
    TACET_RETURN_IF_ERROR(AppendPersonLink(batch, person_, e, person, subject, false));
  }
  batch.Put(subject_, key, EncodeSubjectState(st));
  return Status::Ok();
}

Status Projector::FoldPersons(const Event& e, const Payload& p, AppendBatch& batch) const {
  auto load_person = [&](const PersonId& id) -> Result<PersonState> {
    TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(person_, PersonKey(id)));
    if (!bytes) return PersonState{};
    return DecodePersonState(*bytes);
  };
  auto add_edge = [&](const PersonId& a, const PersonId& b, bool merged) -> Status {
    TACET_ASSIGN_OR_RETURN(PersonState st, load_person(a));
    st.edges.push_back({e.seq, e.recorded_at, b, merged});
    batch.Put(person_, PersonKey(a), EncodePersonState(st));
    return Status::Ok();
  };
  const auto* linked = std::get_if<PersonLinked>(&p);
  const auto* unlinked = std::get_if<PersonUnlinked>(&p);
  if (linked != nullptr || unlinked != nullptr) {
    const SubjectId& subject = linked ? linked->subject : unlinked->subject;
    const PersonId& person = linked ? linked->person : unlinked->person;
    const std::string key = SubjectKey(subject);
    TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(subject_, key));
    SubjectState st;
    if (bytes) {
      TACET_ASSIGN_OR_RETURN(st, DecodeSubjectState(*bytes));
    }
    // A link to another person moves the subject: the person it leaves
    // records that it left, with this event's seq.
    std::optional<PersonId> left;
    if (const SubjectState::Link* now = st.PersonAt(kKnownNow);
        linked != nullptr && now != nullptr && now->person != person)
      left = now->person;
    st.links.push_back({e.seq, e.recorded_at, person, linked != nullptr});
    batch.Put(subject_, key, EncodeSubjectState(st));
    if (left) TACET_RETURN_IF_ERROR(AppendPersonLink(batch, person_, e, *left, subject, false));
    return AppendPersonLink(batch, person_, e, person, subject, linked != nullptr);
  }
  const auto* merged = std::get_if<PersonsMerged>(&p);
  const auto* split = std::get_if<PersonsSplit>(&p);
  if (merged != nullptr || split != nullptr) {
    const PersonId& into = merged ? merged->into : split->into;
    const PersonId& from = merged ? merged->from : split->from;
    TACET_RETURN_IF_ERROR(add_edge(into, from, merged != nullptr));
    return add_edge(from, into, merged != nullptr);
  }
  if (const auto* b = std::get_if<PersonBlocked>(&p)) {
    TACET_ASSIGN_OR_RETURN(PersonState st, load_person(b->person));
    st.blocks.push_back({b->channels, b->source, e.seq, e.recorded_at});
    batch.Put(person_, PersonKey(b->person), EncodePersonState(st));
  } else if (const auto* u = std::get_if<PersonUnblocked>(&p)) {
    TACET_ASSIGN_OR_RETURN(PersonState st, load_person(u->person));
    UnblockEntry entry{u->channels, e.seq, e.recorded_at, u->lifted};
    std::sort(entry.lifted.begin(), entry.lifted.end());  // ActiveBlocks searches it
    st.unblocks.push_back(std::move(entry));
    batch.Put(person_, PersonKey(u->person), EncodePersonState(st));
  }
  return Status::Ok();
}

Status Projector::Apply(const Event& e, const Payload& p, AppendBatch& batch) const {
  if (registry_ < 0 || sessions_ < 0 || subject_ < 0 || policy_ < 0 || attempts_ < 0 ||
      audit_ < 0 || person_ < 0 || lists_ < 0)
    return Status::Internal("projection families are not open");
  return std::visit(
      [&](const auto& x) -> Status {
        using T = std::decay_t<decltype(x)>;
        constexpr Fold fold = kFoldOf<T>;
        if constexpr (fold == Fold::kSessions) {
          return FoldSessions(e, p, batch);
        } else if constexpr (fold == Fold::kRegistry) {
          TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(registry_, KeyRead(p).key));
          return ApplyRegistryResult(
              e, x, bytes ? std::optional<std::string_view>(*bytes) : std::nullopt, batch);
        } else if constexpr (fold == Fold::kPolicy) {
          const std::string key = PolicyKeyOf(x);
          TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(policy_, key));
          batch.Put(policy_, key, AppendPolicyVersion(bytes.value_or(""), e.seq, e.recorded_at, p));
          return Status::Ok();
        } else if constexpr (fold == Fold::kAttempts) {
          return FoldAttempt(e, x, batch);
        } else if constexpr (fold == Fold::kPersons) {
          return FoldPersons(e, p, batch);
        } else if constexpr (fold == Fold::kReassignment) {
          return FoldReassignment(e, x.subject, x.effective_from, batch);
        } else if constexpr (fold == Fold::kLists) {
          std::string seq;
          ByteWriter(seq).U64(e.seq);
          // (nothing of the batch reads a member: decisions read committed records)
          batch.PutUnread(lists_, ListMemberKey(x.list_id, x.subject), seq);
          return Status::Ok();
        } else if constexpr (fold == Fold::kSubject) {
          const std::string key = SubjectKey(x.subject);
          TACET_ASSIGN_OR_RETURN(auto bytes, batch.Get(subject_, key));
          SubjectState st;
          if (bytes) {
            TACET_ASSIGN_OR_RETURN(st, DecodeSubjectState(*bytes));
          }
          Into(st, e, x);
          batch.Put(subject_, key, EncodeSubjectState(st));
          return Status::Ok();
        } else {
          return Status::Ok();
        }
      },
      p);
}

Status Projector::ApplyRegistryResult(const Event& e, const RegistryResult& rr,
                                      std::optional<std::string_view> prior, AppendBatch& batch,
                                      bool unread) const {
  if (registry_ < 0) return Status::Internal("projection families are not open");
  RegistryEntry entry{rr.outcome, rr.received_day, rr.effective_from, rr.valid_until,
                      e.seq,      rr.session_id,   e.recorded_at};
  if (!prior) {
    // A number's first answer (most of an import): its record encoded into
    // buffers reused from one result to the next.
    thread_local std::string key, value;
    key.clear();
    AppendRegistryKey(key, rr.registry, rr.subject);
    value.clear();
    AppendRegistryState(value, std::span<const RegistryEntry>(&entry, 1));
    if (unread) {
      batch.PutUnread(registry_, key, value);
    } else {
      batch.Put(registry_, key, value);
    }
    return Status::Ok();
  }
  RegistryState st;
  TACET_ASSIGN_OR_RETURN(st, DecodeRegistryState(*prior));
  auto pos = std::upper_bound(st.entries.begin(), st.entries.end(), entry,
                              [](const RegistryEntry& a, const RegistryEntry& b) {
                                return a.effective_from != b.effective_from
                                           ? a.effective_from < b.effective_from
                                           : a.seq < b.seq;
                              });
  st.entries.insert(pos, entry);
  const std::string key = RegistryKey(rr.registry, rr.subject);
  if (unread) {
    batch.PutUnread(registry_, key, EncodeRegistryState(st));
  } else {
    batch.Put(registry_, key, EncodeRegistryState(st));
  }
  return Status::Ok();
}

Projector::ReadKey Projector::KeyRead(const Payload& p) const {
  return std::visit(
      [&](const auto& x) -> ReadKey {
        using T = std::decay_t<decltype(x)>;
        constexpr Fold fold = kFoldOf<T>;
        if constexpr (std::is_same_v<T, ReturnImported>) {
          return {sessions_, SessionKey(x.session_id)};
        } else if constexpr (fold == Fold::kRegistry) {
          return {registry_, RegistryKey(x.registry, x.subject)};
        } else if constexpr (fold == Fold::kPolicy) {
          return {policy_, PolicyKeyOf(x)};
        } else if constexpr (fold == Fold::kSubject || fold == Fold::kReassignment) {
          return {subject_, SubjectKey(x.subject)};
        } else if constexpr (fold == Fold::kAttempts) {
          if ((x.effects & kOutcomeWrongNumber) != 0) return {subject_, SubjectKey(x.subject)};
          return {};
        } else {
          return {};  // writes only (a session opened, a member)
        }
      },
      p);
}

Status Projector::ApplyRun(const std::vector<Event>& events, const std::vector<Payload>& payloads,
                           AppendBatch& batch) const {
  const int families[] = {registry_, sessions_, subject_, policy_};
  std::vector<std::vector<std::string>> keys(std::size(families));
  for (const Payload& p : payloads) {
    ReadKey k = KeyRead(p);
    for (size_t i = 0; i < std::size(families); ++i)
      if (k.family >= 0 && k.family == families[i]) keys[i].push_back(std::move(k.key));
  }
  for (size_t i = 0; i < std::size(families); ++i) {
    std::sort(keys[i].begin(), keys[i].end());
    keys[i].erase(std::unique(keys[i].begin(), keys[i].end()), keys[i].end());
    TACET_RETURN_IF_ERROR(batch.Prefetch(families[i], keys[i]));
  }
  for (size_t i = 0; i < events.size(); ++i)
    TACET_RETURN_IF_ERROR(Apply(events[i], payloads[i], batch));
  return Status::Ok();
}

}  // namespace tacet
