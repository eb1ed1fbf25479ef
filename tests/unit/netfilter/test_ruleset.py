"""TableState operations refuse what nf_tables refuses, atomically."""

import pytest

from simnet.netfilter.rule import Rule
from simnet.netfilter.ruleset import Ruleset, RulesetError


def table():
    return Ruleset().table("filter")


def test_append_insert_replace_delete():
    t = table()
    t.append("INPUT", Rule.parse("-j ACCEPT"))
    t.insert("INPUT", Rule.parse("-j DROP"), 1)
    assert [str(r) for r in t.chain("INPUT").rules] == ["-j DROP", "-j ACCEPT"]
    t.replace("INPUT", 2, Rule.parse("-j RETURN"))
    t.delete("INPUT", Rule.parse("-j DROP"))
    assert [str(r) for r in t.chain("INPUT").rules] == ["-j RETURN"]
    with pytest.raises(RulesetError, match="Index of deletion too big"):
        t.delete_at("INPUT", 5)


def test_generation_bumps_on_every_change():
    t = table()
    g = t.generation
    t.new_chain("X")
    t.append("X", Rule.parse("-j ACCEPT"))
    assert t.generation == g + 2


def test_loops_reachable_from_a_base_chain_are_refused_and_nothing_changes():
    t = table()
    t.new_chain("A")
    t.new_chain("B")
    t.append("INPUT", Rule.parse("-j A"))
    t.append("A", Rule.parse("-j B"))
    before = [str(r) for r in t.chain("B").rules]
    with pytest.raises(RulesetError) as e:
        t.append("B", Rule.parse("-g A"))
    assert str(e.value) == "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Too many links): rule in chain B"
    assert e.value.exit_code == 4
    assert [str(r) for r in t.chain("B").rules] == before


def test_nesting_deeper_than_15_is_refused():
    t = table()
    for i in range(16):
        t.new_chain(f"C{i}")
    for i in range(15):
        t.append(f"C{i}", Rule.parse(f"-j C{i + 1}"))
    with pytest.raises(RulesetError, match="Too many links"):
        t.append("INPUT", Rule.parse("-j C0"))
    t.append("INPUT", Rule.parse("-j C1"))


def test_delete_chain_refused_while_referenced_or_non_empty():
    t = table()
    t.new_chain("A")
    t.append("INPUT", Rule.parse("-j A"))
    with pytest.raises(RulesetError, match=r"CHAIN_DEL failed \(Device or resource busy\): chain A"):
        t.delete_chain("A")
    t.flush("INPUT")
    t.delete_chain("A")
    assert "A" not in t.chains


def test_missing_jump_target_and_policy_rules():
    t = table()
    with pytest.raises(RulesetError, match="Chain 'NOPE' does not exist"):
        t.append("INPUT", Rule.parse("-j NOPE"))
    with pytest.raises(RulesetError, match="Bad policy name"):
        t.set_policy("INPUT", "REJECT")
    t.new_chain("U")
    with pytest.raises(RulesetError, match="Bad built-in chain name"):
        t.set_policy("U", "DROP")


def test_rename_follows_jumps_and_snapshot_restores():
    rs = Ruleset()
    t = rs.table("filter")
    t.new_chain("OLD")
    t.append("FORWARD", Rule.parse("-j OLD"))
    snap = rs.snapshot()
    t.rename_chain("OLD", "NEW")
    assert str(t.chain("FORWARD").rules[0]) == "-j NEW"
    rs.restore(snap)
    assert "OLD" in rs.table("filter").chains
