#include "cli/admin_audit.h"

#include <iostream>
#include <set>

#include <boost/json.hpp>

#include "api/audit_events.h"
#include "cli/cli_common.h"

namespace perimeter::cli {

namespace {

namespace json = boost::json;

// The chain of parsed subcommands, outermost first.
std::vector<const CLI::App*> ParsedChain(const CLI::App& app) {
  std::vector<const CLI::App*> chain;
  const CLI::App* at = &app;
  for (;;) {
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : at->get_subcommands()) {
      if (sub->parsed()) next = sub;
    }
    if (next == nullptr) break;
    chain.push_back(next);
    at = next;
  }
  return chain;
}

std::string Camel(std::string_view words) {
  std::string out;
  bool upper = true;
  for (char c : words) {
    if (c == '-') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

bool LooksSecret(std::string_view name) {
  for (std::string_view s : {"secret", "password", "value", "token", "plaintext", "input"}) {
    if (name.find(s) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> AdministrativeEventName(const CLI::App& app) {
  const auto chain = ParsedChain(app);
  if (chain.size() < 2) return std::nullopt;
  const std::string group = chain[0]->get_name();
  const std::string verb = chain[1]->get_name();
  static const std::map<std::string, std::string> kNouns = {{"principals", "Principal"},
                                                            {"credentials", "Credential"},
                                                            {"tenants", "Tenant"},
                                                            {"guardrails", "Guardrail"},
                                                            {"keys", "Key"},
                                                            {"vault", "Token"}};
  static const std::set<std::string> kChanging = {
      "create",  "delete",   "update", "activate", "deactivate",      "revoke",
      "rotate",  "disable",  "enable", "tag",      "cancel-deletion", "put-policy",
      "version", "tokenize", "untag",  "attach",   "detach",          "schedule-deletion"};
  auto noun = kNouns.find(group);
  if (noun == kNouns.end() || !kChanging.count(verb)) return std::nullopt;
  // Multi-word verbs take the noun after their first word: put-policy -> PutKeyPolicy.
  const size_t dash = verb.find('-');
  if (dash == std::string::npos) return Camel(verb) + noun->second;
  return Camel(verb.substr(0, dash)) + noun->second + Camel(verb.substr(dash + 1));
}

int RecordAdministrativeCommand(const CLI::App& app, int rc) {
  auto name = AdministrativeEventName(app);
  if (!name) return rc;
  const Status failure = LastFailure();
  const auto chain = ParsedChain(app);
  const CLI::App* leaf = chain.back();
  std::string config_path;
  json::object params;
  params["command"] = chain[0]->get_name() + " " + leaf->get_name();
  for (const CLI::Option* opt : leaf->get_options()) {
    if (opt->count() == 0) continue;
    const std::string key = opt->get_single_name();  // long name, else short, else positional
    if (key.empty() || key == "help" || key == "h") continue;
    if (key == "config") {
      config_path = opt->as<std::string>();
      continue;
    }
    if (LooksSecret(key)) continue;
    json::array values;
    for (const std::string& v : opt->results()) values.emplace_back(v);
    params[key] = values.size() == 1 ? values[0] : json::value(std::move(values));
  }
  auto opened = Open(config_path);
  if (!opened.ok()) {
    std::cerr << "perimeter: the action is unrecorded in the audit trail: "
              << opened.status().message() << "\n";
    return 2;
  }
  const auto& rt = opened->dir->keys();
  const Status outcome =
      rc == 0 ? Status::Ok()
              : FailedPrecondition("the command failed with exit code " + std::to_string(rc));
  audit::Event e = api::AdminEvent(*name, "", json::serialize(params), outcome,
                                   rt.kms->options().region, rt.kms->options().account_id);
  auto recorded = rt.audit_log->AppendSync(audit::EventJson(e));
  if (!recorded.ok()) {
    std::cerr << "perimeter: " << (rc == 0 ? "done, but " : "")
              << "the action is unrecorded in the audit trail: " << recorded.status().message()
              << "\n";
    return 2;
  }
  return rc;
}

}  // namespace perimeter::cli
