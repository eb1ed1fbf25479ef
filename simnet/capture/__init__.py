"""``simnet capture``: a real host's network, read-only, as a simnet script.

:func:`read_host` runs the host's own tools through an injectable runner and returns a
:class:`Capture` (pure parsers in :mod:`~simnet.capture.iproute`, :mod:`~simnet.capture.sysctl`,
:mod:`~simnet.capture.netfilter`); :func:`write_script` turns it into a deterministic script that
``simnet run`` turns back into the same world; :class:`Redactor` maps addresses and names for a
script that can be attached to a public bug report.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simnet.capture.model import Capture, Namespace, Note
    from simnet.capture.reader import NsRef, Result, read_host, subprocess_runner
    from simnet.capture.redact import Redactor
    from simnet.capture.writer import Script, write_script

_LAZY = {"Capture": "model", "Namespace": "model", "Note": "model", "NsRef": "reader", "Result": "reader",
         "read_host": "reader", "subprocess_runner": "reader", "Redactor": "redact", "Script": "writer",
         "write_script": "writer"}


def __getattr__(name: str) -> object:
    """The names load on first use: ``simnet run`` builds the ``capture`` subcommand's options
    (simnet.capture.command) without paying for the reader, writer and their stdlib imports."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"simnet.capture.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'simnet.capture' has no attribute {name!r}")

__all__ = ["Capture", "Namespace", "Note", "NsRef", "Redactor", "Result", "Script", "read_host",
           "subprocess_runner", "write_script"]
