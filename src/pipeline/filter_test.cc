#include "pipeline/filter.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "pipeline/access_log.h"
#include "pipeline/standard_filters.h"

namespace perimeter::pipeline {
namespace {

namespace asio = boost::asio;

class RecordingWriter : public ResponseWriter {
 public:
  asio::awaitable<Status> Send(HttpReply r) override {
    replies.push_back(std::move(r));
    committed_ = true;
    co_return Status::Ok();
  }
  asio::awaitable<Status> StartStream(int, Headers) override {
    committed_ = true;
    co_return Status::Ok();
  }
  asio::awaitable<Status> WriteChunk(std::string_view) override { co_return Status::Ok(); }
  asio::awaitable<Status> EndStream() override { co_return Status::Ok(); }
  bool committed() const override { return committed_; }
  std::vector<HttpReply> replies;
  bool committed_ = false;
};

class TraceFilter : public Filter {
 public:
  TraceFilter(std::string n, std::vector<std::string>* trace, bool stop)
      : n_(std::move(n)), trace_(trace), stop_(stop) {}
  std::string_view name() const override { return n_; }
  asio::awaitable<FilterStatus> OnRequest(RequestContext& ctx) const override {
    trace_->push_back("req:" + n_);
    if (stop_) {
      // Named, not a braced temporary inside co_await: see ARCHITECTURE.md (GCC 12 coroutines).
      const ApiError denied{403, "AccessDeniedException", "", "no"};
      co_await SendError(ctx, denied);
      co_return FilterStatus::kStop;
    }
    co_return FilterStatus::kContinue;
  }
  void OnComplete(RequestContext&) const override { trace_->push_back("done:" + n_); }

 private:
  std::string n_;
  std::vector<std::string>* trace_;
  bool stop_;
};

void RunChain(const FilterChain& chain, RequestContext& ctx) {
  asio::io_context io;
  asio::co_spawn(io, chain.Run(ctx), asio::detached);
  io.run();
}

TEST(FilterChainTest, StopsAtRefusingFilterAndCompletesOnlyThoseThatRan) {
  std::vector<std::string> trace;
  std::vector<std::unique_ptr<Filter>> f;
  f.push_back(std::make_unique<TraceFilter>("a", &trace, false));
  f.push_back(std::make_unique<TraceFilter>("b", &trace, true));
  f.push_back(std::make_unique<TraceFilter>("c", &trace, false));
  FilterChain chain(std::move(f));
  RecordingWriter w;
  RequestContext ctx;
  ctx.writer = &w;
  RunChain(chain, ctx);
  EXPECT_EQ(trace, (std::vector<std::string>{"req:a", "req:b", "done:b", "done:a"}));
  ASSERT_EQ(w.replies.size(), 1u);
  EXPECT_EQ(w.replies[0].status, 403);
  EXPECT_EQ(ctx.status, 403);
}

TEST(FilterChainTest, AnswersFiveHundredWhenNoFilterAnswers) {
  std::vector<std::string> trace;
  std::vector<std::unique_ptr<Filter>> f;
  f.push_back(std::make_unique<TraceFilter>("a", &trace, false));
  FilterChain chain(std::move(f));
  RecordingWriter w;
  RequestContext ctx;
  ctx.writer = &w;
  ctx.flavor = ApiFlavor::kOpenAi;
  RunChain(chain, ctx);
  ASSERT_EQ(w.replies.size(), 1u);
  EXPECT_EQ(w.replies[0].status, 500);
  auto body = boost::json::parse(w.replies[0].body);
  EXPECT_EQ(body.at("error").at("type").as_string(), "server_error");
}

TEST(ErrorEncodingTest, BedrockErrorsCarryTypeHeaderAndMessageBody) {
  auto e = ErrorFromStatus(ApiFlavor::kBedrock, NotFound("model x not found"));
  EXPECT_EQ(e.http_status, 404);
  HttpReply r = EncodeError(ApiFlavor::kBedrock, e);
  bool found = false;
  for (auto& [k, v] : r.headers)
    found |= (k == "x-amzn-ErrorType" && v == "ResourceNotFoundException");
  EXPECT_TRUE(found);
  EXPECT_EQ(r.body, R"({"message":"model x not found"})");
}

TEST(ErrorEncodingTest, OpenAiErrorsUseErrorObject) {
  auto e = ErrorFromStatus(ApiFlavor::kOpenAi, NotFound("The model 'x' does not exist"));
  HttpReply r = EncodeError(ApiFlavor::kOpenAi, e);
  EXPECT_EQ(r.status, 404);
  auto body = boost::json::parse(r.body);
  EXPECT_EQ(body.at("error").at("code").as_string(), "model_not_found");
  EXPECT_EQ(body.at("error").at("type").as_string(), "invalid_request_error");
}

TEST(ErrorEncodingTest, StatusCodesMapToBedrockExceptions) {
  struct {
    Status s;
    int http;
    const char* type;
  } cases[] = {
      {InvalidArgument("x"), 400, "ValidationException"},
      {ResourceExhausted("x"), 429, "ThrottlingException"},
      {DeadlineExceeded("x"), 408, "ModelTimeoutException"},
      {Unavailable("x"), 503, "ServiceUnavailableException"},
      {Internal("x"), 500, "InternalServerException"},
      {PermissionDenied("x"), 403, "AccessDeniedException"},
  };
  for (auto& c : cases) {
    auto e = ErrorFromStatus(ApiFlavor::kBedrock, c.s);
    EXPECT_EQ(e.http_status, c.http) << c.type;
    EXPECT_EQ(e.type, c.type);
  }
}

TEST(AccessLogTest, LineHasFieldsAndNoBodyText) {
  RequestContext ctx;
  ctx.request_id = "rid-1";
  ctx.operation = Operation::kConverse;
  ctx.model_id = "perimeter.echo-v1";
  ctx.status = 200;
  ctx.request.body = R"({"messages":[{"role":"user","content":[{"text":"my card is 4111"}]}]})";
  ctx.received_mono = std::chrono::steady_clock::now();
  std::string line = FormatAccessLogLine(ctx, ctx.received_mono + std::chrono::milliseconds(5));
  auto j = boost::json::parse(line).as_object();
  EXPECT_EQ(j.at("request_id").as_string(), "rid-1");
  EXPECT_EQ(j.at("operation").as_string(), "Converse");
  EXPECT_EQ(j.at("status").as_int64(), 200);
  EXPECT_TRUE(j.at("tenant").is_null());
  EXPECT_NEAR(j.at("latency_ms").as_double(), 5.0, 0.01);
  EXPECT_EQ(j.at("bytes_in").to_number<uint64_t>(), ctx.request.body.size());
  EXPECT_EQ(line.find("4111"), std::string::npos);
}

TEST(RequestIdTest, IdsAreUuidShapedAndDistinct) {
  std::string a = NewRequestId(), b = NewRequestId();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace perimeter::pipeline
