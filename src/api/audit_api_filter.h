#pragma once

// AuditApiFilter: Perimeter's audit API, for tenant administrators and investigators who work
// remotely with their own credentials (the CLI is the operator's, on the gateway's machine).
//
// AWS JSON 1.1 protocol, like the KMS front door: POST / with
// X-Amz-Target: PerimeterAudit.<Operation>, signed with SigV4 for service "perimeter".
//   - QueryEvents {"Tenant", "EventName"?, "Principal"?, "ModelId"?, "Decision"?,
//     "RequestId"?, "StartTime"? , "EndTime"? (RFC 3339), "Limit"? (1..10000, default 1000)}
//     -> {"Events": [<CloudTrail-shaped event>...]} of that tenant only. Needs
//     perimeter:QueryAuditEvents on arn:aws:perimeter:<region>:<account>:audit/<tenant>, so a
//     tenant administrator's grant on audit/<their tenant> never shows another tenant's events.
//   - GetInvocationRecord {"Tenant", "RequestId"} -> {"Record": <the invocation record>}.
//     Needs perimeter:ReadInvocationRecord on
//     arn:aws:perimeter:<region>:<account>:invocation-log/<tenant>; every read, allowed or not,
//     is recorded (redact/invocation_store.h).
// Both calls are themselves recorded like every request (the audit filter), with the tenant and
// the request id they asked for as requestParameters.

#include <memory>
#include <string>

#include "iam/directory.h"
#include "pipeline/filter.h"
#include "redact/invocation_store.h"

namespace perimeter::api {

inline constexpr std::string_view kQueryAuditEventsAction = "perimeter:QueryAuditEvents";

class AuditApiFilter final : public pipeline::Filter {
 public:
  AuditApiFilter(std::shared_ptr<iam::Directory> directory, std::string audit_dir,
                 std::shared_ptr<redact::InvocationStore> invocations)
      : directory_(std::move(directory)),
        audit_dir_(std::move(audit_dir)),
        invocations_(std::move(invocations)) {}
  std::string_view name() const override { return "audit_api"; }
  boost::asio::awaitable<pipeline::FilterStatus> OnRequest(
      pipeline::RequestContext& ctx) const override;

  // The answer (status, JSON body) to one request; public for tests.
  std::pair<int, std::string> Handle(pipeline::RequestContext& ctx) const;

 private:
  std::shared_ptr<iam::Directory> directory_;
  std::string audit_dir_;
  std::shared_ptr<redact::InvocationStore> invocations_;  // null: no tenant keeps records
};

}  // namespace perimeter::api
