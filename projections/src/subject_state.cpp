#include "tacet/projections/subject_state.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "../internal/block_entries.h"
#include "../internal/bytes.h"
#include "tacet/core/codec.h"

namespace tacet {

using internal::ByteReader;
using internal::ByteWriter;

namespace {

// Format 3's record versions: 1, each unblock lists the blocks it lifted,
// and the record ends with the erasure; 2 (issue 17) adds the
// reassignments after it; 3 (issue 18) the links; 4 each reassignment's
// effective_from. Every earlier version is still read.
constexpr uint8_t kSubjectStateVersion = 4;

}  // namespace

std::string EncodeSubjectState(const SubjectState& s) {
  std::string out;
  ByteWriter w(out);
  w.U8(kSubjectStateVersion);
  w.U32(static_cast<uint32_t>(s.consents.size()));
  for (const auto& c : s.consents)
    w.Str(c.type_code)
        .I32(c.given_day)
        .I64(c.effective_from)
        .I64(c.expires_at)
        .U64(c.seq)
        .I64(c.recorded_at);
  w.U32(static_cast<uint32_t>(s.revocations.size()));
  for (const auto& r : s.revocations) w.Str(r.type_code).U64(r.seq).I64(r.recorded_at);
  internal::WriteBlocks(w, s.blocks, s.unblocks);
  w.U32(static_cast<uint32_t>(s.justifications.size()));
  for (const auto& j : s.justifications)
    w.U8(static_cast<uint8_t>(j.channel))
        .Str(j.reason_code)
        .U64(j.seq)
        .I64(j.recorded_at)
        .I64(j.valid_until);
  w.U64(s.erased_seq).I64(s.erased_at);
  w.U32(static_cast<uint32_t>(s.reassignments.size()));
  for (const auto& a : s.reassignments) w.U64(a.seq).I64(a.recorded_at).I64(a.effective_from);
  w.U32(static_cast<uint32_t>(s.links.size()));
  for (const auto& l : s.links)
    w.U64(l.seq).I64(l.recorded_at).Raw(AsBytes(l.person)).U8(l.linked ? 1 : 0);
  return out;
}

const SubjectState::Link* SubjectState::PersonAt(TimeMs known_at) const {
  const Link* last = nullptr;
  for (const Link& l : links)
    if (l.recorded_at <= known_at) last = &l;
  return last != nullptr && last->linked ? last : nullptr;
}

Result<SubjectState> DecodeSubjectState(std::string_view bytes) {
  ByteReader r(bytes);
  SubjectState s;
  const uint8_t version = r.U8();
  if (version < 1 || version > kSubjectStateVersion)
    return Status::Corruption("subject projection: unknown record version");
  // Each count is bounded by the bytes left, so a damaged count cannot
  // allocate without limit.
  auto count = [&](size_t min_entry) -> size_t {
    uint32_t n = r.U32();
    return n <= bytes.size() / min_entry ? n : 0;
  };
  for (size_t n = count(32); n > 0 && !r.failed(); --n) {
    ConsentEntry c;
    c.type_code = r.Str();
    c.given_day = r.I32();
    c.effective_from = r.I64();
    c.expires_at = r.I64();
    c.seq = r.U64();
    c.recorded_at = r.I64();
    s.consents.push_back(std::move(c));
  }
  for (size_t n = count(20); n > 0 && !r.failed(); --n) {
    RevocationEntry v;
    v.type_code = r.Str();
    v.seq = r.U64();
    v.recorded_at = r.I64();
    s.revocations.push_back(std::move(v));
  }
  internal::ReadBlocks(r, bytes.size(), &s.blocks, &s.unblocks);
  for (size_t n = count(29); n > 0 && !r.failed(); --n) {
    JustificationEntry j;
    j.channel = static_cast<Channel>(r.U8());
    j.reason_code = r.Str();
    j.seq = r.U64();
    j.recorded_at = r.I64();
    j.valid_until = r.I64();
    s.justifications.push_back(std::move(j));
  }
  s.erased_seq = r.U64();
  s.erased_at = r.I64();
  if (version >= 2)
    for (size_t n = count(version >= 4 ? 24 : 16); n > 0 && !r.failed(); --n) {
      SubjectState::Reassignment a;
      a.seq = r.U64();
      a.recorded_at = r.I64();
      a.effective_from = version >= 4 ? r.I64() : a.recorded_at;
      s.reassignments.push_back(a);
    }
  if (version >= 3)
    for (size_t n = count(49); n > 0 && !r.failed(); --n) {
      SubjectState::Link l;
      l.seq = r.U64();
      l.recorded_at = r.I64();
      const std::string_view person = r.Raw(l.person.size());
      if (person.size() == l.person.size())
        std::memcpy(l.person.data(), person.data(), person.size());
      const uint8_t linked = r.U8();
      if (linked > 1)
        return Status::Corruption("subject projection: a link flag of " + std::to_string(linked) +
                                  " (only 0 or 1)");
      l.linked = linked == 1;
      s.links.push_back(l);
    }
  if (r.failed() || !r.done()) return Status::Corruption("subject projection: truncated record");
  return s;
}

ChannelPolicySet DefaultChannelPolicy() {
  ChannelPolicySet p;
  p.consent_required =
      MaskOf(Channel::kSms) | MaskOf(Channel::kEmail) | MaskOf(Channel::kNewsletter);
  p.justification_minutes = 30;
  return p;
}

namespace {
template <class T>
bool IsRetired(const T& v) {
  return v.retired;
}
bool IsRetired(const std::shared_ptr<const CallingHours>& h) { return h->definition().retired; }
}  // namespace

PolicyView PolicyAt(const PolicyHistory& h, TimeMs cut, TimeMs known_at) {
  PolicyView v;
  auto last = [cut](const auto& versions) -> decltype(&versions.front()) {
    decltype(&versions.front()) found = nullptr;
    for (const auto& x : versions)
      if (x.recorded_at <= cut) found = &x;
    return found;
  };
  for (const auto& [code, versions] : h.consent_types) {
    if (auto* x = last(versions)) {
      if (!x->value.retired) v.consent_types.emplace(code, *x);
    } else if (!versions.empty() && versions.front().recorded_at <= known_at &&
               !versions.front().value.retired) {
      v.consent_types.emplace(code, versions.front());  // defined after `cut`
    }
  }
  for (const auto& [code, versions] : h.reasons)
    if (auto* x = last(versions); x && !x->value.retired) v.reasons.emplace(code, *x);
  v.channel_policy.value = DefaultChannelPolicy();
  if (auto* x = last(h.channel_policy)) v.channel_policy = *x;
  // As for consent types: a registry first defined after `cut` but known by
  // `known_at` was there all along (the ledger learnt of it late).
  bool any_known = false;
  for (const auto& [name, versions] : h.registries) {
    if (versions.empty() || versions.front().recorded_at > known_at) continue;
    any_known = true;
    const RegistryVersion* x = last(versions);
    if (x == nullptr) x = &versions.front();
    if (!x->value->definition().retired) v.registries.emplace(name, *x);
  }
  auto in_force = [&](const auto& map, auto& out) {
    for (const auto& [name, versions] : map)
      if (auto* x = last(versions); x && !IsRetired(x->value)) out.emplace(name, *x);
  };
  in_force(h.outcomes, v.outcomes);
  in_force(h.calling_hours, v.calling_hours);
  in_force(h.caps, v.caps);
  in_force(h.callers, v.callers);
  in_force(h.campaigns, v.campaigns);
  for (const auto& [id, list] : h.lists)
    if (list.recorded_at <= cut) v.lists.emplace(id, list);
  if (h.outcomes.empty())
    for (OutcomeDefined& o : DefaultOutcomes()) {
      std::string code = o.code;  // (the value below moves o.code away)
      v.outcomes.emplace(std::move(code), Versioned<OutcomeDefined>{0, 0, std::move(o)});
    }
  if (!any_known) {
    static const std::shared_ptr<const Registry> built_in = [] {
      auto r = MakeRegistry(ItRpoDefinition());
      if (!r.ok()) std::abort();  // a tz database without Europe/Rome: nothing can be decided
      return std::move(r).value();
    }();
    v.registries.emplace(built_in->name(), RegistryVersion{0, 0, built_in});
  }
  return v;
}

const RoundTripRegistry* PolicyView::RoundTripCovering(const Subject& s, Channel channel) const {
  for (const auto& [name, v] : registries)
    if (v.value->kind() == RegistryKind::kRoundTrip && v.value->Covers(s, channel))
      return static_cast<const RoundTripRegistry*>(v.value.get());
  return nullptr;
}

const CallingHoursVersion* PolicyView::HoursCovering(std::string_view region,
                                                     Channel channel) const {
  for (const auto& [name, v] : calling_hours)
    if (v.value->Covers(region, channel)) return &v;
  return nullptr;
}

bool CapCovers(const FrequencyCapDefined& cap, std::string_view region, Channel channel,
               std::string_view campaign) {
  if ((cap.channels & MaskOf(channel)) == 0) return false;
  if (!cap.regions.empty() &&
      std::find(cap.regions.begin(), cap.regions.end(), region) == cap.regions.end())
    return false;
  return cap.campaigns.empty() ||
         std::find(cap.campaigns.begin(), cap.campaigns.end(), campaign) != cap.campaigns.end();
}

namespace {
// A cap's channel and region cover a decision, whatever its campaign.
bool CapReaches(const FrequencyCapDefined& cap, std::string_view region, Channel channel) {
  return (cap.channels & MaskOf(channel)) != 0 &&
         (cap.regions.empty() ||
          std::find(cap.regions.begin(), cap.regions.end(), region) != cap.regions.end());
}
}  // namespace

bool PolicyView::AnyCapCovers(std::string_view region, Channel channel) const {
  for (const auto& [name, v] : caps)
    if (CapReaches(v.value, region, channel)) return true;
  return false;
}

bool PolicyView::AnyPersonCapReaches(std::string_view region, Channel channel) const {
  for (const auto& [name, v] : caps)
    if (v.value.per == CapScope::kPerson && CapReaches(v.value, region, channel)) return true;
  return false;
}

TimeMs PolicyView::LongestCapReach(std::string_view region, Channel channel) const {
  TimeMs longest = 0;
  for (const auto& [name, v] : caps)
    if (CapReaches(v.value, region, channel))
      longest = std::max<TimeMs>(
          longest,
          static_cast<TimeMs>(std::max(v.value.window_hours, v.value.cool_down_hours)) * 3'600'000);
  return longest;
}

const CampaignDefined* PolicyView::Campaign(std::string_view code) const {
  auto it = campaigns.find(std::string(code));
  return it == campaigns.end() ? nullptr : &it->second.value;
}

std::vector<uint64_t> PolicyView::ListsOf(std::string_view campaign) const {
  std::vector<uint64_t> out;
  for (const auto& [id, list] : lists)
    if (list.value.campaign == campaign) out.push_back(id);
  return out;
}

std::vector<OutcomeDefined> DefaultOutcomes() {
  const ChannelMask phone = MaskOf(Channel::kVoice) | MaskOf(Channel::kSms);
  return {
      {"answered", "Answered", kOutcomeConnected, 0, false},
      {"busy", "Busy", 0, 0, false},
      {"do_not_call", "Asked not to be called again", kOutcomeConnected | kOutcomeRefusal, phone,
       false},
      {"no_answer", "No answer", 0, 0, false},
      {"refused", "Refused in the conversation", kOutcomeConnected | kOutcomeRefusal, 0, false},
      {"sale", "Sale", kOutcomeConnected, 0, false},
      {"voicemail", "Voicemail", 0, 0, false},
      {"wrong_number", "Wrong number: not the person's", kOutcomeConnected | kOutcomeWrongNumber, 0,
       false},
  };
}

namespace {
std::string Prefixed(char prefix, std::string_view code) {
  std::string k(1, prefix);
  k.append(code);
  return k;
}
}  // namespace

std::string PolicyTypeKey(std::string_view code) { return Prefixed('t', code); }
std::string PolicyReasonKey(std::string_view code) { return Prefixed('r', code); }
std::string PolicyRegistryKey(std::string_view name) { return Prefixed('g', name); }
std::string PolicyOutcomeKey(std::string_view code) { return Prefixed('o', code); }
std::string PolicyCallingHoursKey(std::string_view name) { return Prefixed('h', name); }
std::string PolicyCapKey(std::string_view name) { return Prefixed('f', name); }
std::string PolicyCallerKey(std::string_view number, std::string_view campaign) {
  std::string k = Prefixed('n', number);
  k.push_back('\0');
  k.append(campaign);
  return k;
}
std::string PolicyCampaignKey(std::string_view code) { return Prefixed('m', code); }
std::string PolicyListKey(uint64_t list_id) {
  std::string k = "l";
  ByteWriter(k).U64(list_id);
  return k;
}

std::string AppendPolicyVersion(std::string_view existing, uint64_t seq, TimeMs recorded_at,
                                const Payload& p) {
  std::string out(existing);
  std::string bytes = EncodePayload(p);
  uint16_t version =
      std::visit([](const auto& v) { return std::decay_t<decltype(v)>::kVersion; }, p);
  ByteWriter(out)
      .U64(seq)
      .I64(recorded_at)
      .U16(static_cast<uint16_t>(TypeOf(p)))
      .U16(version)
      .Str(bytes);
  return out;
}

Status LoadPolicyRecord(std::string_view key, std::string_view value, PolicyHistory* h) {
  ByteReader r(value);
  while (!r.done() && !r.failed()) {
    uint64_t seq = r.U64();
    TimeMs at = r.I64();
    auto type = static_cast<PayloadType>(r.U16());
    uint16_t version = r.U16();
    std::string bytes = r.Str();
    if (r.failed()) break;
    TACET_ASSIGN_OR_RETURN(Payload p, DecodePayload(type, version, bytes));
    if (auto* t = std::get_if<ConsentTypeDefined>(&p)) {
      h->consent_types[t->code].push_back({seq, at, std::move(*t)});
    } else if (auto* rd = std::get_if<ReasonDefined>(&p)) {
      h->reasons[rd->code].push_back({seq, at, std::move(*rd)});
    } else if (auto* c = std::get_if<ChannelPolicySet>(&p)) {
      h->channel_policy.push_back({seq, at, *c});
    } else if (auto* g = std::get_if<RegistryDefined>(&p)) {
      auto reg = MakeRegistry(*g);
      if (!reg.ok())
        return Status::Corruption("policy projection: seq " + std::to_string(seq) + ": " +
                                  reg.status().message());
      h->registries[g->name].push_back({seq, at, std::move(reg).value()});
    } else if (auto* o = std::get_if<OutcomeDefined>(&p)) {
      h->outcomes[o->code].push_back({seq, at, std::move(*o)});
    } else if (auto* ch = std::get_if<CallingHoursDefined>(&p)) {
      auto hours = CallingHours::Make(*ch);
      if (!hours.ok())
        return Status::Corruption("policy projection: seq " + std::to_string(seq) + ": " +
                                  hours.status().message());
      h->calling_hours[ch->name].push_back({seq, at, std::move(hours).value()});
    } else if (auto* f = std::get_if<FrequencyCapDefined>(&p)) {
      h->caps[f->name].push_back({seq, at, std::move(*f)});
    } else if (auto* n = std::get_if<CallerRegistered>(&p)) {
      h->callers[PolicyCallerKey(n->number, n->campaign)].push_back({seq, at, std::move(*n)});
    } else if (auto* m = std::get_if<CampaignDefined>(&p)) {
      h->campaigns[m->code].push_back({seq, at, std::move(*m)});
    } else if (auto* l = std::get_if<ListRegistered>(&p)) {
      const uint64_t id = l->list_id;
      h->lists[id] = {seq, at, std::move(*l)};
    } else {
      return Status::Corruption("policy projection: unexpected payload under key " +
                                std::string(key));
    }
  }
  if (r.failed())
    return Status::Corruption("policy projection: truncated record " + std::string(key));
  return Status::Ok();
}

}  // namespace tacet
