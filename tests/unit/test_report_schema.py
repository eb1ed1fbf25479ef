"""The shipped JSON Schema of ``simnet run --json`` is true: real reports validate, the README agrees.

The validator here covers exactly the subset of JSON Schema the file uses (type,
properties, required, additionalProperties, items, enum, const, anyOf, $ref into
$defs, minimum); when the ``jsonschema`` package is installed the file is also
checked as a draft 2020-12 schema and the reports validated with it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

import simnet.trace as trace_module
from simnet.cli import main
from simnet.report_schema import load_schema, outline
from simnet.script.expect import ScriptError
from simnet.script.interpreter import run_script

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema()
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every way ``value`` breaks ``schema`` (empty: it is valid)."""
    if "$ref" in schema:
        return errors(value, SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]], path)
    out: list[str] = []
    if "anyOf" in schema:
        branches = [errors(value, s, path) for s in schema["anyOf"]]
        if all(branches):
            out.append(f"{path}: matches no branch of anyOf (closest: {min(branches, key=len)[0]})")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is(value, t) for t in types):
            return out + [f"{path}: {value!r:.60} is not {'|'.join(types)}"]
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and isinstance(value, (int, float)) and value < schema["minimum"]:
        out.append(f"{path}: {value} < {schema['minimum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        out += [f"{path}: {k!r} is missing" for k in schema.get("required", ()) if k not in value]
        for k, v in value.items():
            if k in props:
                out += errors(v, props[k], f"{path}.{k}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{path}: {k!r} is not allowed")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += errors(v, schema["additionalProperties"], f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            out += errors(v, schema["items"], f"{path}[{i}]")
    return out


def _is(value: Any, t: str) -> bool:
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[t]) and not (t != "boolean" and isinstance(value, bool))


SCRIPTS = ["quickstart.sh", "bugs/published-port-bypasses-input-drop.sh", "cross-host-vxlan-overlay.sh",
           "router-on-a-stick-redirect.sh", "bugs/fwmark-0x4000-collision.sh", "docker/published-port-reachability.sh"]


def _reports() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name in SCRIPTS:
        path = ROOT / "scenarios" / name
        if path.exists():
            out.append((name, run_script(path).to_json()))
    failing = ("ip netns add a\nip -n a link set lo up\nip netns exec a ping -c 1 10.9.9.9\n"
               "# expect: reply from 10.9.9.9 via filter/OUTPUT#0\n"
               "ip netns exec a nc -z -w 1 127.0.0.1 80\n# expect: connected from 127.0.0.1:1\n"
               "ip -n a link set eth9 up\n")
    with pytest.raises(ScriptError) as err:
        run_script(failing)
    out.append(("failing", err.value.report.to_json()))  # type: ignore[attr-defined]
    return out


REPORTS = _reports()


@pytest.mark.parametrize("name, doc", REPORTS, ids=[n for n, _ in REPORTS])
def test_real_reports_validate_against_the_schema(name: str, doc: dict[str, Any]) -> None:
    assert errors(doc, SCHEMA) == []
    assert doc["probes"], "each report holds probes"


def test_the_reports_cover_the_schema() -> None:
    """The sample reaches every step kind the scenarios produce and both kinds of expectation verdict."""
    kinds = {s["kind"] for _, d in REPORTS for p in d["probes"] for t in p["trace"] for s in t["steps"]}
    assert {"rule", "nat", "hook", "route", "neigh", "delivered", "dropped", "conntrack", "bridge",
            "encapsulated", "decapsulated", "redirect"} <= kinds
    oks = {p["expect"]["ok"] for _, d in REPORTS for p in d["probes"] if p["expect"]}
    assert oks == {True, False}
    failing = dict(REPORTS)["failing"]
    assert failing["error"]["line"] == 7 and [p["expect"]["from"] for p in failing["probes"]] == [
        "10.9.9.9", "127.0.0.1:1"]


def test_the_validator_rejects_what_the_schema_forbids() -> None:
    """The report of before (expect with source/sport, no from) and typed mistakes are caught."""
    doc = json.loads(json.dumps(dict(REPORTS)["quickstart.sh"]))
    exp = doc["probes"][0]["expect"]
    exp["source"], exp["sport"] = exp.pop("from"), None
    doc["probes"][1]["dport"] = "80"
    doc["probes"][2]["trace"][0]["steps"][0]["kind"] = "teleported"
    found = errors(doc, SCHEMA)
    assert any(e.startswith("$.probes[0].expect: matches no branch of anyOf") for e in found)
    assert errors(exp, SCHEMA["$defs"]["expect"]) == ["$: 'from' is missing", "$: 'source' is not allowed",
                                                       "$: 'sport' is not allowed"]
    assert "$.probes[1].dport: '80' is not integer|null" in found
    assert any(e.startswith("$.probes[2].trace[0].steps[0]: matches no branch of anyOf") for e in found)


def test_the_schema_is_valid_json_schema_and_agrees_with_jsonschema() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="the jsonschema package is not installed")
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for _, doc in REPORTS:
        assert list(validator.iter_errors(doc)) == []


def test_every_trace_step_class_has_its_schema() -> None:
    """A new Step or field in simnet.trace must be described in the schema file too."""
    steps = {s["properties"]["kind"]["const"]: s for s in SCHEMA["$defs"]["step"]["anyOf"]}
    classes = {c.kind: c for c in vars(trace_module).values()
               if isinstance(c, type) and issubclass(c, trace_module.Step) and c is not trace_module.Step}
    assert set(steps) == set(classes)
    for kind, cls in classes.items():
        assert list(steps[kind]["properties"]) == ["kind"] + [f.name for f in dataclasses.fields(cls)], kind


def test_the_readme_shows_the_schema_as_generated() -> None:
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"### `--json` schema \(stable\).*?```\n(.*?)```", readme, re.S)
    assert m is not None
    assert m.group(1) == outline()


def test_cli_json_is_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(ROOT / "scenarios" / "quickstart.sh"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert errors(doc, SCHEMA) == [] and doc["error"] is None
