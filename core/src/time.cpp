#include "tacet/core/time.h"

#include <date/date.h>
#include <date/tz.h>

#include <charconv>
#include <chrono>
#include <cstdio>

namespace tacet {
namespace {

using date::days;
using date::sys_days;
using std::chrono::milliseconds;

const date::time_zone* Zone(const void* z) { return static_cast<const date::time_zone*>(z); }

bool ParseInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc();
}

// Parses "YYYY-MM-DD" strictly.
bool ParseYmd(std::string_view s, date::year_month_day& out) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int y, m, d;
  if (!ParseInt(s.substr(0, 4), y) || !ParseInt(s.substr(5, 2), m) || !ParseInt(s.substr(8, 2), d))
    return false;
  out = date::year{y} / date::month{static_cast<unsigned>(m)} / date::day{static_cast<unsigned>(d)};
  return out.ok();
}

// Floor division: the day (or second) that contains a negative instant too.
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void Digits(char* out, int64_t v, int n) {
  for (int i = n - 1; i >= 0; --i, v /= 10) out[i] = static_cast<char>('0' + v % 10);
}

// "YYYY-MM-DD" + sep + "hh:mm:ss" of `secs` since the epoch (19 chars, no
// NUL). False when the year is outside 0..9999: the caller falls back to
// date::format. Hot: every decision prints its times, and date::format goes
// through iostreams.
bool CivilText(int64_t secs, char sep, char* out) {
  const int64_t day = FloorDiv(secs, 86400);
  const int64_t sod = secs - day * 86400;
  const date::year_month_day ymd{sys_days{days{day}}};
  const int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) return false;
  Digits(out, y, 4);
  out[4] = '-';
  Digits(out + 5, static_cast<unsigned>(ymd.month()), 2);
  out[7] = '-';
  Digits(out + 8, static_cast<unsigned>(ymd.day()), 2);
  out[10] = sep;
  Digits(out + 11, sod / 3600, 2);
  out[13] = ':';
  Digits(out + 14, sod / 60 % 60, 2);
  out[16] = ':';
  Digits(out + 17, sod % 60, 2);
  return true;
}

}  // namespace

Result<Day> ParseDate(std::string_view text) {
  date::year_month_day ymd;
  if (!ParseYmd(text, ymd))
    return Status::InvalidArgument("not a date (expected YYYY-MM-DD): '" + std::string(text) + "'");
  return static_cast<Day>(sys_days(ymd).time_since_epoch().count());
}

std::string FormatDate(Day day) {
  char buf[20];
  if (!CivilText(static_cast<int64_t>(day) * 86400, ' ', buf)) {
    date::year_month_day ymd{sys_days{days{day}}};
    return date::format("%F", ymd);
  }
  return std::string(buf, 10);
}

std::string FormatUtc(TimeMs t) {
  char buf[24];
  const int64_t secs = FloorDiv(t, 1000);
  if (!CivilText(secs, 'T', buf))
    return date::format("%FT%TZ", date::sys_time<milliseconds>{milliseconds{t}});
  buf[19] = '.';
  Digits(buf + 20, t - secs * 1000, 3);
  std::string out(buf, 23);
  out.push_back('Z');
  return out;
}

Result<TimeZone> TimeZone::Load(const std::string& name) {
  try {
    return TimeZone(date::locate_zone(name), name);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("unknown time zone '" + name + "': " + e.what());
  }
}

TimeMs TimeZone::StartOfDay(Day day) const {
  date::local_days ld{days{day}};
  auto info = Zone(zone_)->get_info(ld);
  date::sys_seconds s;
  if (info.result == date::local_info::nonexistent) {
    s = info.first.end;  // midnight skipped by a DST jump: the day starts at the jump
  } else {
    s = date::sys_seconds{ld.time_since_epoch()} - info.first.offset;
  }
  return std::chrono::duration_cast<milliseconds>(s.time_since_epoch()).count();
}

Day TimeZone::DayOf(TimeMs t) const {
  auto local = Zone(zone_)->to_local(date::sys_time<milliseconds>{milliseconds{t}});
  return static_cast<Day>(date::floor<days>(local).time_since_epoch().count());
}

TimeZone::Local TimeZone::LocalOf(TimeMs t) const {
  const auto local = Zone(zone_)->to_local(date::sys_time<milliseconds>{milliseconds{t}});
  const auto day = date::floor<days>(local);
  return Local{static_cast<Day>(day.time_since_epoch().count()), (local - day).count()};
}

TimeMs TimeZone::AtLocal(Day day, int minute) const {
  const auto local = date::local_seconds{days{day}} + std::chrono::minutes{minute};
  const auto info = Zone(zone_)->get_info(local);
  date::sys_seconds s;
  if (info.result == date::local_info::nonexistent) {
    s = info.first.end;
  } else {
    s = date::sys_seconds{local.time_since_epoch()} - info.first.offset;
  }
  return std::chrono::duration_cast<milliseconds>(s.time_since_epoch()).count();
}

std::string TimeZone::Format(TimeMs t) const {
  const auto sys = date::floor<std::chrono::seconds>(date::sys_time<milliseconds>{milliseconds{t}});
  const date::sys_info info = Zone(zone_)->get_info(sys);
  char buf[20];
  if (!CivilText((sys + info.offset).time_since_epoch().count(), ' ', buf))
    return date::format("%F %T %Z", date::make_zoned(Zone(zone_), sys));
  buf[19] = ' ';
  std::string out(buf, 20);
  out += info.abbrev;
  return out;
}

std::string TimeZone::CompactStamp(TimeMs t) const {
  auto zt = date::make_zoned(Zone(zone_), date::floor<std::chrono::seconds>(
                                              date::sys_time<milliseconds>{milliseconds{t}}));
  return date::format("%Y%m%d%H%M%S", zt);
}

Result<TimeMs> TimeZone::Parse(std::string_view text) const {
  auto bad = [&] {
    return Status::InvalidArgument("not a time (expected YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM]): '" +
                                   std::string(text) + "'");
  };
  if (text.size() < 10) return bad();
  date::year_month_day ymd;
  if (!ParseYmd(text.substr(0, 10), ymd)) return bad();
  std::string_view rest = text.substr(10);
  int hh = 0, mi = 0, ss = 0;
  if (!rest.empty()) {
    if (rest[0] != ' ' && rest[0] != 'T') return bad();
    rest.remove_prefix(1);
    if (rest.size() < 5 || rest[2] != ':' || !ParseInt(rest.substr(0, 2), hh) ||
        !ParseInt(rest.substr(3, 2), mi))
      return bad();
    rest.remove_prefix(5);
    if (!rest.empty() && rest[0] == ':') {
      if (rest.size() < 3 || !ParseInt(rest.substr(1, 2), ss)) return bad();
      rest.remove_prefix(3);
    }
    if (hh > 23 || mi > 59 || ss > 60) return bad();
  }
  auto local = date::local_days{ymd} + std::chrono::hours{hh} + std::chrono::minutes{mi} +
               std::chrono::seconds{ss};
  date::sys_seconds sys;
  if (rest.empty()) {
    auto info = Zone(zone_)->get_info(local);
    if (info.result == date::local_info::nonexistent) {
      sys = info.first.end;
    } else {
      sys = date::sys_seconds{local.time_since_epoch()} - info.first.offset;
    }
  } else if (rest == "Z") {
    sys = date::sys_seconds{local.time_since_epoch()};
  } else if ((rest[0] == '+' || rest[0] == '-') && rest.size() == 6 && rest[3] == ':') {
    int oh, om;
    if (!ParseInt(rest.substr(1, 2), oh) || !ParseInt(rest.substr(4, 2), om)) return bad();
    auto off = std::chrono::hours{oh} + std::chrono::minutes{om};
    sys = date::sys_seconds{local.time_since_epoch()} - (rest[0] == '+' ? off : -off);
  } else {
    return bad();
  }
  return std::chrono::duration_cast<milliseconds>(sys.time_since_epoch()).count();
}

}  // namespace tacet
