// Whether an attempt's caller id was registered (issue 18): read from the
// policy history under the ledger's policy lock.
#pragma once

#include <string>
#include <string_view>

#include "tacet/core/subject.h"
#include "tacet/projections/subject_state.h"

namespace tacet::internal {

// An attempt at `at` whose caller id (as the dialer wrote it; read as a
// phone number's E.164 form when it is one) was not registered for its
// campaign (or for every campaign) at `at`, while some caller id was in
// force: the audit's flag kAttemptUnregisteredCaller. A ledger with no
// caller registered then checks nothing, and parses nothing.
bool CallerUnregistered(const PolicyHistory& h, const SubjectParser& parser,
                        std::string_view caller_id, std::string_view campaign, TimeMs at);

}  // namespace tacet::internal
