"""Routes sharing (table, prefix, metric): ``ip route add|append|prepend|replace|change|del``.

The kernel keeps them as an ordered alias list (fib_table_insert) and its lookup takes the first
usable alias. tests/data/routes/aliases.kernel.txt is what Linux 6.18 and iproute2 6.1 printed
for the command sequence of tests/kernel/test_route_aliases_kernel.py (which re-checks it and
drawn sequences on the running kernel); simnet must print the same here, kernel or not.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from simnet.script.interpreter import run_script
from simnet.testing import world_script
from simnet.tools.ip import ip
from simnet.world import World
from tests.kernel.test_route_aliases_kernel import FIXED, SETUP, _command, _in_simnet

KERNEL = Path(__file__).parents[1] / "data" / "routes" / "aliases.kernel.txt"


def test_the_alias_verbs_print_what_the_kernel_printed() -> None:
    assert _in_simnet(FIXED) == KERNEL.read_text()


def _world(commands: list[str]) -> World:
    from simnet.tools.ip import IpError

    w = World()
    w.add_netns("n")
    for c in SETUP:
        ip(w, c.split(), netns="n")
    for c in commands:
        try:
            ip(w, c.split(), netns="n")
        except IpError:
            pass
    return w


def test_world_script_keeps_connected_routes_in_their_order() -> None:
    # vc's prefix route was made first here; a replay that brings links up by name would put
    # va's first and send 10.9.0.5 out of va
    w = _world(["route del 10.9.0.0/24 dev va", "route append 10.9.0.0/24 dev va proto kernel scope link src 10.9.0.1",
                "route append 10.8.0.0/24 dev vc", "route append 10.8.0.0/24 dev va"])
    text = world_script(w)
    assert ("ip -n n route del 10.9.0.0/24 dev vc proto kernel src 10.9.0.2\n"
            "ip -n n route prepend 10.9.0.0/24 dev vc proto kernel src 10.9.0.2\n") in text
    again = run_script(text).world
    assert ip(again, ["route", "show"], netns="n") == ip(w, ["route", "show"], netns="n")
    assert ip(again, ["route", "get", "10.9.0.5"], netns="n").startswith("10.9.0.5 dev vc ")
    assert world_script(again) == text


def test_world_script_keeps_a_deleted_connected_route_deleted() -> None:
    w = _world(["route del 10.9.0.0/24 dev vc"])
    again = run_script(world_script(w)).world
    assert ip(again, ["route", "show"], netns="n") == "10.9.0.0/24 dev va proto kernel scope link src 10.9.0.1 \n"


@settings(max_examples=40, deadline=None)
@given(st.lists(_command(), max_size=8))
def test_any_route_history_is_written_back_in_order(commands: list[str]) -> None:
    """Whatever sequence of route verbs built the tables (failed ones change nothing), the
    world's script rebuilds them alias for alias and every lookup leaves the same way."""
    w = _world(commands)
    again = run_script(world_script(w)).world
    assert ip(again, ["route", "show"], netns="n") == ip(w, ["route", "show"], netns="n")
    for dst in ("10.8.0.5", "10.9.0.5", "1.1.1.1"):
        assert again["n"].fib.lookup(IPv4Address(dst)) == w["n"].fib.lookup(
            IPv4Address(dst))
