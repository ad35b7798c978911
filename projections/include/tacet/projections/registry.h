// Registries: a national opt-out list the ledger asks before a call (Italy's
// RPO today; the UK TPS, the US DNC and Belgium's list on the same seam).
//
// A registry is a definition and a layout. The definition (RegistryDefined,
// a policy event) says what it covers, for how long its answers hold and in
// which calendar; the layout is the code that reads and writes its files.
// Two kinds:
//  - round trip: the ledger uploads the numbers it means to call and
//    imports a return that says which are listed (Ledger::Export and
//    Ledger::ImportReturn drive it);
//  - downloaded list: the registry publishes its list, whole or as changes
//    since a version date, and the ledger reads it.
// Which registry's rule speaks for a number is the policy's: the
// definitions in force at the decision's moment (PolicyView::registries).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tacet/core/event.h"
#include "tacet/core/status.h"
#include "tacet/core/subject.h"
#include "tacet/core/time.h"

namespace tacet {

class Registry {
 public:
  virtual ~Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  const RegistryDefined& definition() const { return def_; }
  const std::string& name() const { return def_.name; }
  RegistryKind kind() const { return def_.kind; }
  // The registry's calendar: its windows, received days and file names.
  const TimeZone& zone() const { return zone_; }
  // A number of one of its regions.
  bool InScope(const Subject& s) const;
  // Its answers govern `channel` to `s`: in scope, on one of its channels.
  bool Covers(const Subject& s, Channel channel) const {
    return (def_.channels & MaskOf(channel)) != 0 && InScope(s);
  }

 protected:
  Registry(RegistryDefined def, TimeZone zone) : def_(std::move(def)), zone_(std::move(zone)) {}

 private:
  RegistryDefined def_;
  TimeZone zone_;
};

// One number of a return, as the registry wrote it.
struct ReturnRow {
  std::string_view number;  // its national form: digits only
  bool listed = false;      // false: cleared
  uint64_t line = 0;        // 1-based, in the file
};
struct ParsedReturn {
  ReturnLayout layout = ReturnLayout::kFiltered;
  std::vector<ReturnRow> rows;  // views into the text parsed
};

class RoundTripRegistry : public Registry {
 public:
  // The name, without extension, of part `part` (from 1) of an upload
  // whose session is named by `stamp` (CompactStamp in zone()).
  virtual std::string UploadName(std::string_view stamp, uint32_t part) const = 0;
  // The stamp in one of its upload file names, or "" when the name is not one.
  virtual std::string StampOf(std::string_view file_name) const = 0;
  // An upload file's bytes: the national forms, one per line, in order.
  virtual std::string UploadContent(std::span<const std::string_view> nationals) const = 0;
  // Every number of a return's text (valid UTF-8, a zip's member already
  // taken out), or a refusal naming each malformed line; `shown` names the
  // file in messages.
  virtual Result<ParsedReturn> ParseReturn(std::string_view text, std::string_view shown) const = 0;
  // What a return's national form is read with to make its E.164 form: the
  // country code of the registry's first region ("+39").
  virtual std::string CountryPrefix() const = 0;

 protected:
  using Registry::Registry;
};

// A list file of a downloaded-list registry: the whole list as of its
// version date, or the changes since the previous version.
struct ListFile {
  Day version_day = 0;
  bool full = true;
  std::vector<std::string> added;    // E.164 forms
  std::vector<std::string> removed;  // changes only
};

class DownloadedListRegistry : public Registry {
 public:
  virtual Result<ListFile> ParseList(std::string_view text, std::string_view shown) const = 0;

 protected:
  using Registry::Registry;
};

// The built-in definition of Italy's Registro Pubblico delle Opposizioni:
// in force on a ledger that records none.
RegistryDefined ItRpoDefinition();

// The registry of a definition, with the layout it names: InvalidArgument
// naming the field when the layout is not built in for its kind, a region
// is not known or the time zone is not in the tz database.
Result<std::shared_ptr<const Registry>> MakeRegistry(const RegistryDefined& def);

// The layouts built in, for messages: "it-rpo (round_trip)".
std::string KnownLayouts();
const char* RegistryKindName(RegistryKind k);  // "round_trip", "downloaded_list"

}  // namespace tacet
