"""``dockerd``, ``docker`` and ``systemctl ... docker`` lines of a scenario script.

The interpreter hands every such line to :func:`compile_docker`, which checks
its words when the script is compiled (so a malformed line stops the script
before anything runs, naming ``file:line``) and returns the step that drives
the host's :class:`~simnet.docker.daemon.DockerDaemon` when it runs.

The Docker host is the namespace the command runs in::

    ip netns exec h1 dockerd --era 1.9 &                 # start a daemon on h1 (1.9, 27, 28, 29)
    ip netns exec h1 docker run -d -p 1180:5000 --name registry registry:2
    ip netns exec h1 docker exec registry ping -c 1 172.17.0.1
    ip netns exec h1-registry ping -c 1 172.17.0.1       # the same: a container's netns is HOST-NAME
    ip netns exec h1 systemctl restart docker

Without ``ip netns exec`` the host is the script's root namespace.

At about 740 lines this module is over the ~700-line guide on purpose: it is one table of the
``docker``/``dockerd`` verbs, each a short compiler sharing the option reader (``_Opts``), the
daemon lookup and its error guard; split by verb, one CLI's wording would be spread over files.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable

from simnet.docker.daemon import DockerDaemon, DockerError
from simnet.docker.era import ERAS, Era
from simnet.docker.firewall import PortBinding
from simnet.docker.resolver import DnsSettings
from simnet.script.expect import ScriptError

if TYPE_CHECKING:
    from simnet.script.lexer import Command

__all__ = ["compile_docker", "tabulate"]

_STEP = Callable[[Any], None]
_NOT_RUNNING = ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                "Is the docker daemon running?")


class DockerUsage(ScriptError):
    """A line the docker CLI itself would refuse (unknown command or flag, missing argument)."""


def _err(cmd: "Command", message: str) -> ScriptError:
    return ScriptError(cmd.file, cmd.line, message)


def tabulate(rows: list[list[str]], minwidth: int) -> str:
    """Go's ``text/tabwriter`` with padding 3 and padchar ' ', as the docker CLI prints tables
    (minwidth 20 in 1.9, 10 from 17.x); the last column is not padded."""
    if not rows:
        return ""
    ncol = max(len(r) for r in rows)
    widths = [max(minwidth, max((len(r[i]) + 3 for r in rows if i < len(r) - 1), default=0))
              for i in range(ncol - 1)]
    out = []
    for r in rows:
        cells = [c.ljust(widths[i]) if i < len(r) - 1 else c for i, c in enumerate(r)]
        out.append("".join(cells))
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------- option parsing


class _Opts:
    """A small getopt for docker's pflag syntax: ``--flag value``, ``--flag=value``, ``-p value``, ``-dit``."""

    def __init__(self, cmd: "Command", prog: str, args: list[str], *, values: dict[str, str],
                 flags: dict[str, str], multi: tuple[str, ...] = (), stop_at_positional: bool = False) -> None:
        self.values: dict[str, Any] = {k: [] for k in multi}
        self.flags: set[str] = set()
        self.rest: list[str] = []
        i = 0
        while i < len(args):
            w = args[i]
            if w == "--":
                self.rest.extend(args[i + 1:])
                break
            if w.startswith("--") or (w.startswith("-") and len(w) == 2):
                name, eq, val = w.partition("=")
                if name in values:
                    key = values[name]
                    if not eq:
                        if i + 1 >= len(args):
                            raise _err(cmd, f"{prog}: flag needs an argument: {name}\nSee '{prog} --help'.")
                        i += 1
                        val = args[i]
                    if key in multi:
                        self.values[key].append(val)
                    else:
                        self.values[key] = val
                elif name in flags:
                    if eq and val not in ("true", "false"):
                        raise _err(cmd, f'{prog}: invalid argument "{val}" for "{name}" flag: '
                                        f'strconv.ParseBool: parsing "{val}": invalid syntax')
                    if val != "false":
                        self.flags.add(flags[name])
                    else:
                        self.flags.add("no-" + flags[name])
                else:
                    raise _err(cmd, f"{prog}: unknown flag: {name}\nSee '{prog} --help'.")
            elif w.startswith("-") and len(w) > 2 and not w[1].isdigit():
                # combined short flags, e.g. -dit, or -p1180:5000
                j = 1
                while j < len(w):
                    short = "-" + w[j]
                    if short in values:
                        if not w[j + 1:] and i + 1 >= len(args):
                            raise _err(cmd, f"{prog}: flag needs an argument: '{w[j]}' in -{w[j]}")
                        val = w[j + 1:] or args[i + 1]
                        if not w[j + 1:]:
                            i += 1
                        key = values[short]
                        if key in multi:
                            self.values[key].append(val)
                        else:
                            self.values[key] = val
                        break
                    if short not in flags:
                        raise _err(cmd, f"{prog}: unknown shorthand flag: '{w[j]}' in {w}\nSee '{prog} --help'.")
                    self.flags.add(flags[short])
                    j += 1
            else:
                if stop_at_positional:
                    self.rest.extend(args[i:])
                    break
                self.rest.append(w)
            i += 1

    def get(self, key: str, default: Any = None) -> Any:
        v = self.values.get(key, default)
        return default if v == [] and default is not None else v


# ------------------------------------------------------------------------------- compile


def compile_docker(cmd: "Command", ns: str | None, argv: tuple[str, ...],
                   compile_inner: Callable[["Command"], tuple[_STEP, bool]]) -> tuple[_STEP, bool]:
    """Check one ``dockerd``/``docker``/``systemctl`` line; return (step, starts-a-background-job)."""
    tool = argv[0]
    if tool == "dockerd":
        return _compile_dockerd(cmd, ns, list(argv[1:])), False
    if tool == "systemctl":
        return _compile_systemctl(cmd, ns, list(argv[1:])), False
    if cmd.background:
        raise _err(cmd, "only dockerd and listeners run in the background; docker commands return at once "
                        "(use 'docker run -d' or 'docker exec -d')")
    args = list(argv[1:])
    if not args:
        raise _err(cmd, "docker: a command is needed, e.g. docker run, docker ps, docker network create")
    sub, rest = args[0], args[1:]
    if sub == "container" and rest:
        sub, rest = rest[0], rest[1:]
        sub = {"ls": "ps", "list": "ps"}.get(sub, sub)
    handlers = {"run": _run, "ps": _ps, "inspect": _inspect, "stop": _stop, "kill": _stop, "rm": _rm,
                "start": _start, "restart": _restart_container, "network": _network, "port": _port}
    if sub == "exec":
        return _exec(cmd, ns, rest, compile_inner)
    if sub not in handlers:
        raise _err(cmd, f"docker: '{sub}' is not a docker command.\nSee 'docker --help'")
    return handlers[sub](cmd, ns, rest), False


def _host(run: Any, ns: str | None) -> str:
    from simnet.script.ip import root_netns

    return run.ns(ns).name if ns is not None else root_netns(run.world).name


def _daemon(run: Any, ns: str | None) -> DockerDaemon:
    d: DockerDaemon | None = run.docker.get(_host(run, ns))
    if d is None or not d.started:
        raise DockerError(_NOT_RUNNING)
    return d


def _guard(cmd: "Command", prefix: str, fn: Callable[[Any], None]) -> _STEP:
    """Run ``fn``; a daemon error becomes the CLI's ``Error response from daemon: ...`` at file:line."""
    def step(run: Any) -> None:
        try:
            fn(run)
        except DockerError as e:
            msg = str(getattr(e, "message", None) or e)
            if msg == _NOT_RUNNING or msg.startswith("No such container"):
                text = (prefix + msg) if msg == _NOT_RUNNING else f"Error response from daemon: {msg}"
            else:
                text = f"{prefix}Error response from daemon: {msg}"
            raise _err(cmd, text) from None
    return step


_DAEMON_FLAGS = {"--icc": "icc", "--userland-proxy": "userland_proxy", "--iptables": "iptables",
                 "--ip-masq": "ip_masq", "--ip-forward": "ip_forward", "--live-restore": "live_restore",
                 "--ip-forward-no-drop": "ip_forward_no_drop", "--allow-direct-routing": "allow_direct_routing"}
_DAEMON_DEFAULTS = {"icc": True, "userland_proxy": True, "iptables": True, "ip_masq": True, "ip_forward": True,
                    "live_restore": False, "ip_forward_no_drop": False, "allow_direct_routing": False}
_DAEMON_SINCE = {"--live-restore": Era.V27, "--ip-forward-no-drop": Era.V28, "--allow-direct-routing": Era.V28,
                 "--default-network-opt": Era.V27}
"""The era that first has each dockerd option (1.12, 28.0, 28.2, 27.x); earlier eras refuse it."""


def _compile_dockerd(cmd: "Command", ns: str | None, args: list[str]) -> _STEP:
    env: dict[str, str] = {}
    if args[:1] == ["--env-prefix"] and len(args) > 1 and args[1].isdigit() and int(args[1]) <= len(args) - 2 \
            and all("=" in kv for kv in args[2:2 + int(args[1])]):  # env VAR=VALUE ... dockerd (interpreter)
        n = int(args[1])
        env = dict(kv.split("=", 1) for kv in args[2:2 + n])
        args = args[2 + n:]
    o = _Opts(cmd, "dockerd", args, values={"--era": "era", "--bip": "bip", "--bridge": "bridge", "-b": "bridge",
                                            "--default-network-opt": "netopt", "--mtu": "mtu"},
              flags=_DAEMON_FLAGS, multi=("netopt",))
    if o.rest:
        raise _err(cmd, f'dockerd: "dockerd" accepts no arguments (got {o.rest[0]!r})')
    era = o.get("era", "29")
    if era not in ERAS:
        raise _err(cmd, f"dockerd: --era {era}: simnet models Docker {', '.join(ERAS)} (1.9 = the chapter's; "
                        "27 = 20.10-27.x; 28 = 28.x; 29 = current)")
    given = {w.split("=")[0] for w in args if w.startswith("--")}
    for flag, since in _DAEMON_SINCE.items():
        if flag in given and Era(era).before(since):
            raise _err(cmd, f"unknown flag: {flag}")
    netopts: dict[str, str] = {}
    for kv in o.get("netopt", []):
        driver, eq, opt = kv.partition("=")
        key, eq2, value = opt.partition("=")
        if not eq or not eq2:
            raise _err(cmd, f'invalid argument "{kv}" for "--default-network-opt" flag: vals must be of the '
                            "form: <driver>=<key>=<value>")
        if driver == "bridge":
            netopts[key] = value
    mtu_word = o.get("mtu", "0")
    if not re.fullmatch(r"[+-]?[0-9]+", mtu_word):
        raise _err(cmd, f'invalid argument "{mtu_word}" for "--mtu" flag: strconv.ParseInt: parsing '
                        f'"{mtu_word}": invalid syntax')
    options: dict[str, Any] = {"era": era, "bip": o.get("bip"), "default_bridge": o.get("bridge", "docker0"),
                               "default_network_opts": netopts, "env": env, "mtu": int(mtu_word)}
    for flag, key in _DAEMON_FLAGS.items():
        options[key] = ("no-" + key not in o.flags) if _DAEMON_DEFAULTS[key] else (key in o.flags)
    if options["bip"] is not None:
        try:
            from ipaddress import IPv4Interface

            IPv4Interface(options["bip"])
        except ValueError:
            raise _err(cmd, f"dockerd: invalid --bip {options['bip']!r}: want an address in CIDR form, "
                            "e.g. 172.17.0.1/16") from None

    def fn(run: Any) -> None:
        host = _host(run, ns)
        d = run.docker.get(host)
        try:
            if d is None:
                kw = dict(options)
                kw["bridge"] = kw.pop("default_bridge")
                d = DockerDaemon(run.world, host, **kw)
                run.docker[host] = d
                d.start()
            else:  # dockerd again: a restart, with the options of this command line
                d.restart(**options)
        except DockerError as e:
            if str(e).startswith("failed to start daemon"):
                raise _err(cmd, str(e)) from None  # dockerd's own stderr, exit status 1
            raise
    return _guard(cmd, "dockerd: ", fn)


def _compile_systemctl(cmd: "Command", ns: str | None, args: list[str]) -> _STEP:
    if len(args) != 2 or args[1] not in ("docker", "docker.service"):
        raise _err(cmd, "unsupported systemctl command: simnet knows 'systemctl start|stop|restart docker'")
    verb = args[0]
    if verb not in ("start", "stop", "restart"):
        raise _err(cmd, f"unsupported 'systemctl {verb} docker': use start, stop or restart")

    def fn(run: Any) -> None:
        host = _host(run, ns)
        d = run.docker.get(host)
        if d is None:
            raise DockerError("Unit docker.service has not been started by this script: start it with 'dockerd'")
        if verb == "stop":
            if d.started:
                d.shutdown()
        elif verb == "start":
            if not d.started:
                d.restart()
        else:
            d.restart()
    return _guard(cmd, "", fn)


_RUN_VALUES = {"--name": "name", "-p": "publish", "--publish": "publish", "--network": "network",
               "--net": "network", "--ip": "ip", "--mac-address": "mac", "--restart": "restart",
               "--expose": "expose", "-e": "env", "--env": "env", "-v": "volume", "--volume": "volume",
               "-h": "hostname", "--hostname": "hostname", "--entrypoint": "entrypoint", "--sysctl": "sysctl",
               "--dns": "dns", "--dns-search": "dns_search", "--dns-option": "dns_option", "--dns-opt": "dns_option",
               "--add-host": "add_host", "--network-alias": "alias", "--net-alias": "alias", "--link": "link"}
_RUN_FLAGS = {"-d": "detach", "--detach": "detach", "-i": "i", "--interactive": "i", "-t": "t", "--tty": "t",
              "--rm": "rm", "-P": "publish_all", "--publish-all": "publish_all", "--privileged": "privileged"}


def _run(cmd: "Command", ns: str | None, args: list[str]) -> _STEP:
    o = _Opts(cmd, "docker run", args, values=_RUN_VALUES, flags=_RUN_FLAGS,
              multi=("publish", "expose", "env", "volume", "sysctl", "dns", "dns_search", "dns_option", "add_host",
                     "alias", "link"), stop_at_positional=True)
    if not o.rest:
        raise _err(cmd, '"docker run" requires at least 1 argument.\nSee \'docker run --help\'.')
    if "detach" not in o.flags:
        raise _err(cmd, "docker run without -d would attach to the container and not return: use docker run -d")
    image, command = o.rest[0], tuple(o.rest[1:])
    for spec in o.get("publish", []):
        try:
            PortBinding.parse_spec(spec)
        except ValueError as bad:  # the CLI parses -p before it talks to the daemon
            raise _err(cmd, f"docker: {bad}.\nSee 'docker run --help'.") from None
    for e in o.get("expose", []):
        if not re.fullmatch(r"0*\d{1,5}(/(tcp|udp))?", e) or int(e.split("/")[0]) > 65535:
            raise _err(cmd, f"docker: Invalid range format for --expose: {e}.\nSee 'docker run --help'.")
    network = o.get("network", "default")
    sysctls: dict[str, str] = {}
    for kv in o.get("sysctl", []):
        key, eq, value = kv.partition("=")
        if not eq:
            raise _err(cmd, f'docker: invalid argument "{kv}" for "--sysctl" flag: invalid value {kv}: sysctls '
                            "must be in the form key=value.\nSee 'docker run --help'.")
        sysctls[key] = value
    names = _dns_settings(cmd, o)
    name = o.get("name")
    if name is not None and not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", name):
        raise _err(cmd, f'docker: Error response from daemon: Invalid container name ({name}), only '
                        '[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed.')

    def fn(run: Any) -> None:
        d = _daemon(run, ns)
        if sysctls and d.era is Era.V1_9:
            raise _err(cmd, "docker run: unknown flag: --sysctl")
        if o.get("alias") and network in ("default", "bridge", "host", "none"):
            raise DockerError("network-scoped alias is supported only for containers in user defined networks")
        c = d.run(name, network=network, publish=o.get("publish", []), ip=o.get("ip"), mac=o.get("mac"),
                  image=image, command=command, publish_all="publish_all" in o.flags,
                  restart=o.get("restart", "no"), expose=o.get("expose", []), sysctls=sysctls,
                  names=_host_gateway(d, names), aliases=o.get("alias", []))
        out = c.id + "\n"
        if network == "host" and c.ports == () and (o.get("publish") or "publish_all" in o.flags):
            out = "WARNING: Published ports are discarded when using host network mode\n" + out
        run.output(cmd, out)
    return _guard(cmd, "docker: ", fn)


def _dns_settings(cmd: "Command", o: _Opts) -> DnsSettings:
    """``--hostname``, ``--dns``, ``--dns-search``, ``--dns-option``, ``--add-host``, ``--link`` as the CLI
    checks them (opts.ValidateIPAddress, ValidateExtraHost, ValidateDNSSearch)."""
    from ipaddress import ip_address

    def bad(flag: str, value: str, why: str) -> ScriptError:
        return _err(cmd, f'docker: invalid argument "{value}" for "{flag}" flag: {why}\nSee \'docker run --help\'.')
    for d in o.get("dns", []):
        try:
            ip_address(d)
        except ValueError:
            raise bad("--dns", d, f"IP address is not correctly formatted: {d}") from None
    for dom in o.get("dns_search", []):
        if dom != "." and (dom.startswith(".") or not re.fullmatch(r"[A-Za-z0-9._-]{1,255}", dom)):
            raise bad("--dns-search", dom, f"{dom} is not a valid domain")
    hosts = []
    for h in o.get("add_host", []):
        name, sep, ip = h.partition("=") if "=" in h else h.partition(":")
        if not sep or not name:
            raise bad("--add-host", h, f'bad format for add-host: "{h}"')
        if ip != "host-gateway":
            try:
                ip_address(ip.strip("[]"))
            except ValueError:
                raise bad("--add-host", h, f'invalid IP address in add-host: "{ip}"') from None
        hosts.append((name, ip.strip("[]")))
    links = []
    for ln in o.get("link", []):
        target, _, alias = ln.partition(":")
        links.append((target.lstrip("/"), alias or target.lstrip("/")))
    hostname = o.get("hostname")
    if hostname is not None and not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,62})?", hostname):
        raise _err(cmd, f"docker: Error response from daemon: invalid hostname format: {hostname}")
    return DnsSettings(hostname=hostname, dns=tuple(o.get("dns", [])), dns_search=tuple(o.get("dns_search", [])),
                       dns_options=tuple(o.get("dns_option", [])), extra_hosts=tuple(hosts), links=tuple(links))


def _host_gateway(d: DockerDaemon, s: DnsSettings) -> DnsSettings:
    """``--add-host NAME:host-gateway``: the default bridge's gateway address (the daemon's HostGatewayIP)."""
    if not any(ip == "host-gateway" for _, ip in s.extra_hosts):
        return s
    net = d.networks.get("bridge")
    gw = str(net.gateway) if net is not None and net.gateway is not None else ""
    if not gw:
        raise DockerError("unable to derive the IP value for host-gateway")
    return replace(s, extra_hosts=tuple((n, gw if ip == "host-gateway" else ip) for n, ip in s.extra_hosts))


def _ps(cmd: "Command", ns: str | None, args: list[str]) -> _STEP:
    o = _Opts(cmd, "docker ps", args, values={"--format": "format", "-f": "filter", "--filter": "filter"},
              flags={"-a": "all", "--all": "all", "-q": "quiet", "--quiet": "quiet", "--no-trunc": "notrunc"})
    if o.rest:
        raise _err(cmd, f'"docker ps" accepts no arguments.\nSee \'docker ps --help\'.')
    if o.get("format") is not None or o.get("filter") is not None:
        raise _err(cmd, "docker ps: --format and --filter are not simulated")

    def fn(run: Any) -> None:
        d = _daemon(run, ns)
        rows = d.ps(all="all" in o.flags)
        if "quiet" in o.flags:
            run.output(cmd, "".join(r["ID"] + "\n" for r in rows))
            return
        table = [["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]]
        for r in rows:
            command = r["Command"]
            if "notrunc" not in o.flags and len(command) > 20:
                command = command[:20] if d.era is Era.V1_9 else command[:19] + "…"
            table.append([r["ID"], r["Image"], json.dumps(command, ensure_ascii=False), "Less than a second ago",
                          r["Status"], r["Ports"], r["Names"]])
        run.output(cmd, tabulate(table, 20 if d.era is Era.V1_9 else 10))
    return _guard(cmd, "", fn)


def _template(fmt: str, obj: Any) -> str:
    """The small part of Go templates ``docker inspect -f`` is used with: ``{{.A.B}}``,
    ``{{json .A}}``, ``{{range .A}}...{{end}}`` and ``{{range $k, $v := .A}}{{$k}}...{{end}}``."""
    def lookup(path: str, cur: Any, env: dict[str, Any]) -> Any:
        path = path.strip()
        if path.startswith("$"):
            name, _, tail = path.partition(".")
            cur, path = env.get(name), ("." + tail if tail else ".")
        if path == ".":
            return cur
        for part in path.lstrip(".").split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        return cur

    def show(v: Any) -> str:
        if v is None:
            return "<no value>"
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, dict):
            return "map[" + " ".join(f"{k}:{show(x)}" for k, x in sorted(v.items())) + "]"
        if isinstance(v, list):
            return "[" + " ".join(show(x) for x in v) + "]"
        return str(v)

    def render(t: str, cur: Any, env: dict[str, Any]) -> str:
        out = []
        pos = 0
        for m in re.finditer(r"\{\{(.*?)\}\}", t):
            if m.start() < pos:
                continue
            out.append(t[pos:m.start()])
            action = m.group(1).strip()
            pos = m.end()
            rm = re.fullmatch(r"range\s+(?:(\$\w+)\s*,\s*(\$\w+)\s*:=\s*)?(\S+)", action)
            if rm:
                depth, j = 1, pos
                for m2 in re.finditer(r"\{\{\s*(range\b.*?|end)\s*\}\}", t[pos:]):
                    depth += 1 if m2.group(1).startswith("range") else -1
                    if depth == 0:
                        body, j = t[pos:pos + m2.start()], pos + m2.end()
                        break
                else:
                    raise ValueError("template: unexpected EOF")
                coll = lookup(rm.group(3), cur, env)
                items = sorted(coll.items()) if isinstance(coll, dict) else list(enumerate(coll or []))
                for k, v in items:
                    inner = dict(env)
                    if rm.group(1):
                        inner[rm.group(1)], inner[rm.group(2)] = k, v
                    out.append(render(body, v, inner))
                pos = j
                continue
            if action.startswith("json "):
                out.append(json.dumps(lookup(action[5:], cur, env), separators=(",", ":")))
            else:
                out.append(show(lookup(action, cur, env)))
        out.append(t[pos:])
        return "".join(out)

    return render(fmt, obj, {"$": obj})


def _inspect(cmd: "Command", ns: str | None, args: list[str]) -> _STEP:
    o = _Opts(cmd, "docker inspect", args, values={"-f": "format", "--format": "format", "--type": "type"},
              flags={})
    if not o.rest:
        raise _err(cmd, '"docker inspect" requires at least 1 argument.\nSee \'docker inspect --help\'.')
    fmt = o.get("format")

    def fn(run: Any) -> None:
        d = _daemon(run, ns)
        objs = []
        for name in o.rest:
            if name in d.containers or any(c.id.startswith(name) for c in d.containers.values()):
                objs.append(d.inspect(name))
            elif name in d.networks:
                objs.append(d.network_inspect(name))
            else:
                raise DockerError(f"No such object: {name}")
        if fmt is None:
            run.output(cmd, json.dumps(objs, indent=4) + "\n")
        else:
            try:
                run.output(cmd, "".join(_template(fmt, x) + "\n" for x in objs))
            except ValueError as e:
                raise DockerError(f"Template parsing error: {e}") from None
    return _guard(cmd, "", fn)


def _names(cmd: "Command", prog: str, rest: list[str]) -> list[str]:
    if not rest:
        raise _err(cmd, f'"{prog}" requires at least 1 argument.\nSee \'{prog} --help\'.')
    return rest


def _stop(cmd: "Command", ns: str | None, args: list[str]) -> _STEP:
    o = _Opts(cmd, "docker stop", args, values={"-t": "time", "--time": "time", "-s": "signal"}, flags={})
    names = _names(cmd, "docker stop", o.rest)

    def fn(run: Any) -> None:
        d = _daemon(run, ns)
        for n in names:
            d.stop(n)
        run.output(cmd, "".join(n + "\n" for n in names))
    return _guard(cmd, "", fn)


def _rm(cmd: "Command", ns: str | None, args: list[str]) -> _STEP:
    o = _Opts(cmd, "docker rm", args, values={}, flags={"-f": "force", "--force": "force", "-v": "volumes"})
    names = _names(cmd, "docker rm", o.rest)

    def fn(run: Any) -> None:
        d = _daemon(run, ns)
        for n in names:
            d.rm(n, force="force" in o.flags)
        run.output(cmd, "".join(n + "\n" for n in names))
    return _guard(cmd, "", fn)


def _start(cmd: "Command", ns: str | None, args: list[str]) -> _STEP:
    o = _Opts(cmd, "docker start", args, values={}, flags={})
    names = _names(cmd, "docker start", o.rest)

    def fn(run: Any) -> None:
        d = _daemon(run, ns)
        for n in names:
            d.start_container(n)
        run.output(cmd, "".join(n + "\n" for n in names))
    return _guard(cmd, "", fn)


def _restart_container(cmd: "Command", ns: str | None, args: list[str]) -> _STEP:
    o = _Opts(cmd, "docker restart", args, values={"-t": "time", "--time": "time"}, flags={})
    names = _names(cmd, "docker restart", o.rest)

    def fn(run: Any) -> None:
        d = _daemon(run, ns)
        for n in names:
            d.stop(n)
            d.start_container(n)
        run.output(cmd, "".join(n + "\n" for n in names))
    return _guard(cmd, "", fn)


def _port(cmd: "Command", ns: str | None, args: list[str]) -> _STEP:
    if len(args) not in (1, 2):
        raise _err(cmd, '"docker port" requires at least 1 and at most 2 arguments.')

    def fn(run: Any) -> None:
        d = _daemon(run, ns)
        c = d._container(args[0])
        out = "".join(f"{b.container_port}/{b.proto} -> {b.host_ip or '0.0.0.0'}:{b.host_port}\n"
                      for b in c.ports if len(args) == 1 or args[1] in (str(b.container_port),
                                                                        f"{b.container_port}/{b.proto}"))
        run.output(cmd, out)
    return _guard(cmd, "", fn)


def _network(cmd: "Command", ns: str | None, args: list[str]) -> _STEP:
    if not args:
        raise _err(cmd, "docker network: a subcommand is needed: create, connect, disconnect, inspect, ls, rm")
    sub, rest = args[0], args[1:]
    if sub == "create":
        o = _Opts(cmd, "docker network create", rest,
                  values={"--subnet": "subnet", "-o": "opt", "--opt": "opt", "-d": "driver", "--driver": "driver",
                          "--gateway": "gateway", "--ip-range": "ip_range", "--aux-address": "aux"},
                  flags={"--internal": "internal", "--attachable": "attachable"},
                  multi=("opt", "subnet", "gateway", "ip_range", "aux"))
        if len(o.rest) != 1:
            raise _err(cmd, '"docker network create" requires exactly 1 argument.')
        if o.get("driver", "bridge") != "bridge":
            raise _err(cmd, f"docker network create: driver {o.get('driver')!r} is not simulated (bridge only)")
        options = {}
        for kv in o.get("opt", []):
            k, eq, v = kv.partition("=")
            if not eq:
                raise _err(cmd, f"invalid key/value pair format in driver options: {kv}")
            options[k] = v
        ipam = _ipam_config(cmd, o.get("subnet", []), o.get("ip_range", []), o.get("gateway", []), o.get("aux", []))
        subnet, ip_range, gateway, aux = ipam

        def create(run: Any) -> None:
            d = _daemon(run, ns)
            net = d.network_create(o.rest[0], subnet=subnet, internal="internal" in o.flags, options=options,
                                   gateway=gateway, ip_range=ip_range, aux_addresses=aux)
            run.output(cmd, net.id + "\n")
        return _guard(cmd, "", create)
    if sub in ("connect", "disconnect"):
        o = _Opts(cmd, f"docker network {sub}", rest, values={"--ip": "ip", "--alias": "alias"},
                  flags={"-f": "force", "--force": "force"}, multi=("alias",))
        if len(o.rest) != 2:
            raise _err(cmd, f'"docker network {sub}" requires exactly 2 arguments.')

        def conn(run: Any) -> None:
            d = _daemon(run, ns)
            if sub == "connect":
                d.network_connect(o.rest[0], o.rest[1], ip=o.get("ip"), aliases=o.get("alias", []))
            else:
                d.network_disconnect(o.rest[0], o.rest[1])
        return _guard(cmd, "", conn)
    if sub in ("rm", "remove"):
        names = _names(cmd, "docker network rm", rest)

        def remove(run: Any) -> None:
            d = _daemon(run, ns)
            for n in names:
                if n in ("bridge", "host", "none"):
                    raise DockerError(f"{n} is a pre-defined network and cannot be removed")
                d.network_rm(n)
            run.output(cmd, "".join(n + "\n" for n in names))
        return _guard(cmd, "", remove)
    if sub in ("ls", "list"):
        o = _Opts(cmd, "docker network ls", rest, values={}, flags={"-q": "quiet", "--quiet": "quiet",
                                                                    "--no-trunc": "notrunc"})

        def ls(run: Any) -> None:
            d = _daemon(run, ns)
            rows = d.network_ls()
            if "quiet" in o.flags:
                run.output(cmd, "".join(r["NETWORK ID"] + "\n" for r in rows))
                return
            if d.era is Era.V1_9:
                table = [["NETWORK ID", "NAME", "DRIVER"]] + [[r["NETWORK ID"], r["NAME"], r["DRIVER"]] for r in rows]
                run.output(cmd, tabulate(table, 20))
            else:
                table = [["NETWORK ID", "NAME", "DRIVER", "SCOPE"]] + [
                    [r["NETWORK ID"], r["NAME"], r["DRIVER"], r["SCOPE"]] for r in rows]
                run.output(cmd, tabulate(table, 10))
        return _guard(cmd, "", ls)
    if sub == "inspect":
        o = _Opts(cmd, "docker network inspect", rest, values={"-f": "format", "--format": "format"}, flags={})
        names = _names(cmd, "docker network inspect", o.rest)

        def inspect(run: Any) -> None:
            d = _daemon(run, ns)
            objs = [d.network_inspect(n) for n in names]
            fmt = o.get("format")
            if fmt is None:
                run.output(cmd, json.dumps(objs, indent=4) + "\n")
            else:
                run.output(cmd, "".join(_template(fmt, x) + "\n" for x in objs))
        return _guard(cmd, "", inspect)
    raise _err(cmd, f"docker network: unknown command \"{sub}\"; use create, connect, disconnect, inspect, ls, rm")


def _ipam_config(cmd: "Command", subnets: list[str], ranges: list[str], gateways: list[str],
                 aux: list[str]) -> tuple[str | None, str | None, str | None, dict[str, str]]:
    """The CLI's createIPAMConfig: each ``--ip-range``/``--gateway``/``--aux-address`` must fall in a
    ``--subnet`` (its words); simnet's networks have one IPv4 subnet."""
    from ipaddress import IPv4Address, IPv4Network

    def fail(msg: str) -> ScriptError:
        return _err(cmd, msg)
    if len(subnets) < len(ranges) or len(subnets) < len(gateways):
        raise fail("every ip-range or gateway must have a corresponding subnet")
    if len(subnets) > 1:
        raise fail("docker network create: simnet's bridge networks have one IPv4 subnet (--subnet given "
                   f"{len(subnets)} times)")
    net = None
    if subnets:
        try:
            net = IPv4Network(subnets[0])
        except ValueError:
            raise fail(f"Error response from daemon: invalid CIDR address: {subnets[0]}") from None

    def inside(text: str, what: str) -> str:
        try:
            addr = IPv4Network(text, strict=False) if "/" in text else IPv4Network(f"{IPv4Address(text)}/32")
        except ValueError:
            raise fail(f'invalid argument "{text}" for "--{what}" flag: invalid {"CIDR" if "/" in text else "IP"}'
                       f" address: {text}") from None
        if net is None or not addr.subnet_of(net):
            raise fail(f"no matching subnet for {'range' if what == 'ip-range' else what} {text}")
        return text
    ip_range = inside(ranges[0], "ip-range") if ranges else None
    gateway = inside(gateways[0], "gateway") if gateways else None
    aux_map: dict[str, str] = {}
    for kv in aux:
        name, eq, value = kv.partition("=")
        if not eq:
            raise fail(f'invalid argument "{kv}" for "--aux-address" flag: bad format for key=value: {kv}')
        aux_map[name] = inside(value, "aux-address")
    return subnets[0] if subnets else None, ip_range, gateway, aux_map


def _exec(cmd: "Command", ns: str | None, args: list[str],
          compile_inner: Callable[["Command"], tuple[_STEP, bool]]) -> tuple[_STEP, bool]:
    o = _Opts(cmd, "docker exec", args, values={"-e": "env", "--env": "env", "-u": "user", "-w": "workdir"},
              flags={"-d": "detach", "--detach": "detach", "-i": "i", "-t": "t", "--privileged": "privileged"},
              multi=("env",), stop_at_positional=True)
    if len(o.rest) < 2:
        raise _err(cmd, '"docker exec" requires at least 2 arguments.\nSee \'docker exec --help\'.')
    name, inner = o.rest[0], tuple(o.rest[1:])
    detach = "detach" in o.flags

    # -i attaches the command's standard input to the docker CLI's; without it the command reads
    # nothing (Docker leaves its stdin closed), whatever is piped into docker.
    stdin = cmd.stdin if "i" in o.flags or cmd.stdin is None else ""

    def inner_cmd(netns: str) -> "Command":
        return replace(cmd, argv=("ip", "netns", "exec", netns, *inner), background=detach, stdin=stdin,
                       pipe_from=cmd.pipe_from if stdin else None)

    # Check the inner command's words now, with the namespace the container will most likely have.
    _, is_job = compile_inner(inner_cmd(f"{ns or 'root'}-{name}"))

    def step(run: Any) -> None:
        try:
            d = _daemon(run, ns)
            c = d._container(name)
            if not c.running:
                raise DockerError(d.not_running(c))
        except DockerError as e:
            msg = str(e)
            raise _err(cmd, msg if msg == _NOT_RUNNING else f"Error response from daemon: {msg}") from None
        inner_step, _ = compile_inner(inner_cmd(c.netns))
        inner_step(run)
    return step, is_job
