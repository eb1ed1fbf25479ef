"""The inner runner: executes a script's commands inside ``unshare --mount --net``.

Standard library only; started by :func:`simnet.conformance.run_on_kernel` as
``python -I -S -c BOOT runner --inner SCRIPT --outer MNT:NET``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

# bare imports: this directory is sys.path[0] (see BOOT in common)
from common import (BOOT, BUILTIN_CHAINS, COMMAND_TIMEOUT, FILE_TOOLS, IPTABLES_TOOLS, PINNED_SYSCTLS,
                    KernelRunError, _Cmd, _counter_delta, _netns_of, _ns_ids, _one_line, _parse_counters,
                    _parse_listener, _parse_probe, _prints, classify, normalise_conntrack)

class _Run:
    def __init__(self, commands: tuple[Any, ...], workdir: str) -> None:
        self.commands = commands
        self.workdir = workdir
        self.namespaces: list[str] = []
        self.tabled: set[str] = set()  # namespaces where an iptables table exists
        self.unsettled: dict[str, Any] = {}  # namespace -> its last iptables command, chains not declared yet
        self.sniffers: dict[str, subprocess.Popen[bytes]] = {}
        self.jobs: list[dict[str, Any]] = []  # {"proc", "log", "ns", "alive"}
        self.probes: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []

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
        return self.in_ns(ns, [sys.executable, "-I", "-S", "-c", BOOT, "probes", kind, json.dumps(args)])

    # -- the run -------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        try:
            for cmd in self.commands:
                self.step(cmd)
            self.settle()
        finally:
            self.cleanup()
        return {"probes": self.probes, "outputs": self.outputs}

    def step(self, cmd: Any) -> None:
        ns, inner = _netns_of(cmd)
        kind = classify(cmd)
        if kind == "noop":
            return
        if self.unsettled and not (ns is not None and inner and inner[0] in IPTABLES_TOOLS and not _prints(inner)):
            self.settle()
        if kind == "sleep":
            # as long as the script says (simnet's clock moves by as much; the run's own
            # timeout bounds it), cut short only by a timeout(1) prefix
            secs = float(inner[1]) if len(inner) > 1 else 0.0
            time.sleep(secs if cmd.limit is None else min(secs, cmd.limit))
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
        if kind == "file":
            self.file_command(cmd, ns, inner)
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
        out = self.call(cmd, argv, stdin=self.stdin_of(cmd))
        self.after(cmd, ns, inner, out)

    def stdin_of(self, cmd: Any) -> str | None:
        """A command's input: its here-document or pipe, or ``< FILE`` opened by the shell that runs it."""
        if cmd.stdin_path is None:
            return cmd.stdin  # type: ignore[no-any-return]
        reader = ["cat", cmd.stdin_path]
        if cmd.redirect_netns is not None:
            reader = self.in_ns(cmd.redirect_netns, reader)
        return self.call(cmd, reader)

    def after(self, cmd: Any, ns: str | None, inner: tuple[str, ...], out: str) -> None:
        if ns is not None and inner[0] in IPTABLES_TOOLS:
            self.unsettled[ns] = cmd
        if _prints(inner) and cmd.redirect is None:
            self.outputs.append({"line": cmd.line, "command": _one_line(cmd.text), "stdout": out})

    def file_command(self, cmd: Any, ns: str | None, inner: tuple[str, ...]) -> None:
        """A command on files, or any command whose stdout goes ``> FILE``: run in the sandbox (whose
        /etc is an overlay and /tmp a tmpfs), under ``ip netns exec`` when the script says so, so
        /etc/netns/NS's binds apply as they do for the script's commands."""
        if inner[0] in ("echo", "printf"):
            argv: list[str] = [sys.executable, "-I", "-S", "-c", "import sys; sys.stdout.write(sys.argv[1])",
                               cmd.data or ""]
            argv = self.in_ns(ns, argv) if ns is not None else argv
        else:
            argv = list(cmd.argv)
        text = self.stdin_of(cmd)
        stdin = text.encode() if text is not None else None
        if cmd.redirect is None:
            out = self.run_bytes(cmd, argv, stdin, None)
            if out and inner[0] in ("cat", "head", "echo", "printf"):
                self.outputs.append({"line": cmd.line, "command": _one_line(cmd.text),
                                     "stdout": out.decode("utf-8", "replace")})
            return
        op, path = cmd.redirect
        if cmd.redirect_netns is None:  # the script's shell opens it, before the command runs
            try:
                f = open(path, "ab" if op == ">>" else "wb")
            except OSError as e:
                raise KernelRunError(f"{cmd.file}:{cmd.line}: bash: {path}: {e.strerror}") from None
            with f:
                self.run_bytes(cmd, argv, stdin, f)
        else:  # sh -c inside `ip netns exec NS` opens it there, through NS's /etc binds
            shell = 'f=$1; shift; exec "$@" ' + (">>" if op == ">>" else ">") + ' "$f"'
            self.run_bytes(cmd, self.in_ns(cmd.redirect_netns, ["sh", "-c", shell, "sh", path, *argv]), stdin, None)
        if inner[0] not in FILE_TOOLS:
            self.after(cmd, ns, inner, "")

    def run_bytes(self, cmd: Any, argv: list[str], stdin: bytes | None, stdout: Any) -> bytes:
        try:
            p = subprocess.run(argv, input=stdin, stdout=stdout if stdout is not None else subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise KernelRunError(f"{cmd.file}:{cmd.line}: `{_one_line(cmd.text)}` took longer than "
                                 f"{COMMAND_TIMEOUT:g} s") from None
        err = p.stderr.decode("utf-8", "replace")
        err = "\n".join(line for line in err.splitlines() if not line.startswith("Bind /etc/netns/"))
        if p.returncode != 0:
            raise KernelRunError(f"{cmd.file}:{cmd.line}: `{_one_line(cmd.text)}` failed (exit {p.returncode}): "
                                 f"{err.strip()}")
        return p.stdout or b""

    def pin(self, cmd: Any, ns: str) -> None:
        self.call(cmd, self.in_ns(ns, ["sysctl", "-q", "-w", *(f"{k}={v}" for k, v in PINNED_SYSCTLS)]))
        log = os.path.join(self.workdir, f"sniff-{ns}.log")
        proc = subprocess.Popen(self.helper_argv(ns, "sniff", {"log": log, "ns": ns}),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.sniffers[ns] = proc
        _wait_for(lambda: os.path.exists(log), 2.0)

    def settle(self) -> None:
        """Declare built-in chains where iptables commands ran since the last look.

        Done once per run of consecutive iptables commands (before anything else happens,
        and before a command that prints), not after each: the state is the same and a
        ruleset of many rules costs three processes less per rule."""
        for ns, cmd in list(self.unsettled.items()):
            del self.unsettled[ns]
            self.ensure_builtin_chains(cmd, ns)

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
        listing = self.call(cmd, self.in_ns(ns, ["nft", "list", "chains", "ip"]))  # tables without chains too
        tables = {m[1] for m in re.finditer(r"^table ip (\S+)", listing, re.M)}
        if not tables:
            self.tabled.discard(ns)
            return
        self.tabled.add(ns)
        policies: dict[tuple[str, str], str] = {}
        table = chain = ""
        for line in listing.splitlines():
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
                _stop(job["proc"], group=job.get("group", False))
                job["alive"] = False

    def cleanup(self) -> None:
        for ns in list(self.sniffers):
            self.stop_ns_processes(ns)
        for job in self.jobs:
            if job["alive"]:
                _stop(job["proc"], group=job.get("group", False))
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
        if args.get("standin"):  # Docker's resolver: its host is a namespace of the run, or the run's own
            host = args.pop("host_netns")
            args["host_ns"] = f"/run/netns/{host}" if host else f"/proc/{os.getpid()}/ns/net"
        if args.get("real"):
            self.listen_real(cmd, ns, args)
            return
        proc = subprocess.Popen(self.helper_argv(ns, "listen", args), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.jobs.append({"proc": proc, "log": log, "ns": ns, "alive": True, "port": args.get("port"),
                          "directory": args.get("directory")})
        if not _wait_for(lambda: os.path.exists(log) or proc.poll() is not None, 3.0) or proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.poll() is not None and proc.stderr else ""
            if proc.returncode == 1 and err:
                # the listener could not bind and exited: the shell goes on (a background job)
                self.outputs.append({"line": cmd.line, "command": _one_line(cmd.text), "stdout": "", "stderr": err})
                return
            raise KernelRunError(f"{cmd.file}:{cmd.line}: listener `{_one_line(cmd.text)}` did not start: {err.strip()}")

    def listen_real(self, cmd: Any, ns: str, args: dict[str, Any]) -> None:
        """Run the script's own socat/ncat echo service; its program is a wrapper that logs the peer the
        tool names in its environment (socat's SOCAT_PEERADDR/PORT, ncat's NCAT_REMOTE_ADDR/PORT) to the
        job's log, as the helper listeners do, then becomes cat."""
        tool = args["real"][0]
        if shutil.which(tool) is None:
            raise KernelRunError(f"{cmd.file}:{cmd.line}: `{tool}` is not installed (apt-get install {tool})")
        log = args["log"]
        open(log, "a").close()
        os.chmod(log, 0o644)
        wrapper = os.path.join(self.workdir, f"peer-{len(self.jobs) + 1}.sh")
        spec = json.dumps({"log": log, "ns": ns, "proto": args["proto"]})
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec " + " ".join(_sh_quote(w) for w in (
                sys.executable, "-I", "-S", "-c", BOOT, "probes", "peer", spec)) + "\n")
        os.chmod(wrapper, 0o755)
        argv = [w.replace("PROGRAM", wrapper) if "PROGRAM" in w else w for w in args["real"]]
        proc = subprocess.Popen(self.in_ns(ns, argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        self.jobs.append({"proc": proc, "log": log, "ns": ns, "alive": True, "group": True})
        flag = "-lun" if args["proto"] == "udp" else "-ltn"

        def bound() -> bool:
            p = subprocess.run(self.in_ns(ns, ["ss", "-H", flag, f"sport = :{args['port']}"]), capture_output=True,
                               text=True, timeout=COMMAND_TIMEOUT)
            return bool(p.stdout.strip()) or proc.poll() is not None
        if not _wait_for(bound, 3.0) or proc.poll() is not None:
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
        _stop(job["proc"], group=job.get("group", False))
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
        if args.get("http"):  # a file an http.server job serves: its size makes it a sized transfer
            for job in self.jobs:
                if job["alive"] and job.get("directory") and job.get("port") == args["dport"]:
                    file = os.path.join(job["directory"], args["path"].split("?")[0].lstrip("/"))
                    if os.path.isfile(file):
                        args["served"] = os.path.getsize(file)
        before = self.snapshot()
        try:
            p = subprocess.run(self.helper_argv(ns, args["kind"], args), capture_output=True, text=True,
                               timeout=args["timeout"] * max(1, args.get("count", 1)) + 5
                               + (0 if re.fullmatch(r"[0-9.]*", str(args.get("dst") or "")) else 70))
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
        reply = res.get("reply")
        if reply is not None:
            # who answered: the namespace whose service saw the request
            reply = {"ns": received["ns"] if received else None, **reply}
            self.outputs.append({"line": cmd.line, "command": _one_line(cmd.text), "stdout": reply["data"]})
        probe = {
            "line": cmd.line, "command": _one_line(cmd.text), "from": ns, "proto": args["proto"],
            "dst": args["dst"], "dport": args["dport"], "outcome": res["outcome"], "icmp": res.get("icmp"),
            "errno": res.get("errno"), "received": received, "reply": reply, "expect": None,
            "counters": _counter_delta(before, after), "conntrack": self.conntrack(), "trace": [],
        }
        if res.get("output"):  # dig, host, nslookup, getent: what the real tool printed
            self.outputs.append({"line": cmd.line, "command": _one_line(cmd.text), "stdout": res["output"]})
        if res.get("transfer") is not None:
            probe["transfer"] = res["transfer"]
        if args.get("write_out") is not None:  # curl -w: the calling side prints it (run.py)
            probe["curl"] = {"write_out": args["write_out"], "http_code": res.get("http_code", 0)}
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


def _stop(proc: subprocess.Popen[Any], *, group: bool = False) -> None:
    """End a helper; ``group``: a real tool started in its own session, with its forked children
    (socat fork, ncat -k and their cat processes) in its process group."""
    if group:
        import signal

        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
            if sig == signal.SIGTERM:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # children that outlived their parent
                except ProcessLookupError:
                    pass
            break
        return
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _sh_quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"

def _sandbox_files(etc_files: dict[str, str]) -> None:
    """Give the run its own /etc (an overlay: writes land in a tmpfs, the machine's /etc is never
    written) and /tmp (a tmpfs), holding the simulated host's /etc files and no /etc/netns.

    Called inside the private mount namespace; checks that the overlay is mounted before
    changing anything under /etc."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777,size=256m", "simnet-tmp", "/tmp"], check=True)
    base = "/tmp/.simnet-etc"  # in the new /tmp: nothing is left in the machine's
    os.makedirs(base)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755,size=64m", "simnet-etc", base], check=True)
    os.makedirs(os.path.join(base, "upper"))
    os.makedirs(os.path.join(base, "work"))
    before = os.stat("/etc").st_dev
    subprocess.run(["mount", "-t", "overlay", "simnet-etc", "-o",
                    f"lowerdir=/etc,upperdir={base}/upper,workdir={base}/work", "/etc"], check=True)
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split() for line in f]
    top = [m for m in mounts if m[4] == "/etc"]
    if not top or "overlay" not in top[-1][top[-1].index("-") + 1] or os.stat("/etc").st_dev == before:
        raise KernelRunError("refusing to run: /etc is not the sandbox's overlay")
    if os.path.isdir("/etc/netns"):
        shutil.rmtree("/etc/netns")  # whiteouts in the overlay's upper layer only
    for name, text in etc_files.items():
        path = os.path.join("/etc", name)
        if os.path.islink(path):
            os.unlink(path)  # e.g. resolv.conf -> /run/systemd/...: never write through it
        with open(path, "w") as f:
            f.write(text)


def _inner_main(script: str, outer: str, etc: str | None = None) -> int:
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
        etc_files: dict[str, str] = {}
        if etc is not None:
            with open(etc) as f:
                etc_files = json.load(f)
        _sandbox_files(etc_files)
        with tempfile.TemporaryDirectory(prefix="simnet-run-") as work:
            os.chmod(work, 0o755)
            report = _Run(commands, work).run()
        print(json.dumps(report))
        return 0
    except (KernelRunError, ValueError, OSError, subprocess.SubprocessError) as e:
        print(json.dumps({"error": str(e)}))
        return 2


def main(argv: list[str]) -> int:
    """``runner --inner SCRIPT --outer MNT:NET [--etc ETC_JSON]``."""
    return _inner_main(argv[1], argv[3], argv[5] if len(argv) > 5 else None)
