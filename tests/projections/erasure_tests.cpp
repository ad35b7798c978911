// Issue 16: pseudonymous subjects and erasure. No key of any column family
// holds a subject in clear; after `erase` no file of the data directory
// holds the subject's E.164 form, national form or e-mail address, while its
// blocks still deny and verify, old checkpoints and old proofs still pass.
#define BOOST_TEST_MODULE erasure_tests
#include <boost/test/unit_test.hpp>

#include <rocksdb/db.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "ledger_fixture.h"
#include "tacet/core/codec.h"
#include "tacet/core/key_store.h"
#include "tacet/core/note.h"
#include "tacet/projections/proof.h"

using namespace tacet;
using test::kOfficer;

namespace {

namespace fs = std::filesystem;

// Every file under `dir` whose bytes contain `needle`.
std::vector<std::string> FilesHolding(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.find(needle) != std::string::npos) out.push_back(e.path().string());
  }
  return out;
}

size_t FileCount(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

// Every key of every column family of the RocksDB database at `dir`.
std::vector<std::pair<std::string, std::string>> AllKeys(const std::string& dir) {
  std::vector<std::string> names;
  BOOST_TEST_REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  BOOST_TEST_REQUIRE(
      rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir, descs, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < handles.size(); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      out.emplace_back(names[i], it->key().ToString());
    BOOST_TEST_REQUIRE(it->status().ok());
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  return out;
}

struct ErasureFixture : test::Fixture {
  ErasureFixture() {
    PolicyConfig p;
    p.consent_types_declared = true;
    p.consent_types = {{"TEL", "Contatto telefonico", "", 0, kUsePhone},
                       {"MKT", "Marketing e-mail", "", 0, kUseEmail | kUseNewsletter}};
    p.reasons_declared = true;
    p.reasons = {{"CUST_REQ", "The customer asked to be contacted"}};
    BOOST_TEST_REQUIRE(ledger->ReconcilePolicy(p, kOfficer).ok());
  }
  // An export to <data_dir>/exports (the default), as `tacet export` does.
  ExportReport ExportHere(const std::string& candidates) {
    const std::string path = dir / "candidates.txt";
    test::WriteText(path, candidates);
    ExportRequest req;
    req.candidates_path = path;
    auto r = ledger->Export(req, kOfficer);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    return *r;
  }
  Decision Decide(const std::string& subject, Channel c) {
    auto a = ledger->Decide(subject, c, clock.NowMs());
    BOOST_TEST_REQUIRE(a.ok(), a.status().ToString());
    return a->decision;
  }
  std::string data() const { return dir / "data"; }
};

std::string Codes(const Decision& d) {
  std::string s = VerdictName(d.verdict);
  for (const auto& r : d.reasons) s += " " + r.code;
  return s;
}

note::Verifier KeyOf(const Ledger& l) {
  return note::Verifier::Parse(*l.log().CheckpointKey().value()).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(erasure_tests)

BOOST_FIXTURE_TEST_CASE(no_key_of_any_family_holds_a_subject_in_clear, ErasureFixture) {
  const std::vector<std::string> numbers = {"0612345671", "3471234567", "0612345679"};
  ExportHere("0612345671\n3471234567\n0612345679\n");
  BOOST_TEST_REQUIRE(Import(1, "2026-08-31", "0612345671\n3471234567\n").ok());
  BOOST_TEST_REQUIRE(
      ledger->GrantConsent({"3471234567", "TEL", "2026-08-30", "call 3471234567"}, kOfficer).ok());
  BOOST_TEST_REQUIRE(
      ledger->GrantConsent({"Mario.Rossi@Example.it", "MKT", "2026-08-30", "web"}, kOfficer).ok());
  BOOST_TEST_REQUIRE(
      ledger->RevokeConsent("mario.rossi@example.it", "MKT", "asked", kOfficer).ok());
  BOOST_TEST_REQUIRE(
      ledger->Block({"0612345679", kEveryChannel, "asked", "request"}, kOfficer).ok());
  BOOST_TEST_REQUIRE(ledger
                         ->BlockFile("list.txt", {"", kEveryChannel, "robinson list", "robinson"},
                                     kOfficer, std::string("0612345671\nanna@example.it\n"))
                         .ok());
  BOOST_TEST_REQUIRE(
      ledger->Unblock({"0612345671", kEveryChannel, {}, "error", "m.bianchi"}, kOfficer).ok());
  BOOST_TEST_REQUIRE(
      ledger->Justify({"0612345671", Channel::kVoice, "CUST_REQ", "op7"}, kOfficer).ok());
  ledger.reset();  // flushed: the keys are in SST files as well as the WAL

  const std::vector<std::string> forms = {
      "+390612345671",  "0612345671", "+393471234567",          "3471234567",
      "+390612345679",  "0612345679", "mario.rossi@example.it", "Mario.Rossi@Example.it",
      "anna@example.it"};
  for (const std::string& db : {data() + "/ledger", data() + "/keys"}) {
    auto keys = AllKeys(db);
    BOOST_TEST(keys.size() > 0u, db);
    for (const auto& [family, key] : keys)
      for (const std::string& form : forms)
        BOOST_TEST(key.find(form) == std::string::npos,
                   db << " family " << family << " has a key holding " << form);
  }
  // No event either: every byte of the ledger database is free of them.
  for (const std::string& form : forms) {
    auto holding = FilesHolding(data() + "/ledger", form);
    BOOST_TEST(holding.empty(), form << " is in " << (holding.empty() ? "" : holding[0]));
  }
}

BOOST_FIXTURE_TEST_CASE(erase_leaves_no_trace_in_any_file_and_keeps_the_suppression,
                        ErasureFixture) {
  const std::string e164 = "+390612345679", national = "0612345679";
  // The subject's whole life: exported and cleared, a consent with evidence
  // naming it, a block, an unblock and a block again, a justification.
  ExportReport ex = ExportHere("0612345679\n0612345671\n");
  BOOST_TEST_REQUIRE(ex.exported == 2u);
  BOOST_TEST_REQUIRE(Import(1, "2026-08-31", "0612345679\n0612345671\n").ok());
  BOOST_TEST_REQUIRE(
      ledger
          ->GrantConsent({national, "TEL", "2026-08-30", "call recorded from 0612345679"}, kOfficer)
          .ok());
  BOOST_TEST_REQUIRE(
      ledger->Justify({national, Channel::kVoice, "CUST_REQ", "op7"}, kOfficer).ok());
  BOOST_TEST_REQUIRE(
      ledger->Block({national, kEveryChannel, "said: never call 0612345679", "objection"}, kOfficer)
          .ok());
  BOOST_TEST_REQUIRE(
      ledger->Unblock({national, kEveryChannel, {}, "wrong person", "m.bianchi"}, kOfficer).ok());
  BOOST_TEST_REQUIRE(
      ledger->Block({national, kEveryChannel, "objection again", "objection"}, kOfficer).ok());
  // An e-mail subject, erased too.
  const std::string email = "luisa.verdi@example.it";
  BOOST_TEST_REQUIRE(
      ledger->GrantConsent({email, "MKT", "2026-08-30", "form of " + email}, kOfficer).ok());
  BOOST_TEST_REQUIRE(ledger->log().Checkpoint().ok());
  const uint64_t size_before = ledger->log().head().seq;
  const std::string old_checkpoint = *ledger->log().LatestCheckpoint().value();
  const note::Verifier key = KeyOf(*ledger);
  auto old_proof = MakeProof(*ledger, ProofRequest{national, 0});
  BOOST_TEST_REQUIRE(old_proof.ok(), old_proof.status().ToString());
  BOOST_TEST_REQUIRE(old_proof->contains("data_key"));
  BOOST_TEST(!FilesHolding(data(), national).empty());  // the export files, at least

  // The data key that sealed those fields: in the key store's files now.
  const DataKey data_key =
      ledger->DataKeyOf(*ledger->IdOf(*ledger->ParseSubject(national))).value().value();
  const std::string key_bytes(reinterpret_cast<const char*>(data_key.data()), data_key.size());
  BOOST_TEST(!FilesHolding(data() + "/keys", key_bytes).empty());

  SetNow("2026-09-01 10:00");
  auto erased = ledger->Erase({national, "DPO-2026-118", "m.bianchi"}, kOfficer);
  BOOST_TEST_REQUIRE(erased.ok(), erased.status().ToString());
  BOOST_TEST(erased->key_destroyed);
  BOOST_TEST(erased->subject == e164);
  // The upload files still list it: named, for `exports prune`.
  BOOST_TEST_REQUIRE(erased->export_files.size() == 2u);  // the .txt and the .zip
  BOOST_TEST(erased->export_files[0].find(data() + "/exports/crm") == 0u);
  auto mail = ledger->Erase({email, "DPO-2026-119", "m.bianchi"}, kOfficer);
  BOOST_TEST_REQUIRE(mail.ok(), mail.status().ToString());
  BOOST_TEST(mail->export_files.empty());
  auto pruned = ledger->PruneExports(ledger->zone().DayOf(clock.NowMs()) + 1);
  BOOST_TEST_REQUIRE(pruned.ok(), pruned.status().ToString());
  BOOST_TEST(pruned->removed.size() == 2u);
  BOOST_TEST(pruned->sessions == 1u);

  // Still suppressed: every channel denies, the blocks are still evidence.
  const Decision voice = Decide(national, Channel::kVoice);
  BOOST_TEST(Codes(voice) == "deny erased", Codes(voice));
  BOOST_TEST(voice.evidence == std::vector<uint64_t>{erased->seq});
  BOOST_TEST(Codes(Decide(email, Channel::kEmail)) == "deny erased");
  // Before the erasure, the blocks denied (the past is unchanged).
  auto before = ledger->Decide(national, Channel::kVoice, At("2026-08-31 18:00"));
  BOOST_TEST(Codes(before->decision) == "deny blocked");
  // An erased subject is never exported again, and gets no new personal data.
  ExportReport again = ExportHere("0612345679\n");
  BOOST_TEST(again.exported == 0u);
  BOOST_TEST(again.erased == 1u);
  {
    test::HeadGuard guard(*ledger);
    auto grant = ledger->GrantConsent({national, "TEL", "2026-09-01", "again"}, kOfficer);
    BOOST_TEST(grant.status().code() == StatusCode::kFailedPrecondition);
    BOOST_TEST(grant.status().message().find("was erased (seq " + std::to_string(erased->seq)) !=
                   std::string::npos,
               grant.status().message());
    auto twice = ledger->Erase({national, "DPO-2026-120", "m.bianchi"}, kOfficer);
    BOOST_TEST(twice.status().message().find("already erased") != std::string::npos);
    auto unblock = ledger->Unblock({national, kEveryChannel, {}, "x", "m.bianchi"}, kOfficer);
    BOOST_TEST(!unblock.ok());
    guard.Check();
  }
  // History: every event, the personal fields erased.
  auto history = ledger->History(national);
  BOOST_TEST_REQUIRE(history.ok());
  size_t sealed = 0;
  for (const HistoryItem& h : *history) {
    if (SealedOf(h.payload) == nullptr) continue;
    ++sealed;
    BOOST_TEST((h.personal.state == Disclosed::State::kErased));
    const std::string line = DescribeEvent(h.event, h.payload, ledger->zone(), &h.personal);
    BOOST_TEST(line.find(national) == std::string::npos, line);
  }
  BOOST_TEST(sealed == 5u);  // consent, justification, block, unblock, block

  // The ledger, every old checkpoint and the old proof still verify; a new
  // proof says the subject is erased and carries no key.
  BOOST_TEST(ledger->Verify().ok);
  BOOST_TEST(key.Open(old_checkpoint).ok());
  auto old_check = VerifyProof(old_proof->dump(), key);
  BOOST_TEST_REQUIRE(old_check.ok(), old_check.status().ToString());
  BOOST_TEST(old_check->checkpoint.size == size_before);
  BOOST_TEST_REQUIRE(ledger->log().Checkpoint().ok());
  auto new_proof = MakeProof(*ledger, ProofRequest{national, 0});
  BOOST_TEST_REQUIRE(new_proof.ok());
  BOOST_TEST(!new_proof->contains("data_key"));
  BOOST_TEST((*new_proof)["erased"] == true);
  auto new_check = VerifyProof(new_proof->dump(), key);
  BOOST_TEST_REQUIRE(new_check.ok(), new_check.status().ToString());
  BOOST_TEST(new_check->events.size() == old_check->events.size() + 1);
  // (The old proof's first events are byte for byte in the new one.)
  for (size_t i = 0; i < old_check->events.size(); ++i)
    BOOST_TEST(EncodeEventBody(new_check->events[i].event) ==
               EncodeEventBody(old_check->events[i].event));

  // Closed, and reopened once: no byte of any file of the data directory
  // holds the subject in any of its forms.
  ledger.reset();
  {
    LedgerOptions o;
    o.data_dir = data();
    o.clock = &clock;
    auto reopened = Ledger::Open(o);
    BOOST_TEST_REQUIRE(reopened.ok(), reopened.status().ToString());
    BOOST_TEST(Codes(reopened.value()->Decide(national, Channel::kSms, clock.NowMs())->decision) ==
               "deny erased");
  }
  BOOST_TEST(FileCount(data()) > 10u);
  // Nor the data key: WAL, memtable and older SST files of the key store
  // included.
  BOOST_TEST(FilesHolding(data(), key_bytes).empty());
  for (const std::string& form : {e164, national, std::string("390612345679"), email}) {
    auto holding = FilesHolding(data(), form);
    BOOST_TEST(holding.empty(), form << " is still in " << (holding.empty() ? "" : holding[0]));
  }
  // The other number of the session is untouched.
  BOOST_TEST(FilesHolding(data(), "0612345671").empty());  // exports pruned; the rest sealed
}

BOOST_FIXTURE_TEST_CASE(an_erasure_cut_short_is_finished_by_the_next_open, ErasureFixture) {
  const std::string national = "0612345679";
  BOOST_TEST_REQUIRE(ledger->Block({national, kEveryChannel, "asked", "request"}, kOfficer).ok());
  BOOST_TEST_REQUIRE(
      ledger->Block({"0612345671", kEveryChannel, "asked", "request"}, kOfficer).ok());
  const SubjectId id = *ledger->IdOf(*ledger->ParseSubject(national));
  const SubjectId other = *ledger->IdOf(*ledger->ParseSubject("0612345671"));
  BOOST_TEST_REQUIRE(ledger->Erase({national, "DPO-1", "m.bianchi"}, kOfficer).ok());
  ledger.reset();
  // What a crash after the event and before the key's destruction leaves:
  // the key, and the marker.
  {
    auto keys = KeyStore::Open(data() + "/keys", {});
    BOOST_TEST_REQUIRE(keys.ok());
    BOOST_TEST_REQUIRE((*keys)->GetOrCreate(std::span(&id, 1)).ok());
    EventLogOptions lo;
    lo.projection_families = ProjectionFamilies();
    auto log = EventLog::Open(data() + "/ledger", lo, &clock);
    BOOST_TEST_REQUIRE(log.ok());
    BOOST_TEST_REQUIRE((*log)->PutMeta(kErasingMetaKey, std::string(AsBytes(id))).ok());
  }
  {
    LedgerOptions o;
    o.data_dir = data();
    o.clock = &clock;
    auto l = Ledger::Open(o);
    BOOST_TEST_REQUIRE(l.ok(), l.status().ToString());
    BOOST_TEST(!(*l)->DataKeyOf(id)->has_value());  // destroyed by the open
    BOOST_TEST(!(*l)->log().GetMeta(kErasingMetaKey)->has_value());
    // A marker whose erasure never committed is dropped; the key stays.
    BOOST_TEST_REQUIRE((*l)->log().PutMeta(kErasingMetaKey, std::string(AsBytes(other))).ok());
  }
  LedgerOptions o;
  o.data_dir = data();
  o.clock = &clock;
  auto l = Ledger::Open(o);
  BOOST_TEST_REQUIRE(l.ok(), l.status().ToString());
  BOOST_TEST((*l)->DataKeyOf(other)->has_value());
  BOOST_TEST(!(*l)->log().GetMeta(kErasingMetaKey)->has_value());
}

BOOST_FIXTURE_TEST_CASE(a_ledger_refuses_a_missing_or_foreign_secret, ErasureFixture) {
  BOOST_TEST_REQUIRE(
      ledger->Block({"0612345679", kEveryChannel, "asked", "request"}, kOfficer).ok());
  ledger.reset();
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat((data() + "/ledger.secret").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  LedgerOptions o;
  o.data_dir = data();
  o.clock = &clock;
  fs::rename(data() + "/ledger.secret", dir / "secret.bak");
  auto missing = Ledger::Open(o);
  BOOST_TEST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.status().message().find("ledger.secret' is missing") != std::string::npos,
             missing.status().message());
  // Another ledger's secret names other subjects: refused.
  test::WriteText(data() + "/ledger.secret", std::string(64, 'a') + "\n");
  fs::permissions(data() + "/ledger.secret", fs::perms::owner_read | fs::perms::owner_write);
  auto foreign = Ledger::Open(o);
  BOOST_TEST_REQUIRE(!foreign.ok());
  BOOST_TEST(foreign.status().message().find("is not this ledger's") != std::string::npos,
             foreign.status().message());
  fs::remove(data() + "/ledger.secret");
  fs::rename(dir / "secret.bak", data() + "/ledger.secret");
  auto back = Ledger::Open(o);
  BOOST_TEST_REQUIRE(back.ok(), back.status().ToString());
  BOOST_TEST(Codes((*back)->Decide("0612345679", Channel::kVoice, clock.NowMs())->decision) ==
             "deny blocked");
}

BOOST_AUTO_TEST_SUITE_END()
