#include <cstdio>

#include "cli.hpp"

namespace orun::cli {

void add_ps(CLI::App& app, Cli& cli) {
  static std::string id, format = "table";
  static std::vector<std::string> ps_args, after_dashes;
  auto* sub = app.add_subcommand("ps", "show the processes of a container (host ps, or their pids as JSON)");
  sub->add_option("-f,--format", format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  sub->add_option("id", id, "container id")->required();
  // Everything after the id goes to ps, dashes included (runc ps ID -o pid,comm);
  // after a "--" (ps ID -- -o pid,comm) CLI11 hands the rest over as positionals.
  sub->add_option("ps-arguments", after_dashes, "arguments for ps");
  sub->prefix_command();
  sub->footer("Arguments after the id are passed to ps (default: -ef).");
  sub->callback([&cli, sub] {
    ps_args = sub->remaining();
    ps_args.insert(ps_args.end(), after_dashes.begin(), after_dashes.end());
    if (!ps_args.empty() && ps_args.front() == "--") ps_args.erase(ps_args.begin());  // ps(1) refuses it
    cli.action = [&cli]() -> Result<int> {
      auto fmt = format == "json" ? container::PsFormat::json : container::PsFormat::table;
      std::string out = TRY(container::ps(cli.globals, id, fmt, ps_args));
      std::fputs(out.c_str(), stdout);
      return 0;
    };
  });
}

}  // namespace orun::cli
