// Status / StatusOr: how every fallible dopt call reports failure. User input never aborts.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace dopt {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad user input: model, config, data, flags
  kNotFound,         // a file, name or tensor that does not exist
  kUnimplemented,    // an op or feature dopt does not support
  kIoError,          // reading or writing a file failed
  kInternal,         // a bug in dopt
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy with "context: " put in front of the message (file, op or tensor name).
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {
    if (status_.ok()) status_ = Internal("StatusOr constructed from an OK status without a value");
  }
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace dopt

#define DOPT_CONCAT_INNER(a, b) a##b
#define DOPT_CONCAT(a, b) DOPT_CONCAT_INNER(a, b)

// Returns from the calling function when `expr` (a Status) is not OK.
#define DOPT_RETURN_IF_ERROR(expr)              \
  do {                                          \
    ::dopt::Status _dopt_st = (expr);           \
    if (!_dopt_st.ok()) return _dopt_st;        \
  } while (0)

// `DOPT_ASSIGN_OR_RETURN(auto x, F())` binds x to F()'s value or returns its error.
#define DOPT_ASSIGN_OR_RETURN(lhs, expr) \
  DOPT_ASSIGN_OR_RETURN_IMPL(DOPT_CONCAT(_dopt_so_, __LINE__), lhs, expr)
#define DOPT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

// Returns InvalidArgument(msg) when cond is false. msg may use operator+ on strings.
#define DOPT_CHECK_ARG(cond, msg)                         \
  do {                                                    \
    if (!(cond)) return ::dopt::InvalidArgument(msg);     \
  } while (0)
