// Mount options of config.json ("ro", "rbind", "rro", "tmpcopyup", "size=64k", ...)
// split into what mount(2), mount_setattr(2) and orun itself act on.
// Pure: no system calls here, so the table is unit-tested and shared with `orun features`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace orun::linux {

struct MountOptions {
  unsigned long flags = 0;        // MS_* for mount(2) (MS_BIND / MS_BIND|MS_REC for bind / rbind)
  unsigned long clear = 0;        // MS_* an option explicitly turned off ("rw", "suid", "dev", ...)
  std::vector<unsigned long> propagation;  // MS_SHARED, MS_SLAVE|MS_REC, ... in the order given
  uint64_t attr_set = 0;          // MOUNT_ATTR_* applied with mount_setattr(AT_RECURSIVE)
  uint64_t attr_clr = 0;
  std::string data;               // unknown options: file system data, joined by ','
  bool bind = false;              // "bind" or "rbind"
  bool recursive_bind = false;    // "rbind"
  bool idmap = false;             // "idmap" or "ridmap"
  bool recursive_idmap = false;   // "ridmap"
  bool tmpcopyup = false;         // copy the shadowed directory's content into a new tmpfs
};

// Every option name orun understands (runc's list), for `orun features`.
std::vector<std::string> known_mount_options();

// Later options win over earlier ones ("ro,rw" is rw), as with mount(8).
MountOptions parse_mount_options(const std::vector<std::string>& options);

// linux.rootfsPropagation ("rslave", "shared", ...) as MS_* flags; 0 for an unknown name.
unsigned long propagation_flags(const std::string& name);

}  // namespace orun::linux
