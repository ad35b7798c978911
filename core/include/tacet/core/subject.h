// Subjects: what is contacted. Phone numbers are normalised to E.164 with
// libphonenumber (a default region resolves national forms); e-mail addresses
// are lowercased and validated. An invalid input is refused with an error that
// quotes it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tacet/core/status.h"

namespace tacet {
namespace internal {
class RegionMatcher;
}  // namespace internal

enum class SubjectKind : uint8_t { kPhone = 1, kEmail = 2 };
enum class LineType : uint8_t { kNone = 0, kFixed = 1, kMobile = 2, kOther = 3 };

const char* LineTypeName(LineType t);

struct Subject {
  SubjectKind kind = SubjectKind::kPhone;
  std::string value;  // "+390612345678" or "name@example.it": the subject's identity
  LineType line_type = LineType::kNone;  // phones only
  int country_code = 0;                  // phones only: 39 for Italy
  std::string region;                    // phones only: "IT", "VA", ...
  std::string national;                  // phones only: national digits, "0612345678"

  bool operator==(const Subject& o) const { return kind == o.kind && value == o.value; }
};

// Thread-safe; cheap to copy.
class SubjectParser {
 public:
  // `default_region` is a CLDR region code ("IT") used for numbers written
  // without an international prefix.
  explicit SubjectParser(std::string default_region);

  // An address with '@' is an e-mail; anything else must be a phone number.
  Result<Subject> Parse(std::string_view input) const;
  // `line_type` false skips the line-type lookup (the costliest part of
  // libphonenumber) and leaves LineType::kNone: bulk paths use it.
  Result<Subject> ParsePhone(std::string_view input, bool line_type = true) const;
  Result<Subject> ParseEmail(std::string_view input) const;
  // Rebuilds a phone subject's details from its stored E.164 value.
  Result<Subject> FromE164(std::string_view e164) const { return ParsePhone(e164); }

  const std::string& default_region() const { return default_region_; }
  // The country calling code of a CLDR region ("IT": 39); 0 when unknown.
  static int CountryCodeOf(const std::string& region);

 private:
  // Plain shapes ("06 1234 5678", "+39 347-123.4567") of the default region,
  // validated without libphonenumber's Parse(); nullopt means "use Parse()".
  std::optional<Subject> ParsePlainPhone(std::string_view input, bool line_type) const;

  std::string default_region_;
  int default_country_code_ = 0;
  std::string country_code_text_;  // "39"
  bool plain_path_ = false;        // default region has no national prefix to strip
  std::shared_ptr<const internal::RegionMatcher> matcher_;  // null: libphonenumber decides
};

}  // namespace tacet
