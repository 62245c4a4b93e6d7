#pragma once

// RequestContext: everything the filters of one request share. Created by the listener, passed
// by reference down the chain, destroyed after the access log filter has run. Owned by one
// request; never shared across threads.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/cidr.h"
#include "common/status.h"
#include "model/chat.h"
#include "pipeline/response_writer.h"

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
};
std::string_view OperationName(Operation op);

// Which API's conventions (error shapes, paths) a request follows.
enum class ApiFlavor { kBedrock, kOpenAi, kPlain };

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
  std::string code;  // OpenAI: error.code (may be empty)
  std::string message;
};

struct RequestContext {
  // Set by the listener.
  std::string request_id;
  std::string listener_name;
  IpAddress source_ip;
  bool secure_transport = false;
  std::chrono::system_clock::time_point received_at;
  std::chrono::steady_clock::time_point received_mono;
  IncomingRequest request;
  ResponseWriter* writer = nullptr;

  // Set by the route filter.
  Operation operation = Operation::kUnknown;
  ApiFlavor flavor = ApiFlavor::kPlain;
  std::string model_id;  // as the client named it (decoded)
  std::optional<model::ChatRequest> chat;
  std::string raw_body_content_type;  // InvokeModel: the client's Content-Type / Accept
  std::string raw_accept;
  bool chat_parse_failed = false;  // InvokeModel body that is not an Anthropic messages body
  std::string chat_parse_error;

  // Set as the request proceeds; read by the access log and metrics.
  std::optional<std::string> tenant;  // null until tenants exist
  std::string upstream_name;
  int status = 0;
  std::string error_type;
  uint64_t bytes_out = 0;
  model::Usage usage;
};

}  // namespace perimeter::pipeline
