"""Random ``ip addr add/del`` sequences keep the kernel routes consistent with ``ip addr``."""

from __future__ import annotations

from ipaddress import IPv4Interface

from hypothesis import given
from hypothesis import strategies as st

from simnet.tools.ip import IpError, ip
from simnet.world import World

ADDRS = st.sampled_from(["10.0.0.1/24", "10.0.0.2/24", "10.0.0.3/25", "10.1.0.1/16", "192.168.1.1/30",
                         "192.168.1.2/32", "172.16.0.1/12"])
OPS = st.lists(st.tuples(st.sampled_from(["add", "del"]), ADDRS, st.sampled_from(["d0", "d1"])), max_size=12)


@given(OPS, st.booleans())
def test_local_and_connected_routes_follow_ip_addr(ops: list[tuple[str, str, str]], up: bool) -> None:
    """Every address has its `local` route; every primary (device up, prefix < 32) its connected route;
    and no kernel route names an address that `ip addr` no longer shows."""
    w = World()
    ip(w, ["netns", "add", "n"])
    for d in ("d0", "d1"):
        ip(w, ["-n", "n", "link", "add", d, "type", "bridge"])
        if up:
            ip(w, ["-n", "n", "link", "set", d, "up"])
    for op, addr, dev in ops:
        try:
            ip(w, ["-n", "n", "addr", op, addr, "dev", dev])
        except IpError:
            pass
    shown = [line.split()[1:] for line in ip(w, ["-n", "n", "-4", "addr"]).splitlines()
             if line.strip().startswith("inet ")]
    addrs = {(IPv4Interface(words[0]), words[-1], "secondary" in words) for words in shown}
    routes = ip(w, ["-n", "n", "route", "show", "table", "all"]).splitlines()
    for iface, dev, secondary in addrs:
        assert any(r.startswith(f"local {iface.ip} dev {dev} table local") for r in routes)
        if up and not secondary and iface.network.prefixlen < 32:
            assert f"{iface.network} dev {dev} proto kernel scope link src {iface.ip} " in [r + " " for r in routes] \
                or any(r.startswith(f"{iface.network} dev {dev} proto kernel scope link") for r in routes)
    local_ips = {str(i.ip) for i, _, _ in addrs}
    for r in routes:
        words = r.split()
        if "proto" in words and words[words.index("proto") + 1] == "kernel" and "src" in words:
            assert words[words.index("src") + 1] in local_ips | {"127.0.0.1"}
