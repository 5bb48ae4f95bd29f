"""The report's MIP measures (bench/report.py) by hand: Berthold's primal gap and primal integral."""

import math

import numpy as np
import pandas as pd
import pytest

from bench.report import performance_profile, primal_gap, primal_integral


def test_primal_gap_by_hand():
    gaps = primal_gap(np.array([np.nan, 2.0, 1.0, 0.5]), 1.0)
    assert gaps.tolist() == [1.0, 0.5, 0.0, 0.5]
    assert primal_gap(np.array([0.0]), 0.0).tolist() == [0.0]


def test_primal_integral_by_hand():
    """No incumbent until 0.5 s (gap 1), then 2.0 against 1.0 (gap 0.5) until 2 s, then optimal; horizon
    4 s: 0.5 * 1 + 1.5 * 0.5 + 2 * 0 = 1.25."""
    progress = np.array([[0.5, 2.0, np.nan], [2.0, 1.0, 0.9]])
    assert primal_integral(progress, 1.0, 4.0) == pytest.approx(1.25)
    # a horizon before the last improvement cuts the area there: 0.5 + 0.5 * 0.5
    assert primal_integral(progress, 1.0, 1.0) == pytest.approx(0.75)
    # an incumbent at time 0 that is already optimal costs nothing
    assert math.isclose(primal_integral(np.array([[0.0, 1.0, np.nan], [3.0, 1.0, np.nan]]), 1.0, 5.0), 0.0)


def test_a_performance_profile_never_merges_two_values_of_a_setting():
    rows = pd.DataFrame({"instance": ["a"] * 4, "p_workload_l_out": [64, 64, 128, 128],
                         "algorithm": ["x", "y", "x", "y"], "per_token_s": [1.0, 2.0, 4.0, 3.0]})
    ratios = performance_profile(rows, "per_token_s", ["p_workload_l_out"])
    assert len(ratios) == 2                                  # two problems, not one instance
    assert sorted(ratios.x) == [1.0, 4.0 / 3.0] and sorted(ratios.y) == [1.0, 2.0]


def test_only_algorithms_feasible_on_every_row_of_a_cell_are_ranked(tmp_path):
    """b is cheaper on the one seed where it is feasible, but a mean over fewer seeds is not comparable: a
    is the cell's winner and b has no rank."""
    from bench.report import load, summary, winners

    rows = pd.DataFrame({"instance": ["x-s0", "x-s1"] * 2, "scenario": "x", "seed": [0, 1, 0, 1],
                         "algorithm": ["a", "a", "b", "b"], "kind": "solution", "run": 0, "mode": "offline",
                         "status": "solved", "check_status": ["feasible", "feasible", "feasible", "infeasible"],
                         "per_token_s": [1.0, 1.0, 0.5, 0.4], "runtime_s": 0.01})
    rows.to_parquet(tmp_path / "results.parquet")
    table = summary(load(tmp_path))
    ranks = dict(zip(table.algorithm, table["rank"]))
    assert ranks["a"] == 1 and pd.isna(ranks["b"])
    assert winners(table, ["scenario"], ["mode"]).algorithm.tolist() == ["a"]


def test_page_tables_show_numbers_for_people_and_never_crash():
    """4 significant digits (a tiny runtime is not 0), whole numbers without ".0", blanks for missing
    values, percentages with 2 decimals, and an infinite value shown as such."""
    import json
    import re

    from bench.report_html import table

    html = table(pd.DataFrame({"runtime_s": [4e-5, np.nan], "servers": [9.0, np.nan], "ratio": [1.0, np.inf],
                               "gap": [0.2085, np.nan], "per_token_s": [0.51284, 1.23456]}))
    data = json.loads(json.loads(re.search(r'"data_json": (".*?[^\\]")', html).group(1)))
    shown = [[str(cell[0] if isinstance(cell, list) else cell).strip() for cell in row] for row in data]
    assert shown == [["0.00004", "9", "1", "20.85", "0.5128"], ["", "", "inf", "", "1.2350"]]


def test_a_progress_log_that_knows_nothing_draws_no_curve(tmp_path):
    """A model whose objective is not the instance's cost (Helix's max-flow) records no incumbent or bound on
    the run's clock: the report draws no empty convergence curve and takes no primal integral of it."""
    import json

    from bench.report import findings, load

    rows = pd.DataFrame({"instance": ["x-s0"] * 2, "scenario": "x", "seed": 0, "algorithm": ["helix", "exact"],
                         "kind": "solution", "run": 0, "mode": "offline", "status": "solved",
                         "check_status": "feasible", "per_token_s": [0.6, 0.5], "runtime_s": 5.0,
                         "lower_bound_s": np.nan, "job_dir": str(tmp_path)})
    rows.to_parquet(tmp_path / "results.parquet")
    (tmp_path / "solutions").mkdir()
    for alg, log in (("helix", [[0, None, None], [5.0, None, None]]), ("exact", [[0, None, None], [1.0, 0.5, 0.4]])):
        (tmp_path / "solutions" / f"{alg}.json").write_text(json.dumps({"solver": {"progress": log}}))
    f = findings(tmp_path, load(tmp_path))
    assert [f.df.loc[i, "algorithm"] for i in f.progress] == ["exact"]
