"""``spill`` (solvers/algorithms/spill.py, docs/simulator.md §5): chain serving whose requests go to the
servers outside the chains when every slot is busy and they would end sooner there."""

import numpy as np
import pytest
from factories import tiny

from bpr.online import Chain
from bpr.perf import Placement, full_time
from bpr.simulator import Arrivals, simulate_jffc
from solvers.algorithms.policies import WsRR
from solvers.framework import registry


def two(slow_tau: float):
    """Server 0 holds both blocks as a chain of one slot; server 1 holds both blocks outside the chains."""
    inst = tiny(2, M=[10.0, 10.0], tau=[0.1, slow_tau], t=[[0.01, 0.01]], R=2, s_m=1.0, s_c=0.1)
    chain = Chain(0, [0], [2], 1, full_time(inst, 0, [0], [2]))
    return inst, chain, Placement.of([1, 1], [2, 2])


@pytest.mark.parametrize("slow_tau, second", [(0.15, ("s1",)), (1.0, ("s0",))])
def test_a_request_that_finds_every_slot_busy_goes_where_it_ends_sooner(slow_tau, second):
    """Two requests at 0: the first takes the slot; the second would wait a whole service for it, so it goes
    to server 1 when that is less than twice as slow (0.15 against 0.1 per block), and waits otherwise."""
    inst, chain, pl = two(slow_tau)
    arrivals = Arrivals(np.zeros(2), np.zeros(2, dtype=int))
    trace = simulate_jffc(inst, [chain], arrivals, pl, overflow=WsRR(), capacity=[0.0, 10.0 - 2.0])
    assert tuple(trace.route[0].split(" -> ")) == ("s0",)
    assert tuple(trace.route[1].split(" -> ")) == second
    assert trace.attrs["memory_overflow"] is None


def test_without_spare_servers_spill_is_chain_serving():
    from bench.instance_builder import build

    inst = build({"_target_": "bpr.scenarios.topology", "name": "abovenet", "topology": "topozoo/Abvt"}, 0)
    a, b = registry.call("chains", inst, "online"), registry.call("spill", inst, "online")
    assert b.chains == a.chains and np.array_equal(b.placement.m[a.placement.m > 0], a.placement.m[a.placement.m > 0])


def test_a_subset_of_servers_keeps_their_columns():
    inst = tiny(2, M=[10.0, 11.0, 12.0], tau=[0.1, 0.2, 0.3], t=[[0.01, 0.02, 0.03]], R=1, s_m=1.0, s_c=0.1)
    sub = inst.only_servers([0, 2])
    assert [s.M for s in sub.servers] == [10.0, 12.0] and sub.t.tolist() == [[0.01, 0.03]]
    assert sub.rtt_ss.shape == (2, 2)


def test_by_cache_a_slot_holds_as_many_small_requests_as_their_caches_fit():
    """One slot sized for the instance's request (5 + 10 tokens); two requests of 1 + 4 tokens take a third
    of it each: by cache both start at once, by slots the second waits for the first."""
    inst, chain, pl = two(1.0)
    arrivals = Arrivals(np.zeros(2), np.zeros(2, dtype=int), l_in=np.array([1, 1]), l_out=np.array([4, 4]))
    by_slot = simulate_jffc(inst, [chain], arrivals, pl)
    by_cache = simulate_jffc(inst, [chain], arrivals, pl, by_cache=True)
    assert by_slot.start.tolist()[0] == 0.0 and by_slot.start.tolist()[1] > 0.0
    assert by_cache.start.tolist() == [0.0, 0.0] and by_cache.attrs["memory_overflow"] is None
