#include "tacet/core/subject.h"

#define BOOST_TEST_MODULE subject_tests
#include <boost/test/unit_test.hpp>

using namespace tacet;

BOOST_AUTO_TEST_SUITE(subject_tests)

BOOST_AUTO_TEST_CASE(italian_numbers_normalise_to_e164_with_line_type) {
  SubjectParser p("IT");
  for (const char* in : {"06 1234 5678", "0612345678", "+39 06 1234 5678", "0039 06-1234-5678",
                         "(06) 1234.5678", "+39 (0)6 12345678"}) {
    auto s = p.Parse(in);
    BOOST_TEST_REQUIRE(s.ok(), in << ": " << s.status().ToString());
    BOOST_TEST(s->value == "+390612345678", in);
    BOOST_TEST(s->national == "0612345678", in);
    BOOST_TEST(s->region == "IT");
    BOOST_TEST(static_cast<int>(s->line_type) == static_cast<int>(LineType::kFixed));
  }
  auto m = p.Parse("347 123 4567");
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->value == "+393471234567");
  BOOST_TEST(static_cast<int>(m->line_type) == static_cast<int>(LineType::kMobile));
  auto free = p.Parse("800 123 456");
  BOOST_TEST_REQUIRE(free.ok());
  BOOST_TEST(static_cast<int>(free->line_type) == static_cast<int>(LineType::kOther));
}

BOOST_AUTO_TEST_CASE(foreign_numbers_keep_their_region) {
  SubjectParser p("IT");
  auto s = p.Parse("+44 20 7946 0958");
  BOOST_TEST_REQUIRE(s.ok());
  BOOST_TEST(s->value == "+442079460958");
  BOOST_TEST(s->region == "GB");
  auto va = p.Parse("+39 06 698 12345");
  BOOST_TEST_REQUIRE(va.ok());
  BOOST_TEST(va->region == "VA");
}

BOOST_AUTO_TEST_CASE(invalid_numbers_are_refused_quoting_the_input) {
  SubjectParser p("IT");
  for (const char* in : {"12", "abc", "06 12", "+39 999 999 99999999", "", "+1"}) {
    auto s = p.Parse(in);
    BOOST_TEST(!s.ok(), in);
    if (!s.ok() && *in)
      BOOST_TEST(s.status().message().find(std::string("'") + in + "'") != std::string::npos,
                 s.status().message());
  }
}

// The plain-shape fast path must agree with libphonenumber's full Parse().
BOOST_AUTO_TEST_CASE(fast_path_agrees_with_full_parser) {
  SubjectParser p("IT");
  int compared = 0;
  for (uint64_t i = 0; i < 3000; ++i) {
    uint64_t x = i * 2654435761u % 10'000'000'000ull;
    char digits[16];
    std::snprintf(digits, sizeof digits, "%010llu", static_cast<unsigned long long>(x));
    for (std::string d :
         {std::string(digits), std::string(digits + 1), std::string("3") + (digits + 1),
          std::string("0") + (digits + 2), std::string("00") + (digits + 2)}) {
      auto fast = p.ParsePhone(d);              // plain shape: fast path
      auto full = p.ParsePhone("(" + d + ")");  // parentheses force the full parser
      auto intl = p.ParsePhone("+39 " + d);
      auto intl_full = p.ParsePhone("+39 (" + d + ")");
      BOOST_TEST(fast.ok() == full.ok(), d);
      BOOST_TEST(intl.ok() == intl_full.ok(), d);
      if (fast.ok() && full.ok()) {
        BOOST_TEST(fast->value == full->value, d);
        BOOST_TEST(fast->national == full->national, d);
        BOOST_TEST(fast->region == full->region, d);
        BOOST_TEST(static_cast<int>(fast->line_type) == static_cast<int>(full->line_type), d);
        ++compared;
      }
      if (intl.ok() && intl_full.ok()) BOOST_TEST(intl->value == intl_full->value, d);
    }
  }
  BOOST_TEST(compared > 1000);
}

BOOST_AUTO_TEST_CASE(emails_are_lowercased_and_validated) {
  SubjectParser p("IT");
  auto e = p.Parse("  Mario.Rossi@Example.IT ");
  BOOST_TEST_REQUIRE(e.ok());
  BOOST_TEST(e->value == "mario.rossi@example.it");
  BOOST_TEST(static_cast<int>(e->kind) == static_cast<int>(SubjectKind::kEmail));
  for (const char* bad : {"a@b", "@example.it", "a@@example.it", "a b@example.it", "a@-x.it",
                          "a..b@x.it", "a@x..it"}) {
    auto r = p.Parse(bad);
    BOOST_TEST(!r.ok(), bad);
    if (!r.ok()) BOOST_TEST(r.status().message().find(bad) != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
