"""The search-quality tool (bench/search_quality.py): its summary counts hand-made gaps, an instance without
a proved optimum is listed and never counted, and bad arguments are one line and exit 2."""

import pandas as pd

from bench import search_quality as sq


def test_summary_counts_gaps_by_limit_and_lists_unproved_instances():
    rows = [{"seed": 1, "limit_s": 1.0, "gap": 0.005}, {"seed": 2, "limit_s": 1.0, "gap": 0.02},
            {"seed": 3, "limit_s": 1.0, "gap": 0.05}, {"seed": 4, "limit_s": 1.0, "gap": None},
            {"seed": 1, "limit_s": 30.0, "gap": 0.0}, {"seed": 2, "limit_s": 30.0, "gap": 0.01},
            {"seed": 9, "limit_s": None, "gap": None}]
    text = sq.summary(pd.DataFrame(rows))
    assert "| 1 | 4 | 1 | 2 | 2.50 % | 5.00 % | 1 |" in text          # mean over the three with a gap
    assert "| 30 | 2 | 2 | 2 | 0.50 % | 1.00 % | 0 |" in text
    assert "Without a proved optimum: 9." in text


def test_bad_arguments_are_one_line_and_exit_2(capsys):
    assert sq.main(["--seeds", "7:3"]) == 2 and "--seeds" in capsys.readouterr().err
    assert sq.main(["--limits", "1,x"]) == 2 and "--limits" in capsys.readouterr().err
