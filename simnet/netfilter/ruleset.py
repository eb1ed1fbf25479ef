"""The per-namespace iptables tables: the only place rules live.

Kernel: with the nf_tables backend each iptables table is an nft table of
family ip, each chain an nft chain (built-in chains are base chains hooked at
the table's priority), and every change is a netlink transaction that the
kernel validates as a whole (``nf_tables_check_loops`` /
``nft_chain_validate``): a jump to a missing chain, a jump to a base chain, a
jump loop reachable from a base chain, or chains nested deeper than 15 user
chains below a base chain (``NFT_JUMP_STACK_SIZE``) are refused, and a
refused change leaves everything as it was.

:class:`TableState` mirrors that: every operation validates first and then
mutates, bumping ``generation`` so an evaluator can cache compiled forms.
Errors are :class:`RulesetError` carrying the exact stderr line and exit
status of ``iptables`` 1.8.9 (nf_tables).
"""

from __future__ import annotations

from collections.abc import Mapping

import errno as _errno
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Iterable, Iterator

from simnet.errors import KernelError
from simnet.netfilter.matches.base import Match
from simnet.netfilter.rule import Rule
from simnet.netfilter.targets import Goto, Jump

__all__ = ["Table", "BUILTIN_CHAINS", "SAVE_ORDER", "Counters", "Entry", "Chain", "TableState",
           "Ruleset", "RulesetError", "MAX_JUMP_DEPTH", "PROG"]

PROG = "iptables v1.8.9 (nf_tables)"
TRY_HELP = "Try `iptables -h' or 'iptables --help' for more information."
MAX_JUMP_DEPTH = 15
"""User chains that may be nested below a base chain (nf_tables' jump stack of 16)."""


class Table(StrEnum):
    RAW = "raw"
    MANGLE = "mangle"
    NAT = "nat"
    FILTER = "filter"
    SECURITY = "security"


BUILTIN_CHAINS: dict[Table, tuple[str, ...]] = {
    Table.RAW: ("PREROUTING", "OUTPUT"),
    Table.MANGLE: ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    Table.NAT: ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    Table.FILTER: ("INPUT", "FORWARD", "OUTPUT"),
    Table.SECURITY: ("INPUT", "FORWARD", "OUTPUT"),
}
"""Built-in chains per table, in the order iptables prints them."""

SAVE_ORDER: tuple[Table, ...] = (Table.MANGLE, Table.SECURITY, Table.RAW, Table.FILTER, Table.NAT)
"""The order iptables-nft 1.8.9 prints tables in (its ``enum nft_table_type``)."""


class RulesetError(KernelError):
    """A refused iptables operation.

    ``str(err)`` is the exact stderr text of iptables 1.8.9 (nf_tables),
    ``exit_code`` its exit status, ``reason`` the part a restore error quotes.
    """

    def __init__(self, errno: int, message: str, *, exit_code: int = 1, reason: str | None = None) -> None:
        super().__init__(errno, message)
        self.exit_code = exit_code
        self.reason = reason if reason is not None else message

    @classmethod
    def plain(cls, errno: int, text: str) -> "RulesetError":
        return cls(errno, f"iptables: {text}", exit_code=1, reason=text)

    @classmethod
    def param(cls, text: str, errno: int = _errno.EINVAL) -> "RulesetError":
        return cls(errno, f"{PROG}: {text}\n{TRY_HELP}", exit_code=2, reason=text)

    @classmethod
    def nft(cls, op: str, errno: int, what: str) -> "RulesetError":
        reason = f"{op} failed ({_STRERROR[errno]}): {what}"
        return cls(errno, f"{PROG}:  {reason}", exit_code=4, reason=reason)


class JumpGraphError(RulesetError):
    """A table refused as a whole at commit: a jump loop, nesting too deep, or a target or match
    reached through jumps from a hook it does not allow (nf_tables' table validation)."""



_STRERROR = {_errno.EBUSY: "Device or resource busy", _errno.EMLINK: "Too many links",
             _errno.ERANGE: "Numerical result out of range",
             _errno.EOPNOTSUPP: "Operation not supported", _errno.EINVAL: "Invalid argument",
             _errno.ENOENT: "No such file or directory", _errno.EEXIST: "File exists"}


# keyed by ``-m`` name, not class: the match files load on first use (matches/__init__.py)
_PROTO_OF_MATCH: dict[str, int] = {"tcp": 6, "udp": 17, "icmp": 1, "sctp": 132, "tcpmss": 6}


_JUMPS = (Jump, Goto)

# Where the kernel (xt_check_target/xt_check_match via nft_compat, 6.x) allows targets and matches,
# as verified with iptables 1.8.9 (nf_tables) in every table and built-in chain:
# ``.table`` (refused in any chain of another table) and ``.hooks`` (refused in a base chain of
# another hook, and in a user chain reachable from one: nf_tables validates through jumps).
_TARGET_TABLE: dict[str, Table] = {
    "DNAT": Table.NAT, "SNAT": Table.NAT, "MASQUERADE": Table.NAT, "REDIRECT": Table.NAT, "NETMAP": Table.NAT,
    "NOTRACK": Table.RAW, "CT": Table.RAW, "REJECT": Table.FILTER,
    "CHECKSUM": Table.MANGLE, "DSCP": Table.MANGLE, "TOS": Table.MANGLE, "TTL": Table.MANGLE,
}
_PRE, _IN, _FWD, _OUT, _POST = "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"
_TARGET_HOOKS: dict[str, frozenset[str]] = {
    "DNAT": frozenset({_PRE, _OUT}), "REDIRECT": frozenset({_PRE, _OUT}), "SNAT": frozenset({_POST, _IN}),
    "MASQUERADE": frozenset({_POST}), "REJECT": frozenset({_IN, _FWD, _OUT}),
    "CLASSIFY": frozenset({_FWD, _OUT, _POST}),
}
_MATCH_HOOKS: dict[str, frozenset[str]] = {
    "owner": frozenset({_OUT, _POST}), "mac": frozenset({_PRE, _IN, _FWD}), "rpfilter": frozenset({_PRE}),
}
_MATCH_TABLES: dict[str, frozenset[Table]] = {"rpfilter": frozenset({Table.RAW, Table.MANGLE})}
# Checked by the module's checkentry against the base chain it is put in only (a rule in a user
# chain passes, whatever jumps there): TCPMSS --clamp-mss-to-pmtu, addrtype --limit-iface-in/out,
# physdev --physdev-out/--physdev-is-out without --physdev-is-bridged.
_BASE_ONLY_TARGET = "TCPMSS"
_BASE_ONLY_MATCHES = frozenset({"addrtype", "physdev"})

_SHAPES: dict[tuple[object, ...], tuple[str | bool, frozenset[str] | None, bool, bool]] = {}


def _shape(table: Table, rule: Rule) -> tuple[str | bool, frozenset[str] | None, bool]:
    """(refused outright, allowed hooks or None, has base-chain-only checks) for a rule shape."""
    t = rule.target
    name = getattr(t, "name", None) if t is not None and t.__class__ not in _JUMPS else None
    if table is Table.NAT and name == "DROP":
        return "DROP", None, False
    bad = False
    need = _TARGET_TABLE.get(name) if name else None
    if need is not None and need is not table:
        bad = True
    if name == "TCPMSS" and (rule.proto != 6 or rule.proto_invert):
        bad = True  # tcpmss_tg4_check: "-p tcp" (the --tcp-flags SYN check is not made under nft_compat)
    for m in rule.matches:
        if (tables := _MATCH_TABLES.get(m.module)) is not None and table not in tables:
            bad = True
        p = _PROTO_OF_MATCH.get(m.module)
        if p is not None and (rule.proto != p or rule.proto_invert):
            bad = True
        if m.module == "multiport" and rule.proto_invert:
            bad = True
    return bad, _rule_hooks(table, rule), name == _BASE_ONLY_TARGET or any(
        m.module in _BASE_ONLY_MATCHES for m in rule.matches)


def _rule_hooks(table: Table, rule: Rule) -> frozenset[str] | None:
    t = rule.target
    allowed = _TARGET_HOOKS.get(getattr(t, "name", "")) if t is not None and t.__class__ not in _JUMPS else None
    for m in rule.matches:
        h = _MATCH_HOOKS.get(m.module)
        if h is not None:
            allowed = h if allowed is None else allowed & h
    return allowed


def _base_ok(rule: Rule, chain: str) -> bool:
    """Only for a rule whose shape says so, so the three modules are loaded by then."""
    from simnet.netfilter.matches.xt_addrtype import AddrTypeMatch
    from simnet.netfilter.matches.xt_physdev import PhysdevMatch
    from simnet.netfilter.targets.xt_tcpmss import Tcpmss

    t = rule.target
    if isinstance(t, Tcpmss) and t.mss is None and chain not in (_FWD, _OUT, _POST):
        return False
    for m in rule.matches:
        if isinstance(m, AddrTypeMatch):
            if m.limit_iface_in and chain in (_OUT, _POST):
                return False
            if m.limit_iface_out and chain in (_PRE, _IN):
                return False
        elif isinstance(m, PhysdevMatch):
            if (m.physdev_out is not None or m.is_out is not None) and m.is_bridged is not True and chain == _OUT:
                return False
    return True


def _cant_use(opt: str, chain: str) -> RulesetError:
    # xtables prints "Can't use -%c with %s\n" and exit_err adds another newline
    text = f"Can't use -{opt} with {chain}"
    return RulesetError(_errno.EINVAL, f"{PROG}: {text}\n\n{TRY_HELP}", exit_code=2, reason=text)


def no_chain() -> RulesetError:
    return RulesetError.plain(_errno.ENOENT, "No chain/target/match by that name.")


@dataclass(slots=True)
class Counters:
    """Packet and byte counters (mutable), as ``[packets:bytes]``."""

    packets: int = 0
    bytes: int = 0

    def add(self, length: int) -> None:
        self.packets += 1
        self.bytes += length

    def __str__(self) -> str:
        return f"[{self.packets}:{self.bytes}]"


@dataclass(slots=True)
class Entry:
    """A rule in a chain, with its counters."""

    rule: Rule
    counters: Counters = field(default_factory=Counters)


@dataclass(slots=True)
class Chain:
    """A chain: built-in (``policy`` ACCEPT/DROP) or user-defined (``policy`` None)."""

    name: str
    policy: str | None = None
    entries: list[Entry] = field(default_factory=list)
    policy_counters: Counters = field(default_factory=Counters)

    @property
    def builtin(self) -> bool:
        return self.policy is not None

    @property
    def rules(self) -> list[Rule]:
        return [e.rule for e in self.entries]

    def copy(self) -> "Chain":
        return Chain(self.name, self.policy, [Entry(e.rule, Counters(e.counters.packets, e.counters.bytes))
                                             for e in self.entries],
                     Counters(self.policy_counters.packets, self.policy_counters.bytes))


def check_chain_name(name: str) -> None:
    """iptables' client-side checks on a new chain name."""
    if len(name) > 28:
        raise RulesetError.param(f"chain name `{name}' too long (must be under 29 chars)")
    if not name or name[0] == "-" or name[0] == "!" or len(name.split()) != 1 or name.strip() != name:
        raise RulesetError.param(f"Invalid chain name `{name}'")
    if name in ("ACCEPT", "DROP", "QUEUE", "RETURN") or name.isdigit():
        raise RulesetError.param(f"Invalid chain name `{name}'")


class TableState:
    """One table of one namespace: its chains in kernel order, and a generation."""

    __slots__ = ("name", "chains", "generation", "lazy")

    def __init__(self, name: Table | str) -> None:
        self.name = Table(name)
        self.chains: dict[str, Chain] = {c: Chain(c, "ACCEPT") for c in BUILTIN_CHAINS[self.name]}
        self.generation = 0
        self.lazy: set[str] = set(BUILTIN_CHAINS[self.name])
        """Built-in chains iptables-nft has not created in the kernel yet (or deleted again with
        ``-X``): they list and save as empty ACCEPT chains, but ``-Z CHAIN`` cannot find them.
        Created by a rule put there, ``-P``, or a restore that declares them."""

    # ------------------------------------------------------------ queries

    def chain(self, name: str) -> Chain:
        try:
            return self.chains[name]
        except KeyError:
            raise no_chain() from None

    def ordered_chains(self) -> list[Chain]:
        """Built-in chains in kernel order, then user chains sorted by name (strcmp)."""
        builtin = [self.chains[c] for c in BUILTIN_CHAINS[self.name]]
        users = sorted((c for c in self.chains.values() if not c.builtin), key=lambda c: c.name.encode())
        return builtin + users

    def references(self) -> dict[str, int]:
        """How many rules jump or go to each chain."""
        refs: dict[str, int] = {}
        for ch in self.chains.values():
            for e in ch.entries:
                t = e.rule.target
                if isinstance(t, (Jump, Goto)):
                    refs[t.chain] = refs.get(t.chain, 0) + 1
        return refs

    def find(self, chain: str, rule: Rule) -> int | None:
        """0-based index of the first rule equal to ``rule`` (as ``-D``/``-C`` compare)."""
        for i, e in enumerate(self.chain(chain).entries):
            if e.rule == rule:
                return i
        return None

    def copy(self) -> "TableState":
        t = TableState.__new__(TableState)
        t.name = self.name
        t.chains = {k: c.copy() for k, c in self.chains.items()}
        t.generation = self.generation
        t.lazy = set(self.lazy)
        return t

    # ------------------------------------------------------------ validation

    def check_rule(self, chain: str, rule: Rule, op: str = "RULE_APPEND") -> frozenset[str] | None:
        """Refuse a rule that iptables or the kernel would refuse in this chain.

        Returns the base chains (hooks) the rule's target and matches allow it to be reached
        from (None: any), which :meth:`check_graph` enforces through jumps.
        """
        ch = self.chains.get(chain)
        builtin = ch is not None and ch.builtin
        if builtin:
            if rule.out_iface is not None and chain in ("INPUT", "PREROUTING"):
                raise _cant_use("o", chain)
            if rule.in_iface is not None and chain in ("OUTPUT", "POSTROUTING"):
                raise _cant_use("i", chain)
        t = rule.target
        if t is not None and t.__class__ in _JUMPS:
            target = self.chains.get(t.chain)
            if target is None:
                raise RulesetError.param(f"Chain '{t.chain}' does not exist", _errno.ENOENT)
            if target.builtin:
                raise RulesetError.nft(op, _errno.EOPNOTSUPP, f"rule in chain {chain}")
        matches = rule.matches
        key = (self.name, t.__class__, getattr(t, "name", None), rule.proto, rule.proto_invert, *map(type, matches))
        shape = _SHAPES.get(key)
        if shape is None:
            shape = _SHAPES[key] = (*_shape(self.name, rule), any(
                type(m).hooks is not Match.hooks or type(m).checkentry is not Match.checkentry for m in matches))
        bad, allowed, base_only, per_match = shape
        if bad == "DROP":
            raise RulesetError.param('\nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n')
        if bad or (rule.src_invert and rule.src is not None and rule.src.prefixlen == 0) or (
                rule.dst_invert and rule.dst is not None and rule.dst.prefixlen == 0):
            raise RulesetError.nft(op, _errno.EINVAL, f"rule in chain {chain}")
        if per_match:  # only modules whose checks depend on their values (most have none)
            for m in matches:
                if (h := m.hooks()) is not None:
                    allowed = h if allowed is None else allowed & h
                if (errno_ := m.checkentry()) is not None:
                    raise RulesetError.nft(op, errno_, f"rule in chain {chain}")
        if builtin:
            if allowed is not None and chain not in allowed:
                raise RulesetError.nft(op, _errno.EINVAL, f"rule in chain {chain}")
            if base_only and not _base_ok(rule, chain):
                raise RulesetError.nft(op, _errno.EINVAL, f"rule in chain {chain}")
        return allowed

    def check_graph(self, op: str = "RULE_APPEND", culprit: str = "",
                    restricted: dict[str, frozenset[str]] | None = None) -> None:
        """Refuse jump loops reachable from a base chain, nesting deeper than 15, and a user
        chain reachable from a base chain whose hook one of its rules' target or matches
        does not allow (nf_tables validates xt targets/matches through jumps).

        ``restricted`` (user chain -> allowed hooks) saves a scan when the caller knows it.
        """
        depth: dict[str, int] = {}
        chains = self.chains
        jumps = _jump_map(chains)
        for base in BUILTIN_CHAINS[self.name]:
            for child in jumps[base]:
                if _depth(jumps, child, depth) > MAX_JUMP_DEPTH:
                    raise JumpGraphError.nft(op, _errno.EMLINK, f"rule in chain {culprit or base}")
        if restricted is None:
            restricted = {}
            for ch in chains.values():
                if not ch.builtin:
                    for e in ch.entries:
                        allowed = _rule_hooks(self.name, e.rule)
                        if allowed is not None:
                            restricted[ch.name] = allowed & restricted.get(ch.name, allowed)
        if not restricted:
            return
        for base in BUILTIN_CHAINS[self.name]:
            seen: set[str] = set()
            stack = list(jumps[base])
            while stack:
                name = stack.pop()
                if name in seen:
                    continue
                seen.add(name)
                allowed = restricted.get(name)
                if allowed is not None and base not in allowed:
                    raise JumpGraphError.nft(op, _errno.EINVAL, f"rule in chain {culprit or name}")
                stack.extend(jumps.get(name, ()))

    # ------------------------------------------------------------ operations

    def _bump(self) -> None:
        self.generation += 1

    def append(self, chain: str, rule: Rule, counters: Counters | None = None) -> None:
        """``iptables -A``."""
        ch = self.chain(chain)
        allowed = self.check_rule(chain, rule, "RULE_APPEND")
        self.lazy.discard(chain)
        ch.entries.append(Entry(rule, counters or Counters()))
        if rule.jump_target is not None or (allowed is not None and not ch.builtin):
            try:
                self.check_graph("RULE_APPEND", chain)
            except RulesetError:
                ch.entries.pop()
                raise
        self._bump()

    def insert(self, chain: str, rule: Rule, index: int = 1, counters: Counters | None = None) -> None:
        """``iptables -I chain [index]`` (1-based)."""
        ch = self.chain(chain)
        if index < 1 or index > len(ch.entries) + 1:
            raise RulesetError.plain(_errno.E2BIG, "Index of insertion too big.")
        allowed = self.check_rule(chain, rule, "RULE_INSERT")
        self.lazy.discard(chain)
        ch.entries.insert(index - 1, Entry(rule, counters or Counters()))
        if rule.jump_target is not None or (allowed is not None and not ch.builtin):
            try:
                self.check_graph("RULE_INSERT", chain)
            except RulesetError:
                del ch.entries[index - 1]
                raise
        self._bump()

    def replace(self, chain: str, index: int, rule: Rule, counters: Counters | None = None) -> None:
        """``iptables -R chain index`` (1-based)."""
        ch = self.chain(chain)
        if index < 1 or index > len(ch.entries):
            raise RulesetError.plain(_errno.E2BIG, "Index of replacement too big.")
        allowed = self.check_rule(chain, rule, "RULE_REPLACE")
        self.lazy.discard(chain)
        old = ch.entries[index - 1]
        ch.entries[index - 1] = Entry(rule, counters or Counters())
        if rule.jump_target is not None or (allowed is not None and not ch.builtin):
            try:
                self.check_graph("RULE_REPLACE", chain)
            except RulesetError:
                ch.entries[index - 1] = old
                raise
        self._bump()

    def delete(self, chain: str, rule: Rule) -> None:
        """``iptables -D chain rule-spec``: the first equal rule."""
        ch = self.chains.get(chain)
        idx = self.find(chain, rule) if ch is not None else None
        if ch is None or idx is None:
            raise RulesetError.plain(_errno.ENOENT, "Bad rule (does a matching rule exist in that chain?).")
        del ch.entries[idx]
        self._bump()

    def delete_at(self, chain: str, index: int) -> None:
        """``iptables -D chain N`` (1-based)."""
        ch = self.chain(chain)
        if index < 1 or index > len(ch.entries):
            raise RulesetError.plain(_errno.E2BIG, "Index of deletion too big.")
        del ch.entries[index - 1]
        self._bump()

    def check(self, chain: str, rule: Rule) -> bool:
        """``iptables -C``: whether an equal rule exists."""
        return chain in self.chains and self.find(chain, rule) is not None

    def new_chain(self, name: str) -> None:
        """``iptables -N``."""
        check_chain_name(name)
        if name in self.chains:
            raise RulesetError.plain(_errno.EEXIST, "Chain already exists.")
        self.chains[name] = Chain(name)
        self._bump()

    def delete_chain(self, name: str | None = None) -> None:
        """``iptables -X [chain]``: refused (EBUSY) while referenced or non-empty."""
        refs = self.references()
        if name is not None:
            ch = self.chains.get(name)
            if ch is None or ch.builtin:
                raise no_chain()
            if refs.get(name) or ch.entries:
                raise RulesetError.nft("CHAIN_DEL", _errno.EBUSY, f"chain {name}")
            del self.chains[name]
        else:
            users = [c for c in self.ordered_chains() if not c.builtin]
            for c in reversed(users):  # nf_tables reports the last busy chain of the batch
                if refs.get(c.name) or c.entries:
                    raise RulesetError.nft("CHAIN_DEL", _errno.EBUSY, f"chain {c.name}")
            for c in users:
                del self.chains[c.name]
            # iptables-nft 1.8.9 also deletes the built-in chains left empty with policy ACCEPT
            self.lazy.update(c.name for c in self.chains.values()
                             if c.builtin and not c.entries and c.policy == "ACCEPT")
        self._bump()

    def flush(self, name: str | None = None) -> None:
        """``iptables -F [chain]``."""
        for ch in ([self.chain(name)] if name is not None else list(self.chains.values())):
            ch.entries.clear()
        self._bump()

    def zero(self, name: str | None = None, index: int | None = None) -> None:
        """``iptables -Z [chain [N]]``."""
        if name is not None and index is None and name in self.lazy:
            raise no_chain()  # iptables-nft: the built-in chain does not exist in the kernel (yet)
        chains = [self.chain(name)] if name is not None else list(self.chains.values())
        for ch in chains:
            if index is not None:
                if index < 1 or index > len(ch.entries):
                    raise RulesetError.plain(_errno.E2BIG, "Index of replacement too big.")
                ch.entries[index - 1].counters = Counters()
                continue
            for e in ch.entries:
                e.counters = Counters()
            ch.policy_counters = Counters()
        self._bump()

    def set_policy(self, name: str, policy: str, counters: Counters | None = None) -> None:
        """``iptables -P``: built-in chains only; ACCEPT or DROP."""
        ch = self.chains.get(name)
        if ch is None or not ch.builtin:
            raise RulesetError.plain(_errno.ENOENT, "Bad built-in chain name.")
        if policy not in ("ACCEPT", "DROP"):
            raise RulesetError.plain(_errno.EINVAL, "Bad policy name. Run `dmesg' for more information.")
        ch.policy = policy
        self.lazy.discard(name)
        if counters is not None:
            ch.policy_counters = counters
        self._bump()

    def rename_chain(self, old: str, new: str) -> None:
        """``iptables -E old new``: user chains only; jumps follow the new name."""
        ch = self.chains.get(old)
        if ch is None or ch.builtin:
            raise no_chain()
        check_chain_name(new)
        if new in self.chains:
            raise RulesetError.plain(_errno.EEXIST, "File exists.")
        chains: dict[str, Chain] = {}
        for k, c in self.chains.items():
            if k == old:
                c.name = new
                k = new
            chains[k] = c
            for e in c.entries:
                t = e.rule.target
                if isinstance(t, (Jump, Goto)) and t.chain == old:
                    e.rule = _retarget(e.rule, new)
        self.chains = chains
        self._bump()


def _retarget(rule: Rule, chain: str) -> Rule:
    t = rule.target
    assert isinstance(t, (Jump, Goto))
    return replace(rule, target=type(t)(chain=chain))


def _jump_map(chains: dict[str, Chain]) -> dict[str, list[str]]:
    """Each chain's distinct jump/goto targets in rule order, built once per graph check."""
    out: dict[str, list[str]] = {}
    jumps = _JUMPS
    for name, ch in chains.items():
        kids: dict[str, None] = {}
        for e in ch.entries:
            t = e.rule.target
            if t.__class__ in jumps:
                kids[t.chain] = None
        out[name] = list(kids)
    return out


def _depth(jumps: dict[str, list[str]], start: str, memo: dict[str, int]) -> int:
    """Longest run of user chains from ``start`` (itself counted); a reachable cycle is 16."""
    if start in memo:
        return memo[start]
    inf = MAX_JUMP_DEPTH + 1
    grey = {start}
    best = {start: 1}

    def kids(name: str) -> Iterator[str]:
        return iter(jumps.get(name, ()))

    stack: list[tuple[str, Iterator[str]]] = [(start, kids(start))]
    while stack:
        name, it = stack[-1]
        for child in it:
            if child in grey:
                best[name] = inf
            elif child in memo:
                best[name] = max(best[name], min(inf, memo[child] + 1))
            else:
                grey.add(child)
                best[child] = 1
                stack.append((child, kids(child)))
                break
        else:
            stack.pop()
            grey.discard(name)
            memo[name] = best[name]
            if stack:
                parent = stack[-1][0]
                best[parent] = max(best[parent], min(inf, memo[name] + 1))
    return memo[start]


class Ruleset:
    """All iptables tables of one network namespace.

    Tables come into existence when first used (as nf_tables creates them on
    the first command that names them); :func:`simnet.netfilter.syntax.format_save`
    prints only existing tables.
    """

    __slots__ = ("tables", "sets")

    def __init__(self) -> None:
        self.tables: dict[Table, TableState] = {}
        self.sets: "Mapping[str, object] | None" = None
        """The namespace's ipsets, which rules may name (None: not checked, as for a bare ruleset)."""

    def table(self, name: Table | str) -> TableState:
        """The table, created (empty, ACCEPT policies) if this is its first use."""
        try:
            key = Table(name)
        except ValueError:
            raise RulesetError(_errno.ENOENT,
                               f"{PROG}: table '{name}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.",
                               exit_code=3, reason=f"table '{name}' does not exist") from None
        t = self.tables.get(key)
        if t is None:
            t = self.tables[key] = TableState(key)
        return t

    def existing(self) -> list[TableState]:
        """Existing tables in iptables-save order."""
        return [self.tables[t] for t in SAVE_ORDER if t in self.tables]

    def snapshot(self) -> dict[Table, TableState]:
        """A deep copy of every table (rules are shared: they are immutable)."""
        return {k: v.copy() for k, v in self.tables.items()}

    def restore(self, snapshot: dict[Table, TableState]) -> None:
        """Put back a :meth:`snapshot` (generations move forward so caches notice)."""
        for k, v in snapshot.items():
            old = self.tables.get(k)
            v = v.copy()
            v.generation = (old.generation if old is not None else v.generation) + 1
            self.tables[k] = v
        for k in list(self.tables):
            if k not in snapshot:
                del self.tables[k]

    def copy(self) -> "Ruleset":
        r = Ruleset()
        r.tables = self.snapshot()
        r.sets = self.sets
        return r

    def __iter__(self) -> Iterator[TableState]:
        return iter(self.existing())


def iter_rules(table: TableState) -> Iterable[tuple[str, Rule]]:
    for ch in table.ordered_chains():
        for e in ch.entries:
            yield ch.name, e.rule
