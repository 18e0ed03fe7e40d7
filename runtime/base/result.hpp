// Result<T>: the error type of runtime/, netns/ and shim/ (no exceptions there).
#pragma once
#include <cerrno>
#include <expected>
#include <string>
#include <utility>

namespace orun {

struct Error {
  int code = 0;          // errno, or 0 when the error is not a system one
  std::string message;   // "what failed: why"
  int exit_status = 0;   // the exit status the CLI should use (126, 127), 0 for the default

  // Prefix the message with what the caller was doing: "mounting /proc: ..."
  [[nodiscard]] Error context(const std::string& what) && {
    return Error{code, what + ": " + message, exit_status};
  }
  [[nodiscard]] Error context(const std::string& what) const& {
    return Error{code, what + ": " + message, exit_status};
  }
  std::string what() const;
};

template <typename T = void>
using Result = std::expected<T, Error>;

// An error from the current errno, with the failed operation named.
[[nodiscard]] std::unexpected<Error> sys_error(const std::string& what, int err = errno);
// An error that is not a system call failure (bad input, policy).
[[nodiscard]] std::unexpected<Error> fail(std::string message, int code = EINVAL);

}  // namespace orun

// TRY(expr): evaluate a Result, return its error from the enclosing function
// or yield its value (GCC/Clang statement expression).
#define TRY(expr)                                                   \
  ({                                                                \
    auto&& orun_try_r_ = (expr);                                    \
    if (!orun_try_r_) return std::unexpected(std::move(orun_try_r_).error()); \
    std::move(orun_try_r_).value();                                 \
  })

// TRYC(expr, what): like TRY, adding context to the error.
#define TRYC(expr, what)                                            \
  ({                                                                \
    auto&& orun_try_r_ = (expr);                                    \
    if (!orun_try_r_) return std::unexpected(std::move(orun_try_r_).error().context(what)); \
    std::move(orun_try_r_).value();                                 \
  })
