"""Reading ``iptables-save``, ``ipset save``, ``ss -H -ltnu`` and Docker's PIDs (pure functions).

``iptables-save`` is kept as iptables-restore input: its comment lines (timestamps) go, chain
counters become ``[0:0]`` unless counters were asked for, and each ``-A`` rule is parsed with
simnet's own parser: a rule whose match or target simnet lacks (``-m u32``, say) is turned into a
comment in place, so the rule numbers of the rest shift by one and the script says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address

from simnet.capture.model import Listener

__all__ = ["Restore", "parse_docker_pids", "parse_ipset_save", "parse_iptables_save", "parse_ss"]

_COUNTERS = re.compile(r"^\[\d+:\d+\] ")


@dataclass(frozen=True, slots=True, kw_only=True)
class Restore:
    """iptables-restore input for what a namespace had, and the rules it had to leave out."""

    text: str
    left_out: tuple[str, ...]  # "TABLE: -A ... (why)"
    counters: bool = False


def parse_iptables_save(text: str, *, counters: bool = False) -> Restore:
    """``iptables-save [-c]`` output → iptables-restore input simnet accepts (``-c``: keep counters)."""
    from simnet.errors import SimnetError
    from simnet.netfilter.rule import Rule, split_words

    out: list[str] = []
    left: list[str] = []
    table = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":") and not counters:
            line = re.sub(r"\[\d+:\d+\]$", "[0:0]", line)
        elif line.startswith(("-A ", "[")):
            body = _COUNTERS.sub("", line) if line.startswith("[") else line
            if not counters:
                line = body
            words = split_words(body)
            try:
                Rule.parse(" ".join(_quote(w) for w in words[2:]))
            except (SimnetError, ValueError) as e:
                why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                left.append(f"{table}: {body} ({why})")
                out.append(f"# simnet capture: not modelled ({why}): {body}")
                continue
        out.append(line)
    return Restore(text="\n".join(out) + ("\n" if out else ""), left_out=tuple(left), counters=counters)


def _quote(word: str) -> str:
    return f'"{word}"' if not word or any(c.isspace() for c in word) else word


def parse_ipset_save(text: str) -> str:
    """``ipset save`` → ``ipset restore`` input without the parts chosen at random (``initval``) or
    by the kernel's version (``bucketsize``)."""
    out = []
    for line in text.splitlines():
        if line.startswith("create "):
            line = re.sub(r" (?:initval \S+|bucketsize \d+)", "", line)
        if line.strip():
            out.append(line.rstrip())
    return "\n".join(out) + ("\n" if out else "")


def parse_ss(text: str) -> tuple[Listener, ...]:
    """``ss -H -ltnu`` → IPv4 listeners (``*``/``0.0.0.0``: any address), sorted, without duplicates."""
    out = set()
    for line in text.splitlines():
        words = line.split()
        if len(words) < 5 or words[0] not in ("tcp", "udp"):
            continue
        local = words[4]
        host, _, port = local.rpartition(":")
        if not port.isdigit() or host.startswith("[") or ":" in host:
            continue  # IPv6
        host = host.split("%")[0]
        addr = None if host in ("*", "0.0.0.0") else IPv4Address(host)
        out.add(Listener(proto=words[0], addr=addr, port=int(port)))
    return tuple(sorted(out, key=lambda l: (l.proto, l.port, str(l.addr or ""))))


def parse_docker_pids(text: str) -> tuple[tuple[str, int], ...]:
    """``docker inspect -f '{{.Name}} {{.State.Pid}}' ID...`` → (name, pid) of running containers."""
    out = []
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[1].isdigit() and int(words[1]) > 0:
            out.append((words[0].lstrip("/"), int(words[1])))
    return tuple(sorted(out))
