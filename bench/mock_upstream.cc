// bench_mock_upstream: a fast, fixed-answer model server for the benchmarks in bench/run.sh.
//
// It plays the upstream that Perimeter, nginx and Portkey forward to, and that the load driver
// also calls directly (the "direct" baseline), so the gateway's added latency is
// (target - direct). To keep that subtraction meaningful the mock must cost as little as
// possible: answers are built once at start-up and written with one gather write, requests are
// parsed only far enough to route them.
//
// Serves (HTTP/1.1, keep-alive, plain TCP, 127.0.0.1 only):
//   POST /v1/chat/completions       fixed chat.completion JSON, or SSE chunks when the body
//                                   contains "stream":true (with a usage chunk when it contains
//                                   "include_usage":true)
//   GET  /v1/models                 a one-model list
//   POST /model/{id}/converse       fixed Bedrock Converse JSON
//   POST /model/{id}/invoke         fixed Anthropic-messages JSON (Bedrock InvokeModel shape)
//   GET  /healthz                   "ok"
// Anything else gets a 404 JSON error naming the routes above.
//
// Usage: bench_mock_upstream [--port N] [--threads N] [--delay-us N]
//   --port 0 (default) picks a free port; the bound address is printed to stdout as
//   "mock listening on http://127.0.0.1:PORT" once the socket accepts connections.
//   --delay-us N waits N microseconds (asynchronously) before each answer, to model a slow model.
// SIGINT / SIGTERM stop it.

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Requests larger than this are refused (the benchmark bodies are a few hundred bytes).
constexpr std::uint64_t kMaxRequestBodyBytes = 1 << 20;
constexpr std::uint32_t kMaxRequestHeaderBytes = 16 << 10;

struct Options {
  unsigned short port = 0;
  int threads = 1;
  std::int64_t delay_us = 0;
};

// One pre-rendered answer: everything up to (not including) the blank line, and the body.
// "Connection: close" is spliced in between when the client asked to close.
struct CannedResponse {
  std::string head;
  std::string body;
};

CannedResponse MakeResponse(int status, std::string_view reason, std::string_view content_type,
                            std::string body, bool chunked = false) {
  CannedResponse r;
  r.head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  r.head += "Server: perimeter-bench-mock\r\n";
  r.head += "Content-Type: " + std::string(content_type) + "\r\n";
  if (chunked) {
    r.head += "Transfer-Encoding: chunked\r\n";
  } else {
    r.head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r.body = std::move(body);
  return r;
}

std::string Chunk(std::string_view data) {
  char size_hex[32];
  auto [end, ec] = std::to_chars(size_hex, size_hex + sizeof(size_hex), data.size(), 16);
  std::string out(size_hex, end);
  out += "\r\n";
  out += data;
  out += "\r\n";
  return out;
}

constexpr std::string_view kAnswerText =
    "This is a fixed answer from the Perimeter benchmark mock upstream.";

std::string SseChunk(std::string_view delta_json, std::string_view finish_reason) {
  std::string data =
      R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,)"
      R"("model":"bench-model","choices":[{"index":0,"delta":)";
  data += delta_json;
  data += R"(,"finish_reason":)";
  data += finish_reason;
  data += "}]}\n\n";
  return data;
}

// The SSE body, already in chunked transfer coding: one HTTP chunk per event.
std::string MakeSseBody(bool include_usage) {
  std::string body;
  body += Chunk(SseChunk(R"({"role":"assistant","content":""})", "null"));
  // One delta per word, like a real streaming server (first word alone, later ones with a space).
  std::string_view rest = kAnswerText;
  while (!rest.empty()) {
    std::size_t space = rest.find(' ', 1);
    std::string_view word = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space);
    std::string delta = R"({"content":")" + std::string(word) + "\"}";
    body += Chunk(SseChunk(delta, "null"));
  }
  body += Chunk(SseChunk("{}", R"("stop")"));
  if (include_usage) {
    body += Chunk(
        R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,)"
        R"("model":"bench-model","choices":[],)"
        R"("usage":{"prompt_tokens":9,"completion_tokens":11,"total_tokens":20}})"
        "\n\n");
  }
  body += Chunk("data: [DONE]\n\n");
  body += "0\r\n\r\n";
  return body;
}

struct Responses {
  CannedResponse chat = MakeResponse(
      200, "OK", "application/json",
      R"({"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,)"
      R"("model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":")" +
          std::string(kAnswerText) +
          R"("},"finish_reason":"stop"}],)"
          R"("usage":{"prompt_tokens":9,"completion_tokens":11,"total_tokens":20}})");
  CannedResponse chat_stream =
      MakeResponse(200, "OK", "text/event-stream", MakeSseBody(false), /*chunked=*/true);
  CannedResponse chat_stream_usage =
      MakeResponse(200, "OK", "text/event-stream", MakeSseBody(true), /*chunked=*/true);
  CannedResponse models = MakeResponse(
      200, "OK", "application/json",
      R"({"object":"list","data":[{"id":"bench-model","object":"model","created":1700000000,)"
      R"("owned_by":"perimeter-bench"}]})");
  CannedResponse converse =
      MakeResponse(200, "OK", "application/json",
                   R"({"output":{"message":{"role":"assistant","content":[{"text":")" +
                       std::string(kAnswerText) +
                       R"("}]}},"stopReason":"end_turn",)"
                       R"("usage":{"inputTokens":9,"outputTokens":11,"totalTokens":20},)"
                       R"("metrics":{"latencyMs":1}})");
  CannedResponse invoke =
      MakeResponse(200, "OK", "application/json",
                   R"({"id":"msg_bench","type":"message","role":"assistant","model":"bench-model",)"
                   R"("content":[{"type":"text","text":")" +
                       std::string(kAnswerText) +
                       R"("}],"stop_reason":"end_turn","stop_sequence":null,)"
                       R"("usage":{"input_tokens":9,"output_tokens":11}})");
  CannedResponse health = MakeResponse(200, "OK", "text/plain", "ok\n");
  CannedResponse not_found = MakeResponse(
      404, "Not Found", "application/json",
      R"({"error":{"message":"bench mock upstream: no such route; it serves POST /v1/chat/completions, )"
      R"(GET /v1/models, POST /model/{id}/converse, POST /model/{id}/invoke, GET /healthz",)"
      R"("type":"invalid_request_error","code":"not_found"}})");
  CannedResponse too_large = MakeResponse(
      413, "Payload Too Large", "application/json",
      R"({"error":{"message":"bench mock upstream: request too large; the limits are 1 MiB of body and 16 KiB of headers",)"
      R"("type":"invalid_request_error","code":"request_too_large"}})");
  CannedResponse bad_request =
      MakeResponse(400, "Bad Request", "application/json",
                   R"({"error":{"message":"bench mock upstream: malformed HTTP request",)"
                   R"("type":"invalid_request_error","code":"bad_request"}})");
};

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// Picks the canned answer for a request. Deliberately shallow: this is a benchmark mock, so a
// substring test for "stream":true (with or without a space) stands in for JSON parsing; a
// body that mentions that text anywhere else would be misread, which no benchmark body does.
const CannedResponse& Route(const Responses& responses,
                            const http::request<http::string_body>& req) {
  std::string_view target(req.target().data(), req.target().size());
  if (std::size_t q = target.find('?'); q != std::string_view::npos) {
    target = target.substr(0, q);
  }
  if (req.method() == http::verb::post && target == "/v1/chat/completions") {
    const std::string& body = req.body();
    if (Contains(body, "\"stream\":true") || Contains(body, "\"stream\": true")) {
      if (Contains(body, "\"include_usage\":true") || Contains(body, "\"include_usage\": true")) {
        return responses.chat_stream_usage;
      }
      return responses.chat_stream;
    }
    return responses.chat;
  }
  if (req.method() == http::verb::get && target == "/v1/models") {
    return responses.models;
  }
  if (req.method() == http::verb::post && target.starts_with("/model/")) {
    std::string_view rest = target.substr(7);
    std::size_t slash = rest.find('/');
    if (slash != std::string_view::npos && slash > 0) {
      std::string_view op = rest.substr(slash + 1);
      if (op == "converse") {
        return responses.converse;
      }
      if (op == "invoke") {
        return responses.invoke;
      }
    }
  }
  if (req.method() == http::verb::get && target == "/healthz") {
    return responses.health;
  }
  return responses.not_found;
}

asio::awaitable<void> WriteCanned(tcp::socket& socket, const CannedResponse& r, bool close,
                                  beast::error_code& ec) {
  static constexpr std::string_view kClose = "Connection: close\r\n";
  static constexpr std::string_view kEnd = "\r\n";
  std::array<asio::const_buffer, 4> buffers = {asio::buffer(r.head),
                                               asio::buffer(close ? kClose : std::string_view()),
                                               asio::buffer(kEnd), asio::buffer(r.body)};
  auto [write_ec, n] = co_await asio::async_write(socket, buffers, kNoThrow);
  ec = write_ec;
}

asio::awaitable<void> Serve(tcp::socket socket, const Responses& responses, Options options) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  beast::flat_buffer buffer;
  asio::steady_timer delay(socket.get_executor());
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBodyBytes);
    parser.header_limit(kMaxRequestHeaderBytes);
    auto [read_ec, n] = co_await http::async_read(socket, buffer, parser, kNoThrow);
    if (read_ec == http::error::end_of_stream || read_ec == asio::error::eof ||
        read_ec == asio::error::connection_reset || read_ec == asio::error::operation_aborted) {
      break;
    }
    if (read_ec) {
      const CannedResponse& err =
          (read_ec == http::error::body_limit || read_ec == http::error::header_limit)
              ? responses.too_large
              : responses.bad_request;
      co_await WriteCanned(socket, err, /*close=*/true, ec);
      break;
    }
    const http::request<http::string_body>& req = parser.get();
    const CannedResponse& answer = Route(responses, req);
    if (options.delay_us > 0) {
      delay.expires_after(std::chrono::microseconds(options.delay_us));
      auto [wait_ec] = co_await delay.async_wait(kNoThrow);
      if (wait_ec) {
        break;
      }
    }
    bool close = !req.keep_alive();
    co_await WriteCanned(socket, answer, close, ec);
    if (ec || close) {
      break;
    }
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

asio::awaitable<void> Accept(tcp::acceptor& acceptor, std::vector<asio::io_context>& workers,
                             const Responses& responses, Options options) {
  std::size_t next = 0;
  for (;;) {
    asio::io_context& worker = workers[next];
    next = (next + 1) % workers.size();
    auto [ec, socket] = co_await acceptor.async_accept(worker, kNoThrow);
    if (ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      // Out of descriptors and the like: keep serving the connections already open.
      std::fprintf(stderr, "mock: accept failed: %s\n", ec.message().c_str());
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(10));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    asio::co_spawn(worker, Serve(std::move(socket), responses, options), asio::detached);
  }
}

bool ParseInt(std::string_view text, std::int64_t min, std::int64_t max, std::int64_t& out) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

[[noreturn]] void Usage(const std::string& problem) {
  std::fprintf(stderr,
               "bench_mock_upstream: %s\n"
               "usage: bench_mock_upstream [--port N (0-65535, default 0 = any free port)]\n"
               "                           [--threads N (1-64, default 1)]\n"
               "                           [--delay-us N (0-60000000, default 0)]\n",
               problem.c_str());
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    std::string_view name = arg;
    if (std::size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (arg == "--help" || arg == "-h") {
      Usage("help requested");
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Usage("option " + std::string(arg) + " needs a value");
    }
    std::int64_t n = 0;
    if (name == "--port") {
      if (!ParseInt(value, 0, 65535, n)) {
        Usage("--port must be an integer 0-65535, got '" + std::string(value) + "'");
      }
      options.port = static_cast<unsigned short>(n);
    } else if (name == "--threads") {
      if (!ParseInt(value, 1, 64, n)) {
        Usage("--threads must be an integer 1-64, got '" + std::string(value) + "'");
      }
      options.threads = static_cast<int>(n);
    } else if (name == "--delay-us") {
      if (!ParseInt(value, 0, 60'000'000, n)) {
        Usage("--delay-us must be an integer 0-60000000, got '" + std::string(value) + "'");
      }
      options.delay_us = n;
    } else {
      Usage("unknown option " + std::string(name));
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = ParseOptions(argc, argv);
  const Responses responses;

  // One io_context per thread; the acceptor lives on the first and hands each connection to the
  // next context in turn, so a connection's reads and writes never cross threads.
  std::vector<asio::io_context> workers(options.threads);
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& worker : workers) {
    guards.emplace_back(worker.get_executor());
  }

  tcp::acceptor acceptor(workers[0]);
  beast::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    std::fprintf(stderr, "bench_mock_upstream: cannot listen on 127.0.0.1:%u: %s\n",
                 static_cast<unsigned>(options.port), ec.message().c_str());
    return 1;
  }
  unsigned short port = acceptor.local_endpoint().port();

  asio::signal_set signals(workers[0], SIGINT, SIGTERM);
  signals.async_wait([&](const beast::error_code&, int) {
    acceptor.close();
    guards.clear();
    for (auto& worker : workers) {
      worker.stop();
    }
  });

  asio::co_spawn(workers[0], Accept(acceptor, workers, responses, options), asio::detached);

  std::printf("mock listening on http://127.0.0.1:%u\n", static_cast<unsigned>(port));
  std::fflush(stdout);

  std::vector<std::thread> threads;
  for (int i = 1; i < options.threads; ++i) {
    threads.emplace_back([&workers, i] { workers[i].run(); });
  }
  workers[0].run();
  for (auto& t : threads) {
    t.join();
  }
  return 0;
}
