"""One iptables rule: the ``ipt_entry`` fields, its matches and its target.

Kernel: ``struct ipt_entry`` (``struct ipt_ip`` holds -s/-d/-i/-o/-p/-f) and
``ip_packet_match()`` in net/ipv4/netfilter/ip_tables.c.  ``str(rule)`` is the
rule exactly as ``iptables-save`` / ``iptables -S`` (nf_tables, 1.8.9) prints
it after ``-A CHAIN``, and :meth:`Rule.parse` accepts everything iptables
would accept for ``iptables -A CHAIN ...`` (implicit ``-m tcp``, aliases,
``!`` before an option, abbreviated long options), so
``Rule.parse(str(rule)) == rule``.

>>> r = Rule.parse("-p tcp --dport 80 -s 10.0.0.1 -j ACCEPT")
>>> str(r)
'-s 10.0.0.1/32 -p tcp -m tcp --dport 80 -j ACCEPT'
>>> Rule.parse(str(r)) == r
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Any, Sequence

from simnet.errors import RuleSyntaxError
from simnet.netfilter.matches import MATCH_MODULES, Match, TcpMatch, UdpMatch
from simnet.netfilter.targets import OPAQUE_TARGETS, TARGETS, Goto, Jump
from simnet.netfilter.xtables import Opts, check_iface, iface_matches, parse_network, parse_proto, proto_name, split_words

if TYPE_CHECKING:
    from simnet.netfilter.targets import Target

__all__ = ["Rule", "iface_matches", "split_words", "parse_proto", "proto_name", "check_iface"]

_IMPLICIT = {6: "tcp", 17: "udp", 1: "icmp", 132: "sctp"}
_NATIVE_L4 = (TcpMatch, UdpMatch)
# the words libxt_tcp and libxt_sctp use when a two-word option's second word is missing or an option
_TWO_ARGS = {"--tcp-flags": "--tcp-flags requires two args.", "--chunk-types": "--chunk-types requires two args"}

@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """An iptables rule (``struct ipt_entry`` + matches + target).

    ``target`` None is a rule without ``-j``: it only counts packets.
    ``fragment``: None = no ``-f``; True = ``-f`` (non-first fragments);
    False = ``! -f``.
    """

    src: IPv4Network | None = None
    src_invert: bool = False
    dst: IPv4Network | None = None
    dst_invert: bool = False
    in_iface: str | None = None
    in_invert: bool = False
    out_iface: str | None = None
    out_invert: bool = False
    proto: int | None = None
    proto_invert: bool = False
    fragment: bool | None = None
    matches: tuple[Match, ...] = ()
    target: Target | None = None
    _text: str = field(default="", compare=False, repr=False)


    @classmethod
    def parse(cls, spec: str | Sequence[str]) -> "Rule":
        """Parse an ``iptables -A CHAIN`` rule specification (without ``-A CHAIN``)."""
        words = split_words(spec) if isinstance(spec, str) else list(spec)
        try:
            rule = _parse_fast(words)
        except RuleSyntaxError:
            rule = None  # the general parser words the error
        return rule if rule is not None else _parse(words)

    def __str__(self) -> str:
        text = self._text
        if not text:
            text = self._format()
            object.__setattr__(self, "_text", text)
        return text

    def _format(self) -> str:
        parts = []
        if self.src is not None:
            parts.append(f"{'! ' if self.src_invert else ''}-s {self.src}")
        if self.dst is not None:
            parts.append(f"{'! ' if self.dst_invert else ''}-d {self.dst}")
        if self.in_iface is not None:
            parts.append(f"{'! ' if self.in_invert else ''}-i {self.in_iface}")
        if self.out_iface is not None:
            parts.append(f"{'! ' if self.out_invert else ''}-o {self.out_iface}")
        if self.proto is not None:
            parts.append(f"{'! ' if self.proto_invert else ''}-p {proto_name(self.proto)}")
        if self.fragment is not None:
            parts.append("-f" if self.fragment else "! -f")
        for m in self.matches:
            parts.append(str(m))
        if self.target is not None:
            parts.append(str(self.target))
        return " ".join(parts)

    @property
    def jump_target(self) -> str | None:
        """The user chain this rule jumps or goes to, if any."""
        t = self.target
        if isinstance(t, (Jump, Goto)):
            return t.chain
        return None


# --------------------------------------------------------------------------- fast path
#
# Rules as iptables-save prints them (and as kube-proxy and Docker write them) have one shape:
# base options, then ``-m NAME`` followed only by NAME's own options, then ``-j``/``-g`` with the
# target's options.  For those, each ``-m`` segment and the target segment is built once per
# distinct text (memoised: a 100k-rule kube-proxy table repeats a few dozen of them) and the
# general parser is not needed.  Anything else (implicit matches, abbreviations, interleaved
# options, duplicates, errors) returns None and goes through :func:`_parse`, so behaviour is
# identical by construction.

_FAST_BASE = {"-s": 1, "-d": 2, "-i": 4, "-o": 8, "-p": 16}
_SEG_END = frozenset({"-m", "-j", "-g"})
_MATCH_MEMO: dict[tuple[Any, ...], tuple[Match, int]] = {}
"""-m segment text -> (match, 0 not tcp/udp | 1 a tcp/udp match printed back as given | 2 one _native_l4 rewrites)."""
_TARGET_MEMO: dict[tuple[Any, ...], Any] = {}
_COMMENT_MEMO: dict[str, Match] = {}
_JUMP_MEMO: dict[str, Jump] = {}
_MEMO_MAX = 1 << 16


class _RuleBuilder:
    """:class:`Rule`'s slots without its frozen ``__setattr__``, for :func:`_make_rule` only."""

    __slots__ = Rule.__slots__
    src: IPv4Network | None
    src_invert: bool
    dst: IPv4Network | None
    dst_invert: bool
    in_iface: str | None
    in_invert: bool
    out_iface: str | None
    out_invert: bool
    proto: int | None
    proto_invert: bool
    fragment: bool | None
    matches: tuple[Match, ...]
    target: Any
    _text: str


def _make_rule(src: IPv4Network | None, src_invert: bool, dst: IPv4Network | None, dst_invert: bool,
               in_iface: str | None, in_invert: bool, out_iface: str | None, out_invert: bool,
               proto: int | None, matches: tuple[Match, ...], target: Any) -> Rule:
    """``Rule(...)`` without ``-f`` and ``! -p``, about ten times quicker than the dataclass ``__init__``.

    A frozen dataclass's ``__init__`` pays one ``object.__setattr__`` per field (14 here), which
    is most of a restore's cost per rule; the builder has the same slots in the same order, so
    CPython lets it become a Rule by ``__class__`` assignment once every field is set.
    """
    r = _RuleBuilder()
    r.src = src
    r.src_invert = src_invert
    r.dst = dst
    r.dst_invert = dst_invert
    r.in_iface = in_iface
    r.in_invert = in_invert
    r.out_iface = out_iface
    r.out_invert = out_invert
    r.proto = proto
    r.proto_invert = False
    r.fragment = None
    r.matches = matches
    r.target = target
    r._text = ""
    r.__class__ = Rule  # type: ignore[assignment]
    return r  # type: ignore[return-value]


def _parse_fast(words: list[str]) -> Rule | None:
    n = len(words)
    i = 0
    src = dst = None
    iin = iout = None
    src_inv = dst_inv = iin_inv = iout_inv = False
    proto: int | None = None
    seen = 0
    base = _FAST_BASE
    while i < n:
        w = words[i]
        if w == "!":
            if i + 2 >= n:
                return None
            bit = base.get(words[i + 1])
            if bit is None or bit == 16:
                return None  # ! -p (and anything else) goes the general way
            inv = True
            i += 2
        else:
            bit = base.get(w)
            if bit is None:
                break
            inv = False
            i += 1
        if i >= n or seen & bit:
            return None
        seen |= bit
        arg = words[i]
        i += 1
        if bit == 1:
            src = parse_network(arg)
            src_inv = inv
        elif bit == 2:
            dst = parse_network(arg)
            dst_inv = inv
        elif bit == 16:
            proto = parse_proto(arg)
        elif bit == 4:
            iin = check_iface(arg)
            iin_inv = inv
        else:
            iout = check_iface(arg)
            iout_inv = inv
    matches: list[Match] = []
    tgt: Any = None
    l4 = 0
    while i < n:
        w = words[i]
        if w == "-m":
            if i + 1 >= n:
                return None
            name = words[i + 1]
            if name == "comment" and i + 3 < n and words[i + 2] == "--comment" and (
                    i + 4 == n or words[i + 4] in _SEG_END):
                m = _comment(words[i + 3])
                if m is None:
                    return None
                matches.append(m)
                i += 4
                continue
            cls = MATCH_MODULES.get(name)
            if cls is None:
                return None
            table = _lookup_table(cls, cls.OPTIONS, cls.ALIASES)
            j = i + 2
            while j < n:
                w = words[j]
                if w in _SEG_END:
                    break
                if w == "!":
                    if j + 1 >= n or words[j + 1] not in table:
                        return None
                    j += 1
                    w = words[j]
                hit = table.get(w)
                if hit is None:
                    return None
                j += 1 + hit[1]
            if j > n:
                return None
            got = _segment((proto, *words[i + 1:j]), proto)
            if got is None:
                return None
            matches.append(got[0])
            if got[1]:
                l4 += got[1]  # one plain tcp/udp match is printed back as given; else _native_l4 folds them
            i = j
            continue
        if w != "-j" and w != "-g":
            return None
        tgt = _target(words, i, proto)
        if tgt is None:
            return None
        break
    # what _finish normalises: a /0 address and a "+" interface (not inverted) are no option at all
    if src is not None and not src_inv and src.prefixlen == 0:
        src = None
    if dst is not None and not dst_inv and dst.prefixlen == 0:
        dst = None
    if iin == "+" and not iin_inv:
        iin = None
    if iout == "+" and not iout_inv:
        iout = None
    if l4 > 1:
        return _make_rule(src, src_inv, dst, dst_inv, iin, iin_inv, iout, iout_inv, proto,
                          _native_l4(tuple(matches)), tgt)
    return _make_rule(src, src_inv, dst, dst_inv, iin, iin_inv, iout, iout_inv, proto, tuple(matches), tgt)


def _comment(text: str) -> Match | None:
    """``-m comment --comment TEXT``, shared by every rule with that text (None: ask the general parser)."""
    m = _COMMENT_MEMO.get(text)
    if m is None:
        if len(text) > 255 or not text.isascii():
            return None  # the general parser checks (and words) the 255-byte limit
        m = MATCH_MODULES["comment"](comment=text)  # type: ignore[call-arg]
        if len(_COMMENT_MEMO) >= _MEMO_MAX:
            _COMMENT_MEMO.clear()
        _COMMENT_MEMO[text] = m
    return m


def _segment(key: tuple[Any, ...], proto: int | None) -> tuple[Match, int] | None:
    """The match of ``-m NAME OPTIONS...`` (``key`` is ``(proto, NAME, OPTIONS...)``, options already
    known to be NAME's), from the memo or built; None: ask the general parser."""
    got = _MATCH_MEMO.get(key)
    if got is None:
        cls = MATCH_MODULES.get(key[1])
        if cls is None:
            return None
        m = _build_segment(cls, _lookup_table(cls, cls.OPTIONS, cls.ALIASES), key, 2, len(key), proto)
        if m is None:
            return None
        if len(_MATCH_MEMO) >= _MEMO_MAX:
            _MATCH_MEMO.clear()
        got = _MATCH_MEMO[key] = (m, (1 if _plain_l4(m) else 2) if type(m) in _NATIVE_L4 else 0)
    return got


def _target(words: Sequence[str], i: int, proto: int | None) -> Any:
    """The target of ``words[i:]`` (``-j``/``-g`` NAME OPTIONS...), from a memo or built; None: ask
    the general parser."""
    if i + 2 == len(words) and words[i] == "-j":  # -j CHAIN (or a target without options)
        name = words[i + 1]
        tgt = _JUMP_MEMO.get(name)
        if tgt is not None:
            return tgt
        if name not in TARGETS and name not in OPAQUE_TARGETS:
            tgt = _build_target(name, False, None, proto)  # checks (and words) a bad name
            if len(_JUMP_MEMO) >= _MEMO_MAX:
                _JUMP_MEMO.clear()
            _JUMP_MEMO[name] = tgt
            return tgt
    key = (proto, *words[i:])
    tgt = _TARGET_MEMO.get(key)
    if tgt is None:
        tgt = _fast_target(words, i, proto)
        if tgt is None:
            return None
        if len(_TARGET_MEMO) >= _MEMO_MAX:
            _TARGET_MEMO.clear()
        _TARGET_MEMO[key] = tgt
    return tgt


# iptables-save's (and kube-proxy's) usual rule shapes, after "-A CHAIN": one regular expression
# reads the words and the values; anything else (other options, other spacing, a backslash or
# no space after a quote) does not match and goes through split_words and _parse_fast.
_SAVED = re.compile(
    r'(?:( !)? -s (\S+))?(?: -d (\S+))?(?: -p (\S+))?(?: -m comment --comment "([^"\\]*)")?'
    r'(?: -m (tcp|udp)(?: --dport (\S+))?)?(?: -m statistic --mode random --probability (\S+))?'
    r' -j (\S+)(?: --to-destination (\S+))?')
_COMMAND_WORDS = frozenset({"-A", "-c", "--set-counters"})


def _parse_saved(line: str, pos: int) -> Rule | None:
    """The rule of ``line[pos:]`` when it has one of :data:`_SAVED`'s shapes, else None.

    Builds what :func:`_parse_fast` builds from the same words (the same memos and checks);
    a value the fast builders refuse also gives None (the general parser words the error).
    """
    m = _SAVED.fullmatch(line, pos)
    if m is None:
        return None
    s_inv, s, d, p, comment, l4, dport, prob, target, todest = m.groups()
    if line.count('"', pos) != (0 if comment is None else 2):
        return None  # a quote in another word: split_words reads it as quoting
    try:
        proto = parse_proto(p) if p is not None else None
        src = parse_network(s) if s is not None else None
        dst = parse_network(d) if d is not None else None
        matches: list[Match] = []
        flag = 0
        if comment is not None:
            if comment in _COMMAND_WORDS:
                return None  # a word restore's command reader looks for
            cm = _comment(comment)
            if cm is None:
                return None
            matches.append(cm)
        if l4 is not None:
            got = _segment((proto, l4, "--dport", dport) if dport is not None else (proto, l4), proto)
            if got is None:
                return None
            matches.append(got[0])
            flag += got[1]
        if prob is not None:
            got = _segment((proto, "statistic", "--mode", "random", "--probability", prob), proto)
            if got is None:
                return None
            matches.append(got[0])
        words = ("-j", target) if todest is None else ("-j", target, "--to-destination", todest)
        tgt = _target(words, 0, proto)
        if tgt is None:
            return None
    except RuleSyntaxError:
        return None
    src_inv = s_inv is not None
    if src is not None and not src_inv and src.prefixlen == 0:
        src = None
    if dst is not None and dst.prefixlen == 0:
        dst = None
    return _make_rule(src, src_inv, dst, False, None, False, None, False, proto,
                      _native_l4(tuple(matches)) if flag > 1 else tuple(matches), tgt)


def _build_segment(cls: type[Match], table: dict[str, tuple[str, int]], words: Sequence[str], i: int, j: int,
                   proto: int | None) -> Match | None:
    opts: Opts = {}
    while i < j:
        w = words[i]
        inv = w == "!"
        if inv:
            i += 1
            w = words[i]
        canon, nargs = table[w]
        if canon in opts:
            return None
        opts[canon] = (inv, tuple(words[i + 1:i + 1 + nargs]) if nargs else ())
        i += 1 + nargs
    return cls.build(opts, proto)


def _fast_target(words: Sequence[str], i: int, proto: int | None) -> Any:
    n = len(words)
    if i + 1 >= n:
        return None
    goto = words[i] == "-g"
    name = words[i + 1]
    target: _Module | None = None
    if not goto:
        tcls = TARGETS.get(name)
        if tcls is not None:
            target = _module(tcls)
        elif name in OPAQUE_TARGETS:
            target = _Module(name, _lookup_table(name, OPAQUE_TARGETS[name][0], {}))
    j = i + 2
    if target is None:
        if j != n:
            return None
    else:
        table = target.table
        opts = target.opts
        while j < n:
            w = words[j]
            inv = w == "!"
            if inv:
                j += 1
                if j >= n:
                    return None
                w = words[j]
            hit = table.get(w)
            if hit is None or hit[0] in opts or j + 1 + hit[1] > n:
                return None
            opts[hit[0]] = (inv, tuple(words[j + 1:j + 1 + hit[1]]) if hit[1] else ())
            j += 1 + hit[1]
    return _build_target(name, goto, target, proto)


# --------------------------------------------------------------------------- parser

_BASE: dict[str, str] = {
    "-s": "s", "--source": "s", "--src": "s", "-d": "d", "--destination": "d", "--dst": "d",
    "-i": "i", "--in-interface": "i", "-o": "o", "--out-interface": "o", "-p": "p", "--protocol": "p",
    "-f": "f", "--fragment": "f", "-m": "m", "--match": "m", "-j": "j", "--jump": "j", "-g": "g",
    "--goto": "g",
}
_BASE_LONG = [k for k in _BASE if k.startswith("--")]


_LOOKUPS: dict[object, dict[str, tuple[str, int]]] = {}


def _lookup_table(key: object, names: dict[str, int], aliases: dict[str, str]) -> dict[str, tuple[str, int]]:
    """Option word -> (canonical option, nargs), aliases folded in; built once per module."""
    table = _LOOKUPS.get(key)
    if table is None:
        table = {name: (name, n) for name, n in names.items()}
        for alias, canon in aliases.items():
            table[alias] = (canon, names[canon])
        _LOOKUPS[key] = table
    return table


class _Module:
    __slots__ = ("cls", "opts", "table")

    def __init__(self, cls: Any, table: dict[str, tuple[str, int]]) -> None:
        self.cls = cls
        self.opts: Opts = {}
        self.table = table


def _module(cls: Any) -> _Module:
    return _Module(cls, _lookup_table(cls, cls.OPTIONS, cls.ALIASES))


_FIELDS = {"s": ("src", "src_invert"), "d": ("dst", "dst_invert"), "i": ("in_iface", "in_invert"),
           "o": ("out_iface", "out_invert"), "p": ("proto", "proto_invert")}


def _parse(words: list[str]) -> Rule:
    kw: dict[str, Any] = {}
    mods: list[_Module] = []
    target: _Module | None = None
    target_name: str | None = None
    goto = False
    invert = False
    proto: int | None = None
    n = len(words)
    i = 0
    base_get = _BASE.get
    while i < n:
        w = words[i]
        i += 1
        if w == "!":
            if invert:
                raise RuleSyntaxError("multiple `!' flags not allowed")
            invert = True
            continue
        base = base_get(w)
        if base is None:
            if w[:1] != "-" or w == "-":
                raise RuleSyntaxError(f"Bad argument `{w}'")
            hit = None
            owner = target
            if owner is not None:
                hit = owner.table.get(w)
            if hit is None:
                for owner in reversed(mods):
                    hit = owner.table.get(w)
                    if hit is not None:
                        break
            if hit is None:
                try:
                    owner, canon, nargs = _find_option(w, mods, target, proto, kw.get("proto_invert", False))
                except RuleSyntaxError:
                    base = _abbrev_base(w, mods, target) if w.startswith("--") and len(w) > 3 else None
                    if base is None:
                        raise
                    hit = None
                else:
                    hit = (canon, nargs)
            if hit is not None:
                canon, nargs = hit
                assert owner is not None  # a hit always comes with the module that owns it
                opts = owner.opts
                if canon in opts:
                    if canon not in owner.cls.MULTI:
                        raise RuleSyntaxError(owner.cls.duplicate(canon))
                    canon = f"{canon}#{len(opts)}"
                if nargs == 2 and i < n and (i + 1 == n or words[i + 1][:1] in ("-", "!")):
                    raise RuleSyntaxError(_TWO_ARGS.get(canon, f"{canon} requires two args"))
                if i + nargs > n:
                    raise RuleSyntaxError(f"option \"{w}\" requires an argument")
                opts[canon] = (invert, tuple(words[i:i + nargs]) if nargs else ())
                i += nargs
                invert = False
                continue
        assert base is not None  # else the word was a module's option (or an abbreviation of a base one)
        if base == "f":
            if "fragment" in kw:
                raise RuleSyntaxError("multiple -f flags not allowed")
            kw["fragment"] = not invert
            invert = False
            continue
        if i >= n:
            raise RuleSyntaxError(f"option \"{w}\" requires an argument")
        arg = words[i]
        i += 1
        fields = _FIELDS.get(base)
        if fields is not None:
            fname, finv = fields
            if fname in kw:
                raise RuleSyntaxError(f"multiple -{base} flags not allowed")
            if base == "s" or base == "d":
                kw[fname] = arg  # parsed after every option, as do_parse does (a stray word is reported first)
            elif base == "p":
                proto = parse_proto(arg)
                kw[fname] = proto
            else:
                kw[fname] = check_iface(arg)
            kw[finv] = invert
            invert = False
            continue
        if invert:
            raise RuleSyntaxError(f"cannot have ! before -{base}")
        if base == "m":
            cls = MATCH_MODULES.get(arg)
            if cls is None:
                raise RuleSyntaxError(f"Couldn't load match `{arg}':No such file or directory\n")
            mods.append(_module(cls))
            continue
        # -j / -g
        if target_name is not None:
            raise RuleSyntaxError("multiple -j flags not allowed")
        target_name = arg
        goto = base == "g"
        if not goto:
            tcls = TARGETS.get(arg)
            if tcls is not None:
                target = _module(tcls)
            elif arg in OPAQUE_TARGETS:
                target = _Module(arg, _lookup_table(arg, OPAQUE_TARGETS[arg][0], {}))
    if invert:
        raise RuleSyntaxError("no command specified after `!'")

    matches = tuple([m.cls.build(m.opts, proto) for m in mods])
    if target_name is None:
        tgt = None
    else:
        tgt = _build_target(target_name, goto, target, proto)
    for fname in ("src", "dst"):
        if fname in kw:
            kw[fname] = parse_network(kw[fname])
    return _finish(kw, matches, tgt)


def _build_target(target_name: str, goto: bool, target: "_Module | None", proto: int | None) -> Any:
    if target is None:
        if not target_name or target_name.startswith("-") or target_name.split() != [target_name]:
            # xshared's parse_target refuses a name with white space (a CR from a Windows file)
            raise RuleSyntaxError(f"Invalid target name `{target_name}'")
        if len(target_name) > 28:
            raise RuleSyntaxError(f"chain name `{target_name}' too long (must be under 29 chars)")
        if target_name in ("ACCEPT", "DROP", "RETURN", "QUEUE") and goto:
            raise RuleSyntaxError(f"goto '{target_name}' is not a chain")
        return Goto(chain=target_name) if goto else Jump(chain=target_name)
    if isinstance(target.cls, str):
        from simnet.netfilter.targets.misc import Opaque  # loaded with its first rule, as iptables loads libxt_*

        return Opaque(name=target.cls, args=OPAQUE_TARGETS[target.cls][1](target.opts))
    return target.cls.build(target.opts, proto)


def _finish(kw: dict[str, Any], matches: tuple[Match, ...], tgt: Any) -> Rule:
    if kw:
        net = kw.get("src")
        if net is not None and net.prefixlen == 0 and not kw["src_invert"]:
            del kw["src"], kw["src_invert"]
        net = kw.get("dst")
        if net is not None and net.prefixlen == 0 and not kw["dst_invert"]:
            del kw["dst"], kw["dst_invert"]
        if kw.get("in_iface") == "+" and not kw["in_invert"]:
            del kw["in_iface"], kw["in_invert"]
        if kw.get("out_iface") == "+" and not kw["out_invert"]:
            del kw["out_iface"], kw["out_invert"]
        if "proto" in kw and kw["proto"] is None:
            if kw["proto_invert"]:
                raise RuleSyntaxError("rule would never match protocol")
            del kw["proto"], kw["proto_invert"]
    if matches:
        seen = None
        for m in matches:
            if type(m) in _NATIVE_L4:
                if seen is not None or not _plain_l4(m):
                    matches = _native_l4(matches)
                    break
                seen = m
    return Rule(matches=matches, target=tgt, **kw)


def _plain_l4(m: Any) -> bool:
    """A lone tcp/udp match that iptables-nft prints back unchanged."""
    if m.sport == _FULL or m.dport == _FULL or _below(m.sport, m.sport_invert) or _below(m.dport, m.dport_invert):
        return False
    if type(m) is TcpMatch:
        return m.option is None and not m.option_invert and m.flags_mask != 0
    return True


# iptables-nft (1.8.9) turns -m tcp / -m udp into nft payload expressions and reads them back
# into one match per protocol: a full port range (even inverted) and a zero --tcp-flags mask
# emit nothing; the fields of every such match land in the first one that emitted something
# (a later value of the same field wins); a match that is all defaults (nothing given) is kept
# as an xt match of its own and prints as a bare ``-m tcp``; --tcp-option keeps the xt match.
_FULL = (0, 65535)


def _below(rng: tuple[int, int] | None, invert: bool) -> bool:
    """``! --dport 0:N`` (a range, N < 65535): emitted as "> N", read back as ``--dport N+1:65535``."""
    return invert and rng is not None and rng[0] == 0 and 0 < rng[1] < 65535


def _l4_fields(m: Match) -> dict[str, Any] | None:
    """The nft payload fields ``m`` emits, or None when iptables-nft keeps it as an xt match."""
    if isinstance(m, TcpMatch):
        if m.option is not None or m.option_invert:
            return None
        fields: dict[str, Any] = {}
        if m.flags_mask:
            fields.update(flags_mask=m.flags_mask, flags_comp=m.flags_comp, flags_invert=m.flags_invert)
        plain = (m.flags_mask is None or (m.flags_mask == 0 and m.flags_comp == 0 and not m.flags_invert))
    else:
        fields = {}
        plain = True
    for f in ("sport", "dport"):
        rng, inv = getattr(m, f), getattr(m, f + "_invert")
        if rng is not None and rng != _FULL:
            if _below(rng, inv):
                rng, inv = (rng[1] + 1, 65535), False
            fields[f] = rng
            fields[f + "_invert"] = inv
        elif rng is not None and inv:
            plain = False
    if not fields and plain:
        return None  # all defaults: stays an xt match
    return fields


def _native_l4(matches: tuple[Match, ...]) -> tuple[Match, ...]:
    out: list[Any] = []
    first: dict[type, int] = {}
    merged: dict[int, dict[str, Any]] = {}
    for m in matches:
        cls = type(m)
        if cls not in _NATIVE_L4:
            out.append(m)
            continue
        fields = _l4_fields(m)
        if fields is None:
            if isinstance(m, TcpMatch) and m.option is not None:
                out.append(m)
            else:
                out.append(cls())
            continue
        if not fields:
            continue  # emits nothing: the match is gone
        at = first.get(cls)
        if at is None:
            first[cls] = len(out)
            merged[len(out)] = dict(fields)
            out.append(cls)
        else:
            merged[at].update(fields)
    for at, fields in merged.items():
        out[at] = out[at](**fields)
    result = tuple(out)
    return matches if result == matches else result


def _find_option(w: str, mods: list[_Module], target: _Module | None, proto: int | None,
                 proto_invert: bool) -> tuple[_Module, str, int]:
    if target is not None and (hit := target.table.get(w)) is not None:
        return target, hit[0], hit[1]
    for m in reversed(mods):
        if (hit := m.table.get(w)) is not None:
            return m, hit[0], hit[1]
    implicit = None
    if proto is not None and not proto_invert and proto in _IMPLICIT:
        cls = MATCH_MODULES[_IMPLICIT[proto]]
        if not any(m.cls is cls for m in mods):
            implicit = _module(cls)
            if (hit := implicit.table.get(w)) is not None:
                mods.append(implicit)
                return implicit, hit[0], hit[1]
    # getopt_long: a unique prefix of a long option is accepted
    if w.startswith("--") and len(w) > 2:
        cands: list[tuple[_Module, str, int]] = []
        for m in ([target] if target is not None else []) + list(reversed(mods)) + ([implicit] if implicit else []):
            for name, (canon, nargs) in m.table.items():
                if name.startswith(w):
                    cands.append((m, canon, nargs))
        if len({c[1] for c in cands}) == 1:
            owner = cands[0][0]
            if owner is implicit:
                mods.append(implicit)
            return cands[0]
    raise RuleSyntaxError(f"unknown option \"{w}\"")


def _abbrev_base(w: str, mods: list[_Module], target: _Module | None) -> str | None:
    hits = {_BASE[k] for k in _BASE_LONG if k.startswith(w)}
    if len(hits) != 1:
        return None
    for m in mods + ([target] if target else []):
        if any(name.startswith(w) for name in m.table):
            return None
    return hits.pop()
