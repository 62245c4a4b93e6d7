#pragma once

// Records the CLI's administrative actions in the audit trail.
//
// After a command that changes the deployment has run (principals, credentials, tenants,
// guardrails, keys; vault tokenize), RecordAdministrativeCommand appends one event
// (eventSource perimeter.admin, eventType PerimeterAdminAction) named like the AWS API call it
// corresponds to ("credentials create" -> CreateCredential, "keys put-policy" -> PutKeyPolicy),
// with the command's options and arguments as requestParameters (options that could carry a
// secret are left out) and its outcome. Key operations are additionally recorded by the KMS
// itself, vault reveals and erasures by the vault, and audit exports, attestations, pruning and
// subject requests by their own commands. Read-only commands (list, get, describe, show, lint,
// query, ...) are not recorded.
//
// The action has already happened when it is recorded: if the record cannot be written, the
// command's exit code becomes 2 and the message says the action is unrecorded.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace perimeter::cli {

// The event name of the parsed command, or nullopt when it is not an administrative action.
std::optional<std::string> AdministrativeEventName(const CLI::App& app);

// Records the parsed command (if administrative) with exit code `rc`; returns the exit code to
// use.
int RecordAdministrativeCommand(const CLI::App& app, int rc);

}  // namespace perimeter::cli
