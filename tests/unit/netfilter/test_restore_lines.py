"""iptables-restore's reading of lines, as found in real dumps and seen on 6.18
(tests/kernel/test_restore_counters_kernel.py): a CR stays in its line, only an exact ``COMMIT`` commits,
and the old ``-s ! ADDR`` form is refused at its stray word."""

from __future__ import annotations

import pytest

from simnet.netfilter.iptables import IptablesError, iptables, iptables_restore, iptables_save
from simnet.netfilter.ruleset import Ruleset


@pytest.mark.parametrize(("text", "reason"), [
    ("*filter\r\n:INPUT ACCEPT [0:0]\r\nCOMMIT\r\n", "line 1 failed: table name 'filter\r' invalid"),
    ("*filter\n-A INPUT -s 1.2.3.4\r\nCOMMIT\n", "line 2 failed: host/network `1.2.3.4\r' not found"),
    ("*filter\n-A INPUT -j ACCEPT\nCOMMIT \n", "line 3 failed: Bad argument `COMMIT'"),
    ("*filter\n-A INPUT -j ACCEPT\n COMMIT\n", "line 3 failed: Bad argument `COMMIT'"),
    ("*filter\n-A INPUT -j ACCEPT\nCOMMIT\r\n", "line 3 failed: Bad argument `COMMIT\r'"),
    ("*foo\nCOMMIT\n", "line 1 failed: table name 'foo' invalid"),
])
def test_refused_lines(text: str, reason: str) -> None:
    rs = Ruleset()
    with pytest.raises(IptablesError) as e:
        iptables_restore(rs, [], text)
    assert str(e.value) == f"iptables-restore: {reason}" and e.value.exit_code == 2
    assert rs.tables == {} or not any(rs.tables["filter"].chains["INPUT"].entries)


def test_a_cr_after_a_chain_declaration_or_a_space_after_a_rule_is_harmless() -> None:
    rs = Ruleset()
    iptables_restore(rs, [], "*filter\n:MY -\r\n-A MY -j ACCEPT \nCOMMIT\n")
    assert "-A MY -j ACCEPT\n" in iptables_save(rs)


@pytest.mark.parametrize(("argv", "message"), [
    ("-A INPUT -s ! 1.2.3.4 -j DROP", "Bad argument `1.2.3.4'"),
    ("-A INPUT -s 1.2.3.400 -m mac --mac-source 1", "iptables v1.8.9 (nf_tables): Invalid MAC address specified."),
    ("-A INPUT -s nosuch.invalid ! 5.6.7.8", "Bad argument `5.6.7.8'"),
])
def test_stray_words_and_modules_are_reported_before_addresses(argv: str, message: str) -> None:
    with pytest.raises(IptablesError) as e:
        iptables(Ruleset(), argv.split())
    assert str(e.value).splitlines()[0] == message


def test_a_rule_may_only_name_an_existing_set() -> None:
    from simnet.script import ScriptError
    from simnet.script.interpreter import run_script

    base = "ip netns add a\nip netns exec a ipset create known hash:ip\n"
    report = run_script(base + "ip netns exec a iptables -A INPUT -m set --match-set known src -j DROP\n")
    assert len(report.world.namespaces["a"].ruleset.tables["filter"].chains["INPUT"].entries) == 1
    with pytest.raises(ScriptError, match="Set nosuch doesn't exist."):
        run_script(base + "ip netns exec a iptables-restore <<EOF\n*filter\n-A INPUT -m set --match-set nosuch src\n"
                          "COMMIT\nEOF\n")
    rs = Ruleset()  # a ruleset of no namespace does not check
    iptables_restore(rs, [], "*filter\n-A INPUT -m set --match-set nosuch src\nCOMMIT\n")
    rs.sets = {}
    with pytest.raises(IptablesError, match="Set nosuch doesn't exist."):
        iptables(rs, ["-A", "INPUT", "-m", "set", "--match-set", "nosuch", "src"])
