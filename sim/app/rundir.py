"""Run directories: a fresh one per experiment, and files placed in it atomically."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sim.experiment.atomic import named

if TYPE_CHECKING:
    import pandas as pd


def new_directory(root: Path, seed: int) -> Path:
    """A fresh run directory under ``root``, created here (never one that exists). If it
    cannot be made, the folders made on the way are removed again: a failure leaves
    nothing behind."""
    made = [p for p in (root, *root.parents) if not os.path.lexists(p)]
    try:
        root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        n = 1
        while True:
            candidate = root / (f"{stamp}-seed{seed}" + (f"-{n}" if n > 1 else ""))
            try:
                candidate.mkdir()
                return candidate
            except FileExistsError:
                n += 1
            except OSError as exc:
                raise named(exc, candidate) from exc
    except OSError as exc:
        for folder in made:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise named(exc, root) from exc


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Placer:
    """Files placed in ``directory`` atomically: each is written in a staging folder inside
    it, then renamed to its final name at once, so a reader never sees half a file and
    what was placed stays even if a later file fails."""

    def __init__(self, directory: Path, staging: Path) -> None:
        self.directory = directory
        self.staging = staging

    def place(self, name: str, write: Callable[[Path], object]) -> Path:
        """``write(path)`` fills the staged file; it is then moved to ``directory/name``."""
        try:
            write(self.staging / name)
        except OSError as exc:
            raise named(exc, self.directory / name) from exc
        return self.move_in(self.staging / name)

    def text(self, name: str, content: str) -> Path:
        return self.place(name, lambda path: path.write_text(content, encoding="utf-8"))

    def csv(self, name: str, frame: pd.DataFrame, float_format: str) -> Path:
        return self.place(
            name, lambda path: frame.to_csv(path, index=False, float_format=float_format)
        )

    def move_in(self, staged: Path) -> Path:
        """A file already written in the staging folder, moved to its final name."""
        target = self.directory / staged.name
        try:
            staged.replace(target)
        except OSError as exc:
            raise named(exc, target) from exc
        return target


@contextmanager
def placing(directory: Path) -> Iterator[Placer]:
    """A Placer for ``directory``; its staging folder is removed on leaving."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
    except OSError as exc:
        raise named(exc, directory) from exc
    try:
        yield Placer(directory, staging)
    except OSError as exc:
        # A write the system reported without a file name (a full disk): the directory.
        raise named(exc, directory) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
