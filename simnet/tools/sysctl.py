"""``sysctl`` (procps-ng 4.0.2): read, write and list the namespace's keys.

The keys, their defaults, ranges and couplings live in :mod:`simnet.sysctl` (the kernel's
side); this is the command's side: options, the key given in dotted or path form, and
procps' words and exit status.

Example:
    >>> from simnet.sysctl import Sysctls
    >>> s = Sysctls()
    >>> sysctl_command(s, ["-w", "net.ipv4.ip_forward=1"])
    'net.ipv4.ip_forward = 1\\n'
"""

from __future__ import annotations

import errno as _errno
import re
from collections.abc import Sequence
from dataclasses import dataclass

from simnet.script.lexer import Command
from simnet.sysctl import DEPRECATED, Sysctls, SysctlError
from simnet.tools.base import Compiled

__all__ = ["SysctlResult", "compile_sysctl", "run_sysctl", "sysctl_command"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SysctlResult:
    """What one ``sysctl`` invocation prints and returns."""

    stdout: str
    stderr: str
    exit_code: int


_USAGE = """
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
      --dry-run        Print the key and values but do not write
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8).
"""


def _name_of(arg: str) -> str:
    """The dotted name of a key typed either way (procps slashdot()).

    If the first separator is '/', the argument is in path form: '/' separates
    and '.' is part of a name (``eth0.100``), so the two are swapped.
    """
    first = re.search(r"[/.]", arg)
    if first is not None and first.group() == "/":
        return arg.translate(_SWAP)
    return arg


_SWAP = str.maketrans("./", "/.")


def run_sysctl(sysctls: Sysctls, argv: Sequence[str]) -> SysctlResult:
    """Run ``sysctl ARGV...`` against ``sysctls``; stdout, stderr and exit status.

    Mirrors procps-ng 4.0.2 as run here: a ``K=V`` argument writes even without
    ``-w``; ``-w K`` without ``=`` is "invalid syntax"; unknown keys and rejected
    values are reported per key and make the exit status 1, but the remaining
    arguments are still processed; writing a read-only key prints "Invalid
    argument" yet leaves the status at 0.
    """
    out: list[str] = []
    err: list[str] = []
    rc = 0
    flags = {"n": False, "N": False, "q": False, "w": False, "a": False, "e": False, "b": False}
    deprecated = False
    pattern: re.Pattern[str] | None = None
    args: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg == "--":
            args.extend(it)
            break
        long = {"--all": "a", "--values": "n", "--names": "N", "--quiet": "q",
                "--write": "w", "--ignore": "e", "--binary": "b"}
        if arg in long:
            flags[long[arg]] = True
        elif arg == "--deprecated":
            deprecated = True
        elif arg in ("-r", "--pattern"):
            pattern = re.compile(next(it, ""))
        elif arg.startswith("-") and len(arg) > 1 and not arg.startswith("--"):
            for ch in arg[1:]:
                ch = "a" if ch in "AX" else ch
                if ch in flags:
                    flags[ch] = True
                elif ch in "ox":
                    pass
                else:
                    return SysctlResult(
                        stdout="", stderr=f"sysctl: invalid option -- '{ch}'{_USAGE}", exit_code=1
                    )
        else:
            args.append(arg)
    end = "" if flags["b"] else "\n"

    def show(name: str, value: str) -> None:
        if flags["N"]:
            out.append(name + end)
        elif flags["n"]:
            out.append(value + end)
        else:
            out.append(f"{name} = {value}{end}")

    def listing(prefix: str) -> bool:
        found = False
        for key in sysctls.keys():
            if prefix and not key.startswith(prefix + "."):
                continue
            if not deprecated and key.rsplit(".", 1)[-1] in DEPRECATED:
                continue
            if pattern is not None and not pattern.search(key):
                continue
            show(key, sysctls.get(key))
            found = True
        return found

    if flags["a"]:
        listing("")
        return SysctlResult(stdout="".join(out), stderr="", exit_code=0)
    if not args:
        if flags["w"]:
            msg = "sysctl: no variables specified\nTry `sysctl --help' for more information.\n"
            return SysctlResult(stdout="", stderr=msg, exit_code=1)
        return SysctlResult(stdout=_USAGE, stderr="", exit_code=1)

    for arg in args:
        if "=" in arg:
            raw_key, _, raw_value = arg.partition("=")
            key = _name_of(raw_key.strip())
            value = raw_value.strip()
            try:
                sysctls.set(key, value)
            except SysctlError as exc:
                if exc.errno == _errno.ENOENT and "cannot stat" in exc.message:
                    if not flags["e"]:
                        err.append(exc.message + "\n")
                        rc = 1
                elif exc.errno == _errno.EACCES:
                    err.append(f'sysctl: setting key "{key}": Invalid argument\n')
                else:
                    err.append(exc.message + "\n")
                    rc = 1
                continue
            if not flags["q"]:
                if flags["N"] or flags["n"]:
                    out.append(value + end)
                else:
                    out.append(f"{key} = {value}{end}")
            continue
        if flags["w"]:
            err.append("sysctl: command line(0): invalid syntax, continuing...\n")
            rc = 1
            continue
        key = _name_of(arg.strip())
        if sysctls.write_only(key):
            continue  # procps prints nothing for a write-only key
        try:
            show(key, sysctls.get(key))
        except SysctlError as exc:
            if not listing(key):
                if not flags["e"]:
                    err.append(exc.message + "\n")
                    rc = 1
    return SysctlResult(stdout="".join(out), stderr="".join(err), exit_code=rc)


def sysctl_command(sysctls: Sysctls, argv: Sequence[str]) -> str:
    """``sysctl ARGV...`` as a user types it; returns stdout.

    Raises:
        SysctlError: when ``sysctl`` would exit non-zero; carries the stderr
            text, the exit code and whatever was printed before the failure.

    Example:
        >>> s = Sysctls()
        >>> sysctl_command(s, ["net/ipv4/ip_forward"])
        'net.ipv4.ip_forward = 0\\n'
        >>> try:
        ...     sysctl_command(s, ["net.ipv4.foo"])
        ... except SysctlError as e:
        ...     print(e.message, e.exit_code)
        sysctl: cannot stat /proc/sys/net/ipv4/foo: No such file or directory 1
    """
    result = run_sysctl(sysctls, argv)
    if result.exit_code != 0:
        raise SysctlError(
            result.stderr.rstrip("\n") or result.stdout.rstrip("\n"),
            exit_code=result.exit_code,
            stdout=result.stdout,
        )
    return result.stdout


def compile_sysctl(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``sysctl [-w] KEY[=VALUE]...`` in the namespace."""
    args = list(argv[1:])
    return Compiled(lambda run: run.output(cmd, sysctl_command(run.ns(ns).sysctls, args)))
