// Proof files: a signed checkpoint, events, and each event's inclusion
// proof, so that someone holding only the ledger's public key can check that
// these events are in the log the checkpoint signs. The format (JSON,
// "tacet-proof-2") is in projections/FORMAT.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tacet/core/event.h"
#include "tacet/core/note.h"
#include "tacet/core/status.h"
#include "tacet/projections/ledger.h"

namespace tacet {

struct ProofRequest {
  std::string subject;  // every event about the subject (as written; parsed)
  uint64_t seq = 0;     // or this one event
  // Or every event about a person of the CRM (its id) and about each
  // subject ever linked to it (issue 18).
  std::string person = {};
};

// The proof file of the request, against the latest checkpoint. Events
// newer than that checkpoint are listed as "pending" (a checkpoint covers
// them within the configured interval). FailedPrecondition when the ledger
// has no checkpoint yet; NotFound for an unknown seq.
Result<nlohmann::json> MakeProof(const Ledger& ledger, const ProofRequest& req);

struct ProvenEvent {
  Event event;  // from the proven body (prev_hash and hash are not part of it)
  Payload payload;
  Disclosed personal;  // its sealed fields, opened with the file's data key
};
// A subject of a person's proof file.
struct ProofSubject {
  SubjectId id{};
  std::string subject;  // its canonical text when the file names it
  bool erased = false;
};
struct ProofCheck {
  note::Checkpoint checkpoint;
  std::string subject;  // empty when the file is about one seq, or a person
  std::optional<SubjectId> subject_id;
  bool erased = false;  // the file says the subject's data key is destroyed
  // A person's file (issue 18): its CRM id and PersonId, and its subjects.
  std::string person;
  std::optional<PersonId> person_id;
  std::vector<ProofSubject> subjects;
  std::vector<ProvenEvent> events;
  std::vector<uint64_t> pending;
};

// Checks a proof file with nothing but the public key: the checkpoint's
// signature and origin, each event body's inclusion proof against the
// checkpoint's root and size, and that each event is the seq and subject it
// claims; with the file's data key, that every sealed field opens and names
// the file's subject. InvalidArgument naming the first fault (field, seq).
Result<ProofCheck> VerifyProof(std::string_view file, const note::Verifier& key);

}  // namespace tacet
