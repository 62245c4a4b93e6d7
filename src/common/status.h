#pragma once

// Status and Result<T>: the error currency of Perimeter.
//
// A Status is cheap on success (no allocation) and carries a code plus a human message on
// failure. Messages are for the person who caused the error: say what was wrong and what to do.
// Never put a secret, a key or prompt text into a message. No exceptions cross module
// boundaries; libraries that throw are wrapped at the edge.

#include <cassert>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace perimeter {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller sent something malformed; 400 / ValidationException
  kNotFound,            // 404 / ResourceNotFoundException
  kPermissionDenied,    // 403 / AccessDeniedException
  kUnauthenticated,     // 403 (AWS) / 401 (OpenAI)
  kResourceExhausted,   // 429 / ThrottlingException
  kUnavailable,         // 503 / ServiceUnavailableException
  kDeadlineExceeded,    // 408 / ModelTimeoutException
  kFailedPrecondition,  // 400
  kCancelled,           // the client went away
  kInternal,            // 500 / InternalServerException
  kPayloadTooLarge,     // 413
  kAlreadyExists,       // 409 / ConflictException
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : rep_(code == StatusCode::kOk ? nullptr
                                     : std::make_shared<Rep>(Rep{code, std::move(message)})) {}

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  const std::string& message() const;
  std::string ToString() const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;  // null when ok: success costs nothing
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status PayloadTooLarge(std::string m) {
  return {StatusCode::kPayloadTooLarge, std::move(m)};
}

// Result<T> holds either a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result constructed from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace perimeter

// Propagates a non-ok Status from an expression returning Status.
#define PERIMETER_RETURN_IF_ERROR(expr) \
  do {                                  \
    ::perimeter::Status _st = (expr);   \
    if (!_st.ok()) return _st;          \
  } while (0)

// The same, inside a coroutine.
#define PERIMETER_CO_RETURN_IF_ERROR(expr) \
  do {                                     \
    ::perimeter::Status _st = (expr);      \
    if (!_st.ok()) co_return _st;          \
  } while (0)
