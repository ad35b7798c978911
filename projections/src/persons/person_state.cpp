// The p_person record (person_state.h).
#include "tacet/projections/person_state.h"

#include <algorithm>
#include <cstring>

#include "../../internal/block_entries.h"
#include "../../internal/bytes.h"
#include "tacet/core/codec.h"

namespace tacet {

using internal::ByteReader;
using internal::ByteWriter;

namespace {
constexpr uint8_t kPersonStateVersion = 1;

// The last entry per key among those recorded by `known_at`, kept when
// `keep` says so; entries come in seq order.
template <class Entry, class Key, class Keep>
std::vector<const Entry*> LastPerKey(const std::vector<Entry>& entries, TimeMs known_at, Key key,
                                     Keep keep) {
  std::vector<const Entry*> last;
  for (const Entry& e : entries) {
    if (e.recorded_at > known_at) continue;
    auto it =
        std::find_if(last.begin(), last.end(), [&](const Entry* l) { return key(*l) == key(e); });
    if (it == last.end()) {
      last.push_back(&e);
    } else {
      *it = &e;
    }
  }
  std::erase_if(last, [&](const Entry* e) { return !keep(*e); });
  return last;
}
}  // namespace

std::vector<const PersonState::Edge*> PersonState::MergedAt(TimeMs known_at) const {
  return LastPerKey(
      edges, known_at, [](const Edge& e) { return e.other; },
      [](const Edge& e) { return e.merged; });
}

std::vector<const PersonState::Link*> PersonState::SubjectsAt(TimeMs known_at) const {
  return LastPerKey(
      links, known_at, [](const Link& l) { return l.subject; },
      [](const Link& l) { return l.linked; });
}

std::vector<GroupMember> GroupAt(const PersonRecords& persons, const PersonId& first, TimeMs cut) {
  std::vector<GroupMember> group(1);
  group[0].id = &first;
  for (size_t i = 0; i < group.size(); ++i) {
    auto it = persons.find(*group[i].id);
    if (it == persons.end()) continue;
    group[i].state = &it->second;
    for (const PersonState::Edge* e : it->second.MergedAt(cut)) {
      const bool seen = std::any_of(group.begin(), group.end(),
                                    [&](const GroupMember& m) { return *m.id == e->other; });
      if (seen) continue;
      GroupMember next;
      next.id = &e->other;
      next.via = group[i].via;
      next.via.push_back(e->seq);
      group.push_back(std::move(next));
    }
  }
  return group;
}

std::string PersonKey(const PersonId& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), id.size());
}

std::string EncodePersonState(const PersonState& s) {
  std::string out;
  ByteWriter w(out);
  w.U8(kPersonStateVersion);
  w.U32(static_cast<uint32_t>(s.links.size()));
  for (const auto& l : s.links)
    w.U64(l.seq).I64(l.recorded_at).Raw(AsBytes(l.subject)).U8(l.linked ? 1 : 0);
  w.U32(static_cast<uint32_t>(s.edges.size()));
  for (const auto& e : s.edges)
    w.U64(e.seq).I64(e.recorded_at).Raw(AsBytes(e.other)).U8(e.merged ? 1 : 0);
  internal::WriteBlocks(w, s.blocks, s.unblocks);
  return out;
}

Result<PersonState> DecodePersonState(std::string_view bytes) {
  ByteReader r(bytes);
  PersonState s;
  if (r.U8() != kPersonStateVersion)
    return Status::Corruption("person projection: unknown record version");
  // Each entry is 49 bytes: a damaged count cannot allocate without limit.
  auto count = [&]() -> size_t {
    const uint32_t n = r.U32();
    return n <= bytes.size() / 49 ? n : 0;
  };
  auto id = [&](Hash256& out) {
    const std::string_view raw = r.Raw(out.size());
    if (raw.size() == out.size()) std::memcpy(out.data(), raw.data(), raw.size());
  };
  auto flag = [&](bool* out) -> bool {
    const uint8_t v = r.U8();
    *out = v == 1;
    return v <= 1;
  };
  for (size_t n = count(); n > 0 && !r.failed(); --n) {
    PersonState::Link l;
    l.seq = r.U64();
    l.recorded_at = r.I64();
    id(l.subject);
    if (!flag(&l.linked)) return Status::Corruption("person projection: a link flag not 0 or 1");
    s.links.push_back(l);
  }
  for (size_t n = count(); n > 0 && !r.failed(); --n) {
    PersonState::Edge e;
    e.seq = r.U64();
    e.recorded_at = r.I64();
    id(e.other);
    if (!flag(&e.merged)) return Status::Corruption("person projection: a merge flag not 0 or 1");
    s.edges.push_back(e);
  }
  internal::ReadBlocks(r, bytes.size(), &s.blocks, &s.unblocks);
  if (r.failed() || !r.done()) return Status::Corruption("person projection: truncated record");
  return s;
}

}  // namespace tacet
