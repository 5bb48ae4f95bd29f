"""The certified instance library (docs/library.md): frozen instances, recorded solutions that re-check,
golden heuristic costs, exact optima that the extended model reaches again, and an update tool that keeps
only improvements and refuses a wrong table or sweep by name."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from factories import solver_ctx

from bench import library
from bench.options import make_options
from bpr import instance as instance_io
from bpr.grading import grade
from solvers.algorithms import exact
from solvers.framework import registry

ROOT = Path(__file__).resolve().parents[1]


def test_catalog_experiment_and_frozen_files_agree():
    names = list(library.catalog())
    assert len(names) >= 24
    swept = yaml.safe_load((ROOT / "conf" / "experiment" / "library.yaml").read_text())
    assert swept["hydra"]["sweeper"]["params"]["instance.file"].split(",") == [f"library:{n}" for n in names]
    table = library.load_table()
    assert sorted(table.name) == sorted(names)
    for name in names:
        inst = instance_io.load(library.instance_path(name))
        assert inst.name == name
        row = table.set_index("name").loc[name]
        assert (row.n_servers, row.R, row.L) == (inst.n_servers, inst.R, inst.L)


def test_binding_instances_take_their_share_of_r_max():
    """binding: 0.8 R_max; a number: that share; the hard tier sweeps every binding network at 0.6/0.8/0.95."""
    from solvers.algorithms.design_load import r_max

    inst = instance_io.load(library.instance_path("abovenet-binding"))
    assert inst.R == round(0.8 * r_max(inst))
    catalog = library.catalog()
    hard = yaml.safe_load((ROOT / "conf" / "experiment" / "library_hard.yaml").read_text())
    swept = [n.removeprefix("library:") for n in hard["hydra"]["sweeper"]["params"]["instance.file"].split(",")]
    bases = [n.removesuffix("-binding") for n, e in catalog.items() if e.get("R") == "binding"]
    assert sorted(swept) == sorted(f"{b}-{tier}" for b in bases for tier in ("r60", "binding", "r95"))
    for name in swept:
        share = {"binding": 0.8}.get(catalog[name]["R"], catalog[name]["R"])
        inst = instance_io.load(library.instance_path(name))
        assert inst.R == max(1, round(float(share) * r_max(inst))) and inst.n_servers <= 30


def test_every_recorded_solution_rechecks():
    assert library.check_table() == []
    table = library.load_table()
    assert table.best_known_s.notna().all(), "every library instance has a best known solution"
    solved = table[table.status == "optimal"]
    assert len(solved) >= 10 and (solved.gap <= library.OPTIMAL_GAP).all()
    assert (table.best_bound_s <= table.best_known_s * (1 + library.OPTIMAL_GAP)).all()


def golden() -> pd.DataFrame:
    return pd.read_csv(library.GOLDEN, keep_default_na=False, na_values={"per_token_s": [""]})


def test_the_golden_numbers_cover_the_library():
    table = golden()
    assert len(table) >= 4 * 20 and set(table.name) <= set(library.catalog())


@pytest.mark.parametrize("name", sorted(set(golden().name)))     # one case per instance: they run in parallel
def test_heuristics_cost_the_golden_numbers(name):
    inst = instance_io.load(library.instance_path(name))
    for row in golden()[lambda t: t.name == name].itertuples(index=False):
        opts = make_options(registry.get(row.algorithm), json.loads(row.options) if row.options else {})
        g = grade(inst, registry.call(row.algorithm, inst, options=opts))
        assert g.solution.status == row.check_status, (name, row.algorithm)
        if pd.notna(row.per_token_s):
            expected = pytest.approx(row.per_token_s, rel=1e-9, abs=0)
            assert g.evaluation.per_token_s == expected, (name, row.algorithm)


@pytest.mark.parametrize("name", ["clustered-c0"])     # a library optimum the extended model proves again in seconds
def test_exact_reaches_the_recorded_optimum(name):
    row = library.load_table().set_index("name").loc[name]
    assert row.status == "optimal"
    inst = instance_io.load(library.instance_path(name))
    sol = exact.solve(inst, ctx=solver_ctx(rel_gap=1e-4, time_limit=120, log=False, progress=False))
    assert sol.termination == "optimal"
    assert grade(inst, sol).evaluation.per_token_s == pytest.approx(row.best_known_s, rel=library.OPTIMAL_GAP)


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A copy of the library (only clustered-c0 recorded as unknown) that the tests may change."""
    lib = tmp_path / "library"
    shutil.copytree(library.LIBRARY, lib)
    monkeypatch.setattr(library, "LIBRARY", lib)
    monkeypatch.setattr(library, "CATALOG", lib / "catalog.yaml")
    monkeypatch.setattr(library, "TABLE", lib / "library.csv")
    table = library.load_table()
    cols = ["best_known_s", "best_bound_s", "gap", "solution", "algorithm", "solver", "time_limit", "rel_gap",
            "bound_from", "commit"]
    table.loc[table.name == "clustered-c0", cols] = None
    table.loc[table.name == "clustered-c0", "status"] = "open"
    library.save_table(table)
    return lib


def _sweep(tmp_path: Path, algorithms: str, job: str) -> Path:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "instance=file",
                          "instance.file=library:clustered-c0", f"algorithms={algorithms}",
                          f"hydra.run.dir={tmp_path / 'sweep' / job}"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return tmp_path / "sweep"


@pytest.fixture(scope="session")
def cg_bprr_sweep(tmp_path_factory) -> Path:
    """One job of cg_bprr on clustered-c0, run once for the tests that damage a table (each takes a copy)."""
    return _sweep(tmp_path_factory.mktemp("cg_bprr"), "[cg_bprr]", "0")


def test_update_keeps_improvements_only_and_rechecks(sandbox, tmp_path):
    sweep = _sweep(tmp_path, "[petals,lower_bounds]", "0")
    changes, problems = library.update(sweep)
    assert problems == [] and any("best known" in c for c in changes)
    row = library.load_table().set_index("name").loc["clustered-c0"]
    petals_cost = row.best_known_s
    assert row.algorithm == "petals" and (sandbox / row.solution).exists() and row.status in ("open", "optimal")
    # a sweep that finds a better solution replaces it; the same sweep again changes nothing
    sweep = _sweep(tmp_path, "[cg_bprr]", "1")
    changes, problems = library.update(sweep)
    row = library.load_table().set_index("name").loc["clustered-c0"]
    assert problems == [] and row.best_known_s <= petals_cost
    before = (sandbox / "library.csv").read_text()
    assert library.update(sweep) == ([], []) and (sandbox / "library.csv").read_text() == before
    assert library.check_table() == []


@pytest.mark.xdist_group("cg_bprr_sweep")       # one worker runs the shared sweep once
@pytest.mark.parametrize("damage, message", [
    ("missing", "solution file"),
    ("infeasible", "is infeasible"),
    ("cost", "the table says"),
    ("outside", "lies outside"),
])
def test_a_wrong_table_is_refused_by_name_and_nothing_merged(sandbox, tmp_path, cg_bprr_sweep, damage, message):
    sweep = shutil.copytree(cg_bprr_sweep, tmp_path / "sweep")
    assert library.update(sweep)[1] == []
    table = library.load_table()
    row = table.set_index("name").loc["clustered-c0"]
    sol_file = sandbox / row.solution
    if damage == "missing":
        sol_file.unlink()
    elif damage == "infeasible":
        sol = json.loads(sol_file.read_text())
        sol["routes"][0]["servers"] = sol["routes"][0]["servers"][:-1]
        sol_file.write_text(json.dumps(sol))
    elif damage == "outside":  # a path in the table never leads out of the library
        outside = tmp_path / "elsewhere.json"
        outside.write_text(sol_file.read_text())
        table.loc[table.name == "clustered-c0", "solution"] = f"../../../../../../../..{outside}"
        library.save_table(table)
    else:
        table.loc[table.name == "clustered-c0", "best_known_s"] = row.best_known_s * 0.9
        library.save_table(table)
    before = (sandbox / "library.csv").read_text()
    changes, problems = library.update(sweep)
    assert changes == [] and any(p.startswith("clustered-c0: ") and message in p for p in problems)
    assert (sandbox / "library.csv").read_text() == before
    assert library.main(["check"]) == 2


def test_heuristic_gaps_by_tier_hand_computed():
    """A true gap against an optimum, a gap to the bound where the instance is open, infeasible rows
    counted but never in a gap; tiers from the catalog's R."""
    golden = pd.DataFrame([
        {"name": "abovenet", "algorithm": "a", "check_status": "feasible", "per_token_s": 0.5},
        {"name": "abovenet", "algorithm": "b", "check_status": "infeasible", "per_token_s": 0.1},
        {"name": "abovenet-binding", "algorithm": "a", "check_status": "feasible", "per_token_s": 1.0},
        {"name": "abovenet-r60", "algorithm": "a", "check_status": "feasible", "per_token_s": 0.8},
    ])
    table = pd.DataFrame([
        {"name": "abovenet", "status": "optimal", "best_known_s": 0.4, "best_bound_s": 0.4},
        {"name": "abovenet-binding", "status": "open", "best_known_s": 0.9, "best_bound_s": 0.6},
        {"name": "abovenet-r60", "status": "open", "best_known_s": 0.8, "best_bound_s": 0.7},
    ])
    gaps = library.heuristic_gaps(golden, table).set_index(["tier", "status", "algorithm"])
    a = gaps.loc[("default R", "optimal", "a")]
    assert a.feasible == 1 and a.mean_gap == pytest.approx(0.2)
    b = gaps.loc[("default R", "optimal", "b")]
    assert b.feasible == 0 and b.with_gap == 0 and np.isnan(b.mean_gap)
    binds = gaps.loc[("memory binds", "open", "a")]
    assert binds.instances == 2 and binds.mean_gap == pytest.approx((0.4 + 0.125) / 2)
    assert binds.max_gap == pytest.approx(0.4)
