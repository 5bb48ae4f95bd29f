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
from bpr.errors import BprInputError
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
    solved = table[table.status != "open"]
    assert len(solved) >= 10 and (solved.gap <= library.OPTIMAL_GAP).all()
    for row in table[table.status == "optimal"].itertuples(index=False):   # two routes prove each optimum
        proofs = [b for b in library.parse_routes(row.routes).values() if library.closes(row.best_known_s, b)]
        assert len(proofs) >= library.ROUTES_NEEDED, row.name
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
    assert row.status != "open"
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
    monkeypatch.setattr(library, "LIBRARY_INSTANCES", lib / "instances")
    table = library.load_table()
    cols = ["best_known_s", "best_bound_s", "gap", "solution", "algorithm", "solver", "time_limit", "rel_gap",
            "bound_from", "routes", "commit"]
    table.loc[table.name == "clustered-c0", cols] = None
    table.loc[table.name == "clustered-c0", "status"] = "open"
    library.save_table(table)
    return lib


def _sweep(tmp_path: Path, algorithms: str, job: str, *overrides: str) -> Path:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "instance=file",
                          "instance.file=library:clustered-c0", f"algorithms={algorithms}",
                          f"hydra.run.dir={tmp_path / 'sweep' / job}", *overrides], capture_output=True, text=True)
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
    assert row.algorithm == "petals" and (sandbox / row.solution).exists() and row.status in library.STATUSES
    # every bound of the sweep is a route of its own (its formulation), with its value
    routes = library.parse_routes(row.routes)
    assert "lower_bounds:per_request@highs" in routes and max(routes.values()) == pytest.approx(row.best_bound_s)
    # a sweep that finds a better solution replaces it; the same sweep again changes nothing
    sweep = _sweep(tmp_path, "[cg_bprr]", "1")
    changes, problems = library.update(sweep)
    row = library.load_table().set_index("name").loc["clustered-c0"]
    assert problems == [] and row.best_known_s <= petals_cost
    before = (sandbox / "library.csv").read_text()
    assert library.update(sweep) == ([], []) and (sandbox / "library.csv").read_text() == before
    assert library.check_table() == []


def test_a_certificate_is_kept_beside_the_table_and_checked(sandbox, tmp_path):
    """size_branch's bound is a route whose proof is its solution file's certificate: the update keeps the
    file, check re-derives its arithmetic and refuses a missing or altered one."""
    sweep = _sweep(tmp_path, "[size_branch]", "0", "algorithm.size_branch.lns_s=0")
    changes, problems = library.update(sweep)
    assert problems == [] and any("route size_branch@highs" in c for c in changes)
    path = library.certificate_path("clustered-c0", "size_branch@highs")
    row = library.load_table().set_index("name").loc["clustered-c0"]
    assert path.exists() and library.parse_routes(row.routes)["size_branch@highs"] == pytest.approx(row.best_bound_s)
    assert library.check_table() == []
    payload = json.loads(path.read_text())
    payload["certificate"]["bound"] *= 0.99
    path.write_text(json.dumps(payload))
    assert any("not the minimum of its parts" in p for p in library.check_table())
    path.unlink()
    assert any("has no certificate file" in p for p in library.check_table())


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


def _result(sweep: Path) -> tuple[Path, dict]:
    path = next(sweep.rglob("result.json"))
    return path, json.loads(path.read_text())


@pytest.mark.xdist_group("cg_bprr_sweep")
@pytest.mark.parametrize("forgery, message", [
    ("instance", "ran another instance than the library's"),      # same name, every delay 1 % longer
    ("algorithm", "unknown algorithm 'no-such-solver'"),
    ("escape", "unknown algorithm '../../../elsewhere'"),          # a path out of the sweep, by its name
    ("bound", "cg_bprr computes no bound"),
])
def test_an_update_takes_only_what_the_library_re_derives(sandbox, tmp_path, cg_bprr_sweep, forgery, message):
    sweep = shutil.copytree(cg_bprr_sweep, tmp_path / "sweep")
    path, payload = _result(sweep)
    if forgery == "instance":
        inst = json.loads((path.parent / "instance.json").read_text())
        for server in inst["servers"]:
            server["tau"] *= 1.01
        (path.parent / "instance.json").write_text(json.dumps(inst))
    elif forgery in ("algorithm", "escape"):
        payload["rows"][0]["algorithm"] = "no-such-solver" if forgery == "algorithm" else "../../../elsewhere"
    else:
        payload["rows"][0]["lower_bound_s"] = payload["rows"][0]["per_token_s"]     # would certify it
    path.write_text(json.dumps(payload))
    before = (sandbox / "library.csv").read_text()
    changes, problems = library.update(sweep)
    assert changes == [] and any(p.startswith("clustered-c0: ") and message in p for p in problems), problems
    assert (sandbox / "library.csv").read_text() == before


def test_an_optimum_needs_two_independent_routes():
    """Status from the best known, the best bound and the routes (hand-made numbers): one route within the
    gap proves it once; two prove it only when they differ in formulation or in solver (a model's LP
    relaxation on the same solver is the same route); a route that falls short proves nothing."""
    best = 0.5
    close, far = best * (1 - library.OPTIMAL_GAP / 2), best * 0.9
    status = lambda routes, bound=close: library._status(best, bound, routes)[1]  # noqa: E731
    assert library._status(best, close, {"exact@highs": close}) == (pytest.approx(library.OPTIMAL_GAP / 2),
                                                                     "proved_once")
    assert status({"exact@highs": close, "exact@scip": close}) == "optimal"                       # two solvers
    assert status({"exact@highs": close, "lower_bounds:per_request@highs": close}) == "optimal"  # two models
    assert status({"exact@highs": close, "lower_bounds:extended_lp@highs": close}) == "proved_once"
    assert status({"exact@highs": close, "lower_bounds:capacity@highs": far}) == "proved_once"
    assert status({"lower_bounds:capacity@highs": far}, far) == "open"
    named = {"lower_bounds:capacity@highs": far, "exact@highs": close}
    assert library.parse_routes(library.routes_text(named)) == named
    bound_row = pd.Series({"algorithm": "lower_bounds:extended_lp", "p_solver_name": "highs"})
    assert library.route_of(bound_row) == "lower_bounds:extended_lp@highs"
    assert library.route_of(pd.Series({"algorithm": "exact", "p_solver_name": "scip"})) == "exact@scip"
    for bad in ("exact@scip=0.4;exact@scip=0.5", "=0.4", "exact=0.4"):
        with pytest.raises(BprInputError, match="routes"):
            library.parse_routes(bad)


@pytest.mark.parametrize("edit, message", [
    ("status", "unknown status 'proven'"),
    ("contradiction", "contradict"),
    ("one route", "contradict"),
    ("route above", "above the best bound"),
    ("routes", "is not route=bound"),
    ("deleted", "in the catalog but not in the table"),
    ("stranger", "not an instance of the catalog"),
    ("frozen", "not the one the table certifies"),
    ("R", "the table says R = "),
])
def test_check_re_derives_every_row_from_the_frozen_files_and_the_catalog(sandbox, edit, message):
    table = library.load_table()
    at = table.index[table.name == "abilene"][0]
    if edit == "status":
        table.loc[at, "status"] = "proven"
    elif edit == "contradiction":     # an open instance called optimal
        at = table.index[table.status == "open"][1]
        table.loc[at, "status"] = "optimal"
    elif edit == "one route":         # an optimum proved once, called optimal
        at = table.index[table.status == "proved_once"][0]
        table.loc[at, "status"] = "optimal"
    elif edit == "route above":
        table.loc[at, "routes"] = library.routes_text({"exact@scip": table.loc[at, "best_bound_s"] * 1.01})
    elif edit == "routes":
        table.loc[at, "routes"] = "exact@scip"
    elif edit == "deleted":
        table = table.drop(index=at)
    elif edit == "stranger":
        table.loc[at, "name"] = "atlantis"
    elif edit == "frozen":            # M doubled, the row still optimal
        path = sandbox / "instances" / "abilene.json"
        inst = json.loads(path.read_text())
        for server in inst["servers"]:
            server["M"] *= 2
        path.write_text(json.dumps(inst))
    else:
        table.loc[at, "R"] += 1
    library.save_table(table)
    assert any(message in p for p in library.check_table()), library.check_table()
    assert library.main(["check"]) == 2


@pytest.mark.parametrize("damage, message", [
    ("number", "best_known_s of row 'abilene' is 'fast', not a number"),
    ("column", "column(s) best_bound_s missing"),
    ("empty", "not a library table"),
    ("quote", "not a library table"),
])
def test_a_malformed_table_is_one_line_and_exit_2(sandbox, capsys, damage, message):
    text = (sandbox / "library.csv").read_text()
    if damage == "number":
        text = text.replace(",0.4604936,", ",fast,", 1)
    elif damage == "column":
        text = text.replace("best_bound_s", "bound_s", 1)
    elif damage == "empty":
        text = ""
    else:
        text = text.replace("abilene,", '"abilene,', 1)
    (sandbox / "library.csv").write_text(text)
    for command in (["check"], ["gaps"], ["page", "--out", str(sandbox / "page.html")]):
        assert library.main(command) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0] and "Traceback" not in err[0], err


def test_two_updates_at_once_are_both_kept(sandbox, tmp_path, cg_bprr_sweep):
    import threading

    table = library.load_table()
    table.loc[table.name == "clustered-c1", ["best_known_s", "best_bound_s", "gap", "solution", "routes"]] = None
    table.loc[table.name == "clustered-c1", "status"] = "open"
    library.save_table(table)
    other = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "instance=file",
                            "instance.file=library:clustered-c1", "algorithms=[cg_bprr]",
                            f"hydra.run.dir={tmp_path / 'c1' / '0'}"], capture_output=True, text=True)
    assert other.returncode == 0, other.stderr
    sweeps = [shutil.copytree(cg_bprr_sweep, tmp_path / "c0"), tmp_path / "c1"]
    results: list = [None, None]
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, library.update(sweeps[i])))
               for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(problems == [] and len(changes) == 1 for changes, problems in results), results
    rows = library.load_table().set_index("name")
    assert rows.loc[["clustered-c0", "clustered-c1"]].best_known_s.notna().all()
    assert library.check_table() == []
