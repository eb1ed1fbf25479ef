"""Start-up: the methods ``@dataclass`` writes for simnet's classes, compiled once and cached.

``@dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and, frozen,
``__setattr__``/``__delattr__`` as source text and compiles it with ``exec`` every time its module
is imported.  simnet's values are frozen dataclasses: the ~90 that ``simnet run`` imports cost
about a third of the whole process that way (issue #16), nearly all of it in the compiler.

Python keeps a module's own bytecode in ``__pycache__``; this keeps the code of that generated
text beside it (``trace.cpython-311.dataclasses`` next to ``trace.cpython-311.pyc``), keyed by
the exact text: a hit runs the very code ``exec`` would have compiled from it.  As with bytecode,
the file is written only when Python writes bytecode (not under ``PYTHONDONTWRITEBYTECODE`` or
``-B``), atomically, and it is dropped when the module's source changes (size and mtime, as a
``.pyc`` checks).  Only simnet's modules use it: ``exec`` calls of ``dataclasses`` for any other
module go straight to the builtin.

This module must not use ``from __future__ import annotations``: ``exec`` compiles a string with
the ``__future__`` flags of its caller, which is this module's :func:`_exec` for other modules'
classes (and simnet's text is compiled here with no inherited flags, as ``dataclasses`` has none).
"""

import builtins
import marshal
import os
import sys
from types import CodeType
from typing import Any

__all__ = ["install"]

_HEADER = b"simnet-dataclasses-1\n"
_caches: dict[str, dict[str, CodeType]] = {}
"""Module name -> generated text -> its code."""
_files: dict[str, tuple[str, bytes] | None] = {}
"""Module name -> (cache file, the source's stamp), None when it has no file to cache beside."""
_dirty: set[str] = set()


def _exec(source: Any, globals: dict[str, Any] | None = None, locals: Any = None, /) -> None:
    """``exec`` as ``dataclasses`` calls it, with simnet's texts compiled once."""
    if type(source) is str and globals is not None:
        name = globals.get("__name__")
        if type(name) is str and name.startswith("simnet."):
            cache = _caches.get(name)
            if cache is None:
                cache = _caches[name] = _load(name, globals.get("__file__"))
            code = cache.get(source)
            if code is None:
                code = cache[source] = compile(source, "<string>", "exec", dont_inherit=True)
                _dirty.add(name)
            source = code
    builtins.exec(source, globals, locals)


def _stamp(file: str) -> bytes:
    st = os.stat(file)
    return f"{st.st_mtime_ns} {st.st_size}\n".encode()


def _load(name: str, file: object) -> dict[str, CodeType]:
    _files[name] = None
    if not isinstance(file, str) or not file.endswith(".py"):
        return {}
    try:
        from importlib.util import cache_from_source

        path = cache_from_source(file)[: -len(".pyc")] + ".dataclasses"
        stamp = _stamp(file)
    except (NotImplementedError, OSError, ValueError):
        return {}
    _files[name] = (path, stamp)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return {}
    head = _HEADER + sys.version.encode() + b"\n" + stamp
    if not data.startswith(head):
        return {}
    try:
        table = marshal.loads(data[len(head):])
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(table, dict) or not all(type(k) is str and type(v) is CodeType for k, v in table.items()):
        return {}
    return table


def _save() -> None:
    """At exit: write the modules' caches that gained a text (unless bytecode is not written)."""
    if sys.dont_write_bytecode:
        return
    for name in sorted(_dirty):
        where = _files.get(name)
        if where is None:
            continue
        path, stamp = where
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(_HEADER + sys.version.encode() + b"\n" + stamp + marshal.dumps(_caches[name]))
            os.replace(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _dirty.clear()


def install() -> None:
    """Route ``dataclasses``' ``exec`` through :func:`_exec` (once per process; CPython only)."""
    import dataclasses

    if sys.implementation.name != "cpython" or getattr(dataclasses, "exec", None) is _exec:
        return
    if "exec" in vars(dataclasses):  # someone else's hook: leave it alone
        return
    import atexit

    dataclasses.exec = _exec  # type: ignore[attr-defined]
    atexit.register(_save)
