"""IP sets (``ipset``) for ``-m set``: hash:ip, hash:net, hash:ip,port, hash:net,iface.

Kernel: net/netfilter/ipset/ip_set_hash_*.c.  ``ipset`` output follows
ipset v7.17, except that ``initval`` is 0, ``Size in memory`` is an estimate
and members are listed sorted (the kernel lists them in hash order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Any, Sequence

from simnet.errors import ToolError
from simnet.packet import Tcp, Udp

if TYPE_CHECKING:
    from simnet.skb import Skb

__all__ = ["IpSet", "IpsetError", "ipset", "SET_TYPES"]

PROG = "ipset v7.17"
SET_TYPES = {"hash:ip": 6, "hash:net": 7, "hash:ip,port": 7, "hash:net,iface": 8}
_PROTOS = {"tcp": 6, "udp": 17}
_PROTO_NAMES = {6: "tcp", 17: "udp"}


class IpsetError(ToolError):
    """A failed ipset command: ``str()`` is ipset's stderr, ``exit_code`` its status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(f"{PROG}: {message}", exit_code)


Member = tuple[Any, ...]  # (net, nomatch) / (ip, proto, port) / (net, iface, nomatch)


@dataclass(slots=True)
class IpSet:
    """One set (mutable; owned by a namespace's ``sets`` dict)."""

    name: str
    type: str
    members: set[Member] = field(default_factory=set)
    references: int = 0

    def parse_entry(self, text: str) -> Member:
        nomatch = False
        parts = text.split()
        if len(parts) == 2 and parts[1] == "nomatch" and self.type in ("hash:net", "hash:net,iface"):
            nomatch = True
            text = parts[0]
        elif len(parts) != 1:
            raise IpsetError(f"Syntax error: Unknown argument: '{parts[1]}'")
        if self.type == "hash:ip":
            return (_addr(text),)
        if self.type == "hash:net":
            return (_net(text), nomatch)
        first, comma, second = text.partition(",")
        if not comma:
            raise IpsetError(f"Syntax error: Second element is missing from {text}.")
        if self.type == "hash:ip,port":
            proto_s, colon, port_s = second.rpartition(":")
            proto = _PROTOS.get(proto_s or "tcp")
            if proto is None or not port_s.isdigit() or int(port_s) > 65535:
                raise IpsetError(f"Syntax error: cannot parse '{second}' as a port")
            return (_addr(first), proto, int(port_s))
        return (_net(first), second, nomatch)

    def entry_text(self, m: Member) -> str:
        if self.type == "hash:ip":
            return str(m[0])
        if self.type == "hash:net":
            return _net_text(m[0]) + (" nomatch" if m[1] else "")
        if self.type == "hash:ip,port":
            return f"{m[0]},{_PROTO_NAMES[m[1]]}:{m[2]}"
        return f"{_net_text(m[0])},{m[1]}" + (" nomatch" if m[2] else "")

    def _key(self, m: Member) -> Member:
        return m[:1] if self.type == "hash:net" else m[:2] if self.type == "hash:net,iface" else m

    def add(self, entry: str, exist: bool = False) -> None:
        m = self.parse_entry(entry)
        if self.type == "hash:ip" and isinstance(m[0], IPv4Network):
            new = [(IPv4Address(int(a)),) for a in m[0]]
        else:
            new = [m]
        keys = {self._key(x) for x in self.members}
        if not exist and any(self._key(x) in keys for x in new):
            raise IpsetError("Element cannot be added to the set: it's already added")
        for x in new:
            self.members = {y for y in self.members if self._key(y) != self._key(x)}
            self.members.add(x)

    def delete(self, entry: str, exist: bool = False) -> None:
        m = self.parse_entry(entry)
        before = len(self.members)
        self.members = {y for y in self.members if self._key(y) != self._key(m)}
        if len(self.members) == before and not exist:
            raise IpsetError("Element cannot be deleted from the set: it's not added")

    def test(self, entry: str) -> bool:
        m = self.parse_entry(entry)
        if self.type == "hash:ip":
            return m in self.members
        if self.type == "hash:net":
            return self._lookup_net(m[0].network_address) if m[0].prefixlen == 32 else (m[0], False) in self.members
        if self.type == "hash:ip,port":
            return m in self.members
        return self._lookup_net_iface(m[0].network_address, m[1])

    def _lookup_net(self, ip: IPv4Address) -> bool:
        best = None
        for net, nomatch in self.members:
            if ip in net and (best is None or net.prefixlen > best[0].prefixlen):
                best = (net, nomatch)
        return best is not None and not best[1]

    def _lookup_net_iface(self, ip: IPv4Address, iface: str | None) -> bool:
        best = None
        for net, dev, nomatch in self.members:
            if dev == iface and ip in net and (best is None or net.prefixlen > best[0].prefixlen):
                best = (net, nomatch)
        return best is not None and not best[1]

    def contains(self, skb: "Skb", dirs: tuple[str, ...]) -> bool:
        """``-m set --match-set NAME dirs``: the packet's fields named by ``dirs``.

        Kernel: ip_set_test(); ``nomatch`` entries win when most specific.
        """
        ip = skb.packet.ip
        if ip is None:
            return False
        first = ip.src if dirs[0] == "src" else ip.dst
        if self.type == "hash:ip":
            return (first,) in self.members
        if self.type == "hash:net":
            return self._lookup_net(first)
        if len(dirs) < 2:
            return False
        if self.type == "hash:ip,port":
            l4 = skb.packet.l4
            if not isinstance(l4, (Tcp, Udp)):
                return False
            port = l4.sport if dirs[1] == "src" else l4.dport
            return (first, ip.proto, port) in self.members
        return self._lookup_net_iface(first, skb.indev if dirs[1] == "src" else skb.outdev)

    def header(self) -> list[str]:
        return [f"Name: {self.name}", f"Type: {self.type}", f"Revision: {SET_TYPES[self.type]}",
                "Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x00000000",
                f"Size in memory: {200 + 48 * len(self.members)}", f"References: {self.references}",
                f"Number of entries: {len(self.members)}"]

    def sorted_members(self) -> list[str]:
        return sorted((self.entry_text(m) for m in self.members), key=_sort_key)


def _sort_key(text: str) -> tuple[int, str]:
    head = text.split(",")[0].split("/")[0].split()[0]
    try:
        return (int(IPv4Address(head)), text)
    except ValueError:
        return (0, text)


def _addr(text: str) -> IPv4Address | IPv4Network:
    try:
        if "/" in text or "-" in text:
            return IPv4Network(text, strict=False)
        return IPv4Address(text)
    except ValueError:
        raise IpsetError(f"Syntax error: cannot parse {text}: resolving to IPv4 address failed") from None


def _net(text: str) -> IPv4Network:
    try:
        return IPv4Network(text, strict=False)
    except ValueError:
        raise IpsetError(f"Syntax error: cannot parse {text}: resolving to IPv4 address failed") from None


def _net_text(net: IPv4Network) -> str:
    return str(net.network_address) if net.prefixlen == 32 else str(net)


def ipset(sets: dict[str, IpSet], argv: Sequence[str]) -> str:
    """Run ``ipset ARGV`` against a namespace's sets; return stdout.

    Supports create, add, del, test, flush, destroy, list [-n|-t], save, with
    ``-exist``/``-!``.  ``test`` of a missing member raises IpsetError with
    exit status 1 and ipset's "is NOT in set" text.
    """
    args = [a for a in argv]
    if args and args[0] == "ipset":
        args = args[1:]
    exist = any(a in ("-exist", "-!") for a in args)
    names_only = "-n" in args or "-name" in args
    terse = "-t" in args or "-terse" in args
    args = [a for a in args if a not in ("-exist", "-!", "-n", "-name", "-t", "-terse", "-q", "-quiet")]
    if not args:
        raise IpsetError("No command specified: unknown argument -file", 1)
    cmd, rest = args[0], args[1:]

    def get(name: str) -> IpSet:
        s = sets.get(name)
        if s is None:
            raise IpsetError("The set with the given name does not exist")
        return s

    if cmd in ("create", "n", "-N"):
        if len(rest) < 2:
            raise IpsetError("Syntax error: missing set name or type")
        name, typ = rest[0], rest[1]
        if typ not in SET_TYPES:
            raise IpsetError(f"Syntax error: typename '{typ}' is unknown")
        if name in sets:
            if exist and sets[name].type == typ:
                return ""
            raise IpsetError("Set cannot be created: set with the same name already exists")
        sets[name] = IpSet(name=name, type=typ)
        return ""
    if cmd in ("add", "del", "test", "-A", "-D", "-T"):
        if len(rest) < 2:
            raise IpsetError("Syntax error: missing set name or element")
        s = get(rest[0])
        entry = " ".join(rest[1:])
        if cmd in ("add", "-A"):
            s.add(entry, exist)
        elif cmd in ("del", "-D"):
            s.delete(entry, exist)
        else:
            if s.test(entry):
                return f"Warning: {entry} is in set {s.name}.\n"
            raise IpsetError(f"{entry} is NOT in set {s.name}.")
        return ""
    if cmd in ("flush", "-F"):
        for s in ([get(rest[0])] if rest else list(sets.values())):
            s.members = set()
        return ""
    if cmd in ("destroy", "x", "-X"):
        targets = [get(rest[0])] if rest else list(sets.values())
        for s in targets:
            if s.references:
                raise IpsetError("Set cannot be destroyed: it is in use by a kernel component")
        for s in targets:
            del sets[s.name]
        return ""
    if cmd in ("list", "-L"):
        chosen = [get(rest[0])] if rest else list(sets.values())
        if names_only:
            return "".join(s.name + "\n" for s in chosen)
        blocks = []
        for s in chosen:
            lines = s.header()
            if not terse:
                lines.append("Members:")
                lines.extend(s.sorted_members())
            blocks.append("\n".join(lines) + "\n")
        return "\n".join(blocks)
    if cmd in ("save", "-S"):
        chosen = [get(rest[0])] if rest else list(sets.values())
        out = []
        for s in chosen:
            out.append(f"create {s.name} {s.type} family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x00000000")
            out.extend(f"add {s.name} {m}" for m in s.sorted_members())
        return "".join(line + "\n" for line in out)
    raise IpsetError(f"No command specified: unknown argument {cmd}")
