"""Hand-computed costs of a 3-server instance (docs/model.md §2) against the evaluator and the performance model."""

import numpy as np
import pytest
from factories import tiny

from bpr.checker import check
from bpr.evaluator import evaluate
from bpr.perf import Placement, hop_blocks, route_blocks
from bpr.solution import build

# L = 4; A holds 1-2, B holds 3-4, C holds 2-4. Request 0 takes A->B, request 1 takes A->C.
A, B, C = 0, 1, 2


@pytest.fixture
def case():
    inst = tiny(4, M=[10, 10, 10], tau=[0.01, 0.02, 0.03], tau_in=[0.1, 0.2, 0.3], t=[[0.1, 0.2, 0.3]],
                t_in=[[1.0, 2.0, 3.0]], R=2, l_out=10, initial_delay=0.5)
    sol = build(inst, "hand", first=[1, 3, 2], num=[2, 2, 3], routes=[[A, B], [A, C]])
    return inst, sol


def test_hop_blocks_runs_to_the_end_of_the_range():
    assert hop_blocks(3, 2, 3) == 2      # C holds 2..4, entered at block 3: blocks 3 and 4
    assert hop_blocks(1, 2, 3) == 0      # gap: C does not hold block 1
    assert hop_blocks(5, 3, 2) == 0      # B holds 3..4: nothing left at block 5
    assert hop_blocks(1, 1, 0) == 0      # an idle server takes no hop


def test_route_blocks():
    pl = Placement.of([1, 3, 2], [2, 2, 3])
    assert route_blocks(4, pl, [A, B]) == [2, 2]
    assert route_blocks(4, pl, [A, C]) == [2, 2]
    assert route_blocks(4, pl, [A]) is None
    assert route_blocks(4, pl, [C]) is None


def test_offline_cost_matches_hand_computation(case):
    inst, sol = case
    ev = evaluate(inst, sol)
    # r0: 10 * [(0.1 + 0.01*2) + (0.2 + 0.02*2)] = 3.6 ; r1: 10 * [0.12 + (0.3 + 0.03*2)] = 4.8
    assert ev.offline_s.tolist() == pytest.approx([3.6, 4.8], abs=1e-12)
    assert ev.per_token_s == pytest.approx((3.6 + 4.8) / (2 * 10), abs=1e-12)


def test_full_service_time_eq1(case):
    inst, sol = case
    ev = evaluate(inst, sol)
    # r0: 0.5 + (1.0 + 2*0.1) + (2.0 + 2*0.2) + 9 * 0.36 ; r1: 0.5 + 1.2 + (3.0 + 2*0.3) + 9 * 0.48
    assert ev.full_s.tolist() == pytest.approx([7.34, 9.62], abs=1e-12)


def test_memory_use_eq2(case):
    inst, sol = case
    report = check(inst, sol)
    assert report.feasible
    assert report.loads.tolist() == [4, 2, 2]
    assert report.memory.tolist() == pytest.approx([2 + 0.4, 2 + 0.2, 3 + 0.2])


def test_evaluator_keeps_cost_of_memory_violating_solution(case):
    inst, sol = case
    small = tiny(4, M=[2.3, 10, 10], tau=[0.01, 0.02, 0.03], tau_in=[0.1, 0.2, 0.3], t=[[0.1, 0.2, 0.3]],
                 t_in=[[1.0, 2.0, 3.0]], R=2, l_out=10, initial_delay=0.5)
    ev = evaluate(small, sol)
    assert not ev.feasible and [v.kind for v in ev.report.violations] == ["memory"]
    assert ev.per_token_s == pytest.approx(0.42)
    assert np.isclose(ev.report.memory[A], 2.4)
