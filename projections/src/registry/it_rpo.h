// Italy's Registro Pubblico delle Opposizioni: the "it-rpo" layout of a
// round-trip registry.
#pragma once

#include "tacet/projections/registry.h"

namespace tacet {

class ItRpo final : public RoundTripRegistry {
 public:
  static constexpr const char* kLayout = "it-rpo";
  ItRpo(RegistryDefined def, TimeZone zone) : RoundTripRegistry(std::move(def), std::move(zone)) {}

  std::string UploadName(std::string_view stamp, uint32_t part) const override;
  std::string StampOf(std::string_view file_name) const override;
  std::string UploadContent(std::span<const std::string_view> nationals) const override;
  Result<ParsedReturn> ParseReturn(std::string_view text, std::string_view shown) const override;
  std::string CountryPrefix() const override;
};

}  // namespace tacet
