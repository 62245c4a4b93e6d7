// bench_loadgen: a closed-loop HTTP/1.1 load driver for bench/run.sh.
//
// C virtual clients each own one keep-alive connection and send the next request as soon as the
// previous answer has been read in full (closed loop: the offered load adapts to the target, so
// throughput is "how fast can it go at concurrency C" and latency is per-request service time).
// Every request's latency (first byte written -> last byte of the answer read, nanoseconds) is
// kept, so percentiles are exact, not bucketed.
//
// Usage:
//   bench_loadgen --url http://127.0.0.1:PORT/v1/chat/completions [--body-file F]
//                 [--concurrency C] [--duration 10s] [--warmup 2s] [--threads T]
//                 [--header 'K: V']... [--method POST] [--max-requests N]
// With --body-file the method defaults to POST (Content-Type: application/json unless a
// --header sets one); without it, GET.
//
// Output: one JSON object on stdout:
//   {"requests":N,"errors":E,"rps":R,"p50_us":..,"p90_us":..,"p99_us":..,"max_us":..,
//    "concurrency":C,"duration_s":D,"errors_by_kind":{"connect":..,"io":..,"status":..,
//    "timeout":..}}
// requests = answers with a 2xx status that started after the warm-up and finished before the
// end of the measured window; rps = requests / measured seconds. Any non-2xx answer, broken
// connection or failed connect in the measured window counts as an error (the first few are
// described on stderr).
//
// Bounds: the run ends after warmup + duration; requests still in flight then get a grace of
// 2 s, after which their sockets are closed and they count as "timeout" errors; no more than
// --max-requests requests are sent in total. Only loopback targets (127.0.0.0/8, ::1,
// localhost) are accepted, since this tool exists to load servers on this machine.

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

constexpr std::int64_t kMaxBodyFileBytes = 16 << 20;
constexpr std::uint64_t kMaxResponseBodyBytes = 64 << 20;
constexpr auto kGrace = std::chrono::seconds(2);
constexpr auto kReconnectPause = std::chrono::milliseconds(10);
constexpr int kMaxErrorsDescribed = 5;

struct Options {
  std::string host;
  std::string port;
  std::string target;
  std::string method;
  std::string body;
  bool have_body = false;
  std::vector<std::string> headers;
  int concurrency = 1;
  int threads = 1;
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  std::chrono::nanoseconds warmup = std::chrono::seconds(2);
  std::int64_t max_requests = 20'000'000;
};

[[noreturn]] void Usage(const std::string& problem) {
  std::fprintf(stderr,
               "bench_loadgen: %s\n"
               "usage: bench_loadgen --url http://127.0.0.1:PORT/PATH [--body-file FILE]\n"
               "         [--concurrency C (1-4096, default 1)] [--threads T (1-64, default 1)]\n"
               "         [--duration 10s] [--warmup 2s] (units: ms, s, m; max 1h)\n"
               "         [--header 'Name: value']... [--method POST] [--max-requests N]\n",
               problem.c_str());
  std::exit(2);
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

// "10s", "500ms", "1m", or a bare number of seconds.
bool ParseDuration(std::string_view text, std::chrono::nanoseconds& out) {
  std::int64_t scale_ms = 1000;
  if (text.ends_with("ms")) {
    scale_ms = 1;
    text.remove_suffix(2);
  } else if (text.ends_with("s")) {
    text.remove_suffix(1);
  } else if (text.ends_with("m")) {
    scale_ms = 60'000;
    text.remove_suffix(1);
  }
  std::int64_t n = 0;
  if (!ParseInt(text, 0, 3'600'000, n) || n * scale_ms > 3'600'000) {
    return false;
  }
  out = std::chrono::milliseconds(n * scale_ms);
  return true;
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost") {
    return true;
  }
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

// Accepts only http://HOST[:PORT][/PATH]; https and userinfo are out of scope for this tool.
void ParseUrl(std::string_view url, Options& options) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    Usage("--url must start with http:// (got '" + std::string(url) + "')");
  }
  url.remove_prefix(kScheme.size());
  std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  options.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (authority.starts_with("[")) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      Usage("--url has an unterminated [IPv6] host");
    }
    options.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    options.port = authority.starts_with(":") ? std::string(authority.substr(1)) : "80";
  } else {
    std::size_t colon = authority.rfind(':');
    options.host = std::string(authority.substr(0, colon));
    options.port =
        colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  std::int64_t port = 0;
  if (!ParseInt(options.port, 1, 65535, port)) {
    Usage("--url port must be 1-65535 (got '" + options.port + "')");
  }
  if (!IsLoopback(options.host)) {
    Usage("--url host must be a loopback address (127.0.0.0/8, ::1 or localhost); got '" +
          options.host + "'");
  }
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view name = arg;
    std::string_view value;
    if (arg == "--help" || arg == "-h") {
      Usage("help requested");
    }
    if (std::size_t eq = arg.find('='); eq != std::string_view::npos && arg.starts_with("--")) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Usage("option " + std::string(arg) + " needs a value");
    }
    std::int64_t n = 0;
    if (name == "--url") {
      ParseUrl(value, options);
      have_url = true;
    } else if (name == "--body-file") {
      std::ifstream in{std::string(value), std::ios::binary};
      if (!in) {
        Usage("cannot read --body-file '" + std::string(value) + "'");
      }
      std::ostringstream content;
      content << in.rdbuf();
      options.body = content.str();
      if (static_cast<std::int64_t>(options.body.size()) > kMaxBodyFileBytes) {
        Usage("--body-file is larger than 16 MiB");
      }
      options.have_body = true;
    } else if (name == "--concurrency") {
      if (!ParseInt(value, 1, 4096, n)) {
        Usage("--concurrency must be 1-4096, got '" + std::string(value) + "'");
      }
      options.concurrency = static_cast<int>(n);
    } else if (name == "--threads") {
      if (!ParseInt(value, 1, 64, n)) {
        Usage("--threads must be 1-64, got '" + std::string(value) + "'");
      }
      options.threads = static_cast<int>(n);
    } else if (name == "--duration") {
      if (!ParseDuration(value, options.duration) || options.duration.count() == 0) {
        Usage("--duration must be like 10s, 500ms or 1m (>0, max 1h), got '" + std::string(value) +
              "'");
      }
    } else if (name == "--warmup") {
      if (!ParseDuration(value, options.warmup)) {
        Usage("--warmup must be like 2s, 500ms or 0 (max 1h), got '" + std::string(value) + "'");
      }
    } else if (name == "--header") {
      std::size_t colon = value.find(':');
      if (colon == std::string_view::npos || colon == 0 ||
          value.find_first_of("\r\n") != std::string_view::npos) {
        Usage("--header must be 'Name: value' on one line, got '" + std::string(value) + "'");
      }
      options.headers.emplace_back(value);
    } else if (name == "--method") {
      if (value.empty() || value.find_first_of(" \r\n") != std::string_view::npos) {
        Usage("--method must be one token such as GET or POST");
      }
      options.method = std::string(value);
    } else if (name == "--max-requests") {
      if (!ParseInt(value, 1, 1'000'000'000, n)) {
        Usage("--max-requests must be 1-1000000000, got '" + std::string(value) + "'");
      }
      options.max_requests = n;
    } else {
      Usage("unknown option " + std::string(name));
    }
  }
  if (!have_url) {
    Usage("--url is required");
  }
  if (options.method.empty()) {
    options.method = options.have_body ? "POST" : "GET";
  }
  options.threads = std::min(options.threads, options.concurrency);
  return options;
}

bool HasHeader(const std::vector<std::string>& headers, std::string_view name) {
  for (const std::string& h : headers) {
    if (h.size() > name.size() && h[name.size()] == ':' &&
        beast::iequals(std::string_view(h).substr(0, name.size()), name)) {
      return true;
    }
  }
  return false;
}

// The request is rendered once; every client writes the same bytes.
std::string RenderRequest(const Options& options) {
  std::string host_header = options.host.find(':') != std::string::npos
                                ? "[" + options.host + "]:" + options.port
                                : options.host + ":" + options.port;
  std::string out = options.method + " " + options.target + " HTTP/1.1\r\n";
  if (!HasHeader(options.headers, "host")) {
    out += "Host: " + host_header + "\r\n";
  }
  out += "User-Agent: perimeter-bench-loadgen\r\n";
  if (options.have_body) {
    if (!HasHeader(options.headers, "content-type")) {
      out += "Content-Type: application/json\r\n";
    }
    out += "Content-Length: " + std::to_string(options.body.size()) + "\r\n";
  }
  for (const std::string& h : options.headers) {
    out += h + "\r\n";
  }
  out += "\r\n";
  out += options.body;
  return out;
}

struct ErrorCounts {
  std::int64_t connect = 0;
  std::int64_t io = 0;
  std::int64_t status = 0;
  std::int64_t timeout = 0;
  std::int64_t Total() const { return connect + io + status + timeout; }
};

// State shared by all threads; written before the threads start, then read-only except for the
// atomics.
struct Run {
  Options options;
  std::string request;
  tcp::resolver::results_type endpoints;
  Clock::time_point measure_start;
  Clock::time_point measure_end;
  std::atomic<std::int64_t> sent{0};
  std::atomic<int> errors_described{0};
};

// Per-thread results, merged after the threads end.
struct ThreadResult {
  std::vector<std::int64_t> latencies_ns;
  ErrorCounts errors;
};

void DescribeError(Run& run, const std::string& what) {
  if (run.errors_described.fetch_add(1) < kMaxErrorsDescribed) {
    std::fprintf(stderr, "bench_loadgen: %s\n", what.c_str());
  }
}

struct Client {
  explicit Client(asio::io_context& ioc) : socket(ioc) {}
  tcp::socket socket;
  bool in_flight = false;
};

asio::awaitable<void> RunClient(Run& run, Client& client, ThreadResult& result) {
  beast::flat_buffer buffer;
  asio::steady_timer pause(client.socket.get_executor());
  for (;;) {
    Clock::time_point now = Clock::now();
    if (now >= run.measure_end ||
        run.sent.load(std::memory_order_relaxed) >= run.options.max_requests) {
      break;
    }
    bool measuring = now >= run.measure_start;
    if (!client.socket.is_open()) {
      auto [ec, endpoint] = co_await asio::async_connect(client.socket, run.endpoints, kNoThrow);
      if (ec) {
        beast::error_code ignored;
        client.socket.close(ignored);
        if (ec == asio::error::operation_aborted) {
          break;  // closed by the end-of-run watchdog
        }
        if (measuring) {
          ++result.errors.connect;
          DescribeError(run, "connect failed: " + ec.message());
        }
        pause.expires_after(kReconnectPause);
        co_await pause.async_wait(kNoThrow);
        continue;
      }
      beast::error_code ignored;
      client.socket.set_option(tcp::no_delay(true), ignored);
      buffer.clear();
    }
    run.sent.fetch_add(1, std::memory_order_relaxed);
    client.in_flight = true;
    Clock::time_point start = Clock::now();
    auto [write_ec, written] =
        co_await asio::async_write(client.socket, asio::buffer(run.request), kNoThrow);
    beast::error_code read_ec = write_ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBodyBytes);
    if (!write_ec) {
      auto [ec, n] = co_await http::async_read(client.socket, buffer, parser, kNoThrow);
      read_ec = ec;
    }
    Clock::time_point end = Clock::now();
    client.in_flight = false;
    bool counted = start >= run.measure_start && end <= run.measure_end;
    if (read_ec) {
      beast::error_code ignored;
      client.socket.close(ignored);
      if (read_ec == asio::error::operation_aborted) {
        // Closed by the end-of-run watchdog: reported as a timeout by the caller.
        break;
      }
      if (start >= run.measure_start) {
        ++result.errors.io;
        DescribeError(run, "request failed: " + read_ec.message());
      }
      continue;
    }
    unsigned status = parser.get().result_int();
    if (status < 200 || status > 299) {
      if (start >= run.measure_start) {
        ++result.errors.status;
        std::string body = parser.get().body().substr(0, 300);
        DescribeError(run, "HTTP " + std::to_string(status) + ": " + body);
      }
    } else if (counted) {
      result.latencies_ns.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    }
    if (!parser.get().keep_alive()) {
      beast::error_code ignored;
      client.socket.close(ignored);
    }
  }
}

void RunThread(Run& run, int clients, ThreadResult& result) {
  asio::io_context ioc(1);
  std::vector<std::unique_ptr<Client>> pool;
  int remaining = clients;
  asio::steady_timer watchdog(ioc, run.measure_end + kGrace);
  for (int i = 0; i < clients; ++i) {
    pool.push_back(std::make_unique<Client>(ioc));
    asio::co_spawn(ioc, RunClient(run, *pool.back(), result),
                   [&remaining, &watchdog](std::exception_ptr) {
                     if (--remaining == 0) {
                       watchdog.cancel();
                     }
                   });
  }
  watchdog.async_wait([&](const beast::error_code& ec) {
    if (ec) {
      return;
    }
    for (auto& client : pool) {
      if (client->in_flight) {
        ++result.errors.timeout;
        client->in_flight = false;
      }
      beast::error_code ignored;
      client->socket.close(ignored);
    }
  });
  ioc.run();
}

double Percentile(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  // Nearest-rank: the smallest value with at least p% of samples at or below it.
  std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * sorted.size()));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  Run run;
  run.options = ParseOptions(argc, argv);
  run.request = RenderRequest(run.options);
  {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    run.endpoints = resolver.resolve(run.options.host, run.options.port, ec);
    if (ec) {
      std::fprintf(stderr, "bench_loadgen: cannot resolve %s: %s\n", run.options.host.c_str(),
                   ec.message().c_str());
      return 1;
    }
  }
  Clock::time_point begin = Clock::now();
  run.measure_start = begin + run.options.warmup;
  run.measure_end = run.measure_start + run.options.duration;

  const Options& o = run.options;
  std::vector<ThreadResult> results(o.threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    int clients = o.concurrency / o.threads + (t < o.concurrency % o.threads ? 1 : 0);
    threads.emplace_back(
        [&run, clients, &result = results[t]] { RunThread(run, clients, result); });
  }
  for (auto& t : threads) {
    t.join();
  }

  std::vector<std::int64_t> all;
  ErrorCounts errors;
  for (ThreadResult& r : results) {
    all.insert(all.end(), r.latencies_ns.begin(), r.latencies_ns.end());
    errors.connect += r.errors.connect;
    errors.io += r.errors.io;
    errors.status += r.errors.status;
    errors.timeout += r.errors.timeout;
  }
  std::sort(all.begin(), all.end());
  // If --max-requests ended the run early, rate over the time actually spent measuring.
  Clock::time_point finished = std::min(Clock::now(), run.measure_end);
  double seconds = std::chrono::duration<double>(finished - run.measure_start).count();
  double rps = seconds > 0 ? all.size() / seconds : 0;
  std::printf(
      "{\"requests\":%zu,\"errors\":%lld,\"rps\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
      "\"p99_us\":%.1f,\"max_us\":%.1f,\"concurrency\":%d,\"threads\":%d,\"duration_s\":%.3f,"
      "\"errors_by_kind\":{\"connect\":%lld,\"io\":%lld,\"status\":%lld,\"timeout\":%lld}}\n",
      all.size(), static_cast<long long>(errors.Total()), rps, Percentile(all, 50),
      Percentile(all, 90), Percentile(all, 99), all.empty() ? 0.0 : all.back() / 1000.0,
      o.concurrency, o.threads, seconds, static_cast<long long>(errors.connect),
      static_cast<long long>(errors.io), static_cast<long long>(errors.status),
      static_cast<long long>(errors.timeout));
  return 0;
}
