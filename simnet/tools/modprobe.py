"""``modprobe``: the modules simnet's kernel has are built in, so loading one changes nothing.

simnet models a kernel with bridging, br_netfilter, conntrack, NAT, iptables (legacy and
nf_tables back ends), ipset, veth and VXLAN always present, as this machine's Linux 6.18 has
them built in.  ``modprobe NAME`` of such a module (or of a module that only matters outside
the network stack, such as ``overlay``) succeeds and does nothing; any other name fails with
kmod's words; removing one (``-r``) fails as it does for a built-in module.  The kernel runner
never runs modprobe (it would change the machine): it checks the line here and skips it.

>>> check(["modprobe", "br_netfilter"]), check(["modprobe", "-a", "overlay", "nf_conntrack"])
('', '')
>>> check(["modprobe", "foo"])
Traceback (most recent call last):
...
ValueError: modprobe: FATAL: Module foo not found in directory /lib/modules/6.18.0-simnet
"""

from __future__ import annotations

from collections.abc import Sequence

from simnet.script.lexer import Command
from simnet.tools.base import Compiled, script_error

__all__ = ["BUILTIN_MODULES", "MODULE_DIR", "check", "compile_modprobe"]

MODULE_DIR = "/lib/modules/6.18.0-simnet"
"""Where modprobe says it looked (simnet's kernel is no file system; the release is its own)."""

BUILTIN_MODULES = frozenset("""
br_netfilter bridge stp llc veth vxlan udp_tunnel ip6_udp_tunnel overlay
nf_conntrack nf_conntrack_netlink nf_defrag_ipv4 nf_defrag_ipv6 nf_nat nf_reject_ipv4 nf_tables nft_compat
nft_chain_nat nft_ct nft_nat nft_masq nft_redir nft_reject nft_reject_ipv4 nft_counter nft_limit nfnetlink
x_tables ip_tables iptable_filter iptable_nat iptable_mangle iptable_raw iptable_security ipt_REJECT
ipt_MASQUERADE xt_MASQUERADE xt_nat xt_REDIRECT xt_conntrack xt_state xt_tcpudp xt_multiport xt_addrtype
xt_comment xt_mark xt_MARK xt_connmark xt_CONNMARK xt_CT xt_NOTRACK xt_LOG nf_log_syslog xt_iprange
xt_set xt_physdev xt_recent xt_tos xt_limit xt_icmp ip_set ip_set_hash_ip ip_set_hash_net ip_set_hash_ipport
ip_set_hash_ipportip ip_set_hash_ipportnet ip_set_bitmap_port ip_set_list_set
""".split())
"""Module names that load (with no effect): every one simnet's network stack models, and overlay."""


def _name(word: str) -> str:
    return word.replace("-", "_")  # kmod treats - and _ in module names alike


def check(argv: Sequence[str]) -> str:
    """Check ``modprobe [-q] [-v] [-n] [-b] [-a] NAME... | -r NAME...``; return its output ('').

    Raises:
        ValueError: with kmod's message (``modprobe -q`` fails with an empty one).
    """
    args = list(argv[1:])
    quiet = remove = every = False
    names: list[str] = []
    for w in args:
        if w in ("-q", "--quiet"):
            quiet = True
        elif w in ("-r", "--remove"):
            remove = True
        elif w in ("-a", "--all"):
            every = True
        elif w in ("-v", "--verbose", "-n", "--dry-run", "--show", "-b", "--use-blacklist", "-s", "--syslog"):
            pass
        elif w.startswith("-"):
            raise ValueError(f"modprobe: unrecognized option '{w}'" if w.startswith("--")
                             else f"modprobe: invalid option -- '{w[1:2]}'")
        else:
            names.append(w)
            if not (every or remove):
                break  # the words after the module are its parameters (KEY=VALUE)
    if not names:
        raise ValueError("modprobe: ERROR: missing parameters. See -h.")
    for name in names:
        if remove:
            known = _name(name) in BUILTIN_MODULES
            raise ValueError("" if quiet else f"modprobe: FATAL: Module {name} {'is builtin' if known else 'not found'}.")
        elif _name(name) not in BUILTIN_MODULES:
            raise ValueError("" if quiet else f"modprobe: FATAL: Module {name} not found in directory {MODULE_DIR}")
    return ""


def compile_modprobe(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """Check a ``modprobe`` line; loading a modelled module does nothing."""
    try:
        check(argv)
    except ValueError as e:
        raise script_error(cmd, str(e) or "modprobe failed (-q: no message)") from None
    return Compiled(lambda run: None)
