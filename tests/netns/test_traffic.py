"""Traffic through what orch-cni sets up: container to container on the bridge, out through
masquerade, and in through published ports (from outside, from another container, from the
host's 127.0.0.1)."""
from lab import OUTSIDE_HOST, OUTSIDE_HOST6, OUTSIDE_PEER, OUTSIDE_PEER6

GW4, GW6 = "10.123.0.1", "fd12:3::1"


def test_two_containers_on_one_bridge_reach_each_other(lab):
    c1, c2 = lab.container(), lab.container()
    a1 = lab.add("c1", c1)["ips"][0]["address"].split("/")[0]
    a2 = lab.add("c2", c2)["ips"]
    lab.server(c2, 7000)
    # No translation between containers: the server sees c1's own address, over IPv4 and IPv6.
    assert lab.connect(c1, a2[0]["address"].split("/")[0], 7000) == a1
    assert lab.connect(c1, a2[1]["address"].split("/")[0], 7000) == "fd12:3::2"
    for cid, ns in (("c1", c1), ("c2", c2)):
        assert lab.cni("DEL", cid, ns).returncode == 0
    assert lab.leftovers() == {}


def test_a_range_set_moves_to_its_next_range_when_full(lab):
    """host-local's range sets: the first range (a /30, one address) serves one container, the next
    container gets the second range's address and gateway; the bridge routes between them."""
    ipam = {"ranges": [[{"subnet": "10.124.0.0/30"}, {"subnet": "10.125.0.0/24"}], [{"subnet": "fd12:3::/64"}]]}
    cfg = lab.config(ipam=ipam)
    c1, c2 = lab.container(), lab.container()
    r1, r2 = lab.add("c1", c1, config=cfg), lab.add("c2", c2, config=cfg)
    assert [(i["address"], i["gateway"]) for i in r1["ips"]] == [("10.124.0.2/30", "10.124.0.1"), ("fd12:3::2/64", "fd12:3::1")]
    assert [(i["address"], i["gateway"]) for i in r2["ips"]] == [("10.125.0.2/24", "10.125.0.1"), ("fd12:3::3/64", "fd12:3::1")]
    assert lab.run(c2, "ip", "route", "show", "default").stdout.startswith("default via 10.125.0.1 dev eth0")
    lab.server(c2, 7000)
    assert lab.connect(c1, "10.125.0.2", 7000) == "10.124.0.2"
    assert lab.cni("CHECK", "c2", c2, config=cfg).returncode == 0
    for cid, ns in (("c1", c1), ("c2", c2)):
        assert lab.cni("DEL", cid, ns, config=cfg).returncode == 0
    assert lab.leftovers() == {}


def test_outbound_traffic_is_masqueraded(lab):
    outside = lab.make_outside()
    lab.server(outside, 7001)
    c = lab.container()
    lab.add("c1", c)
    # "outside" has no route to 10.123.0.0/24: only masquerade lets the reply come back, and the
    # server sees the host's address.
    assert lab.connect(c, OUTSIDE_PEER, 7001) == OUTSIDE_HOST
    assert lab.cni("DEL", "c1", c).returncode == 0
    assert "error" in lab.connect(lab.host, OUTSIDE_PEER, 7002)  # nothing listens: the client does fail
    assert lab.leftovers() == {}


def test_published_ports_reach_the_container(lab):
    outside = lab.make_outside()
    c1, c2 = lab.container(), lab.container()
    ports = [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
             {"hostPort": 5353, "containerPort": 53, "protocol": "udp", "hostIP": OUTSIDE_HOST}]
    cfg = lab.config(runtimeConfig={"portMappings": ports})
    lab.add("c1", c1, config=cfg)
    lab.add("c2", c2)
    lab.server(c1, 80)
    lab.server(c1, 53, "udp")
    # From outside, to the host's address: DNAT only, the container sees the real client.
    assert lab.connect(outside, OUTSIDE_HOST, 8080) == OUTSIDE_PEER
    assert lab.connect(outside, OUTSIDE_HOST, 5353, "udp") == OUTSIDE_PEER
    # From another container on the bridge, to a host address: hairpin, masqueraded to the gateway
    # so that the reply comes back through the host.
    assert lab.connect(c2, GW4, 8080) == GW4
    assert lab.connect(c2, OUTSIDE_HOST, 8080) == GW4
    # From the host itself, on 127.0.0.1 (output chain DNAT, route_localnet on the bridge).
    assert lab.connect(lab.host, "127.0.0.1", 8080) == GW4
    # The container reaches itself through its published port (hairpin mode on its bridge port).
    assert lab.connect(c1, OUTSIDE_HOST, 8080) == GW4
    assert lab.cni("DEL", "c1", c1, config=cfg).returncode == 0
    assert "error" in lab.connect(outside, OUTSIDE_HOST, 8080)
    assert lab.cni("DEL", "c2", c2).returncode == 0
    assert lab.leftovers() == {}


def test_published_ports_on_an_ipv6_host_address(lab):
    """The ip6 table's DNAT: tcp and udp to the host's IPv6 address reach the container's IPv6
    address; one mapping bound to an IPv6 hostIP leaves the host's IPv4 addresses alone."""
    outside = lab.make_outside()
    c1, c2 = lab.container(), lab.container()
    ports = [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
             {"hostPort": 5353, "containerPort": 53, "protocol": "udp", "hostIP": OUTSIDE_HOST6}]
    cfg = lab.config(runtimeConfig={"portMappings": ports})
    lab.add("c1", c1, config=cfg)
    lab.add("c2", c2)
    lab.server(c1, 80)
    lab.server(c1, 53, "udp")
    # From outside over ip6: DNAT only, the container sees the real client.
    assert lab.connect(outside, OUTSIDE_HOST6, 8080) == OUTSIDE_PEER6
    assert lab.connect(outside, OUTSIDE_HOST6, 5353, "udp") == OUTSIDE_PEER6
    assert "error" in lab.connect(outside, OUTSIDE_HOST, 5353, "udp")  # hostIP: IPv6 address only
    # From another container to the host's IPv6 address: hairpin, masqueraded to the gateway.
    assert lab.connect(c2, OUTSIDE_HOST6, 8080) == GW6
    assert lab.connect(c2, OUTSIDE_HOST6, 5353, "udp") == GW6
    # From the host itself to its own IPv6 address (output chain DNAT; the source is that address).
    assert lab.connect(lab.host, OUTSIDE_HOST6, 8080) == OUTSIDE_HOST6
    assert lab.cni("DEL", "c1", c1, config=cfg).returncode == 0
    assert "error" in lab.connect(outside, OUTSIDE_HOST6, 8080)
    assert lab.cni("DEL", "c2", c2).returncode == 0
    assert lab.leftovers() == {}
