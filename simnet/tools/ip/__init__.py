"""The ``ip`` command (iproute2 6.x) over a simulated world, one module per object as iproute2 has them.

:func:`compile_ip` reads the global options and dispatches on the object from one table, as
iproute2's ``ip.c`` does (``cmds[]``: a word matches an object when it is a prefix of its
name), to the object's compiler (:mod:`.link`, :mod:`.addr`, :mod:`.route`, :mod:`.neigh`,
:mod:`.rule`, :mod:`.netns`; ``type vxlan`` in :mod:`.vxlan`).  Each checks its words the way
iproute2's argument parser does and returns a function that later changes the namespace and
returns what ``ip`` prints on stdout.  A command line ``ip`` itself refuses fails at compile
time, so a script can be checked before anything runs; what the kernel refuses (``Cannot
find device``, ``RTNETLINK answers: File exists``) fails at run time.  Both raise
:class:`IpError` with the tool's stderr text and exit status.

simnet models IPv4 only: ``ip addr`` prints no ``inet6`` lines (as on a host with
``net.ipv6.conf.all.disable_ipv6=1``, which the conformance runner sets).  Commands outside
namespaces act on the world's root namespace, named :data:`ROOT`, created on first use.

Example:
    >>> from simnet.world import World
    >>> w = World()
    >>> _ = ip(w, ["netns", "add", "a"])
    >>> _ = ip(w, ["-n", "a", "addr", "add", "10.0.0.1/24", "dev", "lo"])
    >>> print(ip(w, ["-n", "a", "-4", "addr", "show", "lo"]), end="")
    1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000
        inet 10.0.0.1/24 scope global lo
           valid_lft forever preferred_lft forever
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from simnet.tools.ip.addr import compile_addr
from simnet.tools.ip.common import INCOMPLETE, ROOT, Args, IpCommand, IpError, Opts, Unsupported, matches, root_netns
from simnet.tools.ip.link import compile_link
from simnet.tools.ip.neigh import compile_neigh
from simnet.tools.ip.netns import compile_netns
from simnet.tools.ip.route import compile_route
from simnet.tools.ip.rule import compile_rule

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.world import World

__all__ = ["OBJECTS", "ROOT", "IpCommand", "IpError", "Unsupported", "compile_ip", "ip", "root_netns"]

_Compiler = Callable[[Args, Opts], Callable[["World", "NetNamespace"], str]]

OBJECTS: tuple[tuple[str, _Compiler | None], ...] = (
    ("address", compile_addr), ("addrlabel", None), ("maddress", None), ("route", compile_route),
    ("rule", compile_rule), ("neighbor", compile_neigh), ("neighbour", compile_neigh), ("ntable", None),
    ("ntbl", None), ("link", compile_link), ("l2tp", None), ("fou", None), ("ila", None), ("macsec", None),
    ("tunnel", None), ("tunl", None), ("tuntap", None), ("tap", None), ("token", None), ("tcpmetrics", None),
    ("tcp_metrics", None), ("monitor", None), ("xfrm", None), ("mroute", None), ("mrule", None),
    ("netns", lambda args, opts: compile_netns(args)), ("netconf", None), ("vrf", None), ("sr", None),
    ("nexthop", None), ("mptcp", None), ("ioam", None), ("help", None), ("stats", None))
"""ip.c's ``cmds[]`` in its order (the first object a word is a prefix of wins: ``ip r`` is route);
None where simnet models no such object."""


_OBJECT_OF: dict[str, tuple[str, _Compiler | None] | None] = {}
"""The object a word names (memoised: a generated script says ``link`` thousands of times)."""


def compile_ip(argv: Sequence[str]) -> IpCommand:
    """Check ``ip ARGV`` (with or without the leading ``ip``) and return the runnable command."""
    words = list(argv)
    if words and words[0] == "ip":
        words = words[1:]
    opts = Opts()
    netns: str | None = None
    while words and words[0].startswith("-") and len(words[0]) > 1:
        opt = words.pop(0)
        o = opt[2:] if opt.startswith("--") else opt[1:]
        if o in ("4",):
            opts.family4 = True
        elif o in ("6",) or o == "family" and words and words[0] == "inet6":
            raise Unsupported("IPv6 (ip -6)")
        elif o == "family":
            if not words:
                raise IpError(INCOMPLETE, 255)
            fam = words.pop(0)
            if fam != "inet":
                raise Unsupported(f"address family {fam}")
            opts.family4 = True
        elif o in ("n", "netns") or (len(o) > 1 and "netns".startswith(o)):
            if not words:
                raise IpError(INCOMPLETE, 255)
            netns = words.pop(0)
            if not netns:
                # netns_switch opens /run/netns/ itself, a directory setns refuses (iproute2 6.1 on 6.18)
                raise IpError('setting the network namespace "" failed: Invalid argument', 255)
        elif o in ("br", "brief") or (len(o) > 1 and "brief".startswith(o)):
            opts.brief = True
        elif o in ("d",) or (len(o) > 1 and "details".startswith(o)):
            opts.details = True
        elif o in ("s", "stats", "statistics", "j", "json", "p", "pretty", "o", "oneline", "c", "color",
                   "color=auto", "color=always", "t", "timestamp", "a", "all", "h", "human", "r", "resolve"):
            raise Unsupported(f"the ip option {opt}")
        elif o in ("V", "Version"):
            return IpCommand(tuple(argv), None, lambda w, ns: "ip utility, iproute2-6.1.0, libbpf 1.1.2\n")
        else:
            raise IpError(f'Option "{opt}" is unknown, try "ip -help".', 255)
    if not words:
        raise IpError("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }", 255)
    obj_word = words.pop(0)
    try:
        found = _OBJECT_OF[obj_word]
    except KeyError:
        found = _OBJECT_OF[obj_word] = next(((name, fn) for name, fn in OBJECTS if matches(obj_word, name)), None)
    if found is None:
        raise IpError(f'Object "{obj_word}" is unknown, try "ip help".', 255)
    obj, compiler = found
    if compiler is None:
        raise Unsupported(f"ip {obj}")
    if obj == "netns" and netns is not None:
        raise Unsupported("ip -n NS netns ...")
    fn = compiler(Args(words), opts)
    return IpCommand(tuple(argv), netns, fn, needs_ns=obj != "netns")


def ip(world: "World", argv: Sequence[str], *, netns: str | None = None) -> str:
    """``ip ARGV`` in ``netns`` (default: the root namespace); returns stdout, raises :class:`IpError`."""
    return compile_ip(argv).run(world, netns)
