// The configuration file: values that would open the daemon to every user or
// wrap silently are refused, naming the file, line and key.
#include "tacet/projections/config.h"

#define BOOST_TEST_MODULE config_tests
#include <boost/test/unit_test.hpp>

using namespace tacet;

BOOST_AUTO_TEST_SUITE(config_tests)

BOOST_AUTO_TEST_CASE(config_refuses_a_world_socket_mode_and_wrapping_integers) {
  auto world = ParseConfig("[daemon]\nsocket_mode = \"0666\"\n", "t.toml");
  BOOST_TEST(!world.ok());
  BOOST_TEST(world.status().message().find("opens the socket to every user") != std::string::npos);
  auto wrap = ParseConfig("[registry.it-rpo]\nfresh_days = 4294967299\n", "t.toml");
  BOOST_TEST(!wrap.ok());
  BOOST_TEST(wrap.status().message().find("t.toml:2: 'fresh_days' = 4294967299 is beyond") !=
                 std::string::npos,
             wrap.status().message());
  BOOST_TEST(ParseConfig("[daemon]\nsocket_mode = \"0660\"\n", "t.toml").ok());
  // A float where a count belongs, even one far beyond any integer (found
  // by the config fuzzer: converting it was undefined behaviour).
  for (const char* days : {"7.38888e90", "365.0", "-inf", "nan"}) {
    auto f = ParseConfig(std::string("[consent_types.n]\ntitle = \"N\"\nvalidity_days = ") + days +
                             "\nuses = [\"newsletter\"]\n",
                         "t.toml");
    BOOST_TEST(!f.ok(), days);
    BOOST_TEST(f.status().message().find(
                   "t.toml:3: 'validity_days' must be a non-negative integer") != std::string::npos,
               f.status().message());
  }
}

// Issue 16: the ledger's calendar is its own, not the registry's.
BOOST_AUTO_TEST_CASE(the_ledger_has_a_time_zone_of_its_own) {
  auto c = ParseConfig("[ledger]\ntime_zone = \"Europe/London\"\n", "t.toml");
  BOOST_TEST_REQUIRE(c.ok(), c.status().ToString());
  BOOST_TEST(c->ledger.time_zone == "Europe/London");
  BOOST_TEST(c->ledger.rpo.time_zone == "Europe/Rome");
  BOOST_TEST(ParseConfig("", "t.toml")->ledger.time_zone == "Europe/Rome");
  auto mars = ParseConfig("[ledger]\ntime_zone = \"Mars/Olympus\"\n", "t.toml");
  BOOST_TEST(!mars.ok());
  BOOST_TEST(mars.status().message().find("t.toml:2") != std::string::npos,
             mars.status().message());
  BOOST_TEST(mars.status().message().find("[ledger] time_zone") != std::string::npos);
  auto other = ParseConfig("[ledger]\nzone = \"Europe/London\"\n", "t.toml");
  BOOST_TEST(!other.ok());
  BOOST_TEST(other.status().message().find("zone") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
