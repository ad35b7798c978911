// JsonText writes the hot replies by hand: its output must parse as the JSON
// it means, whatever the strings hold.
#include "tacet/core/json_text.h"
#include "tacet/core/utf8.h"

#define BOOST_TEST_MODULE json_text_tests
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <random>

using namespace tacet;
using json = nlohmann::json;

BOOST_AUTO_TEST_SUITE(json_text_tests)

BOOST_AUTO_TEST_CASE(commas_nesting_and_scalars) {
  JsonText j;
  j.BeginObject().Key("a").Uint(18446744073709551615ULL).Key("b").Int(-42);
  j.Key("c").BeginArray().String("x").Null().Bool(true).BeginObject().EndObject();
  j.BeginArray().EndArray().Bool(false).EndArray();
  j.Key("d").Raw("[1,2]").Key("e").BeginObject().Key("f").String("").EndObject().EndObject();
  BOOST_TEST(j.str() == R"({"a":18446744073709551615,"b":-42,"c":["x",null,true,{},[],false],)"
                        R"("d":[1,2],"e":{"f":""}})");
  json parsed = json::parse(j.str());
  BOOST_TEST(parsed["a"].get<uint64_t>() == 18446744073709551615ULL);
  BOOST_TEST(parsed["c"].size() == 6u);
}

BOOST_AUTO_TEST_CASE(strings_are_escaped_and_kept_valid_utf8) {
  const std::string odd = std::string("q\"b\\s/\n\r\t\b\f\x01\x1f", 13) + std::string(1, '\0') +
                          "caff\xC3\xA8 \xE2\x82\xAC \xF0\x9F\x93\x9E";
  JsonText j;
  j.BeginArray().String(odd).EndArray();
  BOOST_TEST(json::parse(j.str())[0].get<std::string>() == odd);
  BOOST_TEST(j.str().find("\\u0000") != std::string::npos);

  // Bytes that are not UTF-8 (a lone continuation, a truncated sequence, an
  // overlong form, a surrogate, beyond U+10FFFF) are written as the text
  // \xNN: valid JSON, and the stray byte stays visible.
  for (std::string bad :
       {std::string("a\x80z"), std::string("a\xC3"), std::string("\xC0\xAF"),
        std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80"), std::string("\xE2\x82")}) {
    JsonText b;
    b.BeginArray().String(bad).EndArray();
    json p = json::parse(b.str());  // throws on invalid UTF-8
    BOOST_TEST(p[0].get<std::string>() == EscapeInvalidUtf8(bad));
    BOOST_TEST(p[0].get<std::string>().find("\\x") != std::string::npos);
  }
  // Random bytes always give JSON that parses.
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string s(static_cast<size_t>(rng() % 40), '\0');
    for (char& c : s) c = static_cast<char>(rng());
    JsonText r;
    r.BeginObject().Key(s).String(s).EndObject();
    BOOST_CHECK_NO_THROW(json::parse(r.str()));
  }
}

BOOST_AUTO_TEST_SUITE_END()
