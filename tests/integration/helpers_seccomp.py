"""A seccomp user-notification agent (linux.seccomp.listenerPath) in Python.

The runtime connects to the agent's unix socket and sends the ContainerProcessState JSON with the
listener fd by SCM_RIGHTS. The agent then answers notifications with the ioctls of linux/seccomp.h:

  struct seccomp_data       { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; };   64 bytes
  struct seccomp_notif      { __u64 id; __u32 pid; __u32 flags; struct seccomp_data data; };      80 bytes
  struct seccomp_notif_resp { __u64 id; __s64 val; __s32 error; __u32 flags; };                   24 bytes
  SECCOMP_IOCTL_NOTIF_RECV = _IOWR('!', 0, struct seccomp_notif)
  SECCOMP_IOCTL_NOTIF_SEND = _IOWR('!', 1, struct seccomp_notif_resp)
"""
import ctypes
import json
import os
import re
import select
import socket
import threading

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]


class SeccompData(ctypes.Structure):
    _fields_ = [("nr", ctypes.c_int), ("arch", ctypes.c_uint32), ("instruction_pointer", ctypes.c_uint64),
                ("args", ctypes.c_uint64 * 6)]


class SeccompNotif(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("data", SeccompData)]


class SeccompNotifResp(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("val", ctypes.c_int64), ("error", ctypes.c_int32),
                ("flags", ctypes.c_uint32)]


assert ctypes.sizeof(SeccompNotif) == 80 and ctypes.sizeof(SeccompNotifResp) == 24


def _iowr(type_, nr, size):
    return (3 << 30) | (size << 16) | (ord(type_) << 8) | nr


SECCOMP_IOCTL_NOTIF_RECV = _iowr("!", 0, ctypes.sizeof(SeccompNotif))
SECCOMP_IOCTL_NOTIF_SEND = _iowr("!", 1, ctypes.sizeof(SeccompNotifResp))
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1

CONTINUE = ("continue",)


def errno_answer(err):
    return ("errno", err)


def value_answer(val):
    return ("value", val)


class NotifyAgent:
    """Accepts one connection on `path`, keeps the state JSON and the listener fd, then answers
    every notification with decide(nr, args) -> CONTINUE | errno_answer(E) | value_answer(V),
    until the filter's last process is gone. `seen` lists (nr, pid) of every notification."""

    def __init__(self, path, decide):
        self.path = str(path)
        self.decide = decide
        self.state = None
        self.raw = None
        self.nfds = 0
        self.seen = []
        self.errors = []
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.got_state = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        fd = None
        try:
            self.sock.settimeout(60)
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(30)
                data = bytearray()
                fds = []
                while True:
                    msg, got, _flags, _ = socket.recv_fds(conn, 65536, 4)
                    fds += got
                    if not msg:
                        break
                    data += msg
                    try:
                        json.loads(data)
                        break  # a whole JSON document arrived
                    except ValueError:
                        continue
            self.raw = bytes(data)
            self.nfds = len(fds)
            self.state = json.loads(self.raw)
            fd = fds[0] if fds else None
            for extra in fds[1:]:
                os.close(extra)
            self.got_state.set()
            if fd is not None:
                self._answer(fd)
        except Exception as e:  # reported by the test through .errors
            self.errors.append(repr(e))
        finally:
            self.got_state.set()
            if fd is not None:
                os.close(fd)

    def _answer(self, fd):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while not self._stop.is_set():
            events = poller.poll(200)
            if not events:
                continue
            ev = events[0][1]
            if ev & select.POLLIN:
                notif = SeccompNotif()
                if _libc.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, ctypes.byref(notif)) < 0:
                    err = ctypes.get_errno()
                    if err in (4, 2):  # EINTR; ENOENT: the caller went away
                        continue
                    self.errors.append(f"NOTIF_RECV: {os.strerror(err)}")
                    return
                self.seen.append((notif.data.nr, notif.pid))
                answer = self.decide(notif.data.nr, list(notif.data.args))
                resp = SeccompNotifResp(id=notif.id)
                if answer[0] == "continue":
                    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE
                elif answer[0] == "errno":
                    resp.error = -answer[1]
                else:
                    resp.val = answer[1]
                if _libc.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, ctypes.byref(resp)) < 0:
                    err = ctypes.get_errno()
                    if err != 2:  # ENOENT: the task was killed meanwhile
                        self.errors.append(f"NOTIF_SEND: {os.strerror(err)}")
            elif ev & (select.POLLHUP | select.POLLERR):
                return  # no process uses the filter any more

    def close(self):
        self._stop.set()
        self.sock.close()
        self._thread.join(5)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def syscall_numbers():
    """{name: number} for this machine's native ABI, from the kernel headers (x86_64 and aarch64)."""
    for header in ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm-generic/unistd.h",
                   "/usr/include/aarch64-linux-gnu/asm/unistd.h"):
        if os.path.exists(header):
            break
    else:
        return {}
    nums = {}
    with open(header) as f:
        for line in f:
            m = re.match(r"#define __NR_(\w+)\s+(\d+)\s*$", line)
            if m:
                nums[m.group(1)] = int(m.group(2))
    return nums

