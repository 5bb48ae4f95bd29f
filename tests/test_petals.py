"""PETALS heuristics (docs/model.md §6): sizing, block choice, join order, routing with the cache penalty."""

import numpy as np
import pytest
from factories import tiny

from bench.instance_builder import make_instance
from bpr.grading import grade
from bpr.perf import Placement
from solvers.algorithms import petals

A100, MIG = "a100-80gb", "mig-1g.10gb"


@pytest.mark.parametrize("name", ["bellcanada", "abovenet", "clustered"])
def test_bloom_blocks_53_on_a100_and_4_on_mig(name):
    inst = make_instance(name, 0)
    m = petals.petals_sizing(inst).m
    for s, mj in zip(inst.servers, m):
        assert mj == {A100: 53, MIG: 4}[s.gpu]


def test_cache_pool_is_4096_tokens_per_block():
    inst = make_instance("abovenet", 0)
    assert petals.cache_per_block(inst) == pytest.approx(2 * 14336 * 4096 * 2 / 1e9)


def test_throughput_formula():
    inst = tiny(4, M=[10, 10], tau=[0.01, 0.01], t=[[0.1, 0.1]], rps=(20829.38, 3020.37))
    assert petals.throughputs(inst, np.array([53, 1])).tolist() == pytest.approx([20829.38 * 2 / 54, 3020.37])


def test_block_choice_takes_lexicographically_smallest_sorted_window():
    # s0 (3 blocks) takes 1-3; s1 (2 blocks) the empty 4-5; s2 the window (5, 5) at 4-5 over (5, 10) at 3-4.
    a = petals.choose_blocks(5, np.array([3, 2, 2]), np.array([10.0, 5.0, 7.0]), [0, 1, 2])
    assert a.tolist() == [1, 4, 4]


def test_join_order_is_seeded_and_opt_order_sorts_by_tt():
    inst = make_instance("bellcanada", 0)
    m = petals.petals_sizing(inst).m
    assert petals.join_order(inst, "petals", m, 3) == petals.join_order(inst, "petals", m, 3)
    assert petals.join_order(inst, "petals", m, 3) != petals.join_order(inst, "petals", m, 4)
    order = petals.join_order(inst, "petals-opt-order", m, 3)
    tt = [inst.servers[j].tau + inst.t[:, j].max() / m[j] for j in order]
    assert tt == sorted(tt)


def test_cache_penalty_moves_requests_off_a_full_server():
    # Both servers hold all 2 blocks; s0 is faster but its pool fits one request (s_c * 2 = 0.2 GB).
    inst = tiny(2, M=[10, 10], tau=[0.01, 0.05], t=[[0.1, 0.1]], R=3)
    pl = Placement.of([1, 1], [2, 2])
    assert petals.route_requests(inst, pl, np.array([0.2, 10.0])) == [[0], [1], [1]]
    assert petals.route_requests(inst, pl, np.array([10.0, 10.0])) == [[0], [0], [0]]


def test_memory_violations_are_reported_not_hidden():
    # Pools of c_p * 2 = 0.0005 GB are short for every request (0.2 GB), both servers are penalised, so
    # all 3 requests take the faster s0: 2 + 0.1 * 6 = 2.6 GB > M = 2.3 GB.
    inst = tiny(2, M=[2.3, 2.3], tau=[0.01, 0.05], t=[[0.1, 0.1]], R=3)
    graded = grade(inst, petals.solve(inst))
    assert [r.servers for r in graded.solution.routes] == [("s0",)] * 3
    assert [v.kind for v in graded.report.violations] == ["memory"]
    assert graded.report.memory[0] == pytest.approx(2.6)
    assert graded.solution.status == "infeasible" and graded.evaluation is not None


def test_uncovered_blocks_are_an_infeasible_status():
    inst = tiny(10, M=[4.0, 4.0], tau=[0.01, 0.01], t=[[0.1, 0.1]], R=1)
    sol = petals.solve(inst)
    assert sol.termination == "infeasible" and "blocks on no server" in sol.message
