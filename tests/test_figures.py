"""No figure the suite writes cuts a title, a legend or a label: every PNG kind (the report's by-cell bars,
sweep lines, performance profiles and convergence curves, an online job's bars) is drawn from rows with long
names, and its outer margin must be background: an artist that reaches the image's edge was clipped."""

import json

import numpy as np
import pandas as pd
from matplotlib.image import imread

from bench import figures
from bench.report import figures as report_figures
from bench.report import findings, load

LONG = ["petals-opt-number-with-a-long-name", "restricted_master-with-another-long-name", "cg_bprr", "petals",
        "size_layout", "optimal_routing"]
MARGIN_PX = 4


def clipped(path) -> bool:
    """Whether a non-white pixel lies within ``MARGIN_PX`` of the image's edge."""
    rgb = imread(path)[..., :3]
    edge = np.concatenate([rgb[:MARGIN_PX].reshape(-1, 3), rgb[-MARGIN_PX:].reshape(-1, 3),
                           rgb[:, :MARGIN_PX].reshape(-1, 3), rgb[:, -MARGIN_PX:].reshape(-1, 3)])
    return bool((edge < 0.98).any())


def sweep_rows(tmp_path) -> pd.DataFrame:
    """Two scenarios, a swept arrival rate with a long label, two seeds, six algorithms; one row with a
    progress log in its solution file (a convergence curve)."""
    rng = np.random.default_rng(0)
    rows = []
    for scenario in ("abovenet", "a-scenario-with-a-long-name"):
        for lam in (0.1, 0.2, 0.3):
            for seed in (0, 1):
                for alg in LONG:
                    rows.append({"instance": f"{scenario}-s{seed}", "scenario": scenario, "seed": seed,
                                 "algorithm": alg, "kind": "solution", "run": 0, "mode": "offline",
                                 "status": "solved", "check_status": "feasible", "has_solution": True,
                                 "per_token_s": 0.5 + rng.random(), "runtime_s": 0.01 + rng.random(),
                                 "lower_bound_s": np.nan, "p_workload_arrival_rate": lam,
                                 "job_dir": str(tmp_path)})
    (tmp_path / "solutions").mkdir()
    progress = {"solver": {"progress": [[0, None, None], [0.5, 0.9, 0.4], [2.0, 0.7, 0.6]]}}
    (tmp_path / "solutions" / f"{LONG[1]}.json").write_text(json.dumps(progress))
    return pd.DataFrame(rows)


def test_no_report_figure_is_clipped(tmp_path):
    sweep_rows(tmp_path).to_parquet(tmp_path / "results.parquet")
    df = load(tmp_path)
    written = report_figures(findings(tmp_path, df), tmp_path / "figures")
    kinds = ("per_token_by_instance", "per_token_vs_", "profile_quality", "profile_runtime", "convergence_")
    assert all(any(p.name.startswith(kind) for p in written) for kind in kinds)    # every kind was drawn
    assert [p.name for p in written if clipped(p)] == []


def test_no_online_figure_is_clipped(tmp_path):
    summary = pd.DataFrame({"algorithm": LONG, "per_token_s": np.linspace(0.5, 1.5, len(LONG)),
                            "per_token_std_s": 0.05})
    trace = pd.DataFrame({"algorithm": LONG, "served": True, "wait": 1.0, "ttft": 3.0, "start": 0.0,
                          "completion": 60.0})
    title = ("an-instance-with-a-long-name-s0, lambda = 0.6/s, l_out = 128, 3 run(s)\n" + "calibration paper: "
             + "a long note about the allocation delay of every algorithm " * 3)
    figures.online(summary, trace, tmp_path, title)
    written = sorted(tmp_path.glob("*.png"))
    assert [p.name for p in written] == ["per_token_time.png", "ttft_decode.png"]
    assert [p.name for p in written if clipped(p)] == []


def test_an_algorithm_keeps_its_colour_in_every_panel_and_the_legend_names_all(monkeypatch, tmp_path):
    """'b' has no feasible row on scenario x: its bar is missing there, yet 'c' keeps its colour across both
    panels and the legend lists a, b and c."""
    from matplotlib.colors import to_hex

    from bench import report

    drawn = {}
    monkeypatch.setattr(report, "save", lambda fig, path, tight=True: drawn.setdefault("fig", fig) and path)
    table = pd.DataFrame({"scenario": ["x", "x", "y", "y", "y"], "mode": "offline",
                          "algorithm": ["a", "c", "a", "b", "c"], "per_token_s": [1.0, 2.0, 1.0, 1.5, 2.0],
                          "per_token_sd": np.nan})
    report._by_instance(table, [], tmp_path / "by.png")
    fig = drawn["fig"]
    colour = [{c.get_label(): to_hex(c.patches[0].get_facecolor()) for c in ax.containers}
              for ax in fig.axes if ax.get_visible()]
    assert colour[0]["a"] == colour[1]["a"] and colour[0]["c"] == colour[1]["c"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b", "c"]
