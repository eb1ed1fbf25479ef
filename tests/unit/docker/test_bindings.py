"""Issue 19 (1-4, 6) and 20.5: port bindings as the daemon makes them, proved with packets.

Facts from moby (read, not copied): go-connections ``ParsePortSpec`` (the CLI's -p parser),
``portallocator`` (ephemeral range, next after the last, wrapping, per address),
``bindHostPorts`` (28+ binds the host port itself), ``Endpoint.Less``/``selectGatewayEndpoint``
(the gateway endpoint), ``clearConntrackEntries`` (reply tuple has the endpoint's address).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import given, strategies as st

from simnet.docker import DockerDaemon, DockerError, PortBinding
from simnet.docker.portalloc import AllocationError, PortAllocator
from simnet.netfilter.iptables import iptables, iptables_save
from simnet.probe import tcp_connect, udp_send
from simnet.routing import Route
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script
from simnet.world import World
from tests.conftest import pair


def _host(era: str = "29", **kw) -> tuple[World, DockerDaemon]:
    world = World(seed=7)
    pair(world, "h1", "client", "10.0.0.1/24", "10.0.0.2/24")
    d = DockerDaemon(world, "h1", era=era, **kw)
    d.start()
    return world, d


def _snapshot(world: World, d: DockerDaemon) -> tuple:
    h = world["h1"]
    rules = [ln for ln in iptables_save(h.ruleset, []).splitlines() if ln.startswith(("-A", "*"))
             and ln != "*raw"]  # a table stays loaded once a rule was added, as with iptables-nft
    return (sorted(world.namespaces), sorted(h.devices), rules,
            sorted((lst.proto, lst.port) for lst in h.sockets.listeners if lst.open))


# -- 1. -p 0.0.0.0:HP:CP is every address ------------------------------------------------------------
@pytest.mark.parametrize("era", ["1.9", "27", "28", "29"])
def test_unspecified_host_address_means_every_address(era: str) -> None:
    world, d = _host(era)
    c = d.run("web", publish=["0.0.0.0:8080:80"])
    world[c.netns].sockets.listen("tcp", 80)
    nat = iptables(d.host.ruleset, ["-t", "nat", "-S", "DOCKER"])
    assert "0.0.0.0/32" not in nat and "--dport 8080 -j DNAT" in nat
    r = tcp_connect(world, "client", "10.0.0.1", 8080)
    assert r.outcome == "connected" and r.received.src == IPv4Address("10.0.0.2")
    assert tcp_connect(world, "h1", "127.0.0.1", 8080).outcome == "connected"  # docker-proxy on the wildcard
    assert d.ports_text(c) == "0.0.0.0:8080->80/tcp"
    assert d.inspect("web")["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}


# -- 2. -p PORT, -p IP::PORT, host_binding_ipv4 -------------------------------------------------------
def test_ephemeral_ports_next_after_last_and_wrap() -> None:
    world, d = _host("29")
    d.host.sysctls.set("net.ipv4.ip_local_port_range", "40000\t40002")
    d.shutdown()
    d.restart()
    a = d.run("a", publish=["80"])
    b = d.run("b", publish=["80", "127.0.0.1::81"])
    assert [x.host_port for x in a.ports] == [40000]
    assert [(str(x.host_ip), x.host_port) for x in b.ports] == [("None", 40001), ("127.0.0.1", 40002)]
    d.rm("a")
    c = d.run("c", publish=["80/udp"])  # another protocol: its own map, starts at the range's first
    assert c.ports[0].host_port == 40000
    e = d.run("e", publish=["80"])  # tcp: after 40001 comes 40002 (taken on 127.0.0.1? no: 0.0.0.0 must be free
    assert e.ports[0].host_port == 40000  # everywhere, so 40002 is skipped) and wraps to the freed 40000
    with pytest.raises(DockerError, match="all ports are allocated"):
        d.run("f", publish=["80"])
    r = run_script("ip netns add h1\nip netns exec h1 dockerd &\n"
                   "ip netns exec h1 docker run -d -p 5000 -p 127.0.0.1::6000 --name x busybox\n"
                   "ip netns exec h1 docker port x\n")
    assert r.outputs[-1]["stdout"] == "5000/tcp -> 0.0.0.0:32768\n6000/tcp -> 127.0.0.1:32769\n"


def test_publish_all_uses_the_allocator() -> None:
    world, d = _host("29")
    d.run("a", publish=["80"])
    c = d.run("r", image="registry:2", publish_all=True)
    assert [(b.container_port, b.host_port) for b in c.ports] == [(5000, 32769)]


def test_ephemeral_published_port_is_reachable() -> None:
    world, d = _host("28")
    c = d.run("web", publish=["80"])
    world[c.netns].sockets.listen("tcp", 80)
    assert tcp_connect(world, "client", "10.0.0.1", c.ports[0].host_port).outcome == "connected"


def test_host_binding_ipv4_is_the_default_host_address() -> None:
    world, d = _host("29")
    d.network_create("lo-only", options={"com.docker.network.bridge.host_binding_ipv4": "127.0.0.1"})
    c = d.run("web", network="lo-only", publish=["8080:80", "0.0.0.0:8081:81"])
    assert d.ports_text(c) == "127.0.0.1:8080->80/tcp, 0.0.0.0:8081->81/tcp"
    nat = iptables(d.host.ruleset, ["-t", "nat", "-S", "DOCKER"])
    assert "-A DOCKER -d 127.0.0.1/32 ! -i br-" in nat and "--dport 8080 -j DNAT" in nat
    world[c.netns].sockets.listen("tcp", 80)
    assert tcp_connect(world, "client", "10.0.0.1", 8080).outcome != "connected"


@given(st.lists(st.tuples(st.booleans(), st.sampled_from(["tcp", "udp"])), min_size=1, max_size=12))
def test_allocator_never_hands_out_a_taken_port(ops: list[tuple[bool, str]]) -> None:
    a = PortAllocator(100, 105)
    held: dict[str, list[int]] = {"tcp": [], "udp": []}
    for release, proto in ops:
        if release and held[proto]:
            a.release(None, proto, held[proto].pop(0))
            continue
        try:
            port = a.request(None, proto, 0)
        except AllocationError:
            assert len(held[proto]) == 6
            continue
        assert 100 <= port <= 105 and port not in held[proto]
        held[proto].append(port)


# -- 6 and 20.5: Docker's words, and nothing left behind --------------------------------------------
@pytest.mark.parametrize("era,prefix", [
    ("29", "failed to set up container networking: driver failed programming external connectivity on endpoint "
           "web2 ("),
    ("28", "failed to set up container networking: driver failed programming external connectivity on endpoint "
           "web2 ("),
    ("27", "driver failed programming external connectivity on endpoint web2 ("),
    ("1.9", "Cannot start container "),
])
def test_port_already_allocated_leaves_a_created_container_and_nothing_else(era: str, prefix: str) -> None:
    world, d = _host(era)
    d.run("web", publish=["8080:80"])
    before = _snapshot(world, d)
    with pytest.raises(DockerError) as exc:
        d.run("web2", publish=["8080:80"])
    msg = str(exc.value)
    assert msg.startswith(prefix) and msg.endswith("Bind for 0.0.0.0:8080 failed: port is already allocated")
    assert _snapshot(world, d) == before
    assert d.inspect("web2")["State"]["Status"] == "created"
    assert [r["Status"] for r in d.ps(all=True) if r["Names"] == "web2"] == ["Created"]
    d.rm("web")
    d.start_container("web2")  # the port is free again: it starts
    assert d.containers["web2"].running and "h1-web2" in world.namespaces


def test_a_host_process_on_the_port_is_a_bind_failure_from_28() -> None:
    world, d = _host("29")
    world["h1"].sockets.listen("tcp", 8080)
    before = _snapshot(world, d)
    with pytest.raises(DockerError, match=r"failed to bind host port for 0\.0\.0\.0:8080:172\.17\.0\.2:80/tcp: "
                                          r"address already in use$"):
        d.run("web", publish=["8080:80"])
    assert _snapshot(world, d) == before
    c = d.run("web2", publish=["80"])  # a picked port skips it
    assert c.ports[0].host_port == 32768


def test_bad_port_spec_changes_nothing_and_uses_the_clis_words() -> None:
    script = ("ip netns add h1\nip netns exec h1 dockerd &\n"
              "ip netns exec h1 docker run -d -p 1180:2147483648 --name x busybox\n")
    with pytest.raises(ScriptError, match=r"s\.sh:3: docker: invalid containerPort: 2147483648\.\n"):
        run_script(script, filename="s.sh")
    world, d = _host("29")
    before = _snapshot(world, d)
    for spec in ("1180:2147483648", "99999:80", "1.2.3:80:80", "80/icmp", "8000-8001:80-82"):
        with pytest.raises(DockerError):
            d.run("x", publish=[spec])
        assert _snapshot(world, d) == before and "x" not in d.containers
    with pytest.raises(ValueError, match="invalid containerPort"):
        PortBinding.parse_spec("1:" + "9" * 5000)


# -- 3. bindings follow the gateway endpoint --------------------------------------------------------
@pytest.mark.parametrize("era", ["27", "28", "29"])
def test_bindings_move_with_the_gateway_endpoint(era: str) -> None:
    world, d = _host(era)
    d.network_create("backend", internal=True)
    d.network_create("alpha")
    c = d.run("web", network="backend", publish=["8080:80"])
    assert c.ports == () and "8080" not in iptables(d.host.ruleset, ["-t", "nat", "-S"])
    d.network_connect("bridge", "web")  # bridge gives the container its gateway: ports programmed there
    srv = world[c.netns].sockets.listen("tcp", 80)
    addr = c.extra["bridge"].address
    assert f"--to-destination {addr}:80" in iptables(d.host.ruleset, ["-t", "nat", "-S", "DOCKER"])
    assert tcp_connect(world, "client", "10.0.0.1", 8080).outcome == "connected" and srv.seen[-1].dst == addr
    d.network_connect("alpha", "web")  # 'alpha' sorts before 'bridge': it becomes the gateway
    alpha = c.extra["alpha"].address
    routes = [str(r) for r in world[c.netns].fib.routes()]
    assert any(r.startswith(f"default via {d.networks['alpha'].gateway} dev eth2") for r in routes)
    nat = iptables(d.host.ruleset, ["-t", "nat", "-S", "DOCKER"])
    assert f"--to-destination {alpha}:80" in nat and f"--to-destination {addr}:80" not in nat
    assert tcp_connect(world, "client", "10.0.0.1", 8080).outcome == "connected" and srv.seen[-1].dst == alpha
    d.network_disconnect("alpha", "web")
    d.network_disconnect("bridge", "web")  # only the internal network is left: no bindings, no default route
    assert "8080" not in iptables(d.host.ruleset, ["-t", "nat", "-S"]) and c.ports == ()
    assert not any(str(r).startswith("default") for r in world[c.netns].fib.routes())


# -- 4. conntrack flows go with the endpoint ---------------------------------------------------------
@pytest.mark.parametrize("era,kept", [("1.9", True), ("27", False), ("28", False), ("29", False)])
def test_rm_deletes_the_endpoints_conntrack_flows(era: str, kept: bool) -> None:
    world, d = _host(era, userland_proxy=False)
    c = d.run("dns", publish=["5353:53/udp"])
    world[c.netns].sockets.listen("udp", 53)
    r = udp_send(world, "client", "10.0.0.1", 5353)
    assert r.received is not None and r.received.dst == c.address
    addr = c.address
    flows = [conn for conn in world["h1"].conntrack if conn.reply.src == addr]
    assert flows
    d.rm("dns")
    left = [conn for conn in world["h1"].conntrack if conn.reply.src == addr]
    assert bool(left) is kept


@pytest.mark.parametrize("era,reached", [("1.9", False), ("27", True), ("29", True)])
def test_a_udp_flow_older_than_the_binding_is_deleted(era: str, reached: bool) -> None:
    """Datagrams to the host port before the container exists leave an entry without DNAT; the
    binding's conntrack clearing (UDP host ports, 20.10+) lets the next one reach the container."""
    world, d = _host(era, userland_proxy=False)
    udp_send(world, "client", "10.0.0.1", 5353, sport=40000)
    assert any(conn.orig.dport == 5353 for conn in world["h1"].conntrack)
    c = d.run("dns", publish=["5353:53/udp"])
    srv = world[c.netns].sockets.listen("udp", 53)
    udp_send(world, "client", "10.0.0.1", 5353, sport=40000)
    assert bool(srv.seen) is reached


@pytest.mark.parametrize("era,words", [
    ("29", r'error while removing network: network n has active endpoints \(name:"a" id:"[0-9a-f]{12}"\)$'),
    ("27", r"error while removing network: network n id [0-9a-f]{64} has active endpoints$"),
])
def test_network_rm_with_endpoints_in_the_eras_words(era: str, words: str) -> None:
    world, d = _host(era)
    d.network_create("n")
    d.run("a", network="n")
    with pytest.raises(DockerError, match=words):
        d.network_rm("n")


def test_script_errors_read_as_the_cli_prints_them() -> None:
    base = ("ip netns add h1\nip netns exec h1 dockerd &\n"
            "ip netns exec h1 docker run -d -p 8080:80 --name a busybox\n")
    with pytest.raises(ScriptError, match=r"s\.sh:4: docker: Error response from daemon: failed to set up container "
                                          r"networking: driver failed programming external connectivity on endpoint "
                                          r"b \([0-9a-f]{64}\): Bind for 0\.0\.0\.0:8080 failed: port is already "
                                          r"allocated$"):
        run_script(base + "ip netns exec h1 docker run -d -p 8080:80 --name b busybox\n", filename="s.sh")
    with pytest.raises(ScriptError, match=r"s\.sh:5: Error response from daemon: container [0-9a-f]{64} is not "
                                          r"running$"):
        run_script(base + "ip netns exec h1 docker stop a\nip netns exec h1 docker exec a ping -c 1 1.1.1.1\n",
                   filename="s.sh")


@pytest.mark.parametrize("era,reached", [("28", False), ("29", True)])
def test_routed_bindings_on_a_non_gateway_endpoint_from_29(era: str, reached: bool) -> None:
    """29 programs routed-mode mappings on every endpoint; 28.5 only on the gateway endpoint."""
    world, d = _host(era)
    world["client"].route_add(Route(dst=IPv4Network("10.77.0.0/24"), via=IPv4Address("10.0.0.1"), dev="eth0"))
    d.host.sysctls.set("net.ipv4.ip_forward", 1)
    d.network_create("anat")
    d.network_create("routed", subnet="10.77.0.0/24",
                     options={"com.docker.network.bridge.gateway_mode_ipv4": "routed"})
    c = d.run("web", network="anat", publish=["8080:80"])
    world[c.netns].sockets.listen("tcp", 80)
    d.network_connect("routed", "web")  # 'anat' sorts first: it stays the gateway
    assert c.gw_net is d.networks["anat"]
    r = tcp_connect(world, "client", c.extra["routed"].address, 80)
    assert (r.outcome == "connected") is reached
    d.network_disconnect("routed", "web")
    assert "10.77.0.2" not in iptables(d.host.ruleset, ["-S", "DOCKER"])
