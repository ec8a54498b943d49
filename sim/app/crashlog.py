"""Where the details of an internal error go: a file with the traceback, inside the run
directory when there is one, else in the temporary directory, so the terminal shows one
line and the bug report has everything."""

from __future__ import annotations

import platform
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

DETAILS = "error.log"


def write_details(exc: BaseException, directory: Path | None = None) -> Path | None:
    """The traceback of ``exc`` (with the command line and versions) written to
    ``directory/error.log``, else a fresh file in the temporary directory; the path, or
    None when neither could be written."""
    from sim.version import __version__

    text = "".join(
        [
            f"breakerlab {__version__}, Python {platform.python_version()}, "
            f"{platform.platform()}\n",
            f"at {datetime.now(UTC).isoformat(timespec='seconds')}\n",
            f"command: {' '.join(sys.argv)}\n\n",
            *traceback.format_exception(exc),
        ]
    )
    if directory is not None:
        try:
            path = directory / DETAILS
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            pass  # an unwritable run directory: fall back to the temporary directory
    try:
        handle, name = tempfile.mkstemp(prefix="breakerlab-error-", suffix=".log")
        with open(handle, "w", encoding="utf-8") as file:
            file.write(text)
        return Path(name)
    except OSError:
        return None
