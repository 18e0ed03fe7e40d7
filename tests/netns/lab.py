"""A private network lab per test: a "host" network namespace where orch-cni runs (so the bridge,
forwarding sysctls and nft tables never touch the machine), container namespaces, and an
"outside" namespace behind the host. Every name is unique (tests run concurrently on this
machine) and every namespace is deleted at teardown, which takes all links and rules with it.
"""
import copy
import json
import os
import secrets
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGIN = os.path.abspath(os.environ.get("ORCH_CNI") or os.path.join(REPO, "build/netns/orch-cni"))
PY = "/usr/bin/python3"
OUTSIDE_HOST, OUTSIDE_PEER = "198.51.100.1", "198.51.100.2"
OUTSIDE_HOST6, OUTSIDE_PEER6 = "2001:db8:51::1", "2001:db8:51::2"

# A server that answers each TCP connection or UDP datagram with the peer's address, so a
# test sees whether (and how) its traffic was translated.
SERVER = r"""
import socket, sys
proto, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", port))
if proto == "tcp":
    s.listen(16)
print("ready", flush=True)
while True:
    if proto == "tcp":
        c, peer = s.accept()
        c.sendall(peer[0].removeprefix("::ffff:").encode())
        c.close()
    else:
        data, peer = s.recvfrom(100)
        s.sendto(peer[0].removeprefix("::ffff:").encode(), peer)
"""

CLIENT = r"""
import socket, sys
proto, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.settimeout(5)
try:
    s.connect((addr, port))
    if proto == "udp":
        s.send(b"x")
    print(s.recv(100).decode())
except OSError as e:
    print("error:", e)
"""


def unique(prefix):
    return f"{prefix}{os.getpid() % 100000}x{secrets.token_hex(3)}"


def sh(*argv, check=True, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


class Lab:
    def __init__(self, tmp):
        self.namespaces, self.servers = [], []
        self.data_dir = str(tmp / "data")
        self.host = self.netns("h")
        sh("ip", "-n", self.host, "link", "set", "lo", "up")
        self.network = unique("net")
        self.bridge = "orchbr0"
        self.outside = None

    def netns(self, kind):
        name = unique("orchtest-" + kind)
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        return name

    def container(self):
        return self.netns("c")

    def config(self, **over):
        c = {"cniVersion": "1.0.0", "name": self.network, "type": "orch-cni", "bridge": self.bridge,
             "dataDir": self.data_dir, "ipam": {"ranges": [{"subnet": "10.123.0.0/24"}, {"subnet": "fd12:3::/64"}]}}
        c.update(copy.deepcopy(over))
        return c

    def cni(self, command, cid, netns, config=None, ifname="eth0", env=None, stdin=None):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CNI_COMMAND": command, "CNI_CONTAINERID": cid,
             "CNI_NETNS": f"/run/netns/{netns}" if netns else "", "CNI_IFNAME": ifname, "CNI_PATH": "/usr/lib/cni"}
        e.update(env or {})
        e = {k: v for k, v in e.items() if v is not None}
        text = stdin if stdin is not None else json.dumps(config if config is not None else self.config())
        r = subprocess.run(["ip", "netns", "exec", self.host, PLUGIN], input=text, capture_output=True,
                           text=True, env=e, timeout=60)
        r.json = json.loads(r.stdout) if r.stdout.strip() else None
        return r

    def add(self, cid, netns, **kw):
        r = self.cni("ADD", cid, netns, **kw)
        assert r.returncode == 0, f"ADD failed: {r.stdout} {r.stderr}"
        return r.json

    def run(self, ns, *argv, check=True):
        return sh("ip", "netns", "exec", ns, *argv, check=check)

    def server(self, ns, port, proto="tcp"):
        p = subprocess.Popen(["ip", "netns", "exec", ns, PY, "-c", SERVER, proto, str(port)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.servers.append(p)
        assert p.stdout.readline().strip() == "ready", p.stderr.read()

    def connect(self, ns, addr, port, proto="tcp"):
        return self.run(ns, PY, "-c", CLIENT, proto, addr, str(port)).stdout.strip()

    def make_outside(self):
        """A namespace on a link to the host, with no route to the containers' subnets."""
        self.outside = self.netns("o")
        a, b = unique("vo")[:15], unique("vp")[:15]
        sh("ip", "-n", self.host, "link", "add", a, "type", "veth", "peer", "name", b, "netns", self.outside)
        sh("ip", "-n", self.host, "addr", "add", OUTSIDE_HOST + "/24", "dev", a)
        sh("ip", "-n", self.outside, "addr", "add", OUTSIDE_PEER + "/24", "dev", b)
        # nodad: usable at once, without waiting for duplicate address detection.
        sh("ip", "-n", self.host, "addr", "add", OUTSIDE_HOST6 + "/64", "dev", a, "nodad")
        sh("ip", "-n", self.outside, "addr", "add", OUTSIDE_PEER6 + "/64", "dev", b, "nodad")
        for ns, dev in ((self.host, a), (self.outside, b), (self.outside, "lo")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
        return self.outside

    # ---- what is left ----
    def host_links(self):
        out = json.loads(sh("ip", "-n", self.host, "-j", "link", "show").stdout)
        return sorted(l["ifname"] for l in out if l["ifname"].startswith("orch") and l["ifname"] != self.bridge)

    def nft_elements(self):
        r = sh("ip", "netns", "exec", self.host, "nft", "-j", "list", "ruleset")
        found = []
        for item in json.loads(r.stdout)["nftables"]:
            for kind in ("set", "map"):
                s = item.get(kind)
                if s and s["name"] != "nets" and s.get("elem"):
                    found.append((s["family"], s["name"], s["elem"]))
        return found

    def leases(self):
        path = os.path.join(self.data_dir, "networks", self.network, "leases.json")
        return json.load(open(path))["leases"] if os.path.exists(path) else []

    def records(self):
        d = os.path.join(self.data_dir, "networks", self.network, "containers")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def leftovers(self, netns=None):
        left = {"links": self.host_links(), "nft": self.nft_elements(), "leases": self.leases(),
                "records": self.records()}
        if netns:
            left["eth0"] = self.run(netns, "ip", "-o", "link", "show", "eth0", check=False).stdout.strip()
        return {k: v for k, v in left.items() if v}

    def close(self):
        for p in self.servers:
            p.kill()
            p.wait()
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture
def lab(tmp_path):
    if not os.path.exists(PLUGIN):
        pytest.fail(f"{PLUGIN} is not built (ninja -C build)")
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        lab.close()
