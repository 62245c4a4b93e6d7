#pragma once

// Server: the listeners and worker threads that feed requests into the filter chain.
//
// One io_context per worker thread (no shared locks on the request path). Each listener's
// acceptor runs on worker 0 and hands accepted connections round-robin to the workers.
// Per connection: source address checked against the listener's allowed CIDRs (refused
// connections are closed before any byte is read), optional TLS/mTLS handshake, then HTTP/1.1
// keep-alive with the configured limits: header bytes and count, body bytes (413 without reading
// the body when Content-Length already exceeds it), idle and whole-request timeouts, and a
// per-write timeout for clients that stop reading. A client that disconnects while its request
// runs cancels the chain (and so the upstream call).
//
// Drain(): stop accepting, answer in-flight requests (new requests on open connections are told
// Connection: close), and stop when none are left or drain_timeout has passed.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "pipeline/filter.h"

namespace perimeter::http {

struct BoundListener {
  std::string name;
  std::string url;  // http://127.0.0.1:43123, https://..., unix:/path
};

class Server {
 public:
  Server(config::Config config, std::shared_ptr<const pipeline::FilterChain> chain);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener (TLS files are loaded here). Returns where each listens.
  Result<std::vector<BoundListener>> Start();
  // Runs the workers on this thread and others until the drain finishes.
  void Run();
  // Graceful shutdown; callable from any thread, idempotent.
  void Drain();

  uint64_t in_flight() const { return in_flight_.load(); }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> in_flight_{0};
};

}  // namespace perimeter::http
