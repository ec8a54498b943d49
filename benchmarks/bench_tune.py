"""Does tuning fit noise? ``breakerlab tune`` (search, racing selection, fresh-seed
confirmation) against plain TPE with fixed replications (the tuner before issue 19: 30
trials x 3 replications, the best mean written as the policy), on two landscapes whose
truth this script measures itself:

- ``flat``: tuning_example as shipped. Every threshold 20-90 % and open wait 2 s-2 min
  loses about the same: adopting anything is a false adoption.
- ``bad``: tuning_bad_base, the same with the base's threshold at 10 %: far worse than
  any setting in the search range, so a tuner should adopt, and pick well.

The truth is a grid (threshold x wait) with many replications on seeds no study uses; a
study's chosen setting is then run on those seeds too, so its regret (its true mean minus
the grid's best) is measured on common random numbers. Per landscape and procedure:
adoption rate with a Clopper-Pearson 95 % interval, regret (mean and worst) against δ, and
simulation runs per study.

    python benchmarks/bench_tune.py [--studies N] [--truth-replications N] [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from scipy import stats

from sim.analysis.objectives import Constraint, Objective
from sim.analysis.summary import summary_frame, summary_row
from sim.app.deciding import decision_settings
from sim.app.finalists import confirm
from sim.app.study import best_trials, open_study, search, trials_table
from sim.app.tune import run_tune
from sim.config import LoadedScenario, load_scenario
from sim.experiment import Executor, replicate
from sim.experiment.backends import Backend
from sim.experiment.params import apply, parse_param
from sim.experiment.params import read as read_param
from sim.experiment.variants import base_configuration, with_configurations

ROOT = Path(__file__).resolve().parent.parent
LANDSCAPES = {"flat": "tuning_example", "bad": "tuning_bad_base"}
PARAMS = [
    "payment.breaker.failure_rate_threshold=20:90",
    "payment.breaker.wait_duration_in_open_state=2s:120s:log",
]
THRESHOLDS = [20, 30, 40, 50, 60, 70, 80, 90]
WAITS = ["2s", "5s", "12s", "30s", "60s", "120s"]
INDIFFERENCE = "3%"
TRUTH_SEED = 777_001  # no study's search, selection or fresh seeds come near it


@dataclass
class Truth:
    """A landscape's grid, every point and the base on the same truth seeds."""

    loaded: LoadedScenario
    base_name: str
    rows: pd.DataFrame  # configuration, replication, revenue_lost (grid points and base)
    replications: int

    @property
    def means(self) -> pd.Series:
        return self.rows.groupby("configuration")["revenue_lost"].mean()

    @property
    def best(self) -> float:
        return float(self.means.min())

    @property
    def base(self) -> float:
        return float(self.means[self.base_name])

    def mean_of(self, values: dict[str, float], backend: Backend) -> float:
        """The true mean of a setting: run on the truth seeds (paired with the grid)."""
        _, base = base_configuration(self.loaded, None)
        config = apply(base, values)
        scenario = with_configurations(self.loaded, {"chosen": config}, "chosen")
        rows = replicate(scenario, TRUTH_SEED, backend, replications=self.replications,
                         reducer=summary_row)  # fmt: skip
        return float(summary_frame(rows)["revenue_lost"].mean())


def ground_truth(name: str, replications: int, backend: Backend) -> Truth:
    loaded = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    base_name, base = base_configuration(loaded, None)
    configurations = {base_name: base}
    for threshold in THRESHOLDS:
        for wait in WAITS:
            values = {"payment.breaker.failure_rate_threshold": threshold,
                      "payment.breaker.wait_duration_in_open_state": wait}  # fmt: skip
            configurations[f"{threshold} {wait}"] = apply(base, values)
    scenario = with_configurations(loaded, configurations, base_name)
    rows = replicate(scenario, TRUTH_SEED, backend, replications=replications,
                     reducer=summary_row)  # fmt: skip
    frame = summary_frame(rows)[["configuration", "replication", "revenue_lost"]]
    return Truth(loaded, base_name, frame, replications)


def new_procedure(truth: Truth, seed: int, trials: int, workdir: Path) -> dict[str, Any]:
    """breakerlab tune as a user runs it (README defaults, δ = 3 %)."""
    out = run_tune(
        truth.loaded, PARAMS, trials=trials, indifference=INDIFFERENCE, seed=seed,
        constraints=["checkout_p99_s<2"], out=workdir, study_name=f"new-{seed}", workers=2,
    )  # fmt: skip
    assert out.decision is not None and out.runs is not None
    adopted = out.decision.verdict == "adopt"
    return {"adopted": float(adopted), "runs": float(out.runs["total"]),
            "chosen": out.winner if adopted else None}  # fmt: skip


def plain_tpe(
    truth: Truth, seed: int, trials: int, workdir: Path, backend: Backend
) -> dict[str, Any]:
    """The tuner before issue 19: TPE, 3 replications per trial, the best mean trial
    written as the tuned policy, re-run against the base on 6 fresh replications."""
    loaded = [truth.loaded]
    bases = [base_configuration(truth.loaded, None)]
    params = [parse_param(p) for p in PARAMS]
    goals, limits = [Objective("revenue_lost")], [Constraint.parse("checkout_p99_s<2")]
    storage = f"sqlite:///{workdir / f'plain-{seed}.db'}"
    study = open_study(f"plain-{seed}", storage, goals, seed)
    search(study, loaded, bases, params, trials=trials, replications=3, seed=seed,
           aggregate="mean", goals=goals, limits=limits, backend=backend)  # fmt: skip
    best = best_trials(trials_table(study), goals, 1)
    raw = {p.path: best.iloc[0][p.path] for p in params}
    config = apply(bases[0][1], raw)
    chosen = {p.path: read_param(config, p.path) for p in params}
    choice = decision_settings(loaded, "revenue_lost", INDIFFERENCE)
    fresh, _ = confirm(loaded, bases, chosen, choice, replications=6, seed=seed + 1_000_003,
                       aggregate="mean", backend=backend)  # fmt: skip
    wide = fresh.pivot(index="replication", columns="configuration", values="revenue_lost")
    diff = (wide["tuned"] - wide["base"]).to_numpy()
    half = stats.t.ppf(0.975, diff.size - 1) * diff.std(ddof=1) / math.sqrt(diff.size)
    return {"adopted": 1.0, "looked_better": float(diff.mean() + half < 0),
            "runs": float(trials * 3 + 12), "chosen": chosen}  # fmt: skip


def study(
    truth: Truth, procedure: str, seed: int, trials: int, workdir: Path, backend: Backend
) -> dict[str, Any]:
    """One study of ``procedure`` and the true regret of what it chose (the base when it
    kept it)."""
    if procedure == "plain TPE":
        result = plain_tpe(truth, seed, trials, workdir, backend)
    else:
        result = new_procedure(truth, seed, trials, workdir)
    chosen = result.pop("chosen")
    mean = truth.mean_of(chosen, backend) if chosen else truth.base
    regret = mean - truth.best
    print(f"  {procedure} seed {seed}: adopted {bool(result['adopted'])}, regret {regret:,.0f}, "
          f"runs {result['runs']:.0f}", flush=True)  # fmt: skip
    return {"procedure": procedure, "regret": regret, "delta": 0.03 * truth.base, **result}


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    low = 0.0 if k == 0 else float(stats.beta.ppf(0.025, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(0.975, k + 1, n - k))
    return low, high


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=20, help="per landscape and procedure")
    parser.add_argument("--truth-replications", type=int, default=20)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="4 studies, 8 truth replications")
    args = parser.parse_args()
    if args.quick:
        args.studies, args.truth_replications = 4, 8
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    print(f"{datetime.date.today()}: {args.studies} studies per landscape and procedure, "
          f"{args.trials} trials, δ = {INDIFFERENCE}, truth: {len(THRESHOLDS) * len(WAITS)}-point "
          f"grid x {args.truth_replications} replications")  # fmt: skip
    rows: list[dict[str, Any]] = []
    with Executor(2) as backend, tempfile.TemporaryDirectory() as tmp:
        for landscape, name in LANDSCAPES.items():
            truth = ground_truth(name, args.truth_replications, backend)
            print(f"\n{landscape} ({name}): base {truth.base:,.0f}, grid best {truth.best:,.0f}, "
                  f"grid worst {truth.means.max():,.0f}, δ {0.03 * truth.base:,.0f}")  # fmt: skip
            for procedure in ("breakerlab tune", "plain TPE"):
                for i in range(args.studies):
                    row = study(truth, procedure, 10_000 + 97 * i, args.trials, Path(tmp), backend)
                    rows.append({"landscape": landscape, "study": i, **row})
    table = pd.DataFrame(rows)
    print(f"\nsummary ({time.perf_counter() - started:,.0f} s):")
    for (landscape, procedure), part in table.groupby(["landscape", "procedure"], sort=False):
        k, n = int(part["adopted"].sum()), len(part)
        low, high = clopper_pearson(k, n)
        within = int((part["regret"] <= part["delta"]).sum())
        line = (f"{landscape:5} {procedure:16} adopted {k}/{n} ({k / n:.0%}, 95 % CI "
                f"{low:.0%}-{high:.0%}); regret mean {part['regret'].mean():,.0f}, worst "
                f"{part['regret'].max():,.0f} (δ {part['delta'].iloc[0]:,.0f}; within δ in "
                f"{within}/{n}); runs per study {part['runs'].mean():.0f}")  # fmt: skip
        if "looked_better" in part and part["looked_better"].notna().any():
            line += f"; fresh interval below 0 in {int(part['looked_better'].sum())}/{n}"
        print(line)


if __name__ == "__main__":
    main()
