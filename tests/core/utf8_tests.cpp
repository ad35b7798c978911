// The UTF-8 rule: what is refused (and where), how stray bytes are shown,
// and where a message may cut text.
#include "tacet/core/utf8.h"

#define BOOST_TEST_MODULE utf8_tests
#include <boost/test/unit_test.hpp>
#include <random>

using namespace tacet;

BOOST_AUTO_TEST_SUITE(utf8_tests)

BOOST_AUTO_TEST_CASE(valid_text_is_accepted) {
  for (std::string ok : {std::string(""), std::string("plain ascii, long enough to take words"),
                         std::string("caff\xC3\xA8"), std::string("\xE2\x82\xAC 5"),
                         std::string("\xF0\x9F\x93\x9E tel"), std::string("\xF4\x8F\xBF\xBF"),
                         std::string("\x00\x7F", 2)})
    BOOST_TEST(IsValidUtf8(ok));
}

BOOST_AUTO_TEST_CASE(the_first_invalid_byte_is_named_by_offset) {
  struct Case {
    std::string text;
    size_t offset;
  };
  for (const Case& c : std::vector<Case>{
           {"\xFF", 0},
           {"abc\x80", 3},                // lone continuation
           {"caff\xE8 latte", 4},         // Latin-1
           {"0123456789abcdef\xC3", 16},  // truncated, after the fast path
           {"\xC0\xAF", 0},               // overlong
           {"ok \xED\xA0\x80", 3},        // surrogate
           {"\xF4\x90\x80\x80", 0},       // beyond U+10FFFF
           {"\xE2\x82\xAC\xE2\x82", 3},   // a good one, then a cut one
       }) {
    auto at = FirstInvalidUtf8(c.text);
    BOOST_REQUIRE(at.has_value());
    BOOST_TEST(*at == c.offset);
  }
  BOOST_TEST(DescribeInvalidByte("caff\xE8", 4) == "byte offset 4 (0xE8)");
}

BOOST_AUTO_TEST_CASE(stray_bytes_are_escaped_and_the_rest_kept) {
  BOOST_TEST(EscapeInvalidUtf8("caff\xE8 \xC3\xA8") == "caff\\xE8 \xC3\xA8");
  BOOST_TEST(EscapeInvalidUtf8("\xFF\xFE") == "\\xFF\\xFE");
  BOOST_TEST(EscapeInvalidUtf8("clean") == "clean");
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string s(rng() % 48, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    BOOST_TEST(IsValidUtf8(EscapeInvalidUtf8(s)));
  }
}

BOOST_AUTO_TEST_CASE(truncation_never_cuts_a_character) {
  const std::string euros = "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC";  // three 3-byte characters
  BOOST_TEST(TruncateUtf8(euros, 9) == euros);
  BOOST_TEST(TruncateUtf8(euros, 8) == euros.substr(0, 6));
  BOOST_TEST(TruncateUtf8(euros, 7) == euros.substr(0, 6));
  BOOST_TEST(TruncateUtf8(euros, 6) == euros.substr(0, 6));
  BOOST_TEST(TruncateUtf8(euros, 2) == "");
  for (size_t n = 0; n <= euros.size(); ++n) BOOST_TEST(IsValidUtf8(TruncateUtf8(euros, n)));
}

BOOST_AUTO_TEST_SUITE_END()
