"""Options and choices several commands share, declared once (typer reads each from its
``Annotated`` type): the commands' signatures stay one line per option."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Aggregate(StrEnum):
    """How tuning combines a trial's results over several scenarios."""

    mean = "mean"
    worst = "worst"


class ExportFormat(StrEnum):
    """What ``export`` writes: a staging rehearsal, or a production configuration."""

    chaostoolkit = "chaostoolkit"
    toxiproxy = "toxiproxy"
    resilience4j = "resilience4j"
    dotnet = "dotnet"
    envoy = "envoy"
    istio = "istio"
    hystrix = "hystrix"
    opossum = "opossum"
    cockatiel = "cockatiel"
    pybreaker = "pybreaker"


class ImportFormat(StrEnum):
    """What ``import`` reads."""

    resilience4j = "resilience4j"
    dotnet = "dotnet"
    envoy = "envoy"
    istio = "istio"
    hystrix = "hystrix"
    opossum = "opossum"
    cockatiel = "cockatiel"
    pybreaker = "pybreaker"


# Options shared by run, sweep and tune, declared once.
Replications = Annotated[
    int | None, typer.Option(min=1, metavar="N", help="override the scenario's")
]
Seed = Annotated[int | None, typer.Option(min=0, metavar="N", help="override the scenario's")]
OutDir = Annotated[
    Path,
    typer.Option(
        "--out", metavar="DIR", help="reports root: the report goes in a new folder under it"
    ),
]
Workers = Annotated[
    int | None, typer.Option(min=1, metavar="N", help="processes (default: all cores)")
]
Scheduler = Annotated[
    str | None,
    typer.Option(metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786"),
]
DaskLocal = Annotated[
    int | None, typer.Option(min=1, metavar="N", help="start a local Dask cluster of N")
]
Configuration = Annotated[
    str | None, typer.Option(metavar="NAME", help="configuration to vary (default: the baseline)")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar, no tables")]
AsJson = Annotated[
    bool, typer.Option("--json", help="only the results, as one JSON document on stdout")
]
Objective = Annotated[
    str | None,
    typer.Option(
        metavar="METRIC",
        help="metric the decision is made on, METRIC or METRIC:max [default: revenue_lost]",
    ),
]
Indifference = Annotated[
    str | None,
    typer.Option(
        metavar="AMOUNT",
        help="δ, the smallest difference worth acting on: a share of the base's mean "
        "('2%') or an amount in the metric's unit (500, 200ms) [default: 2%]",
    ),
]
TrustCode = Annotated[
    bool,
    typer.Option(
        "--trust-code", help="with --resume: import the breaker classes the directory names"
    ),
]
AllowLarge = Annotated[
    bool,
    typer.Option(
        "--allow-large", help="run even when the size estimate exceeds this machine's memory"
    ),
]
ScenarioArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="SCENARIO", help="scenario YAML file or shipped scenario name (not with --resume)"
    ),
]


# run's own
Baseline = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="configuration to compare with (default: scenario's)"),
]
PrecisionTarget = Annotated[
    str | None,
    typer.Option(
        metavar="TARGET", help="replicate until the 95 % half-width is below this: '5%' or 0.5"
    ),
]
PrecisionMetric = Annotated[
    str | None,
    typer.Option(metavar="METRIC", help="metric --precision applies to (default revenue_lost)"),
]
MaxReplications = Annotated[
    int | None, typer.Option(min=2, metavar="N", help="cap for --precision (default 50)")
]
Warmup = Annotated[
    str | None,
    typer.Option(metavar="DURATION", help="override the scenario's warm-up, e.g. 10m"),
]
ResumeRun = Annotated[
    Path | None,
    typer.Option(metavar="DIR", help="finish an interrupted run directory (no SCENARIO)"),
]
Strict = Annotated[bool, typer.Option("--strict", help="exit 1 on an inconclusive hypothesis too")]

# sweep's own
SweepParams = Annotated[
    list[str] | None,
    typer.Option(
        metavar="PATH=VALUES",
        help="PATH=start:stop:count, PATH=a,b,c, or PATH=low:high with --lhs; repeatable",
    ),
]
Lhs = Annotated[
    int | None,
    typer.Option(min=2, metavar="N", help="N Latin-hypercube points instead of a grid"),
]
SweepConstraints = Annotated[
    list[str] | None,
    typer.Option(
        metavar="CHECK",
        help="a pick must meet it on its whole interval, e.g. 'checkout_p99_s<2'",
    ),
]
ResumeSweep = Annotated[
    Path | None,
    typer.Option(metavar="DIR", help="finish an interrupted sweep directory (no SCENARIO)"),
]

# tune's own
TuneScenarios = Annotated[
    list[str] | None,
    typer.Argument(metavar="SCENARIO...", help="scenario files, directories or shipped names"),
]
MoreScenarios = Annotated[
    list[str] | None,
    typer.Option("--scenario", metavar="SCENARIO", help="more scenarios (repeatable)"),
]
TuneParams = Annotated[
    list[str] | None,
    typer.Option(metavar="PATH=VALUES", help="PATH=LOW:HIGH[:log] or PATH=a,b,c; repeatable"),
]
TuneObjectives = Annotated[
    list[str] | None,
    typer.Option(metavar="METRIC", help="metric to minimise (METRIC:max); two for Pareto"),
]
TuneConstraints = Annotated[
    list[str] | None,
    typer.Option(metavar="CHECK", help="e.g. 'checkout_p99_s<2'; repeatable"),
]
Trials = Annotated[int, typer.Option(min=1, metavar="N", help="Optuna trials")]
AggregateOver = Annotated[
    Aggregate,
    typer.Option(metavar="mean|worst", help="across scenarios: the mean or the worst"),
]
TunedConfiguration = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="configuration to tune (default: each baseline)"),
]
SearchReplications = Annotated[
    int | None,
    typer.Option(min=1, metavar="N", help="per trial and scenario in the search [default: 1]"),
]
SelectionBudget = Annotated[
    int | None,
    typer.Option(
        min=2, metavar="N", help="runs for the selection stage [default: 50 per scenario]"
    ),
]
Finalists = Annotated[
    int, typer.Option(min=1, metavar="N", help="best distinct trials raced against the base")
]
FreshReplications = Annotated[
    int | None,
    typer.Option(
        min=2, metavar="N", help="the winner against the base on fresh seeds [default: 10]"
    ),
]
Storage = Annotated[
    str | None,
    typer.Option(metavar="URL", help="Optuna storage URL (default: SQLite under --out)"),
]
StudyName = Annotated[str | None, typer.Option(metavar="NAME", help="default: tune-<scenarios>")]
