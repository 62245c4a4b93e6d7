#pragma once

// The audit events of the gateway: what each kind of happening becomes in the CloudTrail-shaped
// audit model (audit/event.h). These functions only map; recording is the audit log's job.
//
// Every event says who, when, from where, which operation on which resource, and what was
// decided. None copies prompt or answer text, request bodies, key material, or values a
// guardrail found: request parameters are ids (model, guardrail, key, role), error messages of
// requests are fixed ("HTTP 403"), and guardrail outcomes are actions, policy names and entity
// types only.

#include <string>
#include <string_view>

#include "audit/event.h"
#include "common/clock.h"
#include "common/status.h"
#include "kms/audit.h"
#include "kms/audit_log_sink.h"
#include "pipeline/request_context.h"

namespace perimeter::api {

// The event source of Perimeter's own admin actions (the CLI).
inline constexpr std::string_view kAdminEventSource = "perimeter.admin";
// The event source of the OpenAI-compatible front door's operations.
inline constexpr std::string_view kOpenAiEventSource = "perimeter.openai";

// The event of one HTTP request through the gateway, from its context after the response was
// sent. `region` and `account_id` are the deployment's (awsRegion, recipientAccountId; the model
// ARN uses the request's signed region when it has one).
//
// Identity: an AssumedRole (a session, with sessionContext.sessionIssuer = the role) takes
// precedence; then "APIKey" for a user that came with a bearer API key (the OpenAI door), then
// IAMUser; "Unknown" with no ARN when the request was never authenticated. accessKeyId is the
// credential id (access key id or API key id; never a secret).
audit::Event InvocationEvent(const pipeline::RequestContext& ctx, std::string_view region,
                             std::string_view account_id);

// The event of one KMS key use (kms/audit_log_sink.h, where the KMS's audit sink needs it).
using kms::KeyUseAuditEvent;

// The event of an operator's CLI action, at `clock`'s now. `request_parameters_json` is a JSON
// object (ids and settings, never secrets) or "null" ("" counts as "null"). A failed `outcome`
// gives errorCode (the status code's name) and errorMessage (its message, which by the rules of
// Status holds no secret).
audit::Event AdminEvent(std::string_view event_name, std::string_view resource_arn,
                        std::string request_parameters_json, const Status& outcome,
                        std::string_view region, std::string_view account_id,
                        const Clock& clock = SystemClock());

// The service event recorded when a guardrail blocked another tenant's identifier in an answer:
// the requesting tenant, the entity type and the tenant it belongs to; never the value.
audit::Event CrossTenantIncidentEvent(const pipeline::RequestContext& ctx,
                                      const pipeline::GuardrailOutcome::Incident& i,
                                      std::string_view region, std::string_view account_id);

}  // namespace perimeter::api
