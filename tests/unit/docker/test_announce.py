"""Issue 19.7: Docker 28+ announces a new endpoint's address with gratuitous ARP."""

from __future__ import annotations

import pytest

from simnet.docker import DockerDaemon, DockerError
from simnet.probe import tcp_connect
from simnet.world import World
from tests.conftest import pair


def _recreate(era: str, **net_opts: str) -> tuple[World, DockerDaemon, str]:
    """web on 'front' reached from the host (the host learns its MAC), removed, and re-created
    on the same address with another MAC; then the host connects again."""
    world = World(seed=3)
    pair(world, "h1", "client", "10.0.0.1/24", "10.0.0.2/24")
    d = DockerDaemon(world, "h1", era=era)
    d.start()
    d.network_create("front", subnet="10.10.0.0/24", options=net_opts)
    c = d.run("web", network="front", mac="02:00:00:00:00:01")
    world[c.netns].sockets.listen("tcp", 80)
    assert tcp_connect(world, "h1", "10.10.0.2", 80).outcome == "connected"
    d.rm("web")
    c = d.run("web", network="front", mac="02:00:00:00:00:02")
    world[c.netns].sockets.listen("tcp", 80)
    return world, d, tcp_connect(world, "h1", "10.10.0.2", 80, timeout=1).outcome


@pytest.mark.parametrize("era,outcome", [("27", "timeout"), ("28", "connected"), ("29", "connected")])
def test_recreated_container_is_announced_from_28(era: str, outcome: str) -> None:
    world, d, got = _recreate(era)
    assert got == outcome
    entry = world["h1"].neigh.get(d.containers["web"].address, d.networks["front"].bridge)
    assert (str(entry.lladdr) == "02:00:00:00:00:02") is (outcome == "connected")


def test_announcements_can_be_disabled_and_are_validated() -> None:
    _, _, got = _recreate("29", **{"com.docker.network.advertise_addr_nmsgs": "0"})
    assert got == "timeout"
    world = World()
    world.add_netns("h1")
    d = DockerDaemon(world, "h1", era="29")
    d.start()
    with pytest.raises(DockerError, match="^com.docker.network.advertise_addr_nmsgs must be in the range 0 to 3$"):
        d.network_create("n1", options={"com.docker.network.advertise_addr_nmsgs": "4"})
    with pytest.raises(DockerError, match='^value for option com.docker.network.advertise_addr_ms "x" must be '
                                          'integer milliseconds$'):
        d.network_create("n2", options={"com.docker.network.advertise_addr_ms": "x"})
    assert set(d.networks) == {"bridge"}


def test_three_announcements_one_interval_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    import simnet.datapath as dp

    sent: list[tuple[float, str, str]] = []
    real = dp.dev_xmit

    def spy(ns, dev, packet, tid, **kw):  # type: ignore[no-untyped-def]
        if packet.arp is not None and packet.arp.spa == packet.arp.tpa and ns.name == "h1-web":
            sent.append((round(ns.world.now - t0, 3), dev.ifname, str(packet.eth.dst)))
        return real(ns, dev, packet, tid, **kw)

    monkeypatch.setattr(dp, "dev_xmit", spy)
    world = World(seed=3)
    world.add_netns("h1")
    d = DockerDaemon(world, "h1", era="29")
    d.start()
    d.network_create("front", options={"com.docker.network.advertise_addr_ms": "200"})
    t0 = world.now
    d.run("web", network="front")
    world.run(until=t0 + 5)
    assert sent == [(0.0, "eth0", "ff:ff:ff:ff:ff:ff"), (0.2, "eth0", "ff:ff:ff:ff:ff:ff"),
                    (0.4, "eth0", "ff:ff:ff:ff:ff:ff")]
