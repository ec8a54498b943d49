"""Values of a run as data only: strict JSON that reads back equal (the store's records:
a run's summary row and its fields other than the per-order columns, which
sim.experiment.runfiles writes as Parquet).

JSON keeps what plain JSON would lose with small tagged objects: tuples, non-finite floats,
numpy scalars and arrays (dtype, shape and raw bytes in base64) and dicts whose keys are
not plain strings. Nothing is ever imported or
called by name on reading: unlike pickle, a stored run cannot run code.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

# Tags of the JSON values that plain JSON cannot express; a dict holding exactly one of
# these keys is a tagged value.
TUPLE, FLOAT, NUMPY, NDARRAY, DICT = (
    "__tuple__",
    "__float__",
    "__numpy__",
    "__ndarray__",
    "__dict__",
)
TAGS = {TUPLE, FLOAT, NUMPY, NDARRAY, DICT}


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data (lists, dicts of str, str, int, finite float, None)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {FLOAT: repr(float(value))}
    if isinstance(value, np.ndarray):
        return {NDARRAY: _array(value)}
    if isinstance(value, np.generic):
        return {NUMPY: _array(np.asarray(value))}
    if isinstance(value, tuple):
        return {TUPLE: [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {DICT: [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"cannot store a {type(value).__name__} in the run store: {value!r:.80}")


def decode(data: Any) -> Any:
    """The value ``encode`` was given."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1 and (tag := next(iter(data))) in TAGS:
        inner = data[tag]
        if tag == TUPLE:
            return tuple(decode(v) for v in inner)
        if tag == FLOAT:
            return float(inner)  # 'nan', 'inf', '-inf'
        if tag == NDARRAY:
            return _from_array(inner)
        if tag == NUMPY:
            return _from_array(inner)[()]
        return {_hashable(decode(k)): decode(v) for k, v in inner}
    return {k: decode(v) for k, v in data.items()}


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list | tuple) else key


def _array(array: np.ndarray) -> dict[str, Any]:
    if array.dtype.hasobject:
        return {"dtype": "O", "shape": list(array.shape), "items": encode(array.tolist())}
    data = np.ascontiguousarray(array).tobytes()
    return {
        "dtype": array.dtype.str,
        "shape": list(array.shape),
        "base64": base64.b64encode(data).decode("ascii"),
    }


def _from_array(data: dict[str, Any]) -> np.ndarray:
    shape = tuple(data["shape"])
    if data["dtype"] == "O":
        out = np.empty(len(data["items"]), dtype=object)
        out[:] = decode(data["items"])
        return out.reshape(shape)
    raw = base64.b64decode(data["base64"])
    return np.frombuffer(raw, dtype=np.dtype(data["dtype"])).reshape(shape).copy()
