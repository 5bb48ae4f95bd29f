"""The paper's MILP (docs/formulations.md §1) against the brute-force oracle; lower bounds (docs/model.md §8);
solver plumbing."""

from __future__ import annotations

import numpy as np
import pytest
from factories import solver_ctx, tiny
from oracle import optimum

from bench.instance_builder import make_instance
from bpr.errors import BprInputError
from bpr.evaluator import evaluate
from bpr.grading import grade
from solvers.algorithms import cg_bprr, lower_bounds, milp
from solvers.formulations.milp.model import MilpFormulation, estimate_size
from solvers.framework import backend
from solvers.framework.registry import Skipped
from solvers.framework.settings import SolverSettings

pytestmark = pytest.mark.xdist_group("test_milp")   # its tests share an expensive module fixture

EXACT = {"rel_gap": 0.0, "time_limit": 60}


def random_tiny(seed: int):
    """L <= 6, <= 3 servers, <= 2 clients, R <= 3; memories from 'one block fits' to 'everything fits'."""
    rng = np.random.default_rng(seed)
    L, n, C, R = int(rng.integers(2, 7)), int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    s_m, s_c = 1.0, float(rng.choice([0.1, 0.3]))
    full = (s_m + s_c * R) * L
    M = [float(rng.uniform(max(s_m + s_c, full / n * 0.8), full * 1.1)) for _ in range(n)]
    tau = [float(rng.uniform(0.005, 0.05)) for _ in range(n)]
    t = [[float(rng.uniform(0.0, 0.3)) for _ in range(n)] for _ in range(C)]
    w = rng.integers(1, 4, C)
    return tiny(L, M=M, tau=tau, t=t, R=R, s_m=s_m, s_c=s_c, shares=list(w / w.sum()))


SEEDS = range(30)


@pytest.fixture(scope="session")
def solved():
    """seed -> (instance, oracle optimum, graded MILP, graded CG-BPRR, per-request bound, LP bound)."""
    out = {}
    for seed in SEEDS:
        inst = random_tiny(seed)
        lp = lower_bounds.paper_lp_bound(inst, solver_ctx(**EXACT)).value_s
        out[seed] = (inst, optimum(inst), grade(inst, milp.solve(inst, ctx=solver_ctx(**EXACT))),
                     grade(inst, cg_bprr.solve(inst)), lower_bounds.per_request_bound(inst), lp)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_milp_optimum_equals_brute_force(solved, seed):
    inst, opt, g, _, _, _ = solved[seed]
    if opt is None:
        assert g.solution.status == "none" and g.solution.termination == "infeasible"
        return
    assert g.solution.termination == "optimal" and g.solution.status == "feasible"
    assert g.evaluation.per_token_s == pytest.approx(opt, rel=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_bounds_below_optimum_below_cg_bprr(solved, seed):
    _, opt, _, cg, per_request, lp = solved[seed]
    if opt is None:
        return
    assert per_request <= opt * (1 + 1e-9)
    assert lp is not None and lp <= opt * (1 + 1e-7)
    if cg.evaluation is not None:
        assert opt <= cg.evaluation.per_token_s * (1 + 1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_evaluator_equals_milp_objective(solved, seed):
    _, opt, g, _, _, _ = solved[seed]
    if opt is not None:
        assert g.evaluation.per_token_s == pytest.approx(g.solution.record.solver.incumbent_s, rel=1e-6)


def test_the_sample_is_informative(solved):
    """Enough feasible cases, and memory binds in some (the optimum is above the memory-free bound)."""
    feasible = [v for v in solved.values() if v[1] is not None]
    assert len(feasible) >= 20
    assert sum(opt > pr * (1 + 1e-6) for _, opt, _, _, pr, _ in feasible) >= 3
    assert sum(cg.evaluation is not None and cg.evaluation.per_token_s > opt * (1 + 1e-6)
               for _, opt, _, cg, _, _ in feasible) >= 1


def test_size_estimate_matches_the_built_model():
    inst = random_tiny(3)
    model = MilpFormulation(inst).build()
    size = estimate_size(inst.n_servers, inst.R)
    assert (model.nvariables(), model.nconstraints()) == (size.variables, size.constraints)


def test_per_request_bound_hand_worked():
    # One server fits 2 blocks per request segment (2.5 / 1.1): L = 4 needs two segments of 2 on it,
    # 2 * (0.1 + 0.01 * 2) = 0.24; the other fits 1 block (1.2 / 1.1) at 0.05 + 0.01 a block.
    inst = tiny(4, M=[2.5, 1.2], tau=[0.01, 0.01], t=[[0.1, 0.05]], R=1)
    assert lower_bounds.per_request_bound(inst) == pytest.approx(0.24)


def test_time_limit_is_a_status_with_incumbent_and_bound():
    inst = make_instance("abovenet", 0, {"workload.R": 6})
    sol = milp.solve(inst, ctx=solver_ctx(**{"time_limit": 1.0, "rel_gap": 0.0}))
    report = sol.record.solver
    assert sol.termination == "time_limit" and report.raw_status.startswith("Time limit reached")
    # progress from HiGHS's MIP log callback: elapsed time grows, the bound never passes the incumbent
    times = [t for t, _, _ in report.progress]
    assert len(times) >= 2 and times == sorted(times) and times[-1] <= 1.0 + 0.5
    assert all(p is None or b is None or b <= p + 1e-9 for _, p, b in report.progress)
    assert sol.has_solution and report.incumbent_s is not None and report.dual_bound_s is not None
    # the big-M relaxation is weak: early dual bounds may even be negative, so the gap may exceed 1
    assert report.dual_bound_s < report.incumbent_s and report.gap > 0
    graded = grade(inst, sol)
    assert graded.solution.status == "feasible"
    assert evaluate(inst, sol).per_token_s == pytest.approx(report.incumbent_s, rel=1e-6)


def test_too_large_is_skipped_with_a_count():
    inst = make_instance("bellcanada", 0)
    n = estimate_size(26, inst.R).variables
    with pytest.raises(Skipped, match=f"^too large: {n} variables > solver.max_vars = 1000$"):
        milp.solve(inst, ctx=solver_ctx(**{"max_vars": 1000}))


def test_infeasible_instance_is_a_status():
    inst = tiny(4, M=[0.5, 0.5], tau=[0.01, 0.01], t=[[0.1, 0.1]])  # not even one block fits
    sol = milp.solve(inst, ctx=solver_ctx(**EXACT))
    assert sol.termination == "infeasible" and not sol.has_solution


def test_warm_start_is_accepted_and_can_be_switched_off():
    inst = random_tiny(1)
    warm = milp.solve(inst, ctx=solver_ctx(**EXACT)).record.solver
    assert warm.warm_start_accepted is True and warm.warm_start_from == "cg_bprr"
    cold = milp.solve(inst, ctx=solver_ctx(**{**EXACT, "warm_start": False})).record.solver
    assert cold.warm_start_accepted is None and cold.warm_start_from is None


def test_classic_pyomo_solver_interface_gives_the_same_optimum():
    inst = random_tiny(1)
    classic = milp.solve(inst, ctx=solver_ctx(**{**EXACT, "name": "appsi_highs"}))
    assert classic.termination == "optimal"
    assert grade(inst, classic).evaluation.per_token_s == pytest.approx(optimum(inst), rel=1e-6)


def test_missing_solver_is_one_clear_message():
    with pytest.raises(BprInputError, match="solver 'nosuchsolver'"):
        milp.solve(random_tiny(1), ctx=solver_ctx(**{"name": "nosuchsolver"}))


@pytest.mark.parametrize("suffix", [".lp", ".mps"])
def test_export(tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    milp.solve(random_tiny(1), ctx=solver_ctx(**{**EXACT, "export": str(path)}))
    text = path.read_text()
    if suffix == ".lp":
        assert "\nmin \ncost:" in text and "\ns.t.\n" in text and "memory(0)" in text
    else:
        assert "ROWS" in text and "COLUMNS" in text and "memory(0)" in text


def test_unknown_setting_is_named():
    with pytest.raises(BprInputError, match="unknown solver setting 'timelimit'"):
        milp.solve(random_tiny(1), ctx=solver_ctx(**{"timelimit": 3}))


def test_highs_internals_are_the_solver_and_its_column_map():
    """The one function that reads private attributes of Pyomo's HiGHS interface still finds them."""
    import highspy
    from pyomo.contrib.solver.common.factory import SolverFactory

    model = MilpFormulation(random_tiny(1)).build()
    opt = SolverFactory("highs")
    opt.set_instance(model)
    h, columns = backend.highs_internals(opt)
    assert isinstance(h, highspy.Highs) and len(columns) == h.getNumCol() == model.nvariables()
    assert sorted(columns.values()) == list(range(h.getNumCol()))


def test_solver_log_is_written_into_the_job_directory(tmp_path):
    from solvers.framework.context import Context

    ctx = Context(solver=SolverSettings.of(EXACT), log_dir=tmp_path)
    milp.solve(random_tiny(1), ctx=ctx)
    text = (tmp_path / "solver_logs" / "milp.log").read_text()
    assert "HiGHS" in text and "Solving report" in text
