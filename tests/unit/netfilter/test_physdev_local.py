"""``-m physdev`` outside bridged FORWARD (issue #13.3): the world is the kernel-checked regression
``physdev-in-input-and-output.sh``; the expected rule hits are the ones Linux 6.18 counted."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from simnet.netfilter.matches.xt_physdev import PhysdevMatch
from simnet.script.interpreter import run_script
from simnet.skb import Skb

WORLD = Path(__file__).parents[2] / "kernel" / "regressions" / "physdev-in-input-and-output.sh"


def _hits(probe: dict) -> set[tuple[str, str, int]]:
    return {(c["table"], c["chain"], c["rule"]) for c in probe["counters"]["xb"] if c["packets"]}


def test_physdev_rules_counted_as_the_kernel_counts_them() -> None:
    for probe in run_script(WORLD.read_text()).to_json()["probes"]:
        assert probe["outcome"] == "reply"
        hits = _hits(probe)
        assert {r for t, c, r in hits if (t, c) == ("filter", "INPUT")} == {0, 1, 4, 7, 9}
        assert {r for t, c, r in hits if (t, c) == ("filter", "OUTPUT")} == {0, 2, 3, 4}
        assert {r for t, c, r in hits if (t, c) == ("mangle", "PREROUTING")} == {0, 1, 3}


@given(st.sampled_from(["--physdev-out", "--physdev-is-out", "--physdev-is-bridged"]), st.booleans())
def test_an_input_packet_never_has_an_out_port(option: str, invert: bool) -> None:
    m = PhysdevMatch.build({option: (invert, ("vb",) if option == "--physdev-out" else ())}, None)  # type: ignore[arg-type]
    skb = Skb(packet=None, physindev="vb", bridged=False)  # type: ignore[arg-type]
    # out-port tests: only '! --physdev-is-out' / '! --physdev-is-bridged' hold; --physdev-out never
    assert m.matches(skb, None) is (invert and option != "--physdev-out")  # type: ignore[arg-type]


@given(st.booleans(), st.booleans())
def test_physdev_in_in_input_compares_the_port(same: bool, invert: bool) -> None:
    m = PhysdevMatch.build({"--physdev-in": (invert, ("vb",))}, None)  # type: ignore[arg-type]
    skb = Skb(packet=None, physindev="vb" if same else "vc", bridged=False)  # type: ignore[arg-type]
    assert m.matches(skb, None) is (same != invert)  # type: ignore[arg-type]
    local = Skb(packet=None)  # type: ignore[arg-type]
    assert m.matches(local, None) is invert  # type: ignore[arg-type]
