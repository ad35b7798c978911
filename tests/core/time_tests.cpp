#include "tacet/core/time.h"

#define BOOST_TEST_MODULE time_tests
#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_SUITE_END()
