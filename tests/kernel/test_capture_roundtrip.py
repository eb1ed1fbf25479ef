"""`simnet capture` round trip on the real kernel, entirely inside throwaway namespaces.

For each world (kernel-checked scenarios, Docker scenarios exported by ``simnet export``, and worlds
of the differential fuzzer's generator): the
world is built on the kernel in a sandbox whose network namespace the capture takes as the host's
root namespace (tests/kernel/capture_sandbox.py; the machine's own namespaces are never read),
and captured with the real tools.  Then:

1. ``iptables-save`` and the ``ip`` listings (addr, route show table all, rule, neigh) of the
   captured script run in simnet equal the kernel's, per namespace (interface indexes, which
   depend on creation order, aside);
2. the world's probes, run after its last command, give the same outcomes, ICMP, errno, receiver,
   rule counters and conntrack entries in simnet on the captured script as on the kernel world;
3. building the captured script on the kernel and capturing it again gives the same script.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings

from simnet.script.interpreter import run_script
from tests.kernel.capture_sandbox import LISTINGS, build_and_capture
from tests.kernel.machine import skip_reason

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ["quickstart.sh", "cross-host-vxlan-overlay.sh", "bugs/published-port-bypasses-input-drop.sh",
             "bugs/fwmark-0x4000-collision.sh", "router-on-a-stick-redirect.sh",
             # Docker scenarios, as the plain ip/iptables commands `simnet export` makes of them
             "docker/published-port-no-proxy.sh", "docker/user-networks-isolated.sh"]


def split_probes(text: str) -> tuple[str, list[str]]:
    """(the world without its probes, ``kill`` lines and expectations; the probe lines, in order)."""
    from simnet.conformance.inside.common import classify
    from simnet.script.lexer import lex
    from simnet.script.shell import expand

    cmds = expand(lex(text, "world.sh"))
    probe_lines = {c.line for c in cmds if classify(c) == "probe"}
    kill_lines = {c.line for c in cmds if c.argv and c.argv[0] == "kill"}
    keep, probes = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if n in probe_lines:
            probes.append(line)
        elif n not in kill_lines and not line.lstrip().startswith("# expect"):
            keep.append(line)
    return "\n".join(keep) + "\n", probes


def _normal(what: str, text: str) -> str:
    if what == "iptables-save":
        lines = [re.sub(r"\[\d+:\d+\]$", "[0:0]", l) for l in text.splitlines() if not l.startswith("#")]
        return "\n".join(lines)
    if what == "ip addr":
        text = re.sub(r"^\d+: ", "N: ", text, flags=re.M)
        text = re.sub(r"@if\d+", "@ifN", text)
        text = re.sub(r" link-netns(?:id)? \S+", " link-netns X", text)
    return text


def _roundtrip(text: str, name: str) -> None:
    from simnet.conformance import compare, run_on_kernel

    config, probes = split_probes(text)
    cap = build_and_capture(config)
    script = cap["script"]
    # (1) listings
    asks = [(ns, what, f"ip netns exec {ns} {' '.join(argv)}") for ns in sorted(cap["listings"])
            for what, argv in LISTINGS.items()]
    sim = run_script(script + "".join(a[2] + "\n" for a in asks), filename=f"{name}.captured")
    outputs = {o["command"]: o["stdout"] for o in sim.outputs}
    for ns, what, command in asks:
        assert _normal(what, outputs.get(command, "")) == _normal(what, cap["listings"][ns][what]), \
            f"{name}: `{command}` differs\n--- simnet\n{outputs.get(command, '')}\n--- kernel\n" \
            f"{cap['listings'][ns][what]}\n--- script\n{script}"
    # (2) probes
    if probes:
        kernel = run_on_kernel(config + "\n".join(probes) + "\n", filename=f"{name}.sh", timeout=300)
        simp = run_script(script + "\n".join(probes) + "\n", filename=f"{name}.captured").to_json()
        for i, p in enumerate(kernel["probes"]):
            p["line"] = i
        for i, p in enumerate(simp["probes"]):
            p["line"] = i
        assert len(simp["probes"]) == len(probes)
        differences = compare(simp, kernel)
        assert not differences, "\n".join(differences) + "\n\ncaptured script:\n" + script
    # (3) fixed point
    again = build_and_capture(script)
    assert again["script"] == script


@pytest.mark.parametrize("path", SCENARIOS)
def test_captured_scenario_round_trips(path: str) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    if path.startswith("docker/"):
        from simnet.docker.export import export_scenario

        exported = export_scenario(ROOT / "scenarios" / path)
        assert not exported.skips  # no probe needs docker-proxy
        # the sandbox runs no probe, so there are no flows for Docker's endpoint removal to
        # delete and `conntrack -D` would exit 1 ("0 flow entries have been deleted")
        text = "\n".join(line for line in exported.text.splitlines() if " conntrack -D " not in line) + "\n"
    else:
        text = (ROOT / "scenarios" / path).read_text()
    _roundtrip(text, path)


@settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(world=__import__("tests.kernel.test_differential_fuzz", fromlist=["worlds"]).worlds("c"))
@seed(20261207)
def _fuzzed(world: object) -> None:
    FUZZED.append(world)
    _roundtrip("\n".join(world.lines) + "\n", "fuzz")  # type: ignore[attr-defined]


FUZZED: list[object] = []


def test_captured_fuzzed_worlds_round_trip() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    _fuzzed()
    assert len(FUZZED) == 3


ALIASES = (ROOT / "tests" / "data" / "routes" / "aliases-world.sh")


def test_captured_route_aliases_round_trip() -> None:
    """Routes sharing a prefix keep their order (the lookup takes the first usable one): vz's
    connected route first because vz came up first, static aliases appended and prepended."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    _roundtrip(ALIASES.read_text(), "aliases")
