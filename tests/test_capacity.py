"""The memory-capacity bound (docs/formulations.md §3): hand-worked, below the brute-force optimum, and
strongest where memory binds."""

from __future__ import annotations

import pytest
from factories import solver_ctx, tiny
from oracle import optimum
from test_milp import SEEDS, random_tiny

from bpr import instance as instance_io
from bpr.paths import DATA_DIR
from solvers import bounds, capacity
from solvers.exact import model as extended

QUIET = {"log": False, "progress": False}


def test_hand_worked_two_servers():
    """A (fast, 5 GB) and B (slow, large); L = 4, R = 2, s_m = 1, s_c = 0.5. f_A(H) = 5H / (1 + 0.5H):
    secants x <= 10/3 H and x <= 5/3 H + 5/3, so with both requests on A (H = 2) A processes at most 5 of
    the 8 request-blocks; B takes 3 in 3/4 of a visit: (0.1 * 2 + 0.01 * 5 + 0.1 * 0.75 + 0.05 * 3) / 2."""
    inst = tiny(4, M=[5.0, 100.0], tau=[0.01, 0.05], t=[[0.1, 0.1]], R=2, s_m=1.0, s_c=0.5)
    assert [x for pair in capacity.secants(inst, 0, 2) for x in pair] == pytest.approx([10 / 3, 0.0, 5 / 3, 5 / 3])
    bound, status = bounds.capacity_bound(inst, solver_ctx(**QUIET))
    assert status == "optimal" and bound == pytest.approx(0.2375, rel=1e-9)
    # the optimum (A hosts 3 blocks for one request, B serves the other alone) is 0.29
    assert optimum(inst) == pytest.approx(0.29)


@pytest.mark.parametrize("seed", SEEDS)
def test_below_the_brute_force_optimum(seed):
    inst = random_tiny(seed)
    opt = optimum(inst)
    bound, status = bounds.capacity_bound(inst, solver_ctx(**QUIET))
    if opt is not None:
        assert status == "optimal" and bound <= opt * (1 + 1e-7)


def test_strongest_where_memory_binds():
    """On the library's memory-binding AboveNet it is far above the per-request bound and the extended LP
    without its cuts, the extended LP with them is at least as high, and all lie below the best known
    solution; at the default R the per-request bound is the stronger one."""
    ctx = solver_ctx(**QUIET)
    binding = instance_io.load(DATA_DIR / "library" / "instances" / "abovenet-binding.json")
    cap, _ = bounds.capacity_bound(binding, ctx)
    uncut, _ = bounds.lp_bound(extended.build(binding, allow_idle=True, memory_caps=True, window_memory=True).model,
                               1.0, ctx, "test")
    assert cap > max(uncut, bounds.per_request_bound(binding)) + 0.1
    ext, _ = bounds.extended_lp_bound(binding, ctx)
    assert cap - 1e-7 <= ext < 0.8023544000000002
    default = instance_io.load(DATA_DIR / "library" / "instances" / "abovenet.json")
    assert bounds.capacity_bound(default, ctx)[0] < bounds.per_request_bound(default)
