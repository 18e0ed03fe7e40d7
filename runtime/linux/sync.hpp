// The create handshake: one SOCK_SEQPACKET socketpair between `orun create`
// (the parent) and the processes it starts: the init alone when one clone3 can
// make it (init.hpp), else stage-1 first, which forks the init. Typed messages, a fixed
// header and an optional payload; fds travel by SCM_RIGHTS. No JSON is
// parsed in the children: payloads they receive are passed through as bytes.
//
//   parent (orun create)                 stage-1 (joins, unshares)       init (container pid 1)
//   ----------------------------------   -----------------------------   -----------------------
//   (systemd driver only: the scope is started with stage-1's pid, the limits written)
//                          CgroupReady -->  (waits for it before anything else)
//                                   <--  UsermapPls  (after unshare(CLONE_NEWUSER))
//   write uid_map, gid_map  UsermapAck -->
//                                   <--  InitPid {pid}   then stage-1 exits (no stage-1: clone3 gave the pid)
//                                                                   <--  HooksPls (mounts done)
//   run prestart, createRuntime hooks
//                           HooksAck {init's host pid, state JSON for hooks} ---------->
//                                                                   <--  ConsolePty {fd}
//                                                                   <--  Ready (about to wait for start)
//   write state "created", pid file; exit
//   at any point either child may send:  <--  Error {errno, message}
//   init, when process.args[0] cannot be executed: <--  ExecError {errno, message}
//
// `orun start` connects to the init's start socket (bound by the parent in
// the state directory) and sends Start. The init runs startContainer hooks,
// drops privileges and execs; the connection is close-on-exec, so EOF tells
// start that exec succeeded, and an Error message that it did not.
//
//   orun start                           init
//   Start  --------------------------------->
//         <---------------------------------  EOF (exec done) | Error {errno, message}
//
// The parent holds its end until Ready; a child that reads EOF knows the
// parent died and exits, so a killed `orun create` leaves no waiting init.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "base/fd.hpp"
#include "base/result.hpp"

namespace orun::linux {

enum class Msg : uint32_t {
  UsermapPls = 1,
  UsermapAck,
  InitPid,
  HooksPls,
  HooksAck,
  ConsolePty,
  Ready,
  Error,
  ExecError,
  Start,
  CgroupReady,
};

const char* to_string(Msg m);

struct Message {
  Msg type{};
  int32_t value = 0;     // pid for InitPid, errno for Error
  std::string payload;   // error text, state JSON
  Fd fd;                 // ConsolePty
};

struct SyncPair {
  Fd parent, child;
};

[[nodiscard]] Result<SyncPair> make_sync_pair();
[[nodiscard]] Result<> send_msg(int sock, Msg type, int32_t value = 0, std::string_view payload = {}, int fd = -1);
// Receive one message. EOF is an error with code EPIPE.
[[nodiscard]] Result<Message> recv_msg(int sock);
// The error a message stands for: Error and ExecError carry one (ExecError
// with the exit status a shell would give: 127 not found, 126 not executable);
// any other type was unexpected here.
Error message_error(const Message& m);
// Receive one message of an expected type; an Error message becomes the error.
[[nodiscard]] Result<Message> expect_msg(int sock, Msg type);
// Child side: report err to the parent (best effort) and _exit(1).
[[noreturn]] void child_fail(int sock, const Error& err);

}  // namespace orun::linux
