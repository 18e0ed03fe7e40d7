#include "args.hpp"

#include <charconv>

namespace orun::cli {

namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// "--bundle" or "-b, --bundle", as errors and the help name an option.
std::string spelled(const Option& o) {
  std::string s;
  if (o.short_name) s = std::string("-") + o.short_name;
  if (!o.long_name.empty()) s += (s.empty() ? "--" : ", --") + std::string(o.long_name);
  return s;
}

std::string see_help(const Command& cmd) { return "; see " + std::string(cmd.name) + " --help"; }

std::string flag_name(const Option& o) {
  return o.long_name.empty() ? std::string("-") + o.short_name : "--" + std::string(o.long_name);
}

template <typename T>
Result<T> number(const Option& o, std::string_view v) {
  T n{};
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size())
    return fail(flag_name(o) + ": " + quoted(v) + " is not " +
                (std::is_signed_v<T> ? "an integer" : "a non-negative integer"));
  return n;
}

Result<bool> boolean(const Option& o, std::string_view v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return fail(flag_name(o) + ": " + quoted(v) + " is not true or false");
}

// Stores one value of a value-taking option.
Result<> store(const Option& o, std::string_view v) {
  if (!o.choices.empty()) {
    bool ok = false;
    std::string list;
    for (std::string_view c : o.choices) {
      ok = ok || c == v;
      list += (list.empty() ? "" : ", ") + std::string(c);
    }
    if (!ok) return fail(flag_name(o) + ": " + quoted(v) + " is not one of " + list);
  }
  if (auto p = std::get_if<std::string*>(&o.target)) {
    **p = v;
  } else if (auto p = std::get_if<std::optional<std::string>*>(&o.target)) {
    **p = std::string(v);
  } else if (auto p = std::get_if<std::vector<std::string>*>(&o.target)) {
    (*p)->emplace_back(v);
  } else if (auto p = std::get_if<int*>(&o.target)) {
    **p = TRY(number<int>(o, v));
  } else if (auto p = std::get_if<std::vector<uint32_t>*>(&o.target)) {
    (*p)->push_back(TRY(number<uint32_t>(o, v)));
  }
  return {};
}

const Option* find_long(const Command& cmd, std::string_view name) {
  for (const Option& o : cmd.options)
    if (o.long_name == name) return &o;
  return nullptr;
}

const Option* find_short(const Command& cmd, char c) {
  for (const Option& o : cmd.options)
    if (o.short_name == c) return &o;
  return nullptr;
}

// Parses the option word args[i] (and its value, which may be args[i+1]: i moves past it).
Result<Parsed> option(const Command& cmd, Args args, size_t& i) {
  std::string_view word = args[i];
  auto value_of = [&](const Option& o, std::optional<std::string_view> inline_value) -> Result<> {
    if (auto b = std::get_if<bool*>(&o.target)) {
      **b = inline_value ? TRY(boolean(o, *inline_value)) : true;
      return {};
    }
    if (inline_value) return store(o, *inline_value);
    // The next word is the value even when it starts with a dash (--cpu-quota -1, --process -).
    if (i + 1 >= args.size()) return fail(flag_name(o) + " needs a value");
    return store(o, args[++i]);
  };

  if (word.starts_with("--")) {
    std::string_view name = word.substr(2);
    std::optional<std::string_view> inline_value;
    if (auto eq = name.find('='); eq != std::string_view::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "help") return Parsed::help;
    const Option* o = find_long(cmd, name);
    if (!o) return fail("unknown flag --" + std::string(name) + see_help(cmd));
    TRY(value_of(*o, inline_value));
    return Parsed::ok;
  }
  // Short options: -b DIR, -bDIR, -b=DIR; bool ones combine: -dt.
  for (size_t k = 1; k < word.size(); ++k) {
    if (word[k] == 'h') return Parsed::help;
    const Option* o = find_short(cmd, word[k]);
    if (!o) return fail("unknown flag -" + std::string(1, word[k]) + see_help(cmd));
    std::string_view after = word.substr(k + 1);
    bool is_bool = std::holds_alternative<bool*>(o->target);
    if (after.starts_with('=')) {
      TRY(value_of(*o, after.substr(1)));
      break;
    }
    if (!is_bool && !after.empty()) {
      TRY(value_of(*o, after));
      break;
    }
    TRY(value_of(*o, std::nullopt));
  }
  return Parsed::ok;
}

}  // namespace

Result<Parsed> parse(const Command& cmd, Args args) {
  size_t positional = 0;
  bool options_done = false;
  bool rest_started = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view word = args[i];
    if (!options_done && word == "--") {
      options_done = true;
      continue;
    }
    // A lone "-" is a value (stdin), not an option.
    if (!options_done && word.size() > 1 && word[0] == '-') {
      if (TRY(option(cmd, args, i)) == Parsed::help) return Parsed::help;
      continue;
    }
    if (positional < cmd.positionals.size()) {
      *cmd.positionals[positional++].target = word;
      if (cmd.options_first && positional == cmd.positionals.size()) options_done = true;
      continue;
    }
    if (!cmd.rest) return fail("unexpected argument " + quoted(word) + see_help(cmd));
    if (cmd.options_first) {
      options_done = true;
      // `exec ID -- cmd`: the "--" separates orun's words from the command's.
      if (!rest_started && word == "--" && cmd.positionals.size() == positional) {
        rest_started = true;
        continue;
      }
    }
    rest_started = true;
    cmd.rest->emplace_back(word);
  }
  for (size_t k = positional; k < cmd.positionals.size(); ++k)
    if (cmd.positionals[k].required)
      return fail("missing " + std::string(cmd.positionals[k].name) + " (" + std::string(cmd.positionals[k].help) +
                  ")" + see_help(cmd));
  return Parsed::ok;
}

namespace {

// "  name<padding>help\n", the help column aligned as CLI11's was.
void row(std::string& out, const std::string& name, std::string_view help) {
  constexpr size_t kColumn = 30;
  out += "  " + name;
  out.append(name.size() + 2 < kColumn ? kColumn - name.size() - 2 : 1, ' ');
  out += help;
  out += '\n';
}

}  // namespace

std::string help_text(const Command& cmd) {
  std::string out(cmd.about);
  out += "\n\nUsage: " + std::string(cmd.name) + " [OPTIONS]";
  if (!cmd.usage.empty()) out += " " + std::string(cmd.usage);
  for (const Positional& p : cmd.positionals) out += p.required ? " " + std::string(p.name) : " [" + std::string(p.name) + "]";
  if (cmd.rest && cmd.usage.empty()) out += " [" + std::string(cmd.rest_name) + "...]";
  out += "\n";
  if (!cmd.positionals.empty() || cmd.rest) {
    out += "\nArguments:\n";
    for (const Positional& p : cmd.positionals) {
      std::string help(p.help);
      if (!p.required && !p.target->empty()) help += " (default: " + *p.target + ")";
      row(out, std::string(p.name), help);
    }
    if (cmd.rest) row(out, std::string(cmd.rest_name) + "...", cmd.rest_help);
  }
  out += "\nOptions:\n";
  row(out, "-h, --help", "print this help and exit");
  for (const Option& o : cmd.options) {
    if (o.help.empty()) continue;
    std::string name = spelled(o);
    if (!std::holds_alternative<bool*>(o.target)) name += " " + std::string(o.value_name);
    std::string help(o.help);
    if (auto s = std::get_if<std::string*>(&o.target); s && !(*s)->empty()) help += " (default: " + **s + ")";
    row(out, name, help);
  }
  if (!cmd.footer.empty()) out += "\n" + std::string(cmd.footer);
  return out;
}

}  // namespace orun::cli
