"""simnet reach's fast sweep against the naive one.

Property: for any drawn small world (sst.worlds) with drawn rulesets, listeners and rules that keep
state between packets (``-m recent``, ``-m limit``, ``-m statistic --mode nth``, conntrack states),
the matrix the sweep gives (one world, reset after each probe to the set-up state) equals a naive
sweep that builds the world afresh from the script for every probe; with ``shared`` it equals a
fresh world per source whose probes run in order.
"""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simnet import strategies as sst
from simnet.reach import Matrix, parse_ports, port_classes, reach, targets
from simnet.script.interpreter import run_script
from simnet.testing import probe, world_script
from simnet.world import World

# rules whose verdict depends on earlier packets: a probe that saw another's state would differ
STATEFUL = (
    ["-A INPUT -p tcp --syn -m recent --name seen --rcheck --seconds 60 -j DROP",
     "-A INPUT -p tcp --syn -m recent --name seen --set"],
    ["-A INPUT -p icmp -m limit --limit 1/min --limit-burst 1 -j ACCEPT", "-A INPUT -p icmp -j DROP"],
    ["-A INPUT -m statistic --mode nth --every 2 --packet 1 -j DROP"],
    ["-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
     "-A FORWARD -m recent --name fwd --rcheck -j DROP", "-A FORWARD -m recent --name fwd --set"],
    ["-A OUTPUT -p udp -m recent --name out --rcheck -j DROP", "-A OUTPUT -p udp -m recent --name out --set"],
)


@st.composite
def _scripts(draw: st.DrawFn) -> str:
    world: World = draw(sst.worlds(max_netns=4))
    lines: list[str] = []
    for ns in world.namespaces.values():
        if draw(st.booleans(), label=f"{ns.name} rules"):
            ns.ruleset = draw(sst.rulesets(tables=("filter",), max_chains=1, max_rules=2), label=f"{ns.name} ruleset")
        for proto, port in (("tcp", 80), ("udp", 53), ("tcp", 22)):
            if draw(st.booleans(), label=f"{ns.name} listens {proto} {port}"):
                ns.sockets.listen(proto, port)
        for rule in draw(st.sampled_from([[], *STATEFUL]), label=f"{ns.name} stateful"):
            lines.append(f"ip netns exec {ns.name} iptables {rule}")
    try:
        text = world_script(world)
    except ValueError as e:  # a drawn rule names an ipset: no script builds that
        assume("ipset" not in str(e))
        raise
    return text + "".join(line + "\n" for line in lines)


def _expanded(m: Matrix, classes: list[tuple[int, int]]) -> list[tuple[str, str, int, str]]:
    """Every (source, target, port class) with its outcome, ranges undone."""
    out = []
    for cell in m.cells:
        for lo, _ in classes:
            outcome = next(o for a, b, o in cell.ranges if a <= lo <= b)
            out.append((cell.src, cell.dst, lo, outcome))
    return out


def _naive(text: str, proto: str, ports: str, shared: bool) -> tuple[list[tuple[str, str, int, str]], list[tuple[int, int]]]:
    """A fresh world from the script for every probe (every source, when ``shared``)."""
    first = run_script(text).world
    classes = [(0, 0)] if proto == "icmp" else port_classes(first, proto, parse_ports(ports))
    out = []
    for src, ns in first.namespaces.items():
        own = next((a.interface.ip for a in ns.addrs if not a.interface.ip.is_loopback), None)
        world = run_script(text).world if shared else None
        for t in targets(first):
            if t.addr == own:
                continue
            for lo, _ in classes:
                w = world if world is not None else run_script(text).world
                with w.untraced():
                    outcome = probe(w, src, t.addr, proto=proto, port=None if proto == "icmp" else lo).outcome
                out.append((src, t.label, lo, outcome))
    return out, classes


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))  # a world per probe, loaded machine
@given(_scripts(), st.sampled_from(["icmp", "tcp", "udp"]), st.booleans())
def test_fast_sweep_equals_a_fresh_world_per_probe(text: str, proto: str, shared: bool) -> None:
    naive, classes = _naive(text, proto, "22,53,80", shared)
    fast = reach(text, proto=proto, ports="22,53,80", jobs=1, shared=shared)
    assert _expanded(fast, classes) == naive
