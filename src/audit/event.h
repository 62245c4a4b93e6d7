#pragma once

// The audit event: CloudTrail's record shape (eventVersion 1.09 fields), plus Perimeter's
// fields (tenantId, authorization decision, guardrail outcome, key ids). An event never holds
// prompt or response content, key material, secrets or identifiers found in content: only who,
// when, from where, what operation on which resource, and what was decided.
//
// EventJson serializes an Event as one JSON object (no newline) with CloudTrail's field names;
// empty optional parts are omitted. ParseEventJson reads it back (for query, export, attest).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace perimeter::audit {

inline constexpr std::string_view kEventVersion = "1.09";

struct SessionContext {
  std::string session_issuer_arn;  // the role, for a session
  std::string creation_date;       // RFC 3339
  std::string mfa_authenticated = "false";
  std::string source_identity;
};

struct UserIdentity {
  // CloudTrail types: IAMUser, AssumedRole, Root, AWSService, Unknown; Perimeter adds
  // "APIKey" (OpenAI door) and "Operator" (the CLI).
  std::string type = "Unknown";
  std::string principal_id;
  std::string arn;
  std::string account_id;
  std::string access_key_id;  // access key id or API key id, never a secret
  std::string invoked_by;     // AWSService: the service principal
  std::optional<SessionContext> session_context;
};

struct TlsDetails {
  std::string tls_version;   // "TLSv1.3"
  std::string cipher_suite;  // "TLS_AES_128_GCM_SHA256"
  std::string client_provided_host_header;
};

struct Decision {
  std::string effect;                   // "Allow", "Deny" (explicit) or "ImplicitDeny"
  std::vector<std::string> statements;  // the deciding statements (policy name / Sid)
};

struct GuardrailAudit {
  std::string id;  // guardrail ARN with :version
  std::string version;
  std::string input_action = "NONE";   // NONE, ANONYMIZED, BLOCKED
  std::string output_action = "NONE";  // the same for the answer
  std::vector<std::string> policies;   // policies that intervened: sensitiveInformation, words,...
  std::vector<std::string> entity_types;  // sorted, unique; never values
  struct Incident {
    std::string type;
    std::string owner_tenant;
  };
  std::vector<Incident> cross_tenant_incidents;
};

struct KeyUse {
  std::string key_id;
  uint32_t key_version = 0;
  std::string operation;  // Encrypt, Decrypt, GenerateDataKey, ...
  std::string purpose;    // the encryption context's "purpose", if any
};

struct Event {
  std::chrono::system_clock::time_point event_time;
  std::string event_source;  // bedrock.amazonaws.com, kms.amazonaws.com, sts.amazonaws.com,
                             // perimeter.amazonaws.com (admin), ...
  std::string event_name;    // InvokeModel, Converse, Encrypt, CreateUser, RevealToken, ...
  std::string aws_region;
  std::string source_ip_address;  // "perimeter-cli" for the CLI, the service for AWSService
  std::string user_agent;
  UserIdentity user_identity;
  std::string request_parameters_json = "null";  // a JSON object (never content), or null
  std::string response_elements_json = "null";
  std::string error_code;     // empty on success
  std::string error_message;  // never content
  std::string request_id;
  std::string event_id;  // a random UUID, unique per event
  bool read_only = false;
  std::string event_type = "AwsApiCall";  // AwsApiCall, AwsServiceEvent, PerimeterAdminAction
  bool management_event = false;
  std::string recipient_account_id;
  std::string event_category = "Data";  // Data or Management
  std::optional<TlsDetails> tls_details;
  std::vector<std::map<std::string, std::string>> resources;  // {"ARN":..., "type":...}

  // Perimeter's fields.
  std::string tenant_id;  // empty for no tenant
  std::optional<Decision> decision;
  std::optional<GuardrailAudit> guardrail;
  std::vector<KeyUse> keys;
  int http_status = 0;  // 0 when not an HTTP request
};

// One JSON object, no newline. CloudTrail names: eventVersion, userIdentity{type, principalId,
// arn, accountId, accessKeyId, invokedBy, sessionContext{sessionIssuer{arn}, attributes{
// creationDate, mfaAuthenticated}, sourceIdentity}}, eventTime (RFC 3339 seconds, UTC),
// eventSource, eventName, awsRegion, sourceIPAddress, userAgent, requestParameters,
// responseElements, errorCode, errorMessage, requestID, eventID, readOnly, resources, eventType,
// managementEvent, recipientAccountId, eventCategory, tlsDetails{tlsVersion, cipherSuite,
// clientProvidedHostHeader}; then tenantId, decision{effect, statements}, guardrail{...},
// keys[{keyId, keyVersion, operation, purpose}], httpStatus.
std::string EventJson(const Event& event);
Result<Event> ParseEventJson(std::string_view json);

// A new random event id (UUID v4).
std::string NewEventId();

}  // namespace perimeter::audit
