// Signed notes and checkpoints (core/note.h), against the reference
// implementation's published example and every alteration of a note.
#include "tacet/core/note.h"

#define BOOST_TEST_MODULE note_tests
#include <boost/test/unit_test.hpp>

#include "tacet/core/merkle.h"
#include "test_util.h"

using namespace tacet;

namespace {

// The example of golang.org/x/mod/sumdb/note's documentation.
const std::string kGoSigner =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const std::string kGoVerifier =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const std::string kGoText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const std::string kGoSignature =
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

note::Checkpoint Sample() {
  note::Checkpoint c;
  c.origin = "tacet.example/ledger-1";
  c.size = 1234;
  c.root = merkle::LeafHash("root");
  c.extensions = {"time 2026-11-23T10:00:00.000Z"};
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(note_tests)

BOOST_AUTO_TEST_CASE(the_reference_example_is_reproduced_byte_for_byte) {
  auto signer = note::Signer::Parse(kGoSigner);
  BOOST_TEST_REQUIRE(signer.ok(), signer.status().ToString());
  BOOST_TEST(signer->Encode() == kGoSigner);
  BOOST_TEST(signer->verifier().Encode() == kGoVerifier);
  auto signed_note = signer->Sign(kGoText);
  BOOST_TEST_REQUIRE(signed_note.ok());
  // Ed25519 is deterministic: the same key and text give the same note.
  BOOST_TEST(*signed_note == kGoText + "\n" + kGoSignature);

  auto verifier = note::Verifier::Parse(kGoVerifier);
  BOOST_TEST_REQUIRE(verifier.ok(), verifier.status().ToString());
  auto text = verifier->Open(*signed_note);
  BOOST_TEST_REQUIRE(text.ok(), text.status().ToString());
  BOOST_TEST(*text == kGoText);
}

// core/FORMAT.md's example checkpoint: the empty log of the reference key,
// signed; a reader of the document alone can check it byte for byte.
BOOST_AUTO_TEST_CASE(the_documented_example_checkpoint_is_reproduced) {
  auto signer = note::Signer::Parse(kGoSigner);
  BOOST_TEST_REQUIRE(signer.ok());
  note::Checkpoint c;
  c.origin = "PeterNeumann";
  c.size = 0;
  c.root = merkle::EmptyRoot();
  c.extensions = {"time 2026-12-07T00:00:00.000Z"};
  auto signed_note = signer->Sign(note::FormatCheckpoint(c));
  BOOST_TEST_REQUIRE(signed_note.ok());
  BOOST_TEST(*signed_note ==
             "PeterNeumann\n"
             "0\n"
             "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
             "time 2026-12-07T00:00:00.000Z\n"
             "\n"
             "\xe2\x80\x94 PeterNeumann "
             "x08go+YzM24rTcDc50XncXuelt/rTrjDyUr3AGamkwAnl1bwgIYpSVrj6hAz4giXPP9a/Bf+KuxiG/"
             "bJs17pjZSeCgc=\n");
  auto verifier = note::Verifier::Parse(kGoVerifier);
  BOOST_TEST_REQUIRE(verifier.ok());
  auto opened = verifier->Open(*signed_note);
  BOOST_TEST_REQUIRE(opened.ok(), opened.status().ToString());
  auto parsed = note::ParseCheckpoint(*opened);
  BOOST_TEST_REQUIRE(parsed.ok(), parsed.status().ToString());
  BOOST_TEST(parsed->size == 0u);
}

BOOST_AUTO_TEST_CASE(signatures_by_other_keys_are_ignored_and_the_own_one_suffices) {
  auto other = note::Signer::Generate("EnochRoot");
  BOOST_TEST_REQUIRE(other.ok());
  auto by_other = other->Sign(kGoText);
  // Doubly signed: the reference's signature, then another key's line.
  std::string both = kGoText + "\n" + kGoSignature + by_other->substr(kGoText.size() + 1);
  auto peter = note::Verifier::Parse(kGoVerifier);
  BOOST_TEST(peter->Open(both).ok());
  BOOST_TEST(other->verifier().Open(both).ok());
  auto only_other = peter->Open(*by_other);
  BOOST_TEST(!only_other.ok());
  BOOST_TEST(
      only_other.status().message().find("no signature by 'PeterNeumann'") != std::string::npos,
      only_other.status().message());
}

BOOST_AUTO_TEST_CASE(a_checkpoint_round_trips_through_a_signed_note) {
  auto signer = note::Signer::Generate("tacet.example/ledger-1");
  BOOST_TEST_REQUIRE(signer.ok());
  auto again = note::Signer::Parse(signer->Encode() + "\n");  // as read from a key file
  BOOST_TEST_REQUIRE(again.ok(), again.status().ToString());
  BOOST_TEST(again->verifier().Encode() == signer->verifier().Encode());

  const note::Checkpoint c = Sample();
  const std::string text = note::FormatCheckpoint(c);
  BOOST_TEST(text == "tacet.example/ledger-1\n1234\n" + Base64Encode(AsBytes(c.root)) +
                         "\ntime 2026-11-23T10:00:00.000Z\n");
  auto signed_note = again->Sign(text);
  BOOST_TEST_REQUIRE(signed_note.ok());
  auto verifier = note::Verifier::Parse(signer->verifier().Encode());
  BOOST_TEST_REQUIRE(verifier.ok());
  auto opened = verifier->Open(*signed_note);
  BOOST_TEST_REQUIRE(opened.ok(), opened.status().ToString());
  auto parsed = note::ParseCheckpoint(*opened);
  BOOST_TEST_REQUIRE(parsed.ok(), parsed.status().ToString());
  BOOST_TEST(parsed->origin == c.origin);
  BOOST_TEST(parsed->size == c.size);
  BOOST_TEST((parsed->root == c.root));
  BOOST_TEST(parsed->extensions == c.extensions);
}

BOOST_AUTO_TEST_CASE(an_altered_or_foreign_checkpoint_is_rejected) {
  auto signer = note::Signer::Generate("tacet.example/ledger-1");
  auto impostor = note::Signer::Generate("tacet.example/ledger-1");  // same name, other key
  const note::Checkpoint c = Sample();
  const std::string good = *signer->Sign(note::FormatCheckpoint(c));
  const note::Verifier& v = signer->verifier();
  BOOST_TEST_REQUIRE(v.Open(good).ok());

  auto altered = [&](auto change) {
    note::Checkpoint x = c;
    change(x);
    const std::string text = note::FormatCheckpoint(x);
    // The original signature lines under the altered text.
    return text + good.substr(good.find("\n\n") + 1);
  };
  std::vector<std::pair<std::string, std::string>> bad = {
      {"signed by another key", *impostor->Sign(note::FormatCheckpoint(c))},
      {"another origin", altered([](auto& x) { x.origin = "tacet.example/ledger-2"; })},
      {"a larger size", altered([](auto& x) { x.size += 1; })},
      {"a smaller size", altered([](auto& x) { x.size -= 1; })},
      {"another root", altered([](auto& x) { x.root[31] ^= 1; })},
      {"another time", altered([](auto& x) { x.extensions[0][10] = '2'; })},
      {"no signature line", good.substr(0, good.find("\n\n") + 2)},
      {"no blank line", good.substr(0, good.find("\n\n")) + good.substr(good.find("\n\n") + 1)},
      {"a signature cut by 4 characters", good.substr(0, good.size() - 5) + "\n"},
      {"a signature cut to its key id", good.substr(0, good.rfind(' ') + 1) + "AAAAAA==\n"},
      {"a flipped signature bit", good.substr(0, good.size() - 10) +
                                      (good[good.size() - 10] == 'A' ? "B" : "A") +
                                      good.substr(good.size() - 9)},
      {"no final newline", good.substr(0, good.size() - 1)},
  };
  for (const auto& [what, note_text] : bad) {
    auto r = v.Open(note_text);
    BOOST_TEST(!r.ok(), what << " was accepted");
    BOOST_TEST(r.status().code() == StatusCode::kInvalidArgument, what);
  }
  // Signing never makes a note of an invalid text.
  for (std::string text : {"", "no newline", "blank\n\nline\n", "tab\there\n", "\nleading\n"})
    BOOST_TEST(!signer->Sign(text).ok(), text);
}

BOOST_AUTO_TEST_CASE(malformed_checkpoints_are_refused_naming_the_line) {
  const std::string root = Base64Encode(AsBytes(merkle::LeafHash("x")));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"o\n12\n", "line 3"},
      {"\n12\n" + root + "\n", "line 1"},
      {"o\n012\n" + root + "\n", "line 2"},
      {"o\n-1\n" + root + "\n", "line 2"},
      {"o\n1 2\n" + root + "\n", "line 2"},
      {"o\n18446744073709551616\n" + root + "\n", "line 2"},
      {"o\n12\n" + root.substr(4) + "\n", "line 3"},
      {"o\n12\n" + Base64Encode("short") + "\n", "line 3"},
      {"o\n12\n" + root + "\n\n", "line 4"},
      {"o\n12\n" + root, "line 1"},
  };
  for (const auto& [text, line] : bad) {
    auto r = note::ParseCheckpoint(text);
    BOOST_TEST(!r.ok(), text);
    BOOST_TEST(r.status().message().find(line) != std::string::npos, r.status().message());
  }
  auto zero = note::ParseCheckpoint("o\n0\n" + root + "\n");
  BOOST_TEST_REQUIRE(zero.ok());
  BOOST_TEST(zero->size == 0u);
}

BOOST_AUTO_TEST_CASE(a_mangled_key_is_refused) {
  // As the reference's own tests do: removing any part of a key breaks it.
  for (const std::string& key : {kGoSigner, kGoVerifier}) {
    const bool is_signer = key == kGoSigner;
    for (size_t i = 0; i < key.size(); ++i) {
      for (size_t j = i + 1; j <= key.size(); ++j) {
        const std::string mangled = key.substr(0, i) + key.substr(j);
        const bool ok =
            is_signer ? note::Signer::Parse(mangled).ok() : note::Verifier::Parse(mangled).ok();
        BOOST_TEST_REQUIRE(!ok, "accepted " << mangled);
      }
    }
  }
  auto wrong_id =
      note::Verifier::Parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  BOOST_TEST(wrong_id.status().message().find("does not match") != std::string::npos,
             wrong_id.status().message());
  BOOST_TEST(!note::Signer::Generate("has space").ok());
  BOOST_TEST(!note::Signer::Generate("has+plus").ok());
  BOOST_TEST(!note::Signer::Generate("").ok());
}

BOOST_AUTO_TEST_CASE(base64_accepts_only_the_canonical_form) {
  BOOST_TEST(*Base64Decode("aGVsbG8=") == "hello");
  BOOST_TEST(*Base64Decode("") == "");
  BOOST_TEST(Base64Encode("hello") == "aGVsbG8=");
  for (std::string bad :
       {"aGVsbG9=", "aGVsbG8", "aGVs bG8=", "aGVsbG8==", "aGVsbG8=\n", "a===", "@GVsbG8="})
    BOOST_TEST(!Base64Decode(bad).ok(), bad);
}

BOOST_AUTO_TEST_SUITE_END()
