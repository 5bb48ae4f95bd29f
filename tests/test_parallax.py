"""Parallax (solvers/algorithms/parallax.py, docs/peers.md §1) worked by hand on small cases: its dynamic
program over pipelines, water-filling, the join of the servers left over, and its chain selection offline and
online."""

import numpy as np
import pytest
from factories import tiny

from bpr.errors import BprInputError
from bpr.grading import grade
from bpr.online import State
from bpr.perf import Placement
from solvers.algorithms import parallax
from solvers.framework import registry


def three(R: int = 5):
    """s_m = 1, param_share 0.5: capacities 8, 6, 5 blocks of L = 10 (M = 16, 12, 10)."""
    return tiny(10, M=[16.0, 12.0, 10.0], tau=[0.03, 0.01, 0.02], t=[[0.1, 0.2, 0.3]], R=R, s_m=1.0, s_c=0.1)


OPTS = parallax.Options(param_share=0.5, kv_share=0.25)


def test_the_dynamic_program_finds_the_fewest_stages_and_keeps_the_first_of_equal_choices():
    # one pipeline of 10 blocks from capacities 8, 6, 5: two servers are needed; skipping the largest costs
    # no more (6 + 5 covers 10), and a skip comes first among equal choices, as in Parallax's allocator
    assert parallax.fewest_stages([8, 6, 5], 10, 1) == [[1, 2]]
    # 10, 5, 5: one pipeline of one server, or two pipelines of three servers in all
    assert parallax.fewest_stages([10, 5, 5], 10, 1) == [[0]]
    assert parallax.fewest_stages([10, 5, 5], 10, 2) == [[0], [1, 2]]
    assert parallax.fewest_stages([10, 5, 4], 10, 2) is None


def test_water_filling_equalises_the_stages_compute_under_their_memory():
    assert parallax.water_fill([6, 6], [0.01, 0.03], 8) == [6, 2]          # 6 x 0.01 = 2 x 0.03
    assert parallax.water_fill([10, 10], [0.01, 0.02], 7) == [5, 2]        # 4.67, 2.33: the larger fraction
    assert parallax.water_fill([3, 10], [0.01, 0.02], 7) == [3, 4]         # the first is capped by memory
    assert sum(parallax.water_fill([4, 4, 4], [0.01, 0.01, 0.01], 12)) == 12


def test_three_servers_by_hand():
    """Pipelines: k = 1 only (19 blocks of capacity < 2 L); s*(1) = 2 with servers 1 and 2 (6 + 5 blocks).
    Water-filling: min(6, l / 0.01) + min(5, l / 0.02) >= 10 first at l = 0.08: 6 and 4 blocks. Server 0 then
    joins at the block of least cache capacity: blocks 1-6 offer 0.25 x 12 / 6 = 0.5 GB, blocks 7-10
    0.25 x 10 / 4 = 0.625 GB: it starts at block 1 with its 8 blocks (a range that ends where none begins)."""
    alloc = parallax.allocate(three(), OPTS)
    assert alloc.placement.a.tolist() == [1, 1, 7] and alloc.placement.m.tolist() == [8, 6, 4]
    assert alloc.pipelines == [[1, 2]]
    # the cache budgets hold floor(0.25 x 12 / (6 x 0.1)) = 5 and floor(0.25 x 10 / (4 x 0.1)) = 6 requests
    assert parallax.slots(three(), OPTS, alloc.placement, 0.1).tolist() == [5, 5, 6]
    graded = grade(three(), registry.call("parallax", three(), options=OPTS))
    assert graded.solution.status == "feasible"
    assert [r.servers for r in graded.solution.routes] == [("s1", "s2")] * 5
    # per token: 0.2 + 6 x 0.01 + 0.3 + 4 x 0.02
    assert graded.evaluation.per_token_s == pytest.approx(0.64)
    six = registry.call("parallax", three(R=6), options=OPTS)    # server 1 holds 5 requests' cache
    assert not six.has_solution and "request 5: every chain has a server whose cache budget" in six.message


def test_parallax_prices_a_hop_per_layer_when_asked():
    """hop_cost=layer (Parallax's router): entering a server costs its per-block time once, whatever it runs."""
    pl = Placement.of([1, 1, 7], [8, 6, 4])
    assert parallax.hop_price(three(), OPTS, pl).tolist() == pytest.approx([0.24, 0.06, 0.08])
    layer = parallax.Options(param_share=0.5, kv_share=0.25, hop_cost="layer")
    assert parallax.hop_price(three(), layer, pl).tolist() == pytest.approx([0.03, 0.01, 0.02])


def test_two_pipelines_when_they_pay_and_the_cheaper_chain_first():
    """Capacities 10, 5, 5 (M = 20, 10, 10): k = 2 scores 4 / 3 > 1 / 1. Client RTTs make server 0's
    one-hop chain the cheaper; once its budget is full, requests take the two-hop pipeline."""
    inst = tiny(10, M=[20.0, 10.0, 10.0], tau=[0.01, 0.01, 0.01], t=[[0.1, 0.2, 0.2]], R=4, s_m=1.0, s_c=0.1)
    alloc = parallax.allocate(inst, OPTS)
    assert alloc.pipelines == [[0], [1, 2]] and alloc.placement.a.tolist() == [1, 1, 6]
    routes, message = parallax.route_offline(inst, OPTS, alloc.placement)
    # server 0: floor(0.25 x 20 / (10 x 0.1)) = 5 requests; all four fit on it
    assert message == "" and routes == [[0]] * 4
    routes, message = parallax.route_offline(inst, parallax.Options(param_share=0.5, kv_share=0.1),
                                             alloc.placement)     # now 2 requests on server 0
    assert message == "" and routes == [[0], [0], [1, 2], [1, 2]]


def test_online_the_cheapest_chain_with_room_now_else_the_one_that_frees_first():
    inst = tiny(10, M=[20.0, 10.0, 10.0], tau=[0.01, 0.01, 0.01], t=[[0.1, 0.2, 0.2]], R=4, s_m=1.0, s_c=0.1)
    pl = Placement.of([1, 1, 6], [10, 5, 5])
    policy = parallax.ParallaxRouting(OPTS)
    state = State(inst, pl, [5.0, 2.5, 2.5])
    assert policy.route(state, 0, 0, 0.0) == [0]
    state.timelines[0].reserve(0.0, 50.0, 5.0)           # server 0 full until 50 s
    assert policy.route(state, 1, 0, 1.0) == [1, 2]
    state.timelines[1].reserve(0.0, 30.0, 2.5)           # and server 1 until 30 s: the pipeline frees first
    assert policy.route(state, 2, 0, 2.0) == [1, 2]
    state.timelines[2].reserve(0.0, 80.0, 2.5)           # server 2 until 80 s: now server 0 frees first
    assert policy.route(state, 3, 0, 3.0) == [0]


def test_options_are_checked():
    with pytest.raises(BprInputError, match="param_share \\+ kv_share must be at most 1"):
        parallax.Options(param_share=0.8, kv_share=0.3)
    with pytest.raises(BprInputError, match="hop_cost"):
        parallax.Options(hop_cost="flops")
    defaults = parallax.Options()
    assert (defaults.param_share, defaults.kv_share) == (0.65, 0.25)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_solution_passes_the_checker_and_costs_what_its_routes_cost(seed):
    from factories import random_binding

    inst = random_binding(seed)
    sol = registry.call("parallax", inst)
    if sol.has_solution:
        graded = grade(inst, sol)
        assert graded.solution.status == "feasible"
        assert np.isfinite(graded.evaluation.per_token_s)
    else:
        assert "cache budget" in sol.message or "blocks" in sol.message
