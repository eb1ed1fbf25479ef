"""simnet's pytest plugin: the ``simnet_world`` fixture and its ``pytest11`` entry point."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_simnet_world_builds_a_scenario_from_its_path(simnet_world) -> None:
    report = simnet_world("scenarios/bugs/published-port-bypasses-input-drop.sh")
    from simnet.testing import assert_reachable

    # the README's headline bug: INPUT DROP does not protect the published port
    assert [p.result.outcome for p in report.probes][:2] == ["timeout", "connected"]
    assert_reachable(report.world, "client", "203.0.113.10", port=8080)


def test_the_entry_point_names_the_plugin_module() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"simnet.pytest_plugin": "simnet.pytest_plugin"}


def _pytest(tmp_path: Path, test: str, *scripts: tuple[str, str]) -> subprocess.CompletedProcess[str]:
    for name, text in scripts:
        (tmp_path / name).write_text(text)
    (tmp_path / "test_user.py").write_text(test)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    # as a user's project runs it: its own rootdir, the plugin found through the entry point (or -p
    # when this environment's installed metadata predates it)
    from importlib.metadata import entry_points

    plugin = [] if any(ep.name == "simnet.pytest_plugin" for ep in entry_points(group="pytest11")) else \
        ["-p", "simnet.pytest_plugin"]
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           *plugin, str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


PAIR = ("ip netns add a\nip netns add b\nip -n a link add eth0 type veth peer name eth0 netns b\n"
        "ip -n a addr add 10.0.0.1/24 dev eth0\nip -n b addr add 10.0.0.2/24 dev eth0\n"
        "ip -n a link set eth0 up\nip -n b link set eth0 up\n")


def test_a_users_suite_gets_worlds_and_one_line_failures(tmp_path: Path) -> None:
    test = '''
from simnet.testing import assert_reachable

def test_ok(simnet_world):
    report = simnet_world("net.sh")
    assert_reachable(report.world, "a", "10.0.0.2")

def test_bad_script(simnet_world):
    simnet_world("broken.sh")

def test_failed_expectation(simnet_world):
    simnet_world("wrong.sh")

def test_failed_expectation_allowed(simnet_world):
    assert simnet_world("wrong.sh", expectations=False).probes[0].result.outcome == "reply"
'''
    done = _pytest(tmp_path, test, ("net.sh", PAIR),
                   ("broken.sh", PAIR + "ip -n a route add 10.9.0.0/16 via 10.0.0.99 dev nosuch\n"),
                   ("wrong.sh", PAIR + "ip netns exec a ping -c 1 -W 1 10.0.0.2\n# expect: timeout\n"))
    out = done.stdout
    assert "2 failed, 2 passed" in out, out
    assert "simnet_world: " in out and "broken.sh:8" in out
    assert "wrong.sh:8: `ip netns exec a ping -c 1 -W 1 10.0.0.2` expected timeout, got reply" in out
    assert "Traceback" not in out
