#pragma once

// RequestContext: everything the filters of one request share. Created by the listener, passed
// by reference down the chain, destroyed after the access log filter has run. Owned by one
// request; never shared across threads.

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.h"
#include "common/status.h"
#include "model/chat.h"
#include "pipeline/response_control.h"
#include "pipeline/response_writer.h"

namespace perimeter::iam {
struct Caller;
}

namespace perimeter::pipeline {

// The operations a front door can route to. Stable names: they appear in logs and metrics.
enum class Operation {
  kUnknown,
  kInvokeModel,
  kInvokeModelWithResponseStream,
  kConverse,
  kConverseStream,
  kChatCompletions,
  kEmbeddings,
  kListModels,
  kHealth,
  kReady,
  kMetrics,
  kStsAssumeRole,
  kStsGetCallerIdentity,
  kStsUnknown,      // an STS Query request with an Action Perimeter does not serve
  kKms,             // the KMS front door (JSON 1.1, X-Amz-Target: TrentService.<Operation>)
  kApplyGuardrail,  // Bedrock Runtime ApplyGuardrail
  kAuditApi,        // Perimeter's audit API (JSON 1.1, X-Amz-Target: PerimeterAudit.<Operation>)
};
std::string_view OperationName(Operation op);

// Which API's conventions (error shapes, paths) a request follows.
enum class ApiFlavor {
  kBedrock,
  kOpenAi,
  kPlain,
  kSts,    // AWS Query protocol, XML errors
  kKms,    // AWS JSON 1.1 protocol (errors as Bedrock's, plus "__type" in the body)
  kAudit,  // Perimeter's audit API: AWS JSON 1.1 like the KMS door, SigV4 service "perimeter"
};

struct IncomingRequest {
  std::string method;
  std::string target;  // path and query as received
  std::string path;    // before '?', still percent-encoded
  std::string query;   // after '?', raw
  Headers headers;     // names lower-cased, in arrival order
  std::string body;
  const std::string* Header(std::string_view lower_name) const;
};

// The error a front door reports, shaped by the flavor's encoder.
struct ApiError {
  int http_status = 500;
  std::string type;  // Bedrock: x-amzn-ErrorType; OpenAI: error.type
  std::string code;  // OpenAI: error.code (may be empty); STS: the RequestId (set by SendError)
  std::string message;
};

// What a guardrail did to one request, for the access log: never values, only actions and
// types. (At namespace scope: an optional of a nested struct with default member initializers
// is not default-constructible inside its enclosing class for clang.)
struct GuardrailOutcome {
  std::string input = "NONE";      // NONE, ANONYMIZED or BLOCKED
  std::string output = "NONE";     // the same for the answer (any window of a stream)
  std::vector<std::string> types;  // entity types found (sorted, unique)
  // Policies that intervened (Bedrock's assessment names: sensitiveInformationPolicy,
  // wordPolicy, ...; sorted, unique).
  std::vector<std::string> policies;
  struct Incident {
    std::string type;
    std::string owner_tenant;
  };
  std::vector<Incident> cross_tenant_incidents;
};

struct RequestContext {
  // Set by the listener.
  std::string request_id;
  std::string listener_name;
  IpAddress source_ip;
  bool secure_transport = false;
  std::string tls_version;  // "TLSv1.3" on TLS listeners, else empty
  std::string tls_cipher;   // the negotiated cipher suite (OpenSSL's IANA name), else empty
  std::chrono::system_clock::time_point received_at;
  std::chrono::steady_clock::time_point received_mono;
  IncomingRequest request;
  ResponseWriter* writer = nullptr;
  // A filter that must see the response before it is released (the audit filter) replaces
  // `writer` with a wrapper it keeps here; the listener's writer stays owned by the listener.
  std::unique_ptr<ResponseWriter> writer_wrapper;

  // Set by the route filter.
  Operation operation = Operation::kUnknown;
  ApiFlavor flavor = ApiFlavor::kPlain;
  std::string model_id;  // as the client named it (decoded)
  std::optional<model::ChatRequest> chat;
  std::string raw_body_content_type;  // InvokeModel: the client's Content-Type / Accept
  std::string raw_accept;
  bool chat_parse_failed = false;  // InvokeModel body that is not an Anthropic messages body
  std::string chat_parse_error;

  // The guardrail that guards this request: the one it names (Converse guardrailConfig,
  // InvokeModel headers, the ApplyGuardrail path), else the one a config binding gives it (set
  // by the access filter). `guardrail_arn` is its ARN with the version, as the
  // bedrock:GuardrailIdentifier condition key sees it.
  std::optional<model::GuardrailRequest> guardrail;
  bool guardrail_from_binding = false;
  std::string guardrail_arn;
  // What the guardrail did, for the access log (GuardrailOutcome above).
  std::optional<GuardrailOutcome> guardrail_outcome;
  // A streamed answer's guardrail trace, set by the output control before the stream's end so
  // ConverseStream's metadata event can carry it.
  std::string guardrail_stream_trace_json;
  // Output control installed by a filter (the guardrail) for the upstream filter to run on the
  // model's answer; null when none applies.
  std::shared_ptr<ResponseControl> response_control;
  // An answer given without calling the model (a guardrail blocked the input); the upstream
  // filter sends it in the front door's shape, streamed or not, like a model's answer.
  std::optional<model::ChatResponse> synthetic_response;

  // Set by the access filter once the caller is authenticated (and, for model operations,
  // authorized). `caller` is the tenant session when the request runs in one.
  std::shared_ptr<const iam::Caller> caller;
  std::string principal_arn;                // who called (the authenticated identity, for logs)
  std::string credential_id;                // access key id or API key id, never a secret
  std::string signed_region;                // SigV4 credential scope region ("" for bearer callers)
  std::vector<std::string> signed_headers;  // SigV4 SignedHeaders (lower-case)
  std::vector<std::string> deciding_statements;

  // Every KMS key use made for this request (vault tokens, the KMS front door, secrets): key id,
  // version, operation and the context's purpose, for the audit record. Never material.
  struct KeyUseNote {
    std::string key_id;
    uint32_t key_version = 0;
    std::string operation;
    std::string purpose;
  };
  std::vector<KeyUseNote> key_uses;

  // Prompt logging and invocation records (api/records_filter.h): when `capture_text` is set,
  // the upstream filter keeps the answer's text in `answer_text` (at most kMaxCapturedText
  // bytes; `answer_truncated` says more was cut). `log_prompt` / `log_answer` are what the
  // access log prints: already redacted to vault tokens, never raw.
  static constexpr size_t kMaxCapturedText = 256 * 1024;
  bool capture_text = false;
  std::string answer_text;
  bool answer_truncated = false;
  std::optional<std::string> log_prompt;
  std::optional<std::string> log_answer;

  // Set as the request proceeds; read by the access log and metrics.
  std::optional<std::string> tenant;  // null for requests that run in no tenant
  std::string upstream_name;
  int status = 0;
  std::string error_type;
  uint64_t bytes_out = 0;

  // Appends answer text while capturing, up to kMaxCapturedText bytes.
  void CaptureAnswer(std::string_view text) {
    if (!capture_text) return;
    const size_t room = kMaxCapturedText - std::min(kMaxCapturedText, answer_text.size());
    if (text.size() > room) answer_truncated = true;
    answer_text.append(text.substr(0, room));
  }
  model::Usage usage;
};

}  // namespace perimeter::pipeline
