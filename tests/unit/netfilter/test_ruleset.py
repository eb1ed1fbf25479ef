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


# --- where targets and matches are allowed (verified with iptables 1.8.9 nf_tables, kernel 6.18)

EINVAL = "RULE_APPEND failed (Invalid argument): rule in chain "


@pytest.mark.parametrize("tname,chain,spec,ok", [
    ("nat", "PREROUTING", "-j DNAT --to-destination 1.2.3.4", True),
    ("nat", "POSTROUTING", "-j DNAT --to-destination 1.2.3.4", False),
    ("nat", "INPUT", "-j SNAT --to-source 1.2.3.4", True),
    ("nat", "OUTPUT", "-j SNAT --to-source 1.2.3.4", False),
    ("nat", "PREROUTING", "-j MASQUERADE", False),
    ("nat", "INPUT", "-j REDIRECT", False),
    ("filter", "INPUT", "-j REJECT", True),
    ("mangle", "INPUT", "-j REJECT", False),  # REJECT is filter-only
    ("filter", "INPUT", "-j CHECKSUM --checksum-fill", False),
    ("filter", "INPUT", "-j TOS --set-tos 1", False),
    ("filter", "OUTPUT", "-j CLASSIFY --set-class 1:1", True),
    ("mangle", "INPUT", "-j CLASSIFY --set-class 1:1", False),
    ("raw", "PREROUTING", "-j CONNMARK --save-mark", True),
    ("filter", "INPUT", "-j TRACE", True),
    ("filter", "INPUT", "-j CT --notrack", False),
    ("filter", "INPUT", "-m owner --uid-owner 0 -j ACCEPT", False),
    ("nat", "POSTROUTING", "-m owner --uid-owner 0 -j ACCEPT", True),
    ("filter", "OUTPUT", "-m mac --mac-source 00:11:22:33:44:55 -j ACCEPT", False),
    ("mangle", "INPUT", "-p tcp -j TCPMSS --clamp-mss-to-pmtu", False),
    ("mangle", "INPUT", "-p tcp -j TCPMSS --set-mss 1000", True),
    ("nat", "OUTPUT", "-m addrtype --dst-type LOCAL --limit-iface-in -j RETURN", False),
    ("nat", "PREROUTING", "-m addrtype --dst-type LOCAL --limit-iface-out -j RETURN", False),
    ("filter", "OUTPUT", "-m physdev --physdev-is-out -j ACCEPT", False),
    ("filter", "OUTPUT", "-m physdev --physdev-out eth0 --physdev-is-bridged -j ACCEPT", True),
    ("filter", "INPUT", "! -s 0/0 -j ACCEPT", False),
])
def test_targets_and_matches_only_where_the_kernel_allows_them(tname, chain, spec, ok):
    t = Ruleset().table(tname)
    if ok:
        t.append(chain, Rule.parse(spec))
        return
    with pytest.raises(RulesetError) as e:
        t.append(chain, Rule.parse(spec))
    assert e.value.exit_code == 4 and e.value.reason == EINVAL + chain
    assert not t.chain(chain).entries


def test_hook_restrictions_follow_jumps_but_checkentry_ones_do_not():
    t = Ruleset().table("nat")
    for c in "XYZ":
        t.new_chain(c)
    t.append("X", Rule.parse("-j DNAT --to-destination 1.2.3.4"))
    with pytest.raises(RulesetError) as e:
        t.append("POSTROUTING", Rule.parse("-j X"))
    assert e.value.reason == EINVAL + "POSTROUTING"
    t.append("OUTPUT", Rule.parse("-j X"))
    t.append("POSTROUTING", Rule.parse("-j Y"))
    with pytest.raises(RulesetError) as e:
        t.append("Y", Rule.parse("-j DNAT --to-destination 1.2.3.4"))
    assert e.value.reason == EINVAL + "Y"
    t.append("Y", Rule.parse("-m owner --uid-owner 0 -j RETURN"))
    with pytest.raises(RulesetError) as e:
        t.append("PREROUTING", Rule.parse("-j Y"))
    assert e.value.reason == EINVAL + "PREROUTING"
    # addrtype's --limit-iface-in is checked against the base chain the rule is in only
    t.append("Z", Rule.parse("-m addrtype --dst-type LOCAL --limit-iface-in -j RETURN"))
    t.append("OUTPUT", Rule.parse("-j Z"))


def test_restore_checks_hooks_through_jumps_once_at_commit():
    from simnet.netfilter.syntax import RestoreError, apply_restore

    rs = Ruleset()
    text = ("*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:X - [0:0]\n"
            "-A POSTROUTING -j X\n-A X -j DNAT --to-destination 1.2.3.4\nCOMMIT\n")
    with pytest.raises(RestoreError, match=r"RULE_APPEND failed \(Invalid argument\)"):
        apply_restore(rs, text)
    assert "nat" not in rs.tables
    apply_restore(rs, text.replace("POSTROUTING -j X", "PREROUTING -j X"))
    # a flushed restricted chain no longer restricts (COMMIT rescans after non-append commands)
    apply_restore(rs, text.replace("COMMIT", "-F X\nCOMMIT"))


def test_zero_of_a_builtin_chain_iptables_nft_has_not_created():
    t = Ruleset().table("filter")
    with pytest.raises(RulesetError, match="No chain/target/match by that name"):
        t.zero("INPUT")
    t.append("INPUT", Rule.parse("-j ACCEPT"))
    t.set_policy("FORWARD", "DROP")
    t.zero("INPUT")
    t.flush()
    t.delete_chain()  # -X drops the empty ACCEPT built-ins again (FORWARD keeps its DROP policy)
    with pytest.raises(RulesetError, match="No chain/target/match by that name"):
        t.zero("INPUT")
    t.zero("FORWARD")
    t.zero()
