"""Numbers rounded for people (console, logs, markdown tables): never ``-0.0 %`` and never ``nan``; JSON,
CSV and parquet keep full precision."""

from __future__ import annotations

import math
import re
from typing import Any, Optional

import pandas as pd


def missing(x: Any) -> bool:
    return x is None or isinstance(x, float) and math.isnan(x)


def rounded(x: float, spec: str) -> str:
    """``format(x, spec)`` with a value that rounds to zero written without its sign."""
    text = format(x, spec)
    return text if re.search(r"[1-9]", text.split("e")[0]) else text.replace("-", "", 1)


def percent(x: Optional[float], digits: int = 1, signed: bool = True, space: str = " ",
            empty: str = "") -> str:
    """The fraction ``x`` as a percentage: ``percent(-0.0004) == '0.0 %'``, ``percent(0.123) == '+12.3 %'``."""
    if missing(x):
        return empty
    value = round(100 * x, digits)
    if value == 0:
        return f"{0:.{digits}f}{space}%"
    return f"{value:{'+' if signed else ''}.{digits}f}{space}%"


def markdown(df: pd.DataFrame, floats: str = ".4g") -> str:
    """A markdown table; floats formatted with the spec ``floats``, rounded for people."""
    def cell(x):
        if isinstance(x, float):
            return "" if math.isnan(x) else rounded(x, floats)
        return str(x)
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)
