"""What one move of ``lns`` costs (docs/formulations.md §5): judging a placement by the routing LP of the
persistent HiGHS model, routing it exactly in that model, and routing it exactly through Pyomo (§4, what
every move cost before). Each round loads a different placement (one server's window moved), as the
placement search does. Run with ``pytest bench/benchmarks --dist no``; compare the three as ratios."""

import pytest

from bench.instance_builder import make_instance
from bpr.perf import Placement
from solvers.algorithms import cg_bprr
from solvers.algorithms.optimal_routing import route
from solvers.formulations.routing_model import RoutingModel
from solvers.framework.context import Context
from solvers.framework.settings import SolverSettings

QUIET = Context(solver=SolverSettings(log=False, progress=False))


@pytest.fixture(scope="module")
def setting():
    """abovenet at the library's 0.8 R_max (R = 157, memory binds) and placements one move apart."""
    inst = make_instance("abovenet", 0).with_R(157)
    pl = cg_bprr.plan(inst).placement
    moved = []
    for j in range(inst.n_servers):
        for shift in (-1, 1):
            a = pl.a.copy()
            a[j] = max(1, min(inst.L - pl.m[j] + 1, a[j] + shift))
            moved.append(Placement(a, pl.m.copy()))
    return inst, RoutingModel(inst), moved


def _cycle(items):
    state = {"i": 0}

    def next_item():
        state["i"] += 1
        return items[state["i"] % len(items)]
    return next_item


def test_move_judged_by_the_routing_lp(benchmark, setting):
    inst, model, moved = setting
    pick = _cycle(moved)
    value = benchmark(lambda: model.lower_bound(pick()))
    assert value is None or value > 0


def test_move_routed_exactly_in_the_persistent_model(benchmark, setting):
    inst, model, moved = setting
    pick = _cycle(moved)
    found = benchmark.pedantic(lambda: model.route(pick()), rounds=20, iterations=1)
    assert found is None or found[0] > 0


def test_move_routed_exactly_through_pyomo(benchmark, setting):
    inst, model, moved = setting
    pick = _cycle(moved)
    sol = benchmark.pedantic(lambda: route(inst, pick(), QUIET, []), rounds=10, iterations=1)
    assert sol is not None
