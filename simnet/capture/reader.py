"""Reading a live host, read-only, through an injectable command runner.

:func:`read_host` asks the host's own tools (``ip``, ``bridge``, ``sysctl``, ``iptables-save``,
``ipset``, ``ss``, ``docker``, ``lsns``) and nothing else: it never writes a file, changes a
namespace or sends a packet.  Other namespaces are entered with ``nsenter --net=PATH`` (a named
namespace's ``/run/netns/NAME``, a container's ``/proc/PID/ns/net``), which needs root; what
cannot be read (no root, a missing tool) becomes a :class:`~simnet.capture.model.Note` with
``skipped=True`` and the capture goes on.  Namespaces are told apart by their inode
(``readlink /proc/self/ns/net`` inside each), so a namespace reachable by two names is read once.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from simnet.capture import iproute, netfilter, sysctl
from simnet.capture.model import Capture, Namespace, Note

__all__ = ["CommandRunner", "NsRef", "Result", "read_host", "subprocess_runner"]


@dataclass(frozen=True, slots=True)
class Result:
    """What one command printed and returned."""

    stdout: str
    stderr: str = ""
    returncode: int = 0


@dataclass(frozen=True, slots=True)
class NsRef:
    """A namespace to read: its name in the script and the nsfs path to enter (None: our own)."""

    name: str
    path: str | None = None


CommandRunner = Callable[[Sequence[str], "NsRef | None"], Result]
"""``runner(argv, netns)``: run ``argv`` inside ``netns`` (None or a ref without path: the caller's own)."""

TIMEOUT = 20.0


def subprocess_runner(argv: Sequence[str], netns: NsRef | None = None) -> Result:
    """Run a read-only tool for real; another namespace through ``nsenter --net=PATH``."""
    full = list(argv) if netns is None or netns.path is None else ["nsenter", f"--net={netns.path}", "--", *argv]
    try:
        p = subprocess.run(full, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return Result("", f"{full[0]}: command not found", 127)
    except subprocess.TimeoutExpired:
        return Result("", f"{' '.join(full)}: no answer within {TIMEOUT:g} s", 124)
    return Result(p.stdout, p.stderr, p.returncode)


@dataclass
class _Reader:
    run: CommandRunner
    notes: list[Note]

    def out(self, argv: Sequence[str], ns: NsRef, *, what: str | None = None) -> str | None:
        """stdout, or None (and a skipped note) when the command failed."""
        r = self.run(list(argv), ns)
        if r.returncode != 0:
            first = (r.stderr or r.stdout).strip().splitlines()
            why = first[0] if first else f"exit {r.returncode}"
            self.notes.append(Note(netns=ns.name, what=f"`{' '.join(argv)}` could not be read: {why}"
                                   + (f" ({what})" if what else ""), skipped=True))
            return None
        return r.stdout


def read_host(run: CommandRunner = subprocess_runner, *, netns: Sequence[str] | None = None,
              all_netns: bool = False, docker: bool = False, listeners: bool = False, neigh: bool = False,
              counters: bool = False, root: str = "host", now: datetime | None = None) -> Capture:
    """Capture the host the runner runs on.

    ``netns``: only these named namespaces (default: every named one); ``all_netns``: also the
    namespaces only a process holds (``lsns``); ``docker``: every running container's namespace,
    named ``ROOT-CONTAINER`` as simnet names Docker's; ``listeners``: listening sockets (``ss``);
    ``neigh``: dynamic neighbour entries too; ``counters``: ``iptables-save -c``.
    """
    rd = _Reader(run, [])
    me = NsRef(root)
    host = (rd.out(["uname", "-n"], me) or "unknown").strip()
    kernel = (rd.out(["uname", "-r"], me) or "unknown").strip()
    when = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listing = rd.out(["ip", "-j", "netns", "list"], me)
    named = sorted(str(d["name"]) for d in json.loads(listing or "[]") or [] if "name" in d) if listing else []
    while root in named:  # a named namespace already has the root's name
        root += "-root"
    me = NsRef(root)
    refs: list[NsRef] = [me]
    wanted = named if netns is None else [n for n in netns]
    for name in wanted:
        if name not in named:
            rd.notes.append(Note(netns=name, what=f'no namespace "{name}" on this host', skipped=True))
            continue
        refs.append(NsRef(name, f"/run/netns/{name}"))
    if docker:
        refs += _docker_refs(rd, me, root)
    if all_netns:
        refs += _lsns_refs(rd, me)
    seen: dict[str, str] = {}
    spaces: list[Namespace] = []
    for ref in refs:
        ident = rd.run(["readlink", "/proc/self/ns/net"], ref)
        if ident.returncode != 0:
            why = (ident.stderr.strip().splitlines() or [f"exit {ident.returncode}"])[0]
            rd.notes.append(Note(netns=ref.name, what=f"could not enter the namespace: {why} (needs root)",
                                 skipped=True))
            continue
        key = ident.stdout.strip()
        if key in seen:
            if ref.path is not None and not ref.path.startswith("/proc/"):
                rd.notes.append(Note(netns=ref.name, what=f"the same namespace as {seen[key]}: read once"))
            continue
        seen[key] = ref.name
        spaces.append(_read_namespace(rd, ref, key, listeners=listeners, neigh=neigh, counters=counters))
    return Capture(host=host, kernel=kernel, time=when, namespaces=tuple(spaces), notes=tuple(rd.notes), root=root)


def _docker_refs(rd: _Reader, me: NsRef, root: str) -> list[NsRef]:
    ids = rd.out(["docker", "ps", "-q", "--no-trunc"], me, what="--docker")
    if not ids or not ids.split():
        return []
    text = rd.out(["docker", "inspect", "-f", "{{.Name}} {{.State.Pid}}", *ids.split()], me, what="--docker")
    return [NsRef(f"{root}-{name}", f"/proc/{pid}/ns/net") for name, pid in netfilter.parse_docker_pids(text or "")]


def _lsns_refs(rd: _Reader, me: NsRef) -> list[NsRef]:
    text = rd.out(["lsns", "-l", "-t", "net", "-J", "-o", "NS,PID,NSFS"], me, what="--all-netns")
    if not text:
        return []
    out = []
    for d in json.loads(text).get("namespaces", []):
        if d.get("nsfs") or d.get("pid") is None:
            continue  # named ones are read by name
        out.append(NsRef(f"ns{d['ns']}", f"/proc/{d['pid']}/ns/net"))
    return sorted(out, key=lambda r: r.name)


def _read_namespace(rd: _Reader, ref: NsRef, ident: str, *, listeners: bool, neigh: bool,
                    counters: bool) -> Namespace:
    def get(*argv: str, what: str | None = None) -> str:
        return rd.out(argv, ref, what=what) or ""

    link_text = get("ip", "-d", "-j", "link")
    links = iproute.parse_links(link_text)
    addr_text = get("ip", "-j", "addr")
    kinds = {l.kind for l in links}
    fdb = iproute.parse_fdb(get("bridge", "-j", "fdb")) if kinds & {"bridge", "vxlan"} else ()
    filtering = any(dict(l.options).get("vlan_filtering", "0") != "0" for l in links)
    vlans = iproute.parse_vlans(get("bridge", "-j", "vlan")) if filtering else ()
    neighbours = tuple(n for n in iproute.parse_neigh(get("ip", "-4", "-j", "neigh"))
                       if neigh and n.state not in ("FAILED", "INCOMPLETE", "NOARP") or n.state == "PERMANENT")
    keys = sysctl.keys_for([l.name for l in links])
    sysctls = sysctl.parse_sysctl(get("sysctl", "-e", *keys))
    save = rd.out(["iptables-save", "-c"] if counters else ["iptables-save"], ref, what="iptables needs root")
    sets = rd.out(["ipset", "save"], ref, what="ipset needs root") if save is not None else None
    socks = netfilter.parse_ss(get("ss", "-H", "-ltnu")) if listeners else ()
    ipv6 = list(iproute.parse_ipv6(addr_text))
    six = rd.run(["ip", "-6", "-j", "route", "show", "table", "all"], ref)
    if six.returncode == 0:
        ipv6 += [f"route {r}" for r in iproute.parse_ipv6_routes(six.stdout)]
    if save is not None:  # ip6tables-save needs root as iptables-save does; absent tools are no news
        rules6 = rd.run(["ip6tables-save"], ref)
        n = sum(line.startswith("-A ") for line in rules6.stdout.splitlines()) if rules6.returncode == 0 else 0
        if n:
            ipv6.append(f"{n} ip6tables rules")
    return Namespace(
        name=ref.name, identity=ident, nsids=iproute.parse_nsids(get("ip", "-j", "netns", "list-id")),
        links=links, addrs=iproute.parse_addrs(addr_text), routes=iproute.parse_routes(
            get("ip", "-4", "-j", "route", "show", "table", "all")),
        rules=iproute.parse_rules(get("ip", "-4", "-j", "rule")), neighbours=neighbours, fdb=fdb,
        sysctls=sysctls, iptables=save, ipsets=sets, listeners=socks, ipv6=tuple(ipv6),
        vlans=vlans)
