#include "cli/admin_commands.h"

#include "cli/cli_common.h"

#include <sys/stat.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "access/authorizer.h"
#include "access/who_can.h"
#include "common/clock.h"
#include "common/strings.h"
#include "iam/admin.h"
#include "policy/lint.h"

namespace perimeter::cli {

namespace json = boost::json;

namespace {

// The listener whose endpoint policy applies: the one named, or the only one. With several
// listeners the answer depends on which, so the caller must say.
Result<std::string> ListenerFor(const config::Config& cfg, const std::string& named) {
  if (!named.empty()) {
    for (const auto& l : cfg.listeners) {
      if (l.name == named) return named;
    }
    return NotFound("no listener named '" + named + "' in the config");
  }
  if (cfg.listeners.size() == 1) return cfg.listeners.front().name;
  std::string names;
  for (const auto& l : cfg.listeners) names += (names.empty() ? "" : ", ") + l.name;
  return InvalidArgument("the config has several listeners (" + names +
                         ") whose endpoint policies may differ; name one with --listener");
}

json::object PrincipalJson(const iam::Principal& p) {
  json::object o;
  o["arn"] = p.record.arn;
  o["type"] = iam::PrincipalTypeName(p.record.type);
  o["name"] = p.record.name;
  o["accountId"] = p.record.account_id;
  o["uniqueId"] = p.record.unique_id;
  o["source"] = p.record.source == iam::PrincipalSource::kConfig ? "config" : "cli";
  o["active"] = p.record.active;
  json::object tags;
  for (const auto& [k, v] : p.record.tags) tags[k] = v;
  o["tags"] = std::move(tags);
  json::array pols;
  for (const auto& d : p.record.policies) pols.push_back(json::parse(d));
  o["policies"] = std::move(pols);
  if (!p.record.permission_boundary.empty())
    o["permissionBoundary"] = json::parse(p.record.permission_boundary);
  if (!p.record.trust_policy.empty()) o["trustPolicy"] = json::parse(p.record.trust_policy);
  if (p.record.type == iam::PrincipalType::kRole)
    o["maxSessionDurationSeconds"] = p.record.max_session_seconds;
  return o;
}

}  // namespace

void AdminCommands::Register(CLI::App& app, CLI::App* policy_cmd) {
  auto config_opt = [this](CLI::App* c) {
    c->add_option("--config", config_path_, "YAML config (default: the embedded defaults)")
        ->check(CLI::ExistingFile);
  };
  auto* principals = app.add_subcommand("principals", "Users and roles");
  principals->require_subcommand(1);
  p_create_ = principals->add_subcommand("create", "Create a user or role (stored in state_dir)");
  config_opt(p_create_);
  p_create_->add_option("--user", user_, "user name");
  p_create_->add_option("--role", role_, "role name");
  p_create_->add_option("--account", account_, "12-digit account id (default: access.account_id)");
  p_create_->add_option("--tag", tags_, "KEY=VALUE (repeatable)");
  p_create_->add_option("--policy", policy_files_, "identity policy JSON file (repeatable)");
  p_create_->add_option("--permission-boundary", boundary_file_, "permissions boundary JSON file");
  p_create_->add_option("--trust-policy", trust_file_, "roles: trust policy JSON file");
  p_create_->add_option("--max-session-duration", max_session_, "roles: 1h to 12h");
  p_create_->add_flag("--json", json_, "print JSON");

  p_list_ = principals->add_subcommand("list", "List principals (config and CLI)");
  config_opt(p_list_);
  p_list_->add_flag("--json", json_, "print JSON lines");
  p_show_ = principals->add_subcommand("show", "Show one principal with its policies");
  config_opt(p_show_);
  p_show_->add_option("PRINCIPAL", principal_, "name or ARN")->required();
  p_tag_ = principals->add_subcommand("tag", "Set or remove tags of a CLI-created principal");
  config_opt(p_tag_);
  p_tag_->add_option("PRINCIPAL", principal_, "name or ARN")->required();
  p_tag_->add_option("TAGS", tags_, "KEY=VALUE ...");
  p_tag_->add_option("--remove", remove_tags_, "tag key to remove (repeatable)");
  p_deactivate_ = principals->add_subcommand(
      "deactivate", "Refuse every credential and session of a principal, from its next request");
  config_opt(p_deactivate_);
  p_deactivate_->add_option("PRINCIPAL", principal_, "name or ARN")->required();
  p_activate_ = principals->add_subcommand("activate", "Undo deactivate");
  config_opt(p_activate_);
  p_activate_->add_option("PRINCIPAL", principal_, "name or ARN")->required();

  auto* creds = app.add_subcommand("credentials", "Access keys and API keys");
  creds->require_subcommand(1);
  c_create_ = creds->add_subcommand("create", "Create an access key or API key (shown once)");
  config_opt(c_create_);
  c_create_->add_option("--principal", principal_, "user name or ARN")->required();
  c_create_->add_option("--type", cred_type_, "access-key (SigV4) or api-key (bearer)")
      ->check(CLI::IsMember({"access-key", "api-key"}));
  c_create_->add_option("--expires-in", expires_in_, "e.g. 90d, 12h (default: never)");
  c_create_->add_option("--description", description_, "free text, at most 256 characters");
  c_create_->add_flag("--json", json_, "print JSON");
  c_list_ = creds->add_subcommand("list", "List credentials (never their secrets)");
  config_opt(c_list_);
  c_list_->add_option("--principal", principal_, "only this principal's");
  c_list_->add_flag("--json", json_, "print JSON lines");
  c_revoke_ = creds->add_subcommand("revoke", "Revoke a credential, effective on its next use");
  config_opt(c_revoke_);
  c_revoke_->add_option("ID", cred_id_, "AKIA... or prm_...")->required();

  simulate_ = policy_cmd->add_subcommand(
      "simulate", "Decide one request as the gateway would, naming the deciding statements");
  config_opt(simulate_);
  simulate_->add_option("--principal", principal_, "name or ARN")->required();
  simulate_->add_option("--action", action_, "e.g. bedrock:InvokeModel")->required();
  simulate_
      ->add_option("--resource", resource_, "e.g. arn:aws:bedrock:eu-west-1::foundation-model/ID")
      ->required();
  simulate_->add_option("--tenant", tenant_, "run in this tenant's session");
  simulate_->add_option("--listener", listener_, "apply this listener's endpoint policy");
  simulate_->add_option("--region", region_, "aws:RequestedRegion (default: the first region)");
  simulate_->add_option("--source-ip", source_ip_, "aws:SourceIp");
  simulate_->add_option("--context", context_, "KEY=VALUE condition key (repeatable)");
  simulate_->add_flag("--insecure-transport", insecure_, "aws:SecureTransport=false");
  simulate_->add_flag("--json", json_, "print JSON");

  lint_ = policy_cmd->add_subcommand("lint", "Find risky or useless statements in policy files");
  lint_->add_option("FILES", lint_files_, "policy JSON files")->required();
  lint_
      ->add_option("--kind", lint_kind_,
                   "auto (default: from the document's shape), identity, trust, resource, "
                   "endpoint or deployment")
      ->check(CLI::IsMember({"auto", "identity", "trust", "resource", "endpoint", "deployment"}));
  lint_->add_flag("--json", json_, "print JSON");

  auto* access_cmd = app.add_subcommand("access", "Answer access review questions");
  access_cmd->require_subcommand(1);
  who_can_ = access_cmd->add_subcommand(
      "who-can", "Every principal and role that can perform an action on a resource");
  config_opt(who_can_);
  who_can_->add_option("--action", action_, "e.g. bedrock:InvokeModel")->required();
  who_can_->add_option("--resource", resource_, "resource ARN")->required();
  who_can_->add_option("--region", region_, "aws:RequestedRegion (default: the resource's)");
  who_can_->add_option("--listener", listener_, "apply this listener's endpoint policy");
  who_can_->add_option("--source-ip", source_ip_, "aws:SourceIp");
  who_can_->add_flag("--json", json_, "print JSON lines");
}

std::optional<int> AdminCommands::Run() {
  if (p_create_->parsed()) return PrincipalsCreate();
  if (p_list_->parsed()) return PrincipalsList();
  if (p_show_->parsed()) return PrincipalsShow();
  if (p_tag_->parsed()) return PrincipalsTag();
  if (p_deactivate_->parsed()) return PrincipalsSetActive(false);
  if (p_activate_->parsed()) return PrincipalsSetActive(true);
  if (c_create_->parsed()) return CredentialsCreate();
  if (c_list_->parsed()) return CredentialsList();
  if (c_revoke_->parsed()) return CredentialsRevoke();
  if (simulate_->parsed()) return PolicySimulate();
  if (lint_->parsed()) return PolicyLint();
  if (who_can_->parsed()) return WhoCan();
  return std::nullopt;
}

int AdminCommands::PrincipalsCreate() {
  if (user_.empty() == role_.empty()) {
    return Fail(InvalidArgument("name exactly one of --user NAME or --role NAME"));
  }
  iam::CreatePrincipalRequest req;
  req.type = role_.empty() ? iam::PrincipalType::kUser : iam::PrincipalType::kRole;
  req.name = role_.empty() ? user_ : role_;
  if (role_.empty() && p_create_->count("--max-session-duration") > 0) {
    return Fail(InvalidArgument(
        "--max-session-duration applies to roles (it caps their AssumeRole sessions); users "
        "have no sessions of their own"));
  }
  req.account_id = account_;
  auto tags = ParseKeyValues(tags_, "--tag");
  if (!tags.ok()) return Fail(tags.status());
  req.tags = *tags;
  for (const auto& f : policy_files_) {
    auto text = ReadFile(f);
    if (!text.ok()) return Fail(text.status());
    req.policies.push_back(*text);
  }
  if (!boundary_file_.empty()) {
    auto text = ReadFile(boundary_file_);
    if (!text.ok()) return Fail(text.status());
    req.permission_boundary = *text;
  }
  if (!trust_file_.empty()) {
    auto text = ReadFile(trust_file_);
    if (!text.ok()) return Fail(text.status());
    req.trust_policy = *text;
  }
  auto d = ParseDuration(max_session_);
  if (!d.ok()) return Fail(d.status());
  req.max_session_duration = std::chrono::duration_cast<std::chrono::seconds>(*d);
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  iam::Directory& dir = *opened->dir;
  auto rec = iam::CreatePrincipal(dir, req);
  if (!rec.ok()) return Fail(rec.status());
  if (json_) {
    std::cout << json::serialize(json::object{{"arn", rec->arn}, {"uniqueId", rec->unique_id}})
              << "\n";
  } else {
    std::cout << "created " << rec->arn << " (" << rec->unique_id << ")\n";
  }
  return 0;
}

int AdminCommands::PrincipalsList() {
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  iam::Directory& dir = *opened->dir;
  auto all = dir.AllPrincipals();
  if (!all.ok()) return Fail(all.status());
  for (const auto& p : *all) {
    if (json_) {
      std::cout << json::serialize(PrincipalJson(*p)) << "\n";
      continue;
    }
    std::cout << p->record.arn << "  " << (p->record.active ? "active" : "DEACTIVATED") << "  "
              << (p->record.source == iam::PrincipalSource::kConfig ? "config" : "cli");
    for (const auto& [k, v] : p->record.tags) std::cout << "  " << k << "=" << v;
    std::cout << "\n";
  }
  return 0;
}

int AdminCommands::PrincipalsShow() {
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  iam::Directory& dir = *opened->dir;
  auto arn = iam::ResolvePrincipal(dir, principal_);
  if (!arn.ok()) return Fail(arn.status());
  auto p = dir.FindPrincipal(*arn);
  json::object o = PrincipalJson(*p);
  auto creds = iam::ListCredentials(dir, *arn);
  if (!creds.ok()) return Fail(creds.status());
  json::array ca;
  for (const auto& c : *creds) {
    ca.push_back(
        json::object{{"id", c.id},
                     {"type", c.type == iam::CredentialType::kAccessKey ? "access-key" : "api-key"},
                     {"revoked", c.revoked_at != 0}});
  }
  o["credentials"] = std::move(ca);
  std::cout << json::serialize(o) << "\n";
  return 0;
}

int AdminCommands::PrincipalsTag() {
  auto tags = ParseKeyValues(tags_, "a tag");
  if (!tags.ok()) return Fail(tags.status());
  if (tags->empty() && remove_tags_.empty())
    return Fail(InvalidArgument("give tags as KEY=VALUE and/or --remove KEY"));
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  iam::Directory& dir = *opened->dir;
  auto arn = iam::ResolvePrincipal(dir, principal_);
  if (!arn.ok()) return Fail(arn.status());
  if (Status s = iam::TagPrincipal(dir, *arn, *tags, remove_tags_); !s.ok()) return Fail(s);
  std::cout << "tagged " << *arn << "\n";
  return 0;
}

int AdminCommands::PrincipalsSetActive(bool active) {
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  iam::Directory& dir = *opened->dir;
  auto arn = iam::ResolvePrincipal(dir, principal_);
  if (!arn.ok()) return Fail(arn.status());
  if (Status s = iam::SetPrincipalActive(dir, *arn, active); !s.ok()) return Fail(s);
  std::cout << (active ? "activated " : "deactivated ") << *arn
            << (active ? "\n" : ": its credentials and sessions are refused from now on\n");
  return 0;
}

int AdminCommands::CredentialsCreate() {
  std::optional<std::chrono::seconds> expires;
  if (!expires_in_.empty()) {
    auto d = ParseDuration(expires_in_);
    if (!d.ok()) return Fail(d.status());
    expires = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  iam::Directory& dir = *opened->dir;
  auto arn = iam::ResolvePrincipal(dir, principal_);
  if (!arn.ok()) return Fail(arn.status());
  const auto type =
      cred_type_ == "api-key" ? iam::CredentialType::kApiKey : iam::CredentialType::kAccessKey;
  auto c = iam::CreateCredential(dir, *arn, type, expires, description_);
  if (!c.ok()) return Fail(c.status());
  const std::string_view secret = c->secret.RevealSecretForUse();
  if (json_) {
    json::object o;
    o["principal"] = *arn;
    if (type == iam::CredentialType::kAccessKey) {
      o["accessKeyId"] = c->id;
      o["secretAccessKey"] = secret;
    } else {
      o["apiKeyId"] = c->id;
      o["apiKey"] = secret;
    }
    if (c->expires_at) o["expiresAt"] = Time(c->expires_at);
    std::cout << json::serialize(o) << "\n";
  } else if (type == iam::CredentialType::kAccessKey) {
    std::cout << "Access key for " << *arn
              << ". The secret is shown only now and cannot be recovered; store it safely.\n"
              << "AWS_ACCESS_KEY_ID=" << c->id << "\nAWS_SECRET_ACCESS_KEY=" << secret << "\n";
  } else {
    std::cout << "API key for " << *arn
              << ". It is shown only now (Perimeter keeps only its hash); store it safely.\n"
              << secret << "\n";
  }
  if (c->expires_at && !json_) std::cout << "expires " << Time(c->expires_at) << "\n";
  return 0;
}

int AdminCommands::CredentialsList() {
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  iam::Directory& dir = *opened->dir;
  std::string arn;
  if (!principal_.empty()) {
    auto a = iam::ResolvePrincipal(dir, principal_);
    if (!a.ok()) return Fail(a.status());
    arn = *a;
  }
  auto creds = iam::ListCredentials(dir, arn);
  if (!creds.ok()) return Fail(creds.status());
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(dir.clock().Now().time_since_epoch())
          .count();
  for (const auto& c : *creds) {
    std::string state = c.revoked_at                          ? "revoked"
                        : c.expires_at && now >= c.expires_at ? "expired"
                                                              : "active";
    if (json_) {
      std::cout << json::serialize(json::object{
                       {"id", c.id},
                       {"type",
                        c.type == iam::CredentialType::kAccessKey ? "access-key" : "api-key"},
                       {"principal", c.principal_arn},
                       {"state", state},
                       {"created", Time(c.created_at)},
                       {"expires", Time(c.expires_at)},
                       {"revoked", Time(c.revoked_at)},
                       {"description", c.description}})
                << "\n";
    } else {
      std::cout << c.id << "  " << state << "  " << c.principal_arn << "  created "
                << Time(c.created_at) << "  expires " << Time(c.expires_at) << "\n";
    }
  }
  return 0;
}

int AdminCommands::CredentialsRevoke() {
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  iam::Directory& dir = *opened->dir;
  if (Status s = iam::RevokeCredential(dir, cred_id_); !s.ok()) return Fail(s);
  std::cout << "revoked " << cred_id_ << ": refused from its next request\n";
  return 0;
}

int AdminCommands::PolicySimulate() {
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  const config::Config& cfg = opened->cfg;
  iam::Directory& dir = *opened->dir;
  auto authz = access::Authorizer::Build(cfg);
  if (!authz.ok()) return Fail(authz.status());
  auto arn = iam::ResolvePrincipal(dir, principal_);
  if (!arn.ok()) return Fail(arn.status());
  auto caller = dir.CallerForPrincipal(*arn);
  if (!caller.ok()) return Fail(caller.status());
  access::RequestFacts facts;
  facts.now = dir.clock().Now();
  facts.secure_transport = !insecure_;
  facts.requested_region = region_.empty() ? cfg.access.regions.front() : region_;
  auto listener = ListenerFor(cfg, listener_);
  if (!listener.ok()) return Fail(listener.status());
  facts.listener = *listener;
  if (!source_ip_.empty()) {
    auto ip = IpAddress::Parse(source_ip_);
    if (!ip.ok()) return Fail(ip.status());
    facts.source_ip = *ip;
  }
  auto extra = ParseKeyValues(context_, "--context");
  if (!extra.ok()) return Fail(extra.status());
  for (const auto& [k, v] : *extra) facts.extra[k].push_back(v);

  json::array steps;
  bool allowed = true;
  auto record = [&](std::string_view who, std::string_view action, std::string_view resource,
                    const access::AccessDecision& d) {
    json::array st;
    for (const auto& s : d.DecidingStatements()) st.push_back(json::string(s));
    json::object o{{"principal", who},
                   {"action", action},
                   {"resource", resource},
                   {"decision", policy::DecisionName(d.result.decision)},
                   {"statements", std::move(st)}};
    if (!d.allowed()) o["message"] = d.message;
    steps.push_back(std::move(o));
    allowed = allowed && d.allowed();
  };
  // As the gateway: a deactivated principal is refused outright.
  if (auto p = dir.FindPrincipal(*arn); p && !p->record.active) {
    access::AccessDecision off;
    off.message = "User: " + caller->arn + " is deactivated; all its credentials are refused";
    record(caller->arn, action_, resource_, off);
  }
  // As the gateway: with tenants configured every request runs in one. A principal tagged
  // perimeter:tenant, or a tenant role's own session, is bound to its tenant; others name one
  // (--tenant here, a signed x-perimeter-tenant header at the gateway).
  std::string bound;
  const config::TenantConfig* own_role_tenant = nullptr;
  for (const auto& t : cfg.access.tenants) {
    if (caller->is_session && caller->principal_arn == t.role_arn) {
      own_role_tenant = &t;
      bound = t.id;
    }
  }
  if (auto t = caller->tags.find("perimeter:tenant"); t != caller->tags.end()) bound = t->second;
  if (!bound.empty() && !tenant_.empty() && tenant_ != bound) {
    access::AccessDecision other;
    other.message = "User: " + caller->arn + " is bound to tenant '" + bound +
                    "' and cannot act for tenant '" + tenant_ + "'";
    record(caller->arn, action_, resource_, other);
  }
  if (tenant_.empty()) tenant_ = bound;
  if (tenant_.empty() && !cfg.access.tenants.empty()) {
    access::AccessDecision none;
    none.message = "User: " + caller->arn +
                   " has no tenant: this deployment serves tenants, so a request must name one "
                   "(--tenant here, a signed x-perimeter-tenant header at the gateway) or come "
                   "from a principal tagged perimeter:tenant";
    record(caller->arn, action_, resource_, none);
  }
  if (!tenant_.empty()) {
    facts.tenant = tenant_;
  }
  if (!tenant_.empty() && !(own_role_tenant && own_role_tenant->id == tenant_)) {
    auto t = std::find_if(cfg.access.tenants.begin(), cfg.access.tenants.end(),
                          [&](const config::TenantConfig& tc) { return tc.id == tenant_; });
    if (t == cfg.access.tenants.end())
      return Fail(NotFound("no tenant '" + tenant_ + "' in the config"));
    auto role = dir.FindRole(t->role_arn);
    if (!role) return Fail(NotFound("the role of tenant '" + tenant_ + "' is not active"));
    access::RequestFacts assume = facts;
    assume.extra["sts:RoleSessionName"] = {"perimeter-" + tenant_};
    record(caller->arn, "sts:AssumeRole", t->role_arn,
           (*authz)->Authorize(*caller, "sts:AssumeRole", t->role_arn, assume, role->trust));
    iam::SessionRequest sr;
    sr.role_session_name = "perimeter-" + tenant_;
    sr.tenant = tenant_;
    auto session = dir.SessionCaller(*caller, *role, sr);
    if (!session.ok()) return Fail(session.status());
    record(session->arn, action_, resource_,
           (*authz)->Authorize(*session, action_, resource_, facts));
  }
  record(caller->arn, action_, resource_, (*authz)->Authorize(*caller, action_, resource_, facts));
  if (json_) {
    std::cout << json::serialize(json::object{{"decision", allowed ? "Allowed" : "Denied"},
                                              {"evaluations", std::move(steps)}})
              << "\n";
  } else {
    std::cout << (allowed ? "ALLOWED" : "DENIED") << "\n";
    for (const auto& s : steps) {
      const auto& o = s.as_object();
      std::cout << "  " << o.at("decision").as_string().c_str() << ": "
                << o.at("principal").as_string().c_str() << " "
                << o.at("action").as_string().c_str() << " on "
                << o.at("resource").as_string().c_str() << "\n";
      for (const auto& st : o.at("statements").as_array())
        std::cout << "    by " << st.as_string().c_str() << "\n";
      if (o.contains("message")) std::cout << "    " << o.at("message").as_string().c_str() << "\n";
    }
  }
  return allowed ? 0 : 1;
}

namespace {

// The kind a policy document is by its shape: statements with a Principal and a Resource are a
// resource policy, with a Principal and no Resource a trust policy, without a Principal an
// identity policy. Documents that do not parse are linted as identity policies (the parse
// error is then the finding).
policy::LintPolicyKind GuessKind(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return policy::LintPolicyKind::kIdentity;
  const json::value* st = doc.as_object().if_contains("Statement");
  if (st == nullptr) return policy::LintPolicyKind::kIdentity;
  std::vector<const json::object*> statements;
  if (st->is_object()) statements.push_back(&st->as_object());
  if (st->is_array()) {
    for (const auto& v : st->as_array()) {
      if (v.is_object()) statements.push_back(&v.as_object());
    }
  }
  bool principal = false, resource = false;
  for (const json::object* o : statements) {
    principal = principal || o->contains("Principal") || o->contains("NotPrincipal");
    resource = resource || o->contains("Resource") || o->contains("NotResource");
  }
  if (!principal) return policy::LintPolicyKind::kIdentity;
  return resource ? policy::LintPolicyKind::kResource : policy::LintPolicyKind::kTrust;
}

}  // namespace

int AdminCommands::PolicyLint() {
  const policy::LintPolicyKind chosen =
      lint_kind_ == "trust"        ? policy::LintPolicyKind::kTrust
      : lint_kind_ == "resource"   ? policy::LintPolicyKind::kResource
      : lint_kind_ == "endpoint"   ? policy::LintPolicyKind::kEndpoint
      : lint_kind_ == "deployment" ? policy::LintPolicyKind::kDeploymentCap
                                   : policy::LintPolicyKind::kIdentity;
  bool errors = false;
  json::array all;
  for (const auto& f : lint_files_) {
    auto text = ReadFile(f);
    if (!text.ok()) return Fail(text.status());
    const policy::LintPolicyKind kind = lint_kind_ == "auto" ? GuessKind(*text) : chosen;
    auto findings = policy::LintPolicy(*text, kind);
    errors = errors || policy::HasErrors(findings);
    if (json_) {
      for (auto& v : policy::FindingsToJson(f, findings)) all.push_back(std::move(v));
    } else {
      std::cout << policy::FormatFindingsText(f, findings);
    }
  }
  if (json_) std::cout << json::serialize(all) << "\n";
  return errors ? 1 : 0;
}

int AdminCommands::WhoCan() {
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  const config::Config& cfg = opened->cfg;
  iam::Directory& dir = *opened->dir;
  auto authz = access::Authorizer::Build(cfg);
  if (!authz.ok()) return Fail(authz.status());
  access::RequestFacts facts;
  facts.now = dir.clock().Now();
  facts.secure_transport = true;
  auto listener = ListenerFor(cfg, listener_);
  if (!listener.ok()) return Fail(listener.status());
  facts.listener = *listener;
  std::string region = region_;
  if (region.empty()) region = std::string(access::Authorizer::ArnRegion(resource_));
  if (region.empty()) region = cfg.access.regions.front();
  facts.requested_region = region;
  if (!source_ip_.empty()) {
    auto ip = IpAddress::Parse(source_ip_);
    if (!ip.ok()) return Fail(ip.status());
    facts.source_ip = *ip;
  }
  auto found = access::WhoCan(dir, **authz, action_, resource_, facts);
  if (!found.ok()) return Fail(found.status());
  const auto& entries = *found;
  for (const auto& e : entries) {
    if (json_) {
      json::array by, st;
      for (const auto& a : e.assumable_by) by.push_back(json::string(a));
      for (const auto& s : e.statements) st.push_back(json::string(s));
      json::object o{{"principal", e.principal_arn}, {"type", e.kind}, {"statements", st}};
      if (!e.tenant.empty()) o["tenant"] = e.tenant;
      if (e.kind == "role") o["assumableBy"] = by;
      std::cout << json::serialize(o) << "\n";
      continue;
    }
    std::cout << e.principal_arn << (e.tenant.empty() ? "" : "  (tenant " + e.tenant + ")") << "\n";
    if (e.kind == "role") {
      std::cout << "  assumable by: ";
      if (e.assumable_by.empty()) std::cout << "nobody";
      for (size_t i = 0; i < e.assumable_by.size(); ++i)
        std::cout << (i ? ", " : "") << e.assumable_by[i];
      std::cout << "\n";
    }
    for (const auto& s : e.statements) std::cout << "  by " << s << "\n";
  }
  if (entries.empty() && !json_) {
    std::cout << "nobody can perform " << action_ << " on " << resource_ << "\n";
  }
  return 0;
}

}  // namespace perimeter::cli
