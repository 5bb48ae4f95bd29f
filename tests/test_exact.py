"""The extended formulation (docs/formulations.md §2) against the brute-force oracle and the paper's MILP;
its LP bound; flow decomposition; certified optima on the named instances."""

from __future__ import annotations

import pytest
from factories import solver_ctx, tiny
from oracle import optimum
from test_milp import EXACT, SEEDS, random_tiny

from bench.instance_builder import make_instance
from bpr.grading import grade
from solvers.algorithms import exact, lower_bounds, milp
from solvers.formulations.extended.model import ExactFormulation, decompose
from solvers.formulations.extended.variables import Windows, count_windows
from solvers.framework.registry import Skipped

pytestmark = pytest.mark.xdist_group("test_exact")   # its tests share an expensive module fixture

QUIET = {**EXACT, "log": False, "progress": False}


@pytest.fixture(scope="session")
def solved():
    """seed -> (instance, oracle optimum, graded exact, graded MILP, extended LP bound)."""
    out = {}
    for seed in SEEDS:
        inst = random_tiny(seed)
        lp = lower_bounds.extended_lp_bound(inst, solver_ctx(**QUIET)).value_s
        out[seed] = (inst, optimum(inst), grade(inst, exact.solve(inst, ctx=solver_ctx(**QUIET))),
                     grade(inst, milp.solve(inst, ctx=solver_ctx(**QUIET))), lp)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_optimum_equals_brute_force_and_the_paper_milp(solved, seed):
    inst, opt, g, paper, _ = solved[seed]
    if opt is None:
        assert g.solution.termination == "infeasible" and not g.solution.has_solution
        return
    assert g.solution.termination == "optimal" and g.solution.status == "feasible"
    assert g.evaluation.per_token_s == pytest.approx(opt, rel=1e-6)
    assert g.evaluation.per_token_s == pytest.approx(paper.evaluation.per_token_s, rel=1e-6)
    # the evaluator's cost of the decomposed routes is the model's objective
    assert g.evaluation.per_token_s == pytest.approx(g.solution.record.solver.incumbent_s, rel=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_lp_bound_is_below_the_optimum(solved, seed):
    _, opt, _, _, lp = solved[seed]
    if opt is not None:
        assert lp is not None and lp <= opt * (1 + 1e-7)


def test_the_sample_is_informative(solved):
    """Some instances are infeasible, some need several servers, the LP bound is tight on some, not all."""
    rows = [(opt, lp) for _, opt, _, _, lp in solved.values()]
    assert sum(opt is None for opt, _ in rows) >= 2
    gaps = [(opt - lp) / opt for opt, lp in rows if opt is not None]
    assert min(gaps) < 1e-9 and max(gaps) > 1e-3


def test_hand_worked_instance():
    """L = 4; s0 holds 3 blocks at most (M = 3.5, s_m = 1), s1 all four. Costs per token: s1 alone
    0.2 + 4 * 0.02 = 0.28; s0 for 1..3 then s1 for 4: 0.05 + 0.03 + 0.2 + 0.02 = 0.30; so 0.28."""
    inst = tiny(4, M=[3.5, 4.5], tau=[0.01, 0.02], t=[[0.05, 0.2]], R=1, s_c=0.1)
    assert Windows.of(inst).mbar == [3, 4]
    g = grade(inst, exact.solve(inst, ctx=solver_ctx(**QUIET)))
    assert g.evaluation.per_token_s == pytest.approx(0.28) and g.solution.routes[0].servers == ("s1",)


def test_a_server_too_small_for_a_block_stays_idle():
    """s0 cannot hold one block (M = 0.5 < s_m = 1): the paper's model is infeasible, the problem is not."""
    inst = tiny(3, M=[0.5, 4.0], tau=[0.01, 0.02], t=[[0.05, 0.2]], R=1, s_c=0.1)
    sol = exact.solve(inst, ctx=solver_ctx(**QUIET))
    g = grade(inst, sol)
    assert sol.termination == "optimal" and g.solution.status == "feasible"
    assert g.evaluation.per_token_s == pytest.approx(0.2 + 3 * 0.02) and sol.placement[0].num_blocks == 0
    assert milp.solve(inst, ctx=solver_ctx(**QUIET)).termination == "infeasible"


def test_flow_decomposition_gives_one_chain_per_unit():
    flow = {(0, 0, 2): 2, (1, 0, 4): 1, (2, 2, 4): 2}
    chains = decompose(flow, 4)
    assert sorted(chains) == [[0, 2], [0, 2], [1]]


@pytest.mark.parametrize("option", [{"symmetry": False}, {"memory_caps": True}, {"window_memory": True},
                                    {"allow_idle": True}])
def test_options_keep_the_optimum(solved, option):
    """Strengthenings cut nothing that matters; letting servers idle changes nothing either, since a server
    that carries no request can host any one block at no cost."""
    for seed in (3, 7, 11):
        inst, opt, *_ = solved[seed]
        if opt is None:
            continue
        sol = exact.solve(inst, exact.Options(**option), solver_ctx(**QUIET))
        cost = grade(inst, sol).evaluation.per_token_s
        assert cost == pytest.approx(opt, rel=1e-6)


def test_a_heuristic_start_survives_the_symmetry_rows():
    """clustered has identical servers; CG-BPRR's placement is reordered to meet the symmetry rows, so the
    start is a real incumbent even when the solver proves nothing within the limit."""
    from bench.library import instance_path
    from bpr import instance as instance_io
    from solvers.algorithms import cg_bprr
    from solvers.formulations.extended.model import canonical, identical_groups

    inst = instance_io.load(instance_path("clustered-c0-binding"))
    assert identical_groups(inst) == [[0, 1], [2, 3, 4, 5, 6, 7, 8]]
    p = cg_bprr.plan(inst)
    chains = [p.routes[c] for c in inst.request_clients()]
    pl, moved = canonical(inst, p.placement, chains)
    cg_cost = grade(inst, cg_bprr.solve(inst)).evaluation.per_token_s
    from bpr.solution import build as build_solution
    assert grade(inst, build_solution(inst, "x", pl.a, pl.m, moved)).evaluation.per_token_s == pytest.approx(cg_cost)
    sol = exact.solve(inst, ctx=solver_ctx(rel_gap=1e-4, time_limit=3, log=False, progress=False))
    assert sol.record.solver.warm_start_from == "cg_bprr" and sol.has_solution
    assert grade(inst, sol).evaluation.per_token_s <= cg_cost * (1 + 1e-9)


def test_skipped_when_too_large():
    inst = make_instance("bellcanada", 0)
    n = ExactFormulation(inst).size().variables
    with pytest.raises(Skipped, match=f"too large: {n} variables > solver.max_vars = 1000"):
        exact.solve(inst, ctx=solver_ctx(max_vars=1000, **QUIET))


@pytest.mark.parametrize("seed", range(0, 30, 5))
def test_windows_are_counted_without_listing_them(seed):
    inst = random_tiny(seed)
    w = Windows.of(inst)
    assert count_windows(inst) == (len(w.jse), len(w.arcs)) and sorted(w.arcs) == sorted(w.jse)
    allowed = {0: [(0, inst.L), (1, 2), (0, 2)], 1: []} if inst.n_servers > 1 else {0: [(1, inst.L)]}
    w = Windows.of(inst, allowed)
    assert count_windows(inst, allowed) == (len(w.jse), len(w.arcs))
    model = ExactFormulation(inst, exact.Options(capacity_cuts=True)).build()
    assert model.nvariables() == ExactFormulation(inst, exact.Options(capacity_cuts=True)).size().variables


def test_abovenet_is_certified_optimal_from_a_heuristic_start():
    """CG-BPRR is optimal on abovenet at the default R; the extended model proves it (paper MILP cannot)."""
    inst = make_instance("abovenet", 0)
    sol = exact.solve(inst, ctx=solver_ctx(rel_gap=1e-4, time_limit=120, log=False, progress=False))
    g = grade(inst, sol)
    report = sol.record.solver
    assert sol.termination == "optimal" and report.gap <= 1e-4
    assert report.warm_start_from == "cg_bprr" and report.warm_start_accepted is True
    assert g.evaluation.per_token_s == pytest.approx(0.5128428, abs=1e-7)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_strengthening_keeps_the_optimum(solved, seed):
    """memory_caps, window_memory and capacity_cuts remove no optimal solution (against the oracle)."""
    inst, opt, _, _, _ = solved[seed]
    opts = exact.Options(memory_caps=True, window_memory=True, capacity_cuts=True)
    g = grade(inst, exact.solve(inst, opts, ctx=solver_ctx(**QUIET)))
    if opt is None:
        assert not g.solution.has_solution
    else:
        assert g.evaluation.per_token_s == pytest.approx(opt, rel=1e-6)
