"""``curl`` as a probe: the TCP connect to an http:// URL, and ``-w`` formats."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from ipaddress import IPv4Address

from simnet.dns.names import host_word, resolving
from simnet.socket import Seen
from simnet.tcp_stream import TransferReport
from simnet.probe import MAX_TIMEOUT, ProbeResult, _write_out_tokens, curl_write_out, tcp_connect
from simnet.script.lexer import Command
from simnet.tools.base import (
    Compiled, StepKind, ToolRun, decimal, parse_port, script_error, within,
)

__all__ = ["compile_curl", "curl_error"]

def _max_time(cmd: Command, option: str, word: str) -> float:
    """``-m SECONDS`` as curl 7.88's str2udouble reads it, with its words."""
    opt = "-m" if not option.startswith("--") else option
    if not re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)", word):
        raise script_error(cmd, f"curl: option {opt}: expected a proper numerical parameter")
    if word.startswith("-"):
        raise script_error(cmd, f"curl: option {opt}: expected a positive numerical parameter")
    value = float(word)
    if value > (1 << 63) / 1000:  # curl keeps milliseconds in a 64-bit timediff_t
        raise script_error(cmd, f"curl: option {opt}: too large number")
    return value


def _url_port(cmd: Command, word: str) -> int:
    """The URL's port: curl's URL parser refuses one above 65535 (exit 3)."""
    value = decimal(word)
    if value is None or value > 65535:
        raise script_error(cmd, "curl: (3) URL using bad/illegal format or missing URL")
    return parse_port(cmd, word.lstrip("0") or "0", "curl")


_URL = re.compile(r"(?:http://)?(?P<host>[A-Za-z0-9._-]+)(?::(?P<port>\d+))?(?P<path>/.*)?")


def http_header_length(size: int) -> int:
    """The bytes of the header Python 3.11's http.server sends before a file of ``size`` bytes:
    status, Server, Date, Content-type (application/octet-stream), Content-Length,
    Last-Modified, the blank line."""
    return 17 + 38 + 37 + 40 + 18 + len(str(size)) + 46 + 2


_CURL_LONG = {"--max-time": "m", "--connect-timeout": "m", "--output": "o", "--write-out": "w", "--silent": "s",
              "--show-error": "S", "--fail": "f", "--head": "I", "--verbose": "v", "--insecure": "k"}


def curl_error(outcome: str, dst: IPv4Address | str, dport: int, elapsed_ms: int, *, timeout: float | None,
               connect_timeout: bool = False, transfer: TransferReport | None = None, header: int | None = None,
               size: int | None = None) -> str:
    """The line curl 7.88 prints on stderr when the connect or the transfer fails ("" when it succeeds
    or would wait on: without ``-m`` a stalled transfer hangs until killed). Words seen on this
    machine's curl 7.88.1 (Linux 6.18): a SYN unanswered until ``-m`` "(28) Connection timed out after N
    milliseconds", until ``--connect-timeout`` "(28) Failed to connect to H port P after N ms: Timeout was
    reached"; a refused/unreachable connect "(7) Failed to connect to H port P after N ms: Couldn't connect
    to server"; a response stalled at ``-m`` "(28) Operation timed out after N milliseconds with X out of Y
    bytes received" once the header (Content-Length Y) arrived, "... with 0 bytes received" before.

    >>> curl_error("refused", "10.0.0.1", 80, 0, timeout=None)
    "curl: (7) Failed to connect to 10.0.0.1 port 80 after 0 ms: Couldn't connect to server"
    >>> curl_error("timeout", "10.0.0.1", 80, 1000, timeout=1.0)
    'curl: (28) Connection timed out after 1000 milliseconds'
    """
    if outcome == "connected":
        if transfer is None or transfer.complete or timeout is None:
            return ""
        if header is not None and size is not None and transfer.received >= header:
            got = f"{transfer.received - header} out of {size} bytes"
        else:
            got = "0 bytes"
        return f"curl: (28) Operation timed out after {elapsed_ms} milliseconds with {got} received"
    if outcome == "timeout":
        if timeout is None:
            return ""
        if connect_timeout:
            return f"curl: (28) Failed to connect to {dst} port {dport} after {elapsed_ms} ms: Timeout was reached"
        return f"curl: (28) Connection timed out after {elapsed_ms} milliseconds"
    return f"curl: (7) Failed to connect to {dst} port {dport} after {elapsed_ms} ms: Couldn't connect to server"


def compile_curl(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``curl [-s] [-S] [-f] [-m S] [-o /dev/null] [-w FORMAT] http://ADDR[:PORT]/``: a TCP connect probe."""
    timeout: float | None = None
    connect_timeout = False  # the limit came from --connect-timeout (curl words its expiry differently)
    write_out: str | None = None
    url: str | None = None
    seen_letters: set[str] = set()
    words = list(argv[1:])
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if w.startswith("--") and w in _CURL_LONG:
            letters, attached = _CURL_LONG[w], ""
        elif re.fullmatch(r"-[sSfvIk]*[mow]?.*", w) and len(w) > 1 and not w.startswith("--"):
            m = re.fullmatch(r"-([sSfvIk]*)([mow]?)(.*)", w)
            assert m is not None
            if m[3] and not m[2]:
                raise script_error(cmd, f"unsupported curl option {w!r}")
            letters, attached = m[1] + m[2], m[3]
        elif w.startswith("-"):
            raise script_error(cmd, f"unsupported curl option {w!r}")
        else:
            if url is not None:
                raise script_error(cmd, "curl: one URL only")
            url = w
            continue
        seen_letters.update(letters)
        if letters and letters[-1] in "mow":
            if not attached:
                if i >= len(words):
                    raise script_error(cmd, f"curl: option {w}: requires parameter")
                attached = words[i]
                i += 1
            if letters[-1] == "m":
                timeout = _max_time(cmd, w, attached)
                connect_timeout = w == "--connect-timeout"
            elif letters[-1] == "o" and attached != "/dev/null":
                raise script_error(cmd, f"curl -o {attached}: simnet writes no files; use -o /dev/null")
            elif letters[-1] == "w":
                if attached.startswith("@"):
                    raise script_error(cmd, "curl -w @FILE: simnet reads no files; give the format itself")
                try:
                    _write_out_tokens(attached)
                except ValueError as e:
                    raise script_error(cmd, str(e)) from None
                write_out = attached
    if url is None:
        raise script_error(cmd, "curl: no URL specified")
    if url.startswith("https://"):
        raise script_error(cmd, "curl: simnet probes plain http:// only (the TCP connect is what it simulates)")
    m = _URL.fullmatch(url)
    if not m:
        raise script_error(cmd, f"curl: cannot use URL {url!r}: give http://ADDR[:PORT]/ with an IPv4 address")
    dst = host_word(cmd, m["host"], "curl")
    dport = _url_port(cmd, m["port"]) if m["port"] else 80
    wait = min(within(cmd, timeout), MAX_TIMEOUT)

    path = (m["path"] or "/").split("?", 1)[0]

    quiet = "s" in seen_letters and "S" not in seen_letters

    def failed(host: str, why: str | None) -> str:
        if write_out is not None:
            run_out.append(curl_write_out(write_out, outcome="error", dst=host, dport=dport, http_code=0))
        if quiet:
            return ""
        if why is None:  # IPv6 only: the connect fails
            return f"curl: (7) Failed to connect to {host} port {dport} after 0 ms: Couldn't connect to server"
        return f"curl: (6) Could not resolve host: {host}"

    run_out: list[str] = []
    err: list[str] = []

    def probe(run: ToolRun) -> ProbeResult:
        run_out.clear()
        result = resolving(run, cmd, ns, dst, "curl", failed, lambda addr: connect(run, addr), stderr=True)
        stderr = err[0] + "\n" if err and not quiet else ""
        if run_out or stderr:
            run.output(cmd, "".join(run_out), stderr=stderr)
        return result

    def connect(run: ToolRun, dst: IPv4Address) -> ProbeResult:
        served: dict[str, int] = {}

        def response(seen: Seen) -> int | None:
            """What http.server answers a GET of ``path``: a file of the directory it serves."""
            lst = next((lst for name, lst in run.http if name == seen.ns and lst.port == seen.dport), None)
            if lst is None or lst.directory is None:
                return None
            file = posixpath.join(lst.directory, path.lstrip("/"))
            if run.world.files.kind(file, seen.ns) != "file":
                return None
            served["size"] = size = run.world.files.size(file, seen.ns)
            served["header"] = http_header_length(size)
            return served["header"] + size

        err.clear()
        start = run.world.now
        result = tcp_connect(run.world, run.ns(ns).name, dst, dport, timeout=wait, response=response)
        line = curl_error(result.outcome, dst, dport, round((run.world.now - start) * 1000),
                          timeout=timeout, connect_timeout=connect_timeout, transfer=result.transfer,
                          header=served.get("header"), size=served.get("size"))
        if line:
            err.append(line)
        if result.transfer is not None and "size" in served:
            # curl's size_download: the body bytes that arrived after the header
            t = result.transfer
            result = replace(result, transfer=replace(t, size=served["size"],
                                                      received=max(0, t.received - served["header"])))
        if write_out is not None:
            seen = result.received if result.outcome == "connected" else None
            http = seen is not None and seen.dport is not None and run.speaks_http(seen.ns, seen.dport)
            header_arrived = result.transfer is None or result.transfer.received > 0 or result.transfer.complete
            run_out.append(curl_write_out(write_out, outcome=result.outcome, dst=dst, dport=dport,
                                          http_code=200 if http and header_arrived else 0,
                                          complete=result.transfer is None or result.transfer.complete))
        return result
    return Compiled(probe, StepKind.PROBE)
