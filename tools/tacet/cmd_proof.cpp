// tacet verify, key, checkpoint and proof: what an auditor checks.
#include "commands.h"

namespace tacet::cli {

// CLI11 binds each option to storage that must outlive the parse: the
// options of these commands live for the run (static), as do the
// subcommands their callbacks consult.
void AddProofCommands(CLI::App& app, Context& c) {
  static std::string subject, person;
  // verify
  static std::string proof_file, since_file, key_arg;
  static auto* ver = app.add_subcommand(
      "verify",
      "Check the chain, the Merkle tree and every signed checkpoint; or a proof file; or that "
      "the log only grew since a checkpoint");
  ver->add_option("--proof", proof_file, "Check this proof file (from 'tacet proof') offline");
  ver->add_option("--since", since_file,
                  "Check that today's log extends this earlier checkpoint (a file)");
  ver->add_option("--key", key_arg,
                  "The ledger's public key: a file, or the key itself (from 'tacet key'); "
                  "required with --proof");
  ver->footer(
      "Examples: tacet verify\n"
      "          tacet verify --proof proof.json --key tacet.pub\n"
      "          tacet verify --since checkpoint-2026-11-01.txt");
  ver->callback([&] {
    auto read_file = [](const std::string& path) {
      std::ifstream in(path, std::ios::binary);
      if (!in) Fail(Status::InvalidArgument("cannot read '" + path + "'"));
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    auto verifier_of = [&](const std::string& arg) {
      std::string text = std::filesystem::exists(arg) ? read_file(arg) : arg;
      auto v = note::Verifier::Parse(text);
      if (!v.ok()) Fail(v.status().WithContext("--key " + arg));
      return std::move(v).value();
    };
    if (!proof_file.empty()) {
      if (key_arg.empty())
        Fail(
            Status::InvalidArgument("--proof needs --key: the public key you trust for this "
                                    "ledger ('tacet key' prints it)"));
      note::Verifier v = verifier_of(key_arg);
      auto check = VerifyProof(read_file(proof_file), v);
      if (!check.ok()) Fail(check.status().WithContext(proof_file));
      const note::Checkpoint& cp = check->checkpoint;
      std::string text =
          "ok: " + std::to_string(check->events.size()) + " event(s) " +
          (check->subject.empty() ? "" : "about " + check->subject + " ") +
          (check->person.empty() ? ""
                                 : "about person " + check->person + " and " +
                                       std::to_string(check->subjects.size()) + " subject(s) ") +
          "are in the log '" + cp.origin + "' of " + std::to_string(cp.size) +
          " events signed by " + v.name() + "\n";
      json events = json::array();
      for (const auto& pe : check->events) {
        // The sealed fields the file's data key opened: checked against the
        // ciphertext the proof covers.
        const Disclosed& d = pe.personal;
        const char* state = d.state == Disclosed::State::kOpen     ? "open"
                            : d.state == Disclosed::State::kErased ? "erased"
                            : d.state == Disclosed::State::kSealed ? "sealed"
                                                                   : "";
        std::string opened;
        if (d.state == Disclosed::State::kOpen && !d.fields.text.empty())
          opened = "  \"" + EscapeInvalidUtf8(d.fields.text) + "\"";
        else if (*state != 0 && d.state != Disclosed::State::kOpen)
          opened = std::string("  [") + state + "]";
        text += "  seq " + std::to_string(pe.event.seq) + "  " + FormatUtc(pe.event.recorded_at) +
                "  " + PayloadTypeName(pe.event.type) + opened + "\n";
        json ej = {{"seq", pe.event.seq}, {"type", PayloadTypeName(pe.event.type)}};
        if (*state != 0) ej["personal"] = state;
        if (d.state == Disclosed::State::kOpen) {
          ej["subject"] = EscapeInvalidUtf8(d.fields.subject);
          ej["text"] = EscapeInvalidUtf8(d.fields.text);
        }
        events.push_back(std::move(ej));
      }
      if (!check->pending.empty())
        text += "  not yet covered by this checkpoint: " + json(check->pending).dump() + "\n";
      Print(c,
            {{"ok", true},
             {"origin", cp.origin},
             {"size", cp.size},
             {"root", ToHex(cp.root)},
             {"events", events},
             {"pending", check->pending}},
            text);
      return;
    }
    if (!since_file.empty()) {
      const std::string old_note = read_file(since_file);
      json latest = c.Run("checkpoint", json::object());
      if (latest["key"].is_null() && key_arg.empty())
        Fail(Status::FailedPrecondition("the ledger has no checkpoint key; give --key"));
      note::Verifier v = verifier_of(key_arg.empty() ? latest["key"].get<std::string>() : key_arg);
      auto text = v.Open(old_note);
      if (!text.ok()) Fail(text.status().WithContext(since_file));
      auto old_cp = note::ParseCheckpoint(*text);
      if (!old_cp.ok()) Fail(old_cp.status().WithContext(since_file));
      json r = c.Run("consistency", {{"old_size", old_cp->size}});
      auto new_text = v.Open(r["checkpoint"].get<std::string>());
      if (!new_text.ok()) Fail(new_text.status().WithContext("the ledger's latest checkpoint"));
      note::Checkpoint new_cp = Must(note::ParseCheckpoint(*new_text));
      std::vector<Hash256> proof;
      for (const auto& h : r["proof"]) {
        auto x = HashFromBase64(h.get<std::string>());
        if (!x.ok()) Fail(x.status().WithContext("the consistency proof"));
        proof.push_back(*x);
      }
      if (old_cp->origin != new_cp.origin ||
          !merkle::VerifyConsistency(old_cp->size, new_cp.size, old_cp->root, new_cp.root, proof))
        Fail(Status::Corruption(
            "the ledger is NOT an extension of " + since_file + ": its first " +
            std::to_string(old_cp->size) +
            " events no longer hash to that checkpoint's root (the log was rewritten)"));
      // What was checked, so an auditor can check it again elsewhere: both
      // roots, the signed checkpoint of the new size and the proof.
      Print(c,
            {{"ok", true},
             {"old_size", old_cp->size},
             {"new_size", new_cp.size},
             {"origin", new_cp.origin},
             {"old_root", Base64Encode(AsBytes(old_cp->root))},
             {"new_root", Base64Encode(AsBytes(new_cp.root))},
             {"checkpoint", r["checkpoint"]},
             {"proof", r["proof"]}},
            "ok: the log of " + std::to_string(new_cp.size) + " events extends the checkpoint of " +
                std::to_string(old_cp->size) + " events in " + since_file +
                " (consistency proof of " + std::to_string(proof.size()) + " hashes, signed by " +
                v.name() + ")\n");
      return;
    }
    json r = c.Run("verify", json::object());
    if (!r["ok"].get<bool>()) {
      if (c.g.json) std::cout << ToJsonText(r, 2) << "\n";
      Fail(Status::Corruption("verify failed at seq " + Num(r, "first_bad_seq") + ": " +
                              Str(r, "problem")));
    }
    Print(c, r,
          "ok: " + Num(r, "events") + " events, head seq " + Num(r, "head_seq") + " hash " +
              Str(r, "head_hash") + "; Merkle tree and " + Num(r, "checkpoints") +
              " signed checkpoints match\n");
  });

  // key, checkpoint, proof
  static auto* key =
      app.add_subcommand("key", "Print the ledger's public key (signed-note verifier key)");
  key->footer(
      "Example: tacet key > tacet.pub   (hand it to whoever checks proofs: tacet verify --proof "
      "... --key tacet.pub)");
  key->callback([&] {
    json r = c.Run("checkpoint", json::object());
    if (r["key"].is_null())
      Fail(
          Status::FailedPrecondition("the ledger has no checkpoint key yet (tacet init makes it)"));
    Print(c, {{"key", r["key"]}}, Str(r, "key") + "\n");
  });
  static uint64_t cp_size = 0;
  static auto* chp = app.add_subcommand("checkpoint", "Print the latest signed checkpoint");
  chp->add_option("--size", cp_size, "The checkpoint of exactly this many events");
  chp->footer("Example: tacet checkpoint > checkpoint-$(date +%F).txt");
  chp->callback([&] {
    json args = json::object();
    if (cp_size > 0) args["size"] = cp_size;
    json r = c.Run("checkpoint", args);
    if (r["checkpoint"].is_null())
      Fail(Status::FailedPrecondition("the ledger has no checkpoint yet"));
    Print(c, r, Str(r, "checkpoint"));
  });
  static uint64_t proof_seq = 0;
  static std::string proof_out;
  static auto* prf = app.add_subcommand(
      "proof",
      "Write a self-contained proof that a subject's events (or one event) are in the log");
  prf->add_option("SUBJECT", subject, "Phone number or e-mail");
  prf->add_option("--seq", proof_seq, "Prove this one event instead");
  prf->add_option("--person", person,
                  "Prove every event about this person of the CRM and each number linked to it");
  prf->add_option("--out", proof_out, "Write the proof here (default: stdout)");
  prf->footer(
      "Examples: tacet proof +390612345678 --out proof.json\n"
      "          tacet proof --person ANAG-0042 --out person-proof.json\n"
      "The receiver checks it with: tacet verify --proof proof.json --key tacet.pub");
  prf->callback([&] {
    if (int(!subject.empty()) + int(proof_seq != 0) + int(!person.empty()) != 1)
      Fail(Status::InvalidArgument("give one of SUBJECT, --person ID or --seq N"));
    json args = json::object();
    if (!subject.empty()) args["subject"] = subject;
    if (!person.empty()) args["person"] = person;
    if (proof_seq) args["seq"] = proof_seq;
    json r = c.Run("proof", args);
    std::string doc = ToJsonText(r, 2) + "\n";
    if (proof_out.empty()) {
      std::cout << doc;
      return;
    }
    if (std::filesystem::exists(proof_out))
      Fail(Status::AlreadyExists("'" + proof_out + "' already exists; choose another name"));
    std::ofstream out(proof_out, std::ios::binary);
    out << doc;
    if (!out.flush()) Fail(Status::IOError("cannot write '" + proof_out + "'"));
    std::cerr << "wrote " << proof_out << ": " << r["events"].size() << " event(s)"
              << (r["pending"].empty()
                      ? ""
                      : ", " + std::to_string(r["pending"].size()) + " newer than the checkpoint")
              << "\n";
  });
}

}  // namespace tacet::cli
