"""Real containers: two orun containers join network namespaces that orch-cni set up, by path
(linux.namespaces), and talk over the bridge."""
import os


def join_netns(bundle, netns):
    nss = [n for n in bundle.config["linux"]["namespaces"] if n["type"] != "network"]
    bundle.config["linux"]["namespaces"] = nss + [{"type": "network", "path": f"/run/netns/{netns}"}]


def test_orun_containers_on_one_bridge(lab, orun, make_bundle):
    n1, n2 = lab.container(), lab.container()
    a2 = lab.add("c2", n2)["ips"][0]["address"].split("/")[0]
    lab.add("c1", n1)

    server = make_bundle("server")
    with open(os.path.join(server.rootfs, "hello.sh"), "w") as f:
        f.write("#!/bin/sh\necho hello-from-server\n")
    os.chmod(os.path.join(server.rootfs, "hello.sh"), 0o755)
    join_netns(server, n2)
    server.set_args("nc", "-ll", "-p", "7000", "-e", "/hello.sh")
    r = orun.create(server)
    assert r.returncode == 0, r.stderr
    sid = r.cid
    assert orun.start(sid).returncode == 0

    client = make_bundle("client")
    join_netns(client, n1)
    script = f"ip -o addr show dev eth0; for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 {a2} 7000 </dev/null && exit 0; sleep 0.2; done; exit 1"
    client.set_args("sh", "-c", script)
    r = orun.run(client)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "10.123.0.3/24" in r.stdout  # the address orch-cni gave c1's namespace
    assert "hello-from-server" in r.stdout

    assert orun.cmd("delete", "--force", sid).returncode == 0
    for cid, ns in (("c1", n1), ("c2", n2)):
        assert lab.cni("DEL", cid, ns).returncode == 0
    assert lab.leftovers() == {}
