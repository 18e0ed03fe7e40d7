// One function per CNI command: the checked request in, the stdout text (or error) out.
#pragma once
#include <string>

#include "config.hpp"

namespace orch::cni {

CniResult<std::string> cmd_add(const Request& req);
CniResult<std::string> cmd_del(const Request& req);
CniResult<std::string> cmd_check(const Request& req);
CniResult<std::string> cmd_gc(const Request& req);
// A library error as a CNI error: field-named environment problems, exhaustion, conflicts.
CniError from_error(const orun::Error& e, int fallback);

}  // namespace orch::cni
