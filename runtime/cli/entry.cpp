// orun's ELF entry point (linked with -e orun_entry), which runs before glibc's _start.
//
// create, run and exec re-execute orun from a read-only, detached clone of its binary's mount
// (CVE-2019-5736, linux/exe_protect.hpp). Done here, the first of the two processes runs a few
// syscalls instead of glibc's start-up and the command-line parsing: under emulation (the cgroup
// v2 VM) those were as costly as the exec itself, a tenth of a whole `run` (docs/benchmarks.md,
// "The re-exec before glibc").
//
// Nothing here may touch libc, TLS or data that needs relocating: the binary is a static PIE
// that has not relocated itself yet (meson.build compiles this file without the stack protector
// and without turning loops into memcpy calls). On any failure glibc starts as usual, and
// ensure_sealed_exe() protects the process with a sealed memfd copy instead.
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>

#include "linux/exe_protect.hpp"

namespace {

long sys(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return ret;
}

bool equal(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}

// Whether entry is "name=...".
bool assigns(const char* entry, const char* name) {
  while (*name && *entry == *name) ++entry, ++name;
  return *name == 0 && *entry == '=';
}

// The verbs that call Cli::seal(). Any word counts, not just the verb: a needless re-exec (a
// container named "run") costs time, a missed one would cost the fast path, never the protection.
bool enters_container(char** words) {
  for (; *words; ++words)
    if (equal(*words, "create") || equal(*words, "run") || equal(*words, "exec")) return true;
  return false;
}

// Bounds the copy of envp on the stack; a larger environment takes the memfd path.
constexpr long kMaxEnv = 4096;

}  // namespace

// sp: the stack the kernel built, argc then argv, NULL, envp, NULL. Returns only when glibc
// should start.
extern "C" [[gnu::used]] void orun_preexec(long* sp) {
  char** argv = reinterpret_cast<char**>(sp + 1);
  char** envp = argv + sp[0] + 1;
  if (sp[0] < 1 || !enters_container(argv + 1)) return;
  char* env[kMaxEnv + 2];
  long n = 0;
  for (; envp[n]; ++n) {
    if (n == kMaxEnv || assigns(envp[n], orun::linux::kClonedExeVar)) return;  // the re-executed orun
    env[n] = envp[n];
  }
  env[n] = const_cast<char*>(orun::linux::kClonedExeEnv);
  env[n + 1] = nullptr;

  // A clone of the mount holding /proc/self/exe, attached nowhere (no mount event in the host
  // namespace, nothing to clean up), made read-only. The O_CLOEXEC tree fd closes at exec and the
  // clone is dissolved: nothing can remount it, and a write through /proc/<pid>/exe fails with
  // EROFS. No byte of the binary is copied.
  long tree = sys(SYS_open_tree, AT_FDCWD, reinterpret_cast<long>("/proc/self/exe"), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) return;
  struct mount_attr attr = {MOUNT_ATTR_RDONLY, 0, 0, 0};
  if (sys(SYS_mount_setattr, tree, reinterpret_cast<long>(""), AT_EMPTY_PATH, reinterpret_cast<long>(&attr), sizeof attr) == 0)
    sys(SYS_execveat, tree, reinterpret_cast<long>(""), reinterpret_cast<long>(argv), reinterpret_cast<long>(env), AT_EMPTY_PATH);
  sys(SYS_close, tree);
}

// The kernel's stack pointer is kept in %rbx (callee-saved) across the call and handed back to
// _start unchanged, with %rdx zero as the kernel leaves it (no exit handler to register).
__asm__(R"(
  .text
  .globl orun_entry
  .type orun_entry, @function
orun_entry:
  mov %rsp, %rbx
  mov %rsp, %rdi
  and $-16, %rsp
  call orun_preexec
  mov %rbx, %rsp
  xor %edx, %edx
  jmp _start
  .size orun_entry, .-orun_entry
)");
