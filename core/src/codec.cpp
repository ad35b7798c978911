// The one file that includes cereal. Format: core/FORMAT.md.
#include "tacet/core/codec.h"

// String lengths are u32 (cereal's default is u64): every event carries
// seven or more strings, and a million-event batch is written three times
// over (write batch, WAL, memtable). No field comes near 4 GiB.
#define CEREAL_SIZE_TYPE uint32_t

#include <cereal/cereal.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/common.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <bit>
#include <cstring>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace tacet {
namespace {

// The canonical output archive: the bytes of cereal's PortableBinary archive
// in its little-endian form (an endianness byte 0x01, then each field
// little-endian), appended straight to a std::string. Encoding a million
// events through std::ostream cost a third of building them; the input
// archive below reads them back the same way.
class CanonicalOutputArchive
    : public cereal::OutputArchive<CanonicalOutputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit CanonicalOutputArchive(std::string& out) : OutputArchive(this), out_(out) {
    out_.push_back(1);  // little-endian, as PortableBinary's header byte says
  }

  template <std::streamsize kElementSize>
  void saveBinary(const void* data, std::streamsize size) {
    const char* p = static_cast<const char*>(data);
    if constexpr (kElementSize == 1 || std::endian::native == std::endian::little) {
      out_.append(p, static_cast<size_t>(size));
    } else {
      for (std::streamsize i = 0; i < size; i += kElementSize)
        for (std::streamsize j = kElementSize - 1; j >= 0; --j) out_.push_back(p[i + j]);
    }
  }

 private:
  std::string& out_;
};

template <class T>
std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_SAVE_FUNCTION_NAME(CanonicalOutputArchive& ar,
                                                                    const T& t) {
  ar.template saveBinary<sizeof(T)>(std::addressof(t), sizeof(t));
}
template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(CanonicalOutputArchive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}
template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(CanonicalOutputArchive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
}
template <class T>
void CEREAL_SAVE_FUNCTION_NAME(CanonicalOutputArchive& ar, const cereal::BinaryData<T>& bd) {
  using Element = std::remove_pointer_t<T>;
  ar.template saveBinary<sizeof(Element)>(bd.data, static_cast<std::streamsize>(bd.size));
}

// The canonical input archive: reads exactly what CanonicalOutputArchive
// writes, from a string_view, without an istream. Only the little-endian
// header byte is accepted (the only one the encoder writes); a read past the
// end throws, and DecodeFrom refuses trailing bytes.
class CanonicalInputArchive
    : public cereal::InputArchive<CanonicalInputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit CanonicalInputArchive(std::string_view in) : InputArchive(this), in_(in) {
    uint8_t flag = 0;
    loadBinary<1>(&flag, 1);
    if (flag != 1) throw cereal::Exception("not little-endian canonical bytes");
  }

  template <std::streamsize kElementSize>
  void loadBinary(void* data, std::streamsize size) {
    const size_t n = static_cast<size_t>(size);
    if (n > in_.size())
      throw cereal::Exception("read " + std::to_string(n) + " bytes past the end (" +
                              std::to_string(in_.size()) + " left)");
    if (n == 0) return;  // an empty list: its data() may be null, not a memcpy target
    char* p = static_cast<char*>(data);
    if constexpr (kElementSize == 1 || std::endian::native == std::endian::little) {
      std::memcpy(p, in_.data(), n);
    } else {
      for (size_t i = 0; i < n; i += kElementSize)
        for (size_t j = 0; j < kElementSize; ++j) p[i + j] = in_[i + kElementSize - 1 - j];
    }
    in_.remove_prefix(n);
  }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
};

template <class T>
std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>> CEREAL_LOAD_FUNCTION_NAME(
    CanonicalInputArchive& ar, T& t) {
  ar.template loadBinary<sizeof(T)>(std::addressof(t), sizeof(t));
}
// A bool is one byte, 0 or 1 (core/FORMAT.md); any other byte is refused
// rather than copied into a bool (which is undefined behaviour).
inline void CEREAL_LOAD_FUNCTION_NAME(CanonicalInputArchive& ar, bool& b) {
  uint8_t v = 0;
  ar.template loadBinary<1>(&v, 1);
  if (v > 1) throw cereal::Exception("a bool of " + std::to_string(v) + " (only 0 or 1)");
  b = v == 1;
}
template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(CanonicalInputArchive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}
// Every element of a string or vector takes at least one byte, so a length
// beyond the bytes left is refused before cereal sizes a container by it: a
// damaged length cannot allocate gigabytes.
template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(CanonicalInputArchive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
  if (static_cast<uint64_t>(t.size) > ar.remaining())
    throw cereal::Exception("a length of " + std::to_string(static_cast<uint64_t>(t.size)) +
                            " with " + std::to_string(ar.remaining()) + " bytes left");
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(CanonicalInputArchive& ar, cereal::BinaryData<T>& bd) {
  using Element = std::remove_pointer_t<T>;
  ar.template loadBinary<sizeof(Element)>(bd.data, static_cast<std::streamsize>(bd.size));
}

}  // namespace
}  // namespace tacet

// cereal pairs each input archive with its output archive (for its
// load_minimal detection).
CEREAL_SETUP_ARCHIVE_TRAITS(tacet::CanonicalInputArchive, tacet::CanonicalOutputArchive)

namespace tacet {
namespace {

template <class T>
void EncodeInto(std::string& out, const T& value) {
  CanonicalOutputArchive ar(out);
  ar(value);
}

template <class T>
Status DecodeFrom(std::string_view bytes, T& value, const char* what) {
  size_t left = 0;
  try {
    CanonicalInputArchive ar(bytes);
    ar(value);
    left = ar.remaining();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string(what) + " does not decode: " + e.what());
  }
  if (left != 0)
    return Status::Corruption(std::string(what) + " has " + std::to_string(left) +
                              " trailing bytes");
  return Status::Ok();
}

// The envelope's fields in canonical order (core/FORMAT.md): the one place
// that order is written, for encoding (const Event) and decoding alike.
template <class Archive, class E>
void BodyFields(Archive& ar, uint8_t& format, uint16_t& type, E& e) {
  ar(format, e.seq, e.recorded_at, e.actor, type, e.version, e.payload);
}

template <class T>
Result<Payload> DecodeAs(uint16_t version, std::string_view bytes) {
  if (version != T::kVersion)
    return Status::Corruption(std::string("unsupported version ") + std::to_string(version) +
                              " of payload " + PayloadTypeName(T::kType));
  T value;
  TACET_RETURN_IF_ERROR(DecodeFrom(bytes, value, PayloadTypeName(T::kType)));
  return Payload(std::move(value));
}

// Unblocked version 1: no sources, no lifted seqs (it lifted every earlier
// block on its channels).
struct UnblockedV1 {
  SubjectId subject{};
  ChannelMask channels = kEveryChannel;
  std::string officer;
  Sealed sealed;

  template <class A>
  void serialize(A& a) {
    a(subject, channels, officer, sealed);
  }
};

Result<Payload> DecodeUnblocked(uint16_t version, std::string_view bytes) {
  if (version != 1) return DecodeAs<Unblocked>(version, bytes);
  UnblockedV1 v1;
  TACET_RETURN_IF_ERROR(DecodeFrom(bytes, v1, "unblocked"));
  Unblocked u;
  u.subject = v1.subject;
  u.channels = v1.channels;
  u.officer = std::move(v1.officer);
  u.sealed = std::move(v1.sealed);
  return Payload(std::move(u));
}

// FrequencyCapDefined version 1: no `per` (it counted per subject).
struct FrequencyCapDefinedV1 {
  FrequencyCapDefined cap;

  template <class A>
  void serialize(A& a) {
    a(cap.name, cap.regions, cap.campaigns, cap.channels, cap.max_attempts, cap.window_hours,
      cap.cool_down_hours, cap.waived_by_consent, cap.retired);
  }
};

Result<Payload> DecodeFrequencyCap(uint16_t version, std::string_view bytes) {
  if (version != 1) return DecodeAs<FrequencyCapDefined>(version, bytes);
  FrequencyCapDefinedV1 v1;
  TACET_RETURN_IF_ERROR(DecodeFrom(bytes, v1, "frequency_cap_defined"));
  return Payload(std::move(v1.cap));
}

// ContactAttempted version 1: the same fields, but its flags never held
// kAttemptUnregisteredCaller (caller ids were not checked yet).
Result<Payload> DecodeContactAttempted(uint16_t version, std::string_view bytes) {
  if (version != 1) return DecodeAs<ContactAttempted>(version, bytes);
  ContactAttempted a;
  TACET_RETURN_IF_ERROR(DecodeFrom(bytes, a, "contact_attempted"));
  if ((a.flags & kAttemptUnregisteredCaller) != 0)
    return Status::Corruption("contact_attempted version 1: flags " + std::to_string(a.flags) +
                              " hold 2, which only version 2 may");
  return Payload(std::move(a));
}

}  // namespace

std::string EncodePayload(const Payload& payload) {
  std::string out;
  out.reserve(96);
  AppendPayload(payload, out);
  return out;
}

void AppendPayload(const Payload& payload, std::string& out) {
  std::visit([&](const auto& p) { EncodeInto(out, p); }, payload);
}

namespace {

// The documented sets of each enumerated field (core/FORMAT.md): a decoded
// value outside them is refused as a corrupt payload.
Status CheckRanges(const Payload& payload) {
  auto channels = [](ChannelMask m, const char* what) {
    if (m == 0 || (m & ~kEveryChannel) != 0)
      return Status::Corruption(std::string(what) + ": channel mask " + std::to_string(m) +
                                " is not a non-empty set of channels 1..4");
    return Status::Ok();
  };
  if (auto* r = std::get_if<RegistryResult>(&payload)) {
    if (r->outcome != RegistryOutcome::kCleared && r->outcome != RegistryOutcome::kListed)
      return Status::Corruption("registry_result: outcome " +
                                std::to_string(static_cast<int>(r->outcome)) + " (only 1 or 2)");
  } else if (auto* i = std::get_if<ReturnImported>(&payload)) {
    if (i->layout != ReturnLayout::kFiltered && i->layout != ReturnLayout::kStatus)
      return Status::Corruption("return_imported: layout " +
                                std::to_string(static_cast<int>(i->layout)) + " (only 1 or 2)");
  } else if (auto* t = std::get_if<ConsentTypeDefined>(&payload)) {
    if (t->uses == 0 || (t->uses & ~(kUseNewsletter | kUseEmail | kUsePhone)) != 0)
      return Status::Corruption("consent_type_defined: uses " + std::to_string(t->uses) +
                                " is not a non-empty set of 1, 2, 4");
  } else if (auto* c = std::get_if<ChannelPolicySet>(&payload)) {
    if ((c->consent_required & ~kEveryChannel) != 0)
      return Status::Corruption("channel_policy_set: consent_required " +
                                std::to_string(c->consent_required) + " names unknown channels");
  } else if (auto* b = std::get_if<Blocked>(&payload)) {
    return channels(b->channels, "blocked");
  } else if (auto* u = std::get_if<Unblocked>(&payload)) {
    return channels(u->channels, "unblocked");
  } else if (auto* pb = std::get_if<PersonBlocked>(&payload)) {
    return channels(pb->channels, "person_blocked");
  } else if (auto* pu = std::get_if<PersonUnblocked>(&payload)) {
    return channels(pu->channels, "person_unblocked");
  } else if (auto* j = std::get_if<Justified>(&payload)) {
    const int ch = static_cast<int>(j->channel);
    if (ch < 1 || ch > 4)
      return Status::Corruption("justified: channel " + std::to_string(ch) + " (only 1..4)");
  } else if (auto* d = std::get_if<RegistryDefined>(&payload)) {
    if (d->kind != RegistryKind::kRoundTrip && d->kind != RegistryKind::kDownloadedList)
      return Status::Corruption("registry_defined: kind " +
                                std::to_string(static_cast<int>(d->kind)) + " (only 1 or 2)");
    return channels(d->channels, "registry_defined");
  } else if (auto* o = std::get_if<OutcomeDefined>(&payload)) {
    if ((o->effects & ~kEveryOutcomeEffect) != 0)
      return Status::Corruption("outcome_defined: effects " + std::to_string(o->effects) +
                                " is not a set of 1, 2, 4");
    if ((o->blocks & ~kEveryChannel) != 0)
      return Status::Corruption("outcome_defined: blocks " + std::to_string(o->blocks) +
                                " names unknown channels");
  } else if (auto* h = std::get_if<CallingHoursDefined>(&payload)) {
    for (const CallingWindow& w : h->windows) {
      const int t = static_cast<int>(w.day_type);
      if (t < 1 || t > 5)
        return Status::Corruption("calling_hours_defined: day type " + std::to_string(t) +
                                  " (only 1..5)");
      if (w.from_minute >= w.to_minute || w.to_minute > 1440)
        return Status::Corruption("calling_hours_defined: window " + std::to_string(w.from_minute) +
                                  ".." + std::to_string(w.to_minute) + " is not within 0..1440");
    }
    for (const HolidayRule& r : h->holidays) {
      const bool fixed = r.month != 0;
      if ((fixed && (r.month > 12 || r.day < 1 || r.day > 31 || r.easter_offset != 0)) ||
          (!fixed && r.day != 0) ||
          (r.from_year != 0 && r.until_year != 0 && r.from_year > r.until_year))
        return Status::Corruption("calling_hours_defined: a holiday of month " +
                                  std::to_string(r.month) + ", day " + std::to_string(r.day) +
                                  ", Easter offset " + std::to_string(r.easter_offset) +
                                  " is not a date or an Easter offset in its years");
    }
    return channels(h->channels, "calling_hours_defined");
  } else if (auto* f = std::get_if<FrequencyCapDefined>(&payload)) {
    if (f->per != CapScope::kSubject && f->per != CapScope::kPerson)
      return Status::Corruption("frequency_cap_defined: per " +
                                std::to_string(static_cast<int>(f->per)) + " (only 1 or 2)");
    if (f->max_attempts != 0 && f->window_hours == 0)
      return Status::Corruption("frequency_cap_defined: a cap of " +
                                std::to_string(f->max_attempts) + " attempts in no window");
    return channels(f->channels, "frequency_cap_defined");
  } else if (auto* k = std::get_if<CheckRecorded>(&payload)) {
    const int ch = static_cast<int>(k->channel);
    const int v = static_cast<int>(k->verdict);
    if (ch < 1 || ch > 4 || v < 1 || v > 3)
      return Status::Corruption("check_recorded: channel " + std::to_string(ch) +
                                " (only 1..4) or verdict " + std::to_string(v) + " (only 1..3)");
  } else if (auto* n = std::get_if<CallerRegistered>(&payload)) {
    if (n->valid_to != 0 && n->valid_to <= n->valid_from)
      return Status::Corruption("caller_registered: valid_to " + std::to_string(n->valid_to) +
                                " is not after valid_from " + std::to_string(n->valid_from));
  } else if (auto* a = std::get_if<ContactAttempted>(&payload)) {
    const int ch = static_cast<int>(a->channel);
    if (ch < 1 || ch > 4)
      return Status::Corruption("contact_attempted: channel " + std::to_string(ch) +
                                " (only 1..4)");
    const int v = static_cast<int>(a->verdict);
    if (v < 1 || v > 3)
      return Status::Corruption("contact_attempted: verdict " + std::to_string(v) + " (only 1..3)");
    if ((a->effects & ~kEveryOutcomeEffect) != 0 || (a->flags & ~kEveryAttemptFlag) != 0)
      return Status::Corruption("contact_attempted: effects " + std::to_string(a->effects) +
                                " or flags " + std::to_string(a->flags) + " outside their sets");
  }
  return Status::Ok();
}

// Visits every text field of a payload: its serialize() names each field
// once, in order, strings and lists of strings among them.
struct TextVisitor {
  const std::function<bool(size_t field, std::string_view text)>& fn;
  size_t index = 0;
  bool go_on = true;
  template <class... T>
  void operator()(T&... fields) {
    (Visit(fields), ...);
  }
  void Visit(const std::string& s) {
    ++index;
    if (go_on) go_on = fn(index, s);
  }
  void Visit(const std::vector<std::string>& v) {
    ++index;
    for (const auto& s : v)
      if (go_on) go_on = fn(index, s);
  }
  template <class T>
  void Visit(const T&) {
    ++index;
  }
};

Result<Payload> DecodeAnyVersion(PayloadType type, uint16_t version, std::string_view bytes);

}  // namespace

void ForEachText(const Payload& payload,
                 const std::function<bool(size_t field, std::string_view text)>& fn) {
  std::visit(
      [&](const auto& p) {
        TextVisitor v{fn};
        // serialize() is not const; here it only names the fields.
        const_cast<std::decay_t<decltype(p)>&>(p).serialize(v);
      },
      payload);
}

Result<Payload> DecodePayload(PayloadType type, uint16_t version, std::string_view bytes) {
  TACET_ASSIGN_OR_RETURN(Payload p, DecodeAnyVersion(type, version, bytes));
  TACET_RETURN_IF_ERROR(CheckRanges(p));
  return p;
}

namespace {

// A payload type decodes its own version; one with older versions still
// read says how it upcasts them.
template <class T>
Result<Payload> DecodeVersion(uint16_t version, std::string_view bytes) {
  if constexpr (std::is_same_v<T, Unblocked>) {
    return DecodeUnblocked(version, bytes);
  } else if constexpr (std::is_same_v<T, FrequencyCapDefined>) {
    return DecodeFrequencyCap(version, bytes);
  } else if constexpr (std::is_same_v<T, ContactAttempted>) {
    return DecodeContactAttempted(version, bytes);
  } else {
    return DecodeAs<T>(version, bytes);
  }
}

template <size_t... I>
Result<Payload> DecodeByType(PayloadType type, uint16_t version, std::string_view bytes,
                             std::index_sequence<I...>) {
  std::optional<Result<Payload>> out;
  (void)((std::variant_alternative_t<I, Payload>::kType == type
              ? (out.emplace(DecodeVersion<std::variant_alternative_t<I, Payload>>(version, bytes)),
                 true)
              : false) ||
         ...);
  if (!out)
    return Status::Corruption("unknown payload type " + std::to_string(static_cast<int>(type)));
  return std::move(*out);
}

Result<Payload> DecodeAnyVersion(PayloadType type, uint16_t version, std::string_view bytes) {
  return DecodeByType(type, version, bytes,
                      std::make_index_sequence<std::variant_size_v<Payload>>());
}

}  // namespace

std::string EncodeEventBody(const Event& e) {
  std::string out;
  out.reserve(e.payload.size() + e.actor.os_user.size() + e.actor.operator_id.size() +
              e.actor.tool.size() + 64);
  CanonicalOutputArchive ar(out);
  uint8_t format = kEventFormatVersion;
  uint16_t type = static_cast<uint16_t>(e.type);
  BodyFields(ar, format, type, e);
  return out;
}

Hash256 ChainHash(const Hash256& prev_hash, std::string_view body) {
  return Sha256(AsBytes(prev_hash), body);
}

std::string EncodeStoredEvent(const Event& e, std::string_view body) {
  std::string out;
  out.reserve(body.size() + 64);
  out.append(body);
  out.append(AsBytes(e.prev_hash));
  out.append(AsBytes(e.hash));
  return out;
}

Result<Event> DecodeEventBody(std::string_view body) {
  Event e;
  uint8_t format = 0;
  uint16_t type = 0;
  try {
    CanonicalInputArchive ar(body);
    BodyFields(ar, format, type, e);
    if (ar.remaining() != 0)
      return Status::Corruption("event body has " + std::to_string(ar.remaining()) +
                                " trailing bytes");
  } catch (const std::exception& ex) {
    return Status::Corruption(std::string("event body does not decode: ") + ex.what());
  }
  if (format != kEventFormatVersion)
    return Status::Corruption("unknown event format " + std::to_string(format));
  e.type = static_cast<PayloadType>(type);
  return e;
}

Result<Event> DecodeStoredEvent(std::string_view stored) {
  if (stored.size() < 64 + 1) return Status::Corruption("stored event is too short");
  std::string_view body = stored.substr(0, stored.size() - 64);
  TACET_ASSIGN_OR_RETURN(Event e, DecodeEventBody(body));
  std::copy_n(stored.data() + body.size(), 32, reinterpret_cast<char*>(e.prev_hash.data()));
  std::copy_n(stored.data() + body.size() + 32, 32, reinterpret_cast<char*>(e.hash.data()));
  return e;
}

Result<Event> DecodeAndCheckEvent(std::string_view stored) {
  TACET_ASSIGN_OR_RETURN(Event e, DecodeStoredEvent(stored));
  if (ChainHash(e.prev_hash, stored.substr(0, stored.size() - 64)) != e.hash)
    return Status::Corruption("event hash does not match its content");
  return e;
}

}  // namespace tacet
