"""The placement search of ``lns`` (docs/formulations.md §5): the persistent routing model agrees with the
Pyomo routing of §4 and with the one checker, its LP is below its integer optimum, every move stays a
placement, and the search is deterministic for a seed and never worse than the placements it starts from."""

from __future__ import annotations

import numpy as np
import pytest
from factories import random_binding, solver_ctx, tiny

from bpr.grading import grade
from bpr.perf import Placement, window_caps
from solvers.algorithms import optimal_routing, placement_search
from solvers.algorithms.heuristic_starts import HEURISTICS, heuristic
from solvers.formulations.routing_model import RoutingModel, columns
from solvers.framework.context import Context
from solvers.framework.starts import graded

QUIET = {"log": False, "progress": False}


def placements(inst, seed: int) -> list[Placement]:
    return [pl for name in HEURISTICS for pl, _ in [heuristic(inst, name, seed)] if pl is not None]


def test_hand_worked_routing():
    """tests/test_binding.py's hand-worked case: blocks 1-2 on three servers; s0 and s1 hold one request's
    cache each, so two requests cost (0.12 + 0.27) / 2 = 0.195; the LP cannot do better here."""
    inst = tiny(2, M=[2.25, 2.25, 10.0], tau=[0.01, 0.01, 0.02], t=[[0.1, 0.25, 0.3]], R=2, s_m=1.0, s_c=0.1)
    model = RoutingModel(inst)
    pl = Placement.of([1, 1, 1], [2, 2, 2])
    cost, chains = model.route(pl)
    assert cost == pytest.approx(0.195) and sorted(chains) == [[0], [1]]
    assert model.lower_bound(pl) == pytest.approx(0.195)
    assert model.n_cols == columns(inst) == 3 * 3          # (b, e) with e - b <= 2 on 2 blocks, per server


def test_a_placement_without_a_routing_has_none():
    inst = tiny(3, M=[5.0, 5.0], tau=[0.01, 0.01], t=[[0.1, 0.1]], R=2, s_m=1.0, s_c=0.1)
    model = RoutingModel(inst)
    assert model.route(Placement.of([1, 1], [1, 1])) is None          # block 3 hosted nowhere
    assert model.lower_bound(Placement.of([1, 1], [1, 1])) is None
    assert model.route(Placement.of([1, 1], [3, 3])) is not None


@pytest.mark.parametrize("seed", range(0, 20, 3))
def test_the_routing_model_equals_the_pyomo_routing_and_the_checker(seed):
    inst = random_binding(seed)
    model = RoutingModel(inst)
    for pl in placements(inst, seed):
        found = model.route(pl)
        ref = optimal_routing.route(inst, pl, solver_ctx(rel_gap=0.0, **QUIET), [])
        if found is None:
            assert not ref.has_solution
            continue
        cost, chains = found
        start = graded(inst, "routing_model", pl, chains)
        assert start is not None and start.cost == pytest.approx(cost, rel=1e-9)
        assert cost == pytest.approx(grade(inst, ref).evaluation.per_token_s, rel=1e-7)
        assert model.lower_bound(pl) <= cost * (1 + 1e-9)


@pytest.mark.parametrize("seed", [1, 6, 11])
def test_every_move_is_a_placement_within_the_memory_caps(seed):
    inst = random_binding(seed)
    mbar = window_caps(inst)
    for pl in placements(inst, seed):
        for d in placement_search.DEPTHS:
            moved = list(placement_search.neighbours(inst, pl, d, mbar))
            assert moved
            for other in moved:
                hosts = other.m > 0
                assert (other.m <= mbar).all() and (other.m >= 0).all()
                assert (other.a[hosts] >= 1).all() and (other.end[hosts] <= inst.L + 1).all()
                assert (other.a[~hosts] == 0).all()
                assert not (np.array_equal(other.a, pl.a) and np.array_equal(other.m, pl.m))


@pytest.mark.parametrize("seed", [2, 12])
def test_the_search_is_deterministic_and_never_worse_than_its_starts(seed):
    inst = random_binding(seed)
    starts = placements(inst, seed)
    runs = [placement_search.search(inst, starts, np.random.default_rng(seed), Context(until=np.inf), walkers=2,
                                    patience=30)
            for _ in range(2)]
    a, b = runs
    assert a.best.cost == b.best.cost and a.kicks == b.kicks and len(a.lp) == len(b.lp)
    assert np.array_equal(a.best.placement.a, b.best.placement.a) and a.best.chains == b.best.chains
    model = RoutingModel(inst)
    for pl in starts:
        routed = model.route(pl)
        if routed is not None:
            assert a.best.cost <= routed[0] * (1 + 1e-9)
    assert graded(inst, "search", a.best.placement, a.best.chains).cost == pytest.approx(a.best.cost, rel=1e-9)
    assert [c for _, c in a.improvements] == sorted((c for _, c in a.improvements), reverse=True)
