// Calling hours (issue 17): a CallingHoursDefined made usable. Its day types
// come from its holiday calendar, computed for each year (fixed dates and
// Easter-relative ones), never typed in: a pre-holiday is a weekday (Monday to
// Friday) before a holiday. Precedence: holiday, Sunday, Saturday,
// pre-holiday, weekday.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tacet/core/event.h"
#include "tacet/core/status.h"
#include "tacet/core/subject.h"
#include "tacet/core/time.h"

namespace tacet {

// Easter Sunday of a Gregorian year (the anonymous Gregorian computus).
Day EasterSunday(int year);

class CallingHours {
 public:
  // Refuses an unknown zone, naming it.
  static Result<std::shared_ptr<const CallingHours>> Make(CallingHoursDefined def);

  const CallingHoursDefined& definition() const { return def_; }
  const std::string& name() const { return def_.name; }
  // Numbers of its regions, on its channels.
  bool Covers(std::string_view region, Channel channel) const;

  bool IsHoliday(Day day) const;
  DayType TypeOf(Day day) const;
  // Whether a call may be placed at instant t.
  bool OpenAt(TimeMs t) const;
  // The first instant after t at which OpenAt changes; 0 when it does not
  // within 400 days (a calendar with no window at all).
  TimeMs NextChange(TimeMs t) const;
  const TimeZone& zone() const { return zone_; }

 private:
  CallingHours(CallingHoursDefined def, TimeZone zone);
  bool OpenOn(Day day, int64_t ms_of_day) const;
  bool ComputeOpenAt(TimeMs t) const;    // OpenAt without the memo
  bool ComputeIsHoliday(Day day) const;  // from the rules, for any year
  TimeMs ComputeNextChange(TimeMs t) const;

  CallingHoursDefined def_;
  TimeZone zone_;
  // The holidays of the years a decision asks about, computed once: a
  // decision asks IsHoliday a dozen times (the day, the day after, each
  // boundary of NextChange), each a dozen rules and an Easter.
  static constexpr int kFirstYear = 1970, kLastYear = 2199;
  Day first_day_ = 0, end_day_ = 0;  // [first_day_, end_day_): what `holidays_` covers
  std::vector<Day> holidays_;        // sorted
  // Names this calendar in each thread's memo of its last answers (a batch
  // of decisions asks about one moment); never reused, unlike an address.
  uint64_t serial_ = 0;
};

// Shipped calendars (config/tacet.toml switches them on).
// Italy's code of conduct for adherents: Mon-Fri 09-20, Saturdays and
// pre-holidays 10-19, none on Sundays and national holidays (4 October from
// 2026), Europe/Rome, voice and SMS.
CallingHoursDefined ItalyCodeOfConductHours();
// France, D.223-9: Mon-Fri 10-13 and 14-20, none at weekends or on the
// public holidays of L.3133-1, Europe/Paris, voice.
CallingHoursDefined FranceD2239Hours();

}  // namespace tacet
