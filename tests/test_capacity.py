"""The memory-capacity bound (docs/formulations.md §3): hand-worked, below the brute-force optimum, and
strongest where memory binds."""

from __future__ import annotations

import pytest
from factories import solver_ctx, tiny
from oracle import optimum
from test_milp import SEEDS, random_tiny

from bpr import instance as instance_io
from bpr.paths import DATA_DIR
from solvers.algorithms import lower_bounds
from solvers.formulations import capacity

QUIET = {"log": False, "progress": False}


def test_hand_worked_two_servers():
    """A (fast, 5 GB) and B (slow, large); L = 4, R = 2, s_m = 1, s_c = 0.5. A hosting m blocks has room for
    floor((5 - m) / 0.5) = 8, 6, 4, 2 request-blocks (m = 1..4), so g_A(1) = 3 (m = 3) and g_A(2) = 4 (m = 2
    or 3): hull edges x <= 3H and x <= H + 2. A second visit to A brings one more request-block, worth
    0.04 + 0.1 / 4 less than the 0.1 the visit costs, so one visit: A takes 3 request-blocks, B 5 in 5/4 visits,
    (0.1 * 1 + 0.01 * 3 + 0.1 * 1.25 + 0.05 * 5) / 2."""
    inst = tiny(4, M=[5.0, 100.0], tau=[0.01, 0.05], t=[[0.1, 0.1]], R=2, s_m=1.0, s_c=0.5)
    assert capacity.limits(inst, 0, 2).tolist() == [0, 3, 4]
    assert capacity.hull(capacity.limits(inst, 0, 2)) == [(3.0, 0.0), (1.0, 2.0)]
    bound = lower_bounds.capacity_bound(inst, solver_ctx(**QUIET))
    assert bound.termination == "optimal" and bound.value_s == pytest.approx(0.2525, rel=1e-9)
    # the optimum (A hosts 3 blocks for one request, B serves the other alone) is 0.29
    assert optimum(inst) == pytest.approx(0.29)


def test_hull_edges_lie_above_every_point():
    values = [0, 5, 7, 7, 12, 12, 13]
    for slope, intercept in capacity.hull(values):
        assert all(slope * k + intercept >= v - 1e-12 for k, v in enumerate(values))
    assert capacity.hull([0, 1, 2]) == [(1.0, 0.0)]  # collinear points: one edge


@pytest.mark.parametrize("seed", SEEDS)
def test_below_the_brute_force_optimum(seed):
    inst = random_tiny(seed)
    opt = optimum(inst)
    bound = lower_bounds.capacity_bound(inst, solver_ctx(**QUIET))
    if opt is not None:
        assert bound.termination == "optimal" and bound.value_s <= opt * (1 + 1e-7)


def test_strongest_where_memory_binds():
    """On the library's memory-binding AboveNet it is far above the per-request bound (and the extended
    LP without these cuts, 0.5115, docs/formulations.md §2) and below the best known solution; at the
    default R the per-request bound is the stronger one."""
    ctx = solver_ctx(**QUIET)
    binding = instance_io.load(DATA_DIR / "library" / "instances" / "abovenet-binding.json")
    cap = lower_bounds.capacity_bound(binding, ctx).value_s
    assert lower_bounds.per_request_bound(binding) + 0.1 < cap < 0.8023544000000002
    default = instance_io.load(DATA_DIR / "library" / "instances" / "abovenet.json")
    assert lower_bounds.capacity_bound(default, ctx).value_s < lower_bounds.per_request_bound(default)


@pytest.mark.parametrize("seed", range(0, 30, 3))
def test_the_extended_lp_with_the_cuts_is_at_least_the_capacity_bound(seed):
    inst = random_tiny(seed)
    cap = lower_bounds.capacity_bound(inst, solver_ctx(**QUIET))
    ext = lower_bounds.extended_lp_bound(inst, solver_ctx(**QUIET)).value_s
    if cap.termination == "optimal" and ext is not None:
        assert ext >= cap.value_s - 1e-7
