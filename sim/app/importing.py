"""``breakerlab import``: a production resilience configuration as the breakerlab stage
blocks that mean the same, printed or written, with what breakerlab leaves out listed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sim.config.formats import import_file
from sim.errors import ConfigError
from sim.experiment.atomic import write_atomically


@dataclass(frozen=True)
class ImportResult:
    """The blocks as YAML text, where they were written (None: for stdout), and the
    source's keys left out and the notes on what breakerlab approximates."""

    text: str
    path: Path | None
    instances: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def import_production(
    file: str | Path, fmt: str, instance: str | None = None, out: str | Path | None = None
) -> ImportResult:
    """``file`` read as ``fmt``: one stage block per instance (or ``instance`` alone), to
    paste under a configuration's stage (or to name with ``from:``); written to ``out``
    when given. Bad input is a ConfigError naming file, line and key; nothing is written."""
    imported = import_file(file, fmt, instance)
    header = [
        f"# breakerlab import {file} --format {fmt}"
        + (f" --instance {instance}" if instance else "")
    ]
    header.append(
        "# each block goes under the stage it protects (payment, inventory, ...) of a configuration"
    )
    header += [f"# not simulated (left out): {line}" for line in imported.ignored]
    header += [f"# note: {note}" for note in imported.notes]
    body = yaml.safe_dump(imported.blocks, sort_keys=False, default_flow_style=False)
    text = "\n".join(header) + "\n" + body
    target = Path(out) if out is not None else None
    if target is not None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, text.encode("utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot write: {exc.strerror or exc}", file=target) from None
    return ImportResult(text, target, list(imported.blocks), imported.ignored, imported.notes)
