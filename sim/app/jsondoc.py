"""Results as strict JSON for ``--json``: NaN and infinities become null, numpy scalars
plain numbers, DataFrames lists of records."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """``value`` with only JSON types: dicts, lists, str, int, finite float, bool, None."""
    if isinstance(value, pd.DataFrame):
        return [plain(row) for row in value.to_dict("records")]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def dumps(document: dict[str, Any]) -> str:
    """One strict JSON document (RFC 8259: no NaN tokens)."""
    return json.dumps(plain(document), indent=2, allow_nan=False)
