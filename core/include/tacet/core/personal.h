// The personal fields of an event (format 3), sealed under the subject's
// data key before the event is hashed (core/FORMAT.md, "Sealed fields"):
//
//   plaintext = u32 LE length ‖ subject (UTF-8) ‖ u32 LE length ‖ text (UTF-8)
//   aad       = "tacet-sealed-1" ‖ u16 LE payload type ‖ SubjectId (32)
//   sealed    = nonce (12) ‖ AES-256-GCM(data key, nonce, aad, plaintext) ‖ tag (16)
//
// `subject` is the canonical text the SubjectId names; `text` is the
// payload's free text (a consent's evidence, a block's or an unblock's
// reason, a revocation's reason; empty for a justification).
#pragma once

#include <string>
#include <string_view>

#include "tacet/core/event.h"
#include "tacet/core/sealed.h"
#include "tacet/core/status.h"

namespace tacet {

struct Personal {
  std::string subject;
  std::string text;
};

std::string SealedAad(PayloadType type, const SubjectId& id);
Result<std::string> SealPersonal(const DataKey& key, PayloadType type, const SubjectId& id,
                                 const Personal& fields);
// Corruption when the seal does not open with this key for this subject and
// type, or its plaintext is not the layout above.
Result<Personal> OpenPersonal(const DataKey& key, PayloadType type, const SubjectId& id,
                              std::string_view sealed);

// What a reader sees of an event's personal fields.
struct Disclosed {
  enum class State {
    kNone,    // the event carries no personal field
    kOpen,    // opened: `fields` holds them
    kErased,  // the subject's data key was destroyed
    kSealed,  // not opened: no key at hand (a reader without the key store)
  };
  State state = State::kNone;
  Personal fields;
};

}  // namespace tacet
