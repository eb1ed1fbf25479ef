"""ipset commands and set membership as -m set asks it."""

from ipaddress import IPv4Address as A

import pytest

from simnet.netfilter.ipset import IpsetError, ipset
from simnet.packet import IPv4, Packet, Tcp
from simnet.skb import Skb


def test_create_add_test_and_errors():
    sets = {}
    ipset(sets, ["create", "foo", "hash:ip"])
    with pytest.raises(IpsetError, match="set with the same name already exists"):
        ipset(sets, ["create", "foo", "hash:ip"])
    ipset(sets, ["add", "foo", "10.0.0.1"])
    with pytest.raises(IpsetError, match="it's already added"):
        ipset(sets, ["add", "foo", "10.0.0.1"])
    ipset(sets, ["add", "-exist", "foo", "10.0.0.1"])
    assert ipset(sets, ["test", "foo", "10.0.0.1"]) == "Warning: 10.0.0.1 is in set foo.\n"
    with pytest.raises(IpsetError, match="10.0.0.9 is NOT in set foo."):
        ipset(sets, ["test", "foo", "10.0.0.9"])
    with pytest.raises(IpsetError, match="The set with the given name does not exist"):
        ipset(sets, ["del", "nope", "1.2.3.4"])
    assert ipset(sets, ["save"]).splitlines()[1] == "add foo 10.0.0.1"


def test_hash_net_nomatch_and_ip_port():
    sets = {}
    ipset(sets, ["create", "n", "hash:net"])
    ipset(sets, ["add", "n", "10.0.0.0/8"])
    ipset(sets, ["add", "n", "10.1.0.0/16", "nomatch"])
    skb = Skb(packet=Packet(ip=IPv4(src=A("10.2.0.1"), dst=A("10.1.0.1"), proto=6), l4=Tcp(sport=1, dport=80)))
    assert sets["n"].contains(skb, ("src",))
    assert not sets["n"].contains(skb, ("dst",))
    ipset(sets, ["create", "p", "hash:ip,port"])
    ipset(sets, ["add", "p", "10.1.0.1,tcp:80"])
    assert sets["p"].contains(skb, ("dst", "dst"))
    assert not sets["p"].contains(skb, ("dst", "src"))
