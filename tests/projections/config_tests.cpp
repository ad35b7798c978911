// The configuration file: values that would open the daemon to every user or
// wrap silently are refused, naming the file, line and key.
#include "tacet/service/config.h"

#include <string>

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
  BOOST_TEST(c->ledger.policy.registries.at(0).definition.time_zone == "Europe/Rome");
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

// Issue 16: registries are declared in [registry.NAME] and recorded as
// policy; a definition that cannot be served is refused where it is written.
BOOST_AUTO_TEST_CASE(a_registry_is_declared_by_name_with_its_scope_and_channels) {
  auto c = ParseConfig(
      "[registry.it-rpo]\nregions = [\"IT\", \"SM\"]\nchannels = [\"voice\"]\nvalidity_days = 10\n",
      "t.toml");
  BOOST_TEST_REQUIRE(c.ok(), c.status().ToString());
  const PolicyConfig& p = c->ledger.policy;
  BOOST_TEST(p.registries_declared);
  BOOST_TEST_REQUIRE(p.registries.size() == 1u);
  const RegistryDefined& d = p.registries[0].definition;
  BOOST_TEST(d.name == "it-rpo");
  BOOST_TEST(d.layout == "it-rpo");
  BOOST_TEST((d.regions == std::vector<std::string>{"IT", "SM"}));
  BOOST_TEST(d.channels == MaskOf(Channel::kVoice));
  BOOST_TEST(d.validity_days == 10u);
  // Left out: nothing declared, and a writer records nothing about registries.
  BOOST_TEST(!ParseConfig("", "t.toml")->ledger.policy.registries_declared);
  // An empty [registry] retires every registry the ledger has.
  auto none = ParseConfig("[registry]\n", "t.toml");
  BOOST_TEST_REQUIRE(none.ok(), none.status().ToString());
  BOOST_TEST(none->ledger.policy.registries_declared);
  BOOST_TEST(none->ledger.policy.registries.empty());

  auto list =
      ParseConfig("[registry.uk-tps]\nkind = \"downloaded_list\"\nlayout = \"uk-tps\"\n", "t.toml");
  BOOST_TEST(list.status().message() ==
             "t.toml:1: registry uk-tps: no downloaded_list layout 'uk-tps' is built in (known: "
             "it-rpo (round_trip))");
  auto kind = ParseConfig("[registry.x]\nkind = \"both\"\n", "t.toml");
  BOOST_TEST(kind.status().message() ==
             "t.toml:2: registry.x.kind must be round_trip or downloaded_list, not 'both'");
  auto prefix = ParseConfig("[registry.it-rpo]\nfile_prefix = \"../up\"\n", "t.toml");
  BOOST_TEST(prefix.status().message() ==
             "t.toml:1: registry it-rpo: file_prefix '../up' must be letters, digits, '_' or '-'");
  auto channel = ParseConfig("[registry.it-rpo]\nchannels = [\"fax\"]\n", "t.toml");
  BOOST_TEST(channel.status().message().find("t.toml:2: registry.it-rpo.channels: unknown channel "
                                             "'fax'") == 0,
             channel.status().message());
  auto name = ParseConfig("[registry.\"IT RPO\"]\n", "t.toml");
  BOOST_TEST(name.status().message() ==
             "t.toml:1: registry name 'IT RPO' must be 1 to 32 lowercase letters, digits, '_' or "
             "'-'");
  auto region = ParseConfig("[registry.it-rpo]\nregions = \"IT\"\n", "t.toml");
  BOOST_TEST(region.status().message() ==
             "t.toml:2: 'registry.it-rpo.regions' must be an array of strings");
}

// Issue 17: outcomes, calling hours and caps as the shipped file says, and
// each mistake named with its line.
BOOST_AUTO_TEST_CASE(contact_policy_reads_as_shipped_and_refuses_mistakes) {
  auto shipped = LoadConfig(std::string(TACET_SOURCE_DIR) + "/config/tacet.toml");
  BOOST_TEST_REQUIRE(shipped.ok(), shipped.status().ToString());
  const PolicyConfig& p = shipped->ledger.policy;
  BOOST_TEST(p.outcomes_declared);
  BOOST_TEST(p.outcomes.size() == 8u);
  for (const OutcomeDefined& o : p.outcomes)
    if (o.code == "do_not_call")
      BOOST_TEST(o.blocks == (MaskOf(Channel::kVoice) | MaskOf(Channel::kSms)));
  // Italy's code of conduct binds its adherents only: off as shipped.
  BOOST_TEST_REQUIRE(p.calling_hours.size() == 1u);
  BOOST_TEST(p.calling_hours[0].name == "fr-d223-9");
  BOOST_TEST_REQUIRE(p.caps.size() == 1u);
  BOOST_TEST(p.caps[0].max_attempts == 4u);
  BOOST_TEST(p.caps[0].window_hours == 720u);
  BOOST_TEST(p.caps[0].cool_down_hours == 1440u);
  BOOST_TEST(p.caps[0].waived_by_consent);
  auto on = ParseConfig("[calling_hours]\nit-code-of-conduct = true\n", "t.toml");
  BOOST_TEST_REQUIRE(on.ok(), on.status().ToString());
  BOOST_TEST(on->ledger.policy.calling_hours.at(0).name == "it-code-of-conduct");
  auto refused = [](const std::string& text, const std::string& says) {
    auto c = ParseConfig(text, "t.toml");
    BOOST_TEST(!c.ok(), text);
    if (!c.ok())
      BOOST_TEST(c.status().message().find(says) != std::string::npos, c.status().message());
  };
  refused("[outcomes.x]\neffects = [\"happy\"]\n", "t.toml:2: unknown effect 'happy'");
  refused("[outcomes.x]\nblocks = [\"fax\"]\n", "unknown channel");
  refused("[calling_hours]\nit-code-of-conduct = 1\n", "must be true or false");
  refused("[calling_hours]\nde-nights = true\n", "unknown key 'calling_hours.de-nights'");
  refused("[caps.x]\nchannels = [\"voice\"]\nmax_attempts = 3\n",
          "max_attempts needs window_days or window_hours");
  refused("[caps.x]\nchannels = [\"voice\"]\nwindow_days = 1\nwindow_hours = 24\n", "not both");
  refused("[caps.x]\nmax_attempts = 3\nwindow_days = 1\n", "'caps.x.channels' is required");
  // Issue 18: a cap counts per subject unless it says per person.
  BOOST_TEST((p.caps[0].per == CapScope::kSubject));
  auto per = ParseConfig(
      "[caps.fl]\nchannels = [\"voice\"]\nmax_attempts = 3\nwindow_hours = 24\nper = \"person\"\n",
      "t.toml");
  BOOST_TEST_REQUIRE(per.ok(), per.status().ToString());
  BOOST_TEST((per->ledger.policy.caps.at(0).per == CapScope::kPerson));
  refused("[caps.x]\nchannels = [\"voice\"]\nper = \"household\"\n",
          "t.toml:3: caps.x.per must be \"subject\" or \"person\"");
}

BOOST_AUTO_TEST_SUITE_END()
