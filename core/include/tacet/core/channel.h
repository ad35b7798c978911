// Contact channels: the one table that says what each is (its name, what
// it reaches, what a consent must permit for it, whether the policy can
// waive a consent or a justification stand in for one). Everything that
// asks about a channel reads it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "tacet/core/status.h"

namespace tacet {

// Stored; never renumber.
enum class Channel : uint8_t { kVoice = 1, kSms = 2, kEmail = 3, kNewsletter = 4 };

// The uses a consent type permits (seed 001). Stored; never renumber.
enum ConsentUse : uint8_t {
  kUseNewsletter = 1,  // "invio massivo"
  kUseEmail = 2,       // "invio singolo"
  kUsePhone = 4,       // "contatto": calls (and SMS) through telephone systems
};

struct ChannelInfo {
  Channel channel;
  const char* name;
  bool reaches_phone;  // phone numbers; otherwise e-mail addresses
  ConsentUse use;      // what a consent must permit for it
  // A consent is needed whatever the channel policy says (a newsletter:
  // bulk mail goes only to those who asked), and no justification stands
  // in for one.
  bool always_needs_consent;
};

// clang-format off
inline constexpr ChannelInfo kChannels[] = {
    // channel              name          reaches_phone use             always_needs_consent
    {Channel::kVoice,      "voice",      true,         kUsePhone,      false},
    {Channel::kSms,        "sms",        true,         kUsePhone,      false},
    {Channel::kEmail,      "email",      false,        kUseEmail,      false},
    {Channel::kNewsletter, "newsletter", false,        kUseNewsletter, true},
};
// clang-format on

inline constexpr size_t kChannelCount = std::size(kChannels);
inline constexpr std::array<Channel, kChannelCount> kAllChannels = [] {
  std::array<Channel, kChannelCount> all{};
  for (size_t i = 0; i < kChannelCount; ++i) all[i] = kChannels[i].channel;
  return all;
}();

// A set of channels: bit (1 << channel).
using ChannelMask = uint8_t;
inline constexpr ChannelMask MaskOf(Channel c) {
  return static_cast<ChannelMask>(1u << static_cast<unsigned>(c));
}
inline constexpr ChannelMask kEveryChannel = [] {
  ChannelMask m = 0;
  for (const ChannelInfo& i : kChannels) m |= MaskOf(i.channel);
  return m;
}();
// The channels that need a consent whatever the policy says.
inline constexpr ChannelMask kAlwaysConsentChannels = [] {
  ChannelMask m = 0;
  for (const ChannelInfo& i : kChannels)
    if (i.always_needs_consent) m |= MaskOf(i.channel);
  return m;
}();

// The table's row of `c` (a stored value outside it: the voice row; the
// decoder refuses such values before anything asks).
constexpr const ChannelInfo& InfoOf(Channel c) {
  for (const ChannelInfo& i : kChannels)
    if (i.channel == c) return i;
  return kChannels[0];
}
inline const char* ChannelName(Channel c) { return InfoOf(c).name; }
// The use a channel needs from a consent.
inline ConsentUse UseOf(Channel c) { return InfoOf(c).use; }
// The channels of a mask by name, in channel order, joined by `sep`.
std::string ChannelNames(ChannelMask m, std::string_view sep = ", ");
// "voice", "sms", "email", "newsletter"; InvalidArgument naming the known ones otherwise.
Result<Channel> ParseChannel(std::string_view name);

struct Subject;
// InvalidArgument when `channel` does not reach this kind of subject
// (voice to an e-mail address, e-mail to a phone number).
Status ChannelFits(const Subject& s, Channel channel);

}  // namespace tacet
