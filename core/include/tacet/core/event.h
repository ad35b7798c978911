// Events: the facts the ledger records, and their envelope.
//
// Every event has a dense sequence number from 1, the UTC time it was
// recorded, the actor that recorded it, a typed and versioned payload, and its
// place in the hash chain: hash = SHA-256(prev_hash || canonical body). The
// canonical encoding is in codec.h and documented in core/FORMAT.md.
//
// Payload structs are plain data with a serialize() template; the codec is
// the only file that instantiates them with cereal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tacet/core/clock.h"
#include "tacet/core/hash.h"
#include "tacet/core/time.h"

namespace tacet {

struct Actor {
  std::string os_user;      // the OS account that ran the command
  std::string operator_id;  // optional: the call-centre operator
  std::string tool;         // "tacet export", "tacetd", ...

  template <class A>
  void serialize(A& a) {
    a(os_user, operator_id, tool);
  }
};

// Payload type ids are stored; never renumber or reuse one.
enum class PayloadType : uint16_t {
  kExportSessionOpened = 1,
  kSessionNumber = 2,
  kReturnImported = 3,
  kRegistryResult = 4,
};

const char* PayloadTypeName(PayloadType t);

// An export session was written: the upload file for a registry, waiting for
// its return. Followed in the same batch by one SessionNumber per number.
struct ExportSessionOpened {
  static constexpr PayloadType kType = PayloadType::kExportSessionOpened;
  static constexpr uint16_t kVersion = 1;
  uint64_t session_id = 0;  // 1, 2, 3 ... per ledger
  std::string registry;     // "it-rpo"
  std::string file_name;    // "crm20260831101500.txt"
  Hash256 file_sha256{};
  std::string zip_name;
  Hash256 zip_sha256{};
  uint64_t number_count = 0;
  uint32_t fresh_days = 0;  // the --fresh-days in force
  uint64_t limit = 0;       // the --limit in force; 0 = none
  uint32_t part = 1;        // this file's place among the files of one export run
  uint32_t parts = 1;

  template <class A>
  void serialize(A& a) {
    a(session_id, registry, file_name, file_sha256, zip_name, zip_sha256, number_count, fresh_days,
      limit, part, parts);
  }
};

// One number of an export session, as written in the upload file.
struct SessionNumber {
  static constexpr PayloadType kType = PayloadType::kSessionNumber;
  static constexpr uint16_t kVersion = 1;
  uint64_t session_id = 0;
  std::string registry;
  std::string subject;   // E.164
  std::string national;  // the line of the upload file

  template <class A>
  void serialize(A& a) {
    a(session_id, registry, subject, national);
  }
};

enum class ReturnLayout : uint8_t { kFiltered = 1, kStatus = 2 };

// A registry's return for an export session was imported. Followed in the
// same batch by one RegistryResult per number of the session.
struct ReturnImported {
  static constexpr PayloadType kType = PayloadType::kReturnImported;
  static constexpr uint16_t kVersion = 1;
  uint64_t session_id = 0;
  std::string registry;
  std::string file_name;
  Hash256 file_sha256{};  // of the .txt content, whether it came alone or zipped
  Day received_day = 0;
  ReturnLayout layout = ReturnLayout::kFiltered;
  uint64_t cleared = 0;
  uint64_t listed = 0;
  uint32_t validity_days = 0;  // the registry window in force
  bool supersedes = false;     // replaces an earlier return of the session

  template <class A>
  void serialize(A& a) {
    a(session_id, registry, file_name, file_sha256, received_day, layout, cleared, listed,
      validity_days, supersedes);
  }
};

enum class RegistryOutcome : uint8_t { kCleared = 1, kListed = 2 };

// What a registry said about one number. Effective from the start of the
// received day; a clearance ends at valid_until (exclusive).
struct RegistryResult {
  static constexpr PayloadType kType = PayloadType::kRegistryResult;
  static constexpr uint16_t kVersion = 1;
  uint64_t session_id = 0;
  std::string registry;
  std::string subject;  // E.164
  RegistryOutcome outcome = RegistryOutcome::kListed;
  Day received_day = 0;
  TimeMs effective_from = 0;
  TimeMs valid_until = 0;  // kCleared only; 0 for kListed

  template <class A>
  void serialize(A& a) {
    a(session_id, registry, subject, outcome, received_day, effective_from, valid_until);
  }
};

using Payload = std::variant<ExportSessionOpened, SessionNumber, ReturnImported, RegistryResult>;

PayloadType TypeOf(const Payload& p);
// The subject an event is about, or empty: feeds the per-subject index.
std::string_view SubjectOf(const Payload& p);

struct Event {
  uint64_t seq = 0;
  TimeMs recorded_at = 0;
  Actor actor;
  PayloadType type{};
  uint16_t version = 0;
  std::string payload;  // canonical payload bytes
  Hash256 prev_hash{};
  Hash256 hash{};
};

}  // namespace tacet
