// The tacet CLI's command groups, each adding its subcommands to the app.
#pragma once

#include "context.h"

namespace tacet::cli {

void AddAdminCommands(CLI::App& app, Context& c);  // init, policy, replay, rebuild, stats
void AddRpoCommands(CLI::App& app, Context& c);    // export, import-return, sessions
void AddQueryCommands(CLI::App& app, Context& c);  // check, filter, history
void AddRecordCommands(CLI::App& app,
                       Context& c);  // consent, block, unblock, justify, erase, exports
void AddProofCommands(CLI::App& app, Context& c);       // verify, key, checkpoint, proof
void AddContactCommands(CLI::App& app, Context& c);     // contact record, contact import
void AddAuditCommands(CLI::App& app, Context& c);       // audit
void AddPersonCommands(CLI::App& app, Context& c);      // person link, unlink, merge, split
void AddProvenanceCommands(CLI::App& app, Context& c);  // campaign, caller, list, lists

}  // namespace tacet::cli
