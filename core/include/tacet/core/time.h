// Calendar days, time zones and the textual forms of times.
//
// Registry windows are calendar days in the registry's zone (Europe/Rome for
// the RPO), so the ledger converts between UTC instants (TimeMs) and civil
// days of a named IANA zone. Zone rules come from the OS tz database.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tacet/core/clock.h"
#include "tacet/core/status.h"

namespace tacet {

using Day = int32_t;  // civil days since 1970-01-01

inline constexpr TimeMs kMsPerDay = 86'400'000;

// "YYYY-MM-DD" -> Day. The message names the value when it is not a real date.
Result<Day> ParseDate(std::string_view text);
std::string FormatDate(Day day);
// "2026-08-31T10:00:00.000Z"
std::string FormatUtc(TimeMs t);

class TimeZone {
 public:
  // Looks the zone up in the tz database ("Europe/Rome").
  static Result<TimeZone> Load(const std::string& name);

  const std::string& name() const { return name_; }
  // The instant this zone's civil day begins (00:00 local; DST gaps resolved forward).
  TimeMs StartOfDay(Day day) const;
  // The civil day in this zone that contains instant t.
  Day DayOf(TimeMs t) const;
  // The local time of instant t: its civil day and the milliseconds since
  // that day's local midnight (a day of a DST change is 23 or 25 hours).
  struct Local {
    Day day = 0;
    int64_t ms_of_day = 0;
  };
  Local LocalOf(TimeMs t) const;
  // The instant at local `minute` (0..1440) of civil `day`; a time skipped
  // by a DST jump resolves to the jump, a repeated one to its first instant.
  TimeMs AtLocal(Day day, int minute) const;
  // "2026-09-15 23:59:00 CEST"
  std::string Format(TimeMs t) const;
  // "YYYYMMDDhhmmss" in local time, for file names.
  std::string CompactStamp(TimeMs t) const;
  // Accepts "YYYY-MM-DD" (start of that day), "YYYY-MM-DD HH:MM[:SS]" or with
  // 'T', read in this zone unless followed by "Z" or "+HH:MM"/"-HH:MM".
  Result<TimeMs> Parse(std::string_view text) const;

 private:
  explicit TimeZone(const void* zone, std::string name) : zone_(zone), name_(std::move(name)) {}
  const void* zone_;  // const date::time_zone*, owned by the tz database
  std::string name_;
};

}  // namespace tacet
