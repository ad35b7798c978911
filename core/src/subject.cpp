// The one file that includes libphonenumber (and RE2, which runs its patterns).
#include "tacet/core/subject.h"

#include "tacet/core/channel.h"
#include "tacet/core/utf8.h"

#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <cstdio>

// Exported by libphonenumber (metadata.h is not installed): its compiled-in
// PhoneMetadataCollection.
namespace i18n::phonenumbers {
int metadata_size();
const void* metadata_get();
}  // namespace i18n::phonenumbers

namespace tacet {
namespace {

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneMetadataCollection;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberDesc;
using i18n::phonenumbers::PhoneNumberUtil;

// Inputs are quoted whole in messages (an address is at most 254 bytes;
// a long number is cut before).
std::string Quote(std::string_view s) { return QuoteText(s, 512); }

}  // namespace

namespace internal {

// libphonenumber's number-type decision (PhoneNumberUtil's
// GetNumberTypeHelper over IsNumberMatchingDesc) for one region, on the same
// metadata, with the patterns compiled by RE2 instead of ICU's regex engine,
// whose shared cache costs microseconds and a lock per match. All the
// region's patterns are one RE2::Set, so a number is scanned once (one DFA
// pass and one lock of its cache, not one per pattern).
// subject_tests checks it against libphonenumber itself.
class RegionMatcher {
 public:
  enum class Type { kUnknown, kFixed, kMobile, kFixedOrMobile, kOther };

  // Null when the region is unknown or a pattern does not compile in RE2.
  static std::shared_ptr<const RegionMatcher> For(const std::string& region) {
    PhoneMetadataCollection all;
    if (!all.ParseFromArray(i18n::phonenumbers::metadata_get(),
                            i18n::phonenumbers::metadata_size()))
      return nullptr;
    for (const PhoneMetadata& m : all.metadata()) {
      if (m.id() != region) continue;
      auto r = std::make_shared<RegionMatcher>();
      r->same_mobile_and_fixed_ = m.same_mobile_and_fixed_line_pattern();
      bool ok = r->Add(m.general_desc(), &r->general_) && r->Add(m.fixed_line(), &r->fixed_) &&
                r->Add(m.mobile(), &r->mobile_);
      for (const PhoneNumberDesc* d :
           {&m.premium_rate(), &m.toll_free(), &m.shared_cost(), &m.voip(), &m.personal_number(),
            &m.pager(), &m.uan(), &m.voicemail()})
        ok = ok && r->Add(*d, &r->others_.emplace_back());
      return ok && r->set_.Compile() ? r : nullptr;
    }
    return nullptr;
  }

  RegionMatcher() : set_(Options(), RE2::ANCHOR_BOTH) {}

  // `nsn`: the national significant number, digits only. kUnknown also when
  // RE2 gives up (its DFA out of memory): the full parser then decides.
  Type TypeOf(std::string_view nsn) const {
    thread_local std::vector<int> hits;
    hits.clear();
    if (!set_.Match(re2::StringPiece(nsn.data(), nsn.size()), &hits)) return Type::kUnknown;
    auto matches = [&](const Desc& d) {
      if (d.index < 0 || std::find(hits.begin(), hits.end(), d.index) == hits.end()) return false;
      return d.lengths.empty() || std::find(d.lengths.begin(), d.lengths.end(),
                                            static_cast<int>(nsn.size())) != d.lengths.end();
    };
    if (!matches(general_)) return Type::kUnknown;
    for (const Desc& d : others_)
      if (matches(d)) return Type::kOther;
    if (matches(fixed_)) {
      if (same_mobile_and_fixed_ || matches(mobile_)) return Type::kFixedOrMobile;
      return Type::kFixed;
    }
    if (!same_mobile_and_fixed_ && matches(mobile_)) return Type::kMobile;
    return Type::kUnknown;
  }

 private:
  struct Desc {
    std::vector<int> lengths;  // possible lengths; empty: any
    int index = -1;            // of its pattern in set_; -1: matches nothing
  };
  static RE2::Options Options() {
    RE2::Options o;
    o.set_log_errors(false);
    return o;
  }
  bool Add(const PhoneNumberDesc& d, Desc* out) {
    out->lengths.assign(d.possible_length().begin(), d.possible_length().end());
    if (d.national_number_pattern().empty()) return true;  // matches nothing
    out->index = set_.Add(d.national_number_pattern(), nullptr);
    return out->index >= 0;
  }

  RE2::Set set_;
  Desc general_, fixed_, mobile_;
  std::vector<Desc> others_;
  bool same_mobile_and_fixed_ = false;
};

}  // namespace internal

const char* LineTypeName(LineType t) {
  switch (t) {
    case LineType::kNone:
      return "none";
    case LineType::kFixed:
      return "fixed";
    case LineType::kMobile:
      return "mobile";
    case LineType::kOther:
      return "other";
  }
  return "other";
}

SubjectParser::SubjectParser(std::string default_region)
    : default_region_(std::move(default_region)) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  default_country_code_ = util.GetCountryCodeForRegion(default_region_);
  country_code_text_ = std::to_string(default_country_code_);
  std::string ndd;
  util.GetNddPrefixForRegion(default_region_, true, &ndd);
  plain_path_ = default_country_code_ != 0 && ndd.empty();
  if (plain_path_) matcher_ = internal::RegionMatcher::For(default_region_);
}

namespace {

LineType ToLineType(PhoneNumberUtil::PhoneNumberType t) {
  switch (t) {
    case PhoneNumberUtil::FIXED_LINE:
      return LineType::kFixed;
    case PhoneNumberUtil::MOBILE:
      return LineType::kMobile;
    default:
      return LineType::kOther;
  }
}

}  // namespace

std::optional<Subject> SubjectParser::ParsePlainPhone(std::string_view input,
                                                      bool line_type) const {
  if (!plain_path_) return std::nullopt;
  char digits[24];
  size_t n = 0;
  size_t i = 0;
  bool international = false;
  while (i < input.size() && input[i] == ' ') ++i;
  if (i < input.size() && input[i] == '+') {
    international = true;
    ++i;
  }
  for (; i < input.size(); ++i) {
    char c = input[i];
    if (c >= '0' && c <= '9') {
      if (n == sizeof digits) return std::nullopt;
      digits[n++] = c;
    } else if (c != ' ' && c != '-' && c != '.' && c != '/') {
      return std::nullopt;  // letters, parentheses, extensions: the full parser decides
    }
  }
  std::string_view d(digits, n);
  std::string_view ccv(country_code_text_);
  if (!international && d.size() > 2 && d.substr(0, 2) == "00") {
    international = true;
    d.remove_prefix(2);
  }
  if (international) {
    if (d.substr(0, ccv.size()) != ccv) return std::nullopt;
    d.remove_prefix(ccv.size());
  }
  if (d.size() < 2 || d.size() > 17) return std::nullopt;
  LineType type = LineType::kNone;
  if (matcher_) {
    using T = internal::RegionMatcher::Type;
    T t = matcher_->TypeOf(d);
    if (t == T::kUnknown) return std::nullopt;  // invalid here: the full parser says why
    type = t == T::kFixed    ? LineType::kFixed
           : t == T::kMobile ? LineType::kMobile
                             : LineType::kOther;
  } else {
    PhoneNumber number;
    number.set_country_code(default_country_code_);
    uint64_t nsn = 0;
    for (char c : d) nsn = nsn * 10 + static_cast<uint64_t>(c - '0');
    number.set_national_number(nsn);
    if (d[0] == '0') {
      number.set_italian_leading_zero(true);
      size_t zeros = 1;
      while (zeros < d.size() - 1 && d[zeros] == '0') ++zeros;
      if (zeros != 1) number.set_number_of_leading_zeros(static_cast<int>(zeros));
    }
    const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
    if (!util.IsValidNumberForRegion(number, default_region_)) return std::nullopt;
    if (line_type) type = ToLineType(util.GetNumberType(number));
  }
  Subject s;
  s.kind = SubjectKind::kPhone;
  s.value.reserve(d.size() + ccv.size() + 1);
  s.value.push_back('+');
  s.value.append(ccv);
  s.value.append(d);
  s.country_code = default_country_code_;
  s.region = default_region_;
  s.national.assign(d);
  if (line_type) s.line_type = type;
  return s;
}

int SubjectParser::CountryCodeOf(const std::string& region) {
  return PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(region);
}

Result<Subject> SubjectParser::Parse(std::string_view input) const {
  if (input.find('@') != std::string_view::npos) return ParseEmail(input);
  return ParsePhone(input);
}

Result<Subject> SubjectParser::ParsePhone(std::string_view input, bool line_type) const {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  if (input.empty()) return Status::InvalidArgument("empty phone number");
  if (auto plain = ParsePlainPhone(input, line_type)) return std::move(*plain);
  if (input.size() > 64)
    return Status::InvalidArgument("not a phone number (too long): " + QuoteText(input, 64));
  std::string text(input);
  PhoneNumber number;
  if (util.Parse(text, default_region_, &number) != PhoneNumberUtil::NO_PARSING_ERROR)
    return Status::InvalidArgument("not a phone number: " + Quote(input));
  if (!util.IsValidNumber(number))
    return Status::InvalidArgument("not a valid phone number: " + Quote(input));
  Subject s;
  s.kind = SubjectKind::kPhone;
  util.Format(number, PhoneNumberUtil::E164, &s.value);
  s.country_code = number.country_code();
  util.GetRegionCodeForNumber(number, &s.region);
  util.GetNationalSignificantNumber(number, &s.national);
  if (line_type) s.line_type = ToLineType(util.GetNumberType(number));
  return s;
}

Result<Subject> SubjectParser::ParseEmail(std::string_view input) const {
  std::string v(input);
  auto trim = [](std::string& x) {
    while (!x.empty() && (x.back() == ' ' || x.back() == '\t')) x.pop_back();
    size_t i = 0;
    while (i < x.size() && (x[i] == ' ' || x[i] == '\t')) ++i;
    x.erase(0, i);
  };
  trim(v);
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto bad = [&](const char* why) {
    return Status::InvalidArgument(std::string("not a valid e-mail address (") + why +
                                   "): " + Quote(input));
  };
  size_t at = v.find('@');
  if (at == std::string::npos || v.find('@', at + 1) != std::string::npos)
    return bad("one '@' expected");
  std::string_view local(v.data(), at), domain(v.data() + at + 1, v.size() - at - 1);
  if (local.empty() || local.size() > 64) return bad("local part empty or over 64 characters");
  if (domain.size() < 3 || domain.size() > 253) return bad("domain too short or too long");
  if (v.size() > 254) return bad("over 254 characters");
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return bad("misplaced '.' in local part");
  for (unsigned char c : local) {
    if (std::isalnum(c) || std::string_view("!#$%&'*+/=?^_`{|}~.-").find(static_cast<char>(c)) !=
                               std::string_view::npos)
      continue;
    return bad("invalid character in local part");
  }
  size_t label_len = 0;
  bool has_dot = false;
  for (size_t i = 0; i < domain.size(); ++i) {
    unsigned char c = domain[i];
    if (c == '.') {
      if (label_len == 0 || domain[i - 1] == '-') return bad("empty or malformed domain label");
      has_dot = true;
      label_len = 0;
      continue;
    }
    if (!std::isalnum(c) && c != '-') return bad("invalid character in domain");
    if (c == '-' && label_len == 0) return bad("domain label starts with '-'");
    if (++label_len > 63) return bad("domain label over 63 characters");
  }
  if (!has_dot || label_len == 0) return bad("domain needs a dot and a top-level label");
  Subject s;
  s.kind = SubjectKind::kEmail;
  s.value = std::move(v);
  return s;
}

Status ChannelFits(const Subject& s, Channel channel) {
  const bool phone_channel = InfoOf(channel).reaches_phone;
  if (s.kind == SubjectKind::kEmail && phone_channel)
    return Status::InvalidArgument(s.value + " is an e-mail address: it has no " +
                                   ChannelName(channel) + " channel");
  if (s.kind == SubjectKind::kPhone && !phone_channel)
    return Status::InvalidArgument(s.value + " is a phone number: it has no " +
                                   ChannelName(channel) + " channel");
  return Status::Ok();
}

}  // namespace tacet
