"""The ``breakerlab`` commands end to end: validate, schema and run."""

from __future__ import annotations

import csv
import importlib
import importlib.util
import json
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner, Result

import sim.terminal
from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SHIPPED_MODELS = sorted((ROOT / "models").glob("*.yaml"))
SHIPPED = SHIPPED_SCENARIOS + SHIPPED_MODELS
REFERENCE_MODEL = ROOT / "models" / "reference_shop.yaml"

SUMMARY_COLUMNS = [
    "configuration",
    "replication",
    "orders",
    "completed",
    "abandoned",
    "failed",
    "declined",
    "revenue_demanded",
    "revenue_captured",
    "revenue_lost",
    "revenue_lost_pct",
    "revenue_declined",
    "fees",
    "checkout_p50_s",
    "checkout_p95_s",
    "checkout_p99_s",
    "breaker_trips",
    "breaker_open_s",
    "dependency_calls",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

runner = CliRunner()


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{result.exception!r} escaped the command\n{result.stderr}"
    )


# --------------------------------------------------------------------------- validate


def test_repository_ships_scenarios_and_models() -> None:
    assert SHIPPED_SCENARIOS, "no scenarios/*.yaml found"
    assert SHIPPED_MODELS, "no models/*.yaml found"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_validate_accepts_every_shipped_file(path: Path) -> None:
    result = runner.invoke(app, ["validate", str(path)])
    no_traceback(result)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"ok: {path}")


def test_validate_accepts_all_shipped_files_in_one_call() -> None:
    result = runner.invoke(app, ["validate", *map(str, SHIPPED)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("ok: ") == len(SHIPPED)


def test_validate_exits_2_on_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = REFERENCE_MODEL.read_text("utf-8")
    assert text.count("  nodes: 4") == 1
    bad.write_text(text.replace("  nodes: 4", "  nodes: 4\n  nodez: 4"), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(bad)])
    no_traceback(result)
    assert result.exit_code == 2
    assert result.stdout == ""
    line = text.splitlines().index("  nodes: 4") + 2  # the line after nodes
    assert f"{bad}:{line}: checkout.nodez: unknown field 'nodez'" in result.stderr


def test_validate_without_files_is_a_usage_error() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- schema

JSON_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}
KEYWORDS = {
    # core and applicator vocabulary
    "$schema", "$id", "$ref", "$defs", "$comment", "$anchor",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    "properties", "patternProperties", "additionalProperties", "propertyNames",
    "items", "prefixItems", "contains",
    # validation vocabulary
    "type", "const", "enum", "multipleOf", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern",
    "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "required",
    "dependentRequired", "format",
    # annotations
    "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly",
    # OpenAPI's discriminator, which pydantic adds next to oneOf; JSON Schema ignores it
    "discriminator",
}  # fmt: skip
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_MAPS = ("properties", "patternProperties", "$defs")
SCHEMA_ONE = ("additionalProperties", "items", "not", "if", "then", "else", "contains")
NUMBERS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
COUNTS = ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties")


def resolve(root: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references expected, got {ref!r}"
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def structure_problems(node: Any, root: dict[str, Any], where: str = "#") -> list[str]:
    """Why ``node`` is not a well-formed JSON Schema (draft 2020-12); [] if it is."""
    if isinstance(node, bool):
        return []
    if not isinstance(node, dict):
        return [f"{where}: a schema must be an object or a boolean"]
    found = [f"{where}: unknown keyword {key!r}" for key in node if key not in KEYWORDS]
    kinds = node.get("type", [])
    for kind in [kinds] if isinstance(kinds, str) else kinds:
        if kind not in JSON_TYPES:
            found.append(f"{where}: unknown type {kind!r}")
    if "$ref" in node:
        try:
            resolve(root, node["$ref"])
        except (AssertionError, KeyError, TypeError) as exc:
            found.append(f"{where}: $ref {node['$ref']!r} does not resolve ({exc})")
    for key in SCHEMA_LISTS:
        if key in node:
            if not isinstance(node[key], list) or not node[key]:
                found.append(f"{where}.{key}: must be a non-empty list")
                continue
            for i, child in enumerate(node[key]):
                found += structure_problems(child, root, f"{where}.{key}[{i}]")
    for key in SCHEMA_MAPS:
        if key in node:
            for name, child in node[key].items():
                found += structure_problems(child, root, f"{where}.{key}.{name}")
    for key in SCHEMA_ONE:
        if key in node:
            found += structure_problems(node[key], root, f"{where}.{key}")
    required = node.get("required", [])
    if not (isinstance(required, list) and all(isinstance(r, str) for r in required)):
        found.append(f"{where}.required: must be a list of names")
    elif "properties" in node and not set(required) <= set(node["properties"]):
        found.append(f"{where}.required: names missing from properties")
    if "enum" in node and not isinstance(node["enum"], list):
        found.append(f"{where}.enum: must be a list")
    if "pattern" in node:
        try:
            re.compile(node["pattern"])
        except re.error as exc:
            found.append(f"{where}.pattern: {exc}")
    for key in NUMBERS:
        if key in node and not isinstance(node[key], int | float):
            found.append(f"{where}.{key}: must be a number")
    for key in COUNTS:
        if key in node and not (isinstance(node[key], int) and node[key] >= 0):
            found.append(f"{where}.{key}: must be a non-negative integer")
    return found


def _is(kind: str, value: Any) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    return {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "number": isinstance(value, int | float),
        "integer": isinstance(value, int),
    }[kind]


BOUNDS = {
    "minimum": operator.ge,
    "maximum": operator.le,
    "exclusiveMinimum": operator.gt,
    "exclusiveMaximum": operator.lt,
}


def violations(schema: Any, value: Any, root: dict[str, Any], where: str = "") -> list[str]:
    """Where ``value`` breaks ``schema``: just the keywords pydantic's schemas use."""
    if schema is True:
        return []
    if schema is False:
        return [f"{where or '<root>'}: not allowed"]
    here = where or "<root>"
    found: list[str] = []
    if "$ref" in schema:
        found += violations(resolve(root, schema["$ref"]), value, root, where)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(kind, value) for kind in kinds):
            return [*found, f"{here}: {value!r} is not of type {kinds}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{here}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{here}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{here}: {value!r} does not match {schema['pattern']!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        for key, holds in BOUNDS.items():
            if key in schema and not holds(value, schema[key]):
                found.append(f"{here}: {value!r} fails {key} {schema[key]}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append(f"{here}: fewer than {schema['minItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                found += violations(schema["items"], item, root, f"{where}[{i}]")
    if isinstance(value, dict):
        if len(value) < schema.get("minProperties", 0):
            found.append(f"{here}: fewer than {schema['minProperties']} entries")
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{here}: {name!r} is required")
        for name, item in value.items():
            path = f"{where}.{name}" if where else str(name)
            if name in properties:
                found += violations(properties[name], item, root, path)
            elif "additionalProperties" in schema:
                found += violations(schema["additionalProperties"], item, root, path)
    if "anyOf" in schema:
        branches = [violations(s, value, root, where) for s in schema["anyOf"]]
        if all(branches):
            closest = min(branches, key=lambda b: (f"{here}: " in b[0] and "type" in b[0], len(b)))
            found.append(f"{here}: matches none of anyOf, closest: {closest}")
    if "oneOf" in schema:
        matching = sum(not violations(s, value, root, where) for s in schema["oneOf"])
        if matching != 1:
            found.append(f"{here}: matches {matching} of oneOf, not exactly one")
    for sub in schema.get("allOf", []):
        found += violations(sub, value, root, where)
    return found


HAVE_JSONSCHEMA = importlib.util.find_spec("jsonschema") is not None


def schema_errors(schema: dict[str, Any], value: Any) -> list[str]:
    if HAVE_JSONSCHEMA:
        jsonschema = importlib.import_module("jsonschema")
        validator = jsonschema.Draft202012Validator(schema)
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]
    return violations(schema, value, schema)


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    directory = tmp_path_factory.mktemp("cli") / "nested" / "schemas"
    result = runner.invoke(app, ["schema", "--out", str(directory)])
    no_traceback(result)
    assert result.exit_code == 0, result.stderr
    names = {"scenario": "scenario.schema.json", "model": "model.schema.json"}
    for filename in names.values():
        assert f"wrote {directory / filename}" in result.stdout
    return {
        kind: json.loads((directory / filename).read_text("utf-8"))
        for kind, filename in names.items()
    }


@pytest.mark.parametrize("kind", ["scenario", "model"])
def test_schema_files_are_well_formed_json_schema(
    schemas: dict[str, dict[str, Any]], kind: str
) -> None:
    schema = schemas[kind]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert structure_problems(schema, schema) == []
    if HAVE_JSONSCHEMA:
        jsonschema = importlib.import_module("jsonschema")
        jsonschema.Draft202012Validator.check_schema(schema)


def test_scenario_schema_describes_scenario_fields(schemas: dict[str, dict[str, Any]]) -> None:
    schema = schemas["scenario"]
    assert schema["type"] == "object"
    assert {"horizon", "traffic", "faults", "configurations", "model"} <= set(schema["properties"])
    assert {"horizon", "traffic", "configurations", "model"} <= set(schema["required"])
    assert schema["additionalProperties"] is False, "editors should flag unknown keys"


def test_model_schema_describes_model_fields(schemas: dict[str, dict[str, Any]]) -> None:
    schema = schemas["model"]
    assert schema["type"] == "object"
    assert {"checkout", "stages", "dependencies"} <= set(schema["properties"])
    assert {"checkout", "stages", "dependencies"} <= set(schema["required"])
    assert schema["additionalProperties"] is False, "editors should flag unknown keys"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_schema_accepts_every_shipped_file(schemas: dict[str, dict[str, Any]], path: Path) -> None:
    """An editor using the schema must not flag files breakerlab itself accepts."""
    kind = "scenario" if path in SHIPPED_SCENARIOS else "model"
    data = yaml.safe_load(path.read_text("utf-8"))
    assert schema_errors(schemas[kind], data) == []


def test_schema_flags_unknown_and_missing_keys(schemas: dict[str, dict[str, Any]]) -> None:
    data = yaml.safe_load(SHIPPED_SCENARIOS[0].read_text("utf-8"))
    data["horizn"] = data.pop("horizon")
    assert schema_errors(schemas["scenario"], data)
    model = yaml.safe_load(REFERENCE_MODEL.read_text("utf-8"))
    model["checkout"]["nodez"] = 2
    assert schema_errors(schemas["model"], model)


# --------------------------------------------------------------------------- run


@dataclass(frozen=True)
class TinyRun:
    result: Result
    reports: Path
    scenario: dict[str, Any]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyRun]:
    """One short run shared by the tests below: 2 minutes at 5/s, two configurations."""
    directory = tmp_path_factory.mktemp("tiny")
    scenario: dict[str, Any] = {
        "name": "tiny-cli",
        "model": str(REFERENCE_MODEL),
        "horizon": "2m",
        "seed": 3,
        "replications": 1,
        "traffic": {
            "rate": "5/s",
            "basket": {"lognormal": {"median": 60, "p99": 400}},
            "patience": {"exponential": {"mean": "25s"}},
        },
        "faults": [{"target": "primary", "kind": "outage", "start": "30s", "duration": "30s"}],
        "configurations": {
            "plain": {"payment": {"timeout": "10s"}},
            "breaker": {
                "payment": {
                    "timeout": "2s",
                    "breaker": {
                        "failure_rate_threshold": "50%",
                        "sliding_window_size": 10,
                        "minimum_number_of_calls": 5,
                        "wait_duration_in_open_state": "10s",
                    },
                    "fallback": "secondary",
                }
            },
        },
    }
    path = directory / "tiny.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    reports = directory / "reports"
    with pytest.MonkeyPatch.context() as patch:
        # As in a pipe or an 80-column terminal, whatever terminal runs the tests.
        patch.setattr(sim.terminal.consoles, "_out", Console(width=80))
        result = runner.invoke(
            app, ["run", str(path), "--replications", "1", "--workers", "1", "--out", str(reports)]
        )
    yield TinyRun(result, reports, scenario)


def run_directory(run: TinyRun) -> Path:
    runs = [p for p in (run.reports / "tiny-cli").iterdir()]
    assert len(runs) == 1, f"expected one run directory, found {runs}"
    assert not runs[0].name.startswith("."), "a staging directory was left behind"
    return runs[0]


@pytest.mark.slow
def test_run_exits_0(tiny_run: TinyRun) -> None:
    no_traceback(tiny_run.result)
    assert tiny_run.result.exit_code == 0, tiny_run.result.stderr


def test_run_prints_the_report_path_on_one_line(tiny_run: TinyRun) -> None:
    lines = [line for line in tiny_run.result.stdout.splitlines() if line.startswith("report:")]
    assert len(lines) == 1, tiny_run.result.stdout
    match = re.fullmatch(r"report: (\S.*)", lines[0].rstrip())
    assert match, f"no path on the report line: {lines[0]!r}\n{tiny_run.result.stdout}"
    report = Path(match.group(1))
    assert report.name == "report.md"
    assert report.is_file()
    assert report.parent == run_directory(tiny_run)


def test_run_writes_tables_and_report(tiny_run: TinyRun) -> None:
    directory = run_directory(tiny_run)
    for name in ("summary.csv", "report.md"):
        assert (directory / name).is_file(), f"{name} missing from {sorted(directory.iterdir())}"
    for table in ("orders", "timeline"):  # the run store's files: a Parquet file per run
        assert len(list((directory / table).glob("*.parquet"))) == 2, table
    assert not list(directory.glob(".incomplete-*"))


def test_report_images_exist_and_are_png(tiny_run: TinyRun) -> None:
    directory = run_directory(tiny_run)
    text = (directory / "report.md").read_text("utf-8")
    assert "tiny-cli" in text
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text)
    assert images, "report.md shows no images"
    for image in images:
        assert image.endswith(".png")
        path = directory / image
        assert path.is_file(), f"report.md refers to missing {image}"
        assert path.read_bytes()[:8] == PNG_MAGIC


def test_summary_csv_has_one_row_per_configuration_and_replication(tiny_run: TinyRun) -> None:
    with (run_directory(tiny_run) / "summary.csv").open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        header = reader.fieldnames or []
        rows = list(reader)
    missing = [column for column in SUMMARY_COLUMNS if column not in header]
    assert missing == []
    assert header[0] == "configuration"
    assert sorted((row["configuration"], row["replication"]) for row in rows) == [
        ("breaker", "0"),
        ("plain", "0"),
    ]
    for row in rows:
        assert int(row["orders"]) > 0
        outcomes = sum(int(row[k]) for k in ("completed", "abandoned", "failed", "declined"))
        assert outcomes <= int(row["orders"])


def test_parquet_tables_match_the_summary(tiny_run: TinyRun) -> None:
    directory = run_directory(tiny_run)
    summary = pd.read_csv(directory / "summary.csv")
    orders = pd.read_parquet(directory / "orders")  # each table read in one call
    timeline = pd.read_parquet(directory / "timeline")
    assert set(orders["configuration"]) == {"plain", "breaker"}
    assert set(timeline["configuration"]) == {"plain", "breaker"}
    counted = orders[~orders["warmup"]]["configuration"].value_counts().to_dict()
    for row in summary.to_dict("records"):
        assert counted[row["configuration"]] == row["orders"]


def test_run_leads_with_paired_differences_and_writes_the_journal(tiny_run: TinyRun) -> None:
    stdout = tiny_run.result.stdout
    assert "paired difference with plain" in stdout
    assert stdout.index("paired difference with plain") < stdout.index("mean ± 95")
    directory = run_directory(tiny_run)
    journal = json.loads((directory / "journal.json").read_text("utf-8"))
    assert journal["result"] == "pass" and journal["verdicts"] == []
    assert (directory / "differences_ci.csv").is_file()


def test_run_with_neither_scenario_nor_resume_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--out", str(tmp_path / "r")])
    no_traceback(result)
    assert result.exit_code == 2
    assert not (tmp_path / "r").exists()
