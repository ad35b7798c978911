#include "tacet/core/time.h"

#define BOOST_TEST_MODULE time_tests
#include <date/tz.h>

#include <boost/test/unit_test.hpp>
#include <random>

using namespace tacet;

BOOST_AUTO_TEST_SUITE(time_tests)

BOOST_AUTO_TEST_CASE(rome_days_start_at_local_midnight_across_dst) {
  auto z = TimeZone::Load("Europe/Rome");
  BOOST_TEST_REQUIRE(z.ok());
  Day d = ParseDate("2026-09-16").value();
  // CEST (UTC+2): 2026-09-16 00:00 local = 2026-09-15T22:00Z
  BOOST_TEST(FormatUtc(z->StartOfDay(d)) == "2026-09-15T22:00:00.000Z");
  Day w = ParseDate("2026-12-01").value();  // CET (UTC+1)
  BOOST_TEST(FormatUtc(z->StartOfDay(w)) == "2026-11-30T23:00:00.000Z");
  // The day of the spring change is 23 hours long.
  Day spring = ParseDate("2026-03-29").value();
  BOOST_TEST(z->StartOfDay(spring + 1) - z->StartOfDay(spring) == 23 * 3600 * 1000LL);
  BOOST_TEST(z->DayOf(z->StartOfDay(d)) == d);
  BOOST_TEST(z->DayOf(z->StartOfDay(d) - 1) == d - 1);
}

BOOST_AUTO_TEST_CASE(times_parse_in_the_zone_or_with_an_offset) {
  auto z = TimeZone::Load("Europe/Rome").value();
  BOOST_TEST(FormatUtc(z.Parse("2026-09-15 23:59").value()) == "2026-09-15T21:59:00.000Z");
  BOOST_TEST(FormatUtc(z.Parse("2026-09-15T23:59:30").value()) == "2026-09-15T21:59:30.000Z");
  BOOST_TEST(FormatUtc(z.Parse("2026-09-15T10:00Z").value()) == "2026-09-15T10:00:00.000Z");
  BOOST_TEST(FormatUtc(z.Parse("2026-09-15 10:00+05:30").value()) == "2026-09-15T04:30:00.000Z");
  BOOST_TEST(z.Parse("2026-02-30").ok() == false);
  BOOST_TEST(z.Parse("yesterday").status().message().find("'yesterday'") != std::string::npos);
  BOOST_TEST(FormatDate(ParseDate("2026-08-31").value() + 15) == "2026-09-15");
}

// FormatUtc, FormatDate and TimeZone::Format write their digits by hand (date::format
// goes through iostreams and costs microseconds per decision): they must
// print exactly what date::format prints, on both sides of DST changes, of
// the epoch and of leap days, and with milliseconds.
BOOST_AUTO_TEST_CASE(hand_written_formats_equal_date_format) {
  using std::chrono::milliseconds;
  auto z = TimeZone::Load("Europe/Rome").value();
  const date::time_zone* rome = date::locate_zone("Europe/Rome");
  std::vector<TimeMs> times = {0, -1, -999, -1000, -1001, 1, 999, 86'399'999, -86'400'000};
  for (const char* day : {"2026-03-29", "2026-10-25", "2024-02-29", "2000-02-29", "1999-12-31",
                          "2038-01-19", "2100-03-01", "1969-12-31", "1970-01-01"}) {
    TimeMs start = z.StartOfDay(ParseDate(day).value());
    for (TimeMs d = -2 * 3600'000; d <= 26 * 3600'000; d += 1800'000) times.push_back(start + d);
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i)
    times.push_back(static_cast<TimeMs>(rng() % 8'000'000'000'000ULL) - 1'000'000'000'000LL);
  size_t mismatches = 0;
  for (TimeMs t : times) {
    const auto ms = date::sys_time<milliseconds>{milliseconds{t}};
    std::string utc = date::format("%FT%TZ", ms);
    std::string local =
        date::format("%F %T %Z", date::make_zoned(rome, date::floor<std::chrono::seconds>(ms)));
    const Day day = static_cast<Day>(date::floor<date::days>(ms).time_since_epoch().count());
    const std::string ymd =
        date::format("%F", date::year_month_day{date::sys_days{date::days{day}}});
    if (FormatUtc(t) != utc || z.Format(t) != local || FormatDate(day) != ymd) {
      if (++mismatches <= 5)
        BOOST_ERROR("t=" << t << ": " << FormatUtc(t) << " vs " << utc << ", " << z.Format(t)
                         << " vs " << local << ", " << FormatDate(day) << " vs " << ymd);
    }
  }
  BOOST_TEST(mismatches == 0u);
  BOOST_TEST(times.size() > 20000u);
}

BOOST_AUTO_TEST_SUITE_END()
