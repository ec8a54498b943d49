"""A run at the extremes still reports: small scenarios drawn by Hypothesis (rates from
almost nothing to very high, patience from zero to unbounded, declines and errors at 0 and
100 %, outages over none, part or all of the horizon, one or two gateways, warm-ups longer
than the horizon) go through the real ``breakerlab run`` down to report.html. Each exits 0
with every file written and the invariants holding, or exits 2 with a message naming the
file and line when the input is genuinely invalid; never a traceback."""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.analysis import dynamics, mitigations, plotdata
from sim.analysis.load import load_run
from sim.analysis.plotdata import causes_shown, revenue_lost
from sim.cli import app
from sim.report import dynamics_plots, mitigation_plots, plots
from sim.report.figures import png

runner = CliRunner()
REPORT_FILES = (
    "summary.csv",
    "summary_ci.csv",
    "differences_ci.csv",
    "transitions.parquet",
    "run.json",
    "journal.json",
    "configurations.yaml",
    "report.md",
    "report.html",
)
BAD_INPUT = re.compile(r"^error: \S+:\d+: \S.*", re.MULTILINE)
OUTCOMES = ("completed", "abandoned", "failed", "declined")
FAST = {"latency": {"constant": "20ms"}}


def model(gateways: int, decline: str, errors: str) -> dict[str, Any]:
    """A small shop: fast dependencies, ``gateways`` gateways, the primary declining and
    failing (server errors) at the given rates."""
    names = ["gw_a", "gw_b"][:gateways]
    dependencies: dict[str, Any] = {
        name: {"latency": {"constant": "100ms"}, "fee": {"percent": "2%", "fixed": 0.3}}
        for name in names
    }
    dependencies["gw_a"] |= {"decline_rate": decline, "errors": {"server_error": errors}}
    for name in ("inventory", "orders_db", "warehouse", "in_app", "email", "sms"):
        dependencies[name] = dict(FAST)
    return {
        "name": f"shop-{gateways}-gateways",
        "checkout": {"nodes": 1, "workers": 8},
        "stages": {
            "inventory": {"dependency": "inventory", "timeout": "1s"},
            "payment": {"gateways": names, "timeout": "1s"},
            "order_record": {"dependency": "orders_db", "timeout": "1s"},
            "fulfillment": {"dependency": "warehouse", "timeout": "1s"},
            "notification": {"in_app": "in_app", "email": "email", "sms": "sms", "timeout": "1s"},
        },
        "dependencies": dependencies,
    }


OUTAGES = {
    "none": [],
    "part": [{"target": "gw_a", "kind": "outage", "start": "3s", "duration": "4s"}],
    "all": [{"target": "gw_a", "kind": "outage", "start": "0s", "duration": "10m"}],
}
PATIENCE = {
    "zero": {"constant": "0s"},
    "short": {"exponential": {"mean": "2s"}},
    "unbounded": {"constant": "1000h"},
}


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A scenario and its model, as the YAML a user would write."""
    gateways = draw(st.sampled_from([1, 2]))
    horizon = draw(st.sampled_from([8, 15]))
    breaker = {
        "timeout": "500ms",
        "breaker": {
            "failure_rate_threshold": "50%",
            "sliding_window_size": 5,
            "minimum_number_of_calls": 3,
            "wait_duration_in_open_state": "2s",
        },
    }
    if gateways == 2:
        breaker["fallback"] = "gw_b"
    return {
        "model": model(
            gateways, draw(st.sampled_from(["0%", "100%"])), draw(st.sampled_from(["0%", "100%"]))
        ),
        "scenario": {
            "name": "extreme",
            "model": "model.yaml",
            "horizon": f"{horizon}s",
            # One in five longer than the horizon: refused, exit 2.
            "warmup": draw(st.sampled_from(["0s", "0s", "2s", "2s", f"{horizon + 5}s"])),
            "seed": draw(st.integers(0, 1000)),
            "replications": draw(st.sampled_from([1, 2])),
            "traffic": {
                "rate": draw(st.sampled_from(["0.001/s", "1/s", "40/s", "400/s"])),
                "basket": {"constant": 50},
                "patience": PATIENCE[draw(st.sampled_from(sorted(PATIENCE)))],
            },
            "faults": OUTAGES[draw(st.sampled_from(sorted(OUTAGES)))],
            "configurations": {"plain": {}, "breaker": {"payment": breaker}},
        },
    }


def run(drawn: dict[str, Any], root: Path) -> tuple[int, str, Path]:
    (root / "model.yaml").write_text(yaml.safe_dump(drawn["model"]), encoding="utf-8")
    path = root / "scenario.yaml"
    path.write_text(yaml.safe_dump(drawn["scenario"], sort_keys=False), encoding="utf-8")
    out = root / "reports"
    result = runner.invoke(app, ["run", str(path), "--out", str(out), "--workers", "1"])
    return result.exit_code, result.output, out


def check_run(directory: Path) -> None:
    """Every file written, every figure report.md links present, and the invariants."""
    for name in REPORT_FILES:
        assert (directory / name).is_file(), f"no {name}"
    for table in ("orders", "timeline"):
        assert list((directory / table).glob("*.parquet")), f"no {table}"
    markdown = (directory / "report.md").read_text("utf-8")
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", markdown):
        assert (directory / image).is_file(), f"report.md links a missing {image}"
    html = (directory / "report.html").read_text("utf-8")
    assert html.rstrip().endswith("</html>")
    for text in (markdown, re.sub(r'src="data:[^"]*"', "", html)):
        assert not re.search(r"\bnan\b", text, re.IGNORECASE), "NaN shown instead of a dash"
    summary = pd.read_csv(directory / "summary.csv")
    assert (summary[list(OUTCOMES)].sum(axis=1) == summary["orders"]).all()
    money = summary[["revenue_captured", "fees", "revenue_lost", "revenue_declined"]].sum(axis=1)
    assert ((money - summary["revenue_demanded"]).abs() < 1e-3).all()
    lost = revenue_lost(summary)
    for _, row in lost.iterrows():
        assert math.isclose(sum(row[c] for c in causes_shown(lost)), row["total"], abs_tol=1e-3)
    no_completed = summary["completed"] == 0
    assert summary.loc[no_completed, "checkout_p99_s"].isna().all()
    orders = pd.read_parquet(directory / "orders")
    counted = orders[~orders["warmup"]]
    assert len(counted) == summary["orders"].sum()


@pytest.mark.slow
@settings(
    max_examples=7,
    deadline=None,
    derandomize=True,  # the same scenarios on every run of the suite
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenarios())
@example(  # the first reproduction: the only gateway down for the whole horizon
    {
        "model": model(1, "0%", "0%"),
        "scenario": {
            "name": "extreme",
            "model": "model.yaml",
            "horizon": "60s",
            "seed": 1,
            "replications": 1,
            "traffic": {"rate": "5/s", "basket": {"constant": 50}, "patience": PATIENCE["short"]},
            "faults": [{"target": "gw_a", "kind": "outage", "start": "0s", "duration": "10m"}],
            "configurations": {"plain": {}},
            "hypotheses": ["checkout_p99_s < 2"],  # no completed order: no data, inconclusive
        },
    }
)
@example(  # the second: every payment declined
    {
        "model": model(1, "100%", "0%"),
        "scenario": {
            "name": "extreme",
            "model": "model.yaml",
            "horizon": "60s",
            "seed": 1,
            "replications": 1,
            "traffic": {"rate": "5/s", "basket": {"constant": 50}, "patience": PATIENCE["short"]},
            "configurations": {"plain": {}},
        },
    }
)
@example(  # a single order (seed 0 draws exactly one arrival in 15 s at 0.1/s)
    {
        "model": model(1, "0%", "0%"),
        "scenario": {
            "name": "extreme",
            "model": "model.yaml",
            "horizon": "15s",
            "seed": 0,
            "replications": 1,
            "traffic": {
                "rate": "0.1/s",
                "basket": {"constant": 50},
                "patience": PATIENCE["unbounded"],
            },
            "configurations": {"plain": {}},
        },
    }
)
@example(  # every order abandoned: no patience at all
    {
        "model": model(2, "0%", "0%"),
        "scenario": {
            "name": "extreme",
            "model": "model.yaml",
            "horizon": "15s",
            "seed": 1,
            "replications": 2,
            "traffic": {"rate": "40/s", "basket": {"constant": 50}, "patience": PATIENCE["zero"]},
            "configurations": {"plain": {}},
        },
    }
)
def test_an_extreme_scenario_reports_or_is_refused_cleanly(drawn: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        code, output, out = run(drawn, Path(tmp))
        assert "Traceback" not in output, output
        if code == 2:
            assert BAD_INPUT.search(output), f"exit 2 without a file:line message:\n{output}"
            assert not out.exists(), "bad input must leave nothing behind"
            return
        assert code == 0, output
        (directory,) = out.glob("extreme/*/")
        check_run(directory)


@pytest.mark.slow
def test_every_series_and_drawing_takes_a_run_without_orders(tmp_path: Path) -> None:
    """The analysis and drawing functions the report does not reach on every run (a
    notebook's series, transitions, per-second calls) on a run where nothing arrived."""
    drawn = {
        "model": model(2, "0%", "0%"),
        "scenario": {
            "name": "extreme",
            "model": "model.yaml",
            "horizon": "10s",
            "seed": 1,
            "replications": 1,
            "traffic": {
                "rate": "0.001/s",
                "basket": {"constant": 50},
                "patience": PATIENCE["zero"],
            },
            "configurations": {"plain": {}},
        },
    }
    code, output, out = run(drawn, tmp_path)
    assert code == 0, output
    data = load_run(next(out.glob("extreme/*/")))
    assert data.orders.empty
    faults = plotdata.fault_windows(data.loaded.scenario)
    series = dynamics.series_over_time(data.timeline, ["completed", "arrivals"], bin_s=2)
    assert (series["completed"] == 0).all()
    figures = [
        dynamics_plots.series_lines(series, "completed", faults, "orders/s", "Goodput", 10.0),
        dynamics_plots.amplification_lines(dynamics.call_amplification(data.timeline, 10), faults),
        plots.latency_lines(plotdata.latency_over_time(data.orders, 10, bin_s=2), faults, 10.0),
        mitigation_plots.gateway_share_areas(mitigations.gateway_shares(data.orders, 10), faults),
        mitigation_plots.confirmation_bars(mitigations.confirmations(data.summary)),
    ]
    assert all(png(fig) for fig in figures)
    assert dynamics.breaker_trips(data.transitions, 1).empty
    assert dynamics.dependency_calls(data.timeline)["inventory"].sum() == 0
    assert plotdata.breaker_states(data.timeline).empty
