"""CG-BPRR (docs/model.md §5): hand-worked steps, Theorem 3.5, infeasibility message."""

import numpy as np
import pytest
from factories import tiny

from bpr.grading import grade
from solvers.algorithms import cg_bprr

X, Y, Z = 0, 1, 2


@pytest.fixture
def inst():
    # s_m = 1, s_c = 0.1, R = 1: X and Y fit 2 blocks (2.5 / 1.1), Z fits 1 (1.2 / 1.1).
    return tiny(4, M=[2.5, 2.5, 1.2], tau=[0.01, 0.01, 0.01], t=[[0.1, 0.3, 0.05]], R=1)


def test_conservative_sizing(inst):
    m, fbar = cg_bprr.conservative_sizing(inst, 1)
    assert m.tolist() == [2, 2, 1]
    assert fbar.tolist() == [2, 2, 2]  # floor(0.5 / 0.2), floor(0.5 / 0.2), floor(0.2 / 0.1)


def test_sizing_of_the_paper_gpus_at_R_88():
    # BLOOM-176B, l_out 128: s_m + 88 s_c = 2.0702 GB; A100 86.13 GB -> 41 blocks, MIG 9.1 GB -> 4 blocks.
    inst = tiny(70, M=[86.13, 9.1], tau=[3.2197e-3, 16.2488e-3], t=[[0.1, 0.1]], R=88,
                s_m=1.3233976672, s_c=0.008486912)
    m, fbar = cg_bprr.conservative_sizing(inst, 88)
    assert m.tolist() == [41, 4]
    assert all(fbar >= 88)


def test_amortised_times_and_order(inst):
    m, _ = cg_bprr.conservative_sizing(inst, 1)
    tt = cg_bprr.amortised_times(inst, m)
    assert tt.tolist() == pytest.approx([0.06, 0.16, 0.06])
    assert cg_bprr.serving_order(tt) == [X, Z, Y]  # tie between X and Z broken by index


def test_greedy_placement_hand_worked(inst):
    # X takes 1-2 (all windows tie, smallest start); Z the first uncovered block 3; Y the only window
    # with an uncovered block, 3-4.
    p = cg_bprr.plan(inst)
    assert p.placement.a.tolist() == [1, 3, 3]
    assert p.placement.m.tolist() == [2, 2, 1]


def test_routing_takes_the_cheaper_chain(inst):
    # X->Z->Y costs 0.12 + 0.06 + 0.31 = 0.49; X->Y costs 0.12 + 0.32 = 0.44.
    p = cg_bprr.plan(inst)
    assert p.routes == [[X, Y]]
    graded = grade(inst, cg_bprr.solve(inst))
    assert graded.solution.status == "feasible"
    assert graded.evaluation.per_token_s == pytest.approx(0.44)


def test_theorem_bound_hand_worked(inst):
    # prefix X(2), Z(1), Y(2) covers 4 blocks: 0.06*2 + 0.06*1 + 0.16*2 - 0.01*(5 - 4) = 0.49
    assert cg_bprr.solve(inst).info["guarantee_s"] == pytest.approx(0.49)


def test_lexicographic_rule_once_every_block_is_served():
    # Four equal servers of 2 blocks (fbar 1) on L = 4, R = 1: the first two cover 1-2 and 3-4; the third
    # sees C = (1,1,1,1) and takes the leftmost window; the fourth sees (2,2,1,1) and takes 3-4.
    inst = tiny(4, M=[2.3] * 4, tau=[0.01] * 4, t=[[0.1] * 4], R=1)
    p = cg_bprr.plan(inst)
    assert p.m.tolist() == [2] * 4 and p.fbar.tolist() == [1] * 4
    assert p.placement.a.tolist() == [1, 3, 1, 3]


def test_lexicographic_rule_prefers_less_served_blocks():
    C = np.array([5, 5, 3, 3])
    assert cg_bprr._window(C, np.zeros(4), 2, R=2) == 2


def test_infeasible_instance_says_by_how_much():
    inst = tiny(10, M=[2.5, 2.5], tau=[0.01, 0.01], t=[[0.1, 0.1]], R=1)
    sol = cg_bprr.solve(inst)
    assert sol.termination == "infeasible" and not sol.has_solution
    msg = sol.message
    assert "sum m_j = 4 < L = 10" in msg and "short by 6 blocks" in msg
    assert "needs at least 11.00 GB, the servers have 5.00 GB" in msg


def test_same_input_same_output(inst):
    assert cg_bprr.solve(inst).placement == cg_bprr.solve(inst).placement
