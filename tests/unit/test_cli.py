"""The simnet command: exit codes, JSON, explain, show and graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simnet.cli import main

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = str(ROOT / "scenarios" / "quickstart.sh")


def write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "s.sh"
    p.write_text(text)
    return str(p)


FAILING = """\
ip netns add a
ip -n a link set lo up
ip netns exec a ping -c 1 10.9.9.9
# expect: reply
"""


def test_run_quickstart_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", QUICKSTART, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [p["outcome"] for p in doc["probes"]] == ["reply", "timeout", "reply", "connected", "timeout", "refused"]
    assert all(p["expect"]["ok"] for p in doc["probes"])


def test_run_exit_1_on_failed_expectation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", write(tmp_path, FAILING)]) == 1
    out = capsys.readouterr().out
    assert "expect reply: FAILED" in out and "no route to 10.9.9.9" in out


def test_run_exit_2_on_script_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "ip netns add a\nip netns exec a wget http://x/\n")
    assert main(["run", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:2: unsupported command 'wget'")


def test_kernel_trace_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", QUICKSTART, "--trace", "--trace-format", "kernel"]) == 0
    assert "[r] TRACE: filter:FORWARD:rule:1 IP 10.0.0.2" in capsys.readouterr().out


def test_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", write(tmp_path, FAILING)]) == 1
    assert "netns a has no route to 10.9.9.9" in capsys.readouterr().out
    assert main(["explain", QUICKSTART]) == 0


def test_show_and_graph(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", QUICKSTART, "r"]) == 0
    out = capsys.readouterr().out
    assert "inet 10.0.0.254/24 scope global br0" in out and "Chain FORWARD (policy ACCEPT" in out
    target = tmp_path / "g.graphml"
    assert main(["graph", QUICKSTART, "-o", str(target)]) == 0
    assert "<graphml" in target.read_text()
    assert main(["graph", QUICKSTART]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert any(n["id"] == "dev/r/br0" for n in doc["nodes"])


def test_a_parser_built_for_one_command_says_everything_the_full_one_does() -> None:
    """Start-up (#16): given a command, only its subparser is built; usage, help, errors and the
    parsed arguments are the same as the parser with every subcommand."""
    import contextlib
    import io

    from simnet.cli import _COMMANDS, _parser

    def outcome(parser: object, words: list[str]) -> tuple[object, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                result: object = vars(parser.parse_args(words))  # type: ignore[attr-defined]
            except SystemExit as e:
                result = ("exit", e.code)
        return result, out.getvalue(), err.getvalue()

    cases = [[c, "--help"] for c in _COMMANDS] + [
        ["run", "s.sh"], ["run", "s.sh", "--trace-format", "nope"], ["run", "s.sh", "--bogus"], ["run"],
        ["reach", "s.sh", "--from", "a", "b", "--jobs", "2"], ["capture", "--all-netns", "--netns", "x"],
        ["draw", "s.sh"], ["explain", "s.sh", "--line", "3"], ["bogus"], [], ["--help"], ["-h", "run"]]
    for words in cases:
        assert outcome(_parser(words), words) == outcome(_parser(), words), words
    assert len(_parser(["run"])._subparsers._group_actions[0].choices) == 1  # type: ignore[union-attr]


def test_only_the_command_lines_own_run_freezes_the_heap(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """main() from the console script (argv from sys.argv) leaves its objects to the exit, uncollected
    (gc.freeze: start-up/exit time, #16); called with words, as a library, it changes nothing."""
    import gc

    thresholds = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    assert main(["run", QUICKSTART]) == 0
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds
    before = gc.get_threshold()
    monkeypatch.setattr("sys.argv", ["simnet", "run", QUICKSTART])
    try:
        assert main() == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert gc.get_threshold() == before
    assert capsys.readouterr().out.count("6 probes, all expectations hold") == 2
