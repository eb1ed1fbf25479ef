"""iptables-save / iptables-restore text, ``iptables -S`` and ``iptables -L`` output.

Kernel side: iptables 1.8.9 (nf_tables backend), ``iptables-save``,
``iptables-restore`` (``xtables-restore.c``) and ``iptables -S``/``-L``
(``xshared.c``/``nft-shared.c`` ``print_header``/``print_rule_details``).
Every formatter here is byte-identical to the real tool for what simnet
models (checked by tests/kernel/test_canonical_form.py against the real one).

The restore parser is hand-written for speed: one ``str.split`` per line
(quote-aware only when the line has a ``"``), a dict dispatch per option and
no per-rule graph work (loops and nesting depth are checked once per table
at ``COMMIT``), so a 100,000-rule nat table loads in a few seconds.
"""

from __future__ import annotations

import errno as _errno
import gc
import re
from collections.abc import Mapping
from ipaddress import IPv4Network
from typing import Iterable, Sequence

from simnet.errors import RuleSyntaxError, ToolError
from simnet.netfilter.matches import check_sets
from simnet.netfilter.rule import Rule, _parse_fast, _parse_saved
from simnet.netfilter.xtables import (ULONG_MAX, decimal, is_digits, parse_rulenumber, proto_name, scan_ull,
                                      split_words)
from simnet.netfilter.ruleset import (BUILTIN_CHAINS, Chain, Counters, Entry, JumpGraphError, Ruleset, RulesetError, Table,
                                      TableState, check_chain_name)
from simnet.netfilter.targets import Goto

__all__ = ["RestoreError", "parse_save", "apply_restore", "format_save", "format_rules", "format_list",
           "format_rule_verbose", "SAVE_VERSION"]

SAVE_VERSION = "iptables-save v1.8.9 (nf_tables)"


class RestoreError(ToolError, ValueError):
    """``iptables-restore: line N failed``, with the precise reason, file and line.

    ``later`` holds the further ``(line, reason)`` failures iptables-restore reports with the
    first one (rules added to a table that a jump already made invalid).
    """

    def __init__(self, reason: str, *, line: int, filename: str = "<stdin>", exit_code: int = 1,
                 later: tuple[tuple[int, str], ...] = ()) -> None:
        self.reason = reason
        self.line = line
        self.filename = filename
        self.later = later
        super().__init__("\n".join(f"iptables-restore: line {n} failed: {r}" for n, r in ((line, reason), *later)),
                         exit_code)


def parse_save(text: str, *, filename: str = "<stdin>") -> Ruleset:
    """Parse iptables-save output into a fresh :class:`Ruleset`."""
    rs = Ruleset()
    apply_restore(rs, text, filename=filename, counters=True)
    return rs


def _counters(text: str, lineno: int, filename: str) -> Counters:
    body = text[1:-1] if text.startswith("[") and text.endswith("]") else None
    if body is not None:
        p, colon, b = body.partition(":")
        if colon and is_digits(p) and is_digits(b):  # sscanf %llu: saturated at ULONG_MAX
            return Counters(min(decimal(p), ULONG_MAX), min(decimal(b), ULONG_MAX))
    raise RestoreError(f"Bad parameter `{text}'", line=lineno, filename=filename)


def apply_restore(ruleset: Ruleset, text: str, *, noflush: bool = False, counters: bool = False,
                  filename: str = "<stdin>", table: str | None = None) -> None:
    """Apply ``iptables-restore`` input to ``ruleset``, all or nothing.

    Without ``noflush`` each ``*table`` starts from an empty table; with it,
    rules are added to what is there and a declared user chain is flushed.
    ``counters`` (``-c``) applies ``[p:b]`` counters; ``table`` (``-T``)
    restores only that table.

    Raises:
        RestoreError: worded like iptables-restore, with ``.line``/``.filename``.
    """
    enabled = gc.isenabled()
    gc.disable()  # a 100k-rule restore allocates ~1M objects; full GC passes would dominate
    try:
        _apply(ruleset, text, noflush, counters, filename, table)
    finally:
        if enabled:
            gc.enable()


def _apply(ruleset: Ruleset, text: str, noflush: bool, counters: bool, filename: str, table: str | None) -> None:
    staged: dict[Table, TableState] = {}
    # per table: user chain -> hooks its rules allow (checked through jumps once, at COMMIT);
    # None once a command other than -A makes that bookkeeping unreliable (then COMMIT rescans)
    restricted: dict[Table, dict[str, frozenset[str]] | None] = {}
    touched: set[Table] = set()  # tables with a chain declaration or a rule line
    current: TableState | None = None
    skip = False
    commit_lines: dict[Table, int] = {}
    block_from = 0  # the current table block's first line, for a replay after a refused COMMIT
    block_start = TableState(Table.FILTER)
    lineno = 0
    # iptables-restore reads lines up to '\n' only: a CR (a file from Windows) stays in the line
    lines = (text[:-1] if text.endswith("\n") else text).split("\n")
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        if "\r" in raw:
            line = raw.strip(" \t")
        try:
            if line[0] == "*":
                if current is not None:
                    raise RestoreError(f"COMMIT expected before `{line}'", line=lineno, filename=filename)
                name = line[1:].strip(" \t").split(" ")[0].split("\t")[0]
                try:
                    tname = Table(name)
                except ValueError:
                    raise RestoreError(f"table name '{name}' invalid", line=lineno,
                                       filename=filename, exit_code=2) from None
                skip = table is not None and table != name
                if tname in staged:
                    current = staged[tname]
                elif noflush and tname in ruleset.tables:
                    current = ruleset.tables[tname].copy()
                else:
                    current = TableState(tname)
                staged[tname] = current
                block_start, block_from = current.copy(), lineno + 1
                continue
            if current is None:
                raise RestoreError(f"no table specified before `{line.split()[0]}'", line=lineno, filename=filename)
            if line != raw and line.split()[0] == "COMMIT":
                # xtables-restore compares the whole line with "COMMIT\n"; anything else is a rule line
                first = re.split("[ \t]+", line)[0]
                raise RestoreError(f"Bad argument `{first}'", line=lineno, filename=filename, exit_code=2)
            if line == "COMMIT":
                if not skip:
                    hooks = restricted.pop(current.name, None)
                    try:
                        current.check_graph("RULE_APPEND", restricted=None if noflush or hooks is None else hooks)
                    except JumpGraphError:
                        raise _replay(block_start, _block(lines, block_from, lineno - 1), counters, noflush,
                                      filename) from None
                    commit_lines[current.name] = lineno
                else:
                    del staged[current.name]
                current = None
                continue
            if skip:
                continue
            touched.add(current.name)
            if line[0] == ":":
                _declare(current, line, lineno, filename, counters, noflush)
                continue
            _command(current, line, counters, lineno, filename, restricted, ruleset.sets)
        except RestoreError:
            raise
        except JumpGraphError:  # refused only at commit: the rest of the block is sent too
            rest = []
            for n, later in enumerate(lines[lineno:], lineno + 1):
                later = later.strip()
                if later == "COMMIT" or later.startswith("*"):
                    break
                if later and later[0] != "#":
                    rest.append((n, later))
            raise _replay(block_start, _block(lines, block_from, lineno) + rest, counters, noflush, filename) from None
        except RulesetError as e:
            raise RestoreError(e.reason, line=lineno, filename=filename, exit_code=e.exit_code) from None
        except RuleSyntaxError as e:
            raise RestoreError(str(e).rstrip("\n"), line=lineno, filename=filename, exit_code=2) from None
    if current is not None:
        raise RestoreError("COMMIT expected", line=lineno + 1, filename=filename)
    for tname, state in staged.items():
        old = ruleset.tables.get(tname)
        if old is None and tname not in touched:
            continue  # nf_tables: an empty `*table ... COMMIT` block creates no table (verified, 1.8.9)
        state.generation = (old.generation + 1) if old is not None else 1
        ruleset.tables[tname] = state


def _block(lines: list[str], first: int, last: int) -> list[tuple[int, str]]:
    """(line number, text) of lines ``first``..``last`` that :func:`_apply` reads as commands."""
    out = []
    for n in range(first, last + 1):
        raw = lines[n - 1]
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        if "\r" in raw:
            line = raw.strip(" \t")
        out.append((n, line))
    return out


_RULE_OPS = {"-A": "RULE_APPEND", "--append": "RULE_APPEND", "-I": "RULE_INSERT", "--insert": "RULE_INSERT",
             "-R": "RULE_REPLACE", "--replace": "RULE_REPLACE"}


def _replay(start: TableState, lines: list[tuple[int, str]], counters: bool, noflush: bool,
            filename: str) -> RestoreError:
    """The error of a table block whose jumps were refused at COMMIT, with the lines to blame.

    nf_tables checks jumps once, at commit; when that fails, nfnetlink replays the batch and
    validates the table after every rule (NFNL_BATCH_REPLAY, nft_table_validate), so the error
    names the rule that made the table invalid, and every later rule of that table fails too
    (the offending rule stays in the batch).
    """
    t = start.copy()
    failed: list[tuple[int, str]] = []
    exit_code, errno = 4, 0
    for lineno, line in lines:
        if line[0] == ":":
            _declare(t, line, lineno, filename, counters, noflush)
            continue
        words = [w for w in split_words(line) if not w.startswith("[")]
        op = next((_RULE_OPS[w] for w in words if w in _RULE_OPS), None)
        chain = words[words.index(next(w for w in words if w in _COMMANDS)) + 1] if op else ""
        if failed:
            if op is not None:
                failed.append((lineno, RulesetError.nft(op, errno, f"rule in chain {chain}").reason))
            continue
        try:
            _command(t, line, counters, lineno, filename)
            if op is not None:
                t.check_graph(op, chain)
        except RulesetError as e:
            failed.append((lineno, e.reason))
            exit_code, errno = e.exit_code, e.errno or 0
    if not failed:  # pragma: no cover - the replay refuses what the commit refused
        raise AssertionError("COMMIT refused a table its replay accepts")
    (first, reason), *later = failed
    return RestoreError(reason, line=first, filename=filename, exit_code=exit_code, later=tuple(later))


def _declare(t: TableState, line: str, lineno: int, filename: str, counters: bool, noflush: bool) -> None:
    words = line[1:].split()
    if len(words) < 2:
        raise RestoreError(f"Bad chain declaration `{line}'", line=lineno, filename=filename)
    name, policy = words[0], words[1]
    # "[0:0]" (what iptables-save prints) reads as zero counters, the same as none given
    cnt = _counters(words[2], lineno, filename) if len(words) > 2 and words[2] != "[0:0]" else None
    existing = t.chains.get(name)
    if name in BUILTIN_CHAINS[t.name]:
        if policy == "-":
            raise RestoreError(f"Can't set policy `-' on `{name}'", line=lineno, filename=filename)
        if policy not in ("ACCEPT", "DROP"):
            raise RestoreError(f"Can't set policy `{policy}' on `{name}': Bad policy name",
                               line=lineno, filename=filename)
        assert existing is not None
        existing.policy = policy
        t.lazy.discard(name)
        # seen on 6.18 (iptables-nft 1.8.9): the declaration sets the counters it carries with -c,
        # and zeroes them without (also under --noflush)
        existing.policy_counters = cnt if counters and cnt is not None else Counters()
        return
    if policy != "-":
        raise RestoreError(f"Can't set policy `{policy}' on `{name}': Bad built-in chain name",
                           line=lineno, filename=filename)
    if existing is not None:
        if not noflush:
            raise RestoreError(f"chain `{name}' already exists", line=lineno, filename=filename)
        existing.entries.clear()
        return
    check_chain_name(name)
    t.chains[name] = Chain(name)


def _parsed(words: list[str], sets: "Mapping[str, object] | None") -> Rule:
    rule = Rule.parse(words)
    if sets is not None:
        check_sets(rule, sets)
    return rule


def _append(t: TableState, chain: Chain, rule: Rule, restricted: dict[Table, dict[str, frozenset[str]] | None] | None,
            sets: "Mapping[str, object] | None") -> None:
    """``-A`` of a parsed rule without counters: checked, appended, its hooks noted for COMMIT."""
    if sets is not None:
        check_sets(rule, sets)
    allowed = t.check_rule(chain.name, rule)
    chain.entries.append(Entry(rule, Counters()))
    if chain.builtin:
        t.lazy.discard(chain.name)
    elif allowed is not None and restricted is not None:
        hooks = restricted.get(t.name, _MISSING)
        if hooks is _MISSING:
            hooks = restricted[t.name] = {}
        if hooks is not None:
            hooks[chain.name] = allowed & hooks.get(chain.name, allowed)


def _command(t: TableState, line: str, counters: bool, lineno: int, filename: str,
             restricted: dict[Table, dict[str, frozenset[str]] | None] | None = None,
             sets: "Mapping[str, object] | None" = None) -> None:
    cr = "\r" in line
    if line[:3] == "-A " and not cr:  # iptables-save's usual shapes: one regular expression
        sp = line.find(" ", 3)
        chain = t.chains.get(line[3:sp]) if sp > 3 else None
        if chain is not None:
            rule = _parse_saved(line, sp)
            if rule is not None:
                _append(t, chain, rule, restricted, sets)
                return
    words = split_words(line) if not cr else [w for w in re.split("[ \t]+", line) if w]
    cnt: Counters | None = None
    if words[0] == "-A" and len(words) > 2:  # the common case, kept short
        chain = t.chains.get(words[1])
        rest = words[2:]
        if chain is not None and _SPECIAL.isdisjoint(rest):
            try:
                rule = _parse_fast(rest) or Rule.parse(rest)
            except RuleSyntaxError:
                rule = Rule.parse(rest)  # the general parser words the error
            _append(t, chain, rule, restricted, sets)
            return
    if words[0].startswith("["):
        cnt = _counters(words[0], lineno, filename)
        words = words[1:]
        if not counters:
            cnt = None
    if not words:
        raise RestoreError("empty rule", line=lineno, filename=filename)
    if words[0] not in _COMMANDS:
        for k, w in enumerate(words):
            if w in _COMMANDS:
                take = 2 + (w in _NUMBERED and k + 2 < len(words) and words[k + 2].isdigit())
                words = words[k:k + take] + words[:k] + words[k + take:]
                break
    cmd = words[0]
    if cmd in ("-A", "--append"):
        if len(words) < 2:
            raise RestoreError("option \"-A\" requires an argument", line=lineno, filename=filename, exit_code=2)
        chain = t.chains.get(words[1])
        if chain is None:
            raise RestoreError(f"Chain '{words[1]}' does not exist", line=lineno, filename=filename)
        rest = words[2:]
        if "-c" in rest or "--set-counters" in rest:
            rest, c2 = _strip_set_counters(rest)
            cnt = c2 if counters else cnt
        rule = Rule.parse(rest)
        if sets is not None:
            check_sets(rule, sets)
        allowed = t.check_rule(words[1], rule)
        chain.entries.append(Entry(rule, cnt or Counters()))
        if chain.builtin:
            t.lazy.discard(chain.name)
        if restricted is not None:
            hooks = restricted.get(t.name, _MISSING)
            if hooks is _MISSING:
                hooks = restricted[t.name] = {}
            if allowed is not None and hooks is not None and not chain.builtin:
                hooks[chain.name] = allowed & hooks.get(chain.name, allowed)
        return
    if restricted is not None:
        restricted[t.name] = None
    if cmd in ("-I", "--insert", "-R", "--replace", "-D", "--delete"):
        if len(words) < 2:
            raise RestoreError(f"option \"{cmd}\" requires an argument", line=lineno, filename=filename, exit_code=2)
        cname, rest = words[1], words[2:]
        num = None
        if rest and not rest[0].startswith("-") and rest[0] != "!":  # xs_has_arg
            num, rest = parse_rulenumber(rest[0]), rest[1:]
        if cmd in ("-I", "--insert"):
            t.insert(cname, _parsed(rest, sets), num or 1, cnt)
        elif cmd in ("-R", "--replace"):
            if num is None:
                raise RestoreError("-R requires a rule number", line=lineno, filename=filename, exit_code=2)
            t.replace(cname, num, _parsed(rest, sets), cnt)
        elif num is not None and not rest:
            t.delete_at(cname, num)
        else:
            t.delete(cname, _parsed(rest, sets))
        return
    arg = words[1] if len(words) > 1 else None
    if cmd in ("-N", "--new-chain") and arg:
        t.new_chain(arg)
    elif cmd in ("-X", "--delete-chain"):
        t.delete_chain(arg)
    elif cmd in ("-F", "--flush"):
        t.flush(arg)
    elif cmd in ("-Z", "--zero"):
        t.zero(arg)
    elif cmd in ("-P", "--policy") and len(words) == 3:
        t.set_policy(words[1], words[2])
    elif cmd in ("-E", "--rename-chain") and len(words) == 3:
        t.rename_chain(words[1], words[2])
    else:
        raise RestoreError(f"Bad argument `{cmd}'", line=lineno, filename=filename, exit_code=2)


_MISSING: dict[str, frozenset[str]] = {}
_SPECIAL = frozenset({"-c", "--set-counters", "-A"})
"""Words that take a rule line off the short path of :func:`_command`."""
_COMMANDS = frozenset({"-A", "--append", "-I", "--insert", "-R", "--replace", "-D", "--delete", "-N",
                       "--new-chain", "-X", "--delete-chain", "-F", "--flush", "-Z", "--zero", "-P",
                       "--policy", "-E", "--rename-chain"})
_NUMBERED = frozenset({"-I", "--insert", "-R", "--replace", "-D", "--delete"})


def _strip_set_counters(words: list[str]) -> tuple[list[str], Counters]:
    out: list[str] = []
    cnt = Counters()
    i = 0
    while i < len(words):
        if words[i] in ("-c", "--set-counters"):
            if i + 2 >= len(words):
                raise RuleSyntaxError("-c requires packet and byte counter")
            p, b = scan_ull(words[i + 1]), scan_ull(words[i + 2])
            if p is None:
                raise RuleSyntaxError("-c packet counter not numeric")
            if b is None:
                raise RuleSyntaxError("-c byte counter not numeric")
            cnt = Counters(p, b)
            i += 3
            continue
        out.append(words[i])
        i += 1
    return out, cnt


# --------------------------------------------------------------------------- iptables-save


def format_save(ruleset: Ruleset, *, counters: bool = False, tables: Iterable[str] | None = None,
                timestamp: str | None = None) -> str:
    """Exactly what ``iptables-save [-c] [-t T]`` prints.

    ``timestamp`` (e.g. ``time.ctime()``) adds the ``# Generated by`` /
    ``# Completed on`` lines; None leaves them out (for goldens).
    """
    wanted = None if tables is None else {Table(t) for t in tables}
    out: list[str] = []
    for t in ruleset.existing():
        if wanted is not None and t.name not in wanted:
            continue
        if timestamp is not None:
            out.append(f"# Generated by {SAVE_VERSION} on {timestamp}")
        out.append(f"*{t.name}")
        chains = t.ordered_chains()
        for ch in chains:
            pc = ch.policy_counters if ch.builtin else Counters()
            out.append(f":{ch.name} {ch.policy or '-'} [{pc.packets}:{pc.bytes}]")
        for ch in chains:
            head = f"-A {ch.name}"
            for e in ch.entries:
                spec = str(e.rule)
                line = f"{head} {spec}" if spec else head
                if counters:
                    line = f"[{e.counters.packets}:{e.counters.bytes}] {line}"
                out.append(line)
        out.append("COMMIT")
        if timestamp is not None:
            out.append(f"# Completed on {timestamp}")
    return "".join(line + "\n" for line in out)


def format_rules(ruleset: Ruleset, table: str = "filter", chain: str | None = None, *,
                 counters: bool = False, rulenum: int | None = None) -> str:
    """``iptables [-t T] -S [chain [N]] [-v]``."""
    t = ruleset.table(table)
    chains = [t.chain(chain)] if chain is not None else t.ordered_chains()
    out: list[str] = []
    if rulenum is None:
        for ch in chains:
            if ch.builtin:
                line = f"-P {ch.name} {ch.policy}"
                if counters:
                    line += f" -c {ch.policy_counters.packets} {ch.policy_counters.bytes}"
                out.append(line)
        for ch in chains:
            if not ch.builtin:
                out.append(f"-N {ch.name}")
    for ch in chains:
        for i, e in enumerate(ch.entries, 1):
            if rulenum is not None and i != rulenum:
                continue
            spec = str(e.rule)
            if counters:
                # iptables-nft prints the counters between the matches and the target
                target = str(e.rule.target) if e.rule.target is not None else ""
                matches = spec[: len(spec) - len(target)].rstrip() if target else spec
                spec = " ".join(w for w in (matches, f"-c {e.counters.packets} {e.counters.bytes}", target) if w)
            out.append(f"-A {ch.name} {spec}" if spec else f"-A {ch.name}")
    return "".join(line + "\n" for line in out)


# --------------------------------------------------------------------------- iptables -L


def _num(n: int, expanded: bool, notable: bool = False) -> str:
    if expanded:
        return f"{n} " if notable else f"{n:8d} "
    if n <= 99999:
        return f"{n} " if notable else f"{n:5d} "
    for unit in "KMG":
        n = (n + 500) // 1000
        if n <= 9999:
            return f"{n}{unit} " if notable else f"{n:4d}{unit} "
    n = (n + 500) // 1000
    return f"{n}T " if notable else f"{n:4d}T "


def _addr(net: IPv4Network | None, inv: bool, numeric: bool) -> str:
    s = "!" if inv else " "
    if net is None:
        text = "0.0.0.0/0" if numeric else "anywhere"
    else:
        text = str(net.network_address) if net.prefixlen == 32 else str(net)
    return s + f"{text:<19s} "


def _list_rule(e: Entry, num: int, verbose: bool, numeric: bool, expanded: bool, linenumbers: bool) -> str:
    r = e.rule
    s = ""
    if linenumbers:
        s += f"{num:<4d} "
    if verbose:
        s += _num(e.counters.packets, expanded) + _num(e.counters.bytes, expanded)
    label = r.target.label if r.target is not None else ""
    s += f"{label:<9s} "
    s += "!" if r.proto_invert else " "
    if r.proto is None:
        pname = "0" if numeric else "all"
    else:
        pname = str(r.proto) if numeric else proto_name(r.proto)
    s += f"{pname:<4s} "
    s += ("!" if r.fragment is False else "-") + ("f" if r.fragment is not None else "-") + " "
    if verbose:
        anyname = "*" if numeric else "any"
        iin = ("!" if r.in_invert else "") + (r.in_iface or anyname)
        iout = ("!" if r.out_invert else "") + (r.out_iface or anyname)
        s += f" {iin:<6s} {iout:<6s} "
    s += _addr(r.src, r.src_invert, numeric) + _addr(r.dst, r.dst_invert, numeric)
    if isinstance(r.target, Goto):
        s += "[goto] "
    for m in r.matches:
        s += " " + m.describe(numeric)
    if r.target is not None:
        extra = r.target.describe(numeric)
        if extra and not isinstance(r.target, Goto):
            s += " " + extra
    return s


def format_rule_verbose(rule: Rule) -> str:
    """The line ``iptables -v -A/-I/-R/-D/-C`` prints for its rule (print_firewall, FMT_NOTABLE).

    Addresses, ports and interfaces numeric, the protocol by name, each field followed
    by one space instead of padded to a column:

    >>> format_rule_verbose(Rule.parse("-p tcp --dport 22 -j ACCEPT"))
    'ACCEPT  tcp opt -- in * out *  0.0.0.0/0  -> 0.0.0.0/0   tcp dpt:22'
    """
    label = rule.target.label if rule.target is not None else ""
    pname = "all" if rule.proto is None else proto_name(rule.proto)
    s = f"{label} " + ("!" if rule.proto_invert else " ") + f"{pname} opt "
    s += ("!" if rule.fragment is False else "-") + ("f" if rule.fragment is not None else "-") + " "
    s += f"in {'!' if rule.in_invert else ''}{rule.in_iface or '*'} "
    s += f"out {'!' if rule.out_invert else ''}{rule.out_iface or '*'} "

    def addr(net: IPv4Network | None) -> str:
        if net is None:
            return "0.0.0.0/0"
        return str(net.network_address) if net.prefixlen == 32 else str(net)
    s += ("!" if rule.src_invert else " ") + addr(rule.src) + " "
    s += ("!" if rule.dst_invert else " ") + "-> " + addr(rule.dst) + "  "
    if isinstance(rule.target, Goto):
        s += "[goto] "
    for m in rule.matches:
        s += " " + m.describe(True)
    if rule.target is not None and not isinstance(rule.target, Goto):
        extra = rule.target.describe(True)
        if extra:
            s += " " + extra
    return s


def format_list(ruleset: Ruleset, table: str = "filter", chain: str | None = None, *, verbose: bool = False,
                numeric: bool = False, expanded: bool = False, linenumbers: bool = False,
                rulenum: int | None = None) -> str:
    """``iptables [-t T] -L [chain [N]] [-v] [-n] [-x] [--line-numbers]``, byte for byte.

    Addresses are always printed numerically (simnet has no resolver), as
    iptables prints them when reverse lookups fail; ``0.0.0.0/0`` is
    ``anywhere`` without ``-n``, and ports and protocols get their names.
    """
    t = ruleset.table(table)
    chains: Sequence[Chain] = [t.chain(chain)] if chain is not None else t.ordered_chains()
    if rulenum is not None:
        ch = chains[0]
        if 1 <= rulenum <= len(ch.entries):
            return _list_rule(ch.entries[rulenum - 1], rulenum, verbose, numeric, expanded, linenumbers) + "\n"
        return ""
    refs = t.references()
    blocks: list[str] = []
    for ch in chains:
        lines = []
        if ch.builtin:
            head = f"Chain {ch.name} (policy {ch.policy}"
            if verbose:
                head += (" " + _num(ch.policy_counters.packets, expanded, True) + "packets, "
                         + _num(ch.policy_counters.bytes, expanded, True) + "bytes")
            lines.append(head + ")")
        else:
            lines.append(f"Chain {ch.name} ({refs.get(ch.name, 0)} references)")
        h = ""
        if linenumbers:
            h += f"{'num':<4s} "
        if verbose:
            h += f"{'pkts':>8s} {'bytes':>10s} " if expanded else f"{'pkts':>5s} {'bytes':>5s} "
        h += f"{'target':<9s} " + " prot " + "opt"
        if verbose:
            h += f" {'in':<6s} {'out':<6s} "
        h += f" {'source':<19s} " + f" {'destination':<19s} "
        lines.append(h)
        for i, e in enumerate(ch.entries, 1):
            lines.append(_list_rule(e, i, verbose, numeric, expanded, linenumbers))
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


del _errno
