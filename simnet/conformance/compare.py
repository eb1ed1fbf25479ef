"""Comparing a simnet report with a kernel report, probe by probe."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

def compare(sim: dict[str, Any], kernel: dict[str, Any]) -> list[str]:
    """List every difference between a simulator report and a kernel report, per probe.

    Compares outcome, ICMP type/code/from, errno, received ns/src/sport, and,
    when both probes carry them (the key is present), the per-rule counter
    increases (packets, and bytes when both rows carry them) and the conntrack entries. Probes are matched by script line. The
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
            diff("icmp mtu", si.get("mtu"), ki.get("mtu"))
        diff("errno", s.get("errno"), k.get("errno"))
        sr, kr = s.get("received") or {}, k.get("received") or {}
        pinned = k.get("proto") != "icmp" and re.search(r"\s-[a-zA-Z]*p\s*\d", " " + k.get("command", ""))
        for key in ("ns", "src", "sport") if pinned else ("ns", "src"):
            diff(f"received {key}", sr.get(key), kr.get(key))
        st, kt = s.get("transfer"), k.get("transfer")
        if st is not None or kt is not None:
            for key in ("size", "received", "complete", "mss", "last_mss"):
                a, b = (st or {}).get(key), (kt or {}).get(key)
                if key in ("mss", "last_mss") and (a is None or b is None):
                    continue  # the runner knows the sender's segment size only when it sends
                diff(f"transfer {key}", a, b)
        # a bulk transfer's packets are not comparable one by one: the kernel counts TSO/GSO
        # super-segments and delayed or coalesced ACKs where simnet sends one segment per MSS
        if "counters" in s and "counters" in k and st is None:
            sc, kc = _counter_set(s["counters"] or {}), _counter_set(k["counters"] or {})
            for where_counted in sorted(set(sc) | set(kc)):
                ns, table, chain, rule = where_counted
                (sp, sb), (kp, kb) = sc.get(where_counted, (0, 0)), kc.get(where_counted, (0, 0))
                diff(f"counter {ns} {table}/{chain}#{rule} packets", sp, kp)
                if sp == kp and sb is not None and kb is not None:
                    diff(f"counter {ns} {table}/{chain}#{rule} bytes", sb, kb)
        if "conntrack" in s and "conntrack" in k:
            for ns in sorted(set(s["conntrack"]) | set(k["conntrack"])):
                a = Counter(_ct_key(e, fixed_ports) for e in s["conntrack"].get(ns, []))
                b = Counter(_ct_key(e, fixed_ports) for e in k["conntrack"].get(ns, []))
                for entry in sorted((a - b).elements()):
                    diffs.append(f"{where}: conntrack {ns}: only the simulator has {entry}")
                for entry in sorted((b - a).elements()):
                    diffs.append(f"{where}: conntrack {ns}: only the kernel has {entry}")
    diffs.extend(_dns_outputs(sim, kernel))
    diffs.extend(_stderr_outputs(sim, kernel))
    return diffs


#: the run-to-run part of an error line: curl's elapsed time ("after 1001 milliseconds", "after 0 ms")
_ELAPSED = re.compile(r"\bafter \d+ (ms|milliseconds)\b")


def stable_stderr(text: str) -> str:
    """An error text without its timing: the number in curl's "after 1001 ms" becomes N.

    >>> stable_stderr("curl: (28) Operation timed out after 1001 milliseconds with 0 bytes received\\n")
    'curl: (28) Operation timed out after N milliseconds with 0 bytes received\\n'
    """
    return _ELAPSED.sub(lambda m: f"after N {m[1]}", text)


def _stderr_outputs(sim: dict[str, Any], kernel: dict[str, Any]) -> list[str]:
    """What a command printed on stderr, where BOTH reports carry a stderr for its line, timing aside.

    Only where both have it: the kernel runner probes with its own socket helper, never with curl/nc/ping
    themselves (see :mod:`simnet.conformance`), so its reports carry no curl error lines; the simulator's
    are checked against words recorded from curl 7.88.1 instead (tests/unit/test_curl_stderr.py).

    >>> o = {"line": 4, "command": "curl -sS -m 1 http://10.0.0.2/", "stdout": ""}
    >>> _stderr_outputs({"outputs": [dict(o, stderr="curl: (28) Connection timed out after 1000 milliseconds\\n")]},
    ...                 {"outputs": [dict(o, stderr="curl: (28) Connection timed out after 1002 milliseconds\\n")]})
    []
    >>> _stderr_outputs({"outputs": [dict(o, stderr="curl: (6) Could not resolve host: x\\n")]},
    ...                 {"outputs": [dict(o, stderr="curl: (28) Connection timed out after 1002 milliseconds\\n")]})
    ["line 4 `curl -sS -m 1 http://10.0.0.2/`: stderr: simulator 'curl: (6) Could not resolve host: x', kernel 'curl: (28) Connection timed out after N milliseconds'"]
    """
    def texts(report: dict[str, Any]) -> dict[int, tuple[str, str]]:
        out: dict[int, tuple[str, str]] = {}
        for o in report.get("outputs", []):
            if "stderr" in o:
                cmd, text = out.get(o["line"], (o["command"], ""))
                out[o["line"]] = (cmd, text + o["stderr"])
        return out
    s, k = texts(sim), texts(kernel)
    diffs = []
    for line in sorted(set(s) & set(k)):
        a, b = stable_stderr(s[line][1]).strip(), stable_stderr(k[line][1]).strip()
        if a != b:
            diffs.append(f"line {line} `{k[line][0]}`: stderr: simulator {a!r}, kernel {b!r}")
    return diffs


#: the command word itself, after ``ip netns exec NS`` / ``docker exec C`` / ``timeout N``: a namespace
#: named ``host`` (``ip netns exec host sysctl ...``) is not the host tool
_DNS_TOOLS = re.compile(r"^(?:(?:ip\s+netns\s+exec|docker\s+exec(?:\s+-\S+)*)\s+\S+\s+|timeout\s+\S+\s+)*"
                        r"(?:dig|host|nslookup|getent)(?:\s|$)")


def _dns_outputs(sim: dict[str, Any], kernel: dict[str, Any]) -> list[str]:
    """What dig, host, nslookup and getent printed, line by line, without the parts that differ
    run to run (query id, time, date: :func:`simnet.tools.dnsutils.stable_dig_lines`)."""
    from simnet.tools.dnsutils import stable_dig_lines

    def texts(report: dict[str, Any]) -> dict[int, tuple[str, str]]:
        out: dict[int, tuple[str, str]] = {}
        for o in report.get("outputs", []):
            if _DNS_TOOLS.match(o["command"].strip()):
                cmd, text = out.get(o["line"], (o["command"], ""))
                out[o["line"]] = (cmd, text + o["stdout"])
        return out
    diffs = []
    s, k = texts(sim), texts(kernel)
    for line in sorted(set(s) | set(k)):
        cmd = (s.get(line) or k.get(line))[0]  # type: ignore[index]
        a, b = stable_dig_lines(s.get(line, ("", ""))[1]), stable_dig_lines(k.get(line, ("", ""))[1])
        if a != b:
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            diffs.append(f"line {line} `{cmd}`: output line {first + 1}: simulator "
                         f"{a[first] if first < len(a) else '(end)'!r}, kernel {b[first] if first < len(b) else '(end)'!r}")
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


def _counter_set(counters: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, str, str, int], tuple[int, int | None]]:
    """(ns, table, chain, rule) -> (packets, bytes); bytes None in a report that has none (an older one)."""
    return {(ns, c["table"], c["chain"], c["rule"]): (c["packets"], c.get("bytes"))
            for ns, cs in counters.items() for c in cs}


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
