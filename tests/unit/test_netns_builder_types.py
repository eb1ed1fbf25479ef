"""The Python builder API takes strings where an address, network or interface is expected (issue #12.8),
and refuses other types at once with a TypeError naming the expected type."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

import pytest

import simnet
from simnet.errors import ConfigError


def _pair(as_str: bool) -> simnet.World:
    w = simnet.World()
    a, b = w.add_netns("a"), w.add_netns("b")
    a.link_add("eth0", "veth", peer="eth0", peer_netns="b" if as_str else b,
               address="02:00:00:00:00:01" if as_str else simnet.link.MacAddress("02:00:00:00:00:01"))
    for ns, ip in ((a, "10.0.0.1/24"), (b, "10.0.0.2/24")):
        ns.addr_add("eth0", ip if as_str else IPv4Interface(ip))
        ns.set_up("eth0")
        ns.set_up("lo")
    b.addr_add("lo", "192.0.2.1/32" if as_str else IPv4Interface("192.0.2.1/32"))
    if as_str:
        a.route_add("192.0.2.0/24", via="10.0.0.2")
    else:
        a.route_add(simnet.routing.Route(dst=IPv4Network("192.0.2.0/24"), via=IPv4Address("10.0.0.2")))
    return w


def test_strings_build_the_same_world_as_typed_values() -> None:
    by_str, typed = _pair(True), _pair(False)
    for w in (by_str, typed):
        assert simnet.ping(w, "a", IPv4Address("192.0.2.1")).outcome == "reply"
    assert [str(r) for r in by_str["a"].fib.routes(254)] == [str(r) for r in typed["a"].fib.routes(254)]
    assert [a.interface for a in by_str["b"].addrs] == [a.interface for a in typed["b"].addrs]
    assert str(by_str["a"].dev("eth0").lladdr) == "02:00:00:00:00:01"
    a = by_str["a"]
    assert a.lookup("192.0.2.7").via == IPv4Address("10.0.0.2") and a.is_local("10.0.0.1")
    a.route_add("default", dev="eth0")
    assert str(a.lookup("198.51.100.1")) == "default dev eth0 scope link"
    a.route_del("default")
    a.addr_del("eth0", "10.0.0.1/24")
    assert not a.is_local("10.0.0.1")


@pytest.mark.parametrize("call, words", [
    (lambda ns: ns.addr_add("eth0", 167772161), "addr_add: expected an IPv4 address with its prefix "
                                                "(IPv4Interface or a str like '10.0.0.1/24'), got int 167772161"),
    (lambda ns: ns.addr_add(0, "10.0.0.1/24"), "addr_add: expected an interface name (a str like 'eth0'), got int 0"),
    (lambda ns: ns.route_add(("10.0.1.0/24",)), "route_add: expected an IPv4 network (IPv4Network or a str like "
                                                "'10.0.1.0/24'), got tuple"),
    (lambda ns: ns.route_add("10.0.1.0/24", via=b"\n\0\0\1"), "route_add: expected an IPv4 address"),
    (lambda ns: ns.set_mtu("eth0", "1400"), "set_mtu: expected an int MTU, got str '1400'"),
    (lambda ns: ns.link_add("d0", 3), "link_add: expected a link kind (LinkKind or a str like 'veth'), got int 3"),
    (lambda ns: ns.set_address("eth0", 42), "set_address: expected a MAC address"),
])
def test_other_types_are_refused_at_once(call, words: str) -> None:  # type: ignore[no-untyped-def]
    w = _pair(True)
    with pytest.raises(TypeError) as err:
        call(w["a"])
    assert str(err.value).startswith(words)


def test_bad_strings_are_config_errors_naming_the_value() -> None:
    ns = _pair(True)["a"]
    with pytest.raises(ConfigError, match=r"addr_add: '10.0.0.300/24' is not an IPv4 address with its prefix"):
        ns.addr_add("eth0", "10.0.0.300/24")
    with pytest.raises(ConfigError, match=r"link_add: unknown link kind 'vlan'; expected one of veth, bridge"):
        ns.link_add("v0", "vlan")
    assert [a.interface for a in ns.addrs if a.dev == "eth0"] == [IPv4Interface("10.0.0.1/24")]
