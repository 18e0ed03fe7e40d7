#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli.hpp"

namespace orun::cli {

void add_list(CLI::App& app, Cli& cli) {
  static std::string format = "table";
  static bool quiet = false;
  auto* sub = app.add_subcommand("list", "list containers");
  sub->alias("ps-list");
  sub->add_option("-f,--format", format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  sub->add_flag("-q,--quiet", quiet, "print only the ids");
  sub->callback([&cli] {
    cli.action = [&cli]() -> Result<int> {
      auto entries = TRY(container::list(cli.globals));
      if (quiet) {
        for (auto& e : entries) std::printf("%s\n", e.state.id.c_str());
      } else if (format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (auto& e : entries)
          arr.push_back(nlohmann::json::parse(container::oci_state_json(e.state, e.status)));
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
    };
  });
}

}  // namespace orun::cli
