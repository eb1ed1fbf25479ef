"""Issue 14: properties of Docker's names (resolv.conf transforms, who can resolve whom)."""

from __future__ import annotations

from ipaddress import IPv4Address, ip_address

from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.docker import DockerDaemon
from simnet.docker.resolver import DnsSettings, resolv_conf, resolve_name
from simnet.world import World

servers = st.lists(st.one_of(
    st.sampled_from(["127.0.0.53", "127.0.0.1", "127.0.1.1", "::1", "10.0.0.1", "192.0.2.53", "fd00::53",
                     "203.0.113.20"]),
    st.ip_addresses(v=4).map(str)), max_size=4)


def _nameservers(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines() if line.startswith("nameserver ")]


@given(servers, st.sampled_from(["27", "28", "29"]))
def test_default_bridge_never_gets_a_loopback_server_and_never_none(host: list[str], era: str) -> None:
    text, ext = resolv_conf(era, lambda p: "".join(f"nameserver {s}\n" for s in host) if p == "/etc/resolv.conf"
                            else None, DnsSettings(), internal=False, detect_systemd=False)
    got = _nameservers(text)
    assert got and ext == ()
    assert not any(ip_address(s).is_loopback for s in got)
    kept = [s for s in host if not ip_address(s).is_loopback and ip_address(s).version == 4]
    assert got == (kept or ["8.8.8.8", "8.8.4.4"])
    assert ("# Used default nameservers." in text) == (not kept)


@given(servers, st.sampled_from(["27", "28", "29"]))
def test_user_network_lists_only_127_0_0_11_and_keeps_every_host_server_upstream(host: list[str], era: str) -> None:
    text, ext = resolv_conf(era, lambda p: "".join(f"nameserver {s}\n" for s in host) if p == "/etc/resolv.conf"
                            else None, DnsSettings(), internal=True, detect_systemd=False)
    assert _nameservers(text) == ["127.0.0.11"] and "options ndots:0" in text
    if era == "27" and not host:
        assert [str(e) for e in ext] == ["8.8.8.8", "8.8.4.4"]
        return
    assert [str(e.addr) for e in ext] == [str(ip_address(s)) for s in host]
    for e in ext:   # 27: only loopback (and IPv6) from the host; 28+: all of them
        assert e.host_loopback == (era != "27" or e.addr.is_loopback or e.addr.version == 6)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["front", "back", "both"]), st.booleans()), min_size=2, max_size=5))
def test_a_name_resolves_exactly_when_the_two_containers_share_a_user_network(
        specs: list[tuple[str, bool]]) -> None:
    w = World(seed=5)
    w.add_netns("h1")
    d = DockerDaemon(w, "h1", era="29")
    d.start()
    d.network_create("front", subnet="10.10.0.0/24")
    d.network_create("back", subnet="10.20.0.0/24")
    nets: dict[str, set[str]] = {}
    for i, (where, alias) in enumerate(specs):
        name = f"c{i}"
        d.run(name, network="back" if where == "back" else "front", aliases=[f"svc{i}"] if alias else [])
        if where == "both":
            d.network_connect("back", name)
        nets[name] = {"front", "back"} if where == "both" else {where}
    for a in nets:
        for b in nets:
            got = resolve_name(d, d.containers[a], b)
            shared = nets[a] & nets[b]
            if not shared:
                assert got == []
            else:
                assert len(got) == 1 and isinstance(got[0], IPv4Address)
                assert got[0] in {d.networks[n].endpoints[b] for n in shared}
