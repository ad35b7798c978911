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
    case PayloadType::kConsentTypeDefined:
      return "consent_type_defined";
    case PayloadType::kReasonDefined:
      return "reason_defined";
    case PayloadType::kChannelPolicySet:
      return "channel_policy_set";
    case PayloadType::kConsentGranted:
      return "consent_granted";
    case PayloadType::kConsentRevoked:
      return "consent_revoked";
    case PayloadType::kBlocked:
      return "blocked";
    case PayloadType::kUnblocked:
      return "unblocked";
    case PayloadType::kJustified:
      return "justified";
    case PayloadType::kErased:
      return "erased";
    case PayloadType::kRegistryDefined:
      return "registry_defined";
  }
  return "unknown";
}

const char* ChannelName(Channel c) {
  switch (c) {
    case Channel::kVoice:
      return "voice";
    case Channel::kSms:
      return "sms";
    case Channel::kEmail:
      return "email";
    case Channel::kNewsletter:
      return "newsletter";
  }
  return "unknown";
}

std::string ChannelNames(ChannelMask m, std::string_view sep) {
  std::string out;
  for (Channel c : kAllChannels)
    if ((m & MaskOf(c)) != 0) {
      if (!out.empty()) out += sep;
      out += ChannelName(c);
    }
  return out;
}

ConsentUse UseOf(Channel c) {
  switch (c) {
    case Channel::kVoice:
    case Channel::kSms:
      return kUsePhone;
    case Channel::kEmail:
      return kUseEmail;
    case Channel::kNewsletter:
      return kUseNewsletter;
  }
  return kUsePhone;
}

PayloadType TypeOf(const Payload& p) {
  return std::visit([](const auto& v) { return std::decay_t<decltype(v)>::kType; }, p);
}

const SubjectId* SubjectOf(const Payload& p) {
  return std::visit(
      [](const auto& v) -> const SubjectId* {
        if constexpr (requires { v.subject; }) {
          return &v.subject;
        } else {
          return nullptr;
        }
      },
      p);
}

void SubjectsOf(const Payload& p, std::vector<SubjectId>* out) {
  if (const SubjectId* id = SubjectOf(p)) out->push_back(*id);
}

const std::string* SealedOf(const Payload& p) {
  return std::visit(
      [](const auto& v) -> const std::string* {
        if constexpr (requires { v.sealed; }) {
          return &v.sealed.bytes;
        } else {
          return nullptr;
        }
      },
      p);
}

}  // namespace tacet
