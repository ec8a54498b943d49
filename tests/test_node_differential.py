"""Differential tests: the "opossum" and "cockatiel" presets against the real npm packages.

Seeded random traces (tests/node_traces.py) run through the real opossum 9.0.0 and
cockatiel 3.2.1 (pinned by tests/js/package-lock.json, installed by ``make test`` with
``npm ci``) under @sinonjs/fake-timers, all traces of a library in one Node process
(tests/js/replay.js), and through the presets; after every event both must agree on which
calls ran, which were refused, the state and the number of openings.

Where Node.js or the packages are missing the tests skip, saying why; on CI (``CI`` set)
they fail instead, so CI always runs them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from node_traces import Trace, make_trace, replay_preset

JS = Path(__file__).resolve().parent / "js"
SEEDS = {"opossum": 20_261_205, "cockatiel": 20_261_206}
TRACES = 2_000
EVENTS = 100  # per trace
LEAST = {  # each corner the traces must reach, per library, or agreement means little
    "closed->open": 2_000,
    "open->half_open": 2_000,
    "half_open->open": 500,
    "half_open->closed": 500,
    "refused": 5_000,
}


def node_or_skip() -> str:
    """The node executable, or a skip (a failure on CI) saying what is missing."""
    node = shutil.which("node")
    reason = None
    if node is None:
        reason = "Node.js is not installed: the opossum/cockatiel differential tests need node 20+"
    elif not (JS / "node_modules" / "opossum").is_dir():
        reason = (
            "the npm packages are not installed: run `npm ci --prefix tests/js` (make test does)"
        )
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the JavaScript differential tests)")
        pytest.skip(reason)
    assert node is not None
    return node


def replay_real(node: str, library: str, traces: list[Trace]) -> list[list[Any]]:
    """Every trace through the real package, in one Node process."""
    request = json.dumps({"library": library, "traces": traces})
    done = subprocess.run(
        [node, str(JS / "replay.js")], input=request, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    observed: list[list[Any]] = json.loads(done.stdout)
    return observed


def traces_of(library: str, count: int = TRACES) -> list[Trace]:
    rng = np.random.default_rng(SEEDS[library])
    return [make_trace(library, rng, EVENTS) for _ in range(count)]


def compare(library: str, traces: list[Trace], real: list[list[Any]]) -> Counter[str]:
    """Event-by-event comparison; the first difference fails with the events before it.
    Returns the figures: traces, events compared, mismatches, and what was covered."""
    figures: Counter[str] = Counter()
    for index, (trace, theirs) in enumerate(zip(traces, real, strict=True)):
        ours = replay_preset(library, trace)
        state = "closed"
        for at, (mine, real_event) in enumerate(zip(ours, theirs, strict=True)):
            figures["events"] += 1
            if mine != real_event:
                figures["mismatches"] += 1
                first = max(0, at - 10)
                recent = "\n".join(
                    f"  {trace['events'][i]} preset {ours[i]} real {theirs[i]}"
                    for i in range(first, at + 1)
                )
                pytest.fail(
                    f"{library} trace {index} event {at}: preset {mine} != real {real_event}\n"
                    f"options {trace['params']}\nlast events (event, [ran, refused, state, "
                    f"openings]):\n{recent}"
                )
            figures["refused"] += len(mine[1])
            if mine[2] != state:
                figures[f"{state}->{mine[2]}"] += 1
                state = mine[2]
        figures["traces"] += 1
    return figures


@pytest.mark.slow
@pytest.mark.parametrize("library", ["opossum", "cockatiel"])
def test_preset_matches_the_real_package_event_by_event(library: str) -> None:
    node = node_or_skip()
    traces = traces_of(library)
    figures = compare(library, traces, replay_real(node, library, traces))
    assert figures["traces"] == TRACES and figures["events"] == TRACES * EVENTS
    assert figures["mismatches"] == 0
    for key, least in LEAST.items():
        assert figures[key] >= least, (key, dict(figures))


def test_a_wrong_rule_is_caught() -> None:
    """The comparison can fail: opossum with '>=' instead of '>' on the error percentage
    (a 50 % rate at a 50 % threshold) diverges from the real package."""
    node = node_or_skip()
    trace: Trace = {
        "params": {
            "errorThresholdPercentage": 50,
            "volumeThreshold": 0,
            "resetTimeout": 100,
            "rollingCountTimeout": 1000,
            "rollingCountBuckets": 10,
            "allowWarmUp": False,
            "errorFilter": [],
        },
        "events": [[0, "call", 0], [0, "call", 1], [1, "settle", 0.0, "timeout"]],
    }
    real = replay_real(node, "opossum", [trace])[0]
    assert real[-1][2] == "closed"  # 1 failure of 2 calls: 50 % is not above 50 %
    wrong = dict(trace, params=dict(trace["params"], errorThresholdPercentage=49.9))
    assert replay_preset("opossum", wrong)[-1][2] == "open"
    with pytest.raises(pytest.fail.Exception):
        compare("opossum", [wrong], [real])


def figures() -> dict[str, dict[str, int]]:
    """The published figures (docs/validation.md): ``python tests/test_node_differential.py``."""
    node = shutil.which("node")
    assert node is not None, "node is needed"
    out = {}
    for library in SEEDS:
        traces = traces_of(library)
        out[library] = dict(compare(library, traces, replay_real(node, library, traces)))
    return out


if __name__ == "__main__":
    print(json.dumps(figures(), indent=2))
