"""Rounding shared by every algorithm that sizes servers from memory ratios (docs/model.md §5, §6, §8)."""

from __future__ import annotations

import math

# floor() of a ratio that is an integer in exact arithmetic must not drop by one through rounding.
FLOOR_EPS = 1e-9


def floor(x: float) -> int:
    """math.floor with a small upward slack, so that e.g. floor(86.13 / 8.613) is 10, not 9."""
    return math.floor(x + FLOOR_EPS)
