"""Reading typed fields from parsed JSON with errors that name the field (docs/model.md §1 "Validation")."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from bpr.errors import BprInputError, unknown


def require(d: Any, key: str, where: str) -> Any:
    if not isinstance(d, dict):
        raise BprInputError(f"{where}: expected an object, got {type(d).__name__}")
    if key not in d:
        raise BprInputError(f"{where}.{key}: missing")
    return d[key]


def number(value: Any, where: str, *, lo: float | None = None, strict: bool = False,
           hi: float | None = None) -> float:
    """A finite real; ``lo`` is a lower bound (exclusive when ``strict``), ``hi`` a size limit."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BprInputError(f"{where}: expected a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise BprInputError(f"{where}: must be finite, got {value!r}")
    if lo is not None and (x <= lo if strict else x < lo):
        raise BprInputError(f"{where}: must be {'>' if strict else '>='} {lo:g}, got {value!r}")
    if hi is not None and x > hi:
        raise BprInputError(f"{where}: must be at most {hi:g} (size limit, docs/formats.md §4), got {value!r}")
    return x


def integer(value: Any, where: str, *, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
        raise BprInputError(f"{where}: expected an integer, got {value!r}")
    n = int(value)
    if lo is not None and n < lo:
        raise BprInputError(f"{where}: must be >= {lo}, got {n}")
    if hi is not None and n > hi:
        raise BprInputError(f"{where}: must be at most {hi} (size limit, docs/formats.md §4), got {value!r}")
    return n


def text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise BprInputError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def listing(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise BprInputError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def typed(cls: type, values: Mapping[str, Any], kind: str, where: str) -> Any:
    """``cls`` from ``values``: an unknown key (``unknown <kind> 'key'``) or a wrong type is bad input."""
    known = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in known:
            raise unknown(kind, key, known or ["(none)"])
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(cls), dict(values)))
    except OmegaConfBaseException as err:
        raise BprInputError(f"{where}: {str(err).splitlines()[0]}") from None
