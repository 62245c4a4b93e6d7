#pragma once

// Authentication, tenant resolution and authorization, as filters.
//
// AuthenticationFilter (before the route filter, so no body is parsed for an anonymous caller)
// authenticates every request except /healthz, /readyz and /metrics: SigV4 (header or presigned
// query, long-term or session credentials) on the Bedrock and STS front doors,
// `Authorization: Bearer <API key>` on the OpenAI front door. Refusals carry the error type AWS
// (or OpenAI) would send.
//
// AuthorizationFilter (after the route filter, before anything that touches a model):
//   2. for model operations, resolves the tenant: a signed `x-perimeter-tenant` header, else the
//      caller's `perimeter:tenant` tag, else the tenant of the session it already runs in. When
//      tenants are configured a request without one is refused. The tenant's role must trust the
//      caller (sts:AssumeRole, evaluated like AWS with the role's trust policy), and the rest of
//      the request runs in that role's session;
//   3. authorizes the operation's action on the model's ARN for the caller AND, when a tenant
//      session applies, for the session: both must allow, each with the deployment-wide caps
//      and the listener's endpoint policy. The caller's policies scope the workload; the tenant
//      role scopes the tenant.
//   4. pins regions: a model ARN outside access.regions is refused.
// Nothing is authorized without an Allow: a missing policy, an unknown principal or a store that
// cannot be read is a refusal (fail closed).
//
// StsFilter (terminal for the STS front door): AssumeRole and GetCallerIdentity.

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "access/authorizer.h"
#include "iam/directory.h"
#include "pipeline/filter.h"

namespace perimeter::api {

class AuthenticationFilter final : public pipeline::Filter {
 public:
  explicit AuthenticationFilter(std::shared_ptr<iam::Directory> directory)
      : directory_(std::move(directory)) {}
  std::string_view name() const override { return "authn"; }
  boost::asio::awaitable<pipeline::FilterStatus> OnRequest(
      pipeline::RequestContext& ctx) const override;

 private:
  // The refusal to send, or nullopt to continue.
  std::optional<pipeline::ApiError> Check(pipeline::RequestContext& ctx) const;
  std::shared_ptr<iam::Directory> directory_;
};

class AuthorizationFilter final : public pipeline::Filter {
 public:
  AuthorizationFilter(std::shared_ptr<iam::Directory> directory,
                      std::shared_ptr<const access::Authorizer> authorizer)
      : directory_(std::move(directory)), authorizer_(std::move(authorizer)) {}
  std::string_view name() const override { return "authz"; }
  boost::asio::awaitable<pipeline::FilterStatus> OnRequest(
      pipeline::RequestContext& ctx) const override;

 private:
  std::optional<pipeline::ApiError> Check(pipeline::RequestContext& ctx) const;
  std::shared_ptr<iam::Directory> directory_;
  std::shared_ptr<const access::Authorizer> authorizer_;
};

class StsFilter final : public pipeline::Filter {
 public:
  StsFilter(std::shared_ptr<iam::Directory> directory,
            std::shared_ptr<const access::Authorizer> authorizer)
      : directory_(std::move(directory)), authorizer_(std::move(authorizer)) {}
  std::string_view name() const override { return "sts"; }
  boost::asio::awaitable<pipeline::FilterStatus> OnRequest(
      pipeline::RequestContext& ctx) const override;

 private:
  // The status and XML body to answer with.
  std::pair<int, std::string> Handle(pipeline::RequestContext& ctx) const;

  std::shared_ptr<iam::Directory> directory_;
  std::shared_ptr<const access::Authorizer> authorizer_;
};

// The IAM action a model operation needs ("" for operations that need none).
std::string_view ActionFor(const pipeline::RequestContext& ctx);

// A guardrail's ARN from an id ("gr1", made into arn:aws:bedrock:<region>:<account>:guardrail/gr1)
// or an ARN (returned as given).
std::string GuardrailArn(std::string_view identifier, std::string_view region,
                         std::string_view account);

}  // namespace perimeter::api
