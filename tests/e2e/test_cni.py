"""orch-cni as the network plugin of podman 4.3 (CNI backend) and containerd 1.6 (`ctr run --cni`),
configured with the conflist of docs/networking.md, while orun runs the containers.

Each test's network side lives in a "host" network namespace of tests/netns/lab.py: the engine's
commands that run CNI plugins enter it (engines.Podman/Containerd.in_netns), so the bridge, host
veths, nft tables and published ports are made there and go with it; an "outside" namespace
behind it plays the internet. The servers are busybox httpd answering /cgi-bin/peer with the
client's address as the server sees it, so each check also shows whether NAT rewrote it.
"""
import ipaddress
import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from orun import need, wait_for

from engines import IMAGE, REPO

sys.path.insert(0, os.path.join(REPO, "tests", "netns"))
from lab import OUTSIDE_HOST, OUTSIDE_HOST6, OUTSIDE_PEER, OUTSIDE_PEER6, lab  # noqa: E402,F401 (fixture)

# /cgi-bin/peer: the client's address as the server sees it (httpd gives "[::ffff:a.b.c.d]").
PEER_CGI = ["#!/bin/sh", "echo Content-type: text/plain", "echo", "a=${REMOTE_ADDR#[}; a=${a%]}; echo ${a#::ffff:}"]
# A busybox httpd in the foreground serving it, as a container's command.
HTTPD = (f"mkdir -p /www/cgi-bin && printf '%s\\n' {shlex.join(PEER_CGI)} > /www/cgi-bin/peer && "
         "chmod +x /www/cgi-bin/peer && exec httpd -f -p 80 -h /www")


def ok(r):
    assert r.returncode == 0, f"{r.args} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def documented_conflist():
    """The conflist docs/networking.md gives for podman and containerd."""
    with open(os.path.join(REPO, "docs", "networking.md")) as f:
        text = f.read()
    m = re.search(r"`/etc/cni/net\.d/orchnet\.conflist`:\n\n```json\n(.*?)```", text, re.S)
    assert m, "docs/networking.md no longer shows orchnet.conflist"
    return json.loads(m.group(1))


def install_network(lab, directory):
    """Writes the documented conflist into the engine's CNI config directory, its state kept in
    the lab (the one change: dataDir), and points the lab's checks at its network and bridge."""
    conf = documented_conflist()
    plugin = conf["plugins"][0]
    plugin["dataDir"] = lab.data_dir
    lab.network, lab.bridge = conf["name"], plugin.get("bridge", "orch0")
    path = os.path.join(directory, conf["name"] + ".conflist")
    with open(path, "w") as f:
        json.dump(conf, f)
    return conf, path


def lease_addrs(lab, cid_part):
    """The addresses orch-cni's IPAM leased to the container whose id contains `cid_part`."""
    return sorted(le["ip"] for le in lab.leases() if cid_part in le["id"])


def outside_httpd(lab):
    outside = lab.make_outside()
    www = os.path.join(lab.data_dir + "-www")
    os.makedirs(os.path.join(www, "cgi-bin"))
    with open(os.path.join(www, "cgi-bin", "peer"), "w") as f:
        f.write("\n".join(PEER_CGI) + "\n")
    os.chmod(os.path.join(www, "cgi-bin", "peer"), 0o755)
    # busybox httpd forks into the background; the namespace's deletion does not end it, so the
    # lab kills it through a process of its own (-f keeps it in the foreground).
    lab.servers.append(subprocess.Popen(["ip", "netns", "exec", outside, "busybox", "httpd", "-f", "-p", "80",
                                         "-h", www], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for(lambda: fetch(lab, outside, OUTSIDE_PEER) == OUTSIDE_PEER, "the outside httpd")
    return outside


def fetch(lab, ns, addr, port=80):
    """What /cgi-bin/peer at addr:port answers a client in namespace `ns` ("" when nothing does)."""
    host = f"[{addr}]" if ":" in addr else addr
    # (busybox 1.35's wget -T crashes: a timeout of the test's own bounds a lost connection)
    try:
        r = subprocess.run(["ip", "netns", "exec", ns, "busybox", "wget", "-qO-", f"http://{host}:{port}/cgi-bin/peer"],
                           capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return ""
    return r.stdout.strip()


def client_script(addr):
    """A second container's command: its own IPv4 address, then what the server at `addr` and
    the outside server see as its address."""
    return (f"ip -o -4 addr show eth0; timeout 10 wget -qO- http://{addr}/cgi-bin/peer;"
            f" timeout 10 wget -qO- http://{OUTSIDE_PEER}/cgi-bin/peer")


def check_client(r, addr):
    """The client got its own orch-cni address (not the gateway's), reached the container at
    `addr` untranslated (same bridge) and the outside as the host (masquerade: the outside has no
    route to 10.88.0.0/16, so without it no reply would come back)."""
    lines = ok(r).stdout.splitlines()
    own = lines[0].split()[3].split("/")[0]
    assert ipaddress.ip_address(own) in ipaddress.ip_network("10.88.0.0/16") and own not in (addr, "10.88.0.1")
    assert lines[1:] == [own, OUTSIDE_HOST], r.stdout


@pytest.fixture
def podman_net(podman, lab):
    """podman in the lab's host namespace, with the documented orchnet network installed."""
    pod = podman.in_netns(f"/run/netns/{lab.host}")
    _, path = install_network(lab, podman.network_dir)
    yield pod
    # Containers go from inside the namespace, where their CNI DEL must run.
    pod.remove_all()
    os.unlink(path)


def test_podman_run_on_orch_cni(podman_net, lab):
    pod = podman_net
    outside = outside_httpd(lab)
    ok(pod("run", "-d", "--name", "web", "--network", "orchnet", "-p", "8080:80", IMAGE, "sh", "-c", HTTPD))
    web_id = ok(pod("inspect", "--format", "{{.Id}}", "web")).stdout.strip()
    addr = ok(pod("inspect", "--format", "{{(index .NetworkSettings.Networks \"orchnet\").IPAddress}}",
                  "web")).stdout.strip()
    # The address is orch-cni's: leased by its IPAM from the documented subnets (one per family).
    assert ipaddress.ip_address(addr) in ipaddress.ip_network("10.88.0.0/16"), addr
    leased = lease_addrs(lab, web_id)
    assert addr in leased and any(ipaddress.ip_address(a) in ipaddress.ip_network("fd88::/64") for a in leased)

    # The published port: from outside to the host's address (DNAT, the server sees the real client).
    wait_for(lambda: fetch(lab, outside, OUTSIDE_HOST, 8080), "the published port to answer")
    assert fetch(lab, outside, OUTSIDE_HOST, 8080) == OUTSIDE_PEER
    # The same port over IPv6 (podman gives no hostIP: every address of both families), and from
    # the host itself on 127.0.0.1 (masqueraded to the gateway).
    assert fetch(lab, outside, OUTSIDE_HOST6, 8080) == OUTSIDE_PEER6
    assert fetch(lab, lab.host, "127.0.0.1", 8080) == "10.88.0.1"

    # A second container on the network reaches the first and the outside.
    check_client(pod("run", "--rm", "--network", "orchnet", IMAGE, "sh", "-c", client_script(addr)), addr)

    ok(pod("rm", "-f", "-t", "0", "web"))
    assert pod.containers() == []
    # Nothing left in the host namespace: no veth, nft element, lease or record; the port is closed.
    assert lab.leftovers() == {}
    assert fetch(lab, outside, OUTSIDE_HOST, 8080) == ""


@pytest.fixture
def ctr_net(containerd, lab):
    """ctr in the lab's host namespace, seeing the documented orchnet conflist at /etc/cni/net.d."""
    need(os.path.isdir("/etc/cni/net.d") and os.path.isdir("/opt"),
         "/etc/cni/net.d and /opt on the host, where ctr's mount namespace binds the test's directories")
    ctr = containerd.in_netns(f"/run/netns/{lab.host}")
    _, path = install_network(lab, containerd.network_dir)
    yield ctr
    os.unlink(path)


def test_ctr_run_cni_on_orch_cni(ctr_net, lab):
    ctr = ctr_net
    outside = outside_httpd(lab)
    # `ctr run --cni --rm` in the foreground: ctr runs ADD once the task exists, and DEL when it ends.
    web = subprocess.Popen(ctr.command(*ctr.run_args("--rm", "--cni"), IMAGE, "web", "sh", "-c", HTTPD),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        leased = wait_for(lambda: lease_addrs(lab, "web"), "the web container's lease", timeout=30)
        addr = next(a for a in leased if "." in a)
        assert ipaddress.ip_address(addr) in ipaddress.ip_network("10.88.0.0/16"), leased
        assert any(ipaddress.ip_address(a) in ipaddress.ip_network("fd88::/64") for a in leased), leased
        check_client(ctr(*ctr.run_args("--rm", "--cni"), IMAGE, "client", "sh", "-c", client_script(addr)), addr)
        ok(ctr("task", "kill", "-s", "SIGKILL", "web"))
        web.communicate(timeout=60)
    finally:
        if web.poll() is None:
            web.kill()
            web.wait()
    assert ctr.containers() == []
    assert lab.leftovers() == {}


def test_ctr_run_detached_leaves_the_attachment_to_gc(ctr_net, lab):
    """ctr 1.6 runs DEL only at the end of a foreground `ctr run --rm`: after `run -d --cni` and
    `task delete` the namespace (and with it the veth) is gone but the lease, record and nft
    elements stay. orch-cni's GC (CNI 1.1) finds their namespace file gone and removes them."""
    ctr = ctr_net
    ok(ctr(*ctr.run_args("-d", "--cni"), IMAGE, "bg", "sleep", "1000"))
    assert lease_addrs(lab, "bg")
    ok(ctr("task", "kill", "-s", "SIGKILL", "bg"))
    wait_for(lambda: ctr("task", "delete", "bg").returncode == 0, "the task to be deleted")
    ok(ctr("containers", "delete", "bg"))
    left = lab.leftovers()
    assert left.get("leases") and left.get("records") and "links" not in left, left
    conf = documented_conflist()
    plugin = {**conf["plugins"][0], "name": conf["name"], "cniVersion": conf["cniVersion"], "dataDir": lab.data_dir}
    r = lab.cni("GC", "", None, config=plugin)
    assert r.returncode == 0, r.stdout
    assert lab.leftovers() == {}
