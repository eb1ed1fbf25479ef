"""The four pictures, drawn from real scenarios: their words say what the simulation found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

import simnet  # noqa: E402
from simnet import draw  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def texts(fig) -> str:  # type: ignore[no-untyped-def]
    from matplotlib.text import Text

    return "\n".join(t.get_text() for t in fig.findobj(Text))


@pytest.fixture(scope="module")
def chapter() -> simnet.Report:
    return simnet.run_script(ROOT / "scenarios/docker-1.9-single-host.sh")


def probe(report: simnet.Report, line: int):  # type: ignore[no-untyped-def]
    return next(p for p in report.probes if p.line == line)


def test_hooks_labels_the_rules_the_published_port_hit(chapter: simnet.Report) -> None:
    """The client's SYN to 1180: DNAT in nat/DOCKER at PREROUTING, filter/DOCKER ACCEPT in FORWARD, SNAT back."""
    fig = draw.hooks(probe(chapter, 81), world=chapter.world)
    words = texts(fig)
    flat = " ".join(words.split())  # long labels wrap at a space
    for label in ("1: nat/PREROUTING#1 jump DOCKER", "1: nat/DOCKER#1 DNAT", "filter/DOCKER#1 ACCEPT",
                  "2: filter/FORWARD#3 ACCEPT", "DNAT dst 203.0.113.10:1180>172.17.0.2:5000",
                  "SNAT src 172.17.0.2:5000>203.0.113.10:1180"):
        assert label in flat, label
    for hook in ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING", "PREROUTING (br_netfilter)",
                 "netns host"):
        assert hook in words.splitlines(), hook
    # the table boxes at PREROUTING carry their priorities, in the kernel's order
    assert "raw\n-300" in words and "conntrack\n-200" in words and "mangle\n-150" in words and "nat\n-100" in words
    assert "route 172.17.0.2: 172.17.0.0/16 dev docker0 (forward)" in words


def test_hooks_marks_a_drop_and_names_the_policy() -> None:
    report = simnet.run_script(ROOT / "scenarios/bugs/published-port-bypasses-input-drop.sh")
    dropped = next(p for p in report.probes if p.result.outcome in ("timeout", "unreachable")
                   and any(h.index == 0 and h.verdict == "DROP" for t in p.result.traces for h in t.rule_hits()))
    words = texts(draw.hooks(dropped, world=report.world))
    assert "filter/INPUT#0 DROP" in words
    assert "-> dropped" in words


def test_hooks_without_netfilter_says_so() -> None:
    report = simnet.run_script("ip netns add a\nip -n a link set lo up\nip netns exec a ping -c 1 -W 1 127.0.0.1\n")
    assert "No packet of this probe entered a netfilter hook" in texts(draw.hooks(report.probes[0]))


def test_sequence_shows_arp_handshake_and_nat(chapter: simnet.Report) -> None:
    host_to_registry = texts(draw.sequence(probe(chapter, 63), world=chapter.world)).splitlines()
    assert host_to_registry.index("ARP who-has 172.17.0.2 tell 172.17.0.1") < \
        host_to_registry.index("SYN 172.17.0.1:40976 > 172.17.0.2:5000")
    assert "SYN-ACK 172.17.0.2:5000 > 172.17.0.1:40976" in host_to_registry
    assert "netns host" in host_to_registry and "netns registry" in host_to_registry
    published = texts(draw.sequence(probe(chapter, 81), world=chapter.world))
    assert "SYN 203.0.113.20:52491 > 203.0.113.10:1180" in published   # on the LAN
    assert "SYN 203.0.113.20:52491 > 172.17.0.2:5000" in published      # on docker0, after DNAT
    assert "NAT DNAT dst 203.0.113.10>172.17.0.2, dport 1180>5000" in published


def test_sequence_shows_an_icmp_error() -> None:
    report = simnet.run_script("""
ip netns add a
ip netns add b
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
echo x | ip netns exec a nc -u -w 1 10.0.0.2 53
""")
    words = texts(draw.sequence(report.probes[0], world=report.world))
    assert "ICMP port unreachable 10.0.0.2 > 10.0.0.1" in words


def test_topology_lists_devices_addresses_links_and_the_path(chapter: simnet.Report) -> None:
    words = texts(draw.topology(chapter.world, probe=probe(chapter, 81), routes=True))
    for text in ("netns client", "netns host", "netns registry", "eth0 (veth)  203.0.113.10/24",
                 "docker0 (bridge)  172.17.0.1/16", "  port of docker0: veth0a1b2c3 (veth)",
                 "eth0 (veth)  172.17.0.2/16", "default via 172.17.0.1 dev eth0", "veth"):
        assert text in words.splitlines() or text.strip() in words, text
    assert "path of line 81" in words
    # the SYN crossed five devices: client eth0, host eth0, docker0, the port, registry eth0
    assert {"1", "2", "3", "4", "5"} <= set(words.splitlines())


def test_topology_draws_the_vxlan_tunnel() -> None:
    report = simnet.run_script(ROOT / "scenarios/cross-host-vxlan-overlay.sh")
    words = texts(draw.topology(report.world))
    assert "VXLAN 42" in words
    assert "  port of br0: vxlan0 (vxlan vni 42)" in words.splitlines()


def test_chains_counts_the_jumps(chapter: simnet.Report) -> None:
    words = texts(draw.chains(chapter.world, "host", table="nat"))
    assert "DOCKER  (user chain)" in words
    assert "PREROUTING  (policy ACCEPT, 2 pkts)" in words
    assert "#1     2 -m addrtype --dst-type LOCAL -j DOCKER" in words
    assert "#1: 2 pkts" in words.splitlines()
    with pytest.raises(KeyError):
        draw.chains(chapter.world, "nowhere")


def test_draw_cli_writes_each_picture(tmp_path: Path) -> None:
    script = str(ROOT / "scenarios/docker-1.9-single-host.sh")
    for kind in ("hooks", "topology", "sequence", "chains"):
        out = tmp_path / f"{kind}.png"
        args = [sys.executable, "-m", "simnet.cli", "draw", script, "--line", "81", "--kind", kind, "-o", str(out)]
        done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = subprocess.run([sys.executable, "-m", "simnet.cli", "draw", script, "--line", "80", "-o",
                          str(tmp_path / "x.png")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2
    assert "docker-1.9-single-host.sh:80: no probe on this line (probes: 63, 67, 71, 81, 86)" in bad.stderr


def test_import_simnet_does_not_load_matplotlib() -> None:
    code = "import sys, simnet; assert 'matplotlib' not in sys.modules; simnet.draw_hooks; " \
           "assert 'matplotlib' not in sys.modules; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
