"""Numbers rounded for people (console, logs, markdown tables): never ``-0.0 %`` and never ``nan``; JSON,
CSV and parquet keep full precision."""

from __future__ import annotations

import math
import re
from typing import Any, Optional

import pandas as pd

from bpr.schema import FRACTIONS as SCHEMA_FRACTIONS

# every column a table of the suite shows that holds a fraction: the schema's, the report's (bench/report.py)
# and the library's (bench/library.py); shown in percent, under its results.csv name with " [%]"
FRACTIONS = frozenset(SCHEMA_FRACTIONS) | {
    "gap_to_best_known", "gap_to_library_bound", "true_gap", "mean_true_gap", "max_true_gap",
    "mean_gap_to_best_known", "mean_gap_to_bound", "mean_primal_gap", "mean_gap", "max_gap"}


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


PERCENT = " [%]"     # what a fraction column's name gets when it is shown in percent


def in_percent(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every fraction column (``FRACTIONS``) times 100 under its name with `` [%]``: the same word
    as results.csv, the number as people read it (0.2085 -> ``gap [%]`` 20.85)."""
    shown = [c for c in df if c in FRACTIONS]
    return df.assign(**{c: 100 * df[c].astype(float) for c in shown}).rename(columns={c: f"{c}{PERCENT}"
                                                                                       for c in shown})


def is_percent(column: Any) -> bool:
    """Whether a column of ``in_percent``'s output is a percentage (shown with 2 decimals)."""
    return str(column).endswith(PERCENT)


def markdown(df: pd.DataFrame, floats: str = ".4g") -> str:
    """A markdown table, fractions in percent (``in_percent``); floats formatted with the spec ``floats``,
    rounded for people."""
    df = in_percent(df)
    specs = [".2f" if is_percent(c) else floats for c in df.columns]   # 0.00 %, never 2.2e-14 %

    def cell(x: Any, spec: str) -> str:
        if x is pd.NA:
            return ""
        if isinstance(x, float):
            return "" if math.isnan(x) else rounded(x, spec)
        return str(x)
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(x, spec) for x, spec in zip(row, specs)) + " |"
              for row in df.itertuples(index=False)]
    return "\n".join(lines)
