// Whether an attempt's caller id was registered (issue 18): read from the
// policy history under the ledger's policy lock.
#pragma once

#include <string>
#include <string_view>

#include "tacet/core/subject.h"
#include "tacet/projections/subject_state.h"

namespace tacet::internal {

// The number a caller id names, as registered: its E.164 form when it
// parses as a phone number, else the text as given.
std::string CallerNumber(const SubjectParser& parser, std::string_view caller_id);

// An attempt at `at` whose caller id was not registered for its campaign
// (or for every campaign) at `at`, as known now, while some caller id was
// in force: the audit's flag kAttemptUnregisteredCaller. A ledger with no
// caller registered at that moment checks nothing.
bool CallerUnregistered(const PolicyHistory& h, std::string_view number, std::string_view campaign,
                        TimeMs at);

}  // namespace tacet::internal
