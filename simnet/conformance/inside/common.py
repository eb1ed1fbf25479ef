"""What both sides of a kernel run share: limits, pinned settings, reading script commands,
and reading what ``iptables-save -c`` and ``conntrack -L`` print.

Standard library only: imported by bare name inside the run's namespaces, and as
``simnet.conformance.inside.common`` by the calling side.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

COMMAND_TIMEOUT = 5.0
PROBE_DEFAULT_TIMEOUT = 1.0
PROBE_MAX_TIMEOUT = 5.0
IPTABLES_TOOLS = frozenset({"iptables", "iptables-restore", "iptables-nft", "iptables-nft-restore"})
INSIDE = os.path.dirname(os.path.abspath(__file__))
BOOT = ("import sys; sys.path.insert(0, %r); import importlib; "
        "sys.exit(importlib.import_module(sys.argv[1]).main(sys.argv[2:]))" % INSIDE)
"""``python -I -S -c BOOT MODULE ARGS...`` runs ``MODULE.main(ARGS)`` from this directory: no
site-packages, no simnet import, and bytecode from the cache (a script file is compiled each
time it starts, ~40 ms, and a run starts dozens of helpers)."""
TOOL_EXIT_MARGIN = 0.2
"""How long before its timeout a TCP probe gives up (simnet's clock: exactly at it)."""
RUN_TIMEOUT = 120.0
TOOLS = ("unshare", "mount", "ip", "iptables", "iptables-save", "iptables-restore", "sysctl", "conntrack")

PINNED_SYSCTLS: tuple[tuple[str, str], ...] = (
    ("net.ipv6.conf.all.disable_ipv6", "1"),
    ("net.ipv6.conf.default.disable_ipv6", "1"),
    ("net.ipv4.icmp_ratelimit", "0"),
    ("net.ipv4.icmp_ratemask", "0"),
    ("net.ipv4.igmp_link_local_mcast_reports", "0"),
    *(
        (f"net.ipv4.conf.{scope}.{key}", value)
        for scope in ("all", "default")
        for key, value in (
            ("rp_filter", "0"), ("accept_local", "0"), ("route_localnet", "0"),
            ("arp_ignore", "0"), ("arp_announce", "0"), ("arp_filter", "0"),
            ("proxy_arp", "0"), ("send_redirects", "1"), ("accept_redirects", "1"),
            ("secure_redirects", "1"), ("shared_media", "1"),
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


_PROBES = ("ping", "nc", "ncat", "curl", "dig", "host", "nslookup", "getent")
EMBEDDED_DNS = "simnet-embedded-dns"
"""The runner's stand-in for Docker's resolver at 127.0.0.11 (inside/embedded_dns.py), which the
Docker export starts where dockerd would have started its resolver."""
_ALLOWED_IN_NS = {"ip", "iptables", "iptables-restore", "iptables-save", "sysctl", "bridge",
                  "ipset", "conntrack", "ping", "nc", "ncat", "socat", "curl", "python3", "echo", "printf", "sleep",
                  "ss", "dig", "host", "nslookup", "getent", "dnsmasq", EMBEDDED_DNS}
_RUNNER_BUILTINS = {"set", "kill", "sleep", "wait", "true", ":", "modprobe"}
FILE_TOOLS = frozenset({"cat", "head", "truncate", "mkdir", "rm", "echo", "printf"})
"""Commands on files: run in the runner's sandbox (an overlay over /etc, a tmpfs on /tmp), in or out of a netns."""
SANDBOX_DIRS = ("/etc/", "/tmp/")
"""Where a script may write files on the kernel side: the sandbox's own copies, never the machine's."""
READABLE = ("/etc/", "/tmp/", "/proc/sys/", "/dev/zero", "/dev/urandom", "/dev/null")


def sandboxed(path: str, *, read: bool = False) -> bool:
    """Whether the runner may write (or ``read``) ``path``: absolute, under :data:`SANDBOX_DIRS`.

    >>> sandboxed("/etc/netns/a/resolv.conf"), sandboxed("/etc/../root/x"), sandboxed("x"), sandboxed("/dev/zero", read=True)
    (True, False, False, True)
    """
    norm = os.path.normpath(path)
    if not path.startswith("/") or ".." in path.split("/"):
        return False
    allowed = READABLE if read else SANDBOX_DIRS
    return any(norm == a or norm.startswith(a) or norm + "/" == a for a in allowed)


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
    if tool == "set" or tool in (":", "true", "wait", "modprobe"):
        return "noop"  # modprobe: validated against simnet's built-in modules, never run (it changes the machine)
    if tool == "kill":
        return "kill"
    if tool == "sleep":
        return "sleep"
    if cmd.redirect is not None and os.path.normpath(cmd.redirect[1]).startswith("/proc/sys/"):
        return "write"
    if tool in FILE_TOOLS or (cmd.redirect is not None and tool not in (*_PROBES, "python3")):
        return "file"
    if tool in ("nc", "ncat") and ("-l" in inner or "--listen" in inner
                                   or any(re.fullmatch(r"-[a-zA-Z]*l[a-zA-Z]*", a) for a in inner[1:])):
        return "listener"
    if tool == "socat":
        return "listener"
    if tool == "python3" and inner[1:3] == ("-m", "http.server"):
        return "listener"
    if tool in ("dnsmasq", EMBEDDED_DNS):
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

    __slots__ = ("file", "line", "argv", "stdin", "pipe_from", "background", "redirect", "text", "data", "limit",
                 "redirect_netns", "stdin_path", "size")

    def __init__(self, d: dict[str, Any]) -> None:
        self.file, self.line, self.text = d["file"], d["line"], d["text"]
        self.argv = tuple(d["argv"])
        self.stdin = d["stdin"]
        self.pipe_from = tuple(d["pipe_from"]) if d["pipe_from"] is not None else None
        self.background = d["background"]
        self.redirect = tuple(d["redirect"]) if d["redirect"] is not None else None
        self.data = d["data"]
        self.limit = d.get("limit")
        self.redirect_netns = d.get("redirect_netns")
        self.stdin_path = d.get("stdin_path")
        self.size = d.get("size")
        """Bytes a sized source (head -c N /dev/zero, dd if=/dev/zero) pipes in."""

    @staticmethod
    def to_json(cmd: Any) -> dict[str, Any]:
        from simnet.script.lexer import _piped_data
        from simnet.tools.sized import piped_size

        ns, inner = _netns_of(cmd)
        stdin_path = cmd.stdin_path
        pipe_from = cmd.pipe_from
        size = piped_size(cmd.pipe_from)
        if pipe_from is not None and cmd.stdin is None and len(pipe_from) == 2 and pipe_from[0] == "cat":
            stdin_path, pipe_from = pipe_from[1], None  # cat FILE | CMD, as simnet reads it
        return {"file": cmd.file, "line": cmd.line, "text": cmd.text, "argv": list(cmd.argv), "stdin": cmd.stdin,
                "pipe_from": pipe_from, "stdin_path": stdin_path, "background": cmd.background, "redirect": cmd.redirect,
                "data": _piped_data(inner) if inner and (cmd.redirect is not None or inner[0] in ("echo", "printf"))
                else None, "limit": cmd.limit, "redirect_netns": cmd.redirect_netns,
                "size": size if isinstance(size, int) else None}

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


def _within(cmd: Any, own: float | None) -> float:
    """A probe's wait: its own -w/-m (1 s without), cut short by ``timeout(1)`` (``cmd.limit``)."""
    limit: float | None = getattr(cmd, "limit", None)
    if limit is None:
        return PROBE_DEFAULT_TIMEOUT if own is None else own
    return min(limit if own is None else min(own, limit), PROBE_MAX_TIMEOUT)


def _ping_within(limit: float | None, count: int, interval: float, wait: float | None) -> tuple[int, float]:
    """Same rule as :func:`simnet.script.shell.ping_within` (kept import-free for the inner runner)."""
    if limit is None:
        return count, PROBE_DEFAULT_TIMEOUT if wait is None else wait
    wait = 10.0 if wait is None else wait
    if (count - 1) * interval + wait <= limit:
        return count, wait
    sent = max(1, min(count, math.ceil(limit / interval - 1e-9) if interval > 0 else count))
    return sent, limit - (sent - 1) * interval


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
        opts, pos = _opts(cmd, inner[1:], "cWwtIisQM", "qnv4OD")
        if len(pos) != 1:
            raise _script_error(cmd, "ping needs exactly one destination")
        count = int(opts.get("c", "1"))
        if not 0 < count <= 10:
            raise _script_error(cmd, "ping -c must be 1..10 here")
        own = opts.get("W") or opts.get("w")
        interval = min(float(opts.get("i", "1")), 1.0)
        count, wait = _ping_within(getattr(cmd, "limit", None), count, interval,
                                   None if own is None else _seconds(cmd, own, PROBE_DEFAULT_TIMEOUT))
        src = opts.get("I")
        return {"kind": "ping", "proto": "icmp", "dst": pos[0], "dport": None, "count": count,
                "timeout": min(wait, PROBE_MAX_TIMEOUT), "ttl": int(opts["t"]) if "t" in opts else None,
                "interval": interval,
                "src": src if src and re.fullmatch(r"[0-9.]+", src) else None,
                "dev": src if src and not re.fullmatch(r"[0-9.]+", src) else None,
                "size": int(opts.get("s", "56")), "id": cmd.line & 0xFFFF,
                "pmtudisc": {"dont": 0, "want": 1, "do": 2, "probe": 3}.get(opts.get("M", ""))}
    if tool in ("nc", "ncat"):
        opts, pos = _opts(cmd, inner[1:], "wpsqW", "zuvnNkd4")
        if len(pos) != 2:
            raise _script_error(cmd, "nc needs DST PORT")
        udp = "u" in opts
        if hasattr(cmd, "size"):
            size = cmd.size
        else:  # the calling side validating the script: it may import simnet
            from simnet.tools.sized import piped_size

            size = piped_size(cmd.pipe_from)
            size = size if isinstance(size, int) else None
        if not udp and "z" not in opts and cmd.stdin is None and size is None:
            raise _script_error(cmd, "a TCP nc probe needs -z (or data piped in)")
        return {"kind": "udp" if udp else "tcp", "proto": "udp" if udp else "tcp", "dst": pos[0],
                "dport": _port(cmd, pos[1]), "src": opts.get("s"),
                "sport": _port(cmd, opts["p"]) if "p" in opts else None,
                "timeout": _within(cmd, None if "w" not in opts else _seconds(cmd, opts["w"], 0)),
                # nc -u writes nothing under -z or from empty input (< /dev/null)
                "data": (None if "z" in opts or cmd.stdin == "" else cmd.stdin or "") if udp else cmd.stdin,
                "size": None if udp or "z" in opts else size, "http": False}
    if tool == "curl":
        from urllib.parse import urlsplit
        args = list(inner[1:])
        url = None
        timeout = None
        src = None
        write_out = None
        long = {"--max-time": "m", "--connect-timeout": "m", "--output": "o", "--write-out": "w"}
        while args:
            a = args.pop(0)
            m = re.fullmatch(r"-([sSfIvk]*)([mow])(.*)", a)
            if a in long or m:
                letter, value = (long[a], None) if a in long else (m[2], m[3] or None)  # type: ignore[index]
                value = value if value is not None else (args.pop(0) if args else None)
                if value is None:
                    raise _script_error(cmd, f"curl option {a} needs a value")
                if letter == "m":
                    timeout = value
                elif letter == "o" and value != "/dev/null":
                    raise _script_error(cmd, "curl -o: only /dev/null (the runner writes no files)")
                elif letter == "w":
                    write_out = value
            elif a == "--interface":
                src = args.pop(0) if args else None
            elif re.fullmatch(r"-[sSfIvk]+|--silent|--show-error|--fail|--head|--verbose|--insecure", a):
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
                "src": src, "sport": None,
                "timeout": _within(cmd, None if timeout is None else _seconds(cmd, timeout, 0)),
                "data": None, "http": True, "host": parts.netloc, "path": parts.path or "/",
                "write_out": write_out}
    if tool in ("dig", "host", "nslookup", "getent"):
        return _parse_dns_client(cmd, inner)
    raise _script_error(cmd, f"{tool!r} is not a probe")


_CATS = ("cat", "/bin/cat", "/usr/bin/cat")


def _echo_service(cmd: Any, inner: tuple[str, ...]) -> dict[str, Any]:
    """An echo service's listener arguments (socat ... EXEC:cat, ncat -l ... --exec /bin/cat), run with the
    real tool (``real``: its argv, with ``PROGRAM`` where the runner puts its logging wrapper around cat);
    without ``real`` for a listener that only reads (the runner's own helper plays it)."""
    tool, words = inner[0], list(inner[1:])
    if tool == "socat":
        addrs = [w for w in words if not w.startswith("-") or w == "-"]
        if len(addrs) != 2:
            raise _script_error(cmd, "socat needs two addresses")
        listen = [a for a in addrs if re.match(r"(?i)(tcp|udp)4?-l(isten)?:", a)]
        if len(listen) != 1:
            raise _script_error(cmd, "socat needs one TCP-LISTEN or UDP-LISTEN address")
        head, *opts = listen[0].split(",")
        kind, _, listen_port = head.partition(":")
        other = addrs[1] if addrs[0] is listen[0] else addrs[0]
        okind, _, prog = other.partition(":")
        bind = next((o.split("=", 1)[1] for o in opts if o.lower().startswith("bind=")), "0.0.0.0")
        base = {"proto": "udp" if kind.lower().startswith("udp") else "tcp", "addr": bind,
                "port": int(listen_port) & 0xFFFF if listen_port.isdigit() else _port(cmd, listen_port),
                "keep": any(o.lower() == "fork" for o in opts), "http": False}
        echo = okind.upper() in ("EXEC", "SYSTEM") and prog.strip("'\"") in _CATS or okind.upper() == "PIPE"
        if not echo or "-u" in words:
            return base  # reads only: the runner's helper plays it
        real = [tool, *[w if w is not other else "EXEC:PROGRAM" for w in words]]  # socat's own, as written
        return {**base, "real": real}
    keep = udp = False
    program: str | None = None
    port: str | None = None
    pos = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("-p", "-e", "--exec", "-c", "--sh-exec") and i + 1 < len(words):
            if w == "-p":
                port = words[i + 1]
            else:
                program = words[i + 1]
            i += 2
            continue
        if w.startswith(("--exec=", "--sh-exec=")):
            program = w.split("=", 1)[1]
        elif w in ("--keep-open", "--udp", "--listen") or re.fullmatch(r"-[lkuvn46]+", w):
            keep = keep or w == "--keep-open" or (not w.startswith("--") and "k" in w)
            udp = udp or w == "--udp" or (not w.startswith("--") and "u" in w)
        else:
            pos.append(w)
        i += 1
    port = port or (pos.pop() if pos else "31337")
    base = {"proto": "udp" if udp else "tcp", "addr": pos[0] if pos else "0.0.0.0", "port": _port(cmd, port),
            "keep": keep, "http": False}
    if program is None:
        return base  # reads only: the runner's helper
    if program.strip("'\"") not in _CATS:
        raise _script_error(cmd, "only --exec /bin/cat (an echo service) is supported")
    real = ["ncat", "-l", *(["-k"] if keep else []), *(["-u"] if udp else []), "-p", str(base["port"]),
            *([pos[0]] if pos else []), "--exec", "PROGRAM"]
    return {**base, "real": real}


def _parse_dns_client(cmd: Any, inner: tuple[str, ...]) -> dict[str, Any]:
    """dig/host/nslookup/getent run as they are (simnet.conformance.inside.dnstools.client): the
    server they ask and how long they may take (dig: +time x +tries; host, nslookup: their defaults)."""
    words = inner[1:]
    server = next((w[1:] for w in words if w.startswith("@")), None)
    if inner[0] in ("host", "nslookup"):
        pos = [w for w in words if not w.startswith("-")]
        server = pos[1] if len(pos) > 1 else None
    wait = 30.0
    if inner[0] == "dig":
        t = next((int(w.split("=")[1]) for w in words if re.fullmatch(r"\+time(?:out)?=\d+", w)), 5)
        n = next((int(w.split("=")[1]) + (1 if w.startswith("+retry") else 0) for w in words
                  if re.fullmatch(r"\+(?:tries|retry)=\d+", w)), 3)
        wait = float(max(t, 1) * max(n, 1))
    return {"kind": "dnsclient", "proto": "udp", "dst": server, "dport": 53 if inner[0] != "getent" else None,
            "timeout": min(wait, 60.0), "argv": list(inner)}


def parse_embedded_dns(argv: list[str]) -> dict[str, Any]:
    """``simnet-embedded-dns --udp-port=N --tcp-port=N [--host-netns=NS] [--record=NAME,IP]...
    [--upstream=[host:]IP]...`` (no --host-netns: the host is the run's own namespace)."""
    spec: dict[str, Any] = {"records": {}, "upstreams": [], "host_netns": None}
    for w in argv:
        key, _, value = w.partition("=")
        if key in ("--udp-port", "--tcp-port"):
            if not value.isdigit() or not 0 < int(value) < 65536:
                raise ValueError(f"simnet-embedded-dns: bad port {value!r} in {w!r}")
            spec[key[2:5]] = int(value)
        elif key == "--host-netns":
            spec["host_netns"] = value
        elif key == "--record":
            name, _, addr = value.partition(",")
            spec["records"].setdefault(name.lower(), []).append(addr)
        elif key == "--upstream":
            host, _, addr = value.rpartition(":")
            spec["upstreams"].append((addr, host == "host"))
        else:
            raise ValueError(f"simnet-embedded-dns: unknown option {w!r}")
    if "udp" not in spec or "tcp" not in spec:
        raise ValueError("simnet-embedded-dns: --udp-port and --tcp-port are required")
    return spec


def _parse_listener(cmd: Any, inner: tuple[str, ...]) -> dict[str, Any]:
    if inner[0] == EMBEDDED_DNS:
        try:
            spec = parse_embedded_dns(list(inner[1:]))
        except ValueError as e:
            raise _script_error(cmd, str(e)) from None
        return {"proto": "udp", "addr": "127.0.0.11", "port": spec["udp"], "keep": True, "http": False,
                "standin": list(inner), "host_netns": spec["host_netns"]}
    if inner[0] == "dnsmasq":
        dns_port = next((w.split("=", 1)[1] for w in inner if w.startswith("--port=")), "53")
        return {"proto": "udp", "addr": "0.0.0.0", "port": _port(cmd, dns_port), "keep": True, "http": False,
                "dnsmasq": list(inner)}
    if inner[0] in ("socat", "ncat"):
        return _echo_service(cmd, inner)
    if inner[0] == "python3":
        args = list(inner[3:])
        http_port, bind = 8000, "0.0.0.0"
        directory: str | None = None
        while args:
            a = args.pop(0)
            if a in ("--bind", "-b") and args:
                bind = args.pop(0)
            elif a in ("--directory", "-d") and args:
                directory = args.pop(0)
            elif a.isdigit():
                http_port = _port(cmd, a)
            else:
                raise _script_error(cmd, f"unsupported http.server argument {a!r}")
        return {"proto": "tcp", "addr": bind, "port": http_port, "keep": True, "http": True, "directory": directory}
    opts, pos = _opts(cmd, inner[1:], "spwq", "lukvnNd4")
    port = opts.get("p") or (pos.pop() if pos else None)
    if port is None or pos:
        raise _script_error(cmd, "nc -l needs exactly one PORT")
    return {"proto": "udp" if "u" in opts else "tcp", "addr": opts.get("s", "0.0.0.0"),
            "port": _port(cmd, port), "keep": "k" in opts, "http": False}


def _prints(inner: tuple[str, ...]) -> bool:
    """Whether a command's stdout belongs in the report's ``outputs``."""
    if not inner:
        return False
    tool, args = inner[0], inner[1:]
    if tool in ("iptables-save", "ss"):
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


_CT_DROP = re.compile(r"^(?:id|mark|use|secctx)=")


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


def _parse_counters(text: str) -> dict[tuple[str, str, int], tuple[int, int]]:
    """``iptables-save -c`` → {(table, chain, rule): (packets, bytes)}; rule 0 is the chain policy."""
    counters: dict[tuple[str, str, int], tuple[int, int]] = {}
    table = ""
    index: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("*"):
            table, index = line[1:].strip(), {}
        elif line.startswith(":"):
            m = re.match(r":(\S+) (\S+) \[(\d+):(\d+)\]", line)
            if m and m[2] != "-":
                counters[(table, m[1], 0)] = (int(m[3]), int(m[4]))
        elif line.startswith("["):
            m = re.match(r"\[(\d+):(\d+)\] -A (\S+)", line)
            if m:
                index[m[3]] = index.get(m[3], 0) + 1
                counters[(table, m[3], index[m[3]])] = (int(m[1]), int(m[2]))
    return counters


def _counter_delta(before: dict[str, dict[tuple[str, str, int], tuple[int, int]]],
                   after: dict[str, dict[tuple[str, str, int], tuple[int, int]]]) -> dict[str, list[dict[str, Any]]]:
    """Per namespace, the rules whose packet counter rose: their packet and byte increases."""
    out: dict[str, list[dict[str, Any]]] = {}
    for ns in sorted(after):
        rows = []
        for key, (packets, nbytes) in after[ns].items():
            p0, b0 = before.get(ns, {}).get(key, (0, 0))
            if packets - p0 > 0:
                rows.append({"table": key[0], "chain": key[1], "rule": key[2], "packets": packets - p0,
                             "bytes": nbytes - b0})
        if rows:
            out[ns] = sorted(rows, key=lambda r: (r["table"], r["chain"], r["rule"]))
    return out

def _ns_ids() -> str:
    """``MNT:NET`` namespace inode numbers of this process (to prove the inner run is elsewhere)."""
    return f"{os.stat('/proc/self/ns/mnt').st_ino}:{os.stat('/proc/self/ns/net').st_ino}"

