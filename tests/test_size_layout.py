"""size_layout (docs/formulations.md §8): gaps filled side by side, lanes where capacity is short, and its
solutions graded by the one checker, never below the optimum."""

from __future__ import annotations

import pytest
from factories import tiny

from bpr.grading import grade
from solvers.algorithms.size_layout import _fill, lay_out
from solvers.framework import registry
from solvers.framework.settings import SolverSettings

QUIET = {"log": False, "progress": False}


def test_a_pattern_fills_the_gaps_its_placed_servers_leave():
    # blocks 1-10; (3, 6] is placed: the gap (0, 3] takes server 1 (size 4, so it starts at 0 and ends at 4,
    # overlapping), the gap (6, 10] takes server 2 (size 2: (6, 8]) and server 3 (size 3: ends at 10)
    assert _fill(10, [(3, 6)], [1, 2, 3], {1: 4, 2: 2, 3: 3}) == {1: 0, 2: 6, 3: 7}
    assert _fill(10, [(3, 6)], [1, 2], {1: 4, 2: 2}) is None            # (8, 10] stays uncovered
    assert _fill(4, [(0, 4)], [5], {5: 2}) == {}                         # nothing to fill


def test_servers_no_pattern_placed_tile_where_capacity_is_short():
    """L = 4, s_m = 1, s_c = 0.5. Server 0 (M = 4) placed by the pattern at blocks 1-2 has room for 4
    request-blocks, 2 requests on full visits; servers 1 and 2 (sizes 2) follow where fewest are carried:
    blocks 3-4, then blocks 1-2 again (now 2 and 2 per block: the first minimum)."""
    inst = tiny(4, M=[4.0, 4.0, 4.0, 4.0], tau=[0.0] * 4, t=[[0.1] * 4], R=1, s_m=1.0, s_c=0.5)
    pl = lay_out(inst, {0: 2, 1: 2, 2: 2}, [(1.0, ((0, 2),))])
    assert list(pl.a) == [1, 3, 1, 1] and list(pl.m) == [2, 2, 2, 1]


def test_hand_worked_half_server():
    """The relaxation of test_window_sizes' half-server instance is exact (0.4); laid out and routed, so is
    the solution."""
    inst = tiny(2, M=[2.5, 3.0], tau=[0.0, 0.1], t=[[0.1, 0.2]], R=1, s_m=1.0, s_c=0.5)
    result = grade(inst, registry.call("size_layout", inst, solver=SolverSettings(**QUIET)))
    assert result.report.feasible and result.evaluation.per_token_s == pytest.approx(0.4)


@pytest.mark.parametrize("seed", range(4))
def test_graded_by_the_checker_and_never_below_the_optimum(seed, binding_optimum):
    inst, graded_exact = binding_optimum(seed)
    opt = graded_exact.evaluation.per_token_s
    sol = registry.call("size_layout", inst, solver=SolverSettings(rel_gap=0.0, **QUIET))
    again = registry.call("size_layout", inst, solver=SolverSettings(rel_gap=0.0, **QUIET))
    result = grade(inst, sol)
    assert sol.info["relaxation_s"] <= opt * (1 + 1e-7)
    # a layout that routes nothing proves nothing of the instance, which has a solution: never "infeasible"
    assert sol.termination != "infeasible"
    if not sol.has_solution:        # the relaxation's sizes may not fit on the blocks
        assert sol.termination == "none_found" and "restricted model" in sol.message and not again.has_solution
    else:
        assert result.report.feasible and result.evaluation.per_token_s >= opt * (1 - 1e-7)
        assert grade(inst, again).evaluation.per_token_s == result.evaluation.per_token_s
        # optimal only where the relaxation's bound, the row's dual bound, proves it
        bound = sol.record.solver.dual_bound_s
        assert sol.termination != "optimal" or result.evaluation.per_token_s <= bound * (1 + 1e-6)
        assert sol.termination == "optimal" or result.evaluation.per_token_s > bound * (1 + 1e-9)
