"""A --console-socket receiver: the runtime connects to a unix socket and sends the pty master by
SCM_RIGHTS (runc's protocol: one message, the pty name as data, the master as the only fd)."""
import os
import select
import socket
import threading
import time


class ConsoleSocket:
    """Listens on `path`; master() returns the received pty master fd (the caller owns it)."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self._fd = None
        self._name = None
        self._error = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        try:
            self.sock.settimeout(30)
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(30)
                msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
                self._name = msg.decode(errors="replace")
                for extra in fds[1:]:
                    os.close(extra)
                self._fd = fds[0] if fds else None
                if self._fd is None:
                    self._error = f"message without an fd: {msg!r}"
        except OSError as e:
            self._error = repr(e)
        finally:
            self._done.set()

    def master(self, timeout=30):
        """The pty master fd, or an AssertionError saying why none arrived."""
        assert self._done.wait(timeout), "no connection on the console socket"
        assert self._fd is not None, f"no pty master received: {self._error}"
        fd, self._fd = self._fd, None
        return fd

    @property
    def name(self):
        return self._name

    def close(self):
        self.sock.close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_until_closed(master, timeout=30, proc=None):
    """Everything read from a pty master until every slave is closed (EIO) or `proc` has exited
    and nothing more comes; bytes, with \\r\\n left as the line discipline made them."""
    out = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the last slave fd closed
                break
            if not chunk:
                break
            out += chunk
        elif proc is not None and proc.poll() is not None:
            break
    return bytes(out)
