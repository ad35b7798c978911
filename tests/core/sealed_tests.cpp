// The primitives of pseudonymous subjects: HMAC-SHA256 (RFC 4231's test
// cases) and AES-256-GCM (the GCM specification's test cases 13 and 14, and
// one computed independently with Python's `cryptography`).
#define BOOST_TEST_MODULE sealed_tests
#include <boost/test/unit_test.hpp>

#include <thread>
#include <vector>

#include "tacet/core/sealed.h"
#include "tacet/core/subject_id.h"

using namespace tacet;

namespace {

DataKey KeyOf(std::string_view bytes) {
  DataKey k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(bytes[i]);
  return k;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sealed_tests)

BOOST_AUTO_TEST_CASE(hmac_sha256_gives_rfc_4231s_answers) {
  BOOST_TEST(ToHex(KeyedHash(std::string(20, '\x0b')).Of("Hi There")) ==
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  KeyedHash jefe("Jefe");
  BOOST_TEST(ToHex(jefe.Of("what do ya want for nothing?")) ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // A key longer than the block is hashed first.
  BOOST_TEST(ToHex(KeyedHash(std::string(131, '\xaa'))
                       .Of("Test Using Larger Than Block-Size Key - Hash Key First")) ==
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Keyed once, the same answer every time and from every thread.
  std::vector<std::thread> threads;
  std::vector<std::string> answers(4);
  for (size_t t = 0; t < answers.size(); ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) answers[t] = ToHex(jefe.Of("what do ya want for nothing?"));
    });
  for (auto& t : threads) t.join();
  for (const auto& a : answers)
    BOOST_TEST(a == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// core/FORMAT.md: SubjectId = HMAC(secret, canonical text) and PersonId =
// HMAC(secret, 0x00 "person" 0x00 ‖ CRM id), computed independently with
// Python's hmac for the secret 0x00 0x01 ... 0x1f.
BOOST_AUTO_TEST_CASE(subject_and_person_ids_are_the_documented_keyed_hashes) {
  std::string secret;
  for (int i = 0; i < 32; ++i) secret.push_back(static_cast<char>(i));
  SubjectKeyer keyer(secret);
  BOOST_TEST(ToHex(keyer.Of("+390612345678")) ==
             "4828efe6b89390f29b0fb95abf151203a24831f497e5cb71027ac853e9a7dd00");
  BOOST_TEST(ToHex(keyer.PersonOf("ANAG-0042")) ==
             "b3ada77f1735af2ec98c75654b0f3167552c55da3517e94d9be4fdfa4731ca68");
  BOOST_TEST(ToHex(keyer.PersonOf("+390612345678")) != ToHex(keyer.Of("+390612345678")));
}

BOOST_AUTO_TEST_CASE(aes_256_gcm_gives_the_specifications_answers) {
  const DataKey zero{};
  const std::string nonce(12, '\0');
  auto tc13 = SealWithNonce(zero, nonce, "", "");
  BOOST_TEST_REQUIRE(tc13.ok());
  BOOST_TEST(ToHex(*tc13) == ToHex(nonce) + "530f8afbc74536b9a963b4f1c4cb738b");
  auto tc14 = SealWithNonce(zero, nonce, "", std::string(16, '\0'));
  BOOST_TEST_REQUIRE(tc14.ok());
  BOOST_TEST(ToHex(*tc14) ==
             ToHex(nonce) + "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
  // With additional data.
  std::string k, n;
  for (int i = 0; i < 32; ++i) k.push_back(static_cast<char>(i));
  for (int i = 0; i < 12; ++i) n.push_back(static_cast<char>(i));
  auto mine = SealWithNonce(KeyOf(k), n, "field", "+390612345678");
  BOOST_TEST_REQUIRE(mine.ok());
  BOOST_TEST(ToHex(*mine) ==
             ToHex(n) + "6c31ef2bf3d4f028b974a1bc894a0dec81f413b1c69ef044da831fc834");
  auto back = Unseal(KeyOf(k), "field", *mine);
  BOOST_TEST_REQUIRE(back.ok());
  BOOST_TEST(*back == "+390612345678");
}

BOOST_AUTO_TEST_CASE(a_seal_opens_only_with_its_key_and_context) {
  auto key = NewDataKey();
  auto other = NewDataKey();
  BOOST_TEST_REQUIRE((key.ok() && other.ok()));
  BOOST_TEST((*key != *other));
  auto a = Seal(*key, "subject-id|national", "06 1234 5678");
  auto b = Seal(*key, "subject-id|national", "06 1234 5678");
  BOOST_TEST_REQUIRE((a.ok() && b.ok()));
  BOOST_TEST(a->size() == 12u + kSealOverhead);
  BOOST_TEST((*a != *b));  // fresh nonces
  BOOST_TEST(Unseal(*key, "subject-id|national", *a).value() == "06 1234 5678");
  BOOST_TEST(!Unseal(*other, "subject-id|national", *a).ok());
  BOOST_TEST(!Unseal(*key, "subject-id|evidence", *a).ok());
  std::string flipped = *a;
  flipped[14] ^= 1;
  auto bad = Unseal(*key, "subject-id|national", flipped);
  BOOST_TEST((bad.status().code() == StatusCode::kCorruption));
  auto short_one = Unseal(*key, "", std::string(27, 'x'));
  BOOST_TEST(short_one.status().message().find("shorter than its nonce and tag") !=
             std::string::npos);
  BOOST_TEST(!SealWithNonce(*key, "short", "", "x").ok());
}

BOOST_AUTO_TEST_SUITE_END()
