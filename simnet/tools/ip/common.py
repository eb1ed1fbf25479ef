"""What every ``ip`` object shares: the errors, the argument cursor, iproute2's parsing helpers
(get_addr, get_prefix, get_integer, NEXT_ARG, matches) and the link header every listing prints."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv4Interface, IPv4Network, NetmaskValueError
from typing import Callable, Sequence, TYPE_CHECKING

from simnet.addresses import MacAddress
from simnet.errors import ConfigError, KernelError, NoSuchDevice, NoSuchNamespace, ToolError
from simnet.link import Device, LinkKind
from simnet.routing import RouteTable

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = [
    "Args", "INCOMPLETE", "IpCommand", "IpError", "Opts", "ROOT", "Unsupported", "any_addr", "brief_link",
    "devices", "garbage", "get_integer", "inet_addr", "inet_iface", "inet_prefix", "invarg", "link_details",
    "link_ether", "link_header", "ll_addr", "matches", "peer_name", "peer_nsid", "qdisc", "root_netns",
    "subcommand", "table_id",
]

ROOT = "root"
"""The name under which the world's root namespace (the script's own) is kept."""

INCOMPLETE = 'Command line is not complete. Try option "help"'


class IpError(ToolError):
    """A failed ``ip``/``bridge`` call: ``str()`` is its stderr, ``exit_code`` its status."""


class Unsupported(IpError):
    """A valid iproute2 command that simnet does not model (a script error, not a tool error)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"simnet does not model {what}", 255)


def root_netns(world: "World") -> "NetNamespace":
    """The root namespace of a script's world (created with lo down, like a fresh netns)."""
    if ROOT not in world.namespaces:
        world.add_netns(ROOT)
    return world.namespaces[ROOT]


@dataclass(frozen=True, slots=True)
class IpCommand:
    """A checked ``ip`` command line, ready to run against a world."""

    argv: tuple[str, ...]
    netns: str | None
    """``-n NS`` if given."""
    run_fn: Callable[["World", "NetNamespace"], str]
    needs_ns: bool = True
    """False for ``ip netns ...``, which must not create the root namespace."""

    def run(self, world: "World", netns: str | None = None) -> str:
        """Run in ``-n NS``, else ``netns`` (from ``ip netns exec``), else the root namespace."""
        name = self.netns or netns
        try:
            if not self.needs_ns:
                ns = None
            else:
                ns = world.netns(name) if name is not None else root_netns(world)
        except NoSuchNamespace as e:
            raise IpError(str(e), 1) from None
        try:
            return self.run_fn(world, ns)  # type: ignore[arg-type]
        except IpError:
            raise
        except NoSuchDevice as e:
            raise IpError(str(e), 1) from None
        except KernelError as e:
            raise IpError(str(e), 2) from None
        except ConfigError as e:
            raise IpError(str(e), 2) from None




def matches(word: str, full: str) -> bool:
    """iproute2's ``matches()``: a non-empty prefix of the keyword."""
    return bool(word) and full.startswith(word)


class Args:
    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(words)
        self.i = 0

    def more(self) -> bool:
        return self.i < len(self.words)

    def peek(self) -> str:
        return self.words[self.i]

    def take(self) -> str:
        w = self.words[self.i]
        self.i += 1
        return w

    def next_arg(self) -> str:
        """NEXT_ARG(): the value after a keyword, or 'Command line is not complete'."""
        self.i += 1
        if self.i >= len(self.words):
            raise IpError(INCOMPLETE, 255)
        w = self.words[self.i]
        self.i += 1
        return w


def garbage(key: str, word: str) -> IpError:
    return IpError(f'Error: either "{key}" is duplicate, or "{word}" is a garbage.', 255)


def invarg(what: str, word: str) -> IpError:
    return IpError(f'Error: argument "{word}" is wrong: {what}\n', 255)


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}(?:/(3[0-2]|[12]?[0-9]))?\Z")
"""``a.b.c.d`` or ``a.b.c.d/len`` as :mod:`ipaddress` reads it, in its plain form only (no leading zeros,
no netmask after the slash): read here at once; every other word is left to :mod:`ipaddress`."""


def _dotted(word: str) -> tuple[int, int | None] | None:
    """(address, prefix length or None) of a plain dotted quad, None for anything else."""
    m = _DOTTED.match(word)
    if m is None:
        return None
    a, b, c, d, length = m.groups()
    return (int(a) << 24 | int(b) << 16 | int(c) << 8 | int(d)), None if length is None else int(length)


def inet_prefix(word: str) -> IPv4Network:
    if word == "default" or word == "all" or word == "any":
        return IPv4Network((0, 0))
    quad = _dotted(word)
    if quad is not None:
        return IPv4Network((quad[0], 32 if quad[1] is None else quad[1]), strict=False)
    try:
        return IPv4Network(word, strict=False)
    except (AddressValueError, NetmaskValueError, ValueError):
        raise IpError(f'Error: any valid prefix is expected rather than "{word}".', 1) from None


def inet_addr(word: str, what: str = "address") -> IPv4Address:
    quad = _dotted(word)
    if quad is not None and quad[1] is None:
        return IPv4Address(quad[0])
    try:
        return IPv4Address(word)
    except (AddressValueError, ValueError):
        if ":" in word:
            raise Unsupported(f"IPv6 ({word})") from None
        raise IpError(f'Error: inet {what} is expected rather than "{word}".', 1) from None


def any_addr(word: str) -> IPv4Address:
    """get_addr(AF_UNSPEC): what ``vxlan remote``/``local`` and ``bridge fdb ... dst`` take."""
    try:
        return IPv4Address(word)
    except (AddressValueError, ValueError):
        if ":" in word:
            raise Unsupported(f"IPv6 ({word})") from None
        raise IpError(f'Error: any valid address is expected rather than "{word}".', 1) from None


def inet_iface(word: str) -> IPv4Interface:
    if ":" in word:
        raise Unsupported(f"IPv6 ({word})")
    quad = _dotted(word)
    if quad is not None:
        return IPv4Interface(quad if quad[1] is not None else (quad[0], 32))
    try:
        return IPv4Interface(word)
    except (AddressValueError, NetmaskValueError, ValueError):
        raise IpError(f'Error: any valid prefix is expected rather than "{word}".', 1) from None


def ll_addr(word: str) -> MacAddress:
    try:
        return MacAddress(word)
    except ValueError:
        raise IpError(f'"{word}" is invalid lladdr.', 1) from None


def get_integer(word: str, what: str) -> int:
    try:
        return int(word, 0)
    except ValueError:
        raise invarg(f'"{what}" value is invalid', word) from None


def table_id(word: str) -> int:
    try:
        return RouteTable.parse(word)
    except ValueError:
        raise invarg("table id value is invalid", word) from None




@dataclass(slots=True)
class Opts:
    family4: bool = False
    brief: bool = False
    details: bool = False



def subcommand(args: Args, choices: Sequence[str], obj: str, default: str = "show") -> str:
    if not args.more():
        return default
    w = args.take()
    key = (w, tuple(choices))
    found = _SUBCOMMAND_OF.get(key)
    if found is not None:
        return found
    for c in choices:
        if matches(w, c):
            _SUBCOMMAND_OF[key] = c
            return c
    raise IpError(f'Command "{w}" is unknown, try "ip {obj} help".', 255)


_SUBCOMMAND_OF: dict[tuple[str, tuple[str, ...]], str] = {}
"""(word, choices) -> the choice the word is a prefix of (memoised: a generated script says ``add``
thousands of times)."""


def peer_name(ns: "NetNamespace", dev: Device) -> str:
    name = dev.ifname
    if dev.peer is not None:
        name += "@" + (dev.peer.ifname if dev.peer.netns is ns else f"if{dev.peer.ifindex}")
    return name


def qdisc(dev: Device) -> str:
    return "noqueue" if dev.admin_up or getattr(dev, "activated", False) else "noop"


def link_header(ns: "NetNamespace", dev: Device, *, mode: bool) -> str:
    master = f" master {dev.master}" if dev.master else ""
    tail = " mode DEFAULT" if mode else ""
    return (f"{dev.ifindex}: {peer_name(ns, dev)}: <{dev.flags}> mtu {dev.mtu} qdisc {qdisc(dev)}{master} "
            f"state {dev.operstate}{tail} group default qlen 1000\n")


def peer_nsid(ns: "NetNamespace", other: str) -> int:
    """The id ``ns`` knows namespace ``other`` by: peernet2id_alloc numbers peers from 0 as links
    to them appear, which simnet reads in ifindex order (a namespace whose first veth peer sits
    in ``b`` and whose second in the root namespace calls the root 1; seen on 6.18)."""
    ids: dict[str, int] = {}
    for d in devices(ns):
        if d.peer is not None and d.peer.netns is not ns:
            ids.setdefault(d.peer.netns.name, len(ids))
    return ids.get(other, 0)


def link_ether(ns: "NetNamespace", dev: Device) -> str:
    if dev.kind is LinkKind.LOOPBACK:
        return f"    link/loopback {dev.lladdr} brd 00:00:00:00:00:00\n"
    out = f"    link/ether {dev.lladdr} brd ff:ff:ff:ff:ff:ff"
    if dev.peer is not None and dev.peer.netns is not ns:
        other = dev.peer.netns.name
        out += f" link-netnsid {peer_nsid(ns, other)}" if other == ROOT else f" link-netns {other}"
    return out + "\n"


def link_details(dev: Device) -> str:
    """``ip -d``: simnet prints the link kind (a VXLAN device's settings as iproute2 does) and
    bridge-port settings only (not the kernel's tunables)."""
    words = []
    if dev.vxlan is not None:
        words.append(dev.vxlan.config.details(dev.netns))
    elif dev.kind is not LinkKind.LOOPBACK:
        words.append(str(dev.kind))
    if dev.master is not None:
        words += ["bridge_slave", "hairpin", "on" if dev.hairpin else "off"]
    return ("    " + " ".join(words) + " \n") if words else ""


def devices(ns: "NetNamespace") -> list[Device]:
    return sorted(ns.devices.values(), key=lambda d: d.ifindex)


def brief_link(ns: "NetNamespace", dev: Device) -> str:
    return f"{peer_name(ns, dev):<16} {dev.operstate:<14} {dev.lladdr} <{dev.flags}> \n"
