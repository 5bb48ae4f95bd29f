"""Simulator (docs/simulator.md §1) and routing policies (docs/simulator.md §2): hand-worked waits, the offline check,
determinism, and the myopic optimum against enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from factories import FixedRoutes, offline_arrivals, tiny
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.instance_builder import make_instance
from bpr.evaluator import evaluate
from bpr.online import State
from bpr.perf import Placement, hop_blocks, link_cost
from bpr.simulator import poisson_arrivals, retry_instant, simulate, simulate_setup
from bpr.timeline import Timeline
from solvers.algorithms import cg_bprr
from solvers.algorithms.policies import MyopicOptimal, WsRR
from solvers.framework import registry


def test_retry_instants_follow_the_petals_back_off():
    expected = [0, 1, 3, 7, 15, 31, 63, 123, 183, 243]
    assert [retry_instant(0.0, x) for x in expected] == expected
    assert retry_instant(2.0, 10.2) == 17.0 and retry_instant(5.0, 5.0) == 5.0


def test_timeline_earliest_fit_hand_worked():
    t = Timeline(10)
    t.reserve(0, 5, 6)
    t.reserve(2, 8, 3)      # usage: 6 on [0,2), 9 on [2,5), 3 on [5,8), 0 after
    assert [t.earliest_fit(n, 0) for n in (1, 2, 5, 7, 10)] == [0, 5, 5, 5, 8]
    assert t.earliest_fit(4, 1) == 5 and math.isinf(t.earliest_fit(10.5, 0))
    assert [t.usage(x) for x in (1, 3, 6, 9)] == [6, 9, 3, 0]


def test_three_requests_hand_worked_waits(three):
    inst, pl, arrivals = three
    trace = simulate(inst, pl, [0.45], FixedRoutes([[0]] * 3), arrivals, service="offline", retry_backoff=False)
    # r0 [0, 10.2), r1 [1, 11.2); r2 arrives at 2 and fits once r0 ends: 0.2 + 0.2 <= 0.45
    assert trace.start.tolist() == pytest.approx([0.0, 1.0, 10.2])
    assert trace.wait.tolist() == pytest.approx([0.0, 0.0, 8.2])
    assert trace.per_token.tolist() == pytest.approx([1.02, 1.02, (10.2 + 10.2 - 2) / 10])


def test_three_requests_with_back_off(three):
    inst, pl, arrivals = three
    trace = simulate(inst, pl, [0.45], FixedRoutes([[0]] * 3), arrivals, service="offline")
    assert trace.start.tolist() == pytest.approx([0.0, 1.0, 17.0])   # retries at 2, 3, 5, 9, 17
    assert trace.attrs["peak_cache_gb"] == pytest.approx([0.4])


def test_full_service_time_and_ttft(three):
    inst, pl, arrivals = three
    trace = simulate(inst, pl, [0.45], FixedRoutes([[0]] * 3), arrivals, retry_backoff=False)
    first = inst.initial_delay + inst.t_in[0, 0] + 2 * inst.servers[0].tau_in
    assert trace.ttft[0] == pytest.approx(first)
    assert trace.service[0] == pytest.approx(first + 9 * 1.02)
    assert trace.ttft[2] == pytest.approx(trace.wait[2] + first) and trace.wait[2] > 0


def test_request_that_never_fits_is_unserved(three):
    inst, pl, arrivals = three
    trace = simulate(inst, pl, [0.1], FixedRoutes([[0]] * 3), arrivals)
    assert not trace.served.any()


@pytest.mark.parametrize("name", ["bellcanada", "clustered"])
def test_offline_check_reproduces_the_evaluator(name):
    inst = make_instance(name, 0)
    sol = cg_bprr.solve(inst)
    p = cg_bprr.plan(inst)
    chains = [p.routes[c] for c in inst.request_clients()]
    capacity = [s.M - inst.model.s_m * m for s, m in zip(inst.servers, p.m)]
    trace = simulate(inst, p.placement, capacity, FixedRoutes(chains), offline_arrivals(inst), service="offline")
    assert (trace.wait == 0).all()
    assert trace.per_token.mean() == pytest.approx(evaluate(inst, sol).per_token_s, rel=1e-12)


@pytest.mark.registry
@pytest.mark.parametrize("algorithm", list(registry.algorithms("online")))
def test_same_seed_same_trace(algorithm):
    inst = make_instance("abovenet", 1)
    traces = []
    for _ in range(2):
        s = registry.call(algorithm, inst, "online", seed=1)
        if s.placement is None:        # a setup without a placement says why, and has nothing to simulate
            assert s.message
            return
        traces.append(simulate_setup(inst, s, poisson_arrivals(inst, 30, 0.5, 7)))
    timing = ["route_s"]  # wall-clock of the routing decision, the only column allowed to differ
    assert traces[0].drop(columns=timing).equals(traces[1].drop(columns=timing))
    other = poisson_arrivals(inst, 30, 0.5, 8)
    assert not np.array_equal(other.times, poisson_arrivals(inst, 30, 0.5, 7).times)


def test_ws_rr_weighs_waiting_against_transmission():
    # s0 is faster per token (0.12 vs 0.30) but full until t = 5; l_out 10: waiting 5 s + 1.2 vs 3.0
    inst = tiny(2, M=[10, 10], tau=[0.01, 0.1], t=[[0.1, 0.1]], R=1, l_out=10)
    state = State(inst, Placement.of([1, 1], [2, 2]), [0.2, 10])
    state.timelines[0].reserve(0, 5, 0.2)
    assert WsRR().route(state, 0, 0, now=0.0) == [1]
    assert WsRR().route(state, 0, 0, now=4.0) == [0]       # 1 s of waiting + 1.2 < 3.0


def _enumerate_myopic(state: State, client: int, now: float) -> float:
    inst, pl, best = state.inst, state.placement, math.inf
    for n in range(1, inst.n_servers + 1):
        for chain in itertools.permutations(range(inst.n_servers), n):
            e, wait, cost = 1, 0.0, 0.0
            for j in chain:
                k = hop_blocks(e, int(pl.a[j]), int(pl.m[j]))
                if not k:
                    break
                wait, cost, e = max(wait, state.wait(j, k, now)), cost + link_cost(inst, client, j, k), e + k
            else:
                if e == inst.L + 1:
                    best = min(best, wait + inst.workload.l_out * cost)
    return best


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=3, max_size=3),
       st.lists(st.tuples(st.integers(0, 2), st.floats(0, 20), st.floats(0.05, 0.3)), max_size=6),
       st.lists(st.floats(0.0, 0.3), min_size=3, max_size=3))
def test_myopic_optimal_matches_enumeration(ranges, reservations, t):
    L = 4
    a = [min(x, L) for x, _ in ranges]
    m = [min(y, L - ai + 1) for (_, y), ai in zip(ranges, a)]
    inst = tiny(L, M=[10] * 3, tau=[0.01, 0.02, 0.03], t=[t], R=1, l_out=10)
    state = State(inst, Placement.of(a, m), [0.5] * 3)
    for j, length, amount in reservations:
        state.timelines[j].reserve(0.0, length, amount)
    expected = _enumerate_myopic(state, 0, 0.0)
    chain = MyopicOptimal().route(state, 0, 0, 0.0)
    if math.isinf(expected):
        assert chain is None
        return
    e, wait, cost = 1, 0.0, 0.0
    for j in chain:
        k = hop_blocks(e, a[j], m[j])
        wait, cost, e = max(wait, state.wait(j, k, 0.0)), cost + link_cost(inst, 0, j, k), e + k
    assert wait + inst.workload.l_out * cost == pytest.approx(expected, rel=1e-12)


def test_progress_counts_unserved_requests_too(three):
    inst, pl, arrivals = three
    seen = []
    trace = simulate(inst, pl, [0.1], FixedRoutes([[0]] * 3), arrivals, progress=seen.append)
    assert not trace.served.any() and seen == [0, 1, 2]
