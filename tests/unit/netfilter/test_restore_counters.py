"""Policy counters as iptables-nft 1.8.9 handles them (seen on 6.18; tests/kernel/test_restore_counters_kernel.py):
``:CHAIN POLICY [p:b]`` applies only under ``iptables-restore -c``; ``-P`` zeroes them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simnet.netfilter.iptables import iptables, iptables_restore
from simnet.netfilter.ruleset import Ruleset


def _policy(rs: Ruleset, chain: str = "INPUT") -> tuple[int, int]:
    c = rs.tables["filter"].chains[chain].policy_counters
    return c.packets, c.bytes


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1), st.booleans(), st.booleans())
def test_declared_policy_counters_need_dash_c(p: int, b: int, dash_c: bool, noflush: bool) -> None:
    rs = Ruleset()
    iptables_restore(rs, ["-c"], "*filter\n:INPUT ACCEPT [5:300]\nCOMMIT\n")
    args = (["-c"] if dash_c else []) + (["--noflush"] if noflush else [])
    iptables_restore(rs, args, f"*filter\n:INPUT DROP [{p}:{b}]\nCOMMIT\n")
    assert _policy(rs) == ((p, b) if dash_c else (0, 0))
    assert rs.tables["filter"].chains["INPUT"].policy == "DROP"


def test_dash_p_zeroes_the_policy_counters_even_with_dash_c() -> None:
    rs = Ruleset()
    iptables_restore(rs, ["-c"], "*filter\n:INPUT ACCEPT [5:300]\n:FORWARD DROP [7:700]\nCOMMIT\n")
    iptables(rs, ["-c", "4", "4", "-P", "INPUT", "ACCEPT"])
    assert _policy(rs) == (0, 0) and _policy(rs, "FORWARD") == (7, 700)
