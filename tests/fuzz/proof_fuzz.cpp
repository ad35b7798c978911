// Proof files (tacet-proof-1) checked with a public key: a verified proof or
// a refusal naming the field.
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
        "tacet/vm/fbda36bd+8b375f37+ARSu/pAM0p1PIOwKhLIGhu/ZAvzEN11JPjRNRe2JLnFu");
    if (!v.ok()) std::abort();
    return std::move(v).value();
  }();
  (void)tacet::VerifyProof(file, key);
  return 0;
}
