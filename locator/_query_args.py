"""Checks of the arguments of :class:`~locator.index.OutletIndex` queries.

Each bad value is a :class:`~locator.errors.ConfigurationError` naming the parameter and
the value (and, for arrays, the positions of the first bad ones), raised before any
search work. Bad *outlet data* is :mod:`locator.network`'s job (a ``DataError``).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import ConfigurationError


def is_number(value: Any) -> bool:
    """A real number (not a bool, which Python counts as an int)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def check_scalar(value: Any, name: str, limit: float) -> float:
    """``value`` as a float, finite and within ``[-limit, limit]`` (a latitude, a longitude)."""
    if not is_number(value):
        raise ConfigurationError(f"{name} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out) or abs(out) > limit:
        raise ConfigurationError(
            f"invalid {name} {value!r}: must be finite and within [-{limit:g}, {limit:g}]"
        )
    return out


def check_array(values: ArrayLike, name: str, limit: float) -> NDArray[np.float64]:
    """``values`` as a 1-D float array, each finite and within ``[-limit, limit]``;
    the error lists the first five bad positions."""
    arr = np.atleast_1d(np.asarray(values))
    if arr.ndim != 1:
        raise ConfigurationError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "iuf":
        out = arr.astype(np.float64, copy=False)
    else:
        flat = np.atleast_1d(np.asarray(values, dtype=object)).ravel().tolist()
        for i, v in enumerate(flat):
            if not is_number(v):
                raise ConfigurationError(f"{name}[{i}] must be a number, got {v!r}")
        out = np.asarray(flat, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(out) & (np.abs(out) <= limit))
    if bad.any():
        idx = np.flatnonzero(bad)
        shown = ", ".join(f"[{i}]={float(out[i])!r}" for i in idx[:5])
        more = f" and {idx.size - 5} more" if idx.size > 5 else ""
        raise ConfigurationError(
            f"{idx.size} invalid {name} value(s) (must be finite and within "
            f"[-{limit:g}, {limit:g}]): {name}{shown}{more}"
        )
    return out


def check_k(k: Any) -> int:
    """``k`` (results per query) as a positive int."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ConfigurationError(f"k must be a positive integer, got {k!r}")
    return int(k)


def check_km(value: Any, name: str, *, allow_zero: bool) -> float:
    """A distance in km: finite and > 0 (>= 0 with ``allow_zero``)."""
    ok = is_number(value) and math.isfinite(float(value))
    ok = ok and (float(value) >= 0 if allow_zero else float(value) > 0)
    if not ok:
        rule = ">= 0" if allow_zero else "> 0"
        raise ConfigurationError(f"{name} must be a finite number {rule} (km), got {value!r}")
    return float(value)


def as_names(value: str | Iterable[str] | None, name: str) -> tuple[str, ...] | None:
    """A filter (one name or several) as a sorted tuple of distinct stripped names;
    ``None`` or an empty selection means no filter."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    if not items:  # an empty selection means "no filter", as on the command line
        return None
    out = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ConfigurationError(f"{name} must be non-empty strings, got {item!r}")
        out.append(item.strip())
    return tuple(sorted(set(out)))


def check_moment(value: Any, name: str) -> dt.datetime | None:
    """A moment for the opening hours: ``None`` (now) or a :class:`datetime.datetime`
    (naive: Asia/Shanghai wall time)."""
    if value is None or (isinstance(value, dt.datetime) and not isinstance(value, bool)):
        return value
    raise ConfigurationError(f"{name} must be a datetime (or None for now), got {value!r}")
