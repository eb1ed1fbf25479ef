"""What a user sees from the simnet command (issue #12 points 1-3, 5-7; #20 point 4).

Each test runs the command as a user would and checks the exact words it prints
and its exit status.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simnet.cli import main
from simnet.explain import explain
from simnet.script.interpreter import run_script

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = str(ROOT / "scenarios" / "quickstart.sh")
BYPASS = str(ROOT / "scenarios" / "bugs" / "published-port-bypasses-input-drop.sh")

PAIR = """\
ip netns add a
ip netns add b
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip netns exec b nc -l -k -p 80 &
"""


def write(tmp_path: Path, text: str | bytes, name: str = "s.sh") -> str:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return str(p)


# ----------------------------------------------------------------------------- 1. explain any probe


def test_explain_says_why_a_published_port_bypasses_the_input_drop() -> None:
    """The README's headline: a probe that succeeded is explained, naming the DNAT that skipped INPUT."""
    report = run_script(Path(BYPASS))
    [d] = explain(report, line=73)
    text = d.text()
    assert d.ok and d.kind == "reached" and d.netns == "web"
    assert ("nat/DOCKER#2 (-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination "
            "172.17.0.2:80) rewrote the destination to 172.17.0.2:80 before routing, so the packet, sent to "
            "203.0.113.10 (an address of host), was forwarded through FORWARD and never met INPUT, where your "
            "filter/INPUT policy DROP is") in text
    assert "In host it passed PREROUTING (nat/PREROUTING, nat/DOCKER), FORWARD (filter/FORWARD" in text
    assert "filter/DOCKER#1 (-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 " \
           "-j ACCEPT) accepted it" in text
    assert "It was delivered in web to tcp 0.0.0.0:80" in text
    assert "in host conntrack (the connection's NAT binding) rewrote the source to 203.0.113.10:8080" in text
    assert "As expected ('connected from 203.0.113.20 via filter/DOCKER#1')." in text


def test_explain_names_the_input_drop_rule_a_dnat_skips() -> None:
    """With an INPUT rule (not only a policy) the explanation quotes that rule."""
    text = PAIR + ("ip netns exec b sysctl -qw net.ipv4.ip_forward=1\n"
                   "ip netns exec b iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination "
                   "10.0.0.9:80\nip netns exec b iptables -A INPUT -p tcp -j DROP\n"
                   "ip netns exec a nc -z -w 1 10.0.0.2 8080\n")
    [d] = explain(run_script(text))
    assert "was forwarded through FORWARD and never met INPUT, where your DROP rule filter/INPUT#1 " \
           "(-A INPUT -p tcp -j DROP) is" in d.text()


@pytest.mark.parametrize("expect, words", [
    ("refused", "outcome: expected refused, got connected"),
    ("connected from 10.9.9.9", "from: expected 10.9.9.9, the receiver saw 10.0.0.1"),
    ("connected from 10.0.0.1:1", "from: expected 10.0.0.1:1, the receiver saw 10.0.0.1:"),
    ("connected via filter/INPUT#1", "via: the probe's packets never hit filter/INPUT#1 (they never traversed "
                                     "filter/INPUT)"),
    ("connected via filter/INPUT#2", "via: the probe's packets never hit filter/INPUT#2 (in filter/INPUT they "
                                     "hit #1)"),
    ("error ENETUNREACH", "outcome: expected error, got connected; errno: expected ENETUNREACH, got no error"),
])
def test_a_failed_expectation_names_the_part_that_failed(expect: str, words: str) -> None:
    rules = "ip netns exec b iptables -A INPUT -p tcp -j ACCEPT\n" if "INPUT#2" in expect else ""
    report = run_script(PAIR + rules + f"ip netns exec a nc -z -w 1 10.0.0.2 80\n# expect: {expect}\n")
    [d] = explain(report)
    assert not d.ok
    assert f"The expectation '{expect}' FAILED: {words}" in d.text()


def test_explain_a_ping_reply_and_every_probe_without_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", QUICKSTART]) == 0
    out = capsys.readouterr().out
    paragraphs = [p for p in out.split("\n\n") if p.strip()]
    assert [p.split(":")[1] for p in paragraphs] == ["42", "46", "49", "55", "57", "59"]
    assert all("\n" not in p.strip() for p in paragraphs)
    assert paragraphs[0].startswith(f"{QUICKSTART}:42: icmp a -> 10.0.0.2: reply. As expected ('reply from "
                                    "10.0.0.2'). Its first packet")
    assert "The answer (IP 10.0.0.2 > 10.0.0.1: ICMP echo reply" in paragraphs[0]


def test_explain_line_without_probe_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", QUICKSTART, "--line", "3"]) == 2
    err = capsys.readouterr().err
    assert err == f"simnet: {QUICKSTART}:3: no probe on this line (probes are on lines 42, 46, 49, 55, 57, 59)\n"


# ----------------------------------------------------------------------------- 2. script order


def test_run_prints_outputs_and_probes_in_script_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", QUICKSTART]) == 0
    out = capsys.readouterr().out
    heads = [ln.split()[0].rsplit(":", 1)[1] for ln in out.splitlines() if ln.startswith(QUICKSTART + ":")]
    assert heads == ["42", "46", "48", "49", "55", "57", "59", "63", "64"]


def test_curl_write_out_without_newline_does_not_run_into_the_next_line(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    script = PAIR.replace("nc -l -k -p 80", "python3 -m http.server 80") + (
        "ip netns exec a curl -s -o /dev/null -w '%{http_code}' http://10.0.0.2/\n"
        "ip -n a route\n")
    path = write(tmp_path, script)
    assert main(["run", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    i = lines.index(f"{path}:9  ip netns exec a curl -s -o /dev/null -w '%{{http_code}}' http://10.0.0.2/")
    assert lines[i + 1] == "200"
    assert lines[i + 2].startswith(f"{path}:9  ip netns exec a curl")  # the probe's own line
    assert lines[i + 4] == f"{path}:10  ip -n a route"


# ----------------------------------------------------------------------------- 3. traces


def test_traces_are_never_cropped_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", BYPASS, "--trace"]) == 0
    out = capsys.readouterr().out
    assert ("filter/DOCKER#1  -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j "
            "ACCEPT  → ACCEPT") in out
    assert max(len(ln) for ln in out.splitlines()) > 120


def test_kernel_trace_format_implies_trace_and_prints_beside_its_probe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", QUICKSTART, "--trace-format", "kernel"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith(f"{QUICKSTART}:57"))
    nxt = next(i for i, ln in enumerate(lines) if ln.startswith(f"{QUICKSTART}:59"))
    block = lines[at:nxt]
    assert "    [r] TRACE: filter:FORWARD:rule:1 IP 10.0.0.2.48239 > 10.0.1.2.8080: Flags [S]" in block


# ----------------------------------------------------------------------------- 5. one-line errors


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1 and "Traceback" not in cap.err
    return cap.err.strip()


def test_a_script_that_is_not_utf8_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, b"ip netns add a\nip netns add b\xff\xfe\n")
    for verb in ("run", "explain", "show", "graph", "export", "kernel-run"):
        assert main([verb, path]) == 2
        assert _one_line_error(capsys) == (f"{path}:2: byte 0xff at column 15 is not UTF-8: simnet reads scripts "
                                           "as UTF-8 text")


@pytest.mark.parametrize("target, words", [
    ("missing/dir/t.json", "directory '{tmp}/missing/dir' does not exist"),
    ("afile/t.graphml", "a part of its directory is a file, not a directory"),
    ("adir.svg", "it is a directory"),
])
def test_graph_and_export_refuse_unwritable_outputs_in_one_line(tmp_path: Path, target: str, words: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir.svg").mkdir()
    out = str(tmp_path / target)
    assert main(["graph", QUICKSTART, "-o", out]) == 2
    assert _one_line_error(capsys) == f"simnet: cannot write {out}: " + words.format(tmp=tmp_path)
    sh = out.rsplit(".", 1)[0] + ".sh"
    if target == "adir.svg":
        (tmp_path / "adir.sh").mkdir()
    assert main(["export", QUICKSTART, "-o", sh]) == 2
    assert _one_line_error(capsys) == f"simnet: cannot write {sh}: " + words.format(tmp=tmp_path)


@pytest.mark.parametrize("line, words", [
    ("\ufeffip netns add a\n", "1: a byte-order mark (U+FEFF) at the start of the line (where editors save one) "
                               "is part of a word to sh"),
    ("ip netns add a\nip netns exec a\u00a0ping -c 1 127.0.0.1\n",
     "2: a no-break space (U+00A0) at column 16 is part of a word to sh, which splits words on plain spaces and "
     "tabs only (replace it with a plain space or delete it); "),
])
def test_invisible_characters_that_break_a_line_are_named(tmp_path: Path, line: str, words: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, line)
    assert main(["run", path]) == 2
    assert _one_line_error(capsys).startswith(f"{path}:{words}")


def test_a_closed_pipe_ends_the_command_quietly() -> None:
    big = str(ROOT / "scenarios" / "bugs" / "firewall-reload-deletes-docker-chains.sh")  # 200 kB of JSON
    proc = subprocess.Popen([sys.executable, "-m", "simnet.cli", "run", "--json", big],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert head == b'{\n  "probe'
    assert err == b""
    assert proc.returncode == 141


# ----------------------------------------------------------------------------- 6. an error keeps the probes


STOPS = PAIR + """\
ip netns exec a nc -z -w 1 10.0.0.2 80
# expect: connected
ip -n a link set eth9 up
ip netns exec a ping -c 1 10.0.0.2
"""


def test_a_run_stopped_by_an_error_prints_the_probes_before_it(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, STOPS)
    assert main(["run", path]) == 2
    cap = capsys.readouterr()
    assert f"{path}:9  ip netns exec a nc -z -w 1 10.0.0.2 80\n    → connected from 10.0.0.1:" in cap.out
    assert ":12" not in cap.out
    assert cap.err == f'{path}:11: Cannot find device "eth9"\n'
    assert main(["run", path, "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert [p["line"] for p in doc["probes"]] == [9]
    assert doc["error"] == {"file": path, "line": 11, "message": 'Cannot find device "eth9"'}
    assert main(["explain", path]) == 2
    cap = capsys.readouterr()
    assert cap.out.startswith(f"{path}:9: tcp a -> 10.0.0.2:80: connected. As expected ('connected').")
    assert cap.err == f'{path}:11: Cannot find device "eth9"\n'


def test_the_error_carries_the_partial_report() -> None:
    from simnet.script.expect import ScriptError

    with pytest.raises(ScriptError) as err:
        run_script(STOPS)
    report = err.value.report  # type: ignore[attr-defined]
    assert [p.result.outcome for p in report.probes] == ["connected"] and report.error is err.value


# ----------------------------------------------------------------------------- 7. small things


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from simnet import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out == f"simnet {__version__}\n"


def test_run_dash_reads_the_script_from_stdin(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(Path(QUICKSTART).read_bytes())))
    assert main(["run", "-", "--json"]) == 0
    assert [p["line"] for p in json.loads(capsys.readouterr().out)["probes"]] == [42, 46, 49, 55, 57, 59]


def test_an_empty_script_says_it_ran_no_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "#!/bin/sh\n# nothing yet\n\n")
    assert main(["run", path]) == 0
    assert capsys.readouterr().out == f"{path}: no command to run (the script is empty or holds only comments)\n"


# ----------------------------------------------------------------------------- 4. `from`, one meaning


def test_run_text_says_from_as_the_expectation_means_it(capsys: pytest.CaptureFixture[str]) -> None:
    """`from` is the source the receiving application saw: ping's reply's source, the listener's peer."""
    assert main(["run", QUICKSTART]) == 0
    out = capsys.readouterr().out
    assert "    → reply from 10.0.0.2; b saw the request from 10.0.0.1   expect reply from 10.0.0.2: ok" in out
    assert re.search(r"    → connected from 10\.0\.0\.1:\d+ \(as s saw it\)   expect connected from 10\.0\.0\.1: ok",
                     out)


# ----------------------------------------------------------------------------- 11. images that serve HTTP


def test_http_images_answer_200_to_curl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """nginx, httpd, caddy, traefik/whoami, registry and http.server answer HTTP; redis and busybox do not."""
    images = ["nginx", "httpd:2.4", "caddy:2", "traefik/whoami", "registry:2", "redis",
              "python:3 python3 -m http.server 80", "busybox"]
    ports = [80, 80, 80, 80, 5000, 6379, 80, 80]
    lines = ["ip netns add h1", "ip netns exec h1 dockerd &"]
    lines += [f"ip netns exec h1 docker run -d --name c{i} {img}" for i, img in enumerate(images)]
    lines += [f"ip netns exec h1 curl -s -o /dev/null -w '%{{http_code}}' http://172.17.0.{i + 2}:{port}/"
              for i, port in enumerate(ports)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    assert main(["run", path, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [o["stdout"] for o in doc["outputs"] if "curl" in o["command"]] == [
        "200", "200", "200", "200", "200", "000", "200", "000"]
    assert [p["outcome"] for p in doc["probes"]] == ["connected"] * 7 + ["refused"]


def test_traces_wrap_in_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """In a terminal long trace lines wrap at its width: nothing is cut off."""
    monkeypatch.setenv("COLUMNS", "70")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["run", BYPASS, "--trace"]) == 0
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert max(len(ln) for ln in out.splitlines()) <= 70
    flat = " ".join(re.sub(r"^[\s│├└─]*", "", ln).strip() for ln in out.splitlines())
    assert ("filter/DOCKER#1 -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j "
            "ACCEPT → ACCEPT") in re.sub(r"\s+", " ", flat)


def test_show_off_a_terminal_draws_no_endless_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """Full lines off a terminal must not make the namespace rules as wide as that 'terminal'."""
    assert main(["show", QUICKSTART]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(ln.startswith("─") and " netns r " in ln for ln in lines)
    assert max(len(ln) for ln in lines) <= 120
