// Integration tests: the real `perimeter` binary, started on port 0 in a fresh temporary
// directory, driven over 127.0.0.1 with raw HTTP/1.1 bytes (so each test sends exactly what it
// means to), and with curl for TLS, mTLS and Unix sockets. Upstream behaviour (slow, silent,
// refusing) comes from a small OpenAI-shaped server run by the test itself.
//
// Every model request is authenticated: each config the tests write declares the user
// integ-client (bedrock:* on everything), whose access key and API key are issued with the real
// CLI once the gateway runs. Requests to /model/... carry a SigV4 signature made now with that
// key (service bedrock, region eu-west-1), requests to /v1/... an `Authorization: Bearer` API key.

#include "gateway_fixture.h"

namespace perimeter::testing {
namespace {

TEST_F(GatewayTest, HealthAndReadinessAnswer200) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  EXPECT_EQ(url_.rfind("http://127.0.0.1:", 0), 0u) << url_;
  for (const char* path : {"/healthz", "/readyz"}) {
    auto r = Exchange(port_, Request("GET", path, ""));
    ASSERT_TRUE(r.ok()) << path << ": " << r.status().message();
    EXPECT_EQ(r->status, 200) << path << "\n" << r->Describe();
  }
}

TEST_F(GatewayTest, CreatesStateDirectoryReadableByOwnerOnly) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() + "/var").c_str(), &st), 0)
      << "the default state_dir ./var was not created in the working directory";
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u) << std::oct << (st.st_mode & 07777);
}

TEST_F(GatewayTest, MetricsCountAnsweredRequestWithEmptyTenant) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  auto r =
      Exchange(port_, Request("POST", "/model/perimeter.echo-v1/converse", ConverseBody("hi")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();

  // The counter is updated after the response is written; poll briefly for it.
  std::string counter_line, last_metrics;
  const auto deadline = Clock::now() + milliseconds(2000);
  while (counter_line.empty() && Clock::now() < deadline) {
    auto m = Exchange(port_, Request("GET", "/metrics", ""));
    ASSERT_TRUE(m.ok()) << m.status().message();
    ASSERT_EQ(m->status, 200) << m->Describe();
    last_metrics = m->body;
    size_t pos = 0;
    while (pos < last_metrics.size()) {
      size_t e = last_metrics.find('\n', pos);
      std::string line = last_metrics.substr(pos, e == std::string::npos ? e : e - pos);
      pos = e == std::string::npos ? last_metrics.size() : e + 1;
      if (line.rfind("perimeter_requests_total{", 0) == 0 &&
          line.find("operation=\"Converse\"") != std::string::npos &&
          line.find("model=\"perimeter.echo-v1\"") != std::string::npos &&
          line.find("status=\"200\"") != std::string::npos) {
        counter_line = line;
      }
    }
    if (counter_line.empty()) {
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  ASSERT_FALSE(counter_line.empty()) << "no Converse 200 counter in:\n" << last_metrics;
  EXPECT_THAT(counter_line, HasSubstr("tenant=\"\""));
  EXPECT_EQ(counter_line.substr(counter_line.rfind(' ') + 1), "1") << counter_line;
}

TEST_F(GatewayTest, AccessLogLineDescribesRequestWithoutItsPrompt) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  const std::string prompt = "zebra-quartz-7781 is my secret prompt";
  const std::string body = ConverseBody(prompt);
  auto r = Exchange(port_, Request("POST", "/model/perimeter.echo-v1/converse", body));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_THAT(ConverseText(*r), HasSubstr(prompt));  // the echo model repeats it...
  const std::string request_id = r->HeaderOr("x-request-id");
  ASSERT_FALSE(request_id.empty()) << r->Describe();

  auto line = gw_.WaitForStdoutLine(
      [&](const std::string& l) {
        return !l.empty() && l[0] == '{' && l.find(request_id) != std::string::npos;
      },
      milliseconds(2000));
  ASSERT_TRUE(line.has_value()) << "no access log line with request_id " << request_id;
  EXPECT_THAT(*line, Not(HasSubstr("zebra-quartz-7781")));  // ...but the log never does
  boost::system::error_code ec;
  json::value v = json::parse(*line, ec);
  ASSERT_FALSE(ec) << "access log line is not JSON: " << *line;
  ASSERT_TRUE(v.is_object()) << *line;
  const auto& o = v.as_object();
  for (const char* field : {"request_id", "operation", "model", "status", "latency_ms", "bytes_in",
                            "bytes_out", "tenant"}) {
    EXPECT_TRUE(o.contains(field)) << "missing " << field << " in " << *line;
  }
  if (::testing::Test::HasFailure()) {
    return;
  }
  EXPECT_EQ(o.at("request_id"), json::value(request_id));
  EXPECT_EQ(o.at("operation"), json::value("Converse"));
  EXPECT_EQ(o.at("model"), json::value("perimeter.echo-v1"));
  EXPECT_EQ(o.at("status").to_number<int64_t>(), 200);
  ASSERT_TRUE(o.at("latency_ms").is_number()) << *line;
  EXPECT_GE(o.at("latency_ms").to_number<double>(), 0.0);
  EXPECT_EQ(o.at("bytes_in").to_number<int64_t>(), static_cast<int64_t>(body.size()));
  EXPECT_GT(o.at("bytes_out").to_number<int64_t>(), 0);
  EXPECT_TRUE(o.at("tenant").is_null()) << *line;
}

// ---------------------------------------------------------------------------------------------
// 2. Body limits

GatewayConfig SmallBodyConfig() {
  GatewayConfig c;
  c.limits = {"max_body_bytes: 1KB"};
  return c;
}

std::string OversizedConverseBody() {
  return ConverseBody("hello") + std::string(2000, ' ');  // valid JSON, 2 KB over 1 KB
}

TEST_F(GatewayTest, BodyOverLimitByContentLengthIsValidationException413OnBedrockPath) {
  ASSERT_NO_FATAL_FAILURE(StartGateway(SmallBodyConfig()));
  auto r = Exchange(port_,
                    Request("POST", "/model/perimeter.echo-v1/converse", OversizedConverseBody()));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 413) << r->Describe();
  EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ValidationException") << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("max_body_bytes"));
}

TEST_F(GatewayTest, BodyOverLimitByContentLengthIsOpenAiError413OnV1Path) {
  ASSERT_NO_FATAL_FAILURE(StartGateway(SmallBodyConfig()));
  const std::string body = ChatBody("perimeter.echo-v1", "hello") + std::string(2000, ' ');
  auto r = Exchange(port_, Request("POST", "/v1/chat/completions", body));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 413) << r->Describe();
  EXPECT_EQ(r->Header("x-amzn-errortype"), nullptr) << r->Describe();
  EXPECT_EQ(r->OpenAiError("type"), "invalid_request_error") << r->Describe();
  EXPECT_THAT(r->OpenAiError("message"), HasSubstr("max_body_bytes"));
}

TEST_F(GatewayTest, ChunkedBodyOverLimitIs413) {
  ASSERT_NO_FATAL_FAILURE(StartGateway(SmallBodyConfig()));
  const std::string chunk(1000, ' ');
  const std::string first = ConverseBody("hello");
  const std::string target = "/model/perimeter.echo-v1/converse";
  const Headers head = {{"Host", "127.0.0.1"},
                        {"Content-Type", "application/json"},
                        {"Transfer-Encoding", "chunked"}};
  std::string req = "POST " + target + " HTTP/1.1\r\n" + HeaderLines(head) +
                    SigV4HeaderLines(access_key_, "POST", target, head, first + chunk + chunk) +
                    "\r\n";
  req +=
      [](size_t n) {
        char b[16];
        std::snprintf(b, sizeof(b), "%zx", n);
        return std::string(b);
      }(first.size()) +
      "\r\n" + first + "\r\n";
  req += "3e8\r\n" + chunk + "\r\n3e8\r\n" + chunk + "\r\n0\r\n\r\n";
  auto r = Exchange(port_, req);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 413) << r->Describe();
  EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ValidationException") << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("max_body_bytes"));
}

TEST_F(GatewayTest, ChunkedBodyWithinLimitIsServed) {
  ASSERT_NO_FATAL_FAILURE(StartGateway(SmallBodyConfig()));
  const std::string body = ConverseBody("chunked hello");
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", body.size());
  const std::string target = "/model/perimeter.echo-v1/converse";
  const Headers head = {{"Host", "127.0.0.1"},
                        {"Content-Type", "application/json"},
                        {"Transfer-Encoding", "chunked"}};
  const std::string req = "POST " + target + " HTTP/1.1\r\n" + HeaderLines(head) +
                          SigV4HeaderLines(access_key_, "POST", target, head, body) + "\r\n" +
                          std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
  auto r = Exchange(port_, req);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200) << r->Describe();
  EXPECT_THAT(ConverseText(*r), HasSubstr("You said: chunked hello"));
}

// ---------------------------------------------------------------------------------------------
// 3. Header limits

TEST_F(GatewayTest, MoreHeadersThanLimitIs400) {
  GatewayConfig c;
  c.limits = {"max_header_count: 10"};
  ASSERT_NO_FATAL_FAILURE(StartGateway(c));
  std::string extra;
  for (int i = 0; i < 20; ++i) {
    extra += "X-Filler-" + std::to_string(i) + ": v\r\n";
  }
  auto r = Exchange(
      port_, Request("POST", "/model/perimeter.echo-v1/converse", ConverseBody("hi"), extra));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 400) << r->Describe();
  EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ValidationException") << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("headers"));
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("10"));
}

TEST_F(GatewayTest, HeaderBytesOverLimitIs400) {
  GatewayConfig c;
  c.limits = {"max_header_bytes: 2KiB"};
  ASSERT_NO_FATAL_FAILURE(StartGateway(c));
  const std::string extra = "X-Big: " + std::string(4000, 'a') + "\r\n";
  auto r = Exchange(
      port_, Request("POST", "/model/perimeter.echo-v1/converse", ConverseBody("hi"), extra));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 400) << r->Describe();
  EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ValidationException") << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("2048"));
}

// ---------------------------------------------------------------------------------------------
// 4. Malformed requests

TEST_F(GatewayTest, ConverseWithoutMessagesNamesTheField) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  auto r = Exchange(port_, Request("POST", "/model/perimeter.echo-v1/converse",
                                   R"({"inferenceConfig":{"maxTokens":10}})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 400) << r->Describe();
  EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ValidationException") << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("messages"));
}

TEST_F(GatewayTest, ConverseWithMalformedJsonIsValidationException) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  auto r = Exchange(port_, Request("POST", "/model/perimeter.echo-v1/converse",
                                   R"({"messages": [{"role": "user", )"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 400) << r->Describe();
  EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ValidationException") << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("JSON"));
}

TEST_F(GatewayTest, ChatCompletionsWithoutModelNamesTheField) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  auto r = Exchange(port_, Request("POST", "/v1/chat/completions",
                                   R"({"messages":[{"role":"user","content":"hi"}]})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 400) << r->Describe();
  EXPECT_EQ(r->OpenAiError("type"), "invalid_request_error") << r->Describe();
  EXPECT_THAT(r->OpenAiError("message"), HasSubstr("'model'"));
}

TEST_F(GatewayTest, UnknownOpenAiPathIsUnknownUrlNotModelNotFound) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  auto r = Exchange(port_, Request("POST", "/v1/completions", R"({"model":"perimeter.echo-v1"})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 404) << r->Describe();
  EXPECT_EQ(r->OpenAiError("code"), "unknown_url") << r->Describe();
  EXPECT_THAT(r->OpenAiError("message"), HasSubstr("/v1/chat/completions"));
}

// A request naming a guardrail that does not exist is refused, never answered unguarded.
TEST_F(GatewayTest, InvokeModelNamingAnUnknownGuardrailIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  auto r = Exchange(
      port_,
      Request(
          "POST", "/model/perimeter.echo-v1/invoke",
          R"({"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[{"role":"user","content":"hi"}]})",
          "X-Amzn-Bedrock-GuardrailIdentifier: gr-1\r\nX-Amzn-Bedrock-GuardrailVersion: 1\r\n"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 404) << r->Describe();
  EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ResourceNotFoundException") << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("gr-1"));
}

// ---------------------------------------------------------------------------------------------
// 5. Slow and idle clients. idle_timeout is set far from request_timeout so each test shows
// which of the two closed the connection.

GatewayConfig TimeoutConfig(const char* request_timeout, const char* idle_timeout) {
  GatewayConfig c;
  c.limits = {std::string("request_timeout: ") + request_timeout,
              std::string("idle_timeout: ") + idle_timeout};
  return c;
}

TEST_F(GatewayTest, StalledRequestHeadIsClosedWithinRequestTimeout) {
  ASSERT_NO_FATAL_FAILURE(StartGateway(TimeoutConfig("500ms", "5s")));
  auto c = RawConnection::Connect(port_);
  ASSERT_TRUE(c.ok()) << c.status().message();
  const auto start = Clock::now();
  ASSERT_TRUE((*c)->Send("POST /model/perimeter.echo-v1/converse HTTP/1.1\r\nHost: 127").ok());
  auto closed = (*c)->ReadUntilClosed(milliseconds(2500));
  const int64_t elapsed = MillisSince(start);
  ASSERT_TRUE(closed.ok()) << "a request head stalled half-way was not closed within 2.5 s "
                              "(limits.request_timeout is 500ms): "
                           << closed.status().message();
  EXPECT_GE(elapsed, 400) << "closed before request_timeout elapsed";
  EXPECT_LE(elapsed, 1500) << "closed " << elapsed << " ms after the first byte";
}

TEST_F(GatewayTest, StalledRequestBodyIsClosedWithinRequestTimeout) {
  ASSERT_NO_FATAL_FAILURE(StartGateway(TimeoutConfig("500ms", "5s")));
  auto c = RawConnection::Connect(port_);
  ASSERT_TRUE(c.ok()) << c.status().message();
  const std::string body = ConverseBody("never finished");
  const std::string req = Request("POST", "/model/perimeter.echo-v1/converse", body);
  const auto start = Clock::now();
  ASSERT_TRUE((*c)->Send(req.substr(0, req.size() - body.size() / 2)).ok());
  auto closed = (*c)->ReadUntilClosed(milliseconds(2500));
  const int64_t elapsed = MillisSince(start);
  ASSERT_TRUE(closed.ok()) << "a request whose body stalled half-way was not closed within 2.5 s "
                              "(limits.request_timeout is 500ms): "
                           << closed.status().message();
  EXPECT_GE(elapsed, 400) << "closed before request_timeout elapsed";
  EXPECT_LE(elapsed, 1500) << "closed " << elapsed << " ms after the request started";
  if (!closed->empty()) {
    EXPECT_EQ(closed->rfind("HTTP/1.1 408", 0), 0u)
        << "if anything is answered it must be a timeout: " << *closed;
  }
}

TEST_F(GatewayTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  ASSERT_NO_FATAL_FAILURE(StartGateway(TimeoutConfig("5s", "500ms")));
  auto c = RawConnection::Connect(port_);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE((*c)->Send(Request("GET", "/healthz", "")).ok());
  auto r = (*c)->ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  const auto answered = Clock::now();
  auto closed = (*c)->ReadUntilClosed(milliseconds(2500));
  const int64_t elapsed = MillisSince(answered);
  ASSERT_TRUE(closed.ok()) << "an idle keep-alive connection was not closed within 2.5 s "
                              "(limits.idle_timeout is 500ms): "
                           << closed.status().message();
  EXPECT_EQ(*closed, "") << "no bytes are due on an idle connection";
  EXPECT_GE(elapsed, 400) << "the keep-alive connection was closed before idle_timeout";
  EXPECT_LE(elapsed, 1500) << "closed " << elapsed << " ms after going idle";
}

// ---------------------------------------------------------------------------------------------
// 6. Keep-alive

TEST_F(GatewayTest, AnswersTwoRequestsOnOneKeepAliveConnection) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  auto c = RawConnection::Connect(port_);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(
      (*c)->Send(Request("POST", "/model/perimeter.echo-v1/converse", ConverseBody("first"))).ok());
  auto r1 = (*c)->ReadResponse();
  ASSERT_TRUE(r1.ok()) << r1.status().message();
  EXPECT_EQ(r1->status, 200) << r1->Describe();
  EXPECT_THAT(ConverseText(*r1), HasSubstr("You said: first"));
  EXPECT_NE(Lower(r1->HeaderOr("connection")), "close") << r1->Describe();

  ASSERT_TRUE(
      (*c)->Send(Request("POST", "/v1/chat/completions", ChatBody("perimeter.echo-v1", "second")))
          .ok());
  auto r2 = (*c)->ReadResponse();
  ASSERT_TRUE(r2.ok()) << "second request on the same connection: " << r2.status().message();
  EXPECT_EQ(r2->status, 200) << r2->Describe();
  EXPECT_THAT(r2->body, HasSubstr("You said: second"));
}

// ---------------------------------------------------------------------------------------------
// 7. Upstream behaviour

GatewayConfig UpstreamConfig(const FakeOpenAiServer& s, const char* timeouts = nullptr) {
  GatewayConfig c;
  c.openai_base_url = s.base_url();
  if (timeouts) {
    c.openai_timeouts = timeouts;
  }
  return c;
}

TEST_F(GatewayTest, RelaysUpstreamAnswerWithRenamedModel) {
  FakeOpenAiServer upstream(FakeOpenAiServer::Behavior::kAnswer);
  ASSERT_NO_FATAL_FAILURE(StartGateway(UpstreamConfig(upstream)));
  auto r = Exchange(port_, Request("POST", "/model/chain.fake/converse", ConverseBody("hi")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(ConverseText(*r), FakeOpenAiServer::kAnswerText);
  auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].rfind("POST /v1/chat/completions HTTP/1.1\r\n", 0), 0u) << reqs[0];
  EXPECT_THAT(reqs[0], HasSubstr("\"model\":\"fake-model\""));
}

TEST_F(GatewayTest, UpstreamFirstByteTimeoutIsModelTimeoutExceptionOnConverse) {
  FakeOpenAiServer upstream(FakeOpenAiServer::Behavior::kNeverAnswer);
  ASSERT_NO_FATAL_FAILURE(
      StartGateway(UpstreamConfig(upstream, "{ connect: 1s, first_byte: 300ms, total: 10s }")));
  const auto start = Clock::now();
  auto r = Exchange(port_, Request("POST", "/model/chain.fake/converse", ConverseBody("hi")));
  const int64_t elapsed = MillisSince(start);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 408) << r->Describe();
  EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ModelTimeoutException") << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("first byte"));
  EXPECT_GE(elapsed, 250);
  EXPECT_LE(elapsed, 2000) << "the 300ms first_byte timeout took " << elapsed << " ms";
}

TEST_F(GatewayTest, UpstreamFirstByteTimeoutIs504OnChatCompletions) {
  FakeOpenAiServer upstream(FakeOpenAiServer::Behavior::kNeverAnswer);
  ASSERT_NO_FATAL_FAILURE(
      StartGateway(UpstreamConfig(upstream, "{ connect: 1s, first_byte: 300ms, total: 10s }")));
  auto r = Exchange(port_, Request("POST", "/v1/chat/completions", ChatBody("chain.fake", "hi")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 504) << r->Describe();
  EXPECT_EQ(r->Header("x-amzn-errortype"), nullptr) << r->Describe();
  EXPECT_THAT(r->OpenAiError("message"), HasSubstr("first byte"));
}

TEST_F(GatewayTest, RefusedUpstreamConnectionIsServiceUnavailable) {
  const uint16_t closed = ClosedPort();
  GatewayConfig c;
  c.openai_base_url = "http://127.0.0.1:" + std::to_string(closed) + "/v1";
  ASSERT_NO_FATAL_FAILURE(StartGateway(c));
  auto r = Exchange(port_, Request("POST", "/model/chain.fake/converse", ConverseBody("hi")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 503) << r->Describe();
  EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ServiceUnavailableException") << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr(std::to_string(closed)));
}

TEST_F(GatewayTest, UpstreamClosingWithoutAnswerIsServiceUnavailable) {
  FakeOpenAiServer upstream(FakeOpenAiServer::Behavior::kCloseAtOnce);
  ASSERT_NO_FATAL_FAILURE(StartGateway(UpstreamConfig(upstream)));
  auto r = Exchange(port_, Request("POST", "/model/chain.fake/converse", ConverseBody("hi")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 503) << r->Describe();
  EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ServiceUnavailableException") << r->Describe();
}

TEST_F(GatewayTest, ClientDisconnectClosesTheUpstreamConnection) {
  FakeOpenAiServer upstream(FakeOpenAiServer::Behavior::kNeverAnswer);
  ASSERT_NO_FATAL_FAILURE(
      StartGateway(UpstreamConfig(upstream, "{ connect: 1s, first_byte: 20s, total: 30s }")));
  auto c = RawConnection::Connect(port_);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(
      (*c)->Send(Request("POST", "/model/chain.fake/converse", ConverseBody("abandon me"))).ok());
  ASSERT_TRUE(upstream.WaitForRequests(1, milliseconds(3000)))
      << "the gateway never called the upstream";
  (*c)->Close();
  EXPECT_TRUE(upstream.WaitForPeerClose(milliseconds(3000)))
      << "the client went away but the gateway kept the upstream call open for 3 s "
         "(first_byte timeout is 20 s)";
}

TEST_F(GatewayTest, SigtermFinishesInFlightRequestRefusesNewConnectionsAndExitsZero) {
  FakeOpenAiServer upstream(FakeOpenAiServer::Behavior::kDelayThenAnswer, milliseconds(700));
  ASSERT_NO_FATAL_FAILURE(StartGateway(UpstreamConfig(upstream)));
  auto c = RawConnection::Connect(port_);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE((*c)->Send(Request("POST", "/model/chain.fake/converse", ConverseBody("hi"))).ok());
  ASSERT_TRUE(upstream.WaitForRequests(1, milliseconds(3000)));

  gw_.Signal(SIGTERM);
  // The listener closes shortly after the signal; the upstream still holds the request.
  bool refused = false;
  std::string last_error;
  const auto deadline = Clock::now() + milliseconds(500);
  while (!refused && Clock::now() < deadline) {
    auto probe = RawConnection::Connect(port_);
    if (!probe.ok()) {
      refused = true;
      last_error = probe.status().message();
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(refused) << "new connections were still accepted 500 ms after SIGTERM";
  EXPECT_THAT(last_error, HasSubstr("refused"));
  EXPECT_TRUE(gw_.running()) << "the gateway exited before its in-flight request was answered";

  auto r = (*c)->ReadResponse();
  ASSERT_TRUE(r.ok()) << "in-flight request during drain: " << r.status().message();
  EXPECT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(ConverseText(*r), FakeOpenAiServer::kAnswerText);

  ProcessExit e = gw_.Wait(milliseconds(5000));
  EXPECT_TRUE(e.exited && e.code == 0) << e.Describe();
}

// ---------------------------------------------------------------------------------------------
// 8. TLS and mTLS (certificates made with the openssl CLI once for the suite)

class TlsTest : public GatewayTest {
 protected:
  static void SetUpTestSuite() {
    certs_ = new TempDir();
    const std::string d = certs_->path();
    certs_->WriteFile("server.ext",
                      "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                      "basicConstraints=CA:FALSE\n");
    certs_->WriteFile("client.ext", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};
    auto with = [&](std::vector<std::string> head, const std::vector<std::string>& tail) {
      head.insert(head.end(), tail.begin(), tail.end());
      return head;
    };
    const std::vector<std::vector<std::string>> steps = {
        with(with({"openssl", "req", "-x509"}, ec),
             {"-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Perimeter Test CA",
              "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
              "keyUsage=critical,keyCertSign,cRLSign"}),
        with(with({"openssl", "req", "-new"}, ec),
             {"-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"}),
        {"openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext"},
        with(with({"openssl", "req", "-new"}, ec),
             {"-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=test-client"}),
        {"openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "client.pem", "-days", "2", "-extfile", "client.ext"},
        with(with({"openssl", "req", "-x509"}, ec),
             {"-keyout", "rogue.key", "-out", "rogue.pem", "-days", "2", "-subj", "/CN=rogue"}),
    };
    for (const auto& argv : steps) {
      CommandResult r = RunCommand(argv, d);
      if (!r.exit.exited || r.exit.code != 0) {
        cert_error_ = new std::string("`" + argv[1] + " " + argv[2] + "` " + r.exit.Describe() +
                                      ": " + r.err);
        return;
      }
    }
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
    delete cert_error_;
    cert_error_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(cert_error_, nullptr) << "generating test certificates failed: " << *cert_error_;
  }
  static std::string Cert(const char* name) { return certs_->path() + "/" + name; }

  // curl over https with the test CA; returns the result, the HTTP code on the last line.
  CommandResult Curl(const std::string& url, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"curl", "-sS",      "--noproxy",    "*",  "--max-time",
                                     "5",    "--cacert", Cert("ca.pem"), "-w", "\n%{http_code}"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    return RunCommand(argv, dir_.path());
  }
  static std::string HttpCode(const CommandResult& r) {
    return r.out.substr(r.out.rfind('\n') + 1);
  }

  static TempDir* certs_;
  static std::string* cert_error_;
};
TempDir* TlsTest::certs_ = nullptr;
std::string* TlsTest::cert_error_ = nullptr;

TEST_F(TlsTest, TlsListenerServesHttpsWithConfiguredCertificate) {
  GatewayConfig c;
  c.listener += "    tls: { certificate: " + Cert("server.pem") +
                ", private_key: " + Cert("server.key") + " }\n";
  ASSERT_NO_FATAL_FAILURE(StartGateway(c));
  ASSERT_EQ(url_.rfind("https://127.0.0.1:", 0), 0u) << url_;
  CommandResult r = Curl(url_ + "/healthz", {});
  EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.Describe() << ": " << r.err;
  EXPECT_EQ(HttpCode(r), "200") << r.out;

  // Plain HTTP on the TLS port gets no HTTP answer.
  auto plain = Exchange(port_, Request("GET", "/healthz", ""), milliseconds(2000));
  EXPECT_FALSE(plain.ok() && plain->status == 200) << "plain HTTP was served on a TLS listener";
}

TEST_F(TlsTest, MutualTlsListenerRequiresClientCertificateFromConfiguredCa) {
  GatewayConfig c;
  c.listener += "    tls: { certificate: " + Cert("server.pem") +
                ", private_key: " + Cert("server.key") + ", client_ca: " + Cert("ca.pem") + " }\n";
  ASSERT_NO_FATAL_FAILURE(StartGateway(c));

  CommandResult none = Curl(url_ + "/healthz", {});
  EXPECT_FALSE(none.exit.exited && none.exit.code == 0)
      << "served without a client certificate: " << none.out;
  EXPECT_NE(HttpCode(none), "200");

  CommandResult rogue =
      Curl(url_ + "/healthz", {"--cert", Cert("rogue.pem"), "--key", Cert("rogue.key")});
  EXPECT_FALSE(rogue.exit.exited && rogue.exit.code == 0)
      << "served with a certificate from an unknown CA: " << rogue.out;
  EXPECT_NE(HttpCode(rogue), "200");

  CommandResult ok =
      Curl(url_ + "/healthz", {"--cert", Cert("client.pem"), "--key", Cert("client.key")});
  EXPECT_TRUE(ok.exit.exited && ok.exit.code == 0) << ok.exit.Describe() << ": " << ok.err;
  EXPECT_EQ(HttpCode(ok), "200") << ok.out;
}

TEST_F(TlsTest, MissingCertificateFileStopsStartupNamingListenerAndFile) {
  GatewayConfig c;
  c.listener =
      "    address: 127.0.0.1\n    port: 0\n"
      "    tls: { certificate: missing-cert.pem, private_key: " +
      Cert("server.key") + " }\n";
  std::string yaml = c.Yaml();
  // Name the listener so the message can be checked for it.
  yaml.replace(yaml.find("- name: main"), 12, "- name: secure-door");
  auto url = gw_.Start(yaml);
  ASSERT_FALSE(url.ok()) << "started with a missing certificate file: " << *url;
  ProcessExit e = gw_.Wait(milliseconds(5000));
  EXPECT_TRUE(e.exited && e.code != 0) << e.Describe();
  EXPECT_THAT(gw_.Stderr(), HasSubstr("secure-door"));
  EXPECT_THAT(gw_.Stderr(), HasSubstr("missing-cert.pem"));
}

// ---------------------------------------------------------------------------------------------
// 9. Source address filtering

TEST_F(GatewayTest, ConnectionFromOutsideAllowedCidrsIsClosedWithoutResponse) {
  GatewayConfig c;
  c.listener += "    allowed_cidrs: [10.0.0.0/8]\n";
  ASSERT_NO_FATAL_FAILURE(StartGateway(c));
  auto conn = RawConnection::Connect(port_);
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  (void)(*conn)->Send(Request("GET", "/healthz", ""));  // may already fail: the gateway closed
  auto closed = (*conn)->ReadUntilClosed(milliseconds(2000));
  ASSERT_TRUE(closed.ok()) << "a refused source's connection stayed open: "
                           << closed.status().message();
  EXPECT_EQ(*closed, "") << "a refused source must get no bytes";
}

TEST_F(GatewayTest, ConnectionFromInsideAllowedCidrsIsServed) {
  GatewayConfig c;
  c.listener += "    allowed_cidrs: [127.0.0.0/8]\n";
  ASSERT_NO_FATAL_FAILURE(StartGateway(c));
  auto r = Exchange(port_, Request("GET", "/healthz", ""));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200) << r->Describe();
}

// ---------------------------------------------------------------------------------------------
// 10. Unix socket listener

TEST_F(GatewayTest, UnixSocketListenerServesHealth) {
  const std::string sock = dir_.path() + "/gw.sock";
  GatewayConfig c;
  c.listener = "    unix_socket: " + sock + "\n";
  ASSERT_NO_FATAL_FAILURE(StartGateway(c));
  EXPECT_EQ(url_, "unix:" + sock);
  CommandResult r = RunCommand({"curl", "-sS", "--noproxy", "*", "--max-time", "5", "--unix-socket",
                                sock, "-w", "\n%{http_code}", "http://localhost/healthz"},
                               dir_.path());
  EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.Describe() << ": " << r.err;
  EXPECT_EQ(r.out.substr(r.out.rfind('\n') + 1), "200") << r.out;
}

// ---------------------------------------------------------------------------------------------
// 11. The CLI: config check and startup failures

TEST_F(GatewayTest, ConfigCheckReportsFileLineColumnAndFieldPath) {
  dir_.WriteFile("bad.yaml",
                 "listeners:\n"
                 "  - name: main\n"
                 "    port: notaport\n");
  CommandResult r = RunCommand({PERIMETER_BIN, "config", "check", "bad.yaml"}, dir_.path());
  EXPECT_TRUE(r.exit.exited && r.exit.code == 1) << r.exit.Describe();
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:3:11"));
  EXPECT_THAT(r.err, HasSubstr("listeners[0].port"));
  EXPECT_THAT(r.err, HasSubstr("notaport"));
}

TEST_F(GatewayTest, ConfigCheckAcceptsValidFile) {
  dir_.WriteFile("good.yaml", GatewayConfig{}.Yaml());
  CommandResult r = RunCommand({PERIMETER_BIN, "config", "check", "good.yaml"}, dir_.path());
  EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.Describe() << ": " << r.err;
  EXPECT_THAT(r.out, HasSubstr("good.yaml"));
}

TEST_F(GatewayTest, ServeExitsWithCode2WhenPortIsInUse) {
  int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string port = std::to_string(ntohs(a.sin_port));

  GatewayConfig c;
  c.listener = "    address: 127.0.0.1\n    port: " + port + "\n";
  auto url = gw_.Start(c.Yaml());
  ::close(holder);
  ASSERT_FALSE(url.ok()) << "started on a port another socket holds: " << *url;
  ProcessExit e = gw_.Wait(milliseconds(5000));
  EXPECT_TRUE(e.exited && e.code == 2) << e.Describe();
  EXPECT_THAT(gw_.Stderr(), HasSubstr(port));
  EXPECT_THAT(gw_.Stderr(), HasSubstr("in use"));
}

// ---------------------------------------------------------------------------------------------
// 12. Authentication and authorization at the door, over the real binary and the real CLI.
//
// Every refusal is asked of a model routed to the fake upstream (chain.*), and each row checks
// the upstream's request count: a refused request must never reach the model, and the rows that
// are served show that the count does move.

// RFC 3339 "2026-11-27T09:17:15.000Z" (as the CLI prints expiresAt); nullopt if not that shape.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(::timegm(&tm)) + milliseconds(millis);
}

// What a row expects. Bedrock routes (/model/...): `error_type` is the x-amzn-ErrorType header
// and the body's `message`. OpenAI routes (/v1/...): `error_type` is error.type, `openai_code`
// error.code (nullptr: JSON null). An empty error_type means a success.
struct AccessCase {
  std::string name{};
  // Builds the request, just before it is sent; may first change state with the CLI (revoke,
  // deactivate) and check the credential still works before that change.
  std::function<std::string()> request{};
  int status = 0;
  std::string error_type{};
  const char* openai_code = nullptr;
  std::string message{};  // the whole message, or (with message_contains) a part of it
  bool message_contains = false;
  bool reaches_upstream = false;  // served by the fake upstream (one more request there)
  size_t listener = 0;            // index into the gateway's listeners
};

class AccessControlTest : public GatewayTest {
 protected:
  static constexpr const char* kAccount = "000000000000";

  static std::string UserArn(const std::string& name) {
    return std::string("arn:aws:iam::") + kAccount + ":user/" + name;
  }
  static std::string ModelArn(const std::string& model) {
    return "arn:aws:bedrock:eu-west-1::foundation-model/" + model;
  }
  static std::string ConverseTarget(const std::string& model) {
    return "/model/" + model + "/converse";
  }

  uint16_t ListenerPort(size_t i) const {
    auto urls = gw_.urls();
    return i < urls.size() ? PortOf(urls[i]) : 0;
  }

  // Sends `request` to listener `listener` and checks the answer is 200 (a positive control
  // inside a row, before the row changes state).
  void ExpectServed(const std::string& request, const std::string& what, size_t listener = 0) {
    auto r = Exchange(ListenerPort(listener), request);
    ASSERT_TRUE(r.ok()) << what << ": " << r.status().message();
    EXPECT_EQ(r->status, 200) << what << " (before the change the row is about)\n" << r->Describe();
  }

  // Runs the CLI in the gateway's directory; the test fails unless it exits 0.
  void Cli(const std::vector<std::string>& args) {
    CommandResult r = gw_.RunCli(args);
    std::string cmd;
    for (const auto& a : args) {
      cmd += " " + a;
    }
    EXPECT_TRUE(r.exit.exited && r.exit.code == 0)
        << "`perimeter" << cmd << "` " << r.exit.Describe() << "\nstderr: " << r.err;
  }

  void RunCases(const std::vector<AccessCase>& cases, FakeOpenAiServer& upstream) {
    for (const AccessCase& c : cases) {
      SCOPED_TRACE("row: " + c.name);
      const std::string request = c.request();
      const size_t upstream_before = upstream.requests().size();
      auto r = Exchange(ListenerPort(c.listener), request);
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_EQ(r->status, c.status) << r->Describe();
      const bool openai = request.find(" /v1/") != std::string::npos;
      if (c.error_type.empty()) {
        EXPECT_EQ(r->Header("x-amzn-errortype"), nullptr) << r->Describe();
      } else if (openai) {
        EXPECT_EQ(r->Header("x-amzn-errortype"), nullptr) << r->Describe();
        EXPECT_EQ(r->OpenAiError("type"), c.error_type) << r->Describe();
        const json::value v = r->Json();
        const json::value* code = nullptr;
        if (v.is_object() && v.as_object().contains("error") &&
            v.as_object().at("error").is_object()) {
          code = v.as_object().at("error").as_object().if_contains("code");
        }
        ASSERT_NE(code, nullptr) << "no error.code member: " << r->Describe();
        if (c.openai_code == nullptr) {
          EXPECT_TRUE(code->is_null()) << r->Describe();
        } else {
          EXPECT_EQ(*code, json::value(c.openai_code)) << r->Describe();
        }
      } else {
        EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), c.error_type) << r->Describe();
      }
      if (!c.message.empty()) {
        const std::string message = openai ? r->OpenAiError("message") : r->BedrockMessage();
        if (c.message_contains) {
          EXPECT_THAT(message, HasSubstr(c.message));
        } else {
          EXPECT_EQ(message, c.message);
        }
      }
      if (c.reaches_upstream) {
        EXPECT_TRUE(upstream.WaitForRequests(upstream_before + 1, milliseconds(2000)))
            << "a served request did not reach the upstream";
      } else {
        // A refusal is answered before any upstream call, so nothing can arrive later.
        EXPECT_EQ(upstream.requests().size(), upstream_before)
            << "a refused request reached the upstream";
      }
    }
  }
};

TEST_F(AccessControlTest, RefusesEveryUnauthenticatedOrUnauthorizedRequestBeforeTheUpstream) {
  FakeOpenAiServer upstream(FakeOpenAiServer::Behavior::kAnswer);
  GatewayConfig cfg = UpstreamConfig(upstream);
  // A second listener whose endpoint policy admits one model only.
  cfg.extra_listeners =
      "  - name: guarded\n"
      "    address: 127.0.0.1\n"
      "    port: 0\n"
      "    endpoint_policy:\n"
      "      Version: \"2012-10-17\"\n"
      "      Statement:\n"
      "        - Effect: Allow\n"
      "          Principal: \"*\"\n"
      "          Action: \"bedrock:*\"\n"
      "          Resource: \"" +
      ModelArn("chain.fake") + "\"\n";
  // integ-narrow may invoke chain.fake only; integ-leaver is deactivated by a row.
  cfg.extra_principals =
      "    - user: integ-narrow\n"
      "      policies:\n" +
      PolicyItem(8, "Allow", "bedrock:InvokeModel", ModelArn("chain.fake")) +
      "    - user: integ-leaver\n"
      "      policies:\n" +
      PolicyItem(8, "Allow", "bedrock:*", "*");
  // Deployment-wide cap: everything, except one model.
  cfg.access_extra =
      "  deployment_policies:\n"
      "    - Version: \"2012-10-17\"\n"
      "      Statement:\n"
      "        - Effect: Allow\n"
      "          Action: \"*\"\n"
      "          Resource: \"*\"\n"
      "        - Effect: Deny\n"
      "          Action: \"bedrock:InvokeModel\"\n"
      "          Resource: \"" +
      ModelArn("chain.scp-denied") + "\"\n";
  ASSERT_NO_FATAL_FAILURE(StartGateway(cfg));
  ASSERT_EQ(gw_.urls().size(), 2u);

  const std::string body = ConverseBody("hi");
  const std::string fake = ConverseTarget("chain.fake");
  AccessKey narrow_key, leaver_key;
  std::string narrow_api_key;
  ASSERT_NO_FATAL_FAILURE(narrow_key = IssueAccessKey("integ-narrow"));
  ASSERT_NO_FATAL_FAILURE(narrow_api_key = IssueApiKey("integ-narrow"));
  ASSERT_NO_FATAL_FAILURE(leaver_key = IssueAccessKey("integ-leaver"));
  IssuedCredential revocable, revocable_api;
  ASSERT_NO_FATAL_FAILURE(revocable = Issue(kTestPrincipal, "access-key"));
  ASSERT_NO_FATAL_FAILURE(revocable_api = Issue(kTestPrincipal, "api-key"));

  const std::string kInvalidToken = "The security token included in the request is invalid.";
  const std::string kBadSignature =
      "The request signature we calculated does not match the signature you provided. Check your "
      "AWS Secret Access Key and signing method. Consult the service documentation for details.";

  const std::vector<AccessCase> cases = {
      {.name = "health needs no credentials",
       .request = [&] { return UnauthenticatedRequest("GET", "/healthz", ""); },
       .status = 200},
      {.name = "SigV4 request is served",
       .request = [&] { return SignedRequest(access_key_, "POST", fake, body); },
       .status = 200,
       .reaches_upstream = true},
      {.name = "Bedrock route without credentials",
       .request = [&] { return UnauthenticatedRequest("POST", fake, body); },
       .status = 403,
       .error_type = "MissingAuthenticationTokenException",
       .message = "Missing Authentication Token"},
      {.name = "unknown access key",
       .request =
           [&] {
             return SignedRequest({"AKIAZZZZZZZZZZZZZZZZ", access_key_.secret}, "POST", fake, body);
           },
       .status = 403,
       .error_type = "UnrecognizedClientException",
       .message = kInvalidToken},
      {.name = "wrong secret",
       .request =
           [&] {
             return SignedRequest({access_key_.id, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
                                  "POST", fake, body);
           },
       .status = 403,
       .error_type = "InvalidSignatureException",
       .message = kBadSignature},
      {.name = "signed 10 minutes ago (clock_skew 5m)",
       .request =
           [&] {
             return SignedRequest(access_key_, "POST", fake, body, "",
                                  {.clock_offset = std::chrono::minutes(-10)});
           },
       .status = 403,
       .error_type = "InvalidSignatureException",
       .message = "Signature expired: ",
       .message_contains = true},
      {.name = "signed 10 minutes in the future",
       .request =
           [&] {
             return SignedRequest(access_key_, "POST", fake, body, "",
                                  {.clock_offset = std::chrono::minutes(10)});
           },
       .status = 403,
       .error_type = "InvalidSignatureException",
       .message = "Signature not yet current: ",
       .message_contains = true},
      {.name = "UNSIGNED-PAYLOAD over plain HTTP (the body would be outside the signature)",
       .request =
           [&] {
             return SignedRequest(access_key_, "POST", fake, body,
                                  "X-Amz-Content-Sha256: UNSIGNED-PAYLOAD\r\n",
                                  {.payload_hash = "UNSIGNED-PAYLOAD"});
           },
       .status = 403,
       .error_type = "InvalidSignatureException",
       .message = "x-amz-content-sha256: UNSIGNED-PAYLOAD is not accepted here",
       .message_contains = true},
      {.name = "scope region us-east-1 is not one of access.regions",
       .request =
           [&] {
             return SignedRequest(access_key_, "POST", fake, body, "", {.region = "us-east-1"});
           },
       .status = 403,
       .error_type = "InvalidSignatureException",
       .message = "Credential should be scoped to a valid region, not 'us-east-1'",
       .message_contains = true},
      {.name = "body altered after signing",
       .request =
           [&] {
             std::string r = SignedRequest(access_key_, "POST", fake, ConverseBody("pay 10"));
             const std::string altered = ConverseBody("pay 99");  // same length
             r.replace(r.size() - altered.size(), altered.size(), altered);
             return r;
           },
       .status = 403,
       .error_type = "InvalidSignatureException",
       .message = kBadSignature},
      {.name = "body altered after signing its x-amz-content-sha256",
       .request =
           [&] {
             const std::string signed_body = ConverseBody("pay 10");
             std::string r =
                 SignedRequest(access_key_, "POST", fake, signed_body,
                               "X-Amz-Content-Sha256: " + crypto::Sha256Hex(signed_body) + "\r\n");
             const std::string altered = ConverseBody("pay 99");
             r.replace(r.size() - altered.size(), altered.size(), altered);
             return r;
           },
       .status = 403,
       .error_type = "InvalidSignatureException",
       .message = "x-amz-content-sha256",
       .message_contains = true},
      {.name = "access key revoked with the CLI, on the very next request",
       .request =
           [&] {
             const AccessKey key{revocable.id, revocable.secret};
             ExpectServed(SignedRequest(key, "POST", fake, body), "the key before revocation");
             Cli({"credentials", "revoke", "--config", "perimeter.yaml", revocable.id});
             return SignedRequest(key, "POST", fake, body);
           },
       .status = 403,
       .error_type = "UnrecognizedClientException",
       .message = kInvalidToken},
      {.name = "principal deactivated with the CLI",
       .request =
           [&] {
             ExpectServed(SignedRequest(leaver_key, "POST", fake, body),
                          "integ-leaver before deactivation");
             Cli({"principals", "deactivate", "--config", "perimeter.yaml", "integ-leaver"});
             return SignedRequest(leaver_key, "POST", fake, body);
           },
       .status = 403,
       .error_type = "UnrecognizedClientException",
       .message = kInvalidToken},
      {.name = "access key past its --expires-in",
       .request =
           [&] {
             // Valid for 3 s: long enough to be used at once, short enough to wait out.
             const IssuedCredential expiring = Issue(kTestPrincipal, "access-key", "3s");
             const auto expires_at = ParseRfc3339(expiring.expires_at);
             EXPECT_TRUE(expires_at.has_value())
                 << "--expires-in 3s printed expiresAt '" << expiring.expires_at << "'";
             const AccessKey key{expiring.id, expiring.secret};
             ExpectServed(SignedRequest(key, "POST", fake, body), "the key before it expired");
             // A whole second past expiresAt, whatever rounding the gateway applies.
             std::this_thread::sleep_until(
                 expires_at.value_or(std::chrono::system_clock::now() + std::chrono::seconds(3)) +
                 std::chrono::seconds(1));
             return SignedRequest(key, "POST", fake, body);
           },
       .status = 403,
       .error_type = "UnrecognizedClientException",
       .message = kInvalidToken},
      {.name = "model no identity policy allows",
       .request =
           [&] { return SignedRequest(narrow_key, "POST", ConverseTarget("chain.other"), body); },
       .status = 403,
       .error_type = "AccessDeniedException",
       .message = "User: " + UserArn("integ-narrow") +
                  " is not authorized to perform: bedrock:InvokeModel on resource: " +
                  ModelArn("chain.other") +
                  " because no identity-based policy allows the bedrock:InvokeModel action"},
      {.name = "model the narrow policy allows",
       .request = [&] { return SignedRequest(narrow_key, "POST", fake, body); },
       .status = 200,
       .reaches_upstream = true},
      {.name = "explicit deny in a deployment policy",
       .request =
           [&] {
             return SignedRequest(access_key_, "POST", ConverseTarget("chain.scp-denied"), body);
           },
       .status = 403,
       .error_type = "AccessDeniedException",
       .message = "User: " + UserArn(kTestPrincipal) +
                  " is not authorized to perform: bedrock:InvokeModel on resource: " +
                  ModelArn("chain.scp-denied") +
                  " with an explicit deny in a service control policy"},
      {.name = "model outside the listener's endpoint policy",
       .request =
           [&] { return SignedRequest(access_key_, "POST", ConverseTarget("chain.other"), body); },
       .status = 403,
       .error_type = "AccessDeniedException",
       .message = "User: " + UserArn(kTestPrincipal) +
                  " is not authorized to perform: bedrock:InvokeModel on resource: " +
                  ModelArn("chain.other") +
                  " because no endpoint policy allows the bedrock:InvokeModel action",
       .listener = 1},
      {.name = "model inside the listener's endpoint policy",
       .request = [&] { return SignedRequest(access_key_, "POST", fake, body); },
       .status = 200,
       .reaches_upstream = true,
       .listener = 1},
      {.name = "presigned URL",
       .request =
           [&] {
             return UnauthenticatedRequest(
                 "POST", PresignedTarget(access_key_, "POST", fake, body, 300), body);
           },
       .status = 200,
       .reaches_upstream = true},
      {.name = "presigned URL past X-Amz-Expires",
       .request =
           [&] {
             return UnauthenticatedRequest(
                 "POST",
                 PresignedTarget(access_key_, "POST", fake, body, 60, std::chrono::seconds(-120)),
                 body);
           },
       .status = 403,
       .error_type = "InvalidSignatureException",
       .message = "Signature expired: the presigned URL signed at ",
       .message_contains = true},
      {.name = "OpenAI route with an API key is served",
       .request =
           [&] {
             return BearerRequest(api_key_, "POST", "/v1/chat/completions",
                                  ChatBody("chain.fake", "hi"));
           },
       .status = 200,
       .reaches_upstream = true},
      {.name = "OpenAI route without a key",
       .request =
           [&] {
             return UnauthenticatedRequest("POST", "/v1/chat/completions",
                                           ChatBody("chain.fake", "hi"));
           },
       .status = 401,
       .error_type = "invalid_request_error",
       .openai_code = nullptr,
       .message = "You didn't provide an API key",
       .message_contains = true},
      {.name = "OpenAI route with an unknown key",
       .request =
           [&] {
             return BearerRequest("prm_0123456789abcdef_notarealkeynotarealkeynotarealkey0000",
                                  "POST", "/v1/chat/completions", ChatBody("chain.fake", "hi"));
           },
       .status = 401,
       .error_type = "invalid_request_error",
       .openai_code = "invalid_api_key",
       .message = "Incorrect API key provided",
       .message_contains = true},
      {.name = "OpenAI route with a key revoked with the CLI",
       .request =
           [&] {
             const std::string chat = ChatBody("chain.fake", "hi");
             ExpectServed(BearerRequest(revocable_api.secret, "POST", "/v1/chat/completions", chat),
                          "the API key before revocation");
             Cli({"credentials", "revoke", "--config", "perimeter.yaml", revocable_api.id});
             return BearerRequest(revocable_api.secret, "POST", "/v1/chat/completions", chat);
           },
       .status = 401,
       .error_type = "invalid_request_error",
       .openai_code = "invalid_api_key",
       .message = "This API key has been revoked",
       .message_contains = true},
      {.name = "OpenAI route, model no identity policy allows",
       .request =
           [&] {
             return BearerRequest(narrow_api_key, "POST", "/v1/chat/completions",
                                  ChatBody("chain.other", "hi"));
           },
       .status = 403,
       .error_type = "permission_error",
       .openai_code = nullptr,
       .message = "User: " + UserArn("integ-narrow") +
                  " is not authorized to perform: bedrock:InvokeModel on resource: " +
                  ModelArn("chain.other") +
                  " because no identity-based policy allows the bedrock:InvokeModel action"},
  };
  RunCases(cases, upstream);
}

TEST_F(AccessControlTest, TenantDeploymentRequiresASignedTenantHeaderOnSigV4) {
  FakeOpenAiServer upstream(FakeOpenAiServer::Behavior::kAnswer);
  GatewayConfig cfg = UpstreamConfig(upstream);
  cfg.extra_principals =
      "    - role: acme-tenant\n"
      "      trust_policy:\n"
      "        Version: \"2012-10-17\"\n"
      "        Statement:\n"
      "          - Effect: Allow\n"
      "            Principal: { AWS: \"" +
      UserArn(kTestPrincipal) +
      "\" }\n"
      "            Action: \"sts:AssumeRole\"\n"
      "      policies:\n" +
      PolicyItem(8, "Allow", "bedrock:*", "*");
  cfg.access_extra =
      "  tenants:\n"
      "    - id: acme\n"
      "      role: acme-tenant\n";
  ASSERT_NO_FATAL_FAILURE(StartGateway(cfg));

  const std::string body = ConverseBody("hi");
  const std::string fake = ConverseTarget("chain.fake");
  const std::string chat = ChatBody("chain.fake", "hi");
  // The tenant header added after signing, so SignedHeaders does not list it.
  auto unsigned_tenant = [&](const std::string& tenant) {
    std::string r = SignedRequest(access_key_, "POST", fake, body);
    r.insert(r.find("\r\n") + 2, "X-Perimeter-Tenant: " + tenant + "\r\n");
    return r;
  };
  const std::vector<AccessCase> cases = {
      {.name = "SigV4 request naming no tenant",
       .request = [&] { return SignedRequest(access_key_, "POST", fake, body); },
       .status = 403,
       .error_type = "AccessDeniedException",
       .message = "User: " + UserArn(kTestPrincipal) +
                  " has no tenant: this deployment serves tenants, so a request must name one "
                  "with a signed x-perimeter-tenant header or come from a principal tagged "
                  "perimeter:tenant"},
      {.name = "unsigned x-perimeter-tenant header on a SigV4 request",
       .request = [&] { return unsigned_tenant("acme"); },
       .status = 403,
       .error_type = "AccessDeniedException",
       .message = "the x-perimeter-tenant header must be signed",
       .message_contains = true},
      {.name = "signed x-perimeter-tenant header",
       .request =
           [&] {
             return SignedRequest(access_key_, "POST", fake, body, "X-Perimeter-Tenant: acme\r\n");
           },
       .status = 200,
       .reaches_upstream = true},
      {.name = "signed header naming a tenant the deployment does not serve",
       .request =
           [&] {
             return SignedRequest(access_key_, "POST", fake, body,
                                  "X-Perimeter-Tenant: globex\r\n");
           },
       .status = 403,
       .error_type = "AccessDeniedException",
       .message = "User: " + UserArn(kTestPrincipal) +
                  " named tenant 'globex', which this deployment does not serve"},
      {.name = "two signed x-perimeter-tenant headers",
       .request =
           [&] {
             return SignedRequest(access_key_, "POST", fake, body,
                                  "X-Perimeter-Tenant: acme\r\nX-Perimeter-Tenant: acme\r\n");
           },
       .status = 403,
       .error_type = "AccessDeniedException",
       .message = "the request has 2 x-perimeter-tenant headers; send exactly one"},
      {.name = "bearer request naming no tenant",
       .request = [&] { return BearerRequest(api_key_, "POST", "/v1/chat/completions", chat); },
       .status = 403,
       .error_type = "permission_error",
       .message = "has no tenant",
       .message_contains = true},
      {.name = "bearer request with a tenant header",
       .request =
           [&] {
             return BearerRequest(api_key_, "POST", "/v1/chat/completions", chat,
                                  "X-Perimeter-Tenant: acme\r\n");
           },
       .status = 200,
       .reaches_upstream = true},
  };
  RunCases(cases, upstream);
}

TEST_F(AccessControlTest, GatewayOutputNeverContainsTheSecretsOfAuthenticatedRequests) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  ASSERT_EQ(api_key_.rfind("prm_", 0), 0u);
  // prm_<id>_<secret>: the id may be logged, the part after it never.
  const std::string api_key_secret = api_key_.substr(api_key_.find('_', 4) + 1);
  ASSERT_GE(api_key_secret.size(), 16u);
  ASSERT_GE(access_key_.secret.size(), 16u);

  const std::string api_key_id = api_key_.substr(0, api_key_.find('_', 4));
  const std::string presigned_target = PresignedTarget(
      access_key_, "POST", "/model/perimeter.echo-v1/converse", ConverseBody("hi"), 300);
  // (request, the credential id its access log line names)
  const std::vector<std::pair<std::string, std::string>> requests = {
      {Request("POST", "/model/perimeter.echo-v1/converse", ConverseBody("hi")), access_key_.id},
      {Request("POST", "/v1/chat/completions", ChatBody("perimeter.echo-v1", "hi")), api_key_id},
      {UnauthenticatedRequest("POST", presigned_target, ConverseBody("hi")), access_key_.id},
  };
  std::vector<std::pair<std::string, std::string>> logged;  // (request id, credential id)
  for (const auto& [request, credential_id] : requests) {
    auto r = Exchange(port_, request);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->status, 200) << r->Describe();
    logged.emplace_back(r->HeaderOr("x-request-id"), credential_id);
    ASSERT_FALSE(logged.back().first.empty()) << r->Describe();
  }
  // A refused bearer request: the presented key is logged nowhere either.
  // The real key with its first secret character changed (to one it cannot already be).
  const std::string wrong_key = api_key_.substr(0, api_key_.find('_', 4) + 1) +
                                (api_key_secret[0] == 'X' ? "Y" : "X") + api_key_secret.substr(1);
  auto refused = Exchange(port_, BearerRequest(wrong_key, "POST", "/v1/chat/completions",
                                               ChatBody("perimeter.echo-v1", "hi")));
  ASSERT_TRUE(refused.ok()) << refused.status().message();
  ASSERT_EQ(refused->status, 401) << refused->Describe();

  // Stopping the gateway flushes everything it will ever print.
  ProcessExit e = gw_.Stop(milliseconds(5000));
  EXPECT_TRUE(e.exited && e.code == 0) << e.Describe();
  // Each authenticated request's log line names who made it and with which credential (its id).
  const std::vector<std::string> lines = gw_.StdoutLines();
  for (const auto& [request_id, credential_id] : logged) {
    auto line = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) {
      return !l.empty() && l[0] == '{' && l.find(request_id) != std::string::npos;
    });
    ASSERT_NE(line, lines.end()) << "no access log line for request " << request_id;
    boost::system::error_code ec;
    json::value v = json::parse(*line, ec);
    ASSERT_FALSE(ec) << "access log line is not JSON: " << *line;
    ASSERT_TRUE(v.is_object()) << *line;
    EXPECT_EQ(v.as_object().if_contains("principal") ? v.at("principal") : json::value(),
              json::value(UserArn(kTestPrincipal)))
        << *line;
    EXPECT_EQ(v.as_object().if_contains("credential_id") ? v.at("credential_id") : json::value(),
              json::value(credential_id))
        << *line;
  }
  const std::string output = gw_.Diagnostics();  // all of stdout and stderr
  // The messages name what leaked without repeating it.
  EXPECT_EQ(output.find(access_key_.secret), std::string::npos)
      << "the secret access key appears in the gateway's output";
  EXPECT_EQ(output.find(api_key_secret), std::string::npos)
      << "the API key appears in the gateway's output";
  EXPECT_EQ(output.find(wrong_key.substr(wrong_key.find('_', 4) + 1)), std::string::npos)
      << "a presented (wrong) API key appears in the gateway's output";
}

// ---------------------------------------------------------------------------------------------
// Keys: access-key secrets are stored under their tenant's key, bound to their record, and stop
// working when the tenant's key is scheduled for deletion.

// Reads one column of one row of the identity store with SQLite directly, as an attacker with
// the file would.
std::string SealedSecretOf(const std::string& db_path, const std::string& access_key_id) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT sealed_secret FROM access_keys WHERE access_key_id = ?1", -1,
                       &st, nullptr);
    sqlite3_bind_text(st, 1, access_key_id.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
      out.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                 static_cast<size_t>(sqlite3_column_bytes(st, 0)));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

bool ReplaceSealedSecret(const std::string& db_path, const std::string& access_key_id,
                         const std::string& sealed) {
  sqlite3* db = nullptr;
  bool ok = false;
  if (sqlite3_open(db_path.c_str(), &db) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "UPDATE access_keys SET sealed_secret = ?2 WHERE access_key_id = ?1", -1,
                       &st, nullptr);
    sqlite3_bind_text(st, 1, access_key_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, sealed.data(), static_cast<int>(sealed.size()), SQLITE_TRANSIENT);
    ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return ok;
}

TEST_F(GatewayTest, AccessKeySecretsAreStoredUnderTheirTenantsKeyAndBoundToTheirRecord) {
  GatewayConfig cfg;
  cfg.extra_principals = TenantUser("alice", "a") + TenantUser("bob", "b");
  cfg.access_extra =
      "  tenants:\n"
      "    - id: a\n"
      "      role: tenant-a\n"
      "    - id: b\n"
      "      role: tenant-b\n";
  ASSERT_NO_FATAL_FAILURE(StartGateway(cfg));
  const AccessKey alice = IssueAccessKey("alice");
  const AccessKey bob = IssueAccessKey("bob");
  const std::string target = "/model/perimeter.echo-v1/converse";
  auto converse = [&](const AccessKey& k) {
    return Exchange(port_, SignedRequest(k, "POST", target, ConverseBody("hi")));
  };
  for (const AccessKey* k : {&alice, &bob}) {
    auto r = converse(*k);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->status, 200) << r->Describe();
  }

  // On disk: KMS ciphertexts (self-describing: "PKC" 0x01), never the secret.
  const std::string db = dir_.path() + "/var/identity.db";
  const std::string alice_sealed = SealedSecretOf(db, alice.id);
  const std::string bob_sealed = SealedSecretOf(db, bob.id);
  ASSERT_EQ(alice_sealed.rfind(std::string("PKC\x01", 4), 0), 0u);
  ASSERT_EQ(bob_sealed.rfind(std::string("PKC\x01", 4), 0), 0u);
  EXPECT_EQ(alice_sealed.find(alice.secret), std::string::npos);

  // The tenants' keys, as the CLI lists them: each ciphertext names its own tenant's key.
  CommandResult tenants = gw_.RunCli({"tenants", "list", "--json"});
  ASSERT_TRUE(tenants.exit.exited && tenants.exit.code == 0) << tenants.err;
  json::array list = json::parse(tenants.out).as_array();
  ASSERT_EQ(list.size(), 2u) << tenants.out;
  std::map<std::string, std::string> key_of;
  for (const auto& t : list) {
    key_of[std::string(t.at("tenantId").as_string())] = std::string(t.at("keyId").as_string());
  }
  EXPECT_NE(alice_sealed.find(key_of["a"]), std::string::npos);
  EXPECT_NE(bob_sealed.find(key_of["b"]), std::string::npos);

  // B's ciphertext copied into A's record does not decrypt: the request fails instead of
  // authenticating with anything.
  ASSERT_TRUE(ReplaceSealedSecret(db, alice.id, bob_sealed));
  bool refused = false;
  for (int i = 0; i < 40 && !refused; ++i) {  // the gateway re-reads the store within ~1 s
    auto r = converse(alice);
    ASSERT_TRUE(r.ok()) << r.status().message();
    refused = r->status != 200;
    if (!refused) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(refused) << "a secret copied from tenant b's record still authenticated alice";
  ASSERT_TRUE(ReplaceSealedSecret(db, alice.id, alice_sealed));
  bool restored = false;
  for (int i = 0; i < 40 && !restored; ++i) {
    auto r = converse(alice);
    ASSERT_TRUE(r.ok()) << r.status().message();
    restored = r->status == 200;
    if (!restored) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(restored) << "alice's own secret, put back, should authenticate again";

  // Deleting tenant b schedules its key's destruction: bob's secret no longer decrypts, at once.
  CommandResult del = gw_.RunCli({"tenants", "delete", "b", "--pending-window-days", "7"});
  ASSERT_TRUE(del.exit.exited && del.exit.code == 0) << del.err;
  auto after = converse(bob);
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_EQ(after->status, 403) << after->Describe();
  auto still = converse(alice);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->status, 200) << still->Describe();

  // Every key use is in the audit trail (perimeter audit query prints its events as JSON lines),
  // with no secret in it.
  CommandResult queried = gw_.RunCli({"audit", "query", "--event-name", "Decrypt"});
  ASSERT_TRUE(queried.exit.exited && queried.exit.code == 0) << queried.err;
  const std::string log = queried.out;
  EXPECT_EQ(log.find(alice.secret), std::string::npos);
  EXPECT_EQ(log.find(bob.secret), std::string::npos);
  bool decrypt_for_alice = false, copied_refused = false, pending_refused = false;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    json::object e = json::parse(line).as_object();
    ASSERT_EQ(e.at("eventSource"), "kms.amazonaws.com") << line;
    const auto& params = e.at("requestParameters").as_object();
    const json::object empty;
    const auto& ctx =
        params.contains("encryptionContext") ? params.at("encryptionContext").as_object() : empty;
    const bool alice_key =
        ctx.contains("access-key-id") && ctx.at("access-key-id") == json::value(alice.id);
    const json::value* error = e.if_contains("errorCode");
    const json::value* tenant = e.if_contains("tenantId");
    const auto& who = e.at("userIdentity").as_object();
    if (alice_key && error == nullptr && who.at("type") == "AWSService" &&
        who.at("invokedBy") == "perimeter.internal" && tenant && *tenant == "a") {
      decrypt_for_alice = true;
    }
    if (alice_key && tenant && *tenant == "b" && error && *error == "InvalidCiphertextException") {
      copied_refused = true;
    }
    if (tenant && *tenant == "b" && error && *error == "KMSInvalidStateException") {
      pending_refused = true;
    }
  }
  EXPECT_TRUE(decrypt_for_alice) << log;
  EXPECT_TRUE(copied_refused) << log;
  EXPECT_TRUE(pending_refused) << log;
}

TEST_F(GatewayTest, KeysVaultAndTenantCommandsOfTheCli) {
  GatewayConfig cfg;
  cfg.extra_principals = TenantUser("alice", "a");
  cfg.access_extra =
      "  tenants:\n"
      "    - id: a\n"
      "      role: tenant-a\n";
  ASSERT_NO_FATAL_FAILURE(StartGateway(cfg));
  auto ok = [](const CommandResult& r) { return r.exit.exited && r.exit.code == 0; };

  CommandResult created = gw_.RunCli({"keys", "create", "--alias", "alias/app", "--json"});
  ASSERT_TRUE(ok(created)) << created.err;
  const json::object key = json::parse(created.out).as_object();
  EXPECT_EQ(key.at("state"), "Enabled");
  EXPECT_EQ(key.at("rotationPeriodDays"), 365);

  // encrypt | decrypt through files, with the context checked.
  const std::string plain = dir_.path() + "/plain.txt";
  { std::ofstream(plain) << "the plaintext"; }
  CommandResult enc = gw_.RunCli(
      {"keys", "encrypt", "alias/app", "--context", "purpose=demo", "--input-file", plain});
  ASSERT_TRUE(ok(enc)) << enc.err;
  const std::string ct = dir_.path() + "/ct.b64";
  { std::ofstream(ct) << enc.out; }
  CommandResult dec =
      gw_.RunCli({"keys", "decrypt", "--context", "purpose=demo", "--input-file", ct});
  ASSERT_TRUE(ok(dec)) << dec.err;
  EXPECT_EQ(dec.out, "the plaintext");
  CommandResult twice = gw_.RunCli({"keys", "decrypt", "--context", "purpose=demo", "--context",
                                    "purpose=other", "--input-file", ct});
  EXPECT_EQ(twice.exit.code, 2);
  EXPECT_THAT(twice.err, HasSubstr("--context names 'purpose' twice"));
  CommandResult wrong =
      gw_.RunCli({"keys", "decrypt", "--context", "purpose=other", "--input-file", ct});
  EXPECT_EQ(wrong.exit.code, 2);
  EXPECT_THAT(wrong.err, HasSubstr("encryption context"));

  // Rotation keeps old ciphertexts decrypting; disable stops them with a clear message.
  CommandResult rotated = gw_.RunCli({"keys", "rotate", "alias/app", "--json"});
  ASSERT_TRUE(ok(rotated)) << rotated.err;
  EXPECT_EQ(json::parse(rotated.out).at("currentVersion"), 2);
  EXPECT_TRUE(ok(gw_.RunCli({"keys", "decrypt", "--context", "purpose=demo", "--input-file", ct})));
  ASSERT_TRUE(ok(gw_.RunCli({"keys", "disable", "alias/app"})));
  CommandResult disabled =
      gw_.RunCli({"keys", "decrypt", "--context", "purpose=demo", "--input-file", ct});
  EXPECT_EQ(disabled.exit.code, 2);
  EXPECT_THAT(disabled.err, HasSubstr("is disabled; enable it with `perimeter keys enable"));
  EXPECT_EQ(gw_.RunCli({"keys", "schedule-deletion", "alias/app", "--pending-window-days", "3"})
                .exit.code,
            2);

  // The tenant's key: the administrator may manage it but not use it.
  CommandResult policy = gw_.RunCli({"keys", "get-policy", "alias/perimeter/tenant/a"});
  ASSERT_TRUE(ok(policy)) << policy.err;
  EXPECT_THAT(policy.out, HasSubstr("AdministratorsManageWithoutDecrypt"));
  CommandResult use = gw_.RunCli({"keys", "encrypt", "alias/perimeter/tenant/a", "--context",
                                  "tenant=a", "--input-file", plain});
  EXPECT_EQ(use.exit.code, 2);
  EXPECT_THAT(use.err, HasSubstr("is not authorized to perform: kms:Encrypt"));

  // The vault: tokenize (stdin), reveal, list without values, erase.
  const std::string value_file = dir_.path() + "/value.txt";
  { std::ofstream(value_file) << "ada@example.com"; }
  CommandResult tok = RunCommand({"sh", "-c",
                                  std::string(PERIMETER_BIN) +
                                      " vault tokenize --config perimeter.yaml --tenant a "
                                      "--entity EMAIL < " +
                                      value_file},
                                 dir_.path());
  ASSERT_TRUE(ok(tok)) << tok.err;
  std::string token = tok.out;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  EXPECT_THAT(token, ::testing::MatchesRegex("\\[EMAIL_[0-9a-f]{16}\\]"));
  CommandResult revealed = gw_.RunCli({"vault", "reveal", "--tenant", "a", token});
  ASSERT_TRUE(ok(revealed)) << revealed.err;
  EXPECT_EQ(revealed.out, "ada@example.com\n");
  CommandResult listed = gw_.RunCli({"vault", "list", "--tenant", "a", "--json"});
  ASSERT_TRUE(ok(listed)) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr(token));
  EXPECT_EQ(listed.out.find("ada@example.com"), std::string::npos);
  ASSERT_TRUE(ok(gw_.RunCli({"vault", "erase", "--tenant", "a", token})));
  CommandResult gone = gw_.RunCli({"vault", "reveal", "--tenant", "a", token});
  EXPECT_EQ(gone.exit.code, 2);
  EXPECT_THAT(gone.err, HasSubstr("was erased on"));
  // Nothing in the state directory holds the value in the clear any more.
  for (const char* f : {"/var/keys.db", "/var/keys.db-wal"}) {
    std::ifstream in(dir_.path() + f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str().find("ada@example.com"), std::string::npos) << f;
  }

  // Tenants: a second create is refused; delete schedules the key's destruction.
  EXPECT_EQ(gw_.RunCli({"tenants", "create", "a"}).exit.code, 2);
  CommandResult deleted = gw_.RunCli({"tenants", "delete", "a", "--json"});
  ASSERT_TRUE(ok(deleted)) << deleted.err;
  EXPECT_EQ(json::parse(deleted.out).at("state"), "Deleted");
  CommandResult described = gw_.RunCli({"keys", "describe", "alias/perimeter/tenant/a"});
  ASSERT_TRUE(ok(described)) << described.err;
  EXPECT_EQ(json::parse(described.out).at("state"), "PendingDeletion");
}

// ---------------------------------------------------------------------------------------------
// Guardrails (issue 5): ApplyGuardrail, Converse guardrailConfig, InvokeModel's guardrail
// headers, bindings for the OpenAI door, the output rules, policies that require a guardrail,
// and the CLI.

// A guardrail declared in config: e-mails anonymized, cards blocked, a custom word, and SSNs
// reported only.

std::string ApplyBody(const std::string& source, const std::string& text,
                      const std::string& scope = "") {
  json::object o{{"source", source},
                 {"content", json::array{json::object{{"text", json::object{{"text", text}}}}}}};
  if (!scope.empty()) o["outputScope"] = scope;
  return json::serialize(o);
}

std::string ConverseWithGuardrail(const std::string& text, const std::string& trace = "disabled",
                                  const std::string& id = "pii") {
  return json::serialize(json::object{
      {"messages", json::array{json::object{
                       {"role", "user"}, {"content", json::array{json::object{{"text", text}}}}}}},
      {"guardrailConfig",
       json::object{{"guardrailIdentifier", id}, {"guardrailVersion", "1"}, {"trace", trace}}}});
}

TEST_F(GatewayTest, ApplyGuardrailAnswersInBedrocksShape) {
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(GatewayConfig{}.Yaml() + GuardrailsSection()));
  auto apply = [&](const std::string& path, const std::string& body) {
    return Exchange(port_, SignedRequest(access_key_, "POST", path, body));
  };
  // Anonymized: no tenant here, so Bedrock's placeholder.
  auto r = apply("/guardrail/pii/version/1/apply",
                 ApplyBody("INPUT", "Please email ada@example.com the form"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  const json::value v = r->Json();
  EXPECT_EQ(v.at("action"), "GUARDRAIL_INTERVENED") << r->body;
  EXPECT_EQ(v.at("outputs").at(0).at("text"), "Please email {EMAIL} the form") << r->body;
  const json::value& pii =
      v.at("assessments").at(0).at("sensitiveInformationPolicy").at("piiEntities");
  EXPECT_EQ(pii.at(0).at("type"), "EMAIL");
  EXPECT_EQ(pii.at(0).at("action"), "ANONYMIZED");
  EXPECT_EQ(v.at("usage").at("sensitiveInformationPolicyUnits"), 1);
  EXPECT_EQ(v.at("guardrailCoverage").at("textCharacters").at("guarded"), 37);

  // Blocked, by a card and by a custom word; the ARN works as an identifier.
  r = apply(
      "/guardrail/arn%3Aaws%3Abedrock%3Aeu-west-1%3A000000000000%3Aguardrail%2Fpii/version/1/apply",
      ApplyBody("INPUT", "charge 4111 1111 1111 1111"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->Json().at("outputs").at(0).at("text"), "Sorry, I cannot take that.");
  r = apply("/guardrail/pii/version/DRAFT/apply", ApplyBody("OUTPUT", "About Project Falcon..."));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Json().at("outputs").at(0).at("text"), "Sorry, I cannot answer that.") << r->body;
  EXPECT_EQ(r->Json().at("assessments").at(0).at("wordPolicy").at("customWords").at(0).at("match"),
            "Project Falcon");

  // Nothing to do: NONE, and outputs only with outputScope FULL.
  r = apply("/guardrail/pii/version/1/apply", ApplyBody("INPUT", "my ssn is 123-45-6789"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Json().at("action"), "NONE") << r->body;
  EXPECT_TRUE(r->Json().at("outputs").as_array().empty());
  EXPECT_EQ(r->Json()
                .at("assessments")
                .at(0)
                .at("sensitiveInformationPolicy")
                .at("piiEntities")
                .at(0)
                .at("action"),
            "NONE");
  r = apply("/guardrail/pii/version/1/apply", ApplyBody("INPUT", "hello", "FULL"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Json().at("outputs").at(0).at("text"), "hello");

  // Errors in Bedrock's words.
  r = apply("/guardrail/nope/version/1/apply", ApplyBody("INPUT", "x"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404) << r->Describe();
  EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ResourceNotFoundException");
  r = apply("/guardrail/pii/version/2/apply", ApplyBody("INPUT", "x"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404) << r->Describe();
  r = apply("/guardrail/pii/version/1/apply", R"({"source":"SIDEWAYS","content":[]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400) << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("source"));
  r = apply("/guardrail/pii/version/1/apply",
            R"({"source":"INPUT","content":[{"image":{"format":"png"}}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400) << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("text blocks only"));
}

TEST_F(GatewayTest, ConverseWithAGuardrailBlocksAnonymizesAndTraces) {
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(GatewayConfig{}.Yaml() + GuardrailsSection()));
  // Blocked input: the model is not called; the answer is the message, stopReason says why.
  auto r = Exchange(port_, Request("POST", "/model/perimeter.echo-v1/converse",
                                   ConverseWithGuardrail("card 4111 1111 1111 1111", "enabled")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->Json().at("stopReason"), "guardrail_intervened") << r->body;
  EXPECT_EQ(ConverseText(*r), "Sorry, I cannot take that.");
  EXPECT_EQ(r->Json()
                .at("trace")
                .at("guardrail")
                .at("inputAssessment")
                .at("pii")
                .at("sensitiveInformationPolicy")
                .at("piiEntities")
                .at(0)
                .at("action"),
            "BLOCKED")
      << r->body;
  // Anonymized input: the echo model repeats what it was sent, so its answer shows that the
  // model saw the placeholder, never the address.
  r = Exchange(port_, Request("POST", "/model/perimeter.echo-v1/converse",
                              ConverseWithGuardrail("write to ada@example.com please")));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_THAT(ConverseText(*r), HasSubstr("write to {EMAIL} please"));
  EXPECT_EQ(r->body.find("ada@example.com"), std::string::npos) << r->body;
  EXPECT_EQ(r->Json().at("stopReason"), "end_turn");
  EXPECT_FALSE(r->Json().as_object().contains("trace"));
  // guardContent: only the marked block is judged; the rest passes untouched.
  const std::string guarded = json::serialize(json::object{
      {"messages",
       json::array{json::object{
           {"role", "user"},
           {"content",
            json::array{
                json::object{{"text", "ssn 123-45-6789"}},
                json::object{{"guardContent",
                              json::object{{"text", json::object{{"text", "all fine"}}}}}}}}}}},
      {"guardrailConfig",
       json::object{{"guardrailIdentifier", "pii"}, {"guardrailVersion", "1"}}}});
  r = Exchange(port_, Request("POST", "/model/perimeter.echo-v1/converse", guarded));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->Json().at("stopReason"), "end_turn") << r->body;
}

TEST_F(GatewayTest, InvokeModelGuardrailHeadersApplyTheGuardrail) {
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(GatewayConfig{}.Yaml() + GuardrailsSection()));
  const std::string body =
      R"({"anthropic_version":"bedrock-2023-05-31","max_tokens":50,"messages":[{"role":"user","content":"mail ada@example.com"}]})";
  auto r = Exchange(port_, Request("POST", "/model/perimeter.echo-v1/invoke", body,
                                   "X-Amzn-Bedrock-GuardrailIdentifier: pii\r\n"
                                   "X-Amzn-Bedrock-GuardrailVersion: 1\r\n"
                                   "X-Amzn-Bedrock-Trace: ENABLED\r\n"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  // Masking the input is an intervention, although the model answered.
  EXPECT_EQ(r->Json().at("amazon-bedrock-guardrailAction"), "INTERVENED") << r->body;
  EXPECT_THAT(r->body, HasSubstr("mail {EMAIL}"));
  EXPECT_EQ(r->body.find("ada@example.com"), std::string::npos);
  EXPECT_TRUE(
      r->Json().at("amazon-bedrock-trace").at("guardrail").as_object().contains("inputAssessment"));
  // A version without an identifier is refused.
  r = Exchange(port_, Request("POST", "/model/perimeter.echo-v1/invoke", body,
                              "X-Amzn-Bedrock-GuardrailVersion: 1\r\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400) << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("X-Amzn-Bedrock-GuardrailIdentifier"));
  // A body that configures a guardrail the request does not name is refused, not answered
  // unguarded (Bedrock's rule).
  const std::string configured =
      R"({"anthropic_version":"bedrock-2023-05-31","max_tokens":50,"messages":[{"role":"user","content":"mail ada@example.com"}],"amazon-bedrock-guardrailConfig":{"streamProcessingMode":"ASYNCHRONOUS"}})";
  r = Exchange(port_, Request("POST", "/model/perimeter.echo-v1/invoke", configured));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400) << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("amazon-bedrock-guardrailConfig"));
  r = Exchange(port_, Request("POST", "/model/perimeter.echo-v1/invoke", configured,
                              "X-Amzn-Bedrock-GuardrailIdentifier: pii\r\n"
                              "X-Amzn-Bedrock-GuardrailVersion: 1\r\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->body.find("ada@example.com"), std::string::npos) << r->body;
}

TEST_F(GatewayTest, APolicyCanRequireAGuardrail) {
  GatewayConfig c;
  // A principal allowed to invoke only with guardrail pii version 1 (AWS's documented pattern).
  c.extra_principals =
      "    - user: guarded-app\n"
      "      policies:\n"
      "        - Version: \"2012-10-17\"\n"
      "          Statement:\n"
      "            - Effect: Allow\n"
      "              Action: [\"bedrock:InvokeModel\", \"bedrock:ApplyGuardrail\"]\n"
      "              Resource: \"*\"\n"
      "            - Effect: Deny\n"
      "              Action: \"bedrock:InvokeModel\"\n"
      "              Resource: \"*\"\n"
      "              Condition:\n"
      "                StringNotEquals:\n"
      "                  \"bedrock:GuardrailIdentifier\": "
      "\"arn:aws:bedrock:eu-west-1:000000000000:guardrail/pii:1\"\n";
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(c.Yaml() + GuardrailsSection()));
  AccessKey key;
  ASSERT_NO_FATAL_FAILURE(key = IssueAccessKey("guarded-app"));
  auto without = Exchange(
      port_, SignedRequest(key, "POST", "/model/perimeter.echo-v1/converse", ConverseBody("hi")));
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without->status, 403) << without->Describe();
  EXPECT_EQ(without->HeaderOr("x-amzn-errortype"), "AccessDeniedException");
  auto with = Exchange(port_, SignedRequest(key, "POST", "/model/perimeter.echo-v1/converse",
                                            ConverseWithGuardrail("hi")));
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(with->status, 200) << with->Describe();
}

TEST_F(GatewayTest, OpenAiRequestsUseTheBoundGuardrail) {
  ASSERT_NO_FATAL_FAILURE(
      StartGatewayYaml(GatewayConfig{}.Yaml() + GuardrailsSection("  bindings:\n"
                                                                  "    - guardrail: pii\n"
                                                                  "      version: \"1\"\n")));
  auto r = Exchange(port_, Request("POST", "/v1/chat/completions",
                                   ChatBody("perimeter.echo-v1", "card 4111 1111 1111 1111")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  const json::value body = r->Json();
  const json::value& choice = body.at("choices").at(0);
  EXPECT_EQ(choice.at("message").at("content"), "Sorry, I cannot take that.") << r->body;
  EXPECT_EQ(choice.at("finish_reason"), "content_filter");
  // Bedrock requests are not bound (openai_only defaults to true).
  auto b = Exchange(port_, Request("POST", "/model/perimeter.echo-v1/converse",
                                   ConverseBody("card 4111 1111 1111 1111")));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->Json().at("stopReason"), "end_turn") << b->body;
}

TEST_F(GatewayTest, AnOutputIdentifierThatWasNotInTheInputIsBlocked) {
  FakeOpenAiServer upstream(FakeOpenAiServer::Behavior::kAnswer, milliseconds(0),
                            "You can reach our manager at bola.adeyemi@example.org");
  GatewayConfig c;
  c.openai_base_url = upstream.base_url();
  const std::string section =
      "guardrails:\n"
      "  definitions:\n"
      "    - id: out\n"
      "      definition:\n"
      "        name: out\n"
      "        blockedInputMessaging: in\n"
      "        blockedOutputsMessaging: \"That answer was withheld.\"\n"
      "        sensitiveInformationPolicyConfig:\n"
      "          piiEntitiesConfig:\n"
      "            - { type: EMAIL, action: NONE }\n";
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(c.Yaml() + section));
  auto r = Exchange(port_, Request("POST", "/model/chain.x/converse",
                                   ConverseWithGuardrail("who is the manager?", "enabled", "out")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->Json().at("stopReason"), "guardrail_intervened") << r->body;
  EXPECT_EQ(ConverseText(*r), "That answer was withheld.");
  EXPECT_EQ(r->body.find("bola.adeyemi"), std::string::npos) << r->body;
  // The same address, when the user gave it, is theirs to get back.
  r = Exchange(port_,
               Request("POST", "/model/chain.x/converse",
                       ConverseWithGuardrail("my manager is bola.adeyemi@example.org, who is it?",
                                             "disabled", "out")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Json().at("stopReason"), "end_turn") << r->body;
  EXPECT_THAT(ConverseText(*r), HasSubstr("bola.adeyemi@example.org"));
}

TEST_F(GatewayTest, AGuardrailThatCannotBeEnforcedStopsStartup) {
  const std::string section =
      "guardrails:\n"
      "  definitions:\n"
      "    - id: topics\n"
      "      definition:\n"
      "        name: topics\n"
      "        blockedInputMessaging: in\n"
      "        blockedOutputsMessaging: out\n"
      "        topicPolicyConfig:\n"
      "          topicsConfig:\n"
      "            - { name: investments, definition: \"investment advice\", type: DENY }\n";
  auto url = gw_.Start(GatewayConfig{}.Yaml() + section);
  ASSERT_FALSE(url.ok());
  EXPECT_THAT(url.status().message(), HasSubstr("topicPolicyConfig"));
  EXPECT_THAT(url.status().message(), HasSubstr("guardrails.definitions[0]"));
}

TEST_F(GatewayTest, GuardrailsCliCreatesVersionsAndScans) {
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(GatewayConfig{}.Yaml()));
  auto ok = [](const CommandResult& r) { return r.exit.exited && r.exit.code == 0; };
  dir_.WriteFile(
      "g.json",
      R"({"name":"cards","blockedInputMessaging":"no cards","blockedOutputsMessaging":"no",)"
      R"("sensitiveInformationPolicyConfig":{"piiEntitiesConfig":[{"type":"CREDIT_DEBIT_CARD_NUMBER","action":"BLOCK"}]}})");
  CommandResult created = gw_.RunCli(
      {"guardrails", "create", "--config", "perimeter.yaml", "--file", "g.json", "--json"});
  ASSERT_TRUE(ok(created)) << created.err;
  const std::string id(json::parse(created.out).at("guardrailId").as_string());
  ASSERT_EQ(id.size(), 12u);
  CommandResult v1 = gw_.RunCli({"guardrails", "version", "--config", "perimeter.yaml", id});
  ASSERT_TRUE(ok(v1)) << v1.err;
  EXPECT_THAT(v1.out, HasSubstr("version 1"));
  // A bad definition is refused with the field at fault, and nothing is stored.
  dir_.WriteFile(
      "bad.json",
      R"({"name":"bad","blockedInputMessaging":"x","blockedOutputsMessaging":"y","wordPolicyConfig":{"wordsConfig":[{"text":"a","inputAction":"ANONYMIZE"}]}})");
  CommandResult bad =
      gw_.RunCli({"guardrails", "create", "--config", "perimeter.yaml", "--file", "bad.json"});
  EXPECT_EQ(bad.exit.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("wordPolicyConfig.wordsConfig[0].inputAction"));
  // The running gateway serves the new guardrail at once, by id and version.
  auto r =
      Exchange(port_, SignedRequest(access_key_, "POST", "/guardrail/" + id + "/version/1/apply",
                                    ApplyBody("INPUT", "4111 1111 1111 1111")));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->Json().at("outputs").at(0).at("text"), "no cards");
  // Update the DRAFT: version 1 stays what it was.
  dir_.WriteFile(
      "g2.json",
      R"({"name":"cards","blockedInputMessaging":"still no cards","blockedOutputsMessaging":"no",)"
      R"("sensitiveInformationPolicyConfig":{"piiEntitiesConfig":[{"type":"EMAIL","action":"BLOCK"}]}})");
  ASSERT_TRUE(ok(
      gw_.RunCli({"guardrails", "update", "--config", "perimeter.yaml", id, "--file", "g2.json"})));
  r = Exchange(port_,
               SignedRequest(access_key_, "POST", "/guardrail/" + id + "/version/DRAFT/apply",
                             ApplyBody("INPUT", "ada@example.com")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Json().at("outputs").at(0).at("text"), "still no cards") << r->body;
  r = Exchange(port_, SignedRequest(access_key_, "POST", "/guardrail/" + id + "/version/1/apply",
                                    ApplyBody("INPUT", "ada@example.com")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Json().at("action"), "NONE") << r->body;
  // Requests name a guardrail by id or ARN, never by name: a policy on the id's ARN must not be
  // avoidable with a second spelling.
  r = Exchange(port_, SignedRequest(access_key_, "POST", "/guardrail/cards/version/1/apply",
                                    ApplyBody("INPUT", "4111 1111 1111 1111")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404) << r->Describe();
  EXPECT_THAT(r->BedrockMessage(), HasSubstr("by its id or ARN"));
  CommandResult got =
      gw_.RunCli({"guardrails", "get", "--config", "perimeter.yaml", id, "--version", "1"});
  ASSERT_TRUE(ok(got)) << got.err;
  EXPECT_THAT(got.out, HasSubstr("CREDIT_DEBIT_CARD_NUMBER"));
  CommandResult listed = gw_.RunCli({"guardrails", "list", "--config", "perimeter.yaml"});
  ASSERT_TRUE(ok(listed)) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr(id));

  // perimeter scan: JSON lines in, findings with code point offsets out.
  dir_.WriteFile("in.jsonl",
                 "{\"text\": \"Ẹ jọ̀wọ́ pay 4111 1111 1111 1111\"}\n{\"text\": \"nothing here\"}\n");
  CommandResult scanned =
      RunCommand({"sh", "-c",
                  std::string(PERIMETER_BIN) + " scan --types CREDIT_DEBIT_CARD_NUMBER < in.jsonl"},
                 dir_.path());
  ASSERT_TRUE(ok(scanned)) << scanned.err;
  std::istringstream lines(scanned.out);
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  json::value f = json::parse(first).at("findings").at(0);
  EXPECT_EQ(f.at("type"), "CREDIT_DEBIT_CARD_NUMBER");
  EXPECT_EQ(f.at("start"), 13);  // code points: "Ẹ jọ̀wọ́ pay " is 13 (two combining marks)
  EXPECT_EQ(f.at("end"), 32);
  EXPECT_EQ(f.at("text"), "4111 1111 1111 1111");
  EXPECT_EQ(f.at("action"), "NONE");
  EXPECT_EQ(second, R"({"findings":[]})");
  CommandResult with_guardrail =
      RunCommand({"sh", "-c",
                  std::string(PERIMETER_BIN) + " scan --config perimeter.yaml --guardrail " + id +
                      ":1 < in.jsonl"},
                 dir_.path());
  ASSERT_TRUE(ok(with_guardrail)) << with_guardrail.err;
  EXPECT_THAT(with_guardrail.out, HasSubstr(R"("action":"BLOCK")"));
}

// The detection target of issue 5: every structured type scores F2 >= 0.95 on the generated
// labeled set, and on a second set drawn with another seed from the same templates (the scanner
// was tuned on the first; the second shows it did not learn the values).
TEST(GuardrailsEvalTest, EveryStructuredTypeReachesF2OfPointNineFive) {
  TempDir dir;
  for (const char* file : {"labeled.jsonl", "labeled-seed-20261127.jsonl"}) {
    const std::string dataset = std::string(PERIMETER_SOURCE_DIR) + "/tests/data/guard/" + file;
    CommandResult r =
        RunCommand({PERIMETER_BIN, "guardrails", "eval", "--dataset", dataset, "--json"},
                   dir.path(), milliseconds(60000));
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.Describe() << r.err;
    const json::value report = json::parse(r.out);
    EXPECT_GT(report.at("examples").as_int64(), 3000) << file;
    std::map<std::string, double> f2;
    for (const auto& row : report.at("types").as_array()) {
      f2[std::string(row.at("type").as_string())] = row.at("f2").as_double();
    }
    for (const char* type : {"AGE",
                             "AWS_ACCESS_KEY",
                             "AWS_SECRET_KEY",
                             "CA_HEALTH_NUMBER",
                             "CA_SOCIAL_INSURANCE_NUMBER",
                             "CREDIT_DEBIT_CARD_CVV",
                             "CREDIT_DEBIT_CARD_EXPIRY",
                             "CREDIT_DEBIT_CARD_NUMBER",
                             "DRIVER_ID",
                             "EMAIL",
                             "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
                             "IP_ADDRESS",
                             "LICENSE_PLATE",
                             "MAC_ADDRESS",
                             "NG_BVN",
                             "NG_NIN",
                             "NG_NUBAN",
                             "NG_TIN",
                             "PASSWORD",
                             "PHONE",
                             "PIN",
                             "SECRET_BEARER_TOKEN",
                             "SECRET_GENERIC",
                             "SECRET_GITHUB_TOKEN",
                             "SECRET_JWT",
                             "SECRET_PRIVATE_KEY",
                             "SECRET_SLACK_TOKEN",
                             "SECRET_STRIPE_KEY",
                             "SWIFT_CODE",
                             "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
                             "UK_NATIONAL_INSURANCE_NUMBER",
                             "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
                             "URL",
                             "USERNAME",
                             "US_BANK_ACCOUNT_NUMBER",
                             "US_BANK_ROUTING_NUMBER",
                             "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
                             "US_PASSPORT_NUMBER",
                             "US_SOCIAL_SECURITY_NUMBER",
                             "VEHICLE_IDENTIFICATION_NUMBER"}) {
      ASSERT_TRUE(f2.count(type)) << type << " is missing from the report of " << file;
      EXPECT_GE(f2[type], 0.95) << type << " in " << file;
    }
  }
}

// The cross-tenant rule: a value in tenant B's vault, in an answer to tenant A, is blocked and
// recorded (access log and the operator's log) — even though A's guardrail lets e-mail through —
// and A is never told whose it was.
TEST_F(GatewayTest, AnotherTenantsIdentifierInAnAnswerIsBlockedAndRecorded) {
  FakeOpenAiServer upstream(FakeOpenAiServer::Behavior::kAnswer, milliseconds(0),
                            "Sure. The account holder is reachable at bola@bank-b.example today.");
  GatewayConfig cfg;
  cfg.openai_base_url = upstream.base_url();
  cfg.extra_principals = TenantUser("alice", "a") + TenantUser("bob", "b");
  cfg.access_extra =
      "  tenants:\n"
      "    - id: a\n"
      "      role: tenant-a\n"
      "    - id: b\n"
      "      role: tenant-b\n";
  const std::string section =
      "guardrails:\n"
      "  definitions:\n"
      "    - id: vaulted\n"
      "      definition:\n"
      "        name: vaulted\n"
      "        blockedInputMessaging: in\n"
      "        blockedOutputsMessaging: \"Withheld.\"\n"
      "        sensitiveInformationPolicyConfig:\n"
      "          piiEntitiesConfig:\n"
      "            - { type: EMAIL, action: ANONYMIZE, outputAction: NONE }\n"
      "        perimeterOutputPolicyConfig: { piiNotInInputAction: NONE }\n";
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(cfg.Yaml() + section));
  const AccessKey alice = IssueAccessKey("alice");
  const AccessKey bob = IssueAccessKey("bob");

  // Bob's prompt puts his address in tenant b's vault (ANONYMIZE on input).
  auto r = Exchange(port_, SignedRequest(bob, "POST", "/model/perimeter.echo-v1/converse",
                                         ConverseWithGuardrail("I am bola@bank-b.example",
                                                               "disabled", "vaulted")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_THAT(ConverseText(*r), HasSubstr("[EMAIL_"));  // a vault token of tenant b
  EXPECT_EQ(r->body.find("bola@"), std::string::npos);

  // Alice's model answers with Bob's address: blocked.
  r = Exchange(
      port_, SignedRequest(alice, "POST", "/model/chain.x/converse",
                           ConverseWithGuardrail("who holds the account?", "enabled", "vaulted")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->Json().at("stopReason"), "guardrail_intervened") << r->body;
  EXPECT_EQ(ConverseText(*r), "Withheld.");
  EXPECT_EQ(r->body.find("bola@"), std::string::npos) << r->body;
  EXPECT_THAT(r->body, HasSubstr("crossTenantPolicy"));
  EXPECT_EQ(r->body.find("\"b\""), std::string::npos) << "the owner must not be named: " << r->body;
  // Recorded: the access log names both tenants and the type, never the value.
  auto line = gw_.WaitForStdoutLine(
      [](const std::string& l) { return l.find("cross_tenant_incidents") != std::string::npos; },
      milliseconds(5000));
  ASSERT_TRUE(line.has_value()) << gw_.Diagnostics();
  const json::value logged = json::parse(*line);
  EXPECT_EQ(logged.at("tenant"), "a");
  EXPECT_EQ(logged.at("guardrail").at("output"), "BLOCKED");
  EXPECT_EQ(logged.at("guardrail").at("cross_tenant_incidents").at(0).at("owner_tenant"), "b");
  EXPECT_EQ(logged.at("guardrail").at("cross_tenant_incidents").at(0).at("type"), "EMAIL");
  EXPECT_EQ(line->find("bola@"), std::string::npos);
  EXPECT_TRUE(gw_.WaitForStderr("\"msg\":\"cross-tenant incident", milliseconds(5000)))
      << gw_.Diagnostics();
  EXPECT_EQ(gw_.Stderr().find("bola@"), std::string::npos);

  // Bob's own answer containing his own address is his: not an incident.
  r = Exchange(port_,
               SignedRequest(bob, "POST", "/model/chain.x/converse",
                             ConverseWithGuardrail("what is my address?", "disabled", "vaulted")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Json().at("stopReason"), "end_turn") << r->body;
  EXPECT_THAT(ConverseText(*r), HasSubstr("bola@bank-b.example"));
}

// Bindings choose the guardrail of an OpenAI request by its tenant or by its API key; requests
// that match no binding are not guarded.
TEST_F(GatewayTest, GuardrailBindingsSelectByTenantAndByApiKey) {
  GatewayConfig cfg;
  cfg.extra_principals = TenantUser("alice", "a") + TenantUser("bob", "b");
  cfg.access_extra =
      "  tenants:\n"
      "    - id: a\n"
      "      role: tenant-a\n"
      "    - id: b\n"
      "      role: tenant-b\n";
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(cfg.Yaml() + GuardrailsSection()));
  const IssuedCredential alice = Issue("alice", "api-key");
  const IssuedCredential bob = Issue("bob", "api-key");
  const IssuedCredential bob_bound = Issue("bob", "api-key");
  gw_.Stop();
  // The same state directory, now with bindings naming tenant a and one of Bob's keys.
  GatewayProcess bound(dir_.path());
  auto url = bound.Start(cfg.Yaml() +
                         GuardrailsSection("  bindings:\n"
                                           "    - {tenant: a, guardrail: pii, version: \"1\"}\n"
                                           "    - {api_key_id: " +
                                           bob_bound.id + ", guardrail: pii, version: \"1\"}\n"));
  ASSERT_TRUE(url.ok()) << url.status().message();
  const uint16_t port = PortOf(*url);
  auto content = [&](const IssuedCredential& key) -> std::string {
    auto r =
        Exchange(port, BearerRequest(key.secret, "POST", "/v1/chat/completions",
                                     ChatBody("perimeter.echo-v1", "card 4111 1111 1111 1111")));
    if (!r.ok()) return "<" + r.status().message() + ">";
    if (r->status != 200) return "<" + r->Describe() + ">";
    return std::string(r->Json().at("choices").at(0).at("message").at("content").as_string());
  };
  EXPECT_EQ(content(alice), "Sorry, I cannot take that.");      // tenant a
  EXPECT_EQ(content(bob_bound), "Sorry, I cannot take that.");  // this key
  EXPECT_THAT(content(bob), HasSubstr("4111 1111 1111 1111"));  // neither: not guarded
  bound.Stop();
}

}  // namespace
}  // namespace perimeter::testing
