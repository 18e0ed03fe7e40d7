#include <cstdio>

#include "cli.hpp"

namespace orun::cli {

namespace {

constexpr std::string_view kFormats[] = {"table", "json"};

Result<int> ps_main(Cli& cli, const Verb& self, Args args) {
  std::string id, format = "table";
  std::vector<std::string> ps_args;
  const Option options[] = {{'f', "format", &format, "table or json", "FORMAT", kFormats}};
  const Positional positionals[] = {{"ID", &id, "container id"}};
  // Everything after the id goes to ps, dashes included (runc ps ID -o pid,comm); a "--" right
  // after the id is dropped (ps(1) refuses it).
  if (!TRY(parse_verb(self,
                      {.options = options,
                       .positionals = positionals,
                       .rest = &ps_args,
                       .rest_name = "PS-ARGUMENTS",
                       .rest_help = "arguments for ps (default: -ef)",
                       .options_first = true},
                      args)))
    return 0;
  auto fmt = format == "json" ? container::PsFormat::json : container::PsFormat::table;
  std::string out = TRY(container::ps(cli.globals, id, fmt, ps_args));
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

const Verb kPs{"ps", "show the processes of a container (host ps, or their pids as JSON)", ps_main};

}  // namespace orun::cli
