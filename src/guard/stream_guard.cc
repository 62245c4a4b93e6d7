#include "guard/stream_guard.h"

#include <algorithm>

namespace perimeter::guard {

namespace {

// A judged span that needs something done, in bytes of the judged text.
struct Hit {
  uint32_t begin = 0;
  uint32_t end = 0;
  bool block = false;
  bool anonymize = false;
  std::string replacement;
};

std::vector<Hit> HitsOf(const GuardResult& r) {
  std::vector<Hit> hits;
  for (const auto& p : r.pii) {
    if (p.action == "NONE") continue;
    hits.push_back({p.span.begin_byte, p.span.end_byte, p.action == "BLOCKED",
                    p.action == "ANONYMIZED", p.replacement});
  }
  for (const auto& x : r.regexes) {
    if (x.action == "NONE") continue;
    hits.push_back({x.span.begin_byte, x.span.end_byte, x.action == "BLOCKED",
                    x.action == "ANONYMIZED", x.replacement});
  }
  for (const auto& w : r.words) {
    if (w.action == "BLOCKED")
      hits.push_back({w.span.begin_byte, w.span.end_byte, true, false, {}});
  }
  for (const auto& i : r.incidents) {
    hits.push_back({i.span.begin_byte, i.span.end_byte, true, false, {}});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.begin < b.begin; });
  return hits;
}

size_t Utf8BoundaryDown(std::string_view s, size_t pos) {
  while (pos > 0 && pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

std::string Tail(std::string_view s, size_t n) {
  if (s.size() <= n) return std::string(s);
  size_t from = s.size() - n;
  while (from < s.size() && (static_cast<unsigned char>(s[from]) & 0xC0) == 0x80) ++from;
  return std::string(s.substr(from));
}

}  // namespace

OutputStreamGuard::OutputStreamGuard(std::shared_ptr<const Guardrail> guardrail,
                                     ApplyOptions options, Mode mode, size_t window_bytes,
                                     size_t overlap_bytes)
    : guardrail_(std::move(guardrail)),
      options_(std::move(options)),
      mode_(mode),
      window_(std::max<size_t>(window_bytes, 1)),
      overlap_(overlap_bytes) {
  if (mode_ == Mode::kAsync) options_.anonymize_means_block = true;
}

Result<OutputStreamGuard::Step> OutputStreamGuard::Push(std::string_view delta) {
  if (blocked_) return Step{{}, true};
  pending_.append(delta);
  if (mode_ == Mode::kAsync) {
    Step step{std::string(delta), false};
    if (pending_.size() >= window_) {
      auto judged = Judge(false);
      if (!judged.ok()) return judged.status();
      step.blocked = judged->blocked;
    }
    return step;
  }
  if (pending_.size() < window_) return Step{};
  return Judge(false);
}

Result<OutputStreamGuard::Step> OutputStreamGuard::Finish() {
  if (blocked_) return Step{{}, true};
  return Judge(true);
}

Result<OutputStreamGuard::Step> OutputStreamGuard::Judge(bool final) {
  const std::string text = context_ + pending_;
  const uint32_t c = static_cast<uint32_t>(context_.size());
  ContentBlock block{text, {}};
  auto result =
      guardrail_->Apply(GuardSource::kOutput, std::span<const ContentBlock>(&block, 1), options_);
  if (!result.ok()) return result.status();
  std::vector<Hit> hits = HitsOf(*result);
  results_.push_back(std::move(*result));

  for (const Hit& h : hits) {
    // A value already released (or partly released) cannot be undone: stop the stream.
    if (h.end > c && (h.block || (h.anonymize && h.begin < c))) {
      blocked_ = true;
      return Step{{}, true};
    }
  }
  if (mode_ == Mode::kAsync) {
    context_ = Tail(text, overlap_);
    pending_.clear();
    return Step{};
  }

  size_t release =
      final ? pending_.size() : (pending_.size() > overlap_ ? pending_.size() - overlap_ : 0);
  if (!final && pending_.size() < kMaxHeldBytes) {
    const size_t pem = pending_.find("-----BEGIN");
    if (pem != std::string::npos && pending_.find("-----END", pem) == std::string::npos) {
      release = std::min(release, pem);
    }
  }
  release = Utf8BoundaryDown(pending_, release);
  // Never release part of a value: hold any value the release point falls into.
  for (bool moved = true; moved;) {
    moved = false;
    for (const Hit& h : hits) {
      if (h.begin < c + release && h.end > c + release) {
        release = h.begin > c ? h.begin - c : 0;
        moved = true;
      }
    }
  }
  std::string out;
  size_t pos = c;
  for (const Hit& h : hits) {
    if (!h.anonymize || h.begin < c || h.end > c + release) continue;
    out.append(text, pos, h.begin - pos);
    out.append(h.replacement);
    pos = h.end;
  }
  out.append(text, pos, c + release - pos);
  context_ = Tail(text.substr(0, c + release), overlap_);
  pending_.erase(0, release);
  return Step{std::move(out), false};
}

}  // namespace perimeter::guard
