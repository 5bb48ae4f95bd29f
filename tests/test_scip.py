"""SCIP as the second solver of the one solve path (``solver=scip``): every algorithm that uses a solver runs
on it with the same report, both solvers prove the same optima, and SCIP's time limit, progress and MIP
start behave as HiGHS's."""

from __future__ import annotations

import dataclasses

import pytest
from factories import random_binding, tiny

from bench.instance_builder import make_instance
from bench.options import make_options
from bpr.grading import grade
from bpr.status import Outcome, Termination
from solvers.framework import registry
from solvers.framework.context import Context
from solvers.framework.registry import Kind
from solvers.framework.settings import SolverSettings

pytestmark = pytest.mark.registry    # one test per registered algorithm that uses a solver

QUIET = SolverSettings(time_limit=30, rel_gap=0.0, log=False, progress=False)
SOLVING = [name for name, alg in registry.algorithms("offline").items() if alg.uses_solver]


def run(name: str, inst, solver: str, **settings):
    alg = registry.get(name, "offline")
    ctx = Context(seed=0, solver=dataclasses.replace(QUIET, name=solver, **settings))
    return alg, registry.run(alg, inst, make_options(alg), ctx)


def value(result) -> float | None:
    return result.best_s if hasattr(result, "best_s") else result.record.solver.incumbent_s


@pytest.mark.parametrize("name", SOLVING)
def test_every_solver_algorithm_runs_on_scip_and_agrees_with_highs(name):
    inst = tiny(5, M=[4.0, 3.0, 8.0], tau=[0.01, 0.02, 0.005], t=[[0.1, 0.05, 0.2]], R=2)
    alg, on_scip = run(name, inst, "scip")
    assert on_scip.record.outcome is Outcome.OK, on_scip.record.message
    _, on_highs = run(name, inst, "highs")
    if alg.kind is Kind.BOUND:
        assert on_scip.best_s == pytest.approx(on_highs.best_s, rel=1e-6)
        return
    graded = grade(inst, on_scip)
    assert graded.report is not None and graded.report.feasible, on_scip.message
    if on_scip.termination is Termination.OPTIMAL and on_highs.termination is Termination.OPTIMAL:
        assert value(on_scip) == pytest.approx(value(on_highs), rel=1e-6)


@pytest.mark.parametrize("seed", [8, 18, 19])    # where SCIP's defaults claimed wrong optima (scip_solve.SAFE)
def test_both_solvers_prove_the_same_optimum_where_memory_binds(seed):
    inst = random_binding(seed)
    _, highs = run("exact", inst, "highs", time_limit=120)
    _, scip = run("exact", inst, "scip", time_limit=120)
    assert highs.termination is Termination.OPTIMAL and scip.termination is Termination.OPTIMAL
    assert scip.record.solver.incumbent_s == pytest.approx(highs.record.solver.incumbent_s, rel=1e-6)
    report = scip.record.solver
    assert report.dual_bound_s == pytest.approx(report.incumbent_s, rel=1e-6) and report.nodes >= 1
    assert report.warm_start_accepted     # the heuristics' best start
    # progress on the runner's clock: from 0, the bound never passes the incumbent, the last point proves it
    times = [t for t, _, _ in report.progress]
    assert times[0] == 0.0 and times == sorted(times)
    assert all(p is None or b is None or b <= p * (1 + 1e-9) for _, p, b in report.progress)


def test_scip_stops_at_the_time_limit_with_its_incumbent():
    inst = make_instance("abovenet", 0, {"workload.R": 6})
    _, result = run("milp", inst, "scip", time_limit=1.0)
    report = result.record.solver
    assert result.termination is Termination.TIME_LIMIT and result.has_solution   # the heuristics' start
    assert report.dual_bound_s is None or report.dual_bound_s <= report.incumbent_s   # None: still presolving
    assert grade(inst, result).report.feasible


def test_scip_writes_its_log_to_the_job_directory_not_the_console(tmp_path, capfd):
    inst = tiny(5, M=[4.0, 3.0, 8.0], tau=[0.01, 0.02, 0.005], t=[[0.1, 0.05, 0.2]], R=2)
    alg = registry.get("milp", "offline")
    ctx = Context(seed=0, solver=dataclasses.replace(QUIET, name="scip", log=True), log_dir=tmp_path)
    assert registry.run(alg, inst, make_options(alg), ctx).termination is Termination.OPTIMAL
    out, err = capfd.readouterr()
    assert "presolving" not in out + err
    assert "presolving" in (tmp_path / "solver_logs" / "milp.log").read_text()
