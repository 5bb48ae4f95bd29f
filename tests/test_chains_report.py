"""The chain-serving report (bench/chains_report.py) on hand-made result rows: per cell the means over runs,
reductions 1 - chains / other, the fastest system, and no mean where a run left requests unserved."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import chains_report as cr

ROOT = Path(__file__).resolve().parents[1]


def _row(alg, cal, run, response, per_token, status="served", workload="poisson"):
    trace = {"trace": "azure_code", "p_workload_time_scale": 10.0} if workload == "trace" else {"trace": None}
    return {"kind": "online", "scenario": "net", "algorithm": alg, "p_calibration_name": cal, "run": run,
            "arrival_rate": 0.2, "status": "solved" if status == "served" else "infeasible", "sim_status": status,
            "response_s": response, "p95_response_s": response, "wait_s": 1.0, "service_s": 2.0,
            "per_token_s": per_token, **trace}


@pytest.fixture
def df():
    rows = [_row("chains", cal, r, 10.0 + r, 0.5) for cal in ("none", "paper") for r in (0, 1)]
    rows += [_row("proposed", "none", r, 20.0 + 2 * r, 0.4) for r in (0, 1)]
    rows += [_row("proposed", "paper", r, 40.0, 0.9) for r in (0, 1)]
    rows += [_row("petals", "none", 0, 50.0, 1.0), _row("petals", "none", 1, np.nan, np.nan, "unserved")]
    rows += [_row("jffc_only", "none", 0, np.nan, np.nan, "none")]
    rows += [_row("chains", "none", 0, 30.0, 0.6, workload="trace"), _row("proposed", "none", 0, 15.0, 0.3,
                                                                         workload="trace")]
    return pd.DataFrame(rows)


def test_cells_means_and_reductions(df):
    cells = cr.measures(df)
    assert set(cells) == {("net", "Poisson 0.2/s"), ("net", "azure_code x10")}
    cell = cells[("net", "Poisson 0.2/s")]
    chains, proposed = cr.system(cell, "chains", "none"), cr.system(cell, "proposed", "none")
    assert chains.response_s == 10.5 and proposed.response_s == 21.0 and chains.runs == 2
    assert cr.reduction(chains, proposed) == pytest.approx(0.5)
    assert cr.reduction(chains, cr.system(cell, "proposed", "paper")) == pytest.approx(1 - 10.5 / 40)
    assert cr.reduction(chains, proposed, "per_token_s") == pytest.approx(1 - 0.5 / 0.4)
    # one unserved run: PETALS has no mean in this cell, and no reduction against it
    petals = cr.system(cell, "petals", "none")
    assert not petals.ok and petals.status == "infeasible" and np.isnan(cr.reduction(chains, petals))
    systems = cr.compared(cells)
    assert cr.winner(cell, "response_s", systems) == "chains" and cr.winner(cell, "per_token_s", systems) == "proposed"
    trace = cells[("net", "azure_code x10")]
    assert cr.winner(trace, "response_s", systems) == "proposed"
    assert cr.system(trace, "petals", "paper").status == "not run"


def test_summary_counts_only_cells_where_both_served(df):
    lines = cr.summary(cr.measures(df), {"simulation": {"reduction_percent": [8, 83]}})
    text = "\n".join(lines)
    assert "| Poisson 0.2/s | proposed | none | 1 | 1 | +50 % to +50 % | 1 of 1 |" in text
    assert "| azure_code x10 | proposed | none | 1 | 0 | -100 % to -100 % | 0 of 1 |" in text
    assert "PETALS | none" not in text       # its only Poisson mean is not a mean: a run was unserved


def test_other_systems_join_the_table_the_standing_and_the_figure(df, tmp_path):
    """A peer or spill in the sweep (docs/peers.md) is a column, a system the fastest is taken over, and a
    line of the standing: its cells served, cells fastest (a tie counts for both) and ratio to the fastest."""
    spill = [_row("spill", "none", r, 10.0 + r, 0.5) for r in (0, 1)]
    spill.append(_row("spill", "none", 0, 12.0, 0.3, workload="trace"))
    cells = cr.measures(pd.concat([df, pd.DataFrame(spill)], ignore_index=True))
    assert cr.others(cells) == ["spill"] and cr.winner(cells[("net", "azure_code x10")], "response_s",
                                                       cr.compared(cells)) == "spill"
    text = "\n".join(cr.standing(cells))
    assert "| Poisson 0.2/s | chains | 1 of 1 | 1 | 1.00 | 1.00 |" in text
    assert "| Poisson 0.2/s | spill | 1 of 1 | 1 | 1.00 | 1.00 |" in text
    assert "| Poisson 0.2/s | proposed | 1 of 1 | 0 | 2.00 | 2.00 |" in text
    assert "| Poisson 0.2/s | PETALS | 0 of 1 | 0 | – | – |" in text
    assert "| azure_code x10 | chains | 1 of 1 | 0 | 2.50 | 2.50 |" in text
    assert "| azure_code x10 | proposed | 1 of 1 | 0 | 1.25 | 1.25 |" in text
    assert "spill" in cr.cell_table(cells)[0]
    assert cr.figure(cells, tmp_path / "all.png").exists()


def test_no_served_system_no_figure(tmp_path):
    cells = cr.measures(pd.DataFrame([_row("petals", "none", 0, np.nan, np.nan, "unserved")]))
    assert cr.figure(cells, tmp_path / "none.png") is None and not (tmp_path / "none.png").exists()


def test_a_sweep_writes_its_report_and_figure(tmp_path):
    """End to end from a sweep directory: the report and the figure it links."""
    from bench.chains_report import write

    out = tmp_path / "sweep"
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "-m", f"hydra.sweep.dir={out}",
                          "mode=online", "instance=abovenet", "workload.n_requests=10", "algorithms=[spill]",
                          "hydra.callbacks={}"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    report = write(out)
    assert report.exists() and (out / "chains.png").exists()
    assert "chains.png" in report.read_text() and "| spill |" in report.read_text()
