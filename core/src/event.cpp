#include "tacet/core/event.h"
#include "tacet/core/utf8.h"

#include <utility>

namespace tacet {

namespace {

template <size_t... I>
constexpr bool IdsFollowTheList(std::index_sequence<I...>) {
  return ((static_cast<size_t>(std::variant_alternative_t<I, Payload>::kType) == I + 1) && ...);
}
static_assert(IdsFollowTheList(std::make_index_sequence<std::variant_size_v<Payload>>()),
              "a payload type's id is its place in Payload + 1: append new types at the end");

template <size_t... I>
const char* NameOf(PayloadType t, std::index_sequence<I...>) {
  const char* name = "unknown";
  (void)((std::variant_alternative_t<I, Payload>::kType == t
              ? (name = std::variant_alternative_t<I, Payload>::kName, true)
              : false) ||
         ...);
  return name;
}

}  // namespace

const char* PayloadTypeName(PayloadType t) {
  return NameOf(t, std::make_index_sequence<std::variant_size_v<Payload>>());
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

Result<Channel> ParseChannel(std::string_view name) {
  for (const ChannelInfo& i : kChannels)
    if (name == i.name) return i.channel;
  return Status::InvalidArgument("unknown channel " + QuoteText(name) +
                                 " (known: " + ChannelNames(kEveryChannel) + ")");
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

const Hash256* KeyOwnerOf(const Payload& p) {
  if (const SubjectId* s = SubjectOf(p)) return s;
  return std::visit(
      [](const auto& v) -> const Hash256* {
        if constexpr (requires { v.person; }) {
          return &v.person;
        } else {
          return nullptr;
        }
      },
      p);
}

void SubjectsOf(const Payload& p, std::vector<SubjectId>* out) {
  std::visit(
      [out](const auto& v) {
        // A payload about several subjects (a person's link, an attempt
        // reaching several numbers) lists them in `subjects`; one about
        // one names it in `subject`.
        if constexpr (requires { v.subjects; }) {
          out->insert(out->end(), v.subjects.begin(), v.subjects.end());
        } else if constexpr (requires { v.subject; }) {
          out->push_back(v.subject);
        }
        // The persons it is about share the index (a PersonId never
        // equals a SubjectId: their keyed texts differ): a person's
        // history is a prefix scan, as a subject's.
        if constexpr (requires { v.person; }) out->push_back(v.person);
        if constexpr (requires {
                        v.into;
                        v.from;
                      }) {
          out->push_back(v.into);
          out->push_back(v.from);
        }
      },
      p);
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
