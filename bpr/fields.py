"""Reading typed fields from parsed JSON with errors that name the field (docs/model.md §1 "Validation")."""

from __future__ import annotations

import math
from enum import Enum
from typing import Any, TypeVar

from bpr.errors import BprInputError

E = TypeVar("E", bound=Enum)


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
        raise BprInputError(f"{where}: expected a number, got {_short(value)}")
    try:
        x = float(value)
    except OverflowError:
        raise BprInputError(f"{where}: must be finite, got a number of {len(str(value))} digits") from None
    if not math.isfinite(x):
        raise BprInputError(f"{where}: must be finite, got {value!r}")
    if lo is not None and (x <= lo if strict else x < lo):
        raise BprInputError(f"{where}: must be {'>' if strict else '>='} {lo:g}, got {value!r}")
    if hi is not None and x > hi:
        raise BprInputError(f"{where}: must be at most {hi:g} (size limit, docs/formats.md §4), got {value!r}")
    return x


def _short(value: Any) -> str:
    """A value for a message: its repr, cut to 60 characters (an object can be large)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


INT64 = 2 ** 63 - 1      # the largest integer a results table (parquet, numpy) holds


def integer(value: Any, where: str, *, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
        raise BprInputError(f"{where}: expected an integer, got {_short(value)}")
    n = int(value)
    if lo is not None and n < lo:
        raise BprInputError(f"{where}: must be >= {lo}, got {n}")
    if hi is not None and n > hi:
        raise BprInputError(f"{where}: must be at most {hi} (size limit, docs/formats.md §4), got {value!r}")
    if hi is None and abs(n) > INT64:     # a caller without a limit of its own still gets the table's
        raise BprInputError(f"{where}: must be at most 2**63 - 1 in size (a results table holds 64-bit "
                            f"integers), got {_short(value)}")
    return n


def text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise BprInputError(f"{where}: expected a non-empty string, got {_short(value)}")
    return value


def member(cls: type[E], value: Any, where: str) -> E:
    """A member of the enum ``cls`` by its value (a StrEnum's word)."""
    try:
        return cls(value)
    except ValueError:
        raise BprInputError(f"{where}: expected one of {', '.join(map(str, cls))}, got {value!r}") from None


def label(d: dict, key: str, where: str) -> str:
    """An optional string field (a node or GPU name): "" when absent, a string otherwise."""
    value = d.get(key, "")
    if not isinstance(value, str):
        raise BprInputError(f"{where}.{key}: expected a string, got {_short(value)}")
    return value


def listing(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise BprInputError(f"{where}: expected a list, got {type(value).__name__}")
    return value
