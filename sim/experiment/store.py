"""Finished runs on disk, one file each, written atomically as they complete, so an
experiment killed at any instant can be resumed without losing or repeating a run."""

from __future__ import annotations

import json
import os
import pickle
import re
import tempfile
import zlib
from pathlib import Path
from typing import Any

from sim.engine import RunResult
from sim.errors import ConfigError

RUNS = "runs"
MANIFEST = "experiment.json"


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it over: readers (and a resume
    after SIGKILL) see the old file or the whole new one, never a part."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class RunStore:
    """``DIR/runs/<configuration>-<replication>.pkl`` for every finished run, and
    ``DIR/experiment.json``: what the experiment is, to resume it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.runs = directory / RUNS

    def create(self, manifest: dict[str, Any]) -> None:
        self.runs.mkdir(parents=True, exist_ok=True)
        text = json.dumps(manifest, indent=2)  # key order is meaningful: configurations
        write_atomically(self.directory / MANIFEST, text.encode("utf-8"))

    def manifest(self) -> dict[str, Any]:
        path = self.directory / MANIFEST
        try:
            data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                "not a resumable run directory (no experiment.json)", file=self.directory
            ) from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"unreadable: {exc}", file=path) from None
        return data

    def path(self, configuration: str, replication: int) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", configuration)[:60]
        tag = zlib.crc32(configuration.encode("utf-8"))
        return self.runs / f"{safe}-{tag:08x}-{replication:05d}.pkl"

    def save(self, result: RunResult) -> None:
        data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        write_atomically(self.path(result.configuration, result.replication), data)

    def load(self) -> dict[tuple[str, int], RunResult]:
        """Every finished run, by (configuration, replication); temporary files of runs
        that were being written when the process died are ignored."""
        found: dict[tuple[str, int], RunResult] = {}
        if not self.runs.is_dir():
            return found
        for path in sorted(self.runs.glob("*.pkl")):
            with path.open("rb") as file:
                result = pickle.load(file)  # our own files, written by save()
            if path != self.path(result.configuration, result.replication):
                continue
            found[(result.configuration, result.replication)] = result
        return found
