"""render: deterministic Rich output (golden text with a fixed-width, colourless console)."""

from __future__ import annotations

import io

from rich.console import Console

from simnet.render import probe_panel, report_renderable, routes_table, ruleset_table, trace_tree, world_tree
from simnet.script.interpreter import run_script

SCRIPT = """\
ip netns add a
ip netns add b
ip -n a link add eth0 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:00:02 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip -n b neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev eth0
ip -n a neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0
ip netns exec b iptables -A INPUT -p tcp --dport 80 -j DROP
ip netns exec a nc -z 10.0.0.2 80
# expect: connected
"""


def render(obj: object) -> str:
    console = Console(width=100, color_system=None, file=io.StringIO())
    console.print(obj)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_trace_tree_groups_steps_by_namespace_hop() -> None:
    report = run_script(SCRIPT)
    syn = report.probes[0].result.traces[0]
    text = render(trace_tree(syn))
    port = syn.packet.l4.sport  # type: ignore[union-attr]
    assert text == f"""\
trace 1: IP 10.0.0.1.{port} > 10.0.0.2.80: Flags [S]  dropped
├── netns a
│   ├── sent by tcp connect: IP 10.0.0.1.{port} > 10.0.0.2.80: Flags [S]
│   ├── route 10.0.0.2: 10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 (output)
│   ├── neigh 10.0.0.2 dev eth0: 02:00:00:00:00:02 PERMANENT
│   └── transmitted on eth0: IP 10.0.0.1.{port} > 10.0.0.2.80: Flags [S]
└── netns b
    ├── received on eth0: IP 10.0.0.1.{port} > 10.0.0.2.80: Flags [S]
    ├── PREROUTING
    ├── route 10.0.0.2: local 10.0.0.2 dev eth0 proto kernel scope host src 10.0.0.2 (local)
    ├── INPUT
    ├── filter/INPUT#1  -A INPUT -p tcp -m tcp --dport 80 -j DROP  → DROP
    └── dropped: filter INPUT: DROP
"""


def test_report_lists_probe_and_failed_expectation() -> None:
    report = run_script(SCRIPT)
    text = render(report_renderable(report, traces="none"))
    assert text == ("<script>:11  ip netns exec a nc -z 10.0.0.2 80\n"
                    "    → timeout   expect connected: FAILED\n"
                    "1 probes, 1 expectation(s) failed\n")
    assert render(report) == render(report_renderable(report))
    assert "trace 1:" in render(report)


def test_ruleset_routes_and_world() -> None:
    report = run_script(SCRIPT)
    w = report.world
    assert [line.rstrip() for line in render(ruleset_table(w["b"])).splitlines()[:5]] == [
        "b filter: Chain INPUT (policy ACCEPT 0 packets, 0 bytes)",
        "num  pkts  bytes  target  rule",
        "  1     1     60  DROP    -p tcp -m tcp --dport 80 -j DROP",  # a SYN with its options
        "b filter: Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)",
        "num  pkts  bytes  target  rule",
    ]
    assert render(routes_table(w["a"])).splitlines()[2].rstrip() == \
        "main   10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1"
    assert render(world_tree(w)) == """\
world (seed 0)
├── netns a
│   ├── 1: lo DOWN 00:00:00:00:00:00
│   └── 2: eth0 UP 02:00:00:00:00:01 peer b/eth0
│       └── inet 10.0.0.1/24
└── netns b
    ├── 1: lo DOWN 00:00:00:00:00:00
    └── 2: eth0 UP 02:00:00:00:00:02 peer a/eth0
        └── inet 10.0.0.2/24
"""
    panel = render(probe_panel(report.probes[0].result, traces=False))
    assert "tcp a → 10.0.0.2:80: timeout" in panel and panel.startswith("╭")
