"""The JSON Schema of ``simnet run --json`` (``simnet/data/report.schema.json``) and its README table.

The schema file is the one description of the report: the tests validate real
reports against it, and the README's ``--json`` table is :func:`outline`'s
lines (a test checks that they agree).

Example:
    >>> schema = load_schema()
    >>> sorted(schema["$defs"]["probe"]["required"])[:4]
    ['command', 'conntrack', 'counters', 'dport']
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["load_schema", "outline"]

_ORDER = ("report", "probe", "icmp", "ping", "transfer", "received", "reply", "expect", "counter", "output",
          "error", "trace", "field_diff")


def load_schema() -> dict[str, Any]:
    """The report's JSON Schema (draft 2020-12) as a dict."""
    schema: dict[str, Any] = json.loads(resources.files("simnet").joinpath("data/report.schema.json").read_text())
    return schema


def _type(s: dict[str, Any], names: dict[str, str]) -> str:
    if "$ref" in s:
        return str(s["$ref"]).rsplit("/", 1)[1]
    if "anyOf" in s:
        return "|".join(_type(x, names) for x in s["anyOf"])
    if "const" in s:
        return json.dumps(s["const"])
    if "enum" in s:
        return names.get(json.dumps(s["enum"]), "|".join(json.dumps(v) for v in s["enum"]))
    t = s.get("type", "any")
    if t == "array":
        return f"[{_type(s.get('items', {}), names)}]"
    if t == "object" and isinstance(s.get("additionalProperties"), dict):
        return "{NS: " + _type(s["additionalProperties"], names) + "}"
    plain = {"integer": "int", "string": "str", "boolean": "bool", "number": "float", "null": "null"}
    return "|".join(plain.get(str(x), str(x)) for x in (t if isinstance(t, list) else [t]))


def outline(schema: dict[str, Any] | None = None) -> str:
    """The schema in a few lines, one object each (``?`` marks a field that may be absent)."""
    import textwrap

    schema = schema or load_schema()
    defs = {"report": schema, **schema["$defs"]}
    names = {json.dumps(defs["probe"]["properties"]["outcome"]["enum"]): "OUTCOME",
             json.dumps(defs["trace"]["properties"]["disposition"]["enum"]): "DISPOSITION"}
    lines = []
    for name in _ORDER:
        d = defs[name]
        fields = ", ".join(f'"{f}"' + ("" if f in d.get("required", ()) else "?") + f": {_type(s, names)}"
                           for f, s in d["properties"].items())
        lines += textwrap.wrap(f"{name:<11} = {{{fields}}}", 110, subsequent_indent=" " * 14,
                               break_on_hyphens=False)
    kinds = " | ".join(json.dumps(s["properties"]["kind"]["const"]) for s in defs["step"]["anyOf"])
    lines += textwrap.wrap(f'{"step":<11} = {{"kind": KIND, "netns": str, ...the fields of that kind}}, KIND = {kinds}',
                           110, subsequent_indent=" " * 14, break_on_hyphens=False)
    for word, (obj, field) in (("OUTCOME", ("probe", "outcome")), ("DISPOSITION", ("trace", "disposition"))):
        values = " | ".join(json.dumps(v) for v in defs[obj]["properties"][field]["enum"])
        lines += textwrap.wrap(f"{word:<11} = {values}", 110, subsequent_indent=" " * 14, break_on_hyphens=False)
    return "\n".join(lines) + "\n"
