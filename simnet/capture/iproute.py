"""Reading iproute2's JSON (``ip -j``, ``bridge -j``; iproute2 6.1) into capture values.

Pure functions over recorded output: each takes the text a tool printed and returns frozen
values.  What iproute2 prints, as seen on Linux 6.18 (tests/data/capture/ holds real outputs):

* ``ip -d -j link``: a veth's peer in the *same* namespace is named (``"link": "up0"``), a peer
  elsewhere is an index in the namespace ``link_netnsid`` numbers (``"link_index": 2,
  "link_netnsid": 0``); a bridge port has ``master`` and ``info_slave_data`` (hairpin, learning,
  flood); a VXLAN device's ``info_data`` names its lower device (``"link": "up0"``).
* ``ip -j addr``: ``addr_info`` per device, ``secondary`` set on secondaries, ``broadcast``
  only when one was given.
* ``ip -4 -j route show table all``: ``table`` is absent for main; ``type`` absent for unicast;
  ``protocol`` absent for boot (what ``ip route add`` sets).
* ``ip -4 -j rule``: ``src`` is ``"all"`` or an address with ``srclen``; ``fwmark``/``fwmask``
  hex strings; ``table`` a name or a number.
* ``bridge -j fdb``: learned entries have ``"state": ""``; a VXLAN device's entries are ``self``
  with ``dst``.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from simnet.capture.model import Addr, Fdb, FibRule, Link, Neigh, Route, Vxlan

__all__ = ["parse_addrs", "parse_fdb", "parse_ipv6", "parse_links", "parse_neigh", "parse_nsids", "parse_routes",
           "parse_ipv6_routes", "parse_rules", "parse_vlans"]

#: Bridge settings simnet models only at these values (``ip -d link`` info_data); others are noted.
BRIDGE_DEFAULTS = {"stp_state": 0, "vlan_filtering": 0}


def _load(text: str) -> list[dict[str, Any]]:
    text = text.strip()
    if not text:
        return []
    data = json.loads(text)
    return data if isinstance(data, list) else []


def parse_links(text: str) -> tuple[Link, ...]:
    """``ip -d -j link`` → links, by ifindex."""
    out = []
    for d in _load(text):
        info = d.get("linkinfo") or {}
        kind = info.get("info_kind") or ("loopback" if d.get("link_type") == "loopback" else "")
        slave = info.get("info_slave_data") or {} if info.get("info_slave_kind") == "bridge" else {}
        data = info.get("info_data") or {}
        vx = None
        options: list[tuple[str, str]] = []
        if kind == "vxlan":
            rng = data.get("port_range") or {}
            vx = Vxlan(vni=int(data.get("id", 0)), remote=_ip(data.get("remote")), local=_ip(data.get("local")),
                       dev=data.get("link"), dstport=int(data.get("port", 8472)),
                       srcport=(int(rng.get("low", 0)), int(rng.get("high", 0))),
                       ttl=None if data.get("ttl_inherit") else int(data.get("ttl", 0)),
                       learning=bool(data.get("learning", True)), group=_ip(data.get("group")))
        elif kind == "bridge":
            options += [(k, str(data[k])) for k, v in BRIDGE_DEFAULTS.items() if k in data and data[k] != v]
        elif kind in ("macvlan", "macvtap", "ipvlan") and data.get("mode"):
            options.append(("mode", str(data["mode"])))
        elif kind == "tun" and data.get("type"):
            options.append(("type", str(data["type"])))
        same_ns_peer = d.get("link") if "link_netnsid" not in d else None
        if same_ns_peer is not None:
            options.append(("link", str(same_ns_peer)))
        out.append(Link(
            ifindex=int(d["ifindex"]), name=str(d["ifname"]), kind=kind, mac=str(d.get("address", "")),
            mtu=int(d.get("mtu", 1500)), up="UP" in (d.get("flags") or ()), master=d.get("master"),
            peer_index=int(d["link_index"]) if "link_index" in d else None,
            peer_nsid=int(d["link_netnsid"]) if "link_netnsid" in d else None,
            hairpin=bool(slave.get("hairpin", False)), learning=bool(slave.get("learning", True)),
            flood=bool(slave.get("flood", True)), vxlan=vx, options=tuple(options)))
    return tuple(sorted(out, key=lambda l: l.ifindex))


def parse_addrs(text: str) -> tuple[Addr, ...]:
    """``ip -j addr`` → the IPv4 addresses, in the kernel's order (primary before its secondaries)."""
    out = []
    for d in _load(text):
        for a in d.get("addr_info") or ():
            if a.get("family") != "inet":
                continue
            out.append(Addr(dev=str(d["ifname"]), interface=IPv4Interface(f"{a['local']}/{a['prefixlen']}"),
                            broadcast=_ip(a.get("broadcast")), scope=str(a.get("scope", "global")),
                            secondary=bool(a.get("secondary", False))))
    return tuple(out)


def parse_ipv6(text: str) -> tuple[str, ...]:
    """``ip -j addr`` → the IPv6 addresses that are not automatic (``::1``, link-local), as ``DEV ADDR/LEN``."""
    out = []
    for d in _load(text):
        for a in d.get("addr_info") or ():
            if a.get("family") == "inet6" and a.get("scope") not in ("host", "link"):
                out.append(f"{d['ifname']} {a['local']}/{a['prefixlen']}")
    return tuple(out)


def parse_ipv6_routes(text: str) -> tuple[str, ...]:
    """``ip -6 -j route show table all`` → the routes someone made (not the kernel's, not link-local or
    multicast ones), as ``DST [via GW] [dev DEV]``."""
    out = []
    for d in _load(text):
        dst = str(d.get("dst", ""))
        if d.get("protocol") == "kernel" or d.get("table") == "local" or dst.startswith(("fe80:", "ff00:", "ff02:")) \
                or d.get("type") in ("local", "multicast", "anycast"):
            continue
        out.append(" ".join([dst, *([f"via {d['gateway']}"] if "gateway" in d else []),
                             *([f"dev {d['dev']}"] if "dev" in d else [])]))
    return tuple(out)


def parse_routes(text: str) -> tuple[Route, ...]:
    """``ip -4 -j route show table all`` → routes, in the kernel's dump order."""
    out = []
    for d in _load(text):
        dst = "0.0.0.0/0" if d.get("dst") == "default" else str(d["dst"])
        why = None
        if "nexthops" in d or "nhid" in d:
            why = "multipath route (nexthop)"
        elif d.get("type", "unicast") not in ("unicast", "local", "broadcast", "blackhole", "unreachable",
                                              "prohibit", "throw"):
            why = f"route type {d['type']}"
        elif "metrics" in d or "encap" in d or "expires" in d:
            why = "route with metrics/encap/expiry"
        out.append(Route(
            dst=IPv4Network(dst), table=str(d.get("table", "main")), type=str(d.get("type", "unicast")),
            via=_ip(d.get("gateway")), dev=d.get("dev"), protocol=str(d.get("protocol", "boot")),
            scope=d.get("scope"), prefsrc=_ip(d.get("prefsrc")),
            metric=int(d["metric"]) if "metric" in d else None, onlink="onlink" in (d.get("flags") or ()),
            unmodelled=why))
    return tuple(out)


def parse_rules(text: str) -> tuple[FibRule, ...]:
    """``ip -4 -j rule`` → policy rules, by priority."""
    out = []
    known = {"priority", "src", "srclen", "dst", "dstlen", "iif", "oif", "fwmark", "fwmask", "table", "flags",
             "protocol"}
    for d in _load(text):
        extra = sorted(k for k in d if k not in known)
        action = d.get("action")
        why = None
        if action:
            why = f"rule action {action}"
        elif extra:
            why = "rule selector " + ", ".join(extra)
        elif "not" in (d.get("flags") or ()):
            why = "negated rule (not)"
        mark = d.get("fwmark")
        mask = d.get("fwmask")
        out.append(FibRule(
            priority=int(d.get("priority", 0)), table=str(d.get("table", "main")),
            src=_net(d.get("src"), d.get("srclen")), dst=_net(d.get("dst"), d.get("dstlen")),
            iif=d.get("iif"), oif=d.get("oif"),
            fwmark=int(mark, 0) if isinstance(mark, str) else mark,
            fwmask=int(mask, 0) if isinstance(mask, str) else mask, unmodelled=why))
    return tuple(sorted(out, key=lambda r: r.priority))


def parse_neigh(text: str) -> tuple[Neigh, ...]:
    """``ip -4 -j neigh`` → neighbour entries (state: the first of the kernel's NUD flags)."""
    out = []
    for d in _load(text):
        states = d.get("state") or ["NONE"]
        out.append(Neigh(dst=IPv4Address(d["dst"]), dev=str(d["dev"]), lladdr=d.get("lladdr"),
                         state=str(states[0] if isinstance(states, list) else states)))
    return tuple(out)


def parse_fdb(text: str) -> tuple[Fdb, ...]:
    """``bridge -j fdb`` → the entries a script must add: static bridge entries and VXLAN destinations.

    Left out: learned entries (``state ""``), the entries the kernel makes itself (a bridge's and a
    port's own addresses, ``permanent`` with ``master``), and multicast addresses of ``self`` entries.
    """
    out = []
    for d in _load(text):
        flags = d.get("flags") or ()
        state = d.get("state", "")
        mac = str(d["mac"])
        if "self" in flags:
            if d.get("dst") is None:
                continue  # a device's own multicast list
            out.append(Fdb(mac=mac, dev=str(d["ifname"]), dst=IPv4Address(d["dst"]), master=False,
                           state=state or "permanent"))
        elif d.get("master") and state == "static":
            out.append(Fdb(mac=mac, dev=str(d["ifname"]), master=True, state="static"))
    return tuple(out)


def parse_vlans(text: str) -> tuple[str, ...]:
    """``bridge -j vlan`` → ``PORT vid N [pvid] [untagged]`` per port VLAN (iproute2's keys: ``ifname``,
    ``vlans`` of ``vlan``/``vlanEnd`` and ``flags`` "PVID", "Egress Untagged")."""
    out = []
    for d in _load(text):
        for v in d.get("vlans") or ():
            vid = f"{v['vlan']}" + (f"-{v['vlanEnd']}" if "vlanEnd" in v else "")
            flags = v.get("flags") or ()
            out.append(" ".join([str(d["ifname"]), "vid", vid, *(["pvid"] if "PVID" in flags else []),
                                 *(["untagged"] if "Egress Untagged" in flags else [])]))
    return tuple(out)


def parse_nsids(text: str) -> tuple[tuple[int, str], ...]:
    """``ip -j netns list-id`` → (nsid, name) of the named namespaces this namespace has an id for."""
    return tuple(sorted((int(d["nsid"]), str(d["name"])) for d in _load(text) if "name" in d))


def _ip(value: object) -> IPv4Address | None:
    if not value or not isinstance(value, str) or ":" in value:
        return None
    return IPv4Address(value)


def _net(value: object, length: object) -> IPv4Network | None:
    if not value or value == "all" or not isinstance(value, str):
        return None
    return IPv4Network(f"{value}/{length if length is not None else 32}")
