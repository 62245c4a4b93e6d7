#include "access/who_can.h"

namespace perimeter::access {

namespace {

// Whether `caller` may perform the action, in `tenant` if one applies. Returns the deciding
// statements of every evaluation that allowed, or nothing.
std::optional<std::vector<std::string>> Allowed(iam::Directory& dir, const Authorizer& authz,
                                                const iam::Caller& caller, std::string_view action,
                                                std::string_view resource, RequestFacts facts,
                                                const config::TenantConfig* tenant) {
  std::vector<std::string> statements;
  if (tenant) {
    facts.tenant = tenant->id;
    const bool in_tenant_session = caller.is_session && caller.principal_arn == tenant->role_arn;
    if (!in_tenant_session) {
      auto role = dir.FindRole(tenant->role_arn);
      if (!role) return std::nullopt;
      RequestFacts assume = facts;
      assume.extra["sts:RoleSessionName"] = {"perimeter-" + tenant->id};
      AccessDecision d =
          authz.Authorize(caller, "sts:AssumeRole", tenant->role_arn, assume, role->trust);
      if (!d.allowed()) return std::nullopt;
      iam::SessionRequest sr;
      sr.role_session_name = "perimeter-" + tenant->id;
      sr.tenant = tenant->id;
      auto session = dir.SessionCaller(caller, *role, sr);
      if (!session.ok()) return std::nullopt;
      AccessDecision ds = authz.Authorize(*session, action, resource, facts);
      if (!ds.allowed()) return std::nullopt;
      for (auto& s : ds.DecidingStatements()) statements.push_back(std::move(s));
    }
  }
  AccessDecision d = authz.Authorize(caller, action, resource, facts);
  if (!d.allowed()) return std::nullopt;
  auto own = d.DecidingStatements();
  own.insert(own.end(), statements.begin(), statements.end());
  return own;
}

}  // namespace

Result<std::vector<WhoCanEntry>> WhoCan(iam::Directory& dir, const Authorizer& authz,
                                        std::string_view action, std::string_view resource,
                                        const RequestFacts& facts) {
  std::vector<WhoCanEntry> out;
  const auto& tenants = dir.config().access.tenants;
  auto all = dir.AllPrincipals();
  if (!all.ok()) return all.status();
  const auto& principals = *all;
  for (const auto& p : principals) {
    if (!p->record.active) continue;
    const bool is_role = p->record.type == iam::PrincipalType::kRole;
    auto caller = dir.CallerForPrincipal(p->record.arn, "who-can");
    if (!caller.ok()) continue;
    std::vector<std::string> assumable_by;
    if (is_role) {
      for (const auto& q : principals) {
        if (!q->record.active || q == p) continue;
        auto qc = dir.CallerForPrincipal(q->record.arn, "who-can");
        if (!qc.ok()) continue;
        RequestFacts assume = facts;
        assume.extra["sts:RoleSessionName"] = {"who-can"};
        if (authz.Authorize(*qc, "sts:AssumeRole", p->record.arn, assume, p->trust).allowed()) {
          assumable_by.push_back(q->record.arn);
        }
      }
    }
    // Tenants the principal can run in.
    // As the gateway: a tenant role's sessions and principals tagged perimeter:tenant are bound
    // to that tenant; others may name any tenant whose role trusts them.
    std::vector<const config::TenantConfig*> candidates;
    const config::TenantConfig* own = nullptr;
    for (const auto& t : tenants) {
      if (t.role_arn == p->record.arn) own = &t;
    }
    if (tenants.empty()) {
      candidates.push_back(nullptr);
    } else if (own != nullptr) {
      candidates.push_back(own);
    } else if (auto tag = caller->tags.find("perimeter:tenant"); tag != caller->tags.end()) {
      for (const auto& t : tenants) {
        if (t.id == tag->second) candidates.push_back(&t);
      }
    } else {
      for (const auto& t : tenants) candidates.push_back(&t);
    }
    for (const config::TenantConfig* t : candidates) {
      auto allowed = Allowed(dir, authz, *caller, action, resource, facts, t);
      if (!allowed) continue;
      WhoCanEntry e;
      e.principal_arn = p->record.arn;
      e.kind = is_role ? "role" : "user";
      e.tenant = t ? t->id : "";
      e.assumable_by = assumable_by;
      e.statements = std::move(*allowed);
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace perimeter::access
