"""A tuning study's files for people: report.md (the verdict first, then the selection
stage's standings, the region, the fresh-seed comparison, the runs used), policy.yaml
(only when the winner is adopted) and region.yaml (when the base is kept)."""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from sim.analysis.confirmation import StudyDecision
from sim.analysis.decision import Interval
from sim.analysis.objectives import Objective
from sim.config.scenario import Configuration, LoadedScenario
from sim.format import measured, number, share
from sim.report.decision_tables import how_sure, standing_header, standing_rows
from sim.report.tables import markdown_table


def headline(decision: StudyDecision) -> str:
    """The verdict in one sentence."""
    land = decision.selection
    d = land.decision
    if decision.verdict == "adopt" and decision.difference is not None:
        diff = decision.difference
        return (
            f"{land.label(decision.winner or '')}: {d.metric} {_span(diff, d.unit)} against "
            f"the base on fresh seeds, beyond δ = {d.zone}"
        )
    return (
        f"no setting is shown to beat the base on {d.metric} by more than δ = {d.zone}; "
        f"settings that cannot be told apart from the best: {land.region_text()}"
    )


def render(
    base: str,
    loaded: Sequence[LoadedScenario],
    goals: Sequence[Objective],
    decision: StudyDecision,
    runs: dict[str, int],
    images: Sequence[str],
) -> str:
    """report.md of a study."""
    land = decision.selection
    d = land.decision
    names = ", ".join(s.scenario.name for s in loaded)
    out = [
        f"# Tuning {base} against {names}",
        "",
        f"**{decision.verdict}**: {headline(decision)}",
        "",
    ]
    out += [f"- {note}" for note in (*decision.notes, *d.notes)]
    out += ["", "## How this was decided", ""]
    out += [
        "1. **Search**: Optuna proposed settings, each run on the same seeds.",
        "2. **Selection**: the best distinct trials and the base raced on new seeds; "
        "candidates shown not to be the best were dropped.",
        "3. **Confirmation**: the winner against the base on fresh seeds; it is adopted "
        "only when that whole interval lies beyond δ.",
        "",
        how_sure(d),
        "",
        f"The selection stage's statements hold together with probability at least "
        f"{share(1 - d.alpha)}; the fresh comparison errs in the direction that would adopt "
        f"with probability at most {share(d.alpha)}: together, at least "
        f"{share(1 - 2 * d.alpha)}.",
        "",
    ]
    if len(goals) > 1:
        out += [f"Two objectives: the decision is made on {goals[0].metric}; the Pareto "
                "front of both is in pareto.png and trials.csv.", ""]  # fmt: skip
    out += ["## Selection stage", ""]
    labels = {c: land.label(c) for c in land.points["candidate"]}
    labels[d.base] = f"{labels[d.base]} (base)"
    out += [markdown_table(standing_header(d), standing_rows(d, labels)), ""]
    out += [f"Equivalent region: {land.region_text()}", ""]
    if decision.difference is not None:
        diff = decision.difference
        out += ["## Fresh seeds", "",
                f"tuned − base on {decision.fresh_replications} fresh replications: "
                f"{_span(diff, d.unit)} ({share(1 - 2 * d.alpha)} interval).", ""]  # fmt: skip
    out += ["## Simulation runs", ""]
    out += [markdown_table(["stage", "runs"], [[k, number(v)] for k, v in runs.items()]), ""]
    out += [f"![{name}]({name})" for name in images]
    return "\n".join(out) + "\n"


def policy_files(
    base: str, loaded: Sequence[LoadedScenario], tuned: Configuration, decision: StudyDecision
) -> dict[str, str]:
    """policy.yaml, ready to paste under ``configurations:``, and breaker_policy.yaml when
    the payment breaker has a preset: file name to text. Only for an adopted winner."""
    d = decision.selection.decision
    diff = decision.difference
    shown = "" if diff is None else f" {_span(diff, d.unit)}"
    header = [
        f"# Tuned by breakerlab tune from {base!r} of "
        + ", ".join(s.scenario.name for s in loaded),
        f"# adopted: {d.metric} against the base on fresh seeds{shown}, beyond δ = {d.zone}",
        "# paste under `configurations:` in a scenario:",
    ]
    policy = tuned.model_dump(mode="json", exclude_defaults=True, exclude={"description"})
    files = {
        "policy.yaml": "\n".join(header) + "\n" + yaml.safe_dump({"tuned": policy}, sort_keys=False)
    }
    breaker = tuned.payment.breaker
    preset = getattr(breaker, "preset", None)
    if breaker is not None and preset is not None:
        defaults = breaker.model_dump(mode="json", exclude={"preset"})
        files["breaker_policy.yaml"] = (
            f"# The {preset} breaker of {base!r}, tuned by breakerlab tune; the layout of "
            "models/policies/*.yaml\n"
            + yaml.safe_dump({"library": preset, "defaults": defaults}, sort_keys=False)
        )
    return files


def region_file(base: str, loaded: Sequence[LoadedScenario], decision: StudyDecision) -> str:
    """region.yaml: when the base is kept, the settings equivalent to the best, per
    parameter, for a runbook."""
    land = decision.selection
    d = land.decision
    header = [
        f"# breakerlab tune kept {base!r} of " + ", ".join(s.scenario.name for s in loaded) + ":",
        f"# no setting beat it on {d.metric} by more than δ = {d.zone}.",
        "# Settings in this region cannot be told apart from the best within δ "
        f"({len(d.proven)} of {len(d.equivalent)} evaluated settings shown within δ);",
        "# values as validated (durations in seconds).",
    ]
    body = {
        "verdict": decision.verdict,
        "metric": d.metric,
        "indifference": {"text": d.indifference.describe("the base"), "value": float(d.delta)},
        "region": {path: [_number(v) for v in bound] for path, bound in land.region.bounds.items()},
        "shown": land.region_text(),
    }
    return "\n".join(header) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def _number(value: object) -> object:
    return float(value) if isinstance(value, int | float) else str(value)


def _span(diff: Interval, unit: str) -> str:
    return measured(diff.mean, diff.ci_low, diff.ci_high, unit, sign=True, style="span")
