"""Plain data for JSON: the one NaN → None rule and the one sanitiser (strict JSON).

Reports, model metadata and API payloads are written with ``allow_nan=False``; every
number that may be NaN or infinite passes through :func:`finite_or_none`, and nested
structures through :func:`json_safe`.
"""

from __future__ import annotations

import math
from typing import Any


def finite_or_none(value: Any) -> float | None:
    """``float(value)``, or ``None`` when it is missing, NaN, infinite or not a number."""
    if value is None or isinstance(value, bool | str | bytes):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def json_safe(value: Any, digits: int | None = None) -> Any:
    """Recursively: numpy scalars and arrays to Python, NaN/inf/NaT to ``None``, dates to
    ISO strings (pandas timestamps), keys to ``str``; floats rounded to ``digits`` when
    given. Anything else is returned as it is (``json.dumps(default=str)`` decides)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v, digits) for v in value]
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return round(value, digits) if digits is not None else value
    import numpy as np

    if isinstance(value, np.ndarray):
        return [json_safe(v, digits) for v in value.tolist()]
    if isinstance(value, np.generic):
        return json_safe(value.item(), digits)
    import pandas as pd

    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


__all__ = ["finite_or_none", "json_safe"]
