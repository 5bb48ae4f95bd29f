"""Numbers rounded for people (bench/rounding.py): no negative zero, no nan, signs where asked."""

import math

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from bench.rounding import markdown, percent, rounded


def test_percent_of_tiny_negative_fractions_has_no_sign():
    assert percent(-0.0004) == "0.0 %" and percent(-0.0) == "0.0 %" and percent(-0.004, digits=0) == "0 %"
    assert percent(0.123) == "+12.3 %" and percent(-0.05, digits=0) == "-5 %"
    assert percent(0.5, signed=False, space="") == "50.0%"
    assert percent(None) == "" and percent(math.nan, empty="–") == "–"


@given(st.floats(min_value=-1e-3, max_value=1e-3), st.sampled_from([".1f", ".2f", "+.1f", ".2%", ".0f"]))
def test_nothing_that_rounds_to_zero_is_written_negative(x, spec):
    text = rounded(x, spec)
    assert float(text.rstrip("%")) != 0 or not text.startswith("-")
    assert float(text.rstrip("%")) == float(format(x, spec).rstrip("%"))   # the same number otherwise


def test_markdown_tables_never_show_negative_zero():
    text = markdown(pd.DataFrame({"x": [-1e-12, -0.25]}), ".2%")
    assert "| 0.00% |" in text and "| -25.00% |" in text and "-0.00" not in text


def test_fractions_read_in_percent_under_their_results_csv_name():
    """One vocabulary: a fraction column keeps its name with " [%]"; its value is 100x, two decimals."""
    text = markdown(pd.DataFrame({"algorithm": ["a", "b"], "gap": [0.2085, -1e-12], "per_token_s": [0.51, 0.52]}))
    assert text.splitlines()[0] == "| algorithm | gap [%] | per_token_s |"
    assert "| a | 20.85 | 0.51 |" in text and "| b | 0.00 | 0.52 |" in text
