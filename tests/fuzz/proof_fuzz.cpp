// Proof files (tacet-proof-2) checked with a public key: a verified proof or
// a refusal naming the field. The seeds carry a data key, so the sealed
// fields are opened and checked too; person.json is a person's file (issue 18).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tacet/projections/proof.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view file(reinterpret_cast<const char*>(data), size);
  // The key that signed the seed corpus's proofs (corpus/proof, made with
  // `tacet proof` on a scratch ledger): the fuzzer mutates proofs that pass.
  static const auto key = [] {
    auto v = tacet::note::Verifier::Parse(
        "tacet/vm/40522b97+e432e9fc+AarzfshPldGA1mhqOvribRgn/tJzecApeQhsp63u6G5g");
    if (!v.ok()) std::abort();
    return std::move(v).value();
  }();
  (void)tacet::VerifyProof(file, key);
  return 0;
}
