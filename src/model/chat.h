#pragma once

// The canonical conversation model. Every front door (Bedrock InvokeModel with an Anthropic
// messages body, Converse, OpenAI chat completions) parses into ChatRequest, and every provider
// answers with ChatResponse or a stream of ChatStreamSink calls, so a control (guardrail, audit)
// is written once and sees the same shape whatever door the request came through.
//
// Only text content is modelled. A front door that receives another content type (images,
// tool use) refuses it with a ValidationException naming the field, rather than dropping it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/status.h"

namespace perimeter::model {

struct Message {
  enum class Role { kUser, kAssistant };
  Role role = Role::kUser;
  std::vector<std::string> text;   // text blocks, in order
  std::string JoinedText() const;  // blocks joined with "\n"
};

std::string_view RoleName(Message::Role r);

// A Converse `guardContent` block: its text is also in the message (or system) it came from, at
// the given block index; a guardrail evaluates only these blocks when a request has any.
struct GuardContentRef {
  bool system = false;  // in ChatRequest::system (else in messages[message])
  size_t message = 0;
  size_t block = 0;
  std::vector<std::string> qualifiers;  // grounding_source, query, guard_content
};

// The guardrail a request names (Converse guardrailConfig, InvokeModel's X-Amzn-Bedrock-
// Guardrail* headers).
struct GuardrailRequest {
  std::string identifier;                       // id or ARN
  std::string version;                          // "DRAFT" or a number
  std::string trace = "disabled";               // enabled, disabled, enabled_full
  std::string stream_processing_mode = "sync";  // sync, async (streams only)
};

struct ChatRequest {
  std::string model;           // as the client named it
  std::string upstream_model;  // as the provider will be asked (after route renames)
  std::vector<std::string> system;
  std::vector<Message> messages;
  std::optional<uint32_t> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::vector<std::string> stop_sequences;
  bool stream = false;
  bool include_usage_in_stream = false;  // OpenAI stream_options.include_usage
  std::vector<GuardContentRef> guard_content;
  std::optional<GuardrailRequest> guardrail;
  // InvokeModel bodies may carry "amazon-bedrock-guardrailConfig" ({tagSuffix,
  // streamProcessingMode}); it only means something with the guardrail headers.
  bool body_guardrail_config = false;
  std::string body_stream_processing_mode;  // "" = not given
};

enum class StopReason {
  kEndTurn,
  kMaxTokens,
  kStopSequence,
  kContentFiltered,
  kGuardrailIntervened,  // a guardrail blocked the input or the output
};

struct Usage {
  uint32_t input_tokens = 0;
  uint32_t output_tokens = 0;
};

struct ChatResponse {
  std::string id;
  std::string text;
  StopReason stop_reason = StopReason::kEndTurn;
  std::string stop_sequence;  // set when stop_reason == kStopSequence
  Usage usage;
  // Set when a guardrail ran and the request asked for its trace: the JSON object Bedrock puts
  // under trace.guardrail (Converse) / amazon-bedrock-trace.guardrail (InvokeModel).
  std::string guardrail_trace_json;
  bool guardrail_ran = false;  // InvokeModel reports amazon-bedrock-guardrailAction then
  // The guardrail changed the input or the answer (masked or blocked): "INTERVENED".
  bool guardrail_intervened = false;
};

// Receives a streamed answer. Each call completes when the bytes were handed to the client (or
// buffered within bounds), which is the back-pressure that stops a fast upstream from filling
// memory. A non-ok Status (the client went away, an output control cut the stream) tells the
// provider to stop and cancel its upstream call. Call order: OnStart, OnTextDelta*, OnStop.
class ChatStreamSink {
 public:
  virtual ~ChatStreamSink() = default;
  virtual boost::asio::awaitable<Status> OnStart(std::string_view response_id) = 0;
  virtual boost::asio::awaitable<Status> OnTextDelta(std::string_view text) = 0;
  virtual boost::asio::awaitable<Status> OnStop(StopReason reason, std::string_view stop_sequence,
                                                const Usage& usage) = 0;
};

// Raw Bedrock InvokeModel, for providers that pass model-native bodies through untouched.
struct RawInvokeRequest {
  std::string model;  // upstream model id
  std::string body;
  std::string content_type = "application/json";
  std::string accept = "application/json";
};

struct RawInvokeResponse {
  std::string body;
  std::string content_type = "application/json";
};

// Receives raw event-stream payloads (`chunk` event bytes, already base64-decoded) one at a time.
class RawChunkSink {
 public:
  virtual ~RawChunkSink() = default;
  virtual boost::asio::awaitable<Status> OnChunk(std::string_view bytes) = 0;
};

// Counts tokens the way the built-in model and token budgets do when a provider reports none:
// whitespace-separated words. Deterministic and cheap; not a real tokenizer.
uint32_t CountWords(std::string_view text);

}  // namespace perimeter::model
