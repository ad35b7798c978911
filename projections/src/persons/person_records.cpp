// Ledger::LoadPersons: the persons a batch of decisions reads (issue 18).
#include <algorithm>

#include "tacet/projections/ledger.h"

namespace tacet {

Status Ledger::LoadPersons(std::vector<PersonId> wanted, TimeMs known_at,
                           PersonRecords* out) const {
  // A round of point lookups per step of the merges: one for the usual
  // person without merges, two for a merged pair. Each person is read once,
  // so the walk ends with what was recorded.
  std::vector<std::string> keys;
  std::vector<PersonId> asked;
  Status bad;
  while (!wanted.empty()) {
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    std::erase_if(wanted, [&](const PersonId& id) { return out->contains(id); });
    if (wanted.empty()) break;
    keys.clear();
    for (const PersonId& id : wanted) keys.push_back(PersonKey(id));
    asked.swap(wanted);
    wanted.clear();
    for (const PersonId& id : asked) (*out)[id];  // read: absent or not, not asked again
    TACET_RETURN_IF_ERROR(
        log_->MultiGet(projector_.person_family(), keys, [&](size_t i, std::string_view v) {
          Result<PersonState> st = DecodePersonState(v);
          if (!st.ok()) {
            if (bad.ok()) bad = st.status();
            return;
          }
          for (const PersonState::Edge& e : st->edges)
            if (e.recorded_at <= known_at) wanted.push_back(e.other);
          (*out)[asked[i]] = std::move(st).value();
        }));
    TACET_RETURN_IF_ERROR(bad);
  }
  // Persons with nothing recorded stay as empty records: harmless to the
  // rules, and the map says they were read.
  return Status::Ok();
}

}  // namespace tacet
