"""The daemon's effects, proved with real packets through the simulated kernel."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from simnet.docker import DockerDaemon, DockerError, export_script
from simnet.probe import tcp_connect
from simnet.world import World
from tests.conftest import pair


def _host(era: str = "29", **kw) -> tuple[World, DockerDaemon]:
    """host h1 (10.0.0.1) with a client namespace outside it (10.0.0.2), and a started daemon."""
    world = World(seed=7)
    pair(world, "h1", "client", "10.0.0.1/24", "10.0.0.2/24")
    d = DockerDaemon(world, "h1", era=era, **kw)
    d.start()
    return world, d


@pytest.mark.parametrize("era", ["1.9", "27", "28", "29"])
def test_published_port_from_outside_sees_client_address(era: str) -> None:
    world, d = _host(era)
    c = d.run("registry", publish=["1180:5000"])
    srv = world[c.netns].sockets.listen("tcp", 5000)
    r = tcp_connect(world, "client", "10.0.0.1", 1180)
    assert r.outcome == "connected"
    assert srv.seen and srv.seen[-1].src == IPv4Address("10.0.0.2")
    assert srv.seen[-1].dst == c.address


@pytest.mark.parametrize("era", ["1.9", "27", "28", "29"])
def test_container_reaches_outside_through_masquerade(era: str) -> None:
    world, d = _host(era)
    c = d.run("app")
    srv = world["client"].sockets.listen("tcp", 80)
    r = tcp_connect(world, c.netns, "10.0.0.2", 80)
    assert r.outcome == "connected"
    assert srv.seen[-1].src == IPv4Address("10.0.0.1")


def test_docker_proxy_from_host_loopback_sees_gateway() -> None:
    world, d = _host("29")
    c = d.run("registry", publish=["1180:5000"])
    srv = world[c.netns].sockets.listen("tcp", 5000)
    r = tcp_connect(world, "h1", "127.0.0.1", 1180)
    assert r.outcome == "connected"
    assert srv.seen and srv.seen[-1].src == IPv4Address("172.17.0.1")


@pytest.mark.parametrize("era", ["1.9", "27", "28", "29"])
def test_icc_false_drops_container_to_container(era: str) -> None:
    world, d = _host(era, icc=False)
    assert d.host.sysctls.get("net.bridge.bridge-nf-call-iptables") == "1"
    c1, c2 = d.run("c1"), d.run("c2")
    world[c2.netns].sockets.listen("tcp", 80)
    assert tcp_connect(world, c1.netns, c2.address, 80).outcome != "connected"
    world2, d2 = _host(era)
    a, b = d2.run("c1"), d2.run("c2")
    world2[b.netns].sockets.listen("tcp", 80)
    assert tcp_connect(world2, a.netns, b.address, 80).outcome == "connected"


@pytest.mark.parametrize("era", ["1.9", "27", "28", "29"])
def test_user_networks_are_isolated(era: str) -> None:
    world, d = _host(era)
    n1, n2 = d.network_create("net1"), d.network_create("net2")
    assert (str(n1.subnet), str(n2.subnet)) == ("172.18.0.0/16", "172.19.0.0/16")
    c1, c2 = d.run("c1", network="net1"), d.run("c2", network="net2")
    world[c2.netns].sockets.listen("tcp", 80)
    assert tcp_connect(world, c1.netns, c2.address, 80).outcome != "connected"
    c3 = d.run("c3", network="net2")
    assert tcp_connect(world, c3.netns, c2.address, 80).outcome == "connected"


@pytest.mark.parametrize("era", ["27", "28", "29"])
def test_internal_network_has_no_default_route(era: str) -> None:
    world, d = _host(era)
    d.network_create("backend", internal=True)
    c = d.run("db", network="backend")
    routes = [str(r) for r in world[c.netns].fib.routes()]
    assert not any(r.startswith("default") for r in routes)
    world["client"].sockets.listen("tcp", 80)
    assert tcp_connect(world, c.netns, "10.0.0.2", 80).outcome != "connected"


def test_container_shape_and_modes() -> None:
    world, d = _host("27")
    c = d.run("web")
    ns = world[c.netns]
    assert str(c.mac) == "02:42:ac:11:00:02" and c.veth is not None and len(c.veth) == 11
    assert ns.dev("eth0").lladdr == c.mac and ns.dev("lo").admin_up
    assert d.host.dev(c.veth).master == "docker0"
    assert any(str(r).startswith("default via 172.17.0.1 dev eth0") for r in ns.fib.routes())
    assert d.run("none1", network="none").netns in world.namespaces
    assert set(world[d.containers["none1"].netns].devices) == {"lo"}
    h = d.run("h", network="host", publish=["80:80"])
    assert h.netns == "h1" and d.warnings
    j = d.run("side", network="container:web")
    assert j.netns == c.netns
    with pytest.raises(DockerError, match="conflicting options"):
        d.run("bad", network="container:web", publish=["81:81"])
    # era 29: random MAC, deterministic per world seed
    _, d29 = _host("29")
    assert not str(d29.run("x").mac).startswith("02:42:ac")


def test_rm_removes_what_the_container_added() -> None:
    world, d = _host("29")
    before = d.host.ruleset
    from simnet.netfilter.syntax import format_save

    base = format_save(before, tables=["filter", "nat"])
    c = d.run("web", publish=["8080:80"])
    assert format_save(d.host.ruleset, tables=["filter", "nat"]) != base
    d.rm("web")
    assert format_save(d.host.ruleset, tables=["filter", "nat"]) == base
    assert "-A " not in format_save(d.host.ruleset, tables=["raw"])  # the table stays loaded, empty
    assert c.netns not in world.namespaces and c.veth not in d.host.devices


def test_user_rules_before_daemon_keep_their_place() -> None:
    from simnet.netfilter.iptables import iptables

    world = World()
    world.add_netns("h1")
    iptables(world["h1"].ruleset, ["-A", "FORWARD", "-s", "10.9.9.9", "-j", "DROP"])
    d = DockerDaemon(world, "h1", era="27")
    d.start()
    fwd = iptables(world["h1"].ruleset, ["-S", "FORWARD"]).splitlines()
    assert fwd[1:3] == ["-A FORWARD -j DOCKER-USER", "-A FORWARD -j DOCKER-ISOLATION-STAGE-1"]
    assert fwd[-1] == "-A FORWARD -s 10.9.9.9/32 -j DROP"
    assert fwd[0] == "-P FORWARD DROP"  # Docker turned ip_forward on itself


def test_subnet_pool_skips_host_routes_and_export() -> None:
    world = World()
    pair(world, "h1", "lan", "172.17.5.1/16", "172.17.5.2/16")
    d = DockerDaemon(world, "h1", era="29")
    d.start()
    assert str(d.networks["bridge"].subnet) == "172.18.0.0/16"
    d.run("web", publish=["8080:80"])
    script = export_script(d)
    assert "ip -n h1 link add docker0 type bridge" in script
    assert "iptables-restore <<'EOF'" in script and "-j DNAT --to-destination 172.18.0.2:80" in script
    info = d.inspect("web")
    assert info["NetworkSettings"]["Networks"]["bridge"]["IPAddress"] == "172.18.0.2"
    assert d.network_inspect("bridge")["Containers"]
