// Sealed personal fields (core/personal.h, core/FORMAT.md).
#include "tacet/core/personal.h"

#include <cstring>

namespace tacet {
namespace {

constexpr std::string_view kAadLabel = "tacet-sealed-1";
// A sealed field holds a subject and a free text; neither comes near this.
constexpr uint32_t kMaxPart = 1u << 20;

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool TakePart(std::string_view& in, std::string* out) {
  if (in.size() < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  in.remove_prefix(4);
  if (n > in.size()) return false;
  out->assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

}  // namespace

std::string SealedAad(PayloadType type, const SubjectId& id) {
  std::string aad(kAadLabel);
  const auto t = static_cast<uint16_t>(type);
  aad.push_back(static_cast<char>(t & 0xff));
  aad.push_back(static_cast<char>(t >> 8));
  aad.append(AsBytes(id));
  return aad;
}

Result<std::string> SealPersonal(const DataKey& key, PayloadType type, const SubjectId& id,
                                 const Personal& fields) {
  if (fields.subject.size() > kMaxPart || fields.text.size() > kMaxPart)
    return Status::InvalidArgument("a personal field longer than 1 MiB");
  std::string plain;
  plain.reserve(8 + fields.subject.size() + fields.text.size());
  PutU32(plain, static_cast<uint32_t>(fields.subject.size()));
  plain.append(fields.subject);
  PutU32(plain, static_cast<uint32_t>(fields.text.size()));
  plain.append(fields.text);
  return Seal(key, SealedAad(type, id), plain);
}

Result<Personal> OpenPersonal(const DataKey& key, PayloadType type, const SubjectId& id,
                              std::string_view sealed) {
  TACET_ASSIGN_OR_RETURN(std::string plain, Unseal(key, SealedAad(type, id), sealed));
  Personal out;
  std::string_view in = plain;
  if (!TakePart(in, &out.subject) || !TakePart(in, &out.text) || !in.empty())
    return Status::Corruption("a sealed field opens to bytes that are not a subject and a text");
  return out;
}

}  // namespace tacet
