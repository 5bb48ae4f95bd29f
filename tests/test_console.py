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


def test_a_trace_is_described_by_its_requests_span_rate_and_tokens():
    import numpy as np

    from bench.console import trace_text
    from bpr.traces import Replay, Trace

    t = Trace("t", np.array([0.0, 1.0, 4.0]), np.array([5, 9, 7]), np.array([4, 1, 2]))
    assert trace_text(Replay(t, 0, 0, 0.5)) == ("trace t: 3 requests over 2 s (1/s on average), prompts 5-9 and "
                                                "outputs 1-4 tokens")
