// Days the user gives (a consent's, a list's acquisition, a reassignment's):
// parsed, and refused when still to come.
#pragma once

#include <string>
#include <string_view>

#include "tacet/core/status.h"
#include "tacet/core/time.h"

namespace tacet::internal {

// `text` as YYYY-MM-DD, not after today in `zone`; the refusal names
// `option` ("--given") and the value.
inline Result<Day> PastOrToday(std::string_view option, std::string_view text, const TimeZone& zone,
                               TimeMs now) {
  auto day = ParseDate(text);
  if (!day.ok()) return day.status().WithContext(std::string(option));
  if (*day > zone.DayOf(now))
    return Status::InvalidArgument(std::string(option) + " " + std::string(text) +
                                   " is in the future (today is " + FormatDate(zone.DayOf(now)) +
                                   " in " + zone.name() + "); nothing was recorded");
  return *day;
}

}  // namespace tacet::internal
