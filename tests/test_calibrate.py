"""breakerlab calibrate end to end: readers' errors name file, line and column and write
nothing; the sample inputs give a model that validates and runs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.app.calibrate import calibrate
from sim.calibration.calls_csv import read_calls_csv
from sim.calibration.prometheus import read_prometheus
from sim.config import LoadedScenario, load_model, load_scenario
from sim.engine.simulation import simulate
from sim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "models" / "calibration"
CALLS = SAMPLES / "sample_calls.csv"
PROMETHEUS = SAMPLES / "sample_prometheus.json"
BASE = ROOT / "models" / "reference_shop.yaml"

GOOD = "timestamp,dependency,latency,status\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("timestamp,dependency,latency,statuz\n1,a,0.1,ok\n", 1, "statuz", "unknown column"),
        ("# comment\n\n" + GOOD + "1,a,0.1,ok\n2,a,fast,ok\n", 5, "latency", "non-numeric"),
        (GOOD + "1,a,0.1,ok\n2,a,,ok\n", 3, "latency", "latency missing"),
        (GOOD + "1,a,-0.1,ok\n", 2, "latency", "negative"),
        (GOOD + "1,a,0.1,ok\n2,a,0.1,teapot\n", 3, "status", "unknown status"),
        (GOOD + "1,a,0.1,418\n", 2, "status", "unknown status"),
        (GOOD + "yesterday,a,0.1,ok\n", 2, "timestamp", "ISO 8601"),
        (GOOD + "1,a b,0.1,ok\n", 2, "dependency", "letters, digits"),
        (GOOD + "1,a,0.1\n", 2, "", "expected 4 values"),
        (GOOD, 1, "", "no usable rows"),
        ("# only a comment\n", 1, "", "no usable rows"),
        ("timestamp,dependency,status\n1,a,ok\n", 1, "", "'latency' or 'latency_ms'"),
    ],
)
def test_csv_errors_name_file_line_and_column(
    tmp_path: Path, text: str, line: int, column: str, message: str
) -> None:
    path = write(tmp_path, "calls.csv", text)
    with pytest.raises(ConfigError) as caught:
        read_calls_csv(path)
    error = caught.value
    assert (error.file, error.line, error.path) == (str(path), line, column)
    assert message in error.message


def test_csv_accepts_codes_milliseconds_iso_times_and_blank_timeouts(tmp_path: Path) -> None:
    text = (
        "timestamp,dependency,latency_ms,category\n"
        "2026-03-14T10:00:00Z,primary,350,200\n"
        "2026-03-14T10:00:01.5Z,primary,,timeout\n"
        "2026-03-14T10:00:02Z,primary,120,402\n"
        "2026-03-14T10:00:03Z,primary,90,503\n"
    )
    frame = read_calls_csv(write(tmp_path, "calls.csv", text)).frame
    assert frame["outcome"].tolist() == ["ok", "timeout", "declined", "server_error"]
    assert frame["start"].tolist() == [0.0, 1.5, 2.0, 3.0]
    assert frame["latency"].iloc[0] == pytest.approx(0.35)
    assert np.isnan(frame["latency"].iloc[1])


def prometheus(result: list[dict[str, object]]) -> str:
    document = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return json.dumps(document, indent=2)


def bucket(le: str, values: list[list[object]], **labels: str) -> dict[str, object]:
    metric = {"__name__": "h_bucket", "dependency": "primary", "le": le, **labels}
    return {"metric": metric, "values": values}


def test_prometheus_errors_name_the_line_and_field(tmp_path: Path) -> None:
    series = [
        bucket("0.5", [[0, "1"], [15, "5"]]),
        bucket("+Inf", [[0, "2"], [15, "9"]]),
        {
            "metric": {"__name__": "c_total", "dependency": "primary", "category": "oops"},
            "values": [[0, "0"], [15, "1"]],
        },
    ]
    path = write(tmp_path, "p.json", prometheus(series))
    with pytest.raises(ConfigError) as caught:
        read_prometheus(path)
    error = caught.value
    assert error.path == "data.result[2].metric.category"
    assert error.line is not None
    assert '"category": "oops"' in path.read_text().splitlines()[error.line - 1]

    series[2] = bucket("half", [[0, "0"]])
    path = write(tmp_path, "p.json", prometheus(series))
    with pytest.raises(ConfigError, match="le 'half' is not a number"):
        read_prometheus(path)

    series[2] = bucket("1", [[0, "many"]])
    path = write(tmp_path, "p.json", prometheus(series))
    with pytest.raises(ConfigError) as caught:
        read_prometheus(path)
    assert caught.value.path == "data.result[2].values[0]"

    path = write(tmp_path, "p.json", '{"status": "success",\n "data": [}')
    with pytest.raises(ConfigError, match="malformed JSON") as caught:
        read_prometheus(path)
    assert caught.value.line == 2

    path = write(tmp_path, "p.json", prometheus([bucket("1", [[0, "1"]])]))
    with pytest.raises(ConfigError, match="no 'shard' label"):
        read_prometheus(path, label="shard")


def test_prometheus_counters_take_their_increase_across_a_reset(tmp_path: Path) -> None:
    series = [
        bucket("0.5", [[0, "10"], [15, "14"], [30, "2"], [45, "5"]]),  # reset after 15 s
        bucket("+Inf", [[0, "10"], [15, "16"], [30, "3"], [45, "8"]]),
    ]
    (data,) = read_prometheus(write(tmp_path, "p.json", prometheus(series)))
    # Up to 0.5 s: 4 + 2 (from 0 after the reset) + 3; in all: 6 + 3 + 5, so 5 above.
    assert data.counts.tolist() == [9, 5]
    assert data.span == 45


@pytest.mark.slow
def test_sample_calls_give_a_model_that_validates_and_runs(tmp_path: Path) -> None:
    out = tmp_path / "calibrated"
    result = calibrate([CALLS], out=out, base=BASE)
    assert {p.name for p in result.written} == {
        "model.yaml",
        "scenario.yaml",
        "dependencies.yaml",
        "fit.csv",
        "qq.png",
    }
    assert result.fits == {
        "inventory_service": "lognormal",
        "orders_db": "lognormal",
        "primary": "lognormal",
        "secondary": "empirical",  # two populations: no lognormal fits
    }
    shop = load_model(out / "model.yaml")
    primary = shop.dependencies["primary"]
    assert primary.capacity is not None and 6 <= primary.capacity <= 9  # it serves 6 at once
    assert primary.latency.lognormal is not None
    assert primary.latency.lognormal.median == pytest.approx(0.35, rel=0.1)
    assert primary.latency.lognormal.p99 == pytest.approx(1.8, rel=0.15)
    assert primary.decline_rate == pytest.approx(0.03, abs=0.01)
    assert primary.fee is not None  # kept from the base model
    assert shop.dependencies["secondary"].latency.empirical is not None
    assert shop.dependencies["sms"] == load_model(BASE).dependencies["sms"]
    fragment = yaml.safe_load((out / "dependencies.yaml").read_text())
    assert set(fragment["dependencies"]) == set(result.fits)
    assert (out / "qq.png").read_bytes().startswith(b"\x89PNG")
    loaded = load_scenario(out / "scenario.yaml")
    short = loaded.scenario.model_copy(update={"horizon": 60.0, "warmup": 0.0})
    run = simulate(LoadedScenario(scenario=short, shop=loaded.shop), "as-observed")
    assert len(run.arrival) > 100


@pytest.mark.slow
def test_sample_prometheus_gives_a_model_that_validates(tmp_path: Path) -> None:
    result = calibrate([PROMETHEUS], out=tmp_path / "p", base=BASE)
    shop = load_model(tmp_path / "p" / "model.yaml")
    assert result.fits["secondary"] == "empirical"
    lognormal = shop.dependencies["orders_db"].latency.lognormal
    assert lognormal is not None and lognormal.median == pytest.approx(0.008, rel=0.15)
    # The in-flight gauge shows a full pool while calls wait: the primary's 6 servers.
    assert shop.dependencies["primary"].capacity == 6
    assert any("capacity 6: in-flight while calls wait" in note for note in result.notes)
    assert any("orders_db: capacity not estimated" in note for note in result.notes)


def test_bad_input_writes_nothing(tmp_path: Path) -> None:
    bad = write(tmp_path, "calls.csv", GOOD + "1,primary,0.1,ok\n2,primary,slow,ok\n")
    out = tmp_path / "out"
    with pytest.raises(ConfigError):
        calibrate([CALLS, bad], out=out, base=BASE)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["calls.csv"]  # no staging left behind
    with pytest.raises(ConfigError, match="also in"):
        calibrate([CALLS, PROMETHEUS], out=out, base=BASE)
    with pytest.raises(ConfigError, match="unknown input"):
        calibrate([write(tmp_path, "calls.txt", "x")], out=out, base=BASE)
    with pytest.raises(ConfigError, match="base model not found"):
        calibrate([CALLS], out=out, base=tmp_path / "none.yaml")
    assert not out.exists()


def test_declines_on_a_dependency_that_is_no_gateway_are_left_out(tmp_path: Path) -> None:
    rows = "".join(f"{i},orders_db,0.01,{'declined' if i % 10 == 0 else 'ok'}\n" for i in range(60))
    result = calibrate([write(tmp_path, "c.csv", GOOD + rows)], out=tmp_path / "o", base=BASE)
    assert load_model(tmp_path / "o" / "model.yaml").dependencies["orders_db"].decline_rate == 0
    assert any("no payment gateway" in note for note in result.notes)
    assert dataclasses.asdict(result)["fits"] == {"orders_db": "constant"}
