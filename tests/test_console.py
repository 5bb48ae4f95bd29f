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


def test_the_job_line_says_its_wall_time_and_what_each_limit_covers():
    import pandas as pd

    from bench.console import timing

    rows = pd.DataFrame({"algorithm": ["cg_bprr", "exact", "lower_bounds:capacity", "lower_bounds:extended_lp",
                                       "lns", "lower_bounds:best"],
                         "time_limit_s": [None, 60.0, 60.0, 60.0, 10.0, None]})
    assert timing(rows, 71.26) == ("job: 71.3 s wall in all; time limit per algorithm run: 10 s for lns; 60 s for "
                                   "each of exact, lower_bounds (lower_bounds: one limit for all its bounds)")
    assert timing(rows.iloc[:1], 0.04) == "job: 0.0 s wall in all; no time limit (none of the algorithms takes one)"


@pytest.mark.parametrize("status, word", [("solved", "bound"), ("optimal", "bound (optimal)"),
                                          ("time_limit", "bound (time_limit)"), ("skipped", "bound (skipped)")])
def test_a_bound_row_reads_as_its_bounds_status_in_the_console_and_the_report(status, word):
    import pandas as pd

    from bench.console import _status
    from bench.report import verdict

    row = {"kind": "bound", "status": status, "check_status": "none", "has_solution": False}
    assert _status(pd.Series(row)) == word
    assert verdict(row) == (word if status != "skipped" else "skipped")
