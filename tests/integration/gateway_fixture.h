#pragma once

// Shared by the integration tests: raw HTTP and SigV4 helpers, a fake OpenAI upstream, the
// gateway config builder and the GatewayTest fixture that starts the real binary on port 0.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include <fstream>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "crypto/secret.h"
#include "gateway_process.h"
#include "identity/sigv4.h"

namespace perimeter::testing {
namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kReplyTimeout(5000);

int64_t MillisSince(Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t).count();
}

// The port of http(s)://127.0.0.1:PORT; 0 for any other URL (unix:/path).
uint16_t PortOf(const std::string& url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return 0;
  }
  size_t colon = url.rfind(':');
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(url.data() + colon + 1, url.data() + url.size(), port);
  return ec == std::errc() && ptr == url.data() + url.size() && port <= 65535
             ? static_cast<uint16_t>(port)
             : 0;
}

std::string Lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP/1.1 over a blocking socket; every read is bounded by poll().

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  const std::string* Header(const std::string& lower_name) const {
    for (const auto& [k, v] : headers) {
      if (k == lower_name) {
        return &v;
      }
    }
    return nullptr;
  }
  std::string HeaderOr(const std::string& lower_name, std::string fallback = "") const {
    const std::string* v = Header(lower_name);
    return v ? *v : fallback;
  }
  json::value Json() const {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    return ec ? json::value(nullptr) : v;
  }
  // Bedrock-shaped error: {"message": ...}.
  std::string BedrockMessage() const {
    json::value v = Json();
    if (!v.is_object() || !v.as_object().contains("message") ||
        !v.as_object().at("message").is_string()) {
      return "<no message field in body: " + body + ">";
    }
    return std::string(v.as_object().at("message").as_string());
  }
  // OpenAI-shaped error: {"error": {"message", "type", "code"}}; returns the named member.
  std::string OpenAiError(const char* member) const {
    json::value v = Json();
    if (!v.is_object() || !v.as_object().contains("error") ||
        !v.as_object().at("error").is_object()) {
      return "<no error object in body: " + body + ">";
    }
    const auto& e = v.as_object().at("error").as_object();
    if (!e.contains(member) || !e.at(member).is_string()) {
      return "<error." + std::string(member) + " is not a string in: " + body + ">";
    }
    return std::string(e.at(member).as_string());
  }
  std::string Describe() const {
    std::string s = "HTTP " + std::to_string(status) + "\n";
    for (const auto& [k, v] : headers) {
      s += k + ": " + v + "\n";
    }
    return s + "\n" + body.substr(0, 2000);
  }
};

class RawConnection {
 public:
  static Result<std::unique_ptr<RawConnection>> Connect(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return Internal(std::string("socket: ") + std::strerror(errno));
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      int e = errno;
      ::close(fd);
      return Unavailable("connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(e));
    }
    return std::unique_ptr<RawConnection>(new RawConnection(fd));
  }
  ~RawConnection() { Close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void Close() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = -1;
  }

  Status Send(std::string_view bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return Unavailable(std::string("send: ") + std::strerror(errno));
      }
      off += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  // Reads one response (skipping 1xx interim responses).
  Result<HttpResponse> ReadResponse(milliseconds timeout = kReplyTimeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      size_t end;
      while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
        PERIMETER_RETURN_IF_ERROR(ReadMore(deadline, "the response head"));
      }
      HttpResponse r;
      std::string head = buf_.substr(0, end);
      buf_.erase(0, end + 4);
      size_t line_end = head.find("\r\n");
      std::string status_line = head.substr(0, line_end);
      if (status_line.rfind("HTTP/1.1 ", 0) != 0 || status_line.size() < 12) {
        return Internal("bad status line: '" + status_line + "'");
      }
      r.status = std::stoi(status_line.substr(9, 3));
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) {
          e = head.size();
        }
        std::string line = head.substr(pos, e - pos);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string value = line.substr(colon + 1);
          value.erase(0, value.find_first_not_of(" \t"));
          r.headers.emplace_back(Lower(line.substr(0, colon)), value);
        }
        pos = e + 2;
      }
      if (r.status >= 100 && r.status < 200) {
        continue;
      }
      if (Lower(r.HeaderOr("transfer-encoding")).find("chunked") != std::string::npos) {
        PERIMETER_RETURN_IF_ERROR(ReadChunkedBody(deadline, r.body));
      } else if (const std::string* cl = r.Header("content-length")) {
        const size_t n = std::stoul(*cl);
        while (buf_.size() < n) {
          PERIMETER_RETURN_IF_ERROR(ReadMore(deadline, "the response body"));
        }
        r.body = buf_.substr(0, n);
        buf_.erase(0, n);
      } else {
        for (;;) {
          Status s = ReadMore(deadline, "a body delimited by close");
          if (!s.ok()) {
            break;
          }
        }
        r.body = std::move(buf_);
        buf_.clear();
      }
      return r;
    }
  }

  // Waits until the peer closes the connection (EOF or reset). Returns the bytes received
  // before that; DeadlineExceeded if the connection is still open at the deadline.
  Result<std::string> ReadUntilClosed(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      Status s = ReadMore(deadline, "the connection to close");
      if (s.code() == StatusCode::kDeadlineExceeded) {
        return s;
      }
      if (!s.ok()) {
        std::string got = std::move(buf_);
        buf_.clear();
        return got;
      }
    }
  }

 private:
  explicit RawConnection(int fd) : fd_(fd) {}

  // Appends at least one byte to buf_. Unavailable on EOF/reset, DeadlineExceeded on timeout.
  Status ReadMore(Clock::time_point deadline, const char* waiting_for) {
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        return DeadlineExceeded(std::string("timed out waiting for ") + waiting_for +
                                "; received so far: '" + buf_.substr(0, 500) + "'");
      }
      pollfd p{fd_, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(left));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n == 0) {
        continue;  // the deadline check above ends the loop
      }
      char tmp[16384];
      ssize_t got = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got > 0) {
        buf_.append(tmp, static_cast<size_t>(got));
        return Status::Ok();
      }
      return Unavailable(std::string("connection closed by the gateway (") +
                         (got == 0 ? "EOF" : std::strerror(errno)) + ") while waiting for " +
                         waiting_for + "; received: '" + buf_.substr(0, 500) + "'");
    }
  }

  Status ReadChunkedBody(Clock::time_point deadline, std::string& body) {
    for (;;) {
      size_t e;
      while ((e = buf_.find("\r\n")) == std::string::npos) {
        PERIMETER_RETURN_IF_ERROR(ReadMore(deadline, "a chunk size"));
      }
      const size_t size = std::stoul(buf_.substr(0, e), nullptr, 16);
      buf_.erase(0, e + 2);
      while (buf_.size() < size + 2) {
        PERIMETER_RETURN_IF_ERROR(ReadMore(deadline, "chunk data"));
      }
      body += buf_.substr(0, size);
      buf_.erase(0, size + 2);
      if (size == 0) {
        return Status::Ok();  // no trailers are sent by the gateway
      }
    }
  }

  int fd_;
  std::string buf_;
};

// ---------------------------------------------------------------------------------------------
// Requests, unauthenticated, signed with SigV4, or with a bearer API key.

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string HeaderLines(const Headers& headers) {
  std::string s;
  for (const auto& [k, v] : headers) {
    s += k + ": " + v + "\r\n";
  }
  return s;
}

// "Name: value\r\n..." as (name, value) pairs, in order.
Headers ParseHeaderLines(std::string_view lines) {
  Headers h;
  while (!lines.empty()) {
    size_t e = lines.find("\r\n");
    std::string_view line = lines.substr(0, e);
    lines = e == std::string_view::npos ? std::string_view() : lines.substr(e + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view value = line.substr(colon + 1);
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    h.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return h;
}

// Host, then Content-Type and Content-Length when there is a body or the method is POST, then
// `extra_headers` ("Name: value\r\n" lines).
Headers RequestHeaders(const std::string& method, const std::string& body,
                       const std::string& extra_headers) {
  Headers h = {{"Host", "127.0.0.1"}};
  if (!body.empty() || method == "POST") {
    h.emplace_back("Content-Type", "application/json");
    h.emplace_back("Content-Length", std::to_string(body.size()));
  }
  for (auto& kv : ParseHeaderLines(extra_headers)) {
    h.push_back(std::move(kv));
  }
  return h;
}

// The request exactly as given, with no credentials.
std::string UnauthenticatedRequest(const std::string& method, const std::string& target,
                                   const std::string& body, const std::string& extra_headers = "") {
  return method + " " + target + " HTTP/1.1\r\n" +
         HeaderLines(RequestHeaders(method, body, extra_headers)) + "\r\n" + body;
}

std::string BearerRequest(const std::string& api_key, const std::string& method,
                          const std::string& target, const std::string& body,
                          const std::string& extra_headers = "") {
  return UnauthenticatedRequest(method, target, body,
                                "Authorization: Bearer " + api_key + "\r\n" + extra_headers);
}

struct AccessKey {
  std::string id;
  std::string secret;
};

struct SigningOptions {
  std::string region = "eu-west-1";
  std::chrono::seconds clock_offset{0};  // sign as if the time were now + clock_offset
  std::string payload_hash;              // empty: the body's SHA-256
};

std::pair<std::string, std::string> SplitTarget(const std::string& target) {
  size_t q = target.find('?');
  return q == std::string::npos ? std::pair{target, std::string()}
                                : std::pair{target.substr(0, q), target.substr(q + 1)};
}

// The X-Amz-Date and Authorization lines that sign a request with `headers` (Host included)
// and the (decoded) `body` with the project's SigV4 signer: service bedrock, signed now.
std::string SigV4HeaderLines(const AccessKey& key, const std::string& method,
                             const std::string& target, const Headers& headers,
                             std::string_view body, const SigningOptions& options = {}) {
  auto [path, query] = SplitTarget(target);
  identity::HttpRequestToSign r{
      method, path, query, headers,
      options.payload_hash.empty() ? crypto::Sha256Hex(body) : options.payload_hash};
  identity::AwsCredentials credentials{key.id, crypto::SecretBytes(key.secret), ""};
  identity::SigningScope scope{options.region, "bedrock",
                               std::chrono::system_clock::now() + options.clock_offset};
  return HeaderLines(identity::SignRequest(r, credentials, scope));
}

// UnauthenticatedRequest plus a SigV4 signature over every header and the body.
std::string SignedRequest(const AccessKey& key, const std::string& method,
                          const std::string& target, const std::string& body,
                          const std::string& extra_headers = "",
                          const SigningOptions& options = {}) {
  const Headers h = RequestHeaders(method, body, extra_headers);
  return method + " " + target + " HTTP/1.1\r\n" + HeaderLines(h) +
         SigV4HeaderLines(key, method, target, h, body, options) + "\r\n" + body;
}

// `path` with a presigned query (X-Amz-Algorithm ... X-Amz-Signature) that signs only Host, with
// the SHA-256 of `body` as the payload hash, dated now + clock_offset and valid for
// `expires_seconds`.
std::string PresignedTarget(const AccessKey& key, const std::string& method,
                            const std::string& path, std::string_view body, int expires_seconds,
                            std::chrono::seconds clock_offset = std::chrono::seconds(0)) {
  identity::SigningScope scope{"eu-west-1", "bedrock",
                               std::chrono::system_clock::now() + clock_offset};
  const std::string query =
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" +
      identity::SigV4UriEncode(key.id + "/" + identity::CredentialScope(scope), true) +
      "&X-Amz-Date=" + identity::FormatAmzDate(scope.time) +
      "&X-Amz-Expires=" + std::to_string(expires_seconds) + "&X-Amz-SignedHeaders=host";
  identity::HttpRequestToSign r{
      method, path, query, {{"Host", "127.0.0.1"}}, crypto::Sha256Hex(body)};
  identity::AwsCredentials credentials{key.id, crypto::SecretBytes(key.secret), ""};
  const std::string canonical = identity::CanonicalRequest(r, {"host"}, {});
  return path + "?" + query + "&X-Amz-Signature=" +
         identity::Signature(credentials, scope, identity::StringToSign(canonical, scope));
}

std::string ConverseBody(const std::string& text) {
  return json::serialize(json::object{
      {"messages",
       json::array{json::object{{"role", "user"},
                                {"content", json::array{json::object{{"text", text}}}}}}}});
}

std::string ChatBody(const std::string& model, const std::string& text) {
  return json::serialize(
      json::object{{"model", model},
                   {"messages", json::array{json::object{{"role", "user"}, {"content", text}}}}});
}

// Sends `request` on a new connection and reads one response.
Result<HttpResponse> Exchange(uint16_t port, const std::string& request,
                              milliseconds timeout = kReplyTimeout) {
  auto c = RawConnection::Connect(port);
  if (!c.ok()) {
    return c.status();
  }
  PERIMETER_RETURN_IF_ERROR((*c)->Send(request));
  return (*c)->ReadResponse(timeout);
}

// The text of a Converse answer: output.message.content[0].text.
std::string ConverseText(const HttpResponse& r) {
  json::value v = r.Json();
  try {
    return std::string(v.at("output").at("message").at("content").at(0).at("text").as_string());
  } catch (const std::exception&) {
    return "<not a Converse answer: " + r.body + ">";
  }
}

// ---------------------------------------------------------------------------------------------
// A tiny OpenAI-compatible upstream whose behaviour the test chooses.

class FakeOpenAiServer {
 public:
  enum class Behavior {
    kAnswer,           // a normal chat completion
    kDelayThenAnswer,  // sleeps `delay`, then answers
    kNeverAnswer,      // reads the request, then waits for the gateway to close the connection
    kCloseAtOnce,      // reads the request, then closes without a byte of response
  };
  static constexpr const char* kAnswerText = "fake upstream says hello";

  explicit FakeOpenAiServer(Behavior behavior, milliseconds delay = milliseconds(0),
                            std::string answer = kAnswerText)
      : behavior_(behavior), delay_(delay), answer_(std::move(answer)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof(a);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      std::abort();
    }
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~FakeOpenAiServer() {
    stop_ = true;
    cv_.notify_all();
    acceptor_.join();
    for (auto& t : handlers_) {
      t.join();
    }
    ::close(listen_fd_);
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

  bool WaitForRequests(size_t n, milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }
  // True once a connection the server left unanswered was closed by its peer (the gateway).
  bool WaitForPeerClose(milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return peer_closes_ > 0; });
  }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      handlers_.emplace_back([this, fd] {
        Handle(fd);
        ::close(fd);
      });
    }
  }

  // Reads a request with a Content-Length body; false if the peer went away first.
  bool ReadRequest(int fd, std::string& request) {
    const auto deadline = Clock::now() + milliseconds(5000);
    size_t need = std::string::npos;
    while (!stop_ && Clock::now() < deadline) {
      size_t end = request.find("\r\n\r\n");
      if (end != std::string::npos && need == std::string::npos) {
        std::string head = Lower(request.substr(0, end));
        size_t cl = head.find("content-length:");
        need = end + 4 + (cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 15)));
      }
      if (need != std::string::npos && request.size() >= need) {
        return true;
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      char buf[8192];
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        return false;
      }
      request.append(buf, static_cast<size_t>(n));
    }
    return false;
  }

  void Handle(int fd) {
    std::string request;
    if (!ReadRequest(fd, request)) {
      return;
    }
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    cv_.notify_all();
    switch (behavior_) {
      case Behavior::kDelayThenAnswer: {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, delay_, [&] { return stop_.load(); });
      }
        [[fallthrough]];
      case Behavior::kAnswer: {
        const std::string body = json::serialize(json::object{
            {"id", "chatcmpl-fake"},
            {"object", "chat.completion"},
            {"created", 0},
            {"model", "fake-model"},
            {"choices", json::array{json::object{
                            {"index", 0},
                            {"message", json::object{{"role", "assistant"}, {"content", answer_}}},
                            {"finish_reason", "stop"}}}},
            {"usage",
             json::object{{"prompt_tokens", 3}, {"completion_tokens", 4}, {"total_tokens", 7}}}});
        std::string resp =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        (void)!::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR);
        break;
      }
      case Behavior::kNeverAnswer:
        while (!stop_) {
          pollfd p{fd, POLLIN, 0};
          if (::poll(&p, 1, 20) <= 0) {
            continue;
          }
          char b[512];
          ssize_t n = ::recv(fd, b, sizeof(b), 0);
          if (n <= 0) {
            {
              std::lock_guard lock(mu_);
              ++peer_closes_;
            }
            cv_.notify_all();
            break;
          }
        }
        break;
      case Behavior::kCloseAtOnce:
        break;  // the caller closes fd
    }
  }

  const Behavior behavior_;
  const milliseconds delay_;
  const std::string answer_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> handlers_;  // touched by the acceptor thread only until the join
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> requests_;
  int peer_closes_ = 0;
};

// A loopback port with nothing listening on it.
uint16_t ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);  // bound but never listening, then released: connects are refused
  return ntohs(a.sin_port);
}

// ---------------------------------------------------------------------------------------------
// Configuration

// The principal every test authenticates as.
constexpr const char* kTestPrincipal = "integ-client";

// An identity policy document as an inline YAML mapping, as a list item indented by `indent`
// spaces: one statement of `effect` on `action` and `resource`.
std::string PolicyItem(int indent, const std::string& effect, const std::string& action,
                       const std::string& resource) {
  const std::string p(indent, ' ');
  return p + "- Version: \"2012-10-17\"\n" + p + "  Statement:\n" + p + "    - Effect: " + effect +
         "\n" + p + "      Action: \"" + action + "\"\n" + p + "      Resource: \"" + resource +
         "\"\n";
}

// The `access:` section: the test principal (allowed bedrock:* on every resource), loopback
// upstreams allowed, then `extra_principals` (items of access.principals, indented 4) and
// `access_extra` (more keys of access, indented 2).
std::string AccessSection(const std::string& extra_principals = "",
                          const std::string& access_extra = "") {
  return "access:\n"
         "  egress_allow_hosts: [\"127.0.0.1\"]\n"
         "  principals:\n"
         "    - user: " +
         std::string(kTestPrincipal) +
         "\n"
         "      policies:\n" +
         PolicyItem(8, "Allow", "bedrock:*", "*") + extra_principals + access_extra;
}

struct GatewayConfig {
  // The lines of listeners[0] after its name.
  std::string listener = "    address: 127.0.0.1\n    port: 0\n";
  // More listeners: complete items of `listeners` ("  - name: x\n    ...").
  std::string extra_listeners;
  std::string extra_principals;     // see AccessSection
  std::string access_extra;         // see AccessSection
  std::vector<std::string> limits;  // e.g. "max_body_bytes: 1KB"
  // Non-empty: an openai upstream "local" at this base URL, serving models "chain.*" (sent
  // upstream as "fake-model").
  std::string openai_base_url;
  std::string openai_timeouts = "{ connect: 1s, first_byte: 5s, total: 10s }";

  std::string Yaml() const {
    std::string y =
        "server:\n"
        "  drain_timeout: 5s\n"
        "  threads: 2\n"
        "listeners:\n"
        "  - name: main\n" +
        listener + extra_listeners +
        "upstreams:\n"
        "  - name: builtin\n"
        "    type: builtin\n";
    if (!openai_base_url.empty()) {
      y += "  - name: local\n"
           "    type: openai\n"
           "    base_url: " +
           openai_base_url +
           "\n"
           "    timeouts: " +
           openai_timeouts + "\n";
    }
    y += "routes:\n"
         "  - model: perimeter.echo-v1\n"
         "    upstream: builtin\n";
    if (!openai_base_url.empty()) {
      y += "  - model_pattern: \"chain.*\"\n"
           "    upstream: local\n"
           "    upstream_model: fake-model\n";
    }
    if (!limits.empty()) {
      y += "limits:\n";
      for (const auto& l : limits) {
        y += "  " + l + "\n";
      }
    }
    return y + AccessSection(extra_principals, access_extra);
  }
};

class GatewayTest : public ::testing::Test {
 protected:
  // Starts the gateway, then issues the test principal's access key and API key with the CLI.
  void StartGateway(const GatewayConfig& cfg) { StartGatewayYaml(cfg.Yaml()); }
  void StartGatewayYaml(const std::string& yaml) {
    auto url = gw_.Start(yaml);
    ASSERT_TRUE(url.ok()) << url.status().message() << "\nconfig:\n" << yaml;
    url_ = *url;
    port_ = PortOf(url_);
    if (url_.rfind("unix:", 0) != 0) {
      ASSERT_NE(port_, 0) << "no port in the listening URL " << url_;
    }
    ASSERT_NO_FATAL_FAILURE(access_key_ = IssueAccessKey(kTestPrincipal));
    ASSERT_NO_FATAL_FAILURE(api_key_ = IssueApiKey(kTestPrincipal));
  }

  // Credentials issued by `perimeter credentials create` in the gateway's directory; a fatal
  // failure when the CLI fails.
  IssuedCredential Issue(const std::string& principal, const std::string& type,
                         const std::string& expires_in = "") {
    auto c = gw_.CreateCredential(principal, type, expires_in);
    [&] { ASSERT_TRUE(c.ok()) << c.status().message(); }();
    return c.ok() ? *c : IssuedCredential{};
  }
  AccessKey IssueAccessKey(const std::string& principal) {
    IssuedCredential c = Issue(principal, "access-key");
    return {c.id, c.secret};
  }
  std::string IssueApiKey(const std::string& principal) {
    return Issue(principal, "api-key").secret;
  }

  // A request as the test principal: SigV4-signed for /model/..., with its API key for /v1/...,
  // and without credentials for anything else (health, metrics).
  std::string Request(const std::string& method, const std::string& target, const std::string& body,
                      const std::string& extra_headers = "") const {
    if (target.rfind("/model/", 0) == 0) {
      return SignedRequest(access_key_, method, target, body, extra_headers);
    }
    if (target.rfind("/v1/", 0) == 0) {
      return BearerRequest(api_key_, method, target, body, extra_headers);
    }
    return UnauthenticatedRequest(method, target, body, extra_headers);
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << gw_.Diagnostics();
    }
  }

  TempDir dir_;
  GatewayProcess gw_{dir_.path()};
  std::string url_;
  uint16_t port_ = 0;
  AccessKey access_key_;  // the test principal's
  std::string api_key_;   // the test principal's
};

// ---------------------------------------------------------------------------------------------
// 1. Health, metrics, access log, state directory

std::string TenantUser(const std::string& user, const std::string& tenant) {
  return "    - user: " + user +
         "\n"
         "      tags: { \"perimeter:tenant\": " +
         tenant +
         " }\n"
         "      policies:\n" +
         PolicyItem(8, "Allow", "bedrock:*", "*") + "    - role: tenant-" + tenant +
         "\n"
         "      trust_policy:\n"
         "        Version: \"2012-10-17\"\n"
         "        Statement:\n"
         "          - Effect: Allow\n"
         "            Principal: { AWS: \"arn:aws:iam::000000000000:user/" +
         user +
         "\" }\n"
         "            Action: \"sts:AssumeRole\"\n"
         "      policies:\n" +
         PolicyItem(8, "Allow", "bedrock:*", "*");
}

std::string GuardrailsSection(const std::string& bindings = "") {
  return "guardrails:\n"
         "  definitions:\n"
         "    - id: pii\n"
         "      definition:\n"
         "        name: pii-strict\n"
         "        blockedInputMessaging: \"Sorry, I cannot take that.\"\n"
         "        blockedOutputsMessaging: \"Sorry, I cannot answer that.\"\n"
         "        sensitiveInformationPolicyConfig:\n"
         "          piiEntitiesConfig:\n"
         "            - { type: EMAIL, action: ANONYMIZE }\n"
         "            - { type: CREDIT_DEBIT_CARD_NUMBER, action: BLOCK }\n"
         "            - { type: US_SOCIAL_SECURITY_NUMBER, action: NONE }\n"
         "        wordPolicyConfig:\n"
         "          wordsConfig:\n"
         "            - { text: \"project falcon\" }\n" +
         bindings;
}

#pragma GCC diagnostic pop

}  // namespace
}  // namespace perimeter::testing
