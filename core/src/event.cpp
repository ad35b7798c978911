#include "tacet/core/event.h"

namespace tacet {

const char* PayloadTypeName(PayloadType t) {
  switch (t) {
    case PayloadType::kExportSessionOpened:
      return "export_session_opened";
    case PayloadType::kSessionNumber:
      return "session_number";
    case PayloadType::kReturnImported:
      return "return_imported";
    case PayloadType::kRegistryResult:
      return "registry_result";
  }
  return "unknown";
}

PayloadType TypeOf(const Payload& p) {
  return std::visit([](const auto& v) { return std::decay_t<decltype(v)>::kType; }, p);
}

std::string_view SubjectOf(const Payload& p) {
  if (auto* n = std::get_if<SessionNumber>(&p)) return n->subject;
  if (auto* r = std::get_if<RegistryResult>(&p)) return r->subject;
  return {};
}

}  // namespace tacet
