// Proof files (projections/proof.h): made by the ledger, checked with only
// the public key; every alteration rejected; still good against every later
// checkpoint through a consistency proof. And the writer's checkpoint key.
#include "tacet/projections/proof.h"

#define BOOST_TEST_MODULE proof_tests
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <filesystem>

#include "ledger_fixture.h"
#include "tacet/core/merkle.h"
#include "tacet/service/service.h"

using namespace tacet;
using json = nlohmann::json;

namespace {

const Actor kClerk{"clerk", "op1", "proof_tests"};

// Blocks `subject` and a few others, in separate commits a second apart.
void Record(test::Fixture& f, const std::vector<std::string>& subjects) {
  for (const std::string& s : subjects) {
    BlockRequest b;
    b.subject = s;
    b.reason = "asked";
    BOOST_TEST_REQUIRE(f.ledger->Block(b, kClerk).ok());
    f.clock.Advance(1000);
  }
}

note::Verifier KeyOf(const Ledger& l) {
  auto v = note::Verifier::Parse(l.log().CheckpointKey()->value());
  BOOST_TEST_REQUIRE(v.ok());
  return *v;
}

// Flips bit `bit` of a base64 string's decoded bytes.
std::string FlipBit(const std::string& b64, size_t bit) {
  std::string bytes = Base64Decode(b64).value();
  bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
  return Base64Encode(bytes);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proof_tests)

BOOST_AUTO_TEST_CASE(a_subjects_proof_verifies_with_only_the_public_key) {
  test::Fixture f;
  Record(f, {"0612345671", "0612345672", "0612345673", "0612345671", "0612345674", "0612345671"});
  BOOST_TEST_REQUIRE(f.ledger->log().Checkpoint().ok());
  auto proof = MakeProof(*f.ledger, ProofRequest{"06 1234 5671", 0});
  BOOST_TEST_REQUIRE(proof.ok(), proof.status().ToString());
  BOOST_TEST((*proof)["subject"] == "+390612345671");
  BOOST_TEST((*proof)["events"].size() == 3u);  // each block is recorded
  auto check = VerifyProof(proof->dump(2), KeyOf(*f.ledger));
  BOOST_TEST_REQUIRE(check.ok(), check.status().ToString());
  BOOST_TEST(check->checkpoint.size == f.ledger->log().head().seq);
  BOOST_TEST(check->subject == "+390612345671");
  std::vector<uint64_t> seqs;
  for (const auto& pe : check->events) seqs.push_back(pe.event.seq);
  const SubjectId id = *f.ledger->IdOf(*f.ledger->ParseSubject("+390612345671"));
  BOOST_TEST(seqs == *f.ledger->log().SeqsFor(id));
  for (const auto& pe : check->events) {
    BOOST_TEST((*SubjectOf(pe.payload) == id));
    // The file's data key opens every sealed field, which names the subject.
    BOOST_TEST((pe.personal.state == Disclosed::State::kOpen));
    BOOST_TEST(pe.personal.fields.subject == "+390612345671");
  }

  // Another key with the same name does not verify it.
  auto other = note::Signer::Generate(KeyOf(*f.ledger).name());
  auto foreign = VerifyProof(proof->dump(), other->verifier());
  BOOST_TEST(!foreign.ok());
  BOOST_TEST(foreign.status().message().find("\"checkpoint\"") != std::string::npos);
}

// Acceptance (issue 18): a person's proof holds every event about the
// person and about each number ever linked to it, and verifies offline with
// the public key; its sealed fields open and name the person and numbers.
BOOST_AUTO_TEST_CASE(a_persons_proof_verifies_with_only_the_public_key) {
  test::Fixture f;
  Record(f, {"0612345671", "0612345672", "0612345679"});
  BOOST_TEST_REQUIRE(f.ledger->LinkPerson({"ANAG-1", {"0612345671", "0612345672"}}, kClerk).ok());
  BlockRequest objection;
  objection.person = "ANAG-1";
  objection.reason = "art. 21";
  objection.source = "objection";
  auto blocked = f.ledger->Block(objection, kClerk);
  BOOST_TEST_REQUIRE(blocked.ok(), blocked.status().ToString());
  BOOST_TEST_REQUIRE(f.ledger->LinkPerson({"ANAG-2", {"0612345679"}}, kClerk).ok());
  auto merged = f.ledger->MergePersons("ANAG-1", "ANAG-2", kClerk);
  BOOST_TEST_REQUIRE(merged.ok());
  BOOST_TEST_REQUIRE(f.ledger->log().Checkpoint().ok());
  ProofRequest req;
  req.person = "ANAG-1";
  auto proof = MakeProof(*f.ledger, req);
  BOOST_TEST_REQUIRE(proof.ok(), proof.status().ToString());
  // Two blocks and two links of its numbers, its block, the merge: 6. The
  // merged person's own number is its own person's, not in this file.
  BOOST_TEST((*proof)["events"].size() == 6u);
  BOOST_TEST((*proof)["subjects"].size() == 2u);
  const note::Verifier key = KeyOf(*f.ledger);
  auto check = VerifyProof(proof->dump(2), key);
  BOOST_TEST_REQUIRE(check.ok(), check.status().ToString());
  BOOST_TEST(check->person == "ANAG-1");
  BOOST_TEST(check->subjects.size() == 2u);
  BOOST_TEST(check->subjects[0].subject == "+390612345671");
  std::vector<uint64_t> seqs;
  for (const auto& pe : check->events) {
    seqs.push_back(pe.event.seq);
    if (SealedOf(pe.payload) != nullptr)
      BOOST_TEST((pe.personal.state == Disclosed::State::kOpen), pe.event.seq);
  }
  BOOST_TEST(std::count(seqs.begin(), seqs.end(), blocked->seq) == 1);
  BOOST_TEST(std::count(seqs.begin(), seqs.end(), merged->seq) == 1);

  // Each alteration is refused: another person's name (the links' sealed
  // CRM id and the block's say otherwise), a subject dropped (its events are
  // then about nobody of the file), a key of another holder.
  json renamed = *proof;
  renamed["person"] = "ANAG-3";
  auto r1 = VerifyProof(renamed.dump(), key);
  BOOST_TEST(!r1.ok());
  json dropped = *proof;
  dropped["subjects"].erase(1);
  auto r2 = VerifyProof(dropped.dump(), key);
  BOOST_TEST(!r2.ok());
  BOOST_TEST(r2.status().message().find("neither the person nor a subject") != std::string::npos,
             r2.status().message());
  json swapped = *proof;
  swapped["person_key"] = swapped["subjects"][0]["data_key"];
  auto r3 = VerifyProof(swapped.dump(), key);
  BOOST_TEST(!r3.ok());
  BOOST_TEST(r3.status().message().find("do not open") != std::string::npos, r3.status().message());
  json both = *proof;
  both["subject"] = "+390612345671";
  BOOST_TEST(!VerifyProof(both.dump(), key).ok());
}

BOOST_AUTO_TEST_CASE(every_alteration_of_a_proof_is_rejected) {
  test::Fixture f;
  Record(f, {"0612345671", "0612345672", "0612345673", "0612345674", "0612345671", "0612345675",
             "0612345676"});
  BOOST_TEST_REQUIRE(f.ledger->log().Checkpoint().ok());
  const json good = *MakeProof(*f.ledger, ProofRequest{"0612345671", 0});
  const note::Verifier key = KeyOf(*f.ledger);
  BOOST_TEST_REQUIRE(VerifyProof(good.dump(), key).ok());
  BOOST_TEST_REQUIRE(good["events"].size() == 2u);  // seqs 1 and 5: two different paths

  size_t rejected = 0;
  auto expect_rejected = [&](const json& doc, const std::string& what) {
    auto r = VerifyProof(doc.dump(), key);
    BOOST_TEST(!r.ok(), what << " was accepted");
    BOOST_TEST(r.status().code() == StatusCode::kInvalidArgument, what);
    ++rejected;
  };
  size_t flips = 0;
  for (size_t e = 0; e < good["events"].size(); ++e) {
    const json& ev = good["events"][e];
    BOOST_TEST_REQUIRE(!ev["inclusion"].empty());
    // One bit of any hash of the path.
    for (size_t i = 0; i < ev["inclusion"].size(); ++i) {
      for (size_t bit = 0; bit < 256; ++bit, ++flips) {
        json d = good;
        d["events"][e]["inclusion"][i] = FlipBit(ev["inclusion"][i], bit);
        expect_rejected(d, "bit " + std::to_string(bit) + " of hash " + std::to_string(i));
      }
    }
    // One bit of the event itself.
    for (size_t bit = 0; bit < 8 * Base64Decode(ev["body"].get<std::string>())->size(); bit += 7) {
      json d = good;
      d["events"][e]["body"] = FlipBit(ev["body"], bit);
      expect_rejected(d, "bit " + std::to_string(bit) + " of the body");
    }
    // The index.
    for (int delta : {-1, 1, 2}) {
      json d = good;
      d["events"][e]["seq"] = ev["seq"].get<uint64_t>() + delta;
      expect_rejected(d, "seq moved by " + std::to_string(delta));
    }
    // A dropped or an added path element, at either end.
    json d = good;
    d["events"][e]["inclusion"].erase(0);
    expect_rejected(d, "first element dropped");
    d = good;
    d["events"][e]["inclusion"].erase(d["events"][e]["inclusion"].size() - 1);
    expect_rejected(d, "last element dropped");
    d = good;
    d["events"][e]["inclusion"].push_back(ev["inclusion"][0]);
    expect_rejected(d, "element added at the end");
    d = good;
    d["events"][e]["inclusion"].insert(d["events"][e]["inclusion"].begin(), ev["inclusion"][0]);
    expect_rejected(d, "element added at the start");
  }
  BOOST_TEST(flips > 1000u);
  // The tree size (and so the root it signs) is the checkpoint's: changing
  // it breaks the signature.
  for (int delta : {-1, 1}) {
    std::string cp = good["checkpoint"];
    auto text = key.Open(cp);
    note::Checkpoint c = *note::ParseCheckpoint(*text);
    std::string moved = note::FormatCheckpoint({c.origin, c.size + delta, c.root, c.extensions});
    json d = good;
    d["checkpoint"] = moved + cp.substr(cp.find("\n\n") + 1);
    expect_rejected(d, "tree size moved by " + std::to_string(delta));
  }
  json d = good;
  d["subject"] = "+390612345672";
  expect_rejected(d, "another subject");
  d = good;
  d["events"][1] = good["events"][0];
  d["events"][1]["seq"] = good["events"][1]["seq"];
  expect_rejected(d, "an event under another event's seq");
  BOOST_TEST_MESSAGE(rejected << " alterations rejected");
}

// Issue 16 (format documents): a proof is decoded as strictly as
// projections/FORMAT.md says: no member twice, events in ascending seq order
// each once, pending a list of seqs, text in UTF-8, values in their sets.
BOOST_AUTO_TEST_CASE(a_proof_is_read_exactly_as_the_format_says) {
  test::Fixture f;
  Record(f, {"0612345671", "0612345672", "0612345671"});
  BlockRequest stray;
  stray.subject = "0612345679";
  stray.reason = "a byte \xff from an older build";
  BOOST_TEST_REQUIRE(f.ledger->Block(stray, kClerk).ok());  // the library checks no UTF-8
  BOOST_TEST_REQUIRE(f.ledger->log().Checkpoint().ok());
  const note::Verifier key = KeyOf(*f.ledger);
  const json good = *MakeProof(*f.ledger, ProofRequest{"0612345671", 0});
  BOOST_TEST_REQUIRE(good["events"].size() == 2u);
  BOOST_TEST_REQUIRE(VerifyProof(good.dump(), key).ok());
  auto refused = [&](const std::string& text, const std::string& says) {
    auto r = VerifyProof(text, key);
    BOOST_TEST(!r.ok(), says);
    BOOST_TEST(r.status().message().find(says) != std::string::npos, r.status().message());
  };
  // A member twice: the parser would keep one of them.
  std::string text = good.dump();
  refused("{\"subject\":\"+390612345672\"," + text.substr(1), "\"subject\" appears twice");
  json d = good;
  // A "format" of another type (the fuzzer's find: it once threw).
  for (const json& other : {json::array(), json(16), json(nullptr), json::object()}) {
    d["format"] = other;
    refused(d.dump(), "\"format\" is not");
  }
  d = good;
  d["events"][1] = good["events"][0];
  refused(d.dump(), "ascending seq order, each once");
  d = good;
  std::swap(d["events"][0], d["events"][1]);
  refused(d.dump(), "ascending seq order, each once");
  d = good;
  d["pending"] = json::array({"3"});
  refused(d.dump(), "\"pending\": every element must be a positive integer");
  // The event with a stray byte is in the tree, and still refused.
  const json stray_proof = *MakeProof(*f.ledger, ProofRequest{"0612345679", 0});
  // (Its summary is shown with the byte replaced; the body, in base64, is
  // the event as recorded.)
  // Its stray byte is sealed: the file's data key opens it, and the opened
  // text is held to UTF-8 like any other.
  refused(stray_proof.dump(-1, ' ', false, json::error_handler_t::replace),
          "its sealed fields are not valid UTF-8");
}

BOOST_AUTO_TEST_CASE(a_proof_stays_good_against_every_later_checkpoint) {
  test::Fixture f;
  Record(f, {"0612345671", "0612345672", "0612345671"});
  BOOST_TEST_REQUIRE(f.ledger->log().Checkpoint().ok());
  const note::Verifier key = KeyOf(*f.ledger);
  const json proof = *MakeProof(*f.ledger, ProofRequest{"0612345671", 0});
  const ProofCheck first = *VerifyProof(proof.dump(), key);

  size_t later = 0;
  for (int round = 0; round < 6; ++round) {
    std::vector<std::string> more;
    for (int i = 0; i <= round * 3; ++i) more.push_back("06123456" + std::to_string(80 + i));
    Record(f, more);
    BOOST_TEST_REQUIRE(f.ledger->log().Checkpoint().ok());
    // What a client asks the socket or the CLI for: the latest checkpoint
    // and a consistency proof from the proof's checkpoint to it.
    CallContext ctx;
    Reply r = Service(*f.ledger).Execute(*FindOp("consistency"),
                                         {{"old_size", first.checkpoint.size}}, ctx);
    BOOST_TEST_REQUIRE(r.ok, r.message);
    json c = r.Result();
    auto text = key.Open(c["checkpoint"].get<std::string>());
    BOOST_TEST_REQUIRE(text.ok());
    note::Checkpoint now = *note::ParseCheckpoint(*text);
    BOOST_TEST(now.size == f.ledger->log().head().seq);
    std::vector<Hash256> path;
    for (const json& h : c["proof"]) path.push_back(HashFromBase64(h.get<std::string>()).value());
    BOOST_TEST(merkle::VerifyConsistency(first.checkpoint.size, now.size, first.checkpoint.root,
                                         now.root, path),
               first.checkpoint.size << " -> " << now.size);
    Hash256 wrong = first.checkpoint.root;
    wrong[5] ^= 4;
    BOOST_TEST(!merkle::VerifyConsistency(first.checkpoint.size, now.size, wrong, now.root, path));
    ++later;
  }
  BOOST_TEST(later == 6u);
}

BOOST_AUTO_TEST_CASE(events_after_the_latest_checkpoint_are_pending) {
  test::Fixture f;
  BlockRequest b;
  b.subject = "0612345671";
  b.reason = "asked";
  BOOST_TEST_REQUIRE(f.ledger->Block(b, kClerk).ok());  // signs a checkpoint
  // At the same moment, within the checkpoint interval: the commit signs none.
  UnblockRequest u{"0612345671", kEveryChannel, {}, "lifted", "m.bianchi"};
  BOOST_TEST_REQUIRE(f.ledger->Unblock(u, kClerk).ok());
  auto proof = MakeProof(*f.ledger, ProofRequest{"0612345671", 0});
  BOOST_TEST_REQUIRE(proof.ok());
  const uint64_t head = f.ledger->log().head().seq;
  BOOST_TEST((*proof)["pending"] == json::array({head}));
  auto check = VerifyProof(proof->dump(), KeyOf(*f.ledger));
  BOOST_TEST_REQUIRE(check.ok());
  BOOST_TEST(check->pending == std::vector<uint64_t>({head}));
}

BOOST_AUTO_TEST_CASE(the_writer_key_is_made_private_and_guarded) {
  test::Fixture f;
  const std::string key_path = f.ledger->CheckpointKeyPath();
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat(key_path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  const std::string vkey = f.ledger->log().CheckpointKey()->value();
  f.ledger.reset();

  LedgerOptions o;
  o.data_dir = f.dir / "data";
  o.clock = &f.clock;
  // Readable by everyone: a writer refuses it, a reader does not need it.
  BOOST_TEST_REQUIRE(::chmod(key_path.c_str(), 0644) == 0);
  auto refused = Ledger::Open(o);
  BOOST_TEST(refused.status().code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(refused.status().message().find("chmod 600") != std::string::npos,
             refused.status().message());
  o.read_only = true;
  BOOST_TEST(Ledger::Open(o).ok());
  o.read_only = false;
  // Missing: the ledger's key is not silently replaced.
  std::filesystem::rename(key_path, key_path + ".moved");
  auto missing = Ledger::Open(o);
  BOOST_TEST(missing.status().code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(missing.status().message().find(vkey) != std::string::npos,
             missing.status().message());
  BOOST_TEST(!std::filesystem::exists(key_path));
  // Configured where it now is, mode 0600: the writer opens.
  BOOST_TEST_REQUIRE(::chmod((key_path + ".moved").c_str(), 0600) == 0);
  o.checkpoint.key_path = key_path + ".moved";
  auto ok = Ledger::Open(o);
  BOOST_TEST_REQUIRE(ok.ok(), ok.status().ToString());
  BOOST_TEST((*ok)->log().has_checkpoint_key());
}

BOOST_AUTO_TEST_SUITE_END()
