// The rules of the decision pipeline (rules.h).
#include "tacet/projections/rules.h"

#include <algorithm>

namespace tacet {
namespace {

void AddAfter(TimeMs at, TimeMs t, std::vector<TimeMs>* out) {
  if (t > at && t != 0) out->push_back(t);
}

}  // namespace

Facts FactsOf(const DecisionInput& in) {
  static const SubjectState kNothing;
  Facts f{in, std::min(in.at, in.known_at), in.subject_state ? *in.subject_state : kNothing,
          *in.policy, nullptr};
  for (const ConsentEntry& c : f.self.consents) {
    if (c.recorded_at > in.known_at || c.effective_from > in.at) continue;
    if (c.expires_at != 0 && in.at >= c.expires_at) continue;
    auto type = f.policy.consent_types.find(c.type_code);
    if (type == f.policy.consent_types.end() || (type->second.value.uses & UseOf(in.channel)) == 0)
      continue;
    const bool revoked = std::any_of(
        f.self.revocations.begin(), f.self.revocations.end(), [&](const RevocationEntry& r) {
          return r.type_code == c.type_code && r.seq > c.seq && r.recorded_at <= f.cut;
        });
    if (revoked) continue;
    // A wrong number: the consents given for it were someone else's.
    const bool reassigned = std::any_of(f.self.reassignments.begin(), f.self.reassignments.end(),
                                        [&](const SubjectState::Reassignment& r) {
                                          return r.seq > c.seq && r.recorded_at <= in.known_at &&
                                                 r.effective_from <= in.at;
                                        });
    if (reassigned) continue;
    if (f.consent == nullptr || c.given_day > f.consent->given_day) f.consent = &c;
  }
  return f;
}

// ---------------------------------------------------------------- erased

Step ErasedRule::Apply(const Facts& f, Explainer& x) const {
  if (f.self.erased_seq == 0 || f.self.erased_at > f.cut) return Step::kContinue;
  x.Add("erased", [] { return "the subject's personal data was erased on request"; },
        {f.self.erased_seq});
  return Step::kDeny;
}

// Every rule's moments come from the records known at the decision's
// cut-off (recorded by known_at): a record recorded later cannot change an
// answer as known then, and a moment of its would make that answer's
// valid_until depend on what was recorded afterwards.

void ErasedRule::Moments(const Facts& f, std::vector<TimeMs>* out) const {
  if (f.self.erased_seq != 0 && f.self.erased_at <= f.in.known_at)
    AddAfter(f.in.at, f.self.erased_at, out);
}

// ---------------------------------------------------------------- block

Step BlockRule::Apply(const Facts& f, Explainer& x) const {
  std::vector<uint64_t> blocks = ActiveBlocks(f.self, f.in.channel, f.cut);
  if (blocks.empty()) return Step::kContinue;
  x.Add(
      "blocked", [] { return "on the internal do-not-call list"; }, std::move(blocks));
  return Step::kDeny;
}

void BlockRule::Moments(const Facts& f, std::vector<TimeMs>* out) const {
  for (const auto& b : f.self.blocks)
    if (b.recorded_at <= f.in.known_at) AddAfter(f.in.at, b.recorded_at, out);
  for (const auto& u : f.self.unblocks)
    if (u.recorded_at <= f.in.known_at) AddAfter(f.in.at, u.recorded_at, out);
}

// ---------------------------------------------------------------- person block

Step PersonBlockRule::Apply(const Facts& f, Explainer& x) const {
  if (f.in.persons == nullptr) return Step::kContinue;
  const SubjectState::Link* link = f.self.PersonAt(f.cut);
  if (link == nullptr) return Step::kContinue;
  for (const GroupMember& m : GroupAt(*f.in.persons, link->person, f.cut)) {
    if (m.state == nullptr) continue;
    std::vector<uint64_t> blocks =
        ActiveBlocks(m.state->blocks, m.state->unblocks, f.in.channel, f.cut);
    if (blocks.empty()) continue;
    const uint64_t first = blocks.front();
    const auto entry = std::find_if(m.state->blocks.begin(), m.state->blocks.end(),
                                    [&](const BlockEntry& b) { return b.seq == first; });
    blocks.push_back(link->seq);
    blocks.insert(blocks.end(), m.via.begin(), m.via.end());
    x.Add(
        "person_blocked",
        [&] {
          return "the person this number belongs to is on the internal do-not-call list "
                 "(source " +
                 entry->source + (m.via.empty() ? ")" : ", through a merge)");
        },
        std::move(blocks));
    return Step::kDeny;
  }
  return Step::kContinue;
}

void PersonBlockRule::Moments(const Facts& f, std::vector<TimeMs>* out) const {
  if (f.in.persons == nullptr) return;
  // The persons this subject's answer may turn on: those it was linked to,
  // and those merged with them (in force or split since), by known_at. A
  // batch shares one map of persons: the others' are not this answer's.
  std::vector<const PersonId*> reached;
  auto reach = [&](const PersonId& id) {
    if (std::none_of(reached.begin(), reached.end(), [&](const PersonId* r) { return *r == id; }))
      reached.push_back(&id);
  };
  for (const auto& l : f.self.links)
    if (l.recorded_at <= f.in.known_at) {
      AddAfter(f.in.at, l.recorded_at, out);
      reach(l.person);
    }
  for (size_t i = 0; i < reached.size(); ++i) {
    auto it = f.in.persons->find(*reached[i]);
    if (it == f.in.persons->end()) continue;
    const PersonState& person = it->second;
    for (const auto& e : person.edges)
      if (e.recorded_at <= f.in.known_at) {
        AddAfter(f.in.at, e.recorded_at, out);
        reach(e.other);
      }
    for (const auto& b : person.blocks)
      if (b.recorded_at <= f.in.known_at) AddAfter(f.in.at, b.recorded_at, out);
    for (const auto& u : person.unblocks)
      if (u.recorded_at <= f.in.known_at) AddAfter(f.in.at, u.recorded_at, out);
  }
}

// ---------------------------------------------------------------- provenance

Step ProvenanceRule::Apply(const Facts& f, Explainer& x) const {
  if (f.in.campaign.empty()) return Step::kContinue;
  std::vector<uint64_t> seqs;
  for (const ListMembership& m : f.in.lists)
    if (m.recorded_at <= f.cut) seqs.push_back(m.seq);
  if (!seqs.empty()) {
    x.Add(
        "on_list",
        [&] {
          std::string lists;
          for (const ListMembership& m : f.in.lists) {
            if (m.recorded_at > f.cut) continue;
            auto it = f.policy.lists.find(m.list_id);
            if (!lists.empty()) lists += ", ";
            lists += "list " + std::to_string(m.list_id);
            if (it != f.policy.lists.end()) lists += " from " + it->second.value.supplier;
          }
          return "the number is on " + lists + " of campaign " + std::string(f.in.campaign);
        },
        std::move(seqs));
    return Step::kContinue;
  }
  auto campaign = f.policy.campaigns.find(std::string(f.in.campaign));
  if (campaign == f.policy.campaigns.end() || !campaign->second.value.requires_provenance)
    return Step::kContinue;
  x.Add("no_provenance",
        [&] {
          return "campaign " + std::string(f.in.campaign) +
                 " requires provenance and the number is on none of its registered lists";
        },
        {campaign->second.seq});
  return Step::kDeny;
}

void ProvenanceRule::Moments(const Facts& f, std::vector<TimeMs>* out) const {
  for (const ListMembership& m : f.in.lists) AddAfter(f.in.at, m.recorded_at, out);
}

// ---------------------------------------------------------------- calling hours

namespace {

const char* DayTypeName(DayType t) {
  switch (t) {
    case DayType::kWeekday:
      return "a weekday";
    case DayType::kSaturday:
      return "a Saturday";
    case DayType::kPreHoliday:
      return "the day before a holiday";
    case DayType::kSunday:
      return "a Sunday";
    case DayType::kHoliday:
      return "a holiday";
  }
  return "a day";
}

}  // namespace

Step CallingHoursRule::Apply(const Facts& f, Explainer& x) const {
  const CallingHoursVersion* hours = f.policy.HoursCovering(f.in.region, f.in.channel);
  if (hours == nullptr || hours->value->OpenAt(f.in.at)) return Step::kContinue;
  const CallingHours& h = *hours->value;
  std::vector<uint64_t> seqs;
  if (hours->seq != 0) seqs.push_back(hours->seq);
  x.Add(
      "outside_calling_hours",
      [&] {
        return "outside the calling hours of " + h.name() + ": " + h.zone().Format(f.in.at) +
               " is on " + DayTypeName(h.TypeOf(h.zone().DayOf(f.in.at)));
      },
      std::move(seqs));
  return Step::kDeny;
}

void CallingHoursRule::Moments(const Facts& f, std::vector<TimeMs>* out) const {
  if (const CallingHoursVersion* hours = f.policy.HoursCovering(f.in.region, f.in.channel))
    AddAfter(f.in.at, hours->value->NextChange(f.in.at), out);
}

// ---------------------------------------------------------------- frequency caps

namespace {

// Whether an attempt counts for a cap at all (its channel, its campaign,
// recorded by known_at, started by `at`).
bool Counts(const FrequencyCapDefined& cap, const AttemptEntry& a, const Facts& f) {
  return (cap.channels & MaskOf(a.channel)) != 0 && a.recorded_at <= f.in.known_at &&
         a.started_at <= f.in.at &&
         (cap.campaigns.empty() ||
          std::find(cap.campaigns.begin(), cap.campaigns.end(), a.campaign) != cap.campaigns.end());
}

constexpr TimeMs kMsPerHour = 3'600'000;

}  // namespace

namespace {

// Whether a cap counts the person's attempts here (issue 18): it counts per
// person, and the subject has a person.
bool PerPerson(const FrequencyCapDefined& cap, const Facts& f) {
  return cap.per == CapScope::kPerson && f.in.person_attempts != nullptr;
}

// The attempts a cap counts: the subject's, or its person's.
const std::vector<AttemptEntry>* AttemptsFor(const FrequencyCapDefined& cap, const Facts& f) {
  return PerPerson(cap, f) ? f.in.person_attempts : f.in.attempts;
}

// The evidence of a cap's answer beyond the attempts and the cap: the
// links and merges that made the person's attempts count.
void AddGroupEvidence(const FrequencyCapDefined& cap, const Facts& f, std::vector<uint64_t>* seqs) {
  if (PerPerson(cap, f))
    seqs->insert(seqs->end(), f.in.person_evidence.begin(), f.in.person_evidence.end());
}

}  // namespace

Step FrequencyCapRule::Apply(const Facts& f, Explainer& x) const {
  if (f.in.attempts == nullptr) return Step::kContinue;
  for (const auto& [cap_name, v] : f.policy.caps) {
    const std::string& name = cap_name;  // (a lambda cannot capture a structured binding)
    const FrequencyCapDefined& cap = v.value;
    if (!CapCovers(cap, f.in.region, f.in.channel, f.in.campaign)) continue;
    if (cap.waived_by_consent && f.consent != nullptr) continue;
    const std::vector<AttemptEntry>& attempts = *AttemptsFor(cap, f);
    const TimeMs cool = static_cast<TimeMs>(cap.cool_down_hours) * kMsPerHour;
    const AttemptEntry* refusal = nullptr;
    for (const AttemptEntry& a : attempts)
      if (cool > 0 && (a.effects & kOutcomeRefusal) != 0 && Counts(cap, a, f) &&
          a.started_at > f.in.at - cool)
        refusal = &a;  // the latest: attempts come by start
    if (refusal != nullptr) {
      std::vector<uint64_t> seqs{refusal->seq};
      if (v.seq != 0) seqs.push_back(v.seq);
      AddGroupEvidence(cap, f, &seqs);
      x.Add(
          "cool_down",
          [&] {
            return "a refusal on " + FormatUtc(refusal->started_at) + " (seq " +
                   std::to_string(refusal->seq) + ") starts " +
                   std::to_string(cap.cool_down_hours / 24) + " days of silence under " + name;
          },
          std::move(seqs));
      return Step::kDeny;
    }
    if (cap.max_attempts == 0) continue;
    const TimeMs window = static_cast<TimeMs>(cap.window_hours) * kMsPerHour;
    std::vector<uint64_t> counted;
    for (const AttemptEntry& a : attempts)
      if (Counts(cap, a, f) && a.started_at > f.in.at - window) counted.push_back(a.seq);
    if (counted.size() < cap.max_attempts) continue;
    const size_t n = counted.size();
    if (v.seq != 0) counted.push_back(v.seq);
    AddGroupEvidence(cap, f, &counted);
    x.Add(
        "frequency_cap",
        [&] {
          return std::to_string(n) + " attempts in the last " + std::to_string(cap.window_hours) +
                 " hours: at most " + std::to_string(cap.max_attempts) + " under " + name;
        },
        std::move(counted));
    return Step::kDeny;
  }
  return Step::kContinue;
}

void FrequencyCapRule::Moments(const Facts& f, std::vector<TimeMs>* out) const {
  if (f.in.attempts == nullptr) return;
  for (const auto& [name, v] : f.policy.caps) {
    const FrequencyCapDefined& cap = v.value;
    if (!CapCovers(cap, f.in.region, f.in.channel, f.in.campaign)) continue;
    for (const AttemptEntry& a : *AttemptsFor(cap, f)) {
      if ((cap.channels & MaskOf(a.channel)) == 0 || a.recorded_at > f.in.known_at) continue;
      AddAfter(f.in.at, a.started_at + static_cast<TimeMs>(cap.window_hours) * kMsPerHour, out);
      if ((a.effects & kOutcomeRefusal) != 0)
        AddAfter(f.in.at, a.started_at + static_cast<TimeMs>(cap.cool_down_hours) * kMsPerHour,
                 out);
    }
  }
}

// ---------------------------------------------------------------- registry

Step RoundTripRegistryRule::Apply(const Facts& f, Explainer& x) const {
  const DecisionInput& in = f.in;
  const bool full = x.level() == Explain::kFull;
  const std::string registry(full ? in.registry : std::string_view());
  if (!in.registry_applies) {
    if (InfoOf(in.channel).reaches_phone)
      x.Add("registry_out_of_scope",
            [&] {
              return std::string("no registry in force covers ") + ChannelName(in.channel) +
                     " to this number (not of its regions, or not on its channels)";
            },
            {});
    return Step::kContinue;
  }
  const RegistryEntry* e = in.registry_state ? in.registry_state->At(in.at, in.known_at) : nullptr;
  if (e == nullptr) {
    x.Add("registry_unchecked", [&] { return "never checked against " + registry; }, {});
    return Step::kDeny;
  }
  const ConsentEntry* consent = f.consent;
  if (e->outcome == RegistryOutcome::kListed) {
    auto listed = [&] {
      return "listed in " + registry + " (return received " + FormatDate(e->received_day);
    };
    if (consent != nullptr && consent->given_day > e->received_day) {
      x.consent_cited = true;
      x.Add("registry_listed_consent_after_listing",
            [&] {
              return listed() + "), but consent " + consent->type_code +
                     " was given after it, on " + FormatDate(consent->given_day);
            },
            {e->seq, consent->seq});
      return Step::kContinue;
    }
    if (consent != nullptr) {
      x.Add("registry_listed",
            [&] {
              return listed() + "); the consent given " + FormatDate(consent->given_day) +
                     " predates the listing and does not count";
            },
            {e->seq, consent->seq});
    } else {
      x.Add("registry_listed", [&] { return listed() + ")"; }, {e->seq});
    }
    return Step::kDeny;
  }
  if (in.at >= e->valid_until) {
    x.Add("registry_expired",
          [&] {
            return "the " + registry + " clearance of the return received " +
                   FormatDate(e->received_day) + " (session " + std::to_string(e->session_id) +
                   ") has ended";
          },
          {e->seq});
    return Step::kDeny;
  }
  x.Add("registry_cleared",
        [&] {
          return "cleared by " + registry + " (return received " + FormatDate(e->received_day) +
                 ", session " + std::to_string(e->session_id) + ")";
        },
        {e->seq});
  return Step::kContinue;
}

void RoundTripRegistryRule::Moments(const Facts& f, std::vector<TimeMs>* out) const {
  if (!f.in.registry_applies || f.in.registry_state == nullptr) return;
  for (const auto& e : f.in.registry_state->entries) {
    if (e.recorded_at > f.in.known_at) continue;
    AddAfter(f.in.at, e.effective_from, out);
    AddAfter(f.in.at, e.valid_until, out);
  }
}

// ---------------------------------------------------------------- consent

Step ConsentRule::Apply(const Facts& f, Explainer& x) const {
  const Channel channel = f.in.channel;
  if (f.consent != nullptr) {
    if (!x.consent_cited) {
      const ConsentEntry* c = f.consent;
      x.Add("consent_valid",
            [&] { return "consent " + c->type_code + " given " + FormatDate(c->given_day); },
            {c->seq});
    }
    return Step::kAllow;
  }
  const bool always = InfoOf(channel).always_needs_consent;
  const bool required =
      always || (f.policy.channel_policy.value.consent_required & MaskOf(channel)) != 0;
  if (!required) {
    auto why = [&] { return std::string(ChannelName(channel)) + " needs no consent"; };
    if (f.policy.channel_policy.seq != 0) {
      x.Add("consent_not_required", why, {f.policy.channel_policy.seq});
    } else {
      x.Add("consent_not_required", why, {});
    }
    return Step::kAllow;
  }
  if (always) {
    x.Add("consent_missing",
          [&] {
            return std::string("a ") + ChannelName(channel) +
                   " goes only to subjects with a valid consent";
          },
          {});
    return Step::kDeny;
  }
  return Step::kContinue;
}

void ConsentRule::Moments(const Facts& f, std::vector<TimeMs>* out) const {
  for (const auto& c : f.self.consents) {
    if (c.recorded_at > f.in.known_at) continue;
    AddAfter(f.in.at, c.effective_from, out);
    AddAfter(f.in.at, c.expires_at, out);
    AddAfter(f.in.at, c.recorded_at, out);
  }
  for (const auto& r : f.self.revocations)
    if (r.recorded_at <= f.in.known_at) AddAfter(f.in.at, r.recorded_at, out);
}

// ---------------------------------------------------------------- justification

Step JustificationRule::Apply(const Facts& f, Explainer& x) const {
  for (const JustificationEntry& j : f.self.justifications) {
    if (j.channel != f.in.channel || j.recorded_at > f.cut || f.in.at >= j.valid_until) continue;
    x.Add("justified", [&] { return "contact justified: " + j.reason_code; }, {j.seq});
    return Step::kAllow;
  }
  x.Add("consent_missing",
        [&] { return "no valid consent for " + std::string(ChannelName(f.in.channel)); }, {});
  if (x.level() != Explain::kVerdict)
    for (const auto& [code, r] : f.policy.reasons) x.allowed_reasons().push_back(code);
  return Step::kNeedsJustification;
}

void JustificationRule::Moments(const Facts& f, std::vector<TimeMs>* out) const {
  for (const auto& j : f.self.justifications) {
    if (j.recorded_at > f.in.known_at) continue;
    AddAfter(f.in.at, j.recorded_at, out);
    AddAfter(f.in.at, j.valid_until, out);
  }
}

std::span<const Rule* const> DefaultRules() {
  static const ErasedRule erased;
  static const BlockRule block;
  static const PersonBlockRule person_block;
  static const ProvenanceRule provenance;
  static const CallingHoursRule hours;
  static const FrequencyCapRule caps;
  static const RoundTripRegistryRule registry;
  static const ConsentRule consent;
  static const JustificationRule justification;
  static const Rule* const rules[] = {&erased, &block,    &person_block, &provenance,   &hours,
                                      &caps,   &registry, &consent,      &justification};
  return rules;
}

}  // namespace tacet
