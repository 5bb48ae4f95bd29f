"""The console's words for people (bench/console.py)."""

import math

import pytest

from bench.console import _vs_petals


@pytest.mark.parametrize("reduction, said", [
    (0.024, "2.4% faster"),      # per-token time 2.4 % below PETALS's
    (-0.015, "1.5% slower"),
    (0.0004, "same"),            # rounds to 0.0 %
    (-0.0004, "same"),
    (math.nan, ""),              # no feasible PETALS to compare with
    (None, ""),
])
def test_a_reduction_against_petals_is_said_as_faster_or_slower(reduction, said):
    assert _vs_petals(reduction) == said
