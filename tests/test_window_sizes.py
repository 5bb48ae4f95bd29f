"""The window-size relaxation (docs/formulations.md §7): hand-worked against the decomposition, below the
optimum on random binding instances, and a stopped or refused solve is a row that says so."""

from __future__ import annotations

import pytest
from factories import random_binding, solver_ctx, tiny

from bpr.grading import grade
from solvers.algorithms import exact, lower_bounds
from solvers.formulations.window_sizes import WindowSizesFormulation

QUIET = {"log": False, "progress": False}


def half_server() -> object:
    """L = 2, one request, s_m = 1, s_c = 0.5. A (M = 2.5, t = 0.1, tau = 0) hosting two blocks has room for
    one request-block, so a request processes at most one block on it; B (M = 3, t = 0.2, tau = 0.1) hosting
    two blocks has room for two, one request's."""
    return tiny(2, M=[2.5, 3.0], tau=[0.0, 0.1], t=[[0.1, 0.2]], R=1, s_m=1.0, s_c=0.5)


def test_hand_worked_the_half_server():
    """The optimum is 0.4 per token: blocks 1-2 on B (0.2 + 0.1 x 2) or one block on each (0.1 + 0.2 + 0.1).
    The decomposition takes A as half window (0, 1] and half window (1, 2], each valid alone (one block,
    room for three request-blocks), and sends half the request through both halves: 0.5 (0.1 + 0.1) +
    0.5 x 0.4 = 0.3. With A's size whole, its one visit processes one block and the rest is B's: 0.4."""
    inst, ctx = half_server(), solver_ctx(**QUIET)
    assert lower_bounds.decomposition_bound(inst, ctx).value_s == pytest.approx(0.3)
    bound = lower_bounds.window_sizes_bound(inst, ctx)
    assert bound.value_s == pytest.approx(0.4) and bound.termination == "optimal" and bound.message == ""
    assert grade(inst, exact.solve(inst, ctx=solver_ctx(rel_gap=0.0, **QUIET))).evaluation.per_token_s == \
        pytest.approx(0.4)


@pytest.mark.parametrize("seed", range(6))
def test_below_the_optimum_and_counted_before_it_is_built(seed, binding_optimum):
    inst, graded_exact = binding_optimum(seed)
    opt = graded_exact.evaluation.per_token_s
    bound = lower_bounds.window_sizes_bound(inst, solver_ctx(rel_gap=0.0, **QUIET))
    assert bound.value_s is not None and bound.value_s <= opt * (1 + 1e-7)
    f = WindowSizesFormulation(inst)
    assert f.size().variables == f.build().nvariables() == bound.solver.variables


def test_a_model_over_the_size_guard_is_skipped_with_its_count():
    bound = lower_bounds.window_sizes_bound(half_server(), solver_ctx(max_vars=3, **QUIET))
    assert bound.value_s is None and bound.outcome == "skipped" and "too large" in bound.message


def test_a_stopped_solve_keeps_its_dual_bound_and_says_it_stopped():
    """On a 6-server instance a 0.05 s limit stops HiGHS before it proves anything or soon after; either way
    the row says so, and whatever bound it keeps is below the full solve's."""
    inst = random_binding(3)
    full = lower_bounds.window_sizes_bound(inst, solver_ctx(rel_gap=0.0, **QUIET)).value_s
    stopped = lower_bounds.window_sizes_bound(inst, solver_ctx(time_limit=0.05, **QUIET))
    assert stopped.termination == "time_limit" and stopped.message.startswith("time_limit")
    assert stopped.value_s is None or stopped.value_s <= full + 1e-9
