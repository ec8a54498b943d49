"""Files written whole or not at all: a temporary file beside the target, renamed over it.
Light on purpose (standard library only): ``import``, ``export`` and the run directory use
it without loading the run store's Parquet and NumPy."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it over: readers (and a resume
    after SIGKILL) see the old file or the whole new one, never a part. An OSError names
    ``path`` even when the system call did not (a full disk on write)."""
    temp: str | None = None
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except OSError as exc:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise named(exc, path) from exc
    except BaseException:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise


def named(exc: OSError, path: Path) -> OSError:
    """``exc`` with ``path`` as its file name when it has none."""
    if exc.filename is not None:
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))
