#include "cgroups/hierarchy.hpp"

#include <linux/magic.h>
#include <sys/vfs.h>

#include <algorithm>

#include "base/file.hpp"
#include "base/strings.hpp"

namespace orun::cgroups {

const char* to_string(Layout layout) {
  switch (layout) {
    case Layout::v2: return "v2";
    case Layout::hybrid: return "hybrid";
    case Layout::v1: return "v1";
  }
  return "?";
}

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() &&
        std::all_of(s.begin() + static_cast<long>(i) + 1, s.begin() + static_cast<long>(i) + 4,
                    [](char c) { return c >= '0' && c <= '7'; })) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Space-separated fields, as views into the line (mountinfo has no quoting: spaces are escaped).
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    size_t end = line.find(' ', i);
    if (end == std::string_view::npos) end = line.size();
    if (end > i) out.push_back(line.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

// The file system type of a mountinfo line: the field after the " - " separator.
std::string_view fstype_of(std::string_view line) {
  size_t dash = line.find(" - ");
  if (dash == std::string_view::npos) return {};
  std::string_view rest = line.substr(dash + 3);
  return rest.substr(0, rest.find(' '));
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool under(std::string_view path, std::string_view root) {
  if (root == "/" || root.empty()) return true;
  return path == root || (path.starts_with(root) && path.size() > root.size() && path[root.size()] == '/');
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountEntry> out;
  // Every command that re-opens a container's cgroups reads this file, and most of its lines
  // are other file systems: look at the type first and split only the cgroup lines, without
  // copying (a vector of strings per line was 165 k instructions per `orun kill` on a
  // 20-line mountinfo, docs/benchmarks.md).
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::string_view fstype = fstype_of(line);
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    // id parent maj:min root mount-point options [optional...] - fstype source super-options
    auto f = fields_of(line);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || f.end() - dash < 4) continue;
    MountEntry m;
    m.root = unescape_octal(f[3]);
    m.mount_point = unescape_octal(f[4]);
    m.fstype = fstype;
    m.super_options = split(*(dash + 3), ',');
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<CgroupEntry> parse_proc_cgroup(std::string_view text) {
  std::vector<CgroupEntry> out;
  for (auto& raw : split(text, '\n')) {
    std::string_view line = trim(raw);
    if (line.empty()) continue;
    // The path may itself hold ':' so split only on the first two.
    size_t a = line.find(':');
    if (a == std::string_view::npos) continue;
    size_t b = line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    auto id = parse_int(line.substr(0, a));
    if (!id) continue;
    CgroupEntry e;
    e.id = static_cast<int>(*id);
    std::string_view ctrls = line.substr(a + 1, b - a - 1);
    if (!ctrls.empty()) e.controllers = split(ctrls, ',');
    e.path = std::string(line.substr(b + 1));
    out.push_back(std::move(e));
  }
  return out;
}

std::string Hierarchy::dir_of(std::string_view path) const {
  std::string_view rel = path;
  // A mount that shows a sub-tree (bind mount, foreign namespace) holds the
  // cgroups below its root at its top.
  if (mount_root != "/" && under(path, mount_root)) rel = path.substr(mount_root.size());
  if (rel.empty() || rel == "/") return mount_point;
  return path_join(mount_point, rel);
}

Result<Host> detect(std::string_view mountinfo, std::string_view proc_cgroup) {
  auto mounts = parse_mountinfo(mountinfo);
  auto entries = parse_proc_cgroup(proc_cgroup);
  Host host;

  // The cgroup2 tree: prefer the one at /sys/fs/cgroup (pure v2), else the first.
  const MountEntry* v2mount = nullptr;
  for (auto& m : mounts) {
    if (m.fstype != "cgroup2") continue;
    if (!v2mount || m.mount_point == "/sys/fs/cgroup") v2mount = &m;
  }
  if (v2mount) {
    Hierarchy h;
    h.v2 = true;
    h.mount_point = v2mount->mount_point;
    h.mount_root = v2mount->root;
    h.own_path = "/";
    for (auto& e : entries)
      if (e.id == 0 && e.controllers.empty()) h.own_path = e.path;
    host.unified = std::move(h);
  }

  if (!v2mount || v2mount->mount_point != "/sys/fs/cgroup") {
    // Each v1 line of /proc/self/cgroup names the exact controller set of one
    // hierarchy ("cpu,cpuacct", "name=systemd"); find the mount that carries it.
    for (auto& e : entries) {
      if (e.controllers.empty()) continue;
      const MountEntry* found = nullptr;
      for (auto& m : mounts) {
        if (m.fstype != "cgroup") continue;
        bool all = std::all_of(e.controllers.begin(), e.controllers.end(),
                               [&](const std::string& c) { return contains(m.super_options, c); });
        if (!all) continue;
        if (!found || (!under(e.path, found->root) && under(e.path, m.root))) found = &m;
      }
      if (!found) continue;  // a hierarchy this mount namespace does not show
      Hierarchy h;
      h.controllers = e.controllers;
      h.mount_point = found->mount_point;
      h.mount_root = found->root;
      h.own_path = e.path;
      host.v1.push_back(std::move(h));
    }
  }

  if (!host.v1.empty()) {
    host.layout = host.unified ? Layout::hybrid : Layout::v1;
  } else if (host.unified) {
    host.layout = Layout::v2;
  } else {
    return fail("no cgroup file system is mounted (looked for cgroup and cgroup2 in /proc/self/mountinfo)", ENOENT);
  }
  return host;
}

Result<Host> detect_host() {
  std::string mountinfo = TRY(read_file("/proc/self/mountinfo"));
  std::string cgroup = TRY(read_file("/proc/self/cgroup"));
  return detect(mountinfo, cgroup);
}

Result<Host> detect_mounts() {
  // detect() finds the same: a cgroup2 mount at /sys/fs/cgroup makes the host v2 and no v1
  // hierarchy is looked for. This spares kill, delete, start and state reading and parsing
  // two /proc files.
  struct statfs sf;
  if (::statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
    Host host;
    host.layout = Layout::v2;
    Hierarchy h;
    h.v2 = true;
    h.mount_point = "/sys/fs/cgroup";
    h.mount_root = "/";
    h.own_path = "/";
    host.unified = std::move(h);
    return host;
  }
  return detect_host();
}

}  // namespace orun::cgroups
