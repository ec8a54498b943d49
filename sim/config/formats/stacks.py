"""A configuration taken apart for export: the stages that have a resilience layer (each
becomes one instance, service or command named after the stage) and the settings that
belong to the shop rather than to a resilience library (listed, never exported silently)."""

from __future__ import annotations

from typing import Any

import yaml

from sim.config.breakers import CategoryBreakers, ExternalBreaker
from sim.config.configuration import Configuration, RetrySpec, StagePolicy
from sim.config.formats.common import LAYERS, STAGES, Exported

STACK_FIELDS = (*LAYERS, "order")


def stages_of(config: Configuration) -> tuple[dict[str, StagePolicy], list[str]]:
    """``{stage: its stack}`` for stages with a layer set, and the dotted paths of the
    configuration's other settings (routing, fallback, caches, processing...)."""
    written: dict[str, Any] = config.model_dump(exclude_unset=True, by_alias=True)
    stacks: dict[str, StagePolicy] = {}
    others: list[str] = []
    for key, value in written.items():
        if key not in STAGES:
            if key != "description":
                others.append(key)
            continue
        stage = getattr(config, key)
        for field in value:
            if field not in STACK_FIELDS:
                others.append(f"{key}.{field}")
        if any(field in STACK_FIELDS for field in value):
            stacks[key] = StagePolicy(**{k: getattr(stage, k) for k in StagePolicy.model_fields})
    return stacks, others


def breaker_preset(stage: StagePolicy) -> str | None:
    """The preset of the stage's breaker; "class" or "per_category" for the other kinds."""
    breaker = stage.breaker
    if breaker is None:
        return None
    if isinstance(breaker, ExternalBreaker):
        return "class"
    if isinstance(breaker, CategoryBreakers):
        return "per_category"
    return str(getattr(breaker, "preset", "resilience4j"))


def curve(retry: RetrySpec) -> tuple[str, float, float]:
    """(family, multiplier, jitter) with fixed/randomized as the exponential curve they are."""
    family = retry.backoff
    if family in ("fixed", "randomized", "exponential"):
        family = "exponential"
    return family, retry.multiplier, retry.jitter


class Gaps:
    """What an export could not say, by path, with the reason."""

    def __init__(self, fmt: str) -> None:
        self.format = fmt
        self.paths: list[str] = []
        self.lines: list[str] = []

    def add(self, path: str, why: str, also: tuple[str, ...] = ()) -> None:
        """``path`` left out because ``why``; ``also``: paths it takes along (a backoff's
        multiplier and jitter go with its family)."""
        if path not in self.paths:
            self.paths.append(path)
            self.lines.append(f"{path}: {why}")
        self.paths += [p for p in also if p not in self.paths]


def finish(
    fmt: str, document: Any, gaps: Gaps, others: list[str], notes: list[str], style: str = "yaml"
) -> Exported:
    """The exported text, with a header naming everything left out where the format has
    comments: ``style`` yaml, yaml-stream (a list of documents), json, or python."""
    import json

    listed = [*gaps.lines]
    if others:
        listed.append(f"not a {fmt} setting (the shop's, kept in breakerlab): {', '.join(others)}")
    header = [f"Written by breakerlab export --format {fmt}."]
    header += [f"NOT EXPRESSED: {line}" for line in listed] + [f"note: {note}" for note in notes]
    if style == "json":
        text = json.dumps(document, indent=2) + "\n"
    elif style == "python":
        text = "".join(f"# {line}\n" for line in header) + str(document)
    else:
        dump = (
            yaml.safe_dump_all(document, sort_keys=False)
            if style == "yaml-stream"
            else yaml.safe_dump(document, sort_keys=False)
        )
        text = "".join(f"# {line}\n" for line in header) + dump
    return Exported(fmt, text, listed, notes, list(gaps.paths))
