#pragma once
// One error type for the whole project. Errors are values that carry context:
// what failed, on which origin and path, and the underlying errno where there is one.
#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace musicfs {

enum class ErrorCode {
  kNotFound,      // the path does not exist (on this origin / in the tree)
  kUnavailable,   // the origin (or daemon) cannot be reached right now
  kTimedOut,      // a deadline passed
  kPermission,    // access denied by the origin
  kIo,            // any other I/O failure
  kChanged,       // the file at the origin is not the version the index holds
  kInvalidArgument,
  kConfig,        // a bad configuration file or value
  kProtocol,      // a malformed request or reply on the control socket
  kExists,        // duplicate id, busy mount point
  kUnsupported,   // a type or feature not implemented
  kReadOnly,      // a write against the read-only tree
  kInternal,
};

std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // one line, with context; no trailing period
  int sys_errno = 0;    // underlying errno when there is one

  static Error from_errno(int err, std::string context);
  // Adds outer context: "mount /mnt/music: " + message.
  Error with_context(std::string_view outer) const;
};

// The single place where an error becomes an errno for FUSE.
int to_errno(const Error& e);

// A small Result<T>: std::expected is not available in GCC 12's C++20 mode.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(implicit)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(implicit)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT(implicit)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }
  Error&& take_error() { return std::move(err_); }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Error make_error(ErrorCode code, std::string message, int sys_errno = 0) {
  return Error{code, std::move(message), sys_errno};
}

}  // namespace musicfs
