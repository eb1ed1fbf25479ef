"""Targets: canonical text and the mark arithmetic the kernel applies."""

from simnet.netfilter.rule import Rule
from simnet.netfilter.targets import Connmark, Goto, Jump, Mark, Reject


def t(spec):
    return Rule.parse(spec).target


def test_mark_forms_reduce_to_xmark():
    assert str(t("-j MARK --and-mark 0xf0")) == "-j MARK --set-xmark 0x0/0xffffff0f"
    assert str(t("-j MARK --or-mark 0x4")) == "-j MARK --set-xmark 0x4/0x4"
    assert str(t("-j MARK --xor-mark 0x4")) == "-j MARK --set-xmark 0x4/0x0"
    assert Mark(value=0x4000, mask=0x4000).apply(0x1) == 0x4001
    assert Mark(value=0x4, mask=0x0).apply(0x4) == 0x0


def test_connmark_modes():
    save = t("-j CONNMARK --save-mark")
    assert str(save) == "-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff"
    assert save.apply(0x5, 0x0) == (0x5, 0x5)
    restore = t("-j CONNMARK --restore-mark --mask 0xff")
    assert restore.apply(0x100, 0x12) == (0x112, 0x12)
    assert Connmark(mode="set", ctmark=1, ctmask=3).apply(7, 6) == (7, 5)


def test_reject_properties():
    r = t("-j REJECT --reject-with host-prohib")
    assert isinstance(r, Reject) and r.with_ == "icmp-host-prohibited"
    assert r.icmp_type_code == (3, 10) and not r.tcp_reset
    assert t("-p tcp -j REJECT --reject-with tcp-rst").tcp_reset


def test_jump_goto_terminal():
    assert isinstance(t("-j FOO"), Jump) and not t("-j FOO").terminal
    assert isinstance(t("-g FOO"), Goto) and t("-g FOO").terminal
    assert t("-j ACCEPT").terminal and not t("-j LOG").terminal


def test_nat_forms():
    assert str(t("-p tcp -j SNAT --to 1.2.3.4:80 --random-fully")) == "-j SNAT --to-source 1.2.3.4:80 --random-fully"
    assert str(t("-p tcp -j REDIRECT --to-ports 80-80")) == "-j REDIRECT --to-ports 80"
    assert str(t("-j CT --zone 5 --helper ftp --notrack")) == "-j CT --notrack --helper ftp --zone 5"
    assert str(t("-j TOS --and-tos 0x0f")) == "-j TOS --set-tos 0x00/0xf0"
