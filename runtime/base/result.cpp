#include "result.hpp"

#include <cstring>

namespace orun {

std::string Error::what() const { return message; }

std::unexpected<Error> sys_error(const std::string& what, int err) {
  return std::unexpected(Error{err, what + ": " + std::strerror(err)});
}

std::unexpected<Error> fail(std::string message, int code) {
  return std::unexpected(Error{code, std::move(message)});
}

}  // namespace orun
