"""``ip rule ... fwmark MARK[/MASK]`` as Linux 6.18 stores, matches, prints and deletes it.

* fib_nl2rule: a mark given alone is compared in full (mask 0xffffffff), but ``fwmark 0`` alone
  gets mask 0 and so selects every packet;
* fib_rule_match: ``(rule->mark ^ flowi_mark) & rule->mark_mask``: bits of the rule's mark
  outside its mask are never compared (``0x4001/0x4000`` selects mark 0x4000);
* iproute2 prints the pair with ``%#x`` (``0/0x4000``, ``0x10/0``), leaves a full mask out and
  the whole selector out when both are 0; ``ip route get ... mark M`` shows M in hex from 16 on;
* rule_find (``ip rule del``): a zero mark or mask in the request leaves that field free, and a
  mark given alone must meet a rule with the full mask.

Every expected text below was printed by the real iproute2 6.1 on Linux 6.18 in ``unshare -n``
(tests/kernel/test_fib_rules_kernel.py runs the same commands on the kernel again).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simnet.tools.ip import IpError, ip
from simnet.world import World

SETUP = [
    "link add d0 type veth peer name p0", "link set d0 up", "link set p0 up", "addr add 10.9.0.1/24 dev d0",
    "link add d1 type veth peer name p1", "link set d1 up", "link set p1 up", "addr add 10.8.0.1/24 dev d1",
    "route add 192.0.2.0/24 dev d1 table 100", "route add 192.0.2.0/24 dev d0",
    "rule add fwmark 0x4001/0x4000 table 100",
    "rule add fwmark 0x10/0 table 101 prio 10", "route add 198.51.100.0/24 dev d1 table 101",
    "rule add fwmark 0 table 102 prio 20", "route add 203.0.113.0/24 dev d1 table 102",
]

#: ``ip route get DST mark M`` -> the first line Linux printed
ROUTE_GET = {
    ("192.0.2.1", "0"): "192.0.2.1 dev d0 src 10.9.0.1 uid 0 ",
    ("192.0.2.1", "0x4000"): "192.0.2.1 dev d1 table 100 src 10.8.0.1 mark 0x4000 uid 0 ",
    ("192.0.2.1", "0x4001"): "192.0.2.1 dev d1 table 100 src 10.8.0.1 mark 0x4001 uid 0 ",
    ("192.0.2.1", "0x1"): "192.0.2.1 dev d0 src 10.9.0.1 mark 1 uid 0 ",
    ("198.51.100.1", "0x5"): "198.51.100.1 dev d1 table 101 src 10.8.0.1 mark 5 uid 0 ",
    ("203.0.113.1", "0x7"): "203.0.113.1 dev d1 table 102 src 10.8.0.1 mark 7 uid 0 ",
    ("10.9.0.5", "15"): "10.9.0.5 dev d0 src 10.9.0.1 mark 15 uid 0 ",
    ("10.9.0.5", "16"): "10.9.0.5 dev d0 src 10.9.0.1 mark 0x10 uid 0 ",
}


def _world(*lines: str) -> World:
    w = World()
    for line in lines:
        ip(w, line.split())
    return w


def test_route_get_selects_by_the_masked_mark() -> None:
    w = _world(*SETUP)
    for (dst, mark), first in ROUTE_GET.items():
        assert ip(w, ["route", "get", dst, "mark", mark]).splitlines()[0] == first, (dst, mark)


def test_rule_show_prints_the_pair_as_iproute2() -> None:
    w = _world("rule add fwmark 0x4001/0x4000 table 100", "rule add fwmark 0 table 101",
               "rule add fwmark 0/0x4000 table 102", "rule add fwmark 0x4000/0xffffffff table 103",
               "rule add fwmark 0x10/0 table 104")
    assert ip(w, ["rule", "show"]) == (
        "0:\tfrom all lookup local\n"
        "32761:\tfrom all fwmark 0x10/0 lookup 104\n"
        "32762:\tfrom all fwmark 0x4000 lookup 103\n"
        "32763:\tfrom all fwmark 0/0x4000 lookup 102\n"
        "32764:\tfrom all lookup 101\n"
        "32765:\tfrom all fwmark 0x4001/0x4000 lookup 100\n"
        "32766:\tfrom all lookup main\n"
        "32767:\tfrom all lookup default\n")


@pytest.mark.parametrize(("added", "deleted", "found"), [
    ("fwmark 0x4000/0x4000 table 100", "fwmark 0x4000 table 100", False),  # implied full mask differs
    ("fwmark 0x4000/0x4000 table 100", "fwmark 0x4000/0x4000 table 100", True),
    ("fwmark 0x4000 table 100", "fwmark 0x4000/0x4000 table 100", False),
    ("fwmark 0x4000 table 100", "fwmark 0/0xffffffff table 100", True),  # mark 0: any mark
    ("fwmark 0x4000 table 100", "fwmark 0 table 100", True),
    ("fwmark 0x4000 table 100", "from all table 100", True),
])
def test_rule_del_finds_as_rule_find(added: str, deleted: str, found: bool) -> None:
    w = _world(f"rule add {added}")
    if found:
        ip(w, ["rule", "del", *deleted.split()])
        assert ip(w, ["rule", "show"]).count("\n") == 3
    else:
        with pytest.raises(IpError) as e:
            ip(w, ["rule", "del", *deleted.split()])
        assert (str(e.value).strip(), e.value.exit_code) == ("RTNETLINK answers: No such file or directory", 2)


@given(rule_mark=st.integers(0, 0xFFFF), mask=st.integers(0, 0xFFFF) | st.just(None),
       packet_mark=st.integers(1, 0xFFFF))
def test_a_rule_selects_a_mark_that_agrees_on_every_masked_bit(rule_mark: int, mask: int | None,
                                                               packet_mark: int) -> None:
    selector = f"{rule_mark:#x}" if mask is None else f"{rule_mark:#x}/{mask:#x}"
    w = _world("link add d0 type veth peer name p0", "link set d0 up", "addr add 10.9.0.1/24 dev d0",
               "route add 192.0.2.0/24 dev d0 table 100", f"rule add fwmark {selector} table 100")
    compared = (0xFFFFFFFF if rule_mark else 0) if mask is None else mask
    agrees = all((rule_mark >> b & 1) == (packet_mark >> b & 1) for b in range(32) if compared >> b & 1)
    try:
        table_100 = " table 100 " in ip(w, ["route", "get", "192.0.2.1", "mark", str(packet_mark)])
    except IpError:
        table_100 = False  # the main table has no route there
    assert table_100 == agrees
