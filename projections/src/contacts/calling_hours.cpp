// Calling-hours calendars (calling_hours.h).
#include "tacet/projections/calling_hours.h"

#include <date/date.h>

#include <algorithm>
#include <atomic>
#include <vector>

namespace tacet {
namespace {

int YearOf(Day day) {
  const date::year_month_day ymd{date::sys_days{date::days{day}}};
  return static_cast<int>(ymd.year());
}

Day DayOfDate(int year, unsigned month, unsigned day) {
  const date::year_month_day ymd{date::year{year}, date::month{month}, date::day{day}};
  if (!ymd.ok()) return INT32_MIN;  // 29 February of a common year: no such day
  return static_cast<Day>(date::sys_days{ymd}.time_since_epoch().count());
}

bool InYears(const HolidayRule& r, int year) {
  return (r.from_year == 0 || year >= r.from_year) && (r.until_year == 0 || year <= r.until_year);
}

constexpr int64_t kMsPerMinute = 60'000;

}  // namespace

Day EasterSunday(int year) {
  const int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
  const int f = (b + 8) / 25, g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4, k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31;
  const int day = (h + l - 7 * m + 114) % 31 + 1;
  return DayOfDate(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
}

Result<std::shared_ptr<const CallingHours>> CallingHours::Make(CallingHoursDefined def) {
  auto zone = TimeZone::Load(def.time_zone);
  if (!zone.ok())
    return Status::InvalidArgument("calling hours " + def.name + ": " + zone.status().message());
  return std::shared_ptr<const CallingHours>(
      new CallingHours(std::move(def), std::move(zone).value()));
}

bool CallingHours::Covers(std::string_view region, Channel channel) const {
  return (def_.channels & MaskOf(channel)) != 0 &&
         std::find(def_.regions.begin(), def_.regions.end(), region) != def_.regions.end();
}

CallingHours::CallingHours(CallingHoursDefined def, TimeZone zone)
    : def_(std::move(def)), zone_(std::move(zone)) {
  static std::atomic<uint64_t> serials{0};
  serial_ = ++serials;
  first_day_ = DayOfDate(kFirstYear, 1, 1);
  end_day_ = DayOfDate(kLastYear + 1, 1, 1);
  for (int year = kFirstYear; year <= kLastYear; ++year)
    for (const HolidayRule& r : def_.holidays) {
      if (!InYears(r, year)) continue;
      const Day d =
          r.month != 0 ? DayOfDate(year, r.month, r.day) : EasterSunday(year) + r.easter_offset;
      if (YearOf(d) == year) holidays_.push_back(d);  // as ComputeIsHoliday finds it
    }
  std::sort(holidays_.begin(), holidays_.end());
  holidays_.erase(std::unique(holidays_.begin(), holidays_.end()), holidays_.end());
}

bool CallingHours::IsHoliday(Day day) const {
  if (day >= first_day_ && day < end_day_)
    return std::binary_search(holidays_.begin(), holidays_.end(), day);
  return ComputeIsHoliday(day);
}

bool CallingHours::ComputeIsHoliday(Day day) const {
  const int year = YearOf(day);
  for (const HolidayRule& r : def_.holidays) {
    if (!InYears(r, year)) continue;
    const Day d =
        r.month != 0 ? DayOfDate(year, r.month, r.day) : EasterSunday(year) + r.easter_offset;
    if (d == day) return true;
  }
  return false;
}

DayType CallingHours::TypeOf(Day day) const {
  if (IsHoliday(day)) return DayType::kHoliday;
  // 1970-01-01 was a Thursday: weekday 0 = Monday.
  const int weekday = static_cast<int>(((static_cast<int64_t>(day) + 3) % 7 + 7) % 7);
  if (weekday == 6) return DayType::kSunday;
  if (weekday == 5) return DayType::kSaturday;
  return IsHoliday(day + 1) ? DayType::kPreHoliday : DayType::kWeekday;
}

bool CallingHours::OpenOn(Day day, int64_t ms_of_day) const {
  const DayType type = TypeOf(day);
  for (const CallingWindow& w : def_.windows)
    if (w.day_type == type && ms_of_day >= w.from_minute * kMsPerMinute &&
        ms_of_day < w.to_minute * kMsPerMinute)
      return true;
  return false;
}

namespace {

// One thread's last answers of a calendar about a moment: check_batch and
// filter decide thousands of subjects at one moment, and each decision
// asks OpenAt and NextChange about it (time zone conversions, a walk of
// the days ahead), and OpenAt again about the moments its verdict may
// change at (DecideAt): a few answers are kept, the oldest replaced.
struct Memo {
  uint64_t serial = 0;  // 0: none
  TimeMs t = 0;
  TimeMs value = 0;
};
template <size_t N>
struct Memos {
  Memo slots[N];
  size_t next = 0;
  const Memo* Find(uint64_t serial, TimeMs t) const {
    for (const Memo& m : slots)
      if (m.serial == serial && m.t == t) return &m;
    return nullptr;
  }
  void Put(uint64_t serial, TimeMs t, TimeMs value) {
    slots[next] = {serial, t, value};
    next = (next + 1) % N;
  }
};
thread_local Memos<4> open_memo;
thread_local Memos<1> next_memo;

}  // namespace

bool CallingHours::OpenAt(TimeMs t) const {
  if (const Memo* m = open_memo.Find(serial_, t)) return m->value != 0;
  const bool open = ComputeOpenAt(t);
  open_memo.Put(serial_, t, open ? 1 : 0);
  return open;
}

bool CallingHours::ComputeOpenAt(TimeMs t) const {
  const TimeZone::Local l = zone_.LocalOf(t);
  return OpenOn(l.day, l.ms_of_day);
}

TimeMs CallingHours::NextChange(TimeMs t) const {
  if (const Memo* m = next_memo.Find(serial_, t)) return m->value;
  const TimeMs next = ComputeNextChange(t);
  next_memo.Put(serial_, t, next);
  return next;
}

TimeMs CallingHours::ComputeNextChange(TimeMs t) const {
  // (The boundaries tried are asked without the memo, which keeps the
  // answer about t that the next decision at t asks for again.)
  const bool open = OpenAt(t);
  const Day first = zone_.LocalOf(t).day;
  std::vector<int> minutes;
  for (Day d = first; d <= first + 400; ++d) {
    const DayType type = TypeOf(d);
    minutes.assign(1, 0);
    for (const CallingWindow& w : def_.windows)
      if (w.day_type == type) {
        minutes.push_back(w.from_minute);
        minutes.push_back(w.to_minute);
      }
    std::sort(minutes.begin(), minutes.end());
    for (int m : minutes) {
      const TimeMs b = zone_.AtLocal(d, m);
      if (b > t && ComputeOpenAt(b) != open) return b;
    }
  }
  return 0;
}

namespace {

CallingWindow Window(DayType type, int from_hour, int to_hour) {
  return {type, static_cast<uint16_t>(from_hour * 60), static_cast<uint16_t>(to_hour * 60)};
}

HolidayRule Fixed(int month, int day, int from_year = 0) {
  return {static_cast<uint8_t>(month), static_cast<uint8_t>(day), 0,
          static_cast<uint16_t>(from_year), 0};
}

HolidayRule Easter(int offset) { return {0, 0, static_cast<int16_t>(offset), 0, 0}; }

}  // namespace

CallingHoursDefined ItalyCodeOfConductHours() {
  CallingHoursDefined d;
  d.name = "it-code-of-conduct";
  d.regions = {"IT"};
  d.channels = MaskOf(Channel::kVoice) | MaskOf(Channel::kSms);
  d.time_zone = "Europe/Rome";
  d.windows = {Window(DayType::kWeekday, 9, 20), Window(DayType::kSaturday, 10, 19),
               Window(DayType::kPreHoliday, 10, 19)};
  d.holidays = {Fixed(1, 1),  Fixed(1, 6),   Easter(1),     Fixed(4, 25),
                Fixed(5, 1),  Fixed(6, 2),   Fixed(8, 15),  Fixed(11, 1),
                Fixed(12, 8), Fixed(12, 25), Fixed(12, 26), Fixed(10, 4, 2026)};
  return d;
}

CallingHoursDefined FranceD2239Hours() {
  CallingHoursDefined d;
  d.name = "fr-d223-9";
  d.regions = {"FR"};
  d.channels = MaskOf(Channel::kVoice);
  d.time_zone = "Europe/Paris";
  for (DayType t : {DayType::kWeekday, DayType::kPreHoliday}) {
    d.windows.push_back(Window(t, 10, 13));
    d.windows.push_back(Window(t, 14, 20));
  }
  d.holidays = {Fixed(1, 1),  Easter(1),    Fixed(5, 1),  Fixed(5, 8),   Easter(39),   Easter(50),
                Fixed(7, 14), Fixed(8, 15), Fixed(11, 1), Fixed(11, 11), Fixed(12, 25)};
  return d;
}

}  // namespace tacet
