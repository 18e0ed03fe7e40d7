#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli.hpp"

namespace orun::cli {

namespace {

constexpr std::string_view kFormats[] = {"table", "json"};

Result<int> list_main(Cli& cli, const Verb& self, Args args) {
  std::string format = "table";
  bool quiet = false;
  const Option options[] = {
      {'f', "format", &format, "table or json", "FORMAT", kFormats},
      {'q', "quiet", &quiet, "print only the ids"},
  };
  if (!TRY(parse_verb(self, {.options = options}, args))) return 0;
  auto entries = TRY(container::list(cli.globals));
  if (quiet) {
    for (auto& e : entries) std::printf("%s\n", e.state.id.c_str());
  } else if (format == "json") {
    nlohmann::json arr = nlohmann::json::array();
    for (auto& e : entries) arr.push_back(nlohmann::json::parse(container::oci_state_json(e.state, e.status)));
    std::printf("%s\n", arr.dump().c_str());
  } else {
    std::printf("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
    for (auto& e : entries) {
      int pid = e.status == container::Status::stopped ? 0 : e.state.pid;
      std::printf("%-20s %-8d %-10s %-40s %-32s %s\n", e.state.id.c_str(), pid, container::to_string(e.status),
                  e.state.bundle.c_str(), e.state.created.c_str(), "root");
    }
  }
  return 0;
}

}  // namespace

const Verb kList{"list", "list containers", list_main, "ps-list"};

}  // namespace orun::cli
