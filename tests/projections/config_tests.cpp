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
}

BOOST_AUTO_TEST_SUITE_END()
