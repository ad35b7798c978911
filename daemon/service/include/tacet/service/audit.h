// The audit of a period's contact attempts (issue 17) written as text, CSV
// or JSON, a piece at a time: the socket's `audit` operation and the
// embedded CLI write the same bytes, and neither holds a million rows.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "tacet/core/status.h"
#include "tacet/projections/ledger.h"

namespace tacet {

enum class AuditFormat { kText, kCsv, kJson };
Result<AuditFormat> ParseAuditFormat(std::string_view name);  // "text", "csv", "json"

// The period of `--from D --to D`: each a time as TimeZone::Parse reads it;
// a bare date as `to` includes that whole day (the period ends at the next
// midnight).
Result<AuditRequest> AuditPeriod(const TimeZone& zone, std::string_view from, std::string_view to,
                                 std::string campaign);

// Runs ledger.Audit and writes its document to `sink`, in pieces of about
// a megabyte. JSON: one object (daemon/PROTOCOL.md, audit). CSV: a header
// and a row per attempt (the totals are the JSON's and the text's). Text:
// the totals, then the violations, then the other attempts.
Result<AuditTotals> WriteAudit(const Ledger& ledger, const AuditRequest& req, AuditFormat format,
                               const std::function<void(std::string_view)>& sink);

}  // namespace tacet
