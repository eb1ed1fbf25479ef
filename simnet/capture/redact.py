"""``--redact``: addresses and names replaced consistently, so a script can go into a public bug report.

Addresses: a keyed, prefix-preserving permutation (Crypto-PAn's construction: each bit is flipped
by a keyed function of the bits before it), applied below the prefix of the block an address is
in, so private addresses stay private and documentation ones stay documentation:
``10/8``, ``172.16/12``, ``192.168/16``, ``100.64/10``, ``198.18/15`` and the three TEST-NETs map
onto themselves.  A public address's /16 is given a /16 of ``198.18.0.0/15`` or ``100.64.0.0/10``
(one not otherwise in the capture), and its lower 16 bits are permuted.  So the same address
always gets the same replacement, an address stays inside every network it was in, and two
networks nest as before: routing, rules and sets behave the same.  Loopback, link-local,
multicast, ``0.0.0.0`` and broadcast addresses stay as they are; a subnet's broadcast address
stays its broadcast address.  A public network wider than /16 cannot be placed and is kept
(said in a note); ``-m iprange`` bounds are mapped one by one, which may change what the range
covers (said in a note).

Names: namespaces become ``ns1``, ``ns2``...; devices keep a known kind prefix (``eth``, ``veth``,
``br``, ``docker``, ``vxlan``...) with a counter, so iptables' ``veth+`` wildcards still match;
comments, log prefixes and ipset names become neutral words; the host name becomes ``host``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

__all__ = ["Redactor"]

_KEEP = [IPv4Network(n) for n in ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4")]
_BLOCKS = [IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                                    "198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
_PUBLIC_SLOTS = [IPv4Network("198.18.0.0/15"), IPv4Network("100.64.0.0/10")]
_KINDS = ("veth", "vxlan", "docker", "virbr", "bond", "wlan", "dummy", "flannel", "cali", "cni", "tap", "tun",
          "eth", "enp", "ens", "eno", "wlp", "wg", "br", "vx", "em", "if")
_ADDR = re.compile(r"(?<![\d.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?:/(\d{1,2}))?(?![\d.])")
_WORDS = frozenset({"the", "and", "not", "dev", "all", "any", "via", "host", "table", "device", "bridge"})
"""Names too short or too common to be replaced inside free text (notes) without mangling it."""
_DEV_OPTS = {"-i", "-o", "--in-interface", "--out-interface", "--physdev-in", "--physdev-out"}
_TEXT_OPTS = {"--comment", "--log-prefix", "--nflog-prefix"}
_SET_OPTS = {"--match-set", "--add-set", "--del-set"}


class Redactor:
    """Consistent replacements for one capture (``key``: the secret of the address permutation)."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._slots: dict[int, int] = {}  # public /16 (as int >> 16) -> target /16
        self._taken: set[int] = set()
        self._names: dict[tuple[str, str], str] = {}
        self._counters: dict[str, int] = {}
        self.notes: list[str] = []

    # -- addresses ---------------------------------------------------------------------

    def reserve(self, addrs: list[IPv4Address]) -> None:
        """Keep the /16s these (captured) addresses use out of the public slots."""
        for a in addrs:
            self._taken.add(int(a) >> 16)

    def _bit(self, prefix: str) -> int:
        return hmac.new(self.key, prefix.encode(), hashlib.sha256).digest()[0] & 1

    def _permute(self, value: int, fixed: int) -> int:
        bits = format(value, "032b")
        out = list(bits[:fixed])
        for i in range(fixed, 32):
            out.append(str(int(bits[i]) ^ self._bit(bits[:i])))
        return int("".join(out), 2)

    def _place(self, value: int) -> tuple[int, int] | None:
        """(value in its target block, bits fixed) or None to keep it."""
        addr = IPv4Address(value)
        if any(addr in n for n in _KEEP) or value == 0xFFFFFFFF:
            return None
        for block in _BLOCKS:
            if addr in block:
                return value, block.prefixlen
        high = value >> 16
        if high not in self._slots:
            self._slots[high] = self._free_slot()
        return (self._slots[high] << 16) | (value & 0xFFFF), 16

    def _free_slot(self) -> int:
        used = set(self._slots.values()) | self._taken
        for block in _PUBLIC_SLOTS:
            start = int(block.network_address) >> 16
            for s in range(start, start + (1 << (16 - block.prefixlen))):
                if s not in used:
                    return s
        raise ValueError("too many public /16 networks to redact")

    def ip(self, addr: IPv4Address) -> IPv4Address:
        placed = self._place(int(addr))
        if placed is None:
            return addr
        return IPv4Address(self._permute(*placed))

    def net(self, net: IPv4Network) -> IPv4Network:
        if net.prefixlen == 0:
            return net
        placed = self._place(int(net.network_address))
        if placed is None:
            return net
        value, fixed = placed
        if net.prefixlen < fixed:
            if fixed == 16 and not any(net.network_address in b for b in _BLOCKS):
                self.notes.append(f"public network {net} is wider than /16: kept as it is")
                return net
            return IPv4Network((value & ~((1 << (32 - net.prefixlen)) - 1) & 0xFFFFFFFF, net.prefixlen))
        mapped = self._permute(value, fixed)
        return IPv4Network((mapped >> (32 - net.prefixlen) << (32 - net.prefixlen) if net.prefixlen else 0,
                            net.prefixlen))

    def iface(self, iface: IPv4Interface) -> IPv4Interface:
        net = self.net(iface.network)
        host = self.ip(iface.ip)
        if iface.ip == iface.network.broadcast_address and iface.network.prefixlen < 31:
            host = net.broadcast_address
        return IPv4Interface(f"{host}/{iface.network.prefixlen}")

    def broadcast(self, brd: IPv4Address, iface: IPv4Interface) -> IPv4Address:
        if brd == iface.network.broadcast_address:
            return self.net(iface.network).broadcast_address
        return self.ip(brd)

    def mac(self, mac: str) -> str:
        if mac in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"):
            return mac
        digest = hmac.new(self.key, b"mac " + mac.encode(), hashlib.sha256).digest()
        # locally administered unicast (02:...), as a documentation MAC would be
        return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))

    # -- names -------------------------------------------------------------------------

    def _name(self, space: str, name: str, stem: str) -> str:
        key = (space, name)
        if key not in self._names:
            n = self._counters.get(f"{space}/{stem}", 0)
            self._counters[f"{space}/{stem}"] = n + 1
            self._names[key] = f"{stem}{n}" if space == "dev" else f"{stem}{n + 1}"
        return self._names[key]

    def ns(self, name: str) -> str:
        return self._name("ns", name, "ns")

    def dev(self, name: str) -> str:
        if name == "lo":
            return name
        stem = next((k for k in _KINDS if name.startswith(k)), "if")
        return self._name("dev", name, stem)

    def host(self, name: str) -> str:
        return "host"

    def text(self, text: str) -> str:
        """A note or comment: its addresses and known names replaced."""
        text = _ADDR.sub(lambda m: self._addr_word(m), text)
        for (space, name), new in sorted(self._names.items(), key=lambda kv: -len(kv[0][1])):
            if space in ("dev", "ns") and name != "lo" and len(name) > 2 and name not in _WORDS:
                text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", new, text)
        return text

    def _addr_word(self, m: re.Match[str]) -> str:
        try:
            if m[2] is not None:
                return str(self.net(IPv4Network(f"{m[1]}/{m[2]}", strict=False)))
            return str(self.ip(IPv4Address(m[1])))
        except ValueError:
            return m[0]

    def ruleset(self, text: str) -> str:
        """iptables-restore input with addresses, interfaces, comments and set names replaced."""
        from simnet.netfilter.rule import split_words

        out = []
        for line in text.splitlines():
            if line.startswith("#"):
                out.append(self.text(line))
                continue
            if not line.startswith(("-A", "[")):
                out.append(line)
                continue
            words = split_words(line)
            new = []
            i = 0
            while i < len(words):
                w = words[i]
                prev = words[i - 1] if i else ""
                if prev in _DEV_OPTS:
                    w = self.dev(w[:-1]) + "+" if w.endswith("+") else self.dev(w)
                elif prev in _TEXT_OPTS:
                    w = self._name("text", w, "comment-" if prev == "--comment" else "log-")
                elif prev in _SET_OPTS:
                    w = self._name("set", w, "set")
                elif prev in ("--src-range", "--dst-range"):
                    self.notes.append("an -m iprange range was mapped bound by bound: it may not cover the same "
                                      "addresses")
                    w = _ADDR.sub(self._addr_word, w)
                else:
                    w = _ADDR.sub(self._addr_word, w)
                new.append(w)
                i += 1
            out.append(" ".join(f'"{w}"' if not w or re.search(r"\s", w) else w for w in new))
        return "\n".join(out) + ("\n" if text.endswith("\n") else "")

    def ipsets(self, text: str) -> str:
        """``ipset restore`` lines with set names and members replaced."""
        out = []
        for line in text.splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("create", "add"):
                words[1] = self._name("set", words[1], "set")
                words[2:] = [_ADDR.sub(self._addr_word, w) for w in words[2:]]
            out.append(" ".join(words))
        return "\n".join(out) + ("\n" if text.endswith("\n") else "")
