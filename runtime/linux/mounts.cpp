#include "mounts.hpp"

#include <sys/mount.h>

#include <string_view>

#include "base/strings.hpp"

namespace orun::linux {
namespace {

enum class Kind { flag, propagation, rec_attr, tmpcopyup, idmap, ridmap };

struct Option {
  std::string_view name;
  Kind kind;
  bool clear;           // the option turns `value` off
  unsigned long value;  // MS_* or MOUNT_ATTR_*
};

// runc's option list (libcontainer/specconv), in its order.
constexpr Option kOptions[] = {
    {"async", Kind::flag, true, MS_SYNCHRONOUS},
    {"atime", Kind::flag, true, MS_NOATIME},
    {"bind", Kind::flag, false, MS_BIND},
    {"defaults", Kind::flag, false, 0},
    {"dev", Kind::flag, true, MS_NODEV},
    {"diratime", Kind::flag, true, MS_NODIRATIME},
    {"dirsync", Kind::flag, false, MS_DIRSYNC},
    {"exec", Kind::flag, true, MS_NOEXEC},
    {"iversion", Kind::flag, false, MS_I_VERSION},
    {"lazytime", Kind::flag, false, MS_LAZYTIME},
    {"loud", Kind::flag, true, MS_SILENT},
    {"mand", Kind::flag, false, MS_MANDLOCK},
    {"noatime", Kind::flag, false, MS_NOATIME},
    {"nodev", Kind::flag, false, MS_NODEV},
    {"nodiratime", Kind::flag, false, MS_NODIRATIME},
    {"noexec", Kind::flag, false, MS_NOEXEC},
    {"noiversion", Kind::flag, true, MS_I_VERSION},
    {"nolazytime", Kind::flag, true, MS_LAZYTIME},
    {"nomand", Kind::flag, true, MS_MANDLOCK},
    {"norelatime", Kind::flag, true, MS_RELATIME},
    {"nostrictatime", Kind::flag, true, MS_STRICTATIME},
    {"nosuid", Kind::flag, false, MS_NOSUID},
    {"nosymfollow", Kind::flag, false, MS_NOSYMFOLLOW},
    {"private", Kind::propagation, false, MS_PRIVATE},
    {"ratime", Kind::rec_attr, true, MOUNT_ATTR_NOATIME},
    {"rbind", Kind::flag, false, MS_BIND | MS_REC},
    {"rdev", Kind::rec_attr, true, MOUNT_ATTR_NODEV},
    {"rdiratime", Kind::rec_attr, true, MOUNT_ATTR_NODIRATIME},
    {"relatime", Kind::flag, false, MS_RELATIME},
    {"remount", Kind::flag, false, MS_REMOUNT},
    {"rexec", Kind::rec_attr, true, MOUNT_ATTR_NOEXEC},
    {"rnoatime", Kind::rec_attr, false, MOUNT_ATTR_NOATIME},
    {"rnodev", Kind::rec_attr, false, MOUNT_ATTR_NODEV},
    {"rnodiratime", Kind::rec_attr, false, MOUNT_ATTR_NODIRATIME},
    {"rnoexec", Kind::rec_attr, false, MOUNT_ATTR_NOEXEC},
    {"rnorelatime", Kind::rec_attr, true, MOUNT_ATTR_RELATIME},
    {"rnostrictatime", Kind::rec_attr, true, MOUNT_ATTR_STRICTATIME},
    {"rnosuid", Kind::rec_attr, false, MOUNT_ATTR_NOSUID},
    {"rnosymfollow", Kind::rec_attr, false, MOUNT_ATTR_NOSYMFOLLOW},
    {"ro", Kind::flag, false, MS_RDONLY},
    {"rprivate", Kind::propagation, false, MS_PRIVATE | MS_REC},
    {"rrelatime", Kind::rec_attr, false, MOUNT_ATTR_RELATIME},
    {"rro", Kind::rec_attr, false, MOUNT_ATTR_RDONLY},
    {"rrw", Kind::rec_attr, true, MOUNT_ATTR_RDONLY},
    {"rshared", Kind::propagation, false, MS_SHARED | MS_REC},
    {"rslave", Kind::propagation, false, MS_SLAVE | MS_REC},
    {"rstrictatime", Kind::rec_attr, false, MOUNT_ATTR_STRICTATIME},
    {"rsuid", Kind::rec_attr, true, MOUNT_ATTR_NOSUID},
    {"rsymfollow", Kind::rec_attr, true, MOUNT_ATTR_NOSYMFOLLOW},
    {"runbindable", Kind::propagation, false, MS_UNBINDABLE | MS_REC},
    {"rw", Kind::flag, true, MS_RDONLY},
    {"shared", Kind::propagation, false, MS_SHARED},
    {"silent", Kind::flag, false, MS_SILENT},
    {"slave", Kind::propagation, false, MS_SLAVE},
    {"strictatime", Kind::flag, false, MS_STRICTATIME},
    {"suid", Kind::flag, true, MS_NOSUID},
    {"symfollow", Kind::flag, true, MS_NOSYMFOLLOW},
    {"sync", Kind::flag, false, MS_SYNCHRONOUS},
    {"tmpcopyup", Kind::tmpcopyup, false, 0},
    {"unbindable", Kind::propagation, false, MS_UNBINDABLE},
    {"idmap", Kind::idmap, false, 0},
    {"ridmap", Kind::ridmap, false, 0},
};

const Option* find_option(std::string_view name) {
  for (const auto& o : kOptions)
    if (o.name == name) return &o;
  return nullptr;
}

// The access-time attributes are one enum inside the MOUNT_ATTR__ATIME bits, not independent
// bits: the kernel wants the whole mask in attr_clr whenever one of them changes. The "turn
// off" forms pick the kernel default (relatime), except rnorelatime, which means strictatime.
void apply_atime_attr(MountOptions& mo, const Option& o) {
  uint64_t mode = MOUNT_ATTR_RELATIME;
  if (!o.clear) mode = o.value;
  else if (o.value == MOUNT_ATTR_RELATIME) mode = MOUNT_ATTR_STRICTATIME;
  mo.attr_clr |= MOUNT_ATTR__ATIME;
  mo.attr_set = (mo.attr_set & ~static_cast<uint64_t>(MOUNT_ATTR__ATIME)) | mode;
}

bool is_atime_attr(unsigned long v) {
  return v == MOUNT_ATTR_NOATIME || v == MOUNT_ATTR_RELATIME || v == MOUNT_ATTR_STRICTATIME;
}

}  // namespace

std::vector<std::string> known_mount_options() {
  std::vector<std::string> out;
  for (const auto& o : kOptions) out.emplace_back(o.name);
  return out;
}

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  MountOptions mo;
  std::vector<std::string> data;
  for (const auto& name : options) {
    const Option* o = find_option(name);
    if (!o) {
      data.push_back(name);
      continue;
    }
    switch (o->kind) {
      case Kind::flag:
        if (o->clear) {
          mo.flags &= ~o->value;
          mo.clear |= o->value;
        } else {
          mo.flags |= o->value;
          mo.clear &= ~o->value;
        }
        if (o->value & MS_BIND) {
          mo.bind = true;
          if (o->value & MS_REC) mo.recursive_bind = true;
        }
        break;
      case Kind::propagation:
        mo.propagation.push_back(o->value);
        break;
      case Kind::rec_attr:
        if (is_atime_attr(o->value)) {
          apply_atime_attr(mo, *o);
        } else if (o->clear) {
          mo.attr_clr |= o->value;
          mo.attr_set &= ~static_cast<uint64_t>(o->value);
        } else {
          mo.attr_set |= o->value;
          mo.attr_clr &= ~static_cast<uint64_t>(o->value);
        }
        break;
      case Kind::tmpcopyup:
        mo.tmpcopyup = true;
        break;
      case Kind::idmap:
        mo.idmap = true;
        break;
      case Kind::ridmap:
        mo.idmap = mo.recursive_idmap = true;
        break;
    }
  }
  mo.data = join(data, ",");
  return mo;
}

unsigned long propagation_flags(const std::string& name) {
  const Option* o = find_option(name);
  return o && o->kind == Kind::propagation ? o->value : 0;
}

}  // namespace orun::linux
