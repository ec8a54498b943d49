"""``breakerlab calibrate``: fit dependencies from monitoring exports and write a model
that validates and runs: the base model with the calibrated dependencies replaced, a
steady-state scenario using it, the fragment alone, the fit table and the QQ plots."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.calibration.calls_csv import read_calls_csv
from sim.calibration.per_dependency import (
    DependencyCalibration,
    calibrate_calls,
    calibrate_histograms,
    dependency_fragment,
    fit_table,
    merge_sources,
)
from sim.calibration.prometheus import read_prometheus
from sim.config import ShopModel, load_model, load_scenario
from sim.config.yamlio import load_yaml
from sim.errors import ConfigError
from sim.format import CSV_FLOATS
from sim.report.calibration_plots import qq_plot

DEFAULT_BASE = Path("models/reference_shop.yaml")
FILES = ("model.yaml", "scenario.yaml", "dependencies.yaml", "fit.csv", "qq.png")


@dataclass(frozen=True)
class CalibrationResult:
    """What the CLI prints: the directory and files written, each dependency's latency
    fit (``lognormal``, ``empirical``, ``constant`` or ``kept``), and notes to read."""

    directory: Path
    written: list[Path]
    fits: dict[str, str]
    notes: list[str] = field(default_factory=list)


def default_base() -> Path:
    """models/reference_shop.yaml here, else the reference shop shipped with breakerlab (a
    user with only the wheel has no models/ folder until ``breakerlab init``)."""
    if DEFAULT_BASE.is_file():
        return DEFAULT_BASE
    from sim.examples import examples_root

    return examples_root() / DEFAULT_BASE


def default_output(inputs: Sequence[str | Path]) -> Path:
    return Path("reports") / "calibration" / Path(inputs[0]).stem


def calibrate(
    inputs: Sequence[str | Path],
    out: str | Path | None = None,
    base: str | Path | None = None,
    label: str = "dependency",
) -> CalibrationResult:
    """Read every input (``.csv`` per-call records, ``.json`` Prometheus range query),
    fit each dependency and write the files to ``out`` (default
    ``reports/calibration/<first input's name>/``), all or nothing. ``label`` is the
    Prometheus label naming the dependency. Bad input raises ConfigError, nothing written."""
    if not inputs:
        raise ConfigError("give at least one input file (.csv calls or .json Prometheus)")
    groups = []
    for item in inputs:
        path = Path(item)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            groups.append(calibrate_calls(read_calls_csv(path)))
        elif suffix == ".json":
            groups.append(calibrate_histograms(read_prometheus(path, label), str(path)))
        else:
            message = "unknown input: give a .csv of calls or a .json Prometheus range query"
            raise ConfigError(message, file=path)
    calibrations = merge_sources(groups)
    base_path = Path(base) if base is not None else default_base()
    if not base_path.is_file():
        raise ConfigError("base model not found: give the model to calibrate (--base)", file=base)
    shop = load_model(base_path)
    raw, _ = load_yaml(base_path)
    sources = ", ".join(str(i) for i in inputs)
    model, notes = calibrated_model(raw, shop, calibrations, sources, str(base_path))
    texts: dict[str, str | bytes] = {
        "model.yaml": _yaml(
            model,
            f"Calibrated by breakerlab calibrate from {sources} on top "
            f"of {base_path}; fit.csv and qq.png say how well it fits.",
        ),
        "scenario.yaml": _yaml(
            steady_scenario(model["name"], shop, calibrations),
            "A steady-state run of the calibrated model: breakerlab run this file.",
        ),
        "dependencies.yaml": _yaml(
            {"dependencies": {c.name: dependency_fragment(c) for c in calibrations}},
            f"The calibrated dependencies alone (from {sources}), to merge into any model.",
        ),
        "fit.csv": fit_table(calibrations).to_csv(index=False, float_format=CSV_FLOATS),
    }
    plot = qq_plot(calibrations)
    if plot is not None:
        texts["qq.png"] = plot
    target = Path(out) if out is not None else default_output(inputs)
    written = _write_all(texts, target)
    fits = {c.name: c.latency.kind if c.latency is not None else "kept" for c in calibrations}
    return CalibrationResult(target, written, fits, notes)


def calibrated_model(
    raw: dict[str, Any],
    shop: ShopModel,
    calibrations: list[DependencyCalibration],
    sources: str,
    base: str,
) -> tuple[dict[str, Any], list[str]]:
    """The base model's YAML data with each calibrated dependency's latency, errors,
    capacity and (gateways only) decline rate replaced; the notes say what was kept."""
    model = dict(raw)
    model["name"] = f"{shop.name}-calibrated"
    model["description"] = f"{shop.name} with dependencies calibrated from {sources}"
    dependencies = {name: dict(spec) for name, spec in raw["dependencies"].items()}
    gateways = shop.stages.payment.gateways
    notes: list[str] = []
    for cal in calibrations:
        notes += [f"{cal.name}: {note}" for note in cal.notes]
        fragment = dependency_fragment(cal)
        entry = dependencies.get(cal.name)
        if entry is None:
            if "latency" not in fragment:
                notes.append(f"{cal.name}: not in {base} and no latency fitted: left out")
                continue
            notes.append(f"{cal.name}: not in {base}: added, but no stage calls it")
            entry = dependencies[cal.name] = {}
        elif "latency" not in fragment:
            notes.append(f"{cal.name}: latency kept from {base}")
        if "capacity" not in fragment and "capacity" in entry:
            notes.append(f"{cal.name}: no saturation seen; capacity {entry['capacity']} kept")
        if cal.name in gateways:
            fragment.setdefault("decline_rate", "0%")
        elif fragment.pop("decline_rate", None) is not None:
            notes.append(f"{cal.name}: declines seen, but it is no payment gateway: left out")
        entry.update(fragment)
    untouched = [n for n in dependencies if n not in {c.name for c in calibrations}]
    if untouched:
        notes.append(f"not in the data, kept from {base}: {', '.join(untouched)}")
    model["dependencies"] = dependencies
    return model, notes


def steady_scenario(
    model_name: str, shop: ShopModel, calibrations: list[DependencyCalibration]
) -> dict[str, Any]:
    """Ten minutes of steady traffic at the rate the inventory stage's dependency saw
    (one call per order), or 10/s when the data does not hold it."""
    by_name = {c.name: c for c in calibrations}
    inventory = by_name.get(shop.stages.inventory.dependency)
    rate = inventory.calls_per_second if inventory and inventory.calls_per_second > 0 else 10.0
    return {
        "name": re.sub(r"[^A-Za-z0-9_.-]", "-", f"{model_name}-steady").lstrip("-_.") or "steady",
        "description": "Steady traffic against the calibrated model, to check it runs and "
        "to compare with production before using the model in outage scenarios.",
        "model": "model.yaml",
        "horizon": "10m",
        "warmup": "1m",
        "seed": 1,
        "replications": 2,
        "traffic": {
            "rate": f"{rate:.3g}/s",
            "basket": {"lognormal": {"median": 60, "p99": 400}},
            "patience": {"exponential": {"mean": "25s"}},
        },
        "configurations": {
            "as-observed": {"description": "the model's timeouts; no retry, no breaker"}
        },
    }


def _yaml(data: dict[str, Any], comment: str) -> str:
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return f"# {comment}\n{body}"


def _write_all(files: dict[str, str | bytes], target: Path) -> list[Path]:
    """Write every file into a staging directory beside ``target``, check the model and
    scenario load, then move them in: a failure leaves ``target`` as it was."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".breakerlab-calibrate-", dir=target.parent))
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror or exc}", file=target) from None
    try:
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            (staging / name).write_bytes(data)
        try:
            load_model(staging / "model.yaml")
            load_scenario(staging / "scenario.yaml")
        except ConfigError as exc:  # the inputs were checked: this is breakerlab's fault
            raise ConfigError(f"the calibrated model does not validate (a bug): {exc}") from None
        target.mkdir(exist_ok=True)
        for name in files:
            (staging / name).replace(target / name)
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror or exc}", file=target) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [target / name for name in FILES if name in files]
