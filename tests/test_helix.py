"""Helix (solvers/formulations/helix.py, solvers/algorithms/helix.py, docs/peers.md §2) worked by hand: a
3-server max-flow placement, the weighted round robin over a flow, and what its rows may claim."""

import pytest
from factories import tiny

from bpr.grading import grade
from solvers.formulations.helix import FlowRouter, HelixFormulation, max_blocks, throughput
from solvers.framework import registry
from solvers.framework.settings import SolverSettings

EXACT = SolverSettings(time_limit=60, rel_gap=0.0, threads=1, progress=False, log=False)


def three(R: int = 3):
    """L = 4, s_m = s_c = 1 GB: server 0 (8 GB) holds up to 4 blocks (half its memory), servers 1 and 2
    (4 GB) up to 2. T_j(k) = floor((M_j - k) / k) / k with tau = 1: server 0 7, 1.5, 1/3, 1/4 for k = 1..4;
    servers 1 and 2 3, 1/2."""
    return tiny(4, M=[8.0, 4.0, 4.0], tau=[1.0, 1.0, 1.0], t=[[0.1, 0.2, 0.3]], R=R, s_m=1.0, s_c=1.0)


def test_node_capacities_by_hand():
    inst = three()
    assert max_blocks(inst, 0.5) == [4, 2, 2]
    assert [throughput(inst, 0, k) for k in (1, 2, 3, 4)] == pytest.approx([7, 1.5, 1 / 3, 1 / 4])
    assert [throughput(inst, 1, k) for k in (1, 2)] == pytest.approx([3, 0.5])


def test_the_max_flow_placement_of_three_servers():
    """Every server holds at least one block and four blocks need one server with two: the best is server 0
    with two blocks (1.5) and servers 1 and 2 with one each (3 each) on one chain, 1.5 tokens/s; a
    two-block server 1 or 2 carries 0.5 and server 0 with three or four blocks less."""
    sol = registry.call("helix", three(), solver=EXACT)
    assert sol.info["max_flow_tps"] == pytest.approx(1.5)
    m = {p.server: p.num_blocks for p in sol.placement}
    assert m == {"s0": 2, "s1": 1, "s2": 1}
    assert sol.termination == "solved"             # the most throughput, not the least per-token time
    graded = grade(three(), sol)
    assert graded.solution.status == "feasible"
    assert all(sorted(r.servers) == ["s0", "s1", "s2"] for r in graded.solution.routes)
    # per token: 0.1 + 0.2 + 0.3 of client RTT and 4 blocks at 1 s
    assert graded.evaluation.per_token_s == pytest.approx(4.6)


def test_the_requests_stop_where_the_cache_is_full():
    """Each server's cache beside its blocks: server 0 floor((8 - 2) / 2) = 3 requests, servers 1 and 2
    floor(3 / 1) = 3: the fourth request finds no server with room."""
    sol = registry.call("helix", three(R=4), solver=EXACT)
    assert not sol.has_solution and "request 3: every chain of the flow has a server whose cache is full" in \
        sol.message


def test_weighted_round_robin_follows_the_flow():
    """Arcs of flow 2 and 1 from the source: loads 0.5 vs 1 -> the first; 1 vs 1 -> the first (lower id);
    1.5 vs 1 -> the second: two requests to one for every three."""
    router = FlowRouter({(9, 0): 2.0, (9, 1): 1.0, (0, 10): 2.0, (1, 10): 1.0}, source=9, sink=10)
    assert [router.walk(1.0, lambda v: True) for _ in range(3)] == [[0], [0], [1]]
    # an arc below 5 % of its node's outflow takes nothing; a full server is skipped
    router = FlowRouter({(9, 0): 1.0, (9, 1): 0.04, (0, 10): 1.0, (1, 10): 0.04}, source=9, sink=10)
    assert router.walk(1.0, lambda v: True) == [0] and router.walk(1.0, lambda v: v != 0) is None


def test_the_start_is_separate_pipelines_of_the_largest_servers():
    inst = tiny(4, M=[8.0, 4.0, 4.0, 8.0], tau=[1.0] * 4, t=[[0.1] * 4], R=1, s_m=1.0, s_c=1.0)
    assert HelixFormulation(inst).pipelines() == [[(0, 4)], [(3, 4)], [(1, 2), (2, 2)]]


def test_a_walk_takes_a_chain_with_room_whenever_one_is_left():
    """Two chains 0 -> 2 and 1 -> 3 from the source (9) to the sink (10); server 2 takes 2 requests, the others
    3: the fifth request must take 1 -> 3, however the loads stand, and a walk that finds nothing adds no
    load."""
    from bpr.perf import Placement
    from solvers.formulations.helix import route_by_flow

    flows = {(9, 0): 1.0, (9, 1): 1.0, (0, 2): 1.0, (1, 3): 1.0, (2, 10): 1.0, (3, 10): 1.0}
    router, used, cap = FlowRouter(flows, 9, 10), [0, 0, 0, 0], [3, 3, 2, 3]
    chains = []
    for _ in range(5):
        chain = router.walk(1.0, lambda v: used[v] < cap[v])
        chains.append(chain)
        for v in chain:
            used[v] += 1
    assert chains == [[0, 2], [1, 3], [0, 2], [1, 3], [1, 3]]
    before = dict(router.load)
    assert router.walk(1.0, lambda v: False) is None and router.load == before
    inst = tiny(4, M=[8.0] * 4, tau=[1.0] * 4, t=[[0.1] * 4], R=5, s_m=1.0, s_c=1.0)
    assert route_by_flow(inst, Placement.of([1, 1, 3, 3], [2, 2, 2, 2]),
                         {(4, 0): 1.0, (4, 1): 1.0, (0, 2): 1.0, (1, 3): 1.0, (2, 5): 1.0, (3, 5): 1.0})[1] == ""


def test_the_largest_arc_is_never_masked():
    """21 equal arcs each carry less than 5 % of the outflow: the largest (the first) is kept."""
    flows = {(99, v): 1.0 for v in range(21)} | {(v, 100): 1.0 for v in range(21)}
    assert FlowRouter(flows, 99, 100).walk(1.0, lambda v: True) is not None


def test_every_online_run_starts_with_no_load():
    """The simulator makes a new state per run: Helix's arc loads live there, so a run's first request takes
    the same chain as the last run's first (two equal chains 0 -> 2 and 1 -> 3)."""
    from bpr.online import State
    from bpr.perf import Placement
    from solvers.algorithms.helix import HelixRouting

    inst = tiny(4, M=[8.0] * 4, tau=[1.0] * 4, t=[[0.1] * 4], R=2, s_m=1.0, s_c=1.0)
    pl = Placement.of([1, 1, 3, 3], [2, 2, 2, 2])
    policy = HelixRouting({(4, 0): 1.0, (4, 1): 1.0, (0, 2): 1.0, (1, 3): 1.0, (2, 5): 1.0, (3, 5): 1.0}, 4, 5)
    runs = []
    for _ in range(2):
        state = State(inst, pl, [6.0] * 4)
        runs.append([policy.route(state, r, 0, float(r)) for r in range(3)])
    assert runs[0] == runs[1] == [[0, 2], [1, 3], [0, 2]]
