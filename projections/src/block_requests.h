// The checks and the choice of lifted blocks that a subject's block and a
// person's block share (consent.cpp, persons/person_blocks.cpp).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "tacet/projections/ledger.h"

namespace tacet::internal {

// A known source, a reason and a known channel; the refusal says which.
Status CheckBlock(const BlockRequest& req);

// The unblock's sources, sorted, each known.
Result<std::vector<std::string>> CheckUnblock(const UnblockRequest& req);

// Which of a record's blocks the unblock lifts at `now`: each block of the
// sources in force on some of the asked channels, into rep->lifted and
// rep->channels. Refused when none is, or when an asked channel has none:
// `who` names the subject or the person in the message.
Status ChooseLifted(std::span<const BlockEntry> blocks, std::span<const UnblockEntry> unblocks,
                    const UnblockRequest& req, const std::vector<std::string>& sources, TimeMs now,
                    const std::string& who, UnblockReport* rep);

}  // namespace tacet::internal
