"""The calling side of a kernel run: validate the script, start the isolated run, read its report."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

from simnet.conformance.inside.common import (BOOT, EMBEDDED_DNS, FILE_TOOLS, READABLE, RUN_TIMEOUT, SANDBOX_DIRS, TOOLS,
                                         KernelRunError, _ALLOWED_IN_NS, _Cmd, sandboxed,
                                         _RUNNER_BUILTINS, _ip_netns_option, _netns_of, _ns_ids, _parse_probe,
                                         _script_error, classify, parse_embedded_dns)

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
        stdin_path = _Cmd(_Cmd.to_json(cmd)).stdin_path
        if stdin_path is not None:
            if not sandboxed(stdin_path, read=True):
                raise _script_error(cmd, f"the kernel runner reads files only under {' and '.join(READABLE)}, "
                                         f"not {stdin_path!r}")
            if kind in ("probe", "listener"):
                raise _script_error(cmd, "the kernel runner feeds a probe only from a pipe or here-document, "
                                         "not from a file")
        if cmd.background and kind != "listener":
            raise _script_error(cmd, "only listeners (nc -l, python3 -m http.server) may run in the background")
        if kind == "listener" and not cmd.background:
            raise _script_error(cmd, "a listener must run in the background: end the line with '&'")
        if kind == "listener":
            jobs += 1
        if (inner or argv)[0] == "modprobe":
            from simnet.tools.modprobe import check

            try:
                check(inner or argv)
            except ValueError as e:
                raise _script_error(cmd, str(e) or "modprobe failed (-q: no message)") from None
        if (inner or argv)[0] == "date":
            raise _script_error(cmd, "date reads or sets the machine's own clock: the kernel runner does not run it")
        if kind == "file":
            _check_file_command(cmd, inner or argv)
            if inner[0] in FILE_TOOLS:
                continue  # others (`ip netns exec a iptables-save > F`) are checked as commands below
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
        if tool == "modprobe":
            continue
        if tool == "ss":
            from simnet.tools.ss import parse

            try:
                parse(inner)
            except ValueError as e:
                raise _script_error(cmd, str(e)) from None
        if tool == "dnsmasq":  # its options as simnet reads them, before the real one runs
            from simnet.dns.dnsmasq import DnsmasqError, parse_args

            try:
                parse_args(inner)
            except DnsmasqError as e:
                raise _script_error(cmd, f"dnsmasq: {e}") from None
        if tool == EMBEDDED_DNS:
            try:
                host = parse_embedded_dns(list(inner[1:]))["host_netns"]
            except ValueError as e:
                raise _script_error(cmd, str(e)) from None
            if host is not None and host not in created:
                raise _script_error(cmd, f"namespace {host!r} was not created by this script")
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
        if kind == "probe":
            _parse_probe(cmd, ns, inner)  # raises on unsupported options
        if cmd.pipe_from is not None and stdin_path is None and not (kind == "probe" and inner[0] == "nc"):
            raise _script_error(cmd, "a pipe is only supported into 'nc -u' (echo DATA | nc -u ...)")


def _check_file_command(cmd: Any, argv: tuple[str, ...]) -> None:
    """A command on files may write only the sandbox's /etc and /tmp, and read those, /proc/sys and /dev/zero."""
    if cmd.redirect is not None and not sandboxed(cmd.redirect[1]):
        raise _script_error(cmd, f"the kernel runner writes files only under {' and '.join(SANDBOX_DIRS)} "
                                 f"(its sandbox's copies), not {cmd.redirect[1]!r}")
    tool = argv[0]
    if tool not in FILE_TOOLS or tool in ("echo", "printf"):
        return  # a command's own words are checked as that command's
    operands = [a for a in argv[1:] if not a.startswith("-") or a == "-"]
    if tool == "head":
        operands = [a for a, prev in zip(argv[1:], argv) if not a.startswith("-") and prev not in ("-c", "-n")]
    if tool == "truncate":
        operands = [a for a, prev in zip(argv[1:], argv) if not a.startswith("-") and prev not in ("-s", "--size")]
    for path in operands:
        if path == "-":
            continue
        if not sandboxed(path, read=tool in ("cat", "head")):
            where = " and ".join(READABLE if tool in ("cat", "head") else SANDBOX_DIRS)
            raise _script_error(cmd, f"the kernel runner lets {tool} touch only {where}, not {path!r}")


def _check_ip_args(cmd: Any, argv: tuple[str, ...], created: set[str]) -> None:
    for key, value in zip(argv, argv[1:]):
        if key in ("netns", "link-netns") and value not in created:
            raise _script_error(
                cmd, f"'{key} {value}' must name a namespace this script created (never a pid or the machine's)")
        if key in ("link-netnsid", "target-netnsid"):
            raise _script_error(cmd, f"'{key}' is not supported by the kernel runner; use 'netns NAME'")


def _missing_tools() -> list[str]:
    import shutil

    return [t for t in TOOLS if shutil.which(t) is None]


def run_on_kernel(path_or_text: str | os.PathLike[str], *, filename: str | None = None,
                  timeout: float = RUN_TIMEOUT) -> dict[str, Any]:
    """Run a scenario script on the real kernel (as root, fully isolated); return the report.

    ``path_or_text`` is a path to a script or the script's text (anything with a
    newline is text). Raises :class:`~simnet.script.ScriptError` for scripts the
    runner refuses (before running anything) and :class:`KernelRunError` when a
    command fails, a helper misbehaves or the run exceeds ``timeout`` seconds.
    """
    if not sys.platform.startswith("linux"):
        # e.g. Pyodide in a browser ("emscripten"): no processes, no namespaces
        raise KernelRunError(f"kernel-run needs a Linux host (root, iproute2, iptables); this is {sys.platform}")
    # host-only modules, imported here so that importing simnet never needs them
    import signal
    import subprocess
    import tempfile

    from simnet.script.lexer import lex
    from simnet.script.shell import expand

    text, name = _read_script(path_or_text, filename)
    commands = expand(lex(text, name))
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
        from simnet.files import DEFAULT_HOSTS, DEFAULT_RESOLV_CONF

        etc = os.path.join(tmp, "etc.json")  # the simulated host's /etc files, for the sandbox's /etc overlay
        with open(etc, "w") as f:
            json.dump({"hosts": DEFAULT_HOSTS, "resolv.conf": DEFAULT_RESOLV_CONF}, f)
        argv = ["unshare", "--mount", "--net", "--propagation", "private", "--",
                sys.executable, "-I", "-S", "-c", BOOT, "runner", "--inner", script, "--outer", _ns_ids(),
                "--etc", etc]
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
        result: dict[str, Any] = json.loads(out)
    except json.JSONDecodeError:
        raise KernelRunError(f"{name}: the inner runner failed (exit {proc.returncode}): {err.strip()}") from None
    if "error" in result:
        raise KernelRunError(result["error"])
    from simnet.probe import curl_write_out

    for probe in result["probes"]:
        curl = probe.pop("curl", None)
        if curl is not None:
            text = curl_write_out(curl["write_out"], outcome=probe["outcome"], dst=probe["dst"],
                                  dport=probe["dport"], http_code=curl["http_code"])
            if text:
                result["outputs"].append({"line": probe["line"], "command": probe["command"], "stdout": text})
    result["outputs"].sort(key=lambda o: o["line"])
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
