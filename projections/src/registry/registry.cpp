#include "tacet/projections/registry.h"

#include <algorithm>

#include "it_rpo.h"

namespace tacet {

bool Registry::InScope(const Subject& s) const {
  return s.kind == SubjectKind::kPhone &&
         std::find(def_.regions.begin(), def_.regions.end(), s.region) != def_.regions.end();
}

RegistryDefined ItRpoDefinition() {
  RegistryDefined d;
  d.name = "it-rpo";
  d.kind = RegistryKind::kRoundTrip;
  d.layout = ItRpo::kLayout;
  d.regions = {"IT"};
  d.channels = MaskOf(Channel::kVoice) | MaskOf(Channel::kSms);
  d.time_zone = "Europe/Rome";
  d.validity_days = 15;
  d.overdue_days = 2;
  d.file_prefix = "crm";
  d.max_lines = 1'000'000;
  return d;
}

const char* RegistryKindName(RegistryKind k) {
  switch (k) {
    case RegistryKind::kRoundTrip:
      return "round_trip";
    case RegistryKind::kDownloadedList:
      return "downloaded_list";
  }
  return "unknown";
}

std::string KnownLayouts() { return std::string(ItRpo::kLayout) + " (round_trip)"; }

Result<std::shared_ptr<const Registry>> MakeRegistry(const RegistryDefined& def) {
  const std::string what = "registry " + def.name;
  // A name is a code: it keys records and names sessions.
  if (def.name.empty() || def.name.size() > 32 ||
      !std::all_of(def.name.begin(), def.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      }))
    return Status::InvalidArgument("registry name '" + def.name +
                                   "' must be 1 to 32 lowercase letters, digits, '_' or '-'");
  for (const std::string& r : def.regions)
    if (SubjectParser::CountryCodeOf(r) == 0)
      return Status::InvalidArgument(what + ": region '" + r + "' is not a known region");
  if (def.regions.empty()) return Status::InvalidArgument(what + ": regions is empty");
  if (def.channels == 0 || (def.channels & ~kEveryChannel) != 0)
    return Status::InvalidArgument(what + ": channels must be a non-empty set of known channels");
  auto zone = TimeZone::Load(def.time_zone);
  if (!zone.ok()) return zone.status().WithContext(what + ": time_zone");
  if (def.kind == RegistryKind::kRoundTrip && def.layout == ItRpo::kLayout) {
    // Its file names must stay file names: nothing that walks the tree.
    if (def.file_prefix.empty() ||
        !std::all_of(def.file_prefix.begin(), def.file_prefix.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
        }))
      return Status::InvalidArgument(what + ": file_prefix '" + def.file_prefix +
                                     "' must be letters, digits, '_' or '-'");
    if (def.max_lines == 0 || def.max_lines > 1'000'000)
      return Status::InvalidArgument(what + ": max_lines must be 1..1000000");
    return std::shared_ptr<const Registry>(std::make_shared<ItRpo>(def, std::move(zone).value()));
  }
  return Status::InvalidArgument(what + ": no " + RegistryKindName(def.kind) + " layout '" +
                                 def.layout + "' is built in (known: " + KnownLayouts() + ")");
}

}  // namespace tacet
