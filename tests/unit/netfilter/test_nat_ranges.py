"""Port-shifted NAT ranges (issue #13.4): ``--to-destination A:lo-hi/base`` and friends, parsed and
printed as iptables 1.8.9 does and mapped as nf_nat_l4proto_unique_tuple does (all seen on 6.18,
tests/kernel/test_xt_modules_kernel.py and tests/data/xt/nat-port-shifted-ranges.sh)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simnet.netfilter.iptables import IptablesError, iptables
from simnet.netfilter.nat import _shifted
from simnet.netfilter.ruleset import Ruleset
from simnet.netfilter.targets.xt_nat import NatRange, parse_ports
from simnet.script.interpreter import run_script


def _save(argv: str) -> str:
    rs = Ruleset()
    iptables(rs, ["-t", "nat", *argv.split()])
    return iptables(rs, ["-t", "nat", "-S"]).splitlines()[-1]


@pytest.mark.parametrize(("rule", "saved"), [
    ("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110/8100", None),
    ("-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-80/90", "-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80/90"),
    ("-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:0x50-0x60/010", "-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-96/8"),
    ("-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/http", "-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/80"),
    ("-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/5x", "-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/5"),
    ("-A POSTROUTING -p tcp -j SNAT --to-source 10.0.2.2:9100-9110/8100", "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.2.2:9100-9110/0"),
    ("-A POSTROUTING -p udp -j MASQUERADE --to-ports 9100-9110/8100", "-A POSTROUTING -p udp -j MASQUERADE --to-ports 9100-9110/0"),
])
def test_shifted_ranges_save_as_iptables_save_does(rule: str, saved: str | None) -> None:
    assert _save(rule) == (saved or rule)


@pytest.mark.parametrize(("rule", "message"), [
    ("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100/8100", "Garbage after port value: `/8100'"),
    ("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110/0", "Port `0' not valid"),
    ("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9110-9100/8100", "Port range `9100/8100' funky"),
    ("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:9100-9110x", "Garbage after port range: `x'"),
    ("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.2.2:80:90", 'Bad IP address "10.0.2.2:80:90"'),
    ("-A PREROUTING -j DNAT --to-destination 10.0.2.2:9100-9110/8100", "Need TCP, UDP, SCTP or DCCP with port specification"),
    ("-A PREROUTING -p tcp -j REDIRECT --to-ports 9100-9110/8100", "Shifted portmap ranges not supported with this kernel"),
])
def test_bad_shifted_ranges_fail_with_iptables_words(rule: str, message: str) -> None:
    rs = Ruleset()
    with pytest.raises(IptablesError) as e:
        iptables(rs, ["-t", "nat", *rule.split()])
    assert str(e.value).splitlines()[0] == f"iptables v1.8.9 (nf_tables): {message}"
    assert iptables(rs, ["-t", "nat", "-S", rule.split()[1]]).count("-A ") == 0


@given(st.integers(0, 65535), st.integers(0, 200), st.integers(1, 65535), st.integers(0, 65535))
def test_shifted_port_lands_in_the_range_by_its_offset(lo: int, width: int, base: int, port: int) -> None:
    hi = min(65535, lo + width)
    mapped = _shifted(port, lo, hi, base)
    assert lo <= mapped <= hi
    assert (mapped - lo) % (hi - lo + 1) == ((port - base) % 65536) % (hi - lo + 1)


@given(st.integers(0, 65534), st.integers(1, 500), st.integers(1, 65535))
def test_shifted_range_text_round_trips(lo: int, width: int, base: int) -> None:
    # (lo == hi prints as 'lo/base', which iptables itself refuses to read back: seen on 6.18)
    hi = min(65535, lo + width)
    rng = NatRange.parse(f"10.0.0.1:{lo}-{hi}/{base}", 6)
    assert (rng.min_port, rng.max_port, rng.base_port) == (lo, hi, base)
    assert NatRange.parse(str(rng), 6) == rng
    assert parse_ports(f"{lo}-{hi}", 17) == (lo, hi, None)


def test_shifted_ranges_map_as_the_kernel_did() -> None:
    world = Path(__file__).parents[2] / "data" / "xt" / "nat-port-shifted-ranges.sh"
    probes = run_script(world.read_text()).to_json()["probes"]
    last = probes[-1]["conntrack"]["sr"]
    assert "udp 17 src=10.0.0.2 dst=10.0.0.1 sport=4000 dport=8105 [UNREPLIED] src=10.1.0.2 dst=10.0.0.2 sport=9105 dport=4000" in last
    assert "udp 17 src=10.0.0.2 dst=10.0.0.1 sport=4000 dport=8120 [UNREPLIED] src=10.1.0.2 dst=10.0.0.2 sport=9109 dport=4000" in last
    assert "udp 17 src=10.0.0.2 dst=10.0.0.1 sport=4000 dport=7 [UNREPLIED] src=10.1.0.2 dst=10.0.0.2 sport=9101 dport=4000" in last
    assert [p["received"]["sport"] for p in probes[3:]] == [9107, 9107, 9109]


def test_dnat_keeps_a_port_already_in_the_range() -> None:
    world = Path(__file__).parents[2] / "data" / "xt" / "nat-port-range-keeps-a-port-in-range.sh"
    probes = run_script(world.read_text()).to_json()["probes"]
    assert [p["outcome"] for p in probes[:3]] == ["lost", "delivered", "delivered"]  # nothing listens on 9100
    last = probes[2]["conntrack"]["sr"]
    assert "udp 17 src=10.0.0.2 dst=10.0.0.1 sport=4000 dport=8105 [UNREPLIED] src=10.1.0.2 dst=10.0.0.2 sport=9100 dport=4000" in last
    assert "udp 17 src=10.0.0.2 dst=10.0.0.1 sport=4000 dport=9105 [UNREPLIED] src=10.1.0.2 dst=10.0.0.2 sport=9105 dport=4000" in last
