"""The coreutils a script uses on files: ``cat``, ``head -c``, ``truncate -s``, ``mkdir``, ``rm``.

They act on the host's :class:`~simnet.files.FileSystem` (``world.files``) as the command
sees it: under ``ip netns exec NAME`` through /etc/netns/NAME's binds.  Every word is checked
when the script is compiled (coreutils' wording for bad options and sizes); what depends on
the files (a missing file, a directory) fails when the line runs, with coreutils' message.
A ``> FILE`` redirect of any command is the shell's (:mod:`simnet.script.interpreter`).

>>> parse_size("10M"), parse_size("1kB"), parse_size("2KiB"), parse_size("1b", blocks=True)
(10485760, 1000, 2048, 512)
"""

from __future__ import annotations

import errno as _errno
import re
from typing import Callable

from simnet.errors import ToolError
from simnet.files import Content, FileError, FileSystem
from simnet.script.lexer import Command
from simnet.tools.base import Compiled, ToolRun, script_error

__all__ = ["compile_cat", "compile_head", "compile_mkdir", "compile_rm", "compile_truncate", "parse_size",
           "read_source"]

_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6, "z": 7, "y": 8}
_ENDLESS = frozenset({"/dev/zero", "/dev/urandom", "/dev/random"})


def parse_size(word: str, *, blocks: bool = False) -> int:
    """coreutils' NUM[SUFFIX]: K/M/G/T/P/E/Z/Y are powers of 1024, KB/MB/... of 1000, KiB/... of 1024;
    ``b`` (512) where ``blocks`` (head -c); raises ValueError otherwise."""
    m = re.fullmatch(r"(\d+)(?:([kKmMgGtTpPeEzZyY])(B|iB)?|(b))?", word)
    if m is None or (m[4] and not blocks):
        raise ValueError(word)
    n = int(m[1]) if len(m[1]) < 30 else 1 << 100
    if m[4]:
        return n * 512
    if m[2]:
        unit: int = (1000 if m[3] == "B" else 1024) ** _POWERS[m[2].lower()]  # int ** int is Any to mypy
        return n * unit
    return n


def _quoted(word: str) -> str:
    return f"\u2018{word}\u2019"


def _fs(run: ToolRun, ns: str | None) -> FileSystem:
    """The host's files; under ``ip netns exec NS`` NS must exist (else ip's "Cannot open network namespace")."""
    if ns is not None:
        run.ns(ns)
    return run.world.files


def _fail(e: FileError, text: str) -> ToolError:
    return ToolError(text.replace("%s", e.strerror or ""))


def read_source(cmd: Command, ns: str | None, path: str, count: int | None,
                tool: str) -> Callable[[ToolRun], Content]:
    """What reading ``count`` bytes (None: all) of ``path`` gives a command in ``ns``: zeros from
    /dev/zero, the world RNG's bytes from /dev/urandom, a regular file's bytes.

    Refuses an endless read (``cat /dev/zero``) when the script is compiled.
    """
    if path in _ENDLESS and count is None:
        raise script_error(cmd, f"{tool} {path} never ends: bound it (head -c N {path})")

    def read(run: ToolRun) -> Content:
        if path == "/dev/zero":
            return Content.zeros(count or 0)
        if path in ("/dev/urandom", "/dev/random"):
            return Content.of(run.world.rng.randbytes(count or 0))
        if path.startswith("/proc/sys/"):
            return Content.of(_proc_sys_read(run, ns, path, tool).encode())
        content = _fs(run, ns).content(path, ns)
        return content if count is None else content.cut(count)
    return read


def _proc_sys_read(run: ToolRun, ns: str | None, path: str, tool: str) -> str:
    import posixpath

    norm = posixpath.normpath(path)
    key = ".".join(p.replace(".", "/") for p in norm[len("/proc/sys/"):].split("/"))
    sysctls = run.ns(ns).sysctls
    if key not in sysctls:
        raise FileError(_errno.ENOENT, path)
    return sysctls.get(key) + "\n"


def _text(c: Content) -> str:
    return c.materialize().decode("utf-8", "replace")


# ----------------------------------------------------------------------------- cat


def compile_cat(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``cat [FILE|-]...``: the files' bytes in order; ``-`` or no file reads standard input."""
    files: list[str] = []
    for w in argv[1:]:
        if w.startswith("-") and w != "-":
            if w == "--":
                continue
            raise script_error(cmd, f"cat: invalid option -- '{w[1:2]}'" if not w.startswith("--")
                               else f"cat: unrecognized option '{w}'")
        files.append(w)
    if not files:
        files = ["-"]
    if "-" in files and cmd.stdin is None:
        raise script_error(cmd, "cat reads standard input here: feed it with a here-document (cat > FILE <<EOF) "
                                "or a pipe (echo DATA | cat)")
    sources = [None if f == "-" else read_source(cmd, ns, f, None, "cat") for f in files]
    stdin = (cmd.stdin or "").encode()

    def step(run: ToolRun) -> None:
        _fs(run, ns)
        out = Content()
        for f, src in zip(files, sources):
            if src is None:
                out = out.append(stdin)
                continue
            try:
                out = out.append(src(run))
            except FileError as e:
                _emit(run, cmd, out)
                raise _fail(e, f"cat: {f}: %s") from None
        _emit(run, cmd, out)
    return Compiled(step)


def _emit(run: ToolRun, cmd: Command, out: Content) -> None:
    emit = getattr(run, "emit", None)
    if emit is not None:
        emit(cmd, out)  # the interpreter writes a redirected command's output as bytes (sparse zeros kept)
    else:
        run.output(cmd, _text(out))


# ----------------------------------------------------------------------------- head


def compile_head(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``head -c N [FILE]`` (bytes) or ``head [-n N] [FILE]`` (lines; 10 by default)."""
    count: int | None = None
    lines = 10
    files: list[str] = []
    words = list(argv[1:])
    i = 0
    while i < len(words):
        w = words[i]
        m = re.fullmatch(r"(-c|-n|--bytes=|--lines=)(.*)", w, re.S)
        if m:
            opt, val = m[1], m[2]
            if not val and not opt.endswith("="):
                if i + 1 >= len(words):
                    raise script_error(cmd, f"head: option requires an argument -- '{opt[1]}'")
                i += 1
                val = words[i]
            what = "bytes" if opt in ("-c", "--bytes=") else "lines"
            try:
                if val.startswith("-"):
                    raise ValueError(val)  # all but the last N: never ends on a device, unmodelled on files
                n = parse_size(val, blocks=True)
            except ValueError:
                raise script_error(cmd, f"head: invalid number of {what}: {_quoted(val)}") from None
            if what == "bytes":
                count = n
            else:
                count, lines = None, n
        elif w.startswith("-") and w != "-":
            raise script_error(cmd, f"head: invalid option -- '{w[1:2]}'")
        else:
            files.append(w)
        i += 1
    if len(files) > 1:
        raise script_error(cmd, "head with several files prints '==> FILE <==' headers: simnet's head reads one")
    path = files[0] if files else "-"
    if path == "-" and cmd.stdin is None:
        raise script_error(cmd, "head reads standard input here: give it a file (head -c N /dev/zero)")
    if count is None and path in _ENDLESS:
        raise script_error(cmd, f"head -n on {path} never ends (it has no lines): use head -c N {path}")
    src = None if path == "-" else read_source(cmd, ns, path, count, "head")
    stdin = (cmd.stdin or "").encode()

    def step(run: ToolRun) -> None:
        _fs(run, ns)
        if src is None:
            data = Content.of(stdin)
        else:
            try:
                data = src(run)
            except FileError as e:
                raise _fail(e, f"head: cannot open '{path}' for reading: %s" if e.errno == _errno.ENOENT
                            else f"head: error reading '{path}': %s") from None
        if count is not None:
            out = data.cut(count)
        else:
            text = data.materialize()
            out = Content.of(b"".join(text.splitlines(keepends=True)[:lines]))
        _emit(run, cmd, out)
    return Compiled(step)


# ----------------------------------------------------------------------------- truncate


def compile_truncate(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``truncate [-c] -s [+|-|<|>|/|%]SIZE FILE...``."""
    size: str | None = None
    create = True
    files: list[str] = []
    words = list(argv[1:])
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("-s", "--size") or w.startswith("--size=") or (w.startswith("-s") and len(w) > 2):
            if w in ("-s", "--size"):
                if i + 1 >= len(words):
                    raise script_error(cmd, "truncate: option requires an argument -- 's'" if w == "-s"
                                       else "truncate: option '--size' requires an argument")
                i += 1
                size = words[i]
            else:
                size = w.split("=", 1)[1] if w.startswith("--") else w[2:]
        elif w in ("-c", "--no-create"):
            create = False
        elif w.startswith("-") and w != "-":
            raise script_error(cmd, f"truncate: invalid option -- '{w[1:2]}'" if not w.startswith("--")
                               else f"truncate: unrecognized option '{w}'")
        else:
            files.append(w)
        i += 1
    if not files:
        raise script_error(cmd, "truncate: missing file operand")
    if size is None:
        raise script_error(cmd, f"truncate: you must specify either {_quoted('--size')} or {_quoted('--reference')}")
    op = size[0] if size[:1] in ("+", "-", "<", ">", "/", "%") else ""
    try:
        amount = parse_size(size[len(op):])
    except ValueError:
        raise script_error(cmd, f"truncate: Invalid number: {_quoted(size)}") from None
    if op in ("/", "%") and amount == 0:
        raise script_error(cmd, "truncate: division by zero")

    def new_size(old: int) -> int:
        if op == "+":
            return old + amount
        if op == "-":
            return max(0, old - amount)
        if op == "<":
            return min(old, amount)
        if op == ">":
            return max(old, amount)
        if op == "/":
            return old // amount * amount
        if op == "%":
            return -(-old // amount) * amount
        return amount

    def step(run: ToolRun) -> None:
        fs = _fs(run, ns)
        for f in files:
            try:
                old = fs.size(f, ns) if fs.kind(f, ns) == "file" else 0
                fs.truncate(f, new_size(old), create=create, netns=ns)
            except FileError as e:
                raise _fail(e, f"truncate: cannot open '{f}' for writing: %s") from None
    return Compiled(step)


# ----------------------------------------------------------------------------- mkdir, rm


def compile_mkdir(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``mkdir [-p] DIR...``."""
    parents = False
    dirs: list[str] = []
    for w in argv[1:]:
        if w in ("-p", "--parents"):
            parents = True
        elif w.startswith("-") and w != "-":
            raise script_error(cmd, f"mkdir: invalid option -- '{w[1:2]}'" if not w.startswith("--")
                               else f"mkdir: unrecognized option '{w}'")
        else:
            dirs.append(w)
    if not dirs:
        raise script_error(cmd, "mkdir: missing operand")

    def step(run: ToolRun) -> None:
        for d in dirs:
            try:
                _fs(run, ns).mkdir(d, parents=parents, netns=ns)
            except FileError as e:
                raise _fail(e, f"mkdir: cannot create directory {_quoted(d)}: %s") from None
    return Compiled(step)


def compile_rm(cmd: Command, ns: str | None, argv: tuple[str, ...]) -> Compiled:
    """``rm [-f] [-r] FILE...``."""
    force = recursive = False
    paths: list[str] = []
    for w in argv[1:]:
        if re.fullmatch(r"-[frRv]+", w):
            force = force or "f" in w
            recursive = recursive or bool(set(w) & set("rR"))
        elif w in ("--force", "--recursive"):
            force, recursive = force or w == "--force", recursive or w == "--recursive"
        elif w.startswith("-") and w != "-":
            raise script_error(cmd, f"rm: invalid option -- '{w[1:2]}'" if not w.startswith("--")
                               else f"rm: unrecognized option '{w}'")
        else:
            paths.append(w)
    if not paths and not force:
        raise script_error(cmd, "rm: missing operand")

    def step(run: ToolRun) -> None:
        fs = _fs(run, ns)
        for p in paths:
            try:
                if recursive:
                    fs.rmtree(p, netns=ns)
                else:
                    fs.unlink(p, netns=ns)
            except FileError as e:
                if force and e.errno == _errno.ENOENT:
                    continue
                raise _fail(e, f"rm: cannot remove '{p}': %s") from None
    return Compiled(step)
