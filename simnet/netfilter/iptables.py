"""The ``iptables``, ``iptables-save`` and ``iptables-restore`` commands.

Each takes the namespace's :class:`~simnet.netfilter.ruleset.Ruleset` and the
words a user types, returns what the real tool prints on stdout, and raises
:class:`IptablesError` with the real tool's stderr text and exit status
(iptables 1.8.9, nf_tables backend).

>>> from simnet.netfilter.ruleset import Ruleset
>>> rs = Ruleset()
>>> iptables(rs, ["-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"])
''
>>> print(iptables(rs, ["-S", "INPUT"]), end="")
-P INPUT ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
"""

from __future__ import annotations

from typing import Sequence

from simnet.errors import RuleSyntaxError, ToolError
from simnet.netfilter.rule import Rule
from simnet.netfilter.matches import check_sets
from simnet.netfilter.ruleset import PROG, TRY_HELP, Counters, Ruleset, RulesetError, Table
from simnet.netfilter.syntax import (RestoreError, apply_restore, format_list, format_rule_verbose, format_rules,
                                     format_save)
from simnet.netfilter.targets import EXTENSION_TARGETS
from simnet.netfilter.xtables import parse_rulenumber, scan_ull

__all__ = ["IptablesError", "iptables", "iptables_save", "iptables_restore"]

_GENERIC_LONG = frozenset({
    "--numeric", "--verbose", "--exact", "--line-numbers", "--ipv4", "--ipv6", "--fragment", "--version",
    "--list", "--list-rules", "--flush", "--zero", "--delete-chain",
})
"""Generic long options without an argument (the word after them is not their value)."""


class IptablesError(ToolError):
    """A failed iptables command: ``str()`` is its stderr, ``exit_code`` its status."""

    line: int | None = None
    """iptables-restore's failing line (None for other commands)."""
    filename: str | None = None
    """The file iptables-restore read it from."""


def _param(text: str) -> IptablesError:
    return IptablesError(f"{PROG}: {text}\n{TRY_HELP}", 2)


_COMMANDS = {
    "-A": "A", "--append": "A", "-I": "I", "--insert": "I", "-D": "D", "--delete": "D", "-R": "R",
    "--replace": "R", "-N": "N", "--new-chain": "N", "-X": "X", "--delete-chain": "X", "-F": "F",
    "--flush": "F", "-Z": "Z", "--zero": "Z", "-P": "P", "--policy": "P", "-E": "E",
    "--rename-chain": "E", "-L": "L", "--list": "L", "-S": "S", "--list-rules": "S", "-C": "C",
    "--check": "C",
}
_REQUIRED_ARGS = {"A": 1, "D": 1, "R": 1, "I": 1, "N": 1, "P": 2, "E": 2, "C": 1}
_OPTIONAL_CHAIN = {"X", "F", "Z", "L", "S"}

# iptables 1.8.9's getopt string (xshared.h IPT_OPTSTRING): letters taking an argument,
# letters taking an optional one (only when attached: -LINPUT), and plain flags
_WITH_ARG = frozenset("ACDRIMNEPopsdjgimtc")
_OPTIONAL_ARG = frozenset("LSFZXhwW")
_FLAGS = frozenset("Vnfvx46")
_LIST_ONLY = (("n", "-n"), ("x", "-x"), ("line", "-0"))
"""Options legal only with -L (generic_opt_check), in the order iptables checks them."""


def _explode(args: list[str]) -> list[str]:
    """Split bundled short options the way getopt reads them: ``-nvL`` is ``-n -v -L``.

    A letter that takes an argument ends the bundle and takes the rest of the word
    (``-tnat``, ``-LINPUT``: for -L/-S/-F/-Z/-X an attached rest is their chain, so
    ``-Lv`` lists chain ``v``). An unknown letter is iptables' ``unknown option`` error,
    naming ``argv[optind - 1]``: the word itself when the letter ends it, else the word
    before (glibc advances optind only at a word's end).

    >>> _explode(["-nvL", "INPUT"]), _explode(["-tnat", "-vS"]), _explode(["-Lv"])
    (['-n', '-v', '-L', 'INPUT'], ['-t', 'nat', '-v', '-S'], ['-L', 'v'])
    """
    out: list[str] = []
    prev = "iptables"
    for k, w in enumerate(args):
        before = args[k - 1] if k else ""
        takes_value = (before.startswith("--") and before not in _GENERIC_LONG) or (
            len(before) == 2 and before[0] == "-" and before[1] in _WITH_ARG)
        if takes_value or len(w) < 3 or w[0] != "-" or w[1] == "-" or not w[1].isalnum():
            out.append(w)
            prev = w
            continue
        for j in range(1, len(w)):
            c = w[j]
            if c in _WITH_ARG or c in _OPTIONAL_ARG:
                out.append("-" + c)
                if w[j + 1:]:
                    out.append(w[j + 1:])
                break
            if c not in _FLAGS:
                raise _param(f'unknown option "{w if j == len(w) - 1 else prev}"')
            out.append("-" + c)
        prev = w
    return out


def iptables(ruleset: Ruleset, argv: Sequence[str]) -> str:
    """Run ``iptables ARGV`` against ``ruleset``; return stdout.

    Raises:
        IptablesError: with iptables' exact stderr and exit status.
    """
    args = list(argv)
    if args and args[0] in ("iptables", "iptables-nft"):
        args = args[1:]
    args = _explode(args)
    table = "filter"
    cmd: str | None = None
    cmd_word = ""
    cmd_args: list[str] = []
    verbose = numeric = expanded = linenumbers = zero = False
    counters: Counters | None = None
    rest: list[str] = []
    i = 0
    n = len(args)

    def has_arg() -> bool:  # xs_has_arg(): a next word that is not an option or '!'
        return i < n and not args[i].startswith("-") and args[i] != "!"
    while i < n:
        w = args[i]
        i += 1
        c = _COMMANDS.get(w)
        if c is not None:
            if not zero and (c == "Z" and cmd in ("L", "S") or c in ("L", "S") and cmd == "Z"):
                # -L and -S may be combined with -Z (add_command's othercmds): list, then zero
                zero = True
                if c != "Z":
                    cmd, cmd_word = c, w
                if has_arg():
                    cmd_args[:1] = [args[i]]
                    i += 1
                if has_arg():
                    cmd_args[1:] = [args[i]]
                    i += 1
                continue
            if cmd is not None:
                raise _param(f"Cannot use -{c} with -{cmd}" if c != cmd else f"multiple -{c} flags not allowed")
            cmd, cmd_word = c, w
            need = _REQUIRED_ARGS.get(c, 0)
            for k in range(need):
                if i >= n or (k == 0 and args[i].startswith("-") and c != "P"):
                    raise _param(f"option \"{w}\" requires an argument")
                cmd_args.append(args[i])
                i += 1
            if c in _OPTIONAL_CHAIN and has_arg():
                cmd_args.append(args[i])
                i += 1
            if c in ("I", "D", "R", "L", "S", "Z") and cmd_args and has_arg():
                try:
                    cmd_args.append(str(parse_rulenumber(args[i])))
                except RuleSyntaxError as e:
                    raise _param(str(e)) from None
                i += 1
            continue
        if w in ("-t", "--table"):
            if i >= n:
                raise _param(f"option \"{w}\" requires an argument")
            table = args[i]
            i += 1
        elif w in ("-v", "--verbose"):
            verbose = True
        elif w in ("-n", "--numeric"):
            numeric = True
        elif w in ("-x", "--exact"):
            expanded = True
        elif len(w) > 5 and "--line-numbers".startswith(w):  # getopt_long takes unambiguous prefixes
            linenumbers = True
        elif w in ("-w", "--wait", "-W", "--wait-interval"):
            if i < n and args[i].isdigit():
                i += 1
        elif w in ("-c", "--set-counters"):
            if i + 1 >= n or args[i + 1].startswith("-") or args[i + 1] == "!":  # bcnt: xs_has_arg
                raise _param("-c requires packet and byte counter")
            p, b = scan_ull(args[i]), scan_ull(args[i + 1])
            if p is None:
                raise _param("-c packet counter not numeric")
            if b is None:
                raise _param("-c byte counter not numeric")
            counters = Counters(p, b)
            i += 2
        elif w in ("-4", "--ipv4"):
            pass
        else:
            rest.append(w)
    if cmd is None:
        for w in rest:
            if w.startswith("-"):
                raise _param(f"unknown option \"{w}\"")
        raise _param("no command specified")
    for given, (_, letter) in zip((numeric, expanded, linenumbers), _LIST_ONLY):
        if given and cmd != "L":  # generic_opt_check(): these options only go with -L
            raise _param(f"Illegal option `{letter}' with this command")
    existed = table in ruleset.tables
    done = False
    try:
        out = _run(ruleset, table, cmd, cmd_word, cmd_args, rest, counters, verbose, numeric, expanded, linenumbers)
        if zero:
            out += _run(ruleset, table, "Z", "-Z", cmd_args, [], None, verbose, False, False, False)
        done = True
        return out
    except RulesetError as e:
        raise IptablesError(str(e), e.exit_code) from None
    except RuleSyntaxError as e:
        msg = str(e)
        if msg.startswith("Bad argument"):
            raise IptablesError(f"{msg}\n{TRY_HELP}", 2) from None
        raise _param(msg) from None
    finally:
        if not existed and not (done and cmd in _CREATES_TABLE) and table in ruleset.tables:
            # iptables-nft creates a table only to put a chain or rule in it (verified on
            # 1.8.9: -L, -S, -F, -Z, -C, -D, -X, -E and iptables-save leave no table behind)
            del ruleset.tables[Table(table)]


_CREATES_TABLE = frozenset("AIRNP")


def _run(rs: Ruleset, table: str, cmd: str, word: str, cargs: list[str], rest: list[str],
         counters: Counters | None, verbose: bool, numeric: bool, expanded: bool, linenumbers: bool) -> str:
    t = rs.table(table)
    num = int(cargs[1]) if len(cargs) > 1 and cargs[1].isdigit() else None
    if num is not None and num < 1:
        raise _param(f"Invalid rule number `{cargs[1]}'")
    if cmd in ("A", "I", "R", "C", "D") and not (cmd == "D" and num is not None):
        rule = Rule.parse(rest)
        if rs.sets is not None:
            check_sets(rule, rs.sets)
        chain = cargs[0]
        if cmd == "A":
            if chain not in t.chains:
                raise RulesetError.plain(2, "No chain/target/match by that name.")
            t.append(chain, rule, counters)
        elif cmd == "I":
            if chain not in t.chains:
                raise RulesetError.plain(2, "No chain/target/match by that name.")
            t.insert(chain, rule, num or 1, counters)
        elif cmd == "R":
            if num is None:
                raise _param(f"option \"{word}\" requires an argument")
            if chain not in t.chains:
                raise RulesetError.plain(2, "No chain/target/match by that name.")
            t.replace(chain, num, rule, counters)
        elif cmd == "C":
            if not t.check(chain, rule):
                raise RulesetError.plain(2, "Bad rule (does a matching rule exist in that chain?).")
        else:
            t.delete(chain, rule)
        return format_rule_verbose(rule) + "\n" if verbose else ""
    if rest:
        raise IptablesError(f"Bad argument `{rest[0]}'\n{TRY_HELP}", 2)
    target_chain = cargs[0] if cargs else None
    if cmd == "D":
        assert target_chain is not None and num is not None
        t.delete_at(target_chain, num)
    elif cmd == "N":
        if target_chain in EXTENSION_TARGETS:
            raise _param("chain name may not clash with target name")
        assert target_chain is not None
        t.new_chain(target_chain)
    elif cmd in ("X", "F", "Z"):
        # with -v, iptables-nft names each chain it flushes, zeroes or deletes
        names = [target_chain] if target_chain is not None else [
            c.name for c in t.ordered_chains() if cmd != "X" or not c.builtin]
        if cmd == "X":
            t.delete_chain(target_chain)
        elif cmd == "F":
            t.flush(target_chain)
        else:
            t.zero(target_chain, num)
        if verbose and num is None:
            verb = {"X": "Deleting", "F": "Flushing", "Z": "Zeroing"}[cmd]
            return "".join(f"{verb} chain `{name}'\n" for name in names)
    elif cmd == "P":
        # iptables-nft's -P zeroes the policy counters, with or without -c (seen on 6.18)
        t.set_policy(cargs[0], cargs[1], Counters())
    elif cmd == "E":
        t.rename_chain(cargs[0], cargs[1])
    elif cmd in ("L", "S"):
        if target_chain is not None and target_chain not in t.chains:
            raise IptablesError(f"{PROG}: chain `{target_chain}' in table `{table}' is incompatible, use 'nft' tool.", 1)
        if cmd == "L":
            return format_list(rs, table, target_chain, verbose=verbose, numeric=numeric, expanded=expanded,
                               linenumbers=linenumbers, rulenum=num)
        return format_rules(rs, table, target_chain, counters=verbose, rulenum=num)
    return ""


def iptables_save(ruleset: Ruleset, argv: Sequence[str] = (), *, timestamp: str | None = None) -> str:
    """``iptables-save [-c] [-t TABLE]``; ``timestamp`` adds the comment lines."""
    args = list(argv)
    if args and args[0] in ("iptables-save", "iptables-nft-save"):
        args = args[1:]
    counters = False
    tables = None
    i = 0
    while i < len(args):
        w = args[i]
        i += 1
        if w in ("-c", "--counters"):
            counters = True
        elif w in ("-t", "--table"):
            if i >= len(args):
                raise IptablesError(f"iptables-save v1.8.9 (nf_tables): option \"{w}\" requires an argument", 2)
            tables = [args[i]]
            if args[i] not in ("raw", "mangle", "nat", "filter", "security"):
                raise IptablesError(f"iptables-save v1.8.9 (nf_tables): table '{args[i]}' does not exist", 1)
            i += 1
        elif w in ("-M", "--modprobe"):
            i += 1
        elif w in ("-f", "--file"):
            i += 1
        else:
            raise IptablesError(f"Unknown arguments found on commandline", 1)
    if tables is not None and tables[0] not in ruleset.tables:
        # `iptables-save -t T` prints an absent table with its built-in chains, creating nothing
        shown = Ruleset()
        shown.table(tables[0])
        return format_save(shown, counters=counters, tables=tables, timestamp=timestamp)
    return format_save(ruleset, counters=counters, tables=tables, timestamp=timestamp)


def iptables_restore(ruleset: Ruleset, argv: Sequence[str], stdin: str, *, filename: str = "<stdin>") -> str:
    """``iptables-restore [-c] [-n] [-T TABLE] [-t] [FILE]`` with ``stdin`` as input; all or nothing."""
    args = list(argv)
    if args and args[0] in ("iptables-restore", "iptables-nft-restore"):
        args = args[1:]
    counters = noflush = test = False
    table = None
    i = 0
    while i < len(args):
        w = args[i]
        i += 1
        if w in ("-c", "--counters"):
            counters = True
        elif w in ("-n", "--noflush"):
            noflush = True
        elif w in ("-t", "--test"):
            test = True
        elif w in ("-v", "--verbose", "-w", "--wait", "-W", "--wait-interval"):
            if w in ("-w", "--wait", "-W", "--wait-interval") and i < len(args) and args[i].isdigit():
                i += 1
        elif w in ("-T", "--table"):
            table = args[i] if i < len(args) else None
            i += 1
        elif w in ("-M", "--modprobe"):
            i += 1
        elif not w.startswith("-"):
            filename = w
        else:
            raise IptablesError(f"iptables-restore v1.8.9 (nf_tables): unrecognized option '{w}'", 2)
    target = ruleset.copy() if test else ruleset
    try:
        apply_restore(target, stdin, noflush=noflush, counters=counters, filename=filename, table=table)
    except RestoreError as e:
        err = IptablesError(str(e), e.exit_code)
        err.line = e.line
        err.filename = e.filename
        raise err from None
    return ""
