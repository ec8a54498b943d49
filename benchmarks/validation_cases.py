"""The queueing scenarios of the engine's validation, and the checks their runs feed; the
shared pieces (sizes, the runner, the shop every case starts from). Retries and breakers
are in ``validation_resilience``.

Each case writes a model and a scenario of its own (YAML, through the user's loading path),
runs them with independent seeds and compares what the records show with
``benchmarks.theory``. ``Size`` scales them: the full size is ``make validate``, the
quick one runs in the test suite.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks import theory
from benchmarks import validation_checks as v
from sim.config import load_scenario
from sim.config.scenario import LoadedScenario
from sim.engine import RunResult, simulate
from sim.engine.orders import STAGES

DEPENDENCIES = ("inv", "gw", "db", "ful", "app", "mail", "sms")
LONG = "10h"  # a timeout or patience that never ends a call in these runs
FOREVER = {"constant": "100h"}  # patience that never runs out


@dataclass(frozen=True)
class Size:
    """How long and how often each scenario runs."""

    name: str
    replications: int
    scale: float  # of every horizon and warm-up
    seed: int = 2026


FULL = Size("full", replications=16, scale=0.6)
QUICK = Size("quick", replications=8, scale=0.12)


@dataclass(frozen=True)
class Case:
    """One validated behaviour: how the model maps onto the theory, and its checks."""

    title: str
    mapping: str  # markdown
    checks: list[v.Check]


Runs = dict[str, list[RunResult]]  # by configuration, replications in order


class Runner:
    """Writes a case's model and scenario into ``directory`` and runs every configuration
    for every replication, in ``workers`` processes (1: in this one). Each run depends only
    on its seed and replication, so the number of workers never changes a result."""

    def __init__(self, directory: Path, size: Size, workers: int = 1) -> None:
        self.directory = directory
        self.size = size
        self.workers = workers

    def __call__(self, name: str, model: dict[str, Any], scenario: dict[str, Any]) -> Runs:
        return self.results(self.load(name, model, scenario))

    def load(self, name: str, model: dict[str, Any], scenario: dict[str, Any]) -> LoadedScenario:
        folder = self.directory / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False), "utf-8")
        data = {"name": name, "model": "model.yaml", "seed": self.size.seed, **scenario}
        data["replications"] = self.size.replications
        (folder / "scenario.yaml").write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
        return load_scenario(folder / "scenario.yaml")

    def results(self, loaded: LoadedScenario) -> Runs:
        configs = list(loaded.scenario.configurations)
        reps = range(loaded.scenario.replications)
        jobs = [(config, r) for config in configs for r in reps]
        if self.workers > 1:
            configurations, replications = [c for c, _ in jobs], [r for _, r in jobs]
            with ProcessPoolExecutor(max_workers=self.workers) as pool:
                done = list(pool.map(simulate, [loaded] * len(jobs), configurations, replications))
        else:
            done = [simulate(loaded, c, r) for c, r in jobs]
        return {config: [d for d in done if d.configuration == config] for config in configs}

    def seconds(self, value: float) -> float:
        return round(value * self.size.scale)


def shop(workers: int, cart_mean: float = 0.0, **dependencies: dict[str, Any]) -> dict[str, Any]:
    """One checkout node with ``workers``; cart time exponential with ``cart_mean`` (0: none);
    every dependency answers at once without errors unless given in ``dependencies``."""
    cart = {"exponential": {"mean": cart_mean}} if cart_mean else {"constant": 0}
    deps: dict[str, dict[str, Any]] = {name: {"latency": {"constant": 0}} for name in DEPENDENCIES}
    deps.update(dependencies)
    return {
        "name": "validation-shop",
        "checkout": {"nodes": 1, "workers": workers},
        "stages": {
            "cart": {"latency": cart},
            "inventory": {"dependency": "inv", "timeout": LONG},
            "payment": {"gateways": ["gw"], "timeout": LONG},
            "order_record": {"dependency": "db", "timeout": LONG},
            "fulfillment": {"dependency": "ful", "timeout": LONG},
            "notification": {
                "in_app": "app",
                "email": "mail",
                "sms": "sms",
                "timeout": LONG,
                "acknowledged": 1.0,
            },
        },
        "dependencies": deps,
    }


def served_by(mean: float, capacity: int) -> dict[str, Any]:
    """A dependency with exponential service of ``mean`` seconds and ``capacity`` servers."""
    return {"latency": {"exponential": {"mean": mean}}, "capacity": capacity}


def traffic(rate: float, patience: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "rate": f"{rate:g}/s",
        "basket": {"constant": 50},
        "patience": patience or FOREVER,
    }


def steady(run: Runner, horizon: float, warmup: float, rate: float, **extra: Any) -> dict[str, Any]:
    """A scenario without faults and one plain configuration."""
    return {
        "horizon": run.seconds(horizon),
        "warmup": run.seconds(warmup),
        "traffic": traffic(rate, extra.pop("patience", None)),
        "faults": [],
        "configurations": {"plain": {}},
        **extra,
    }


Measure = Callable[[RunResult], float]


def equal_each(
    group: str, runs: list[RunResult], rows: list[tuple[str, Measure, float]]
) -> list[v.Check]:
    """One check per (quantity, what a run measures, theory value), over every run."""
    return [
        v.equal(group, name, [measure(r) for r in runs], value) for name, measure, value in rows
    ]


def measured(
    group: str, mapping: str, runs: list[RunResult], rows: list[tuple[str, Measure, float]]
) -> Case:
    """A case whose checks are ``equal_each`` over ``runs``."""
    return Case(group, mapping, equal_each(group, runs, rows))


def sampled(column: str) -> Measure:
    return lambda result: v.mean_sampled(result, column)


def little(stage: str) -> Measure:
    return lambda result: v.little_ratio(result, stage)


def erlang_c_rows(
    lam: float, mu: float, c: int, column: str, queue: str
) -> list[tuple[str, Measure, float]]:
    """Time in checkout (all of it spent at the M/M/c queue) and the queue's sampled length."""
    wq = theory.erlang_c_wait(lam, mu, c)
    return [
        ("mean time in checkout, Wq + 1/μ (s)", v.mean_checkout_time, wq + 1 / mu),
        (f"mean {queue} queue length, λ·Wq", sampled(column), lam * wq),
    ]


def erlang_c_checkout(run: Runner) -> Case:
    lam, mu, c = 8.0, 1.0, 10
    runs = run("erlang-c-checkout", shop(c, 1 / mu), steady(run, 2000, 200, lam))["plain"]
    group = "Erlang C (M/M/c) at checkout"
    mapping = (
        f"One checkout node with c = {c} workers, Poisson arrivals λ = {lam:g}/s, cart time "
        f"exponential with mean 1/μ = {1 / mu:g} s, every dependency instant and error-free, "
        "unbounded patience: the checkout is M/M/c with service = cart time. Time in "
        "checkout = arrival to checkout end (wait for a worker + cart); queue length = the "
        "once-per-second `checkout_queue` sample after the warm-up."
    )
    return measured(group, mapping, runs, erlang_c_rows(lam, mu, c, "checkout_queue", "checkout"))


def mm1_gateway(run: Runner) -> Case:
    lam, mu = 7.0, 10.0
    model = shop(1000, gw=served_by(1 / mu, 1))
    runs = run("mm1-gateway", model, steady(run, 2000, 200, lam))["plain"]
    group = "M/M/1 at a payment gateway"
    mapping = (
        f"The gateway serves one call at a time (`capacity: 1`), latency exponential with "
        f"mean 1/μ = {1 / mu:g} s; λ = {lam:g}/s; checkout workers never run out and every "
        "other step is instant: the gateway is M/M/1 and time in checkout is its sojourn. "
        "Queue length = the `queue_gw` sample after the warm-up."
    )
    return measured(
        group,
        mapping,
        runs,
        [
            (
                "mean time in checkout, 1/(μ − λ) (s)",
                v.mean_checkout_time,
                theory.mm1_sojourn(lam, mu),
            ),
            (
                "mean gateway queue length, λ·Wq",
                sampled("queue_gw"),
                lam * theory.mm1_wait(lam, mu),
            ),
        ],
    )


def erlang_c_dependency(run: Runner) -> Case:
    lam, mu, c = 40.0, 10.0, 5
    model = shop(1000, inv=served_by(1 / mu, c))
    runs = run("erlang-c-inventory", model, steady(run, 600, 60, lam))["plain"]
    group = "Erlang C (M/M/c) at a dependency"
    mapping = (
        f"The inventory service has `capacity: {c}` (concurrent calls; more queue), latency "
        f"exponential with mean {1 / mu:g} s; λ = {lam:g}/s; nothing else waits: M/M/{c}."
    )
    return measured(group, mapping, runs, erlang_c_rows(lam, mu, c, "queue_inv", "inventory"))


def erlang_a_checkout(run: Runner) -> Case:
    lam, mu, c, patience = 10.0, 1.0, 10, 5.0
    scenario = steady(run, 2000, 200, lam, patience={"exponential": {"mean": f"{patience:g}s"}})
    runs = run("erlang-a-checkout", shop(c, 1 / mu), scenario)["plain"]
    a = theory.erlang_a(lam, mu, c, 1 / patience)
    group = "Erlang A (M/M/c+M) at checkout"
    mapping = (
        f"As Erlang C, with λ = cμ = {lam:g}/s and `traffic.patience` exponential with mean "
        f"{patience:g} s: a customer still queueing for a worker when it runs out leaves "
        "(outcome abandoned, cause `queue`); once a worker is taken the patience no longer "
        "matters to the queue, so checkout is M/M/c+M. Those who leave record when they "
        "left (`checkout_end`), so their time in the queue is observed; the served spend "
        "their wait plus the cart time 1/μ."
    )
    return measured(
        group,
        mapping,
        runs,
        [
            ("share who leave the queue", v.abandon_share, a.p_abandon),
            (
                "mean time in queue of those who leave (s)",
                lambda r: v.mean_checkout_time(r, served=False),
                a.mean_wait_abandoned,
            ),
            (
                "mean time in checkout of the served, W + 1/μ (s)",
                lambda r: v.mean_checkout_time(r, served=True),
                a.mean_wait_served + 1 / mu,
            ),
            ("mean checkout queue length", sampled("checkout_queue"), a.mean_queue),
        ],
    )


def little_per_stage(run: Runner) -> Case:
    queues = {
        "inv": (0.05, 1),
        "gw": (0.3, 4),
        "db": (0.05, 1),
        "ful": (0.2, 3),
        "app": (0.05, 1),
        "mail": (0.1, 1),
    }
    model = shop(1000, 0.1, **{name: served_by(*spec) for name, spec in queues.items()})
    runs = run("little", model, steady(run, 600, 0, 10.0))["plain"]
    group = "Little's law per stage"
    checks = equal_each(
        group, runs, [(f"{stage}: L / (λ·W)", little(stage), 1.0) for stage in STAGES]
    )
    mapping = (
        "λ = 10/s through stages that queue (every dependency has a small `capacity`). Per "
        "stage, L is the mean of the once-per-second occupancy samples (`in_stage_*`) and "
        "λ·W is the stage's total time over the run's length (`stage_stats`); a run starts "
        "and ends empty, so Little's law holds over the whole run (no warm-up to remove)."
    )
    queued = run("little-checkout-queue", shop(3, 0.25), steady(run, 600, 0, 10.0))["plain"]
    checks += equal_each(
        group, queued, [("cart, behind a checkout queue: L / (λ·W)", little("cart"), 1.0)]
    )
    mapping += (
        " The last row runs a shop of 3 checkout workers, a cart time exponential with "
        "mean 0.25 s and instant dependencies (M/M/3, ρ = 0.83), so orders queue for a "
        "worker before the cart stage. It catches a stage timed from the order's arrival "
        "(its wait for a worker counted in the stage's time) while its occupancy counts "
        "the order only once it holds a worker."
    )
    return Case(group, mapping, checks)
