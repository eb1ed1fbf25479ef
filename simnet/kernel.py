"""Run a scenario script on the real kernel and report probe outcomes as JSON.

The report has exactly the schema the simulator emits, so the two can be
diffed with :func:`compare`::

    {"probes": [{"line", "command", "from", "proto", "dst", "dport", "outcome",
                 "icmp", "errno", "received", "expect", "counters", "conntrack", "trace"}],
     "outputs": [{"line", "command", "stdout"}]}

How a run is isolated (this machine's own namespaces are never touched):

* Before anything runs, the script is lexed and *validated* in the calling
  process: every command must run inside a namespace the script itself created
  (``ip netns exec NS ...`` or ``ip -n NS ...``); only ``ip netns add/del/list``
  may run without one. ``netns X`` arguments must name a script namespace (never
  a pid, which could be the machine's own namespace). Probes must run in a
  script namespace. ``docker`` commands are refused.
* The run itself re-executes this module under
  ``unshare --mount --net --propagation private``: a private mount namespace
  with a tmpfs on ``/run/netns`` (``/var/run`` is a symlink to ``/run`` here;
  if it is not, ``/var/run/netns`` gets its own tmpfs), so ``ip netns add``
  names never collide with anything on the machine, and a private network
  namespace as the run's own "root", so even a command that slipped past the
  validation could not change the machine's network. The inner runner refuses
  to start unless its mount namespace differs from pid 1's.
* Every namespace is deleted in a ``finally``; helper processes run in their own
  process group and are killed; and when the last process of the private mount
  namespace exits, everything that was left vanishes with it.
* Commands get a 5 s timeout, probes 1 s by default (``-W``/``-w``/``-m`` may
  say otherwise, never more than 5 s), the whole run ``timeout`` seconds.

What is pinned in every namespace right after ``ip netns add`` (and why):

* ``net.ipv6.conf.{all,default}.disable_ipv6=1``: no IPv6 ND/MLD noise in counters.
* ``net.ipv4.icmp_ratelimit=0``: ICMP errors are rate-limited per host, and the
  bucket is shared with redirects; observed here: a router that first sent a
  redirect then silently swallowed the REJECT's port-unreachable.
* ``net.ipv4.igmp_link_local_mcast_reports=0``: bridges send IGMP reports at
  random moments otherwise.
* ``net.ipv4.conf.{all,default}.{rp_filter,accept_local,route_localnet,arp_ignore,
  arp_announce,arp_filter,proxy_arp}=0`` and ``send_redirects=1``,
  ``accept_redirects=1``, ``secure_redirects=1``: a new namespace *copies* these
  from the machine's initial namespace, so they depend on the host's distro
  settings. These are the kernel's compiled defaults (``ipv4_devconf`` in
  net/ipv4/devinet.c). On this machine (kernel 6.18) a fresh namespace already
  had exactly these values (and ``accept_source_route`` all=0/default=1,
  ``forwarding``=0, ``icmp_ratelimit``=1000, ``igmp_link_local_mcast_reports``=1,
  ``net.bridge.bridge-nf-call-iptables``=1, which is left as it is).
* Tables: iptables-nft creates a table, with only the chains a command names,
  when ``-A/-I/-R/-N/-P`` or a restore block with a chain or rule line puts
  something there; ``-L/-S/-F/-Z/-C``, ``iptables-save`` and an empty
  ``*table``/``COMMIT`` block create nothing (verified, iptables 1.8.9 nf_tables).
  simnet's model: a table exists from that first command, with all its built-in
  chains. So after every iptables/iptables-restore command the runner re-declares
  (``iptables-restore --noflush``, ``:CHAIN POLICY [0:0]``, keeping each chain's
  policy and rules) all built-in chains of the tables ``nft list tables`` shows,
  and of no other table: a namespace without tables has no hooks and no counters
  on both sides, and every existing built-in chain has a policy counter (a chain
  that ``iptables -A`` created has none until declared). Observed here: an empty
  nat table does *not* switch conntrack on (no entries after a ping); a NAT rule
  or a stateful match does.

How probes are done (never with nc/curl/ping themselves): a small helper,
``python3 -I kernel.py --helper KIND JSON`` (stdlib only) run with ``ip netns exec NS``:

* ``ping``: a raw ICMP socket sends echo requests (id = the script line), one
  every ``-i`` seconds (ping's default 1 s, capped at 1 s), waiting ``-W`` after
  the last (iputils' linger), and
  reads the replies and the ICMP errors that quote them, so ``icmp`` has exact
  type/code/from; ``reply`` reports ``icmp = {type 0, code 0, from}``. A local
  ``sendto`` error (``connect: Network is unreachable`` in ping's words) gives
  ``error`` with its errno. :data:`PING_TEXTS` maps ping's texts to ICMP
  type/code for readers of real ping output.
* TCP (``nc -z``, ``curl``): ``connect`` with a timeout and ``IP_RECVERR``;
  ECONNREFUSED is ``refused`` (what nc prints and the app sees), with the ICMP
  reported when a port-unreachable caused it and ``icmp`` none for a RST; another
  ICMP error read from the socket's error queue gives ``unreachable`` (errno is
  what ``connect`` failed with); a local errno without ICMP is ``error``. The wait
  is the timeout minus 50 ms, so ``-w1`` sends exactly one SYN (the first
  retransmission is due after 1 s). A connected socket is closed with
  ``SO_LINGER {1, 0}``: exactly SYN, SYN-ACK, ACK, RST, and conntrack shows
  ``CLOSE [ASSURED]`` (a normal close would add a timing-dependent FIN exchange
  and leave ``TIME_WAIT``), as simnet's client does; verified stable across runs.
* UDP (``echo DATA | nc -u``): a connected UDP socket with ``IP_RECVERR``;
  ``unreachable`` when an ICMP error comes back, ``delivered`` as soon as a
  listener logs the datagram, else ``lost``.
* Listeners (``nc -l``, ``nc -u -l``, ``python3 -m http.server``) are Python
  socket servers logging each peer; one raw-ICMP sniffer per namespace logs
  echo requests, which gives ``received`` for pings (``sport`` = echo id).
* ``counters``: ``iptables-save -c`` in every namespace before and after each
  probe; ``conntrack``: ``conntrack -L`` after it, normalised by
  :func:`normalise_conntrack`.

Errno names in the report are set whenever the probe's socket call failed.

Verified on this machine's kernel (6.18, iptables 1.8.9 nf_tables):

* ping's texts ↔ ICMP, with ``icmp_ratelimit=0``: ``--reject-with`` net-unreachable →
  "Destination Net Unreachable" 3/0, host-unreachable → "Destination Host
  Unreachable" 3/1, port-unreachable → 3/3, proto-unreachable → 3/2,
  net-prohibited → 3/9, host-prohibited → 3/10, admin-prohibited → "Packet
  filtered" 3/13; a router's ``unreachable`` route → 3/1, ``prohibit`` route → 3/13;
  TTL expiry → "Time to live exceeded" 11/0; a router sending a packet back out of
  its arrival interface first sends "Redirect Host" 5/1 (ignored by the helper,
  as the packet is still forwarded).
* Local route types fail the socket call (ping and TCP alike): ``unreachable`` →
  EHOSTUNREACH, ``prohibit`` → EACCES, ``blackhole`` → EINVAL; no route at all →
  ENETUNREACH ("connect: Network is unreachable").
* TCP: a SYN answered by ICMP aborts ``connect`` at once and the error queue
  holds the ICMP: ``--reject-with`` net-unreachable → ENETUNREACH 3/0,
  host-unreachable → EHOSTUNREACH 3/1, port-unreachable → ECONNREFUSED 3/3,
  proto-unreachable → ENOPROTOOPT 3/2, net-prohibited → ENETUNREACH 3/9,
  host-prohibited → EHOSTUNREACH 3/10, admin-prohibited → EHOSTUNREACH 3/13;
  ``tcp-reset`` → ``refused``. A router's ``unreachable``/``prohibit`` routes: 3/1
  and 3/13 with EHOSTUNREACH. Route-generated errors also pass ``ip_error()``'s
  own per-source token bucket (``net.ipv4.route.error_cost``/``error_burst``:
  global sysctls, not visible in a namespace, so not pinned); observed: of 8
  route errors to one host within ~2 s, the 8th was sometimes not sent and the
  probe reported ``timeout``. Keep route errors per (router, host) few, as
  kernel-notes.md says.
* UDP: a port-unreachable gives ECONNREFUSED; a router's 3/1 gives EHOSTUNREACH.
* ARP failure: the sender's own "host unreachable" (3/1 from its own address)
  arrives after ~3 s (3 unanswered requests): ``ping -c 1 -W 1`` reports
  ``timeout``, ``ping -c 4 -W 1`` (sends at 0..3 s, then waits 1 s) reports
  ``unreachable``, as the real ping prints "Destination Host Unreachable".
* conntrack (``conntrack -L``, normalised): a refused connection (RST from a
  closed port) is removed at once; an RST-aborted one stays ``CLOSE [ASSURED]``;
  a FIN close leaves ``TIME_WAIT [ASSURED]``; a SYN answered by a REJECT's ICMP
  leaves ``SYN_SENT [UNREPLIED]`` in the sender's table and nothing where REJECT
  dropped it; a UDP datagram answered by a port-unreachable stays ``[UNREPLIED]``,
  one with one reply has neither flag; a ping leaves an ``icmp`` entry without
  flags. :func:`compare` blanks unpinned ephemeral ports (each side's choice).
"""

from __future__ import annotations

import errno as _errno
import json
from collections import Counter
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from typing import Any

__all__ = ["KernelRunError", "PING_TEXTS", "compare", "main", "normalise_conntrack", "run_on_kernel"]

COMMAND_TIMEOUT = 5.0
PROBE_DEFAULT_TIMEOUT = 1.0
PROBE_MAX_TIMEOUT = 5.0
RUN_TIMEOUT = 120.0
TOOLS = ("unshare", "mount", "ip", "iptables", "iptables-save", "iptables-restore", "sysctl", "conntrack")

PINNED_SYSCTLS: tuple[tuple[str, str], ...] = (
    ("net.ipv6.conf.all.disable_ipv6", "1"),
    ("net.ipv6.conf.default.disable_ipv6", "1"),
    ("net.ipv4.icmp_ratelimit", "0"),
    ("net.ipv4.igmp_link_local_mcast_reports", "0"),
    *(
        (f"net.ipv4.conf.{scope}.{key}", value)
        for scope in ("all", "default")
        for key, value in (
            ("rp_filter", "0"), ("accept_local", "0"), ("route_localnet", "0"),
            ("arp_ignore", "0"), ("arp_announce", "0"), ("arp_filter", "0"),
            ("proxy_arp", "0"), ("send_redirects", "1"), ("accept_redirects", "1"),
            ("secure_redirects", "1"),
        )
    ),
)

BUILTIN_CHAINS = """*security
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
"""

#: iputils ping's texts for ICMP errors (``From X icmp_seq=N TEXT``) → (type, code).
PING_TEXTS: dict[str, tuple[int, int]] = {
    "Destination Net Unreachable": (3, 0),
    "Destination Host Unreachable": (3, 1),
    "Destination Protocol Unreachable": (3, 2),
    "Destination Port Unreachable": (3, 3),
    "Frag needed and DF set": (3, 4),
    "Source Route Failed": (3, 5),
    "Destination Net Unknown": (3, 6),
    "Destination Host Unknown": (3, 7),
    "Source Host Isolated": (3, 8),
    "Destination Net Prohibited": (3, 9),
    "Destination Host Prohibited": (3, 10),
    "Destination Net Unreachable for Type of Service": (3, 11),
    "Destination Host Unreachable for Type of Service": (3, 12),
    "Packet filtered": (3, 13),
    "Precedence Violation": (3, 14),
    "Precedence Cutoff": (3, 15),
    "Source Quench": (4, 0),
    "Redirect Network": (5, 0),
    "Redirect Host": (5, 1),
    "Redirect Type of Service and Network": (5, 2),
    "Redirect Type of Service and Host": (5, 3),
    "Time to live exceeded": (11, 0),
    "Frag reassembly time exceeded": (11, 1),
}


class KernelRunError(RuntimeError):
    """The real-kernel run failed: a command failed, a helper misbehaved, or it timed out."""


# ======================================================================================
# Parent side: validation
# ======================================================================================

_PROBES = ("ping", "nc", "curl")
_ALLOWED_IN_NS = {"ip", "iptables", "iptables-restore", "iptables-save", "sysctl", "bridge",
                  "ipset", "conntrack", "ping", "nc", "curl", "python3", "echo", "printf", "sleep"}
_RUNNER_BUILTINS = {"set", "kill", "sleep", "wait", "true", ":"}


def _script_error(cmd: Any, why: str) -> Exception:
    from simnet.script.expect import ScriptError
    return ScriptError(cmd.file, cmd.line, f"{why} (in `{_one_line(cmd.text)}`)")


def _one_line(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split())


def _ip_netns_option(argv: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """Split ``ip [-n NS|-netns NS] [other opts] OBJECT ...`` into (NS, argv without it)."""
    rest = list(argv[1:])
    ns = None
    out = ["ip"]
    while rest and rest[0].startswith("-"):
        opt = rest.pop(0)
        if opt in ("-n", "-netns", "--netns") and rest:
            ns = rest.pop(0)
        else:
            out.append(opt)
    return ns, tuple(out + rest)


def classify(cmd: Any) -> str:
    """Return what the runner does with a command: probe, listener, kill, sleep, set, write, run."""
    ns, inner = _netns_of(cmd)
    if not inner:
        return "run"
    tool = inner[0]
    if tool == "set" or tool in (":", "true", "wait"):
        return "noop"
    if tool == "kill":
        return "kill"
    if tool == "sleep":
        return "sleep"
    if cmd.redirect is not None:
        return "write"
    if tool == "nc" and ("-l" in inner or any(re.fullmatch(r"-[a-zA-Z]*l[a-zA-Z]*", a) for a in inner[1:])):
        return "listener"
    if tool == "python3" and inner[1:3] == ("-m", "http.server"):
        return "listener"
    if tool in _PROBES:
        return "probe"
    return "run"


def _netns_of(cmd: Any) -> tuple[str | None, tuple[str, ...]]:
    """Same as :func:`simnet.script.lexer.netns_exec` (kept import-free for the inner runner)."""
    argv = tuple(cmd.argv)
    if len(argv) >= 4 and argv[:3] == ("ip", "netns", "exec"):
        return argv[3], argv[4:]
    return None, argv


class _Cmd:
    """The inner runner's view of a :class:`~simnet.script.Command`, rebuilt from JSON.

    The inner runner must not import the ``simnet`` package (its ``__init__`` pulls in
    the whole simulator, and ``simnet/socket.py`` would shadow the stdlib if this file
    were run with its directory on ``sys.path``), so the parent sends plain data.
    """

    __slots__ = ("file", "line", "argv", "stdin", "pipe_from", "background", "redirect", "text", "data")

    def __init__(self, d: dict[str, Any]) -> None:
        self.file, self.line, self.text = d["file"], d["line"], d["text"]
        self.argv = tuple(d["argv"])
        self.stdin = d["stdin"]
        self.pipe_from = tuple(d["pipe_from"]) if d["pipe_from"] is not None else None
        self.background = d["background"]
        self.redirect = tuple(d["redirect"]) if d["redirect"] is not None else None
        self.data = d["data"]

    @staticmethod
    def to_json(cmd: Any) -> dict[str, Any]:
        from simnet.script.lexer import _piped_data

        ns, inner = _netns_of(cmd)
        return {"file": cmd.file, "line": cmd.line, "text": cmd.text, "argv": list(cmd.argv), "stdin": cmd.stdin,
                "pipe_from": cmd.pipe_from, "background": cmd.background, "redirect": cmd.redirect,
                "data": _piped_data(inner) if cmd.redirect is not None and inner else None}


def validate(commands: tuple[Any, ...]) -> None:
    """Refuse, before anything runs, every command that could touch the machine's namespaces."""
    created: set[str] = set()
    jobs = 0
    for cmd in commands:
        ns, inner = _netns_of(cmd)
        argv = cmd.argv
        if argv[0] == "docker" or (inner and inner[0] == "docker"):
            raise _script_error(cmd, "docker commands are for the simulator only, not the kernel runner")
        if argv[:3] == ("ip", "netns", "exec") and ns is None:
            raise _script_error(cmd, "'ip netns exec' needs a namespace and a command")
        if ns is not None and ns not in created:
            raise _script_error(cmd, f"namespace {ns!r} was not created by this script ('ip netns add {ns}' first)")
        kind = classify(cmd)
        if cmd.background and kind != "listener":
            raise _script_error(cmd, "only listeners (nc -l, python3 -m http.server) may run in the background")
        if kind == "listener" and not cmd.background:
            raise _script_error(cmd, "a listener must run in the background: end the line with '&'")
        if kind == "listener":
            jobs += 1
        if ns is None:
            tool = argv[0]
            if tool in _RUNNER_BUILTINS:
                if tool == "kill" and len(argv) != 2:
                    raise _script_error(cmd, "use 'kill %N' or 'kill $!'")
                continue
            if tool != "ip":
                raise _script_error(
                    cmd, f"{tool!r} would run in the machine's own namespace; prefix it with 'ip netns exec NS'")
            ipns, rest = _ip_netns_option(argv)
            if ipns is None:
                if rest[1:3] in (("netns", "add"), ("netns", "del"), ("netns", "delete")) and len(rest) == 4:
                    name = rest[3]
                    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name) or name in (".", ".."):
                        raise _script_error(cmd, f"bad namespace name {name!r}")
                    if rest[2] == "add":
                        if name in created:
                            raise _script_error(cmd, f"namespace {name!r} already exists")
                        created.add(name)
                    else:
                        if name not in created:
                            raise _script_error(cmd, f"namespace {name!r} was not created by this script")
                        created.discard(name)
                    continue
                if rest[1:] in (("netns",), ("netns", "list"), ("netns", "ls"), ("netns", "show")):
                    continue
                raise _script_error(
                    cmd, "this 'ip' command would change the machine's own namespace; use 'ip -n NS ...' "
                         "or 'ip netns exec NS ...'")
            if ipns not in created:
                raise _script_error(cmd, f"namespace {ipns!r} was not created by this script")
            _check_ip_args(cmd, rest, created)
            continue
        if not inner:
            raise _script_error(cmd, "'ip netns exec NS' without a command")
        tool = inner[0]
        if tool not in _ALLOWED_IN_NS:
            raise _script_error(cmd, f"the kernel runner does not run {tool!r}")
        if tool == "ip":
            ipns, rest = _ip_netns_option(inner)
            if ipns is not None and ipns not in created:
                raise _script_error(cmd, f"namespace {ipns!r} was not created by this script")
            if len(rest) > 1 and rest[1] == "netns":
                raise _script_error(cmd, "'ip netns' inside 'ip netns exec' is not supported")
            _check_ip_args(cmd, rest, created)
        if tool == "python3" and kind != "listener":
            raise _script_error(cmd, "only 'python3 -m http.server PORT &' is supported")
        if kind == "write":
            op, path = cmd.redirect
            if tool not in ("echo", "printf") or not path.startswith("/proc/sys/") or ".." in path:
                raise _script_error(cmd, "only 'echo VALUE > /proc/sys/...' redirects are supported")
        elif tool in ("echo", "printf"):
            raise _script_error(cmd, f"{tool!r} without a '> /proc/sys/...' redirect does nothing useful here")
        if kind == "probe":
            _parse_probe(cmd, ns, inner)  # raises on unsupported options
        if cmd.pipe_from is not None and not (kind == "probe" and inner[0] == "nc"):
            raise _script_error(cmd, "a pipe is only supported into 'nc -u' (echo DATA | nc -u ...)")


def _check_ip_args(cmd: Any, argv: tuple[str, ...], created: set[str]) -> None:
    for key, value in zip(argv, argv[1:]):
        if key in ("netns", "link-netns") and value not in created:
            raise _script_error(
                cmd, f"'{key} {value}' must name a namespace this script created (never a pid or the machine's)")
        if key in ("link-netnsid", "target-netnsid"):
            raise _script_error(cmd, f"'{key}' is not supported by the kernel runner; use 'netns NAME'")


# ======================================================================================
# Probe and listener argument parsing
# ======================================================================================


def _opts(cmd: Any, argv: tuple[str, ...], with_value: str, flags: str) -> tuple[dict[str, str], list[str]]:
    """getopt-style parse: single-letter options, grouped flags, values attached or separate."""
    opts: dict[str, str] = {}
    pos: list[str] = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--":
            pos.extend(args)
            break
        if a.startswith("-") and len(a) > 1 and not a[1].isdigit():
            k = 1
            while k < len(a):
                ch = a[k]
                if ch in with_value:
                    val = a[k + 1:] or (args.pop(0) if args else None)
                    if val is None:
                        raise _script_error(cmd, f"option -{ch} needs a value")
                    opts[ch] = val
                    break
                if ch in flags:
                    opts[ch] = ""
                    k += 1
                    continue
                raise _script_error(cmd, f"unsupported option -{ch}")
        else:
            pos.append(a)
    return opts, pos


def _seconds(cmd: Any, value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        t = float(value)
    except ValueError:
        raise _script_error(cmd, f"{value!r} is not a number of seconds") from None
    if t <= 0:
        raise _script_error(cmd, f"timeout {value!r} must be positive")
    return min(t, PROBE_MAX_TIMEOUT)


def _port(cmd: Any, value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise _script_error(cmd, f"{value!r} is not a port number")
    return int(value)


def _parse_probe(cmd: Any, ns: str | None, inner: tuple[str, ...]) -> dict[str, Any]:
    """Turn a probe command into the helper's arguments (raises ScriptError on what it can't do)."""
    if ns is None:
        raise _script_error(cmd, "probes must run inside a script namespace: 'ip netns exec NS ...'")
    tool = inner[0]
    if tool == "ping":
        opts, pos = _opts(cmd, inner[1:], "cWwtIisQ", "qnv4OD")
        if len(pos) != 1:
            raise _script_error(cmd, "ping needs exactly one destination")
        count = int(opts.get("c", "1"))
        if not 0 < count <= 10:
            raise _script_error(cmd, "ping -c must be 1..10 here")
        timeout = _seconds(cmd, opts.get("W") or opts.get("w"), PROBE_DEFAULT_TIMEOUT)
        src = opts.get("I")
        return {"kind": "ping", "proto": "icmp", "dst": pos[0], "dport": None, "count": count,
                "timeout": timeout, "ttl": int(opts["t"]) if "t" in opts else None,
                "interval": min(float(opts.get("i", "1")), 1.0),
                "src": src if src and re.fullmatch(r"[0-9.]+", src) else None,
                "dev": src if src and not re.fullmatch(r"[0-9.]+", src) else None,
                "size": int(opts.get("s", "56")), "id": cmd.line & 0xFFFF}
    if tool == "nc":
        opts, pos = _opts(cmd, inner[1:], "wpsqW", "zuvnNkd4")
        if len(pos) != 2:
            raise _script_error(cmd, "nc needs DST PORT")
        udp = "u" in opts
        if not udp and "z" not in opts and cmd.stdin is None:
            raise _script_error(cmd, "a TCP nc probe needs -z (or data piped in)")
        return {"kind": "udp" if udp else "tcp", "proto": "udp" if udp else "tcp", "dst": pos[0],
                "dport": _port(cmd, pos[1]), "src": opts.get("s"),
                "sport": _port(cmd, opts["p"]) if "p" in opts else None,
                "timeout": _seconds(cmd, opts.get("w"), PROBE_DEFAULT_TIMEOUT),
                "data": cmd.stdin or ("" if udp else None), "http": False}
    if tool == "curl":
        from urllib.parse import urlsplit
        args = list(inner[1:])
        url = None
        timeout = None
        src = None
        while args:
            a = args.pop(0)
            if a in ("-m", "--max-time", "--connect-timeout"):
                timeout = args.pop(0) if args else None
            elif a == "--interface":
                src = args.pop(0) if args else None
            elif a in ("-o", "-w", "--output", "--write-out"):
                args.pop(0) if args else None
            elif re.fullmatch(r"-[sSfIvk]+|--silent|--show-error|--fail|--head|--verbose", a):
                pass
            elif a.startswith("http://"):
                url = a
            else:
                raise _script_error(cmd, f"unsupported curl argument {a!r}")
        if url is None:
            raise _script_error(cmd, "curl needs an http://DST:PORT/ URL")
        parts = urlsplit(url)
        if not parts.hostname:
            raise _script_error(cmd, f"bad URL {url!r}")
        return {"kind": "tcp", "proto": "tcp", "dst": parts.hostname, "dport": parts.port or 80,
                "src": src, "sport": None, "timeout": _seconds(cmd, timeout, PROBE_DEFAULT_TIMEOUT),
                "data": None, "http": True, "host": parts.netloc, "path": parts.path or "/"}
    raise _script_error(cmd, f"{tool!r} is not a probe")


def _parse_listener(cmd: Any, inner: tuple[str, ...]) -> dict[str, Any]:
    if inner[0] == "python3":
        args = list(inner[3:])
        port, bind = 8000, "0.0.0.0"
        while args:
            a = args.pop(0)
            if a in ("--bind", "-b") and args:
                bind = args.pop(0)
            elif a.isdigit():
                port = _port(cmd, a)
            else:
                raise _script_error(cmd, f"unsupported http.server argument {a!r}")
        return {"proto": "tcp", "addr": bind, "port": port, "keep": True, "http": True}
    opts, pos = _opts(cmd, inner[1:], "spwq", "lukvnNd4")
    port = opts.get("p") or (pos.pop() if pos else None)
    if port is None or pos:
        raise _script_error(cmd, "nc -l needs exactly one PORT")
    return {"proto": "udp" if "u" in opts else "tcp", "addr": opts.get("s", "0.0.0.0"),
            "port": _port(cmd, port), "keep": "k" in opts, "http": False}


# ======================================================================================
# Parent side: entry points
# ======================================================================================


def _missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def run_on_kernel(path_or_text: str | os.PathLike[str], *, filename: str | None = None,
                  timeout: float = RUN_TIMEOUT) -> dict[str, Any]:
    """Run a scenario script on the real kernel (as root, fully isolated); return the report.

    ``path_or_text`` is a path to a script or the script's text (anything with a
    newline is text). Raises :class:`~simnet.script.ScriptError` for scripts the
    runner refuses (before running anything) and :class:`KernelRunError` when a
    command fails, a helper misbehaves or the run exceeds ``timeout`` seconds.
    """
    from simnet.script.lexer import lex

    text, name = _read_script(path_or_text, filename)
    commands = lex(text, name)
    validate(commands)
    if os.geteuid() != 0:
        raise KernelRunError("the kernel runner needs root (it creates network namespaces)")
    missing = _missing_tools()
    if missing:
        raise KernelRunError(f"the kernel runner needs these tools: {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="simnet-kernel-") as tmp:
        script = os.path.join(tmp, "script.json")
        with open(script, "w") as f:
            json.dump([_Cmd.to_json(c) for c in commands], f)
        argv = ["unshare", "--mount", "--net", "--propagation", "private", "--",
                sys.executable, "-I", os.path.abspath(__file__), "--inner", script, "--outer", _ns_ids()]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise KernelRunError(f"{name}: the run took longer than {timeout:g} s and was stopped") from None
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    try:
        result = json.loads(out)
    except json.JSONDecodeError:
        raise KernelRunError(f"{name}: the inner runner failed (exit {proc.returncode}): {err.strip()}") from None
    if "error" in result:
        raise KernelRunError(result["error"])
    by_line = {c.line: c for c in commands}
    for probe in result["probes"]:
        exp = by_line[probe["line"]].expect
        if exp is not None:
            probe["expect"] = {**exp.to_json(), "ok": exp.check(probe)}
    return result


def _read_script(path_or_text: str | os.PathLike[str], filename: str | None) -> tuple[str, str]:
    if isinstance(path_or_text, str) and ("\n" in path_or_text or not os.path.exists(path_or_text)):
        return path_or_text, filename or "<script>"
    with open(path_or_text) as f:
        return f.read(), filename or os.path.basename(os.fspath(path_or_text))


# ======================================================================================
# Inner runner (inside the private mount + network namespace)
# ======================================================================================


class _Run:
    def __init__(self, commands: tuple[Any, ...], workdir: str) -> None:
        self.commands = commands
        self.workdir = workdir
        self.namespaces: list[str] = []
        self.tabled: set[str] = set()  # namespaces where an iptables table exists
        self.sniffers: dict[str, subprocess.Popen[bytes]] = {}
        self.jobs: list[dict[str, Any]] = []  # {"proc", "log", "ns", "alive"}
        self.probes: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []
        self.helper = os.path.abspath(__file__)

    # -- subprocess helpers ------------------------------------------------------------

    def call(self, cmd: Any, argv: list[str] | tuple[str, ...], stdin: str | None = None,
             timeout: float = COMMAND_TIMEOUT) -> str:
        try:
            p = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise KernelRunError(f"{cmd.file}:{cmd.line}: `{_one_line(cmd.text)}` took longer than {timeout:g} s") from None
        except FileNotFoundError:
            raise KernelRunError(f"{cmd.file}:{cmd.line}: `{argv[0]}` is not installed") from None
        if p.returncode != 0:
            raise KernelRunError(
                f"{cmd.file}:{cmd.line}: `{_one_line(cmd.text)}` failed (exit {p.returncode}): "
                f"{(p.stderr or p.stdout).strip()}")
        return p.stdout

    def in_ns(self, ns: str, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", ns, *argv]

    def helper_argv(self, ns: str, kind: str, args: dict[str, Any]) -> list[str]:
        return self.in_ns(ns, [sys.executable, "-I", self.helper, "--helper", kind, json.dumps(args)])

    # -- the run -------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        try:
            for cmd in self.commands:
                self.step(cmd)
        finally:
            self.cleanup()
        return {"probes": self.probes, "outputs": self.outputs}

    def step(self, cmd: Any) -> None:
        ns, inner = _netns_of(cmd)
        kind = classify(cmd)
        if kind == "noop":
            return
        if kind == "sleep":
            time.sleep(min(float(inner[1]) if len(inner) > 1 else 0, PROBE_MAX_TIMEOUT))
            return
        if kind == "kill":
            self.kill(cmd)
            return
        if kind == "listener":
            self.listen(cmd, ns, inner)
            return
        if kind == "probe":
            self.probe(cmd, ns, inner)
            return
        if kind == "write":
            op, path = cmd.redirect
            data = cmd.data or ""
            code = "import sys; open(sys.argv[1], sys.argv[2]).write(sys.argv[3])"
            self.call(cmd, self.in_ns(ns, [sys.executable, "-c", code, path, "a" if op == ">>" else "w", data]))
            return
        argv = cmd.argv
        if ns is None and argv[:3] == ("ip", "netns", "add"):
            self.call(cmd, argv)
            self.namespaces.append(argv[3])
            self.pin(cmd, argv[3])
            return
        if ns is None and argv[:2] == ("ip", "netns") and len(argv) == 4 and argv[2] in ("del", "delete"):
            self.stop_ns_processes(argv[3])
            self.call(cmd, argv)
            self.namespaces.remove(argv[3])
            self.tabled.discard(argv[3])
            return
        out = self.call(cmd, argv, stdin=cmd.stdin)
        if ns is not None and inner[0] in ("iptables", "iptables-restore", "iptables-nft", "iptables-nft-restore"):
            self.ensure_builtin_chains(cmd, ns)
        if _prints(inner):
            self.outputs.append({"line": cmd.line, "command": _one_line(cmd.text), "stdout": out})

    def pin(self, cmd: Any, ns: str) -> None:
        self.call(cmd, self.in_ns(ns, ["sysctl", "-q", "-w", *(f"{k}={v}" for k, v in PINNED_SYSCTLS)]))
        log = os.path.join(self.workdir, f"sniff-{ns}.log")
        proc = subprocess.Popen(self.helper_argv(ns, "sniff", {"log": log, "ns": ns}),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.sniffers[ns] = proc
        _wait_for(lambda: os.path.exists(log), 2.0)

    def ensure_builtin_chains(self, cmd: Any, ns: str) -> None:
        """Give every *existing* table all its built-in chains (policy ACCEPT, as absent ones act).

        iptables-nft creates a table, and only the chains a command names, when a command
        puts a chain or rule there (``-A/-I/-R/-N/-P`` or a restore block with a chain or
        rule line; ``-L/-S/-F/-Z/-C`` and ``iptables-save`` create nothing: verified on
        iptables 1.8.9 nf_tables, kernel 6.18).  simnet models a table as existing from
        that first command with all its built-in chains, so after each iptables command
        the runner declares the missing built-in chains of the tables that exist (``nft
        list tables``), and only those: a namespace without tables has no hooks and no
        policy counters on both sides.  ``iptables-save`` (nft) prints absent built-in
        chains as ``:CHAIN ACCEPT [0:0]``, so ``nft list chains`` says which really exist.
        """
        if shutil.which("nft") is None:
            return
        tables = {m[1] for m in re.finditer(r"^table ip (\S+)", self.call(
            cmd, self.in_ns(ns, ["nft", "list", "tables", "ip"])), re.M)}
        if not tables:
            self.tabled.discard(ns)
            return
        self.tabled.add(ns)
        policies: dict[tuple[str, str], str] = {}
        table = chain = ""
        for line in self.call(cmd, self.in_ns(ns, ["nft", "list", "chains", "ip"])).splitlines():
            m = re.match(r"\s*(?:(table) ip|(chain)) (\S+) \{", line)
            if m and m[1]:
                table = m[3]
            elif m:
                chain = m[3]
            p = re.search(r"\bpolicy (accept|drop);", line)
            if p and chain:
                policies[(table, chain)] = p[1].upper()
        # every built-in chain of an existing table, absent or not: a chain that `iptables -A`
        # created has no policy counter until it is declared with one (kernel-notes.md);
        # under --noflush a declaration keeps the chain's rules (verified)
        blocks = []
        for block in BUILTIN_CHAINS.split("COMMIT\n"):
            if not block.strip():
                continue
            table, *chains = block.splitlines()
            if table[1:] not in tables:
                continue
            names = [c.split()[0][1:] for c in chains]
            blocks.append(table + "\n" + "".join(
                f":{n} {policies.get((table[1:], n), 'ACCEPT')} [0:0]\n" for n in names) + "COMMIT\n")
        if blocks:
            self.call(cmd, self.in_ns(ns, ["iptables-restore", "--noflush"]), stdin="".join(blocks))

    def stop_ns_processes(self, ns: str) -> None:
        proc = self.sniffers.pop(ns, None)
        if proc is not None:
            _stop(proc)
        for job in self.jobs:
            if job["ns"] == ns and job["alive"]:
                _stop(job["proc"])
                job["alive"] = False

    def cleanup(self) -> None:
        for ns in list(self.sniffers):
            self.stop_ns_processes(ns)
        for job in self.jobs:
            if job["alive"]:
                _stop(job["proc"])
                job["alive"] = False
        names = set(self.namespaces)
        if os.path.isdir("/run/netns"):
            names.update(os.listdir("/run/netns"))
        for ns in sorted(names):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=COMMAND_TIMEOUT)

    # -- listeners and jobs --------------------------------------------------------------

    def listen(self, cmd: Any, ns: str, inner: tuple[str, ...]) -> None:
        args = _parse_listener(cmd, inner)
        log = os.path.join(self.workdir, f"job-{len(self.jobs) + 1}.log")
        args.update(log=log, ns=ns)
        proc = subprocess.Popen(self.helper_argv(ns, "listen", args), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.jobs.append({"proc": proc, "log": log, "ns": ns, "alive": True})
        if not _wait_for(lambda: os.path.exists(log) or proc.poll() is not None, 3.0) or proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.poll() is not None and proc.stderr else ""
            raise KernelRunError(f"{cmd.file}:{cmd.line}: listener `{_one_line(cmd.text)}` did not start: {err.strip()}")

    def kill(self, cmd: Any) -> None:
        target = cmd.argv[1]
        if target == "$!":
            index = len(self.jobs)
        elif re.fullmatch(r"%\d+", target):
            index = int(target[1:])
        else:
            raise KernelRunError(f"{cmd.file}:{cmd.line}: use 'kill %N' or 'kill $!', not {target!r}")
        if not 0 < index <= len(self.jobs) or not self.jobs[index - 1]["alive"]:
            raise KernelRunError(f"{cmd.file}:{cmd.line}: kill: {target}: no such job")
        job = self.jobs[index - 1]
        _stop(job["proc"])
        job["alive"] = False

    def received_marks(self) -> dict[str, int]:
        logs = {job["log"] for job in self.jobs}
        logs.update(os.path.join(self.workdir, f"sniff-{ns}.log") for ns in self.sniffers)
        return {log: _size(log) for log in logs}

    def new_received(self, marks: dict[str, int], proto: str) -> list[dict[str, Any]]:
        found = []
        for log, start in marks.items():
            try:
                with open(log) as f:
                    f.seek(start)
                    chunk = f.read()
            except FileNotFoundError:
                continue
            for line in chunk.splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if entry.get("proto") == proto:
                    found.append(entry)
        return found

    # -- probes --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, dict[tuple[str, str, int], int]]:
        return {ns: _parse_counters(subprocess.run(self.in_ns(ns, ["iptables-save", "-c"]), capture_output=True,
                                                   text=True, timeout=COMMAND_TIMEOUT).stdout)
                for ns in self.counted()}

    def counted(self) -> list[str]:
        """Namespaces that can have counters or conntrack entries: those with a table.

        Without a table nothing registered a hook or switched conntrack on (with nft
        not installed every namespace is asked, as before)."""
        if shutil.which("nft") is None:
            return list(self.namespaces)
        return [ns for ns in self.namespaces if ns in self.tabled]

    def probe(self, cmd: Any, ns: str, inner: tuple[str, ...]) -> None:
        args = _parse_probe(cmd, ns, inner)
        marks = self.received_marks()
        args["logs"] = sorted(job["log"] for job in self.jobs if job["alive"])
        args["marks"] = {log: marks.get(log, 0) for log in args["logs"]}
        before = self.snapshot()
        try:
            p = subprocess.run(self.helper_argv(ns, args["kind"], args), capture_output=True, text=True,
                               timeout=args["timeout"] * max(1, args.get("count", 1)) + 5)
        except subprocess.TimeoutExpired:
            raise KernelRunError(f"{cmd.file}:{cmd.line}: the probe helper hung") from None
        try:
            res = json.loads(p.stdout)
        except json.JSONDecodeError:
            raise KernelRunError(f"{cmd.file}:{cmd.line}: probe helper failed: {p.stderr.strip()}") from None
        received = None
        want = {"icmp": "icmp", "tcp": "tcp", "udp": "udp"}[args["proto"]]
        if True:  # a receiver may have seen the request even when the answer was lost (timeout)
            deadline = time.monotonic() + (0.5 if res["outcome"] in ("reply", "connected", "delivered") else 0.0)
            while True:
                got = self.new_received(marks, want)
                if got or time.monotonic() >= deadline:
                    break
                time.sleep(0.01)
            if got:
                received = {"ns": got[0]["ns"], "src": got[0]["src"], "sport": got[0]["sport"]}
        time.sleep(0.15 if res["outcome"] == "connected" else 0.05)
        after = self.snapshot()
        probe = {
            "line": cmd.line, "command": _one_line(cmd.text), "from": ns, "proto": args["proto"],
            "dst": args["dst"], "dport": args["dport"], "outcome": res["outcome"], "icmp": res.get("icmp"),
            "errno": res.get("errno"), "received": received, "expect": None,
            "counters": _counter_delta(before, after), "conntrack": self.conntrack(), "trace": [],
        }
        self.probes.append(probe)

    def conntrack(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for ns in self.counted():
            p = subprocess.run(self.in_ns(ns, ["conntrack", "-L"]), capture_output=True, text=True,
                               timeout=COMMAND_TIMEOUT)
            lines = normalise_conntrack(p.stdout)
            if lines:
                out[ns] = lines
        return out


def _prints(inner: tuple[str, ...]) -> bool:
    """Whether a command's stdout belongs in the report's ``outputs``."""
    if not inner:
        return False
    tool, args = inner[0], inner[1:]
    if tool == "iptables-save":
        return True
    if tool == "iptables":
        return any(a in ("-S", "-L", "--list", "--list-rules") or re.fullmatch(r"-[a-zA-Z]*[SL][a-zA-Z]*", a)
                   for a in args)
    if tool == "ip":
        _, rest = _ip_netns_option(inner)
        words = [w for w in rest[1:] if not w.startswith("-")]
        if not words:
            return False
        verb = words[1] if len(words) > 1 else "show"
        return verb in ("show", "list", "ls", "lst", "get", "sh")
    if tool == "conntrack":
        return any(a in ("-L", "--dump", "-S", "--stats", "-C", "--count") for a in args)
    if tool == "sysctl":
        return not any(a in ("-w", "--write", "-p") or "=" in a for a in args)
    if tool == "bridge":
        return "show" in args or len([a for a in args if not a.startswith("-")]) == 1
    if tool == "ipset":
        return bool(args) and args[0] in ("list", "save", "-L", "-S")
    return False


_CT_DROP = re.compile(r"^(?:id|mark|use|secctx|zone)=")


def normalise_conntrack(text: str) -> list[str]:
    """``conntrack -L`` lines without timeouts, ids, marks and use counts, sorted.

    >>> normalise_conntrack("icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=7 "
    ...     "src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=7 mark=0 use=1\\n"
    ...     "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\\n")
    ['icmp 1 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 src=10.0.0.2 dst=10.0.0.1 type=0 code=0']
    """
    out = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 3 or not words[1].isdigit() or words[0] == "conntrack":
            continue
        rest = words[3:] if words[2].isdigit() else words[2:]
        out.append(" ".join([words[0], words[1], *(w for w in rest if not _CT_DROP.match(w))]))
    return sorted(out)


def _parse_counters(text: str) -> dict[tuple[str, str, int], int]:
    """``iptables-save -c`` → {(table, chain, rule): packets}; rule 0 is the chain policy."""
    counters: dict[tuple[str, str, int], int] = {}
    table = ""
    index: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("*"):
            table, index = line[1:].strip(), {}
        elif line.startswith(":"):
            m = re.match(r":(\S+) (\S+) \[(\d+):(\d+)\]", line)
            if m and m[2] != "-":
                counters[(table, m[1], 0)] = int(m[3])
        elif line.startswith("["):
            m = re.match(r"\[(\d+):(\d+)\] -A (\S+)", line)
            if m:
                index[m[3]] = index.get(m[3], 0) + 1
                counters[(table, m[3], index[m[3]])] = int(m[1])
    return counters


def _counter_delta(before: dict[str, dict[tuple[str, str, int], int]],
                   after: dict[str, dict[tuple[str, str, int], int]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for ns in sorted(after):
        rows = []
        for key, packets in after[ns].items():
            delta = packets - before.get(ns, {}).get(key, 0)
            if delta > 0:
                rows.append({"table": key[0], "chain": key[1], "rule": key[2], "packets": delta})
        if rows:
            out[ns] = sorted(rows, key=lambda r: (r["table"], r["chain"], r["rule"]))
    return out


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def _wait_for(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _ns_ids() -> str:
    """``MNT:NET`` namespace inode numbers of this process (to prove the inner run is elsewhere)."""
    return f"{os.stat('/proc/self/ns/mnt').st_ino}:{os.stat('/proc/self/ns/net').st_ino}"


def _inner_main(script: str, outer: str) -> int:
    """Run inside ``unshare --mount --net``; print the report (or ``{"error": ...}``) as JSON."""
    try:
        outer_mnt, outer_net = outer.split(":")
        mnt, net = _ns_ids().split(":")
        if mnt == outer_mnt:
            raise KernelRunError("refusing to run: not inside a private mount namespace")
        if net == outer_net:
            raise KernelRunError("refusing to run: not inside a private network namespace")
        os.makedirs("/run/netns", exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755,size=1m", "simnet-netns", "/run/netns"], check=True)
        if not os.path.islink("/var/run") and os.path.isdir("/var/run/netns"):
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755,size=1m", "simnet-netns", "/var/run/netns"],
                           check=True)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        with open(script) as f:
            commands = tuple(_Cmd(d) for d in json.load(f))
        with tempfile.TemporaryDirectory(prefix="simnet-run-") as work:
            os.chmod(work, 0o755)
            report = _Run(commands, work).run()
        print(json.dumps(report))
        return 0
    except (KernelRunError, ValueError, OSError, subprocess.SubprocessError) as e:
        print(json.dumps({"error": str(e)}))
        return 2


# ======================================================================================
# Helpers that run inside a script namespace (stdlib only: run as a file, not a package)
# ======================================================================================

IP_RECVERR = 11
SO_EE_ORIGIN_ICMP = 2


def _errname(code: int | None) -> str | None:
    return _errno.errorcode.get(code) if code else None


def _read_errqueue(s: socket.socket) -> dict[str, Any] | None:
    """The first ICMP error queued on a socket with IP_RECVERR: {type, code, from, errno}.

    Pop ``errno`` (the socket error it caused) before putting the dict in a report.
    """
    s.setblocking(False)  # with a Python timeout set, recvmsg would poll first and wait
    for _ in range(8):
        try:
            _, anc, _, _ = s.recvmsg(2048, 1024, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return None
        for level, kind, data in anc:
            if level == socket.IPPROTO_IP and kind == IP_RECVERR and len(data) >= 16:
                ee_errno, origin, itype, icode = struct.unpack_from("=IBBB", data)
                if origin == SO_EE_ORIGIN_ICMP:
                    offender = socket.inet_ntoa(data[16 + 4:16 + 8]) if len(data) >= 24 else None
                    return {"type": itype, "code": icode, "from": offender, "errno": ee_errno}
    return None


def _logs_have_new(args: dict[str, Any], proto: str) -> bool:
    for log, start in args.get("marks", {}).items():
        try:
            with open(log) as f:
                f.seek(start)
                if any(json.loads(line).get("proto") == proto for line in f.read().splitlines() if line.strip()):
                    return True
        except (FileNotFoundError, json.JSONDecodeError):
            continue
    return False


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def _helper_ping(a: dict[str, Any]) -> dict[str, Any]:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if a.get("ttl"):
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, a["ttl"])
    if a.get("dev"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a["dev"].encode())
    if a.get("src"):
        s.bind((a["src"], 0))
    ident = a["id"]
    payload = bytes(range(a["size"] % 256)) * (a["size"] // 256) + bytes(range(a["size"] % 256))
    payload = payload[: a["size"]]
    reply = None
    error_icmp = None
    local_errno = None
    sent_all_at = None
    for seq in range(1, a["count"] + 1):
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, _checksum(hdr + payload), ident, seq) + payload
        try:
            s.sendto(pkt, (a["dst"], 0))
            failed = False
        except OSError as e:
            local_errno = local_errno or e.errno
            failed = True
        wait = a["interval"] if seq < a["count"] else a["timeout"]
        # a local send error (no route): only an ICMP from our own stack may still be queued
        end = time.monotonic() + (min(wait, 0.05) if failed else wait)
        sent_all_at = time.monotonic()
        while True:
            left = end - time.monotonic()
            if left <= 0 or reply or error_icmp:  # ping -c1 stops at the first error too
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            data, (peer, _) = s.recvfrom(65535)
            ihl = (data[0] & 0x0F) * 4
            icmp = data[ihl:]
            if len(icmp) < 8:
                continue
            itype, icode = icmp[0], icmp[1]
            if itype == 0 and struct.unpack_from("!H", icmp, 4)[0] == ident:
                reply = {"type": 0, "code": 0, "from": peer}
            elif itype in (3, 4, 5, 11, 12) and len(icmp) >= 8 + 20 + 8:
                inner = icmp[8:]
                iihl = (inner[0] & 0x0F) * 4
                quoted = inner[iihl:]
                if inner[9] == 1 and len(quoted) >= 8 and quoted[0] == 8 and \
                        struct.unpack_from("!H", quoted, 4)[0] == ident and itype != 5:
                    error_icmp = error_icmp or {"type": itype, "code": icode, "from": peer}
        if reply:
            break
    del sent_all_at
    if reply:
        return {"outcome": "reply", "icmp": reply, "errno": None}
    if error_icmp:
        outcome = {3: "unreachable", 11: "ttl-exceeded"}.get(error_icmp["type"], "error")
        return {"outcome": outcome, "icmp": error_icmp, "errno": _errname(local_errno)}
    if local_errno:
        return {"outcome": "error", "icmp": None, "errno": _errname(local_errno)}
    return {"outcome": "timeout", "icmp": None, "errno": None}


def _bound_socket(a: dict[str, Any], kind: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    if a.get("src") or a.get("sport"):
        s.bind((a.get("src") or "0.0.0.0", a.get("sport") or 0))
    return s


def _helper_tcp(a: dict[str, Any]) -> dict[str, Any]:
    s = _bound_socket(a, socket.SOCK_STREAM)
    s.settimeout(max(0.1, a["timeout"] - 0.05))
    try:
        s.connect((a["dst"], a["dport"]))
    except TimeoutError:
        icmp = _read_errqueue(s)
        if icmp:
            return {"outcome": "unreachable", "errno": _errname(icmp.pop("errno")), "icmp": icmp}
        return {"outcome": "timeout", "icmp": None, "errno": None}
    except OSError as e:
        icmp = _read_errqueue(s)
        if icmp:
            icmp.pop("errno")
            # a port-unreachable makes connect fail with ECONNREFUSED: nc prints "Connection
            # refused", so the outcome is "refused" with the ICMP reported
            outcome = "refused" if e.errno == _errno.ECONNREFUSED else "unreachable"
            return {"outcome": outcome, "icmp": icmp, "errno": _errname(e.errno)}
        if e.errno == _errno.ECONNREFUSED:
            return {"outcome": "refused", "icmp": None, "errno": "ECONNREFUSED"}
        return {"outcome": "error", "icmp": None, "errno": _errname(e.errno)}
    try:
        if a.get("http"):
            s.sendall(f"GET {a['path']} HTTP/1.0\r\nHost: {a['host']}\r\n\r\n".encode())
            s.shutdown(socket.SHUT_WR)
            s.settimeout(a["timeout"])
            while s.recv(4096):
                pass
        elif a.get("data"):
            s.sendall(a["data"].encode())
    except OSError:
        pass
    # abort with SO_LINGER {1, 0}: close sends one RST and no FIN exchange, so the packets
    # (SYN, SYN-ACK, ACK, RST) and the conntrack state (CLOSE) do not depend on timing
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return {"outcome": "connected", "icmp": None, "errno": None}


def _helper_udp(a: dict[str, Any]) -> dict[str, Any]:
    s = _bound_socket(a, socket.SOCK_DGRAM)
    try:
        s.connect((a["dst"], a["dport"]))
        s.send((a.get("data") or "").encode())
    except OSError as e:
        icmp = _read_errqueue(s)
        if icmp:
            icmp.pop("errno")
        return {"outcome": "unreachable" if icmp else "error", "icmp": icmp, "errno": _errname(e.errno)}
    deadline = time.monotonic() + a["timeout"]
    s.setblocking(False)
    while time.monotonic() < deadline:
        if _logs_have_new(a, "udp"):
            return {"outcome": "delivered", "icmp": None, "errno": None}
        icmp = _read_errqueue(s)
        if icmp:
            return {"outcome": "unreachable", "errno": _errname(icmp.pop("errno")), "icmp": icmp}
        select.select([s], [], [s], 0.02)
    if _logs_have_new(a, "udp"):
        return {"outcome": "delivered", "icmp": None, "errno": None}
    return {"outcome": "lost", "icmp": None, "errno": None}


def _log_line(f: Any, entry: dict[str, Any]) -> None:
    f.write(json.dumps(entry) + "\n")
    f.flush()


def _helper_listen(a: dict[str, Any]) -> None:
    udp = a["proto"] == "udp"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a["addr"], a["port"]))
    if not udp:
        s.listen(64)
    with open(a["log"], "a") as f:
        os.chmod(a["log"], 0o644)
        while True:
            if udp:
                data, (src, sport) = s.recvfrom(65535)
                _log_line(f, {"proto": "udp", "ns": a["ns"], "src": src, "sport": sport, "bytes": len(data)})
                continue
            conn, (src, sport) = s.accept()
            _log_line(f, {"proto": "tcp", "ns": a["ns"], "src": src, "sport": sport})
            conn.settimeout(1.0)
            try:
                if a.get("http"):
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
                else:
                    while conn.recv(4096):
                        pass
            except OSError:
                pass
            conn.close()
            if not a.get("keep"):
                s.close()
                return


def _helper_sniff(a: dict[str, Any]) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    with open(a["log"], "a") as f:
        os.chmod(a["log"], 0o644)
        while True:
            data, (src, _) = s.recvfrom(65535)
            ihl = (data[0] & 0x0F) * 4
            if len(data) >= ihl + 8 and data[ihl] == 8:
                ident = struct.unpack_from("!H", data, ihl + 4)[0]
                _log_line(f, {"proto": "icmp", "ns": a["ns"], "src": src, "sport": ident})


def _helper_main(kind: str, raw: str) -> int:
    a = json.loads(raw)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if kind == "listen":
        _helper_listen(a)
        return 0
    if kind == "sniff":
        _helper_sniff(a)
        return 0
    fn = {"ping": _helper_ping, "tcp": _helper_tcp, "udp": _helper_udp}[kind]
    print(json.dumps(fn(a)))
    return 0


# ======================================================================================
# Comparison and the command line
# ======================================================================================


def compare(sim: dict[str, Any], kernel: dict[str, Any]) -> list[str]:
    """List every difference between a simulator report and a kernel report, per probe.

    Compares outcome, ICMP type/code/from, errno, received ns/src/sport, and,
    when both probes carry them (the key is present), the per-rule counter
    increases and the conntrack entries. Probes are matched by script line. The
    received ``sport`` is compared only when the script chose it (``nc -p N``):
    otherwise it is an ephemeral port or an echo id that each side picks freely.

    >>> p = {"line": 3, "command": "ip netns exec a ping -c1 10.0.0.2", "outcome": "reply", "icmp": None,
    ...      "errno": None, "received": None, "counters": {}, "conntrack": {}}
    >>> compare({"probes": [p]}, {"probes": [dict(p, outcome="timeout")]})
    ['line 3 `ip netns exec a ping -c1 10.0.0.2`: outcome: simulator reply, kernel timeout']
    """
    diffs: list[str] = []
    fixed_ports = _pinned_ports(sim, kernel)
    sims = {p["line"]: p for p in sim.get("probes", [])}
    kers = {p["line"]: p for p in kernel.get("probes", [])}
    for line in sorted(set(sims) | set(kers)):
        s, k = sims.get(line), kers.get(line)
        if s is None or k is None:
            p = s or k
            assert p is not None
            diffs.append(f"line {line} `{p['command']}`: only the {'simulator' if k is None else 'kernel'} ran this probe")
            continue
        where = f"line {line} `{k['command']}`"

        def diff(what: str, a: Any, b: Any) -> None:
            if a != b:
                diffs.append(f"{where}: {what}: simulator {_show(a)}, kernel {_show(b)}")

        diff("outcome", s.get("outcome"), k.get("outcome"))
        si, ki = s.get("icmp") or {}, k.get("icmp") or {}
        diff("icmp type/code", (si.get("type"), si.get("code")) if si else None,
             (ki.get("type"), ki.get("code")) if ki else None)
        if si and ki:
            diff("icmp from", si.get("from"), ki.get("from"))
        diff("errno", s.get("errno"), k.get("errno"))
        sr, kr = s.get("received") or {}, k.get("received") or {}
        pinned = k.get("proto") != "icmp" and re.search(r"\s-[a-zA-Z]*p\s*\d", " " + k.get("command", ""))
        for key in ("ns", "src", "sport") if pinned else ("ns", "src"):
            diff(f"received {key}", sr.get(key), kr.get(key))
        if "counters" in s and "counters" in k:
            sc, kc = _counter_set(s["counters"] or {}), _counter_set(k["counters"] or {})
            for ns, table, chain, rule in sorted(set(sc) | set(kc)):
                diff(f"counter {ns} {table}/{chain}#{rule} packets", sc.get((ns, table, chain, rule), 0),
                     kc.get((ns, table, chain, rule), 0))
        if "conntrack" in s and "conntrack" in k:
            for ns in sorted(set(s["conntrack"]) | set(k["conntrack"])):
                a = Counter(_ct_key(e, fixed_ports) for e in s["conntrack"].get(ns, []))
                b = Counter(_ct_key(e, fixed_ports) for e in k["conntrack"].get(ns, []))
                for entry in sorted((a - b).elements()):
                    diffs.append(f"{where}: conntrack {ns}: only the simulator has {entry}")
                for entry in sorted((b - a).elements()):
                    diffs.append(f"{where}: conntrack {ns}: only the kernel has {entry}")
    return diffs


#: net.ipv4.ip_local_port_range's default: where unpinned source ports come from.
EPHEMERAL_PORTS = range(32768, 61000)


def _pinned_ports(*reports: dict[str, Any]) -> set[int]:
    """Every number a probe command names (ports chosen with ``-p``, destination ports, ...)."""
    return {int(n) for r in reports for p in r.get("probes", []) for n in re.findall(r"\d+", p.get("command", ""))}


def _ct_key(entry: str, pinned: set[int]) -> str:
    """A conntrack line with each side's free choices (unpinned ephemeral ports) blanked.

    >>> _ct_key("tcp 6 CLOSE src=10.0.0.1 dst=10.0.0.2 sport=45592 dport=80 "
    ...         "src=10.0.0.2 dst=10.0.0.1 sport=80 dport=45592 [ASSURED]", set())
    'tcp 6 CLOSE src=10.0.0.1 dst=10.0.0.2 sport=* dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=* [ASSURED]'
    """
    def port(m: re.Match[str]) -> str:
        n = int(m[2])
        return f"{m[1]}=*" if n in EPHEMERAL_PORTS and n not in pinned else m[0]
    return re.sub(r"\b(sport|dport)=(\d+)", port, " ".join(entry.split()))


def _counter_set(counters: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, str, str, int], int]:
    return {(ns, c["table"], c["chain"], c["rule"]): c["packets"] for ns, cs in counters.items() for c in cs}


def _show(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, tuple):
        return "/".join(map(str, v))
    return str(v)


def _summary(report: dict[str, Any]) -> str:
    lines = []
    for p in report["probes"]:
        exp = p.get("expect")
        mark = "" if exp is None else ("  ok" if exp["ok"] else f"  EXPECTED {exp['outcome']}")
        icmp = p.get("icmp")
        detail = f" (icmp {icmp['type']}/{icmp['code']} from {icmp['from']})" if icmp and icmp["type"] else ""
        err = f" {p['errno']}" if p.get("errno") else ""
        lines.append(f"{p['line']:>4}  {p['command']}\n      → {p['outcome']}{err}{detail}{mark}")
    for o in report["outputs"]:
        lines.append(f"{o['line']:>4}  {o['command']}\n" + "".join(f"      {ln}\n" for ln in o["stdout"].splitlines()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m simnet.kernel SCRIPT [--json]``: run a script on the real kernel.

    Exit status: 0 when every ``# expect:`` held, 1 when one did not, 2 on errors.
    """
    import argparse

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--helper"]:
        return _helper_main(args[1], args[2])
    if args[:1] == ["--inner"]:
        return _inner_main(args[1], args[3])
    parser = argparse.ArgumentParser(prog="simnet kernel-run", description="Run a scenario script on the real kernel.")
    parser.add_argument("script")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT)
    ns = parser.parse_args(args)
    try:
        report = run_on_kernel(ns.script, timeout=ns.timeout)
    except (KernelRunError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if ns.json else _summary(report))
    return 1 if any(p["expect"] and not p["expect"]["ok"] for p in report["probes"]) else 0


if __name__ == "__main__":
    sys.exit(main())
