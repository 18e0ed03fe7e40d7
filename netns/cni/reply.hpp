// What the plugin writes on stdout: the result of ADD, the VERSION answer, the error object.
#pragma once
#include <string>

#include "config.hpp"

namespace orch::cni {

std::string add_result(const Request& req, const netns::AddResult& r);
std::string version_result(const std::string& cni_version);
std::string error_result(const std::string& cni_version, const CniError& e);

}  // namespace orch::cni
