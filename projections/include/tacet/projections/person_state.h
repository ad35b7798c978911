// Persons (issue 18): the family p_person, one record per person of the
// CRM, keyed by its PersonId: the subjects linked to it and unlinked from
// it, its merges with other persons and its own blocks, in seq order. A decision reads it
// to find the group a subject's person belongs to at its cut-off. Layout:
// projections/FORMAT.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tacet/core/clock.h"
#include "tacet/core/event.h"
#include "tacet/core/status.h"
#include "tacet/core/subject_id.h"
#include "tacet/projections/subject_state.h"

namespace tacet {

inline constexpr const char* kPersonFamily = "p_person";

struct PersonState {
  // A subject joined (person_linked) or left (person_unlinked, or a link
  // of the subject to another person: `seq` is that event's).
  struct Link {
    uint64_t seq = 0;
    TimeMs recorded_at = 0;
    SubjectId subject{};
    bool linked = true;
  };
  // A merge with `other` (persons_merged, either side) or its undoing
  // (persons_split).
  struct Edge {
    uint64_t seq = 0;
    TimeMs recorded_at = 0;
    PersonId other{};
    bool merged = true;
  };
  std::vector<Link> links;
  std::vector<Edge> edges;
  // The person's own blocks (person_blocked) and their lifting
  // (person_unblocked), as a subject's.
  std::vector<BlockEntry> blocks;
  std::vector<UnblockEntry> unblocks;

  // The persons merged with this one at cut-off K: for each other person,
  // its last edge recorded by K is a merge.
  std::vector<const Edge*> MergedAt(TimeMs known_at) const;
  // The subjects linked to this person at K (by this record alone).
  std::vector<const Link*> SubjectsAt(TimeMs known_at) const;
};

// Persons read for decisions, by PersonId (a person with nothing recorded:
// an empty record, or absent).
using PersonRecords = std::map<PersonId, PersonState>;

// A person of a group, with the seqs of the merges that joined it to the
// group's first (none for the first).
struct GroupMember {
  const PersonId* id = nullptr;
  const PersonState* state = nullptr;  // null: nothing recorded or not read
  std::vector<uint64_t> via;
};
// The persons one with `first` at cut-off `cut`: `first`, then every person
// merged with a member by merges in force at the cut, breadth first.
std::vector<GroupMember> GroupAt(const PersonRecords& persons, const PersonId& first, TimeMs cut);

std::string PersonKey(const PersonId& id);
std::string EncodePersonState(const PersonState& s);
Result<PersonState> DecodePersonState(std::string_view bytes);

}  // namespace tacet
