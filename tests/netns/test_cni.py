"""orch-cni driven through the CNI environment contract: results, errors with codes and fields,
idempotent DEL, nothing left behind, and crashes half-way through ADD."""
import json
import os
import signal

import pytest


def test_add_check_del_leave_nothing(lab):
    c = lab.container()
    res = lab.add("c1", c)
    assert res["cniVersion"] == "1.0.0"
    assert [i["address"] for i in res["ips"]] == ["10.123.0.2/24", "fd12:3::2/64"]
    assert [i["gateway"] for i in res["ips"]] == ["10.123.0.1", "fd12:3::1"]
    assert res["interfaces"][2] == {"name": "eth0", "mac": res["interfaces"][2]["mac"], "sandbox": f"/run/netns/{c}"}
    inside = lab.run(c, "ip", "-o", "addr", "show", "dev", "eth0").stdout
    assert "10.123.0.2/24" in inside and "fd12:3::2/64" in inside
    assert lab.run(c, "ip", "route", "show", "default").stdout.startswith("default via 10.123.0.1 dev eth0")
    assert lab.cni("CHECK", "c1", c).returncode == 0
    assert lab.leftovers()  # the veth, the masquerade elements, the lease and the record

    # Removing the address behind the plugin's back makes CHECK fail.
    lab.run(c, "ip", "addr", "del", "10.123.0.2/24", "dev", "eth0")
    r = lab.cni("CHECK", "c1", c)
    assert r.returncode != 0 and "10.123.0.2/24" in r.json["msg"]

    assert lab.cni("DEL", "c1", c).returncode == 0
    assert lab.leftovers(c) == {}
    r = lab.cni("DEL", "c1", c)
    assert (r.returncode, r.stdout) == (0, "")
    r = lab.cni("CHECK", "c1", c)
    assert r.returncode == 1 and r.json["code"] == 3


def test_version_and_old_result_format(lab):
    r = lab.cni("VERSION", "", None, stdin='{"cniVersion": "1.0.0"}')
    assert r.returncode == 0 and "1.0.0" in r.json["supportedVersions"] and "0.4.0" in r.json["supportedVersions"]
    c = lab.container()
    res = lab.add("old", c, config=lab.config(cniVersion="0.4.0"))
    assert res["cniVersion"] == "0.4.0" and [i["version"] for i in res["ips"]] == ["4", "6"]
    assert lab.cni("DEL", "old", c, config=lab.config(cniVersion="0.4.0")).returncode == 0


def test_dns_is_handed_back_in_the_result(lab):
    """As the reference bridge plugin does: the runtime writes resolv.conf from the result."""
    dns = {"nameservers": ["10.123.0.53", "fd12:3::53"], "domain": "orch.example",
           "search": ["orch.example", "example"], "options": ["ndots:2"]}
    c = lab.container()
    assert lab.add("c1", c, config=lab.config(dns=dns))["dns"] == dns
    assert lab.cni("DEL", "c1", c, config=lab.config(dns=dns)).returncode == 0
    assert lab.add("c2", c)["dns"] == {}
    assert lab.cni("DEL", "c2", c).returncode == 0


def test_del_without_netns_and_for_unknown_containers(lab):
    c = lab.container()
    lab.add("gone", c)
    # The runtime may call DEL after the namespace is gone: the host end and the lease still go.
    assert lab.cni("DEL", "gone", None).returncode == 0
    assert lab.leftovers() == {}
    assert lab.cni("DEL", "never-added", None).returncode == 0


@pytest.mark.parametrize("env, code, field", [
    ({"CNI_COMMAND": None}, 4, "CNI_COMMAND"),
    ({"CNI_COMMAND": "SHRED"}, 4, "CNI_COMMAND"),
    ({"CNI_CONTAINERID": None}, 4, "CNI_CONTAINERID"),
    ({"CNI_CONTAINERID": "../../etc"}, 4, "CNI_CONTAINERID"),
    ({"CNI_IFNAME": "a-name-far-too-long"}, 4, "CNI_IFNAME"),
    ({"CNI_IFNAME": "../x"}, 4, "CNI_IFNAME"),
    ({"CNI_NETNS": None}, 4, "CNI_NETNS"),
    ({"CNI_NETNS": "relative/path"}, 4, "CNI_NETNS"),
    ({"CNI_NETNS": "/proc/self/ns/pid"}, 4, "CNI_NETNS"),
    ({"CNI_NETNS": "/etc/hostname"}, 4, "CNI_NETNS"),
])
def test_bad_environment_names_the_variable_and_creates_nothing(lab, env, code, field):
    c = lab.container()
    r = lab.cni("ADD", "c1", c, env=env)
    assert r.returncode == 1, r.stdout
    assert r.json["code"] == code and r.json["msg"].startswith(field), r.json
    assert lab.leftovers(c) == {}


def test_a_fifo_as_netns_is_refused_without_hanging(lab, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = lab.cni("ADD", "c1", None, env={"CNI_NETNS": str(fifo)})
    assert r.returncode == 1 and r.json["code"] == 4 and "not a network namespace" in r.json["msg"], r.json
    assert lab.leftovers() == {}


BAD_CONFIGS = [
    ("not json", None, 6, "stdin"),
    ("[1]", None, 6, "stdin"),
    (None, {"cniVersion": "9.9.9"}, 1, "cniVersion"),
    (None, {"cniVersion": 1}, 7, "cniVersion"),
    (None, {"name": "a/b"}, 7, "name"),
    (None, {"name": ""}, 7, "name"),
    (None, {"bridge": "br/0"}, 7, "bridge"),
    (None, {"bridge": "x" * 16}, 7, "bridge"),
    (None, {"mtu": 10}, 7, "mtu"),
    (None, {"mtu": 1500.5}, 7, "mtu"),
    (None, {"ipMasq": "yes"}, 7, "ipMasq"),
    (None, {"dataDir": "../rel"}, 7, "dataDir"),
    (None, {"dataDir": "/a/../b"}, 7, "dataDir"),
    (None, {"bridgeTypo": 1}, 2, "bridgeTypo"),
    (None, {"ipam": {"type": "host-local", "ranges": [{"subnet": "10.1.0.0/24"}]}}, 2, "ipam.type"),
    (None, {"ipam": {}}, 7, "ipam.ranges"),
    (None, {"ipam": {"ranges": [{"subnet": "10.1.0.0"}]}}, 7, "ipam.ranges[0].subnet"),
    (None, {"ipam": {"ranges": [{"subnet": "10.1.0.5/24"}]}}, 7, "ipam.ranges[0].subnet"),
    (None, {"ipam": {"ranges": [{"subnet": "10.1.0.0/24", "gateway": "10.2.0.1"}]}}, 7, "ipam.ranges[0].gateway"),
    (None, {"ipam": {"ranges": [{"subnet": "10.1.0.0/24", "rangeStart": "fd00::1"}]}}, 7, "ipam.ranges[0].rangeStart"),
    (None, {"ipam": {"ranges": [{"subnet": "10.1.0.0/24"}, {"subnet": "10.2.0.0/24"}]}}, 7, "ipam.ranges[1].subnet"),
    (None, {"ipam": {"ranges": [[]]}}, 7, "ipam.ranges[0]"),
    (None, {"ipam": {"ranges": [[{"subnet": "10.1.0.0/24"}, {"subnet": "fd00::/64"}]]}}, 7, "ipam.ranges[0][1].subnet"),
    (None, {"ipam": {"ranges": [[{"subnet": "10.1.0.0/16"}, {"subnet": "10.1.1.0/24"}]]}}, 7, "ipam.ranges[0][1].subnet"),
    (None, {"ipam": {"ranges": [[{"subnet": "10.1.0.0/24"}, {"subnet": "10.1.0.0/24"}]]}}, 7, "ipam.ranges[0][1]"),
    (None, {"ipam": {"ranges": [{"subnet": "10.1.0.0/24"}], "reserved": ["x"]}}, 7, "ipam.reserved[0]"),
    (None, {"runtimeConfig": {"portMappings": [{"hostPort": 0, "containerPort": 80}]}}, 7,
     "runtimeConfig.portMappings[0].hostPort"),
    (None, {"runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 70000}]}}, 7,
     "runtimeConfig.portMappings[0].containerPort"),
    (None, {"runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 80, "protocol": "sctp"}]}}, 7,
     "runtimeConfig.portMappings[0].protocol"),
    (None, {"runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 80, "hostIP": "1.2.3"}]}}, 7,
     "runtimeConfig.portMappings[0].hostIP"),
    (None, {"runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 80}, {"hostPort": 80, "containerPort": 81}]}},
     7, "runtimeConfig.portMappings[1]"),
    (None, {"dns": ["10.0.0.53"]}, 7, "dns"),
    (None, {"dns": {"nameserver": ["10.0.0.53"]}}, 2, "dns.nameserver"),
    (None, {"dns": {"nameservers": "10.0.0.53"}}, 7, "dns.nameservers"),
    (None, {"dns": {"nameservers": ["10.0.0.53", "ns.example"]}}, 7, "dns.nameservers[1]"),
    (None, {"dns": {"domain": "a\nnameserver 6.6.6.6"}}, 7, "dns.domain"),
    (None, {"dns": {"search": ["ok.example", "two words"]}}, 7, "dns.search[1]"),
    (None, {"dns": {"options": [5]}}, 7, "dns.options[0]"),
    (None, {"runtimeConfig": {"mac": "zz:00:00:00:00:00"}}, 7, "runtimeConfig.mac"),
    (None, {"runtimeConfig": {"mac": "01:00:00:00:00:00"}}, 7, "runtimeConfig.mac"),
]


@pytest.mark.parametrize("text, over, code, field", BAD_CONFIGS)
def test_malformed_config_names_the_field_and_creates_nothing(lab, text, over, code, field):
    c = lab.container()
    r = lab.cni("ADD", "c1", c, stdin=text if text is not None else json.dumps(lab.config(**over)))
    assert r.returncode == 1, r.stdout
    assert r.json["code"] == code and r.json["msg"].startswith(field + ":"), r.json
    assert "\n" not in r.json["msg"]
    assert lab.leftovers(c) == {}
    assert not os.path.exists(os.path.join(lab.data_dir, "networks"))
    assert "orchbr0" not in lab.run(lab.host, "ip", "-o", "link").stdout


def test_second_add_and_taken_port_are_refused_and_leave_the_first_alone(lab):
    c1, c2 = lab.container(), lab.container()
    ports = {"runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}]}}
    lab.add("c1", c1, config=lab.config(**ports))
    before = lab.leftovers()
    r = lab.cni("ADD", "c1", c1, config=lab.config(**ports))
    assert r.returncode == 1 and r.json["code"] == 100
    r = lab.cni("ADD", "c2", c2, config=lab.config(**ports))
    assert r.returncode == 1 and r.json["code"] == 100 and "8080" in r.json["msg"], r.json
    assert lab.leftovers(c2) == before
    assert lab.cni("CHECK", "c1", c1, config=lab.config(**ports)).returncode == 0


@pytest.mark.parametrize("step", ["intent", "ipam", "attach", "nat"])
def test_crash_half_way_through_add_is_cleaned_by_del(lab, step):
    c = lab.container()
    cfg = lab.config(runtimeConfig={"portMappings": [{"hostPort": 8080, "containerPort": 80}]})
    r = lab.cni("ADD", "c1", c, config=cfg, env={"ORCH_NETNS_CRASH_AT": step})
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stdout, r.stderr)
    assert lab.records() == ["c1:eth0.json"]  # the intent was recorded before anything acted
    assert lab.cni("DEL", "c1", c, config=cfg).returncode == 0
    assert lab.leftovers(c) == {}
    # And the container can be added again afterwards.
    lab.add("c1", c, config=cfg)
    assert lab.cni("DEL", "c1", c, config=cfg).returncode == 0
    assert lab.leftovers(c) == {}


def test_gc_collects_attachments_whose_namespace_is_gone(lab):
    c1, c2 = lab.container(), lab.container()
    lab.add("c1", c1)
    lab.add("c2", c2)
    os.system(f"ip netns del {c1}")
    lab.namespaces.remove(c1)
    r = lab.cni("GC", "", None)
    assert r.returncode == 0, r.stdout
    assert sorted(le["id"] for le in lab.leases()) == ["c2", "c2"]  # its IPv4 and IPv6 leases
    assert lab.records() == ["c2:eth0.json"]
