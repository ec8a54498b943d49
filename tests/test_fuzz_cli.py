"""Fuzzing the CLI with mutated shipped scenarios and models (issue 20).

Hypothesis takes a shipped scenario (made small: a 3-minute horizon, two configurations, one
replication), mutates it or the model it uses (a value scaled or replaced by a hostile one,
a key removed, added or renamed, the text cut, garbled or given a YAML bomb), and drives the
CLI in this process: ``validate``, and ``run`` for one in four valid mutants small enough
to run quickly. Every outcome must be one the README promises: exit 0, 1 or 2, never a
traceback; on exit 2, one line per problem naming the input file (at most five, then how
many more), nothing written; on exit 0, nothing on stderr; and each command finishes within
a generous bound (not a timing assertion: a hang or a runaway is the failure looked for).

Fast by default (20 fixed examples, ~10 s); ``BREAKERLAB_FUZZ_EXAMPLES=1000`` searches
longer with fresh random examples (add ``--hypothesis-show-statistics`` for the outcomes).
It found a control character at the start of a file being an internal error.
"""

from __future__ import annotations

import copy
import math
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from sim.cli import app
from sim.config import load_scenario
from sim.errors import BreakerlabError
from sim.experiment.sizing import estimate
from tests.conftest import MODEL, ROOT

runner = CliRunner()
EXAMPLES = int(os.environ.get("BREAKERLAB_FUZZ_EXAMPLES", "0"))
BOUND = 120.0  # seconds a command may take: generous; a hang or a runaway is what fails
RUN_ORDERS = 20_000  # a valid mutant with at most this many orders is run, not only validated


def shrink(data: dict[str, Any]) -> dict[str, Any]:
    """A shipped scenario made quick to run: a 3-minute horizon, one replication, its
    first two configurations, its faults and changes moved into the horizon."""
    data = copy.deepcopy(data)
    data.update(horizon="3m", warmup="20s", replications=1)
    data.get("traffic", {}).pop("profile", None)
    data.pop("recovery", None)
    data["faults"] = [dict(f, start="1m") for f in data.get("faults", [])[:2]]
    names = list(data["configurations"])[:2]
    data["configurations"] = {n: data["configurations"][n] for n in names}
    if data.get("baseline") not in names:
        data.pop("baseline", None)
    data["hypotheses"] = [
        h
        for h in data.get("hypotheses", [])
        if not isinstance(h, dict) or set(h.get("configurations") or []) <= set(names)
    ]
    for rule in data.get("rules", []):
        if rule.get("configurations"):
            rule["configurations"] = [n for n in rule["configurations"] if n in names] or None
    changes = []
    for change in data.get("config_changes", []):
        if change.get("configurations"):
            change["configurations"] = [n for n in change["configurations"] if n in names]
            if not change["configurations"]:
                continue
        change["at"] = "40s"
        if "until" in change:
            change["until"] = "2m"
        changes.append(change)
    data["config_changes"] = changes
    for fault in data["faults"]:
        if fault.get("kind") == "trace":
            fault["file"] = str(ROOT / "scenarios" / fault["file"])
    return data


def _bases() -> dict[str, dict[str, Any]]:
    """Every shipped scenario that still validates once shrunk, by file name."""
    found = {}
    with tempfile.TemporaryDirectory() as folder:
        for path in sorted((ROOT / "scenarios").glob("*.yaml")):
            data = yaml.safe_load(path.read_text("utf-8"))
            if not isinstance(data, dict) or "configurations" not in data:
                continue
            small = shrink(data)
            small["model"] = str(MODEL)
            target = Path(folder) / path.name
            target.write_text(yaml.safe_dump(small, sort_keys=False), encoding="utf-8")
            try:
                load_scenario(target)
            except BreakerlabError:
                continue
            found[path.name] = small
    return found


BASES = _bases()
SHOP = yaml.safe_load(MODEL.read_text("utf-8"))


# --------------------------------------------------------------------------- mutations


ODD_VALUES = ["1e308", "-1s", "0", "0/s", "1e9/s", "100000h", "NaN", "inf", "50", "2%", "150%"]
ODD_VALUES += ["abc", "", "primary", "<script>x</script>", "\x00", "a:b", "10/d", "1e-300s"]
HOSTILE = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(ODD_VALUES),
    st.none(),
    st.booleans(),
    st.lists(st.integers(min_value=-5, max_value=10**12), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)
BOMBS = [
    "\nextra:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)),
    "\nextra: &x {y: *x}\n",
    "\nextra: " + "[" * 5000 + "]" * 5000 + "\n",
]


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key and index path in ``data``."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


def parent_of(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


NUMBER = re.compile(r"^(-?[0-9.]+(?:e[-+]?[0-9]+)?)(.*)$")


def scaled(value: Any, factor: float) -> Any:
    """A number, or a number with a unit (``30s``, ``12/s``, ``2%``), times ``factor``;
    anything else as it is. Mostly still valid: it changes what runs, not whether."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return type(value)(value * factor) if math.isfinite(value * factor) else value
    match = NUMBER.match(value) if isinstance(value, str) else None
    if match is None:
        return value
    return f"{float(match.group(1)) * factor:g}{match.group(2)}"


@st.composite
def mutant_data(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with one change: a value scaled (mostly still valid) or replaced by a
    hostile one, a key removed, added or renamed."""
    data = copy.deepcopy(data)
    path = draw(st.sampled_from(paths(data)))
    parent, key = parent_of(data, path), path[-1]
    change = draw(
        st.sampled_from(["scale", "scale", "replace", "replace", "remove", "add", "rename"])
    )
    if change == "scale":
        parent[key] = scaled(parent[key], draw(st.sampled_from([0, 0.1, 0.5, 2, 10, 1000, -1])))
    elif change == "replace":
        parent[key] = draw(HOSTILE)
    elif change == "remove":
        del parent[key]
    elif change == "add" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=12))] = draw(HOSTILE)
    elif change == "rename" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=12))] = parent.pop(key)
    return data


@st.composite
def mutant_text(draw: st.DrawFn, data: dict[str, Any]) -> str:
    """``data`` as YAML, structurally mutated, or its text cut, garbled or bombed."""
    how = draw(st.sampled_from(["structure", "structure", "structure", "cut", "garble", "bomb"]))
    if how == "structure":
        return yaml.safe_dump(draw(mutant_data(data)), sort_keys=False, allow_unicode=True)
    text = yaml.safe_dump(data, sort_keys=False)
    if how == "bomb":
        return text + draw(st.sampled_from(BOMBS))
    at = draw(st.integers(min_value=0, max_value=len(text)))
    if how == "cut":
        return text[:at]
    return text[:at] + draw(st.text(min_size=1, max_size=12)) + text[at:]


# --------------------------------------------------------------------------- the test


def runnable(scenario: Path) -> bool:
    """A valid mutant small enough to run in a second or two."""
    try:
        loaded = load_scenario(scenario)
    except BreakerlabError:
        return False
    size = estimate(loaded, len(loaded.scenario.configurations))
    return size.orders <= RUN_ORDERS and size.run_bytes <= 256 * 1024**2


def check(result: Result, elapsed: float, inputs: list[Path], out: Path) -> None:
    """What the README promises of every outcome."""
    output = f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.exit_code in (0, 1, 2), output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in result.stdout + result.stderr, output
    assert elapsed < BOUND, f"took {elapsed:.0f} s\n{output}"
    if result.exit_code == 0:
        assert result.stderr == "", output
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert 1 <= len(lines) <= 6, output  # five problems, then "and N more"
        assert lines[0].startswith("error: "), output
        for line in [lines[0].removeprefix("error: "), *lines[1:]]:
            assert any(line.startswith(f"{path}") for path in inputs), output
        assert not out.exists() or not any(out.iterdir()), output


@pytest.mark.slow
@pytest.mark.skipif(not BASES, reason="no shipped scenario validates once shrunk")
@settings(
    max_examples=EXAMPLES or 20,
    derandomize=not EXAMPLES,  # the default set is fixed: the same in CI every time
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_mutated_inputs_get_a_promised_outcome(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(BASES)), label="scenario")
    which = data.draw(st.sampled_from(["scenario", "scenario", "model"]), label="mutated")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        scenario, model, out = root / "scenario.yaml", root / "shop.yaml", root / "reports"
        base = dict(BASES[name], model=str(model))
        shop = yaml.safe_dump(SHOP, sort_keys=False)
        if which == "scenario":
            text = data.draw(mutant_text(base), label="scenario text")
        else:
            text, shop = yaml.safe_dump(base, sort_keys=False), data.draw(mutant_text(SHOP))
        scenario.write_text(text, encoding="utf-8")
        model.write_text(shop, encoding="utf-8")
        inputs = [root, ROOT / "scenarios" / "incidents"]  # the inputs, or a file they name
        started = time.monotonic()
        result = runner.invoke(app, ["validate", str(scenario)])
        check(result, time.monotonic() - started, inputs, out)
        event(f"validate: exit {result.exit_code}")
        # Running takes a second or two (the report's figures): one valid mutant in four.
        chosen = data.draw(st.integers(min_value=0, max_value=3), label="run it") == 0
        if result.exit_code == 0 and chosen and runnable(scenario):
            args = ["run", str(scenario), "--workers", "1", "--quiet", "--out", str(out)]
            started = time.monotonic()
            result = runner.invoke(app, args)
            check(result, time.monotonic() - started, inputs, out)
            event(f"run: exit {result.exit_code}")
