#pragma once

// OutputStreamGuard: output guardrails on a streamed answer, in windows with overlap, so that a
// value split across chunks ("4111 1111" + " 1111 1111") is still caught.
//
// Text arrives in deltas. The guard judges it in windows of `window_bytes`, each judged together
// with the last `overlap_bytes` of the text before it (so context words and values that straddle
// a window boundary are seen whole):
//   - kSync (Bedrock's streamProcessingMode "sync"): text is held back until its window is
//     judged; what is released is clean or anonymized. The last `overlap_bytes` of a window are
//     held until the next window (a value that may continue is never released half-judged), and
//     a value found across the release point is held whole. An unterminated private-key block
//     ("-----BEGIN" without its END) is held until it ends or the hold limit is reached.
//   - kAsync ("async"): every delta is released at once and judged afterwards; a violation stops
//     the stream (nothing can be anonymized after release, so ANONYMIZE stops it too).
// Blocking ends the stream: Push/Finish return blocked = true and the caller sends the
// guardrail's blocked message instead of anything further.
//
// Not thread-safe: one instance per stream.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "guard/guardrail.h"

namespace perimeter::guard {

class OutputStreamGuard {
 public:
  enum class Mode { kSync, kAsync };
  struct Step {
    std::string release;   // text to send now (may be empty)
    bool blocked = false;  // stop: send the blocked message, nothing more
  };

  static constexpr size_t kDefaultWindowBytes = 1024;
  static constexpr size_t kDefaultOverlapBytes = 256;
  // In sync mode, pending text beyond this is judged and released even inside an unterminated
  // private-key block (bounded memory).
  static constexpr size_t kMaxHeldBytes = 64 * 1024;

  OutputStreamGuard(std::shared_ptr<const Guardrail> guardrail, ApplyOptions options, Mode mode,
                    size_t window_bytes = kDefaultWindowBytes,
                    size_t overlap_bytes = kDefaultOverlapBytes);

  Result<Step> Push(std::string_view delta);
  // The end of the answer: judges and releases everything held.
  Result<Step> Finish();

  // Every window's result (for the trace and for counting).
  const std::vector<GuardResult>& results() const { return results_; }
  bool blocked() const { return blocked_; }

 private:
  Result<Step> Judge(bool final);

  std::shared_ptr<const Guardrail> guardrail_;
  ApplyOptions options_;
  Mode mode_;
  size_t window_;
  size_t overlap_;
  std::string context_;  // the last overlap_ bytes already released (original text)
  std::string pending_;  // sync: held, not released; async: released, not yet judged
  std::vector<GuardResult> results_;
  bool blocked_ = false;
};

}  // namespace perimeter::guard
