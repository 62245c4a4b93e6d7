#include <chrono>
#include <optional>

#include "api/bedrock_shapes.h"
#include "api/front_door_filters.h"
#include "api/openai_shapes.h"
#include "codec/event_stream.h"
#include "codec/sse.h"
#include "common/clock.h"

namespace perimeter::api {

using pipeline::ApiFlavor;
using pipeline::FilterStatus;
using pipeline::Operation;
using pipeline::RequestContext;

namespace {

constexpr const char* kEventStream = "application/vnd.amazon.eventstream";

int64_t MillisSince(const RequestContext& ctx) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               ctx.received_mono)
      .count();
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(SystemClock().Now().time_since_epoch())
      .count();
}

// Shared by the streaming sinks: commits the stream on first use and reports mid-stream errors
// in the door's own way (an exception event, or an SSE error object) once headers are sent.
class StreamBase {
 public:
  explicit StreamBase(RequestContext& ctx) : ctx_(ctx) {}
  boost::asio::awaitable<Status> Begin(const char* content_type) {
    if (ctx_.writer->committed()) co_return Status::Ok();
    ctx_.status = 200;
    first_byte_ms_ = MillisSince(ctx_);
    pipeline::Headers h;
    h.emplace_back("Content-Type", content_type);
    co_return co_await ctx_.writer->StartStream(200, std::move(h));
  }
  boost::asio::awaitable<Status> Write(std::string bytes) {
    co_return co_await ctx_.writer->WriteChunk(bytes);
  }

 protected:
  RequestContext& ctx_;
  int64_t first_byte_ms_ = 0;
};

class ConverseStreamSink final : public model::ChatStreamSink, StreamBase {
 public:
  using StreamBase::StreamBase;
  boost::asio::awaitable<Status> OnStart(std::string_view) override {
    PERIMETER_CO_RETURN_IF_ERROR(co_await Begin(kEventStream));
    co_return co_await Write(codec::EncodeEvent("messageStart", ConverseMessageStartEvent()));
  }
  boost::asio::awaitable<Status> OnTextDelta(std::string_view text) override {
    co_return co_await Write(codec::EncodeEvent("contentBlockDelta", ConverseDeltaEvent(text)));
  }
  boost::asio::awaitable<Status> OnStop(model::StopReason r, std::string_view,
                                        const model::Usage& u) override {
    ctx_.usage = u;
    PERIMETER_CO_RETURN_IF_ERROR(
        co_await Write(codec::EncodeEvent("contentBlockStop", ConverseBlockStopEvent())));
    PERIMETER_CO_RETURN_IF_ERROR(
        co_await Write(codec::EncodeEvent("messageStop", ConverseMessageStopEvent(r))));
    PERIMETER_CO_RETURN_IF_ERROR(co_await Write(codec::EncodeEvent(
        "metadata",
        ConverseMetadataEvent(u, MillisSince(ctx_), ctx_.guardrail_stream_trace_json))));
    co_return co_await ctx_.writer->EndStream();
  }
};

class AnthropicChunkSink final : public model::ChatStreamSink, StreamBase {
 public:
  AnthropicChunkSink(RequestContext& ctx, uint32_t estimated_input)
      : StreamBase(ctx), estimated_input_(estimated_input) {}
  boost::asio::awaitable<Status> OnStart(std::string_view id) override {
    PERIMETER_CO_RETURN_IF_ERROR(co_await Begin(kEventStream));
    PERIMETER_CO_RETURN_IF_ERROR(
        co_await Chunk(AnthropicMessageStart(id, ctx_.model_id, estimated_input_)));
    co_return co_await Chunk(AnthropicBlockStart());
  }
  boost::asio::awaitable<Status> OnTextDelta(std::string_view text) override {
    co_return co_await Chunk(AnthropicTextDelta(text));
  }
  boost::asio::awaitable<Status> OnStop(model::StopReason r, std::string_view seq,
                                        const model::Usage& u) override {
    ctx_.usage = u;
    PERIMETER_CO_RETURN_IF_ERROR(co_await Chunk(AnthropicBlockStop()));
    PERIMETER_CO_RETURN_IF_ERROR(co_await Chunk(AnthropicMessageDelta(r, seq, u.output_tokens)));
    PERIMETER_CO_RETURN_IF_ERROR(
        co_await Chunk(AnthropicMessageStop(u, MillisSince(ctx_), first_byte_ms_)));
    co_return co_await ctx_.writer->EndStream();
  }

 private:
  boost::asio::awaitable<Status> Chunk(const std::string& bytes) {
    co_return co_await Write(codec::EncodeEvent("chunk", ChunkPayload(bytes)));
  }
  uint32_t estimated_input_;
};

class RawPassthroughSink final : public model::RawChunkSink, StreamBase {
 public:
  using StreamBase::StreamBase;
  boost::asio::awaitable<Status> OnChunk(std::string_view bytes) override {
    PERIMETER_CO_RETURN_IF_ERROR(co_await Begin(kEventStream));
    co_return co_await Write(codec::EncodeEvent("chunk", ChunkPayload(bytes)));
  }
  boost::asio::awaitable<Status> Finish() {
    PERIMETER_CO_RETURN_IF_ERROR(co_await Begin(kEventStream));
    co_return co_await ctx_.writer->EndStream();
  }
};

class OpenAiSseSink final : public model::ChatStreamSink, StreamBase {
 public:
  OpenAiSseSink(RequestContext& ctx, bool include_usage)
      : StreamBase(ctx), include_usage_(include_usage) {}
  boost::asio::awaitable<Status> OnStart(std::string_view id) override {
    id_ = id.empty() ? "chatcmpl-" + ctx_.request_id : std::string(id);
    created_ = UnixNow();
    PERIMETER_CO_RETURN_IF_ERROR(co_await Begin("text/event-stream"));
    co_return co_await Write(
        codec::EncodeSseData(EncodeChatChunk(id_, ctx_.model_id, created_, "", true, nullptr)));
  }
  boost::asio::awaitable<Status> OnTextDelta(std::string_view text) override {
    co_return co_await Write(
        codec::EncodeSseData(EncodeChatChunk(id_, ctx_.model_id, created_, text, false, nullptr)));
  }
  boost::asio::awaitable<Status> OnStop(model::StopReason r, std::string_view,
                                        const model::Usage& u) override {
    ctx_.usage = u;
    PERIMETER_CO_RETURN_IF_ERROR(co_await Write(
        codec::EncodeSseData(EncodeChatChunk(id_, ctx_.model_id, created_, "", false, &r))));
    if (include_usage_) {
      PERIMETER_CO_RETURN_IF_ERROR(
          co_await Write(codec::EncodeSseData(EncodeUsageChunk(id_, ctx_.model_id, created_, u))));
    }
    PERIMETER_CO_RETURN_IF_ERROR(co_await Write(codec::EncodeSseData("[DONE]")));
    co_return co_await ctx_.writer->EndStream();
  }

 private:
  bool include_usage_;
  std::string id_;
  int64_t created_ = 0;
};

boost::asio::awaitable<void> Fail(RequestContext& ctx, const Status& s) {
  if (s.code() == StatusCode::kCancelled) {
    ctx.status = ctx.status ? ctx.status : 499;
    ctx.error_type = "ClientClosedRequest";
    co_return;  // nobody to tell
  }
  pipeline::ApiError e = pipeline::ErrorFromStatus(ctx.flavor, s);
  if (!ctx.writer->committed()) {
    co_await pipeline::SendError(ctx, e);
    co_return;
  }
  // Headers are out: report the failure inside the stream, then end it.
  ctx.error_type = e.type;
  if (ctx.flavor == ApiFlavor::kOpenAi) {
    std::string body = pipeline::EncodeError(ApiFlavor::kOpenAi, e).body;
    (void)co_await ctx.writer->WriteChunk(codec::EncodeSseData(body));
  } else {
    std::string payload = pipeline::EncodeError(ApiFlavor::kBedrock, e).body;
    // Bedrock names stream exceptions in lower camel case: throttlingException,
    // internalServerException, serviceUnavailableException, ...
    std::string type = e.type;
    if (!type.empty()) type[0] = static_cast<char>(std::tolower(type[0]));
    (void)co_await ctx.writer->WriteChunk(codec::EncodeException(type, payload));
  }
  (void)co_await ctx.writer->EndStream();
}

// Streams an answer that did not come from a model (a guardrail's blocked message).
boost::asio::awaitable<Status> StreamSynthetic(const model::ChatResponse& r,
                                               model::ChatStreamSink& sink) {
  PERIMETER_CO_RETURN_IF_ERROR(co_await sink.OnStart(r.id));
  if (!r.text.empty()) PERIMETER_CO_RETURN_IF_ERROR(co_await sink.OnTextDelta(r.text));
  co_return co_await sink.OnStop(r.stop_reason, r.stop_sequence, r.usage);
}

// Keeps the text that reaches the client (after any output control) for prompt logging and
// invocation records.
class CapturingSink final : public model::ChatStreamSink {
 public:
  CapturingSink(RequestContext& ctx, model::ChatStreamSink& next) : ctx_(ctx), next_(next) {}
  boost::asio::awaitable<Status> OnStart(std::string_view id) override {
    co_return co_await next_.OnStart(id);
  }
  boost::asio::awaitable<Status> OnTextDelta(std::string_view text) override {
    ctx_.CaptureAnswer(text);
    co_return co_await next_.OnTextDelta(text);
  }
  boost::asio::awaitable<Status> OnStop(model::StopReason r, std::string_view seq,
                                        const model::Usage& usage) override {
    co_return co_await next_.OnStop(r, seq, usage);
  }

 private:
  RequestContext& ctx_;
  model::ChatStreamSink& next_;
};

// Runs the model (or the synthetic answer) into `sink`, through the response control if any.
boost::asio::awaitable<Status> RunStream(RequestContext& ctx, upstream::Upstream* up,
                                         const model::ChatRequest& chat,
                                         model::ChatStreamSink& client_sink) {
  std::optional<CapturingSink> capturing;
  if (ctx.capture_text) capturing.emplace(ctx, client_sink);
  model::ChatStreamSink& sink =
      capturing ? static_cast<model::ChatStreamSink&>(*capturing) : client_sink;
  std::unique_ptr<model::ChatStreamSink> wrapped;
  model::ChatStreamSink* target = &sink;
  if (ctx.response_control && !ctx.synthetic_response) {
    wrapped = ctx.response_control->WrapStream(sink);
    target = wrapped.get();
  }
  if (ctx.synthetic_response) co_return co_await StreamSynthetic(*ctx.synthetic_response, *target);
  Status st = co_await up->ChatStream(chat, *target);
  if (!st.ok() && ctx.response_control && ctx.response_control->StoppedStream()) {
    co_return Status::Ok();  // the guardrail ended the stream with its message
  }
  co_return st;
}

uint32_t EstimateInput(const model::ChatRequest& r) {
  uint32_t n = 0;
  for (const auto& s : r.system) n += model::CountWords(s);
  for (const auto& m : r.messages)
    for (const auto& t : m.text) n += model::CountWords(t);
  return n;
}

}  // namespace

boost::asio::awaitable<FilterStatus> UpstreamFilter::OnRequest(RequestContext& ctx) const {
  if (ctx.operation == Operation::kListModels) {
    ctx.status = 200;
    (void)co_await ctx.writer->Send(pipeline::MakeReply(
        200, "application/json", EncodeModelList(router_->ListModels(), UnixNow())));
    co_return FilterStatus::kStop;
  }
  auto target = router_->Resolve(ctx.model_id);
  if (!target.ok()) {
    co_await Fail(ctx, target.status());
    co_return FilterStatus::kStop;
  }
  upstream::Upstream& up = *target->upstream;
  ctx.upstream_name = ctx.synthetic_response ? "" : up.name();
  // A guarded request must go through the canonical form, where the guardrail can see (and
  // rewrite) the text: never raw.
  const bool guarded = ctx.guardrail.has_value() || ctx.response_control || ctx.synthetic_response;

  if (ctx.operation == Operation::kEmbeddings) {
    auto r = co_await up.Embeddings(target->upstream_model, ctx.request.body);
    if (!r.ok()) {
      co_await Fail(ctx, r.status());
    } else {
      ctx.status = 200;
      (void)co_await ctx.writer->Send(pipeline::MakeReply(200, "application/json", std::move(*r)));
    }
    co_return FilterStatus::kStop;
  }

  const bool invoke = ctx.operation == Operation::kInvokeModel ||
                      ctx.operation == Operation::kInvokeModelWithResponseStream;
  // Capturing the answer (prompt logging, invocation records) also needs the canonical form; a
  // body that is not an Anthropic messages body still passes through raw, uncaptured.
  const bool canonical = guarded || (ctx.capture_text && !ctx.chat_parse_failed);
  if (invoke && up.SupportsRawInvoke() && !canonical) {
    model::RawInvokeRequest raw{target->upstream_model, ctx.request.body, ctx.raw_body_content_type,
                                ctx.raw_accept};
    if (ctx.operation == Operation::kInvokeModel) {
      auto r = co_await up.InvokeRaw(raw);
      if (!r.ok()) {
        co_await Fail(ctx, r.status());
      } else {
        ctx.status = 200;
        (void)co_await ctx.writer->Send(
            pipeline::MakeReply(200, r->content_type, std::move(r->body)));
      }
    } else {
      RawPassthroughSink sink(ctx);
      Status st = co_await up.InvokeRawStream(raw, sink);
      if (st.ok()) st = co_await sink.Finish();
      if (!st.ok()) co_await Fail(ctx, st);
    }
    co_return FilterStatus::kStop;
  }
  if (invoke && ctx.chat_parse_failed) {
    // Decided outside the co_await (GCC 12 and temporaries in co_await expressions).
    const Status refused = InvalidArgument(
        ctx.chat_parse_error +
        (guarded ? std::string(" (a guardrail guards Anthropic messages bodies only, and this "
                               "request names one)")
                 : " (the '" + up.name() + "' upstream takes Anthropic messages bodies only)"));
    co_await Fail(ctx, refused);
    co_return FilterStatus::kStop;
  }
  if (!ctx.chat) {
    co_await Fail(ctx, Internal("request reached the upstream filter without a parsed body"));
    co_return FilterStatus::kStop;
  }
  model::ChatRequest& chat = *ctx.chat;
  chat.upstream_model = target->upstream_model;

  if (!chat.stream) {
    Result<model::ChatResponse> r = Internal("no answer");
    if (ctx.synthetic_response) {
      r = *ctx.synthetic_response;
    } else {
      r = co_await up.Chat(chat);
    }
    if (r.ok() && ctx.response_control && !ctx.synthetic_response) {
      Status checked = ctx.response_control->CheckResponse(*r);
      if (!checked.ok()) r = checked;
    }
    if (!r.ok()) {
      co_await Fail(ctx, r.status());
      co_return FilterStatus::kStop;
    }
    ctx.usage = r->usage;
    ctx.CaptureAnswer(r->text);
    std::string body;
    switch (ctx.operation) {
      case Operation::kConverse:
        body = EncodeConverseResponse(*r, MillisSince(ctx));
        break;
      case Operation::kInvokeModel:
        body = EncodeAnthropicResponse(*r, ctx.model_id);
        break;
      default:
        body = EncodeChatCompletion(*r, ctx.model_id, UnixNow());
        break;
    }
    ctx.status = 200;
    (void)co_await ctx.writer->Send(pipeline::MakeReply(200, "application/json", std::move(body)));
    co_return FilterStatus::kStop;
  }

  Status st;
  switch (ctx.operation) {
    case Operation::kConverseStream: {
      ConverseStreamSink sink(ctx);
      st = co_await RunStream(ctx, &up, chat, sink);
      break;
    }
    case Operation::kInvokeModelWithResponseStream: {
      AnthropicChunkSink sink(ctx, EstimateInput(chat));
      st = co_await RunStream(ctx, &up, chat, sink);
      break;
    }
    default: {
      OpenAiSseSink sink(ctx, chat.include_usage_in_stream);
      st = co_await RunStream(ctx, &up, chat, sink);
      break;
    }
  }
  if (!st.ok()) co_await Fail(ctx, st);
  co_return FilterStatus::kStop;
}

}  // namespace perimeter::api
