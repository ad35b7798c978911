// Signed notes, keys and checkpoints (C2SP): parsed and verified, or
// refused.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tacet/core/note.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const auto key = [] {
    auto s = tacet::note::Signer::Generate("fuzz.example/log");
    if (!s.ok()) std::abort();
    return std::move(s).value();
  }();
  (void)key.verifier().Open(text);
  (void)tacet::note::ParseCheckpoint(tacet::note::UnverifiedText(text));
  (void)tacet::note::ParseCheckpoint(text);
  (void)tacet::note::Verifier::Parse(text);
  (void)tacet::note::Signer::Parse(text);
  return 0;
}
