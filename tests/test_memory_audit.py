"""The simulator grades an online setup's memory itself (bpr/memory_audit.py, docs/simulator.md §7): hand-worked
holds, and for every online algorithm a setup that declares more capacity or slots than its servers hold is
caught, while its own setup fits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from factories import tiny

from bench.instance_builder import make_instance
from bench.online import run_measures
from bpr.memory_audit import Holds, audit
from bpr.perf import Placement
from bpr.simulator import Arrivals, simulate_setup
from solvers.framework import registry


def holds(*items: tuple[int, float, float, float]) -> Holds:
    """Holds of one-hop requests: (server, GB on its one block, from, until)."""
    h = Holds()
    for j, gb, start, end in items:
        h.add([j], [1], gb, start, end)
    return h


def test_peak_and_first_overflow_hand_worked():
    """One server, 2 blocks of 1 GB: caches of 4 GB on [10, 20) and 3 GB on [5, 15) overlap on [10, 15): 7 GB
    of cache, 9 GB in all. M = 10 holds it; M = 8.5 overflows at t = 10."""
    inst = tiny(2, M=[10.0], tau=[0.1], t=[[0.1]], s_m=1.0)
    pl = Placement.of([1], [2])
    fits = audit(inst, pl, holds((0, 4.0, 10, 20), (0, 3.0, 5, 15)))
    assert fits.overflow is None and fits.peak_cache_gb.tolist() == [7.0] and fits.peak_share == pytest.approx(0.9)
    small = dataclasses.replace(inst, servers=(dataclasses.replace(inst.servers[0], M=8.5),))
    over = audit(small, pl, holds((0, 4.0, 10, 20), (0, 3.0, 5, 15))).overflow
    assert (over.server, over.time_s, over.used_gb, over.blocks_gb, over.memory_gb) == ("s0", 10.0, 9.0, 2.0, 8.5)
    assert str(over).startswith("memory exceeded: server s0 holds 9.000 GB at t = 10.000 s")


def test_a_release_frees_room_for_a_hold_at_the_same_instant():
    inst = tiny(2, M=[7.0], tau=[0.1], t=[[0.1]], s_m=1.0)
    result = audit(inst, Placement.of([1], [1]), holds((0, 6.0, 0, 5), (0, 6.0, 5, 8)))
    assert result.overflow is None and result.peak_cache_gb.tolist() == [6.0]


def test_blocks_alone_that_overfill_a_server_are_caught():
    inst = tiny(2, M=[1.5], tau=[0.1], t=[[0.1]], s_m=1.0)
    over = audit(inst, Placement.of([1], [2]), Holds()).overflow
    assert over.used_gb == 2.0 and over.time_s == 0.0


def inflated(setup, factor: float):
    """The same setup declaring ``factor`` times its capacity or its slots."""
    if setup.chains is not None:
        return dataclasses.replace(setup, chains=[dataclasses.replace(ch, capacity=int(ch.capacity * factor))
                                                  for ch in setup.chains])
    return dataclasses.replace(setup, capacity=np.asarray(setup.capacity) * factor)


@pytest.fixture(scope="session")
def instances():
    """abovenet with BLOOM (memory binds) and with Llama-2-70B (a server holds the whole model: JFFC-only)."""
    return [make_instance("abovenet", 0), make_instance("abovenet", 0, {"model": "llama-2-70b"})]


@pytest.mark.registry
@pytest.mark.parametrize("name", list(registry.algorithms("online")))
def test_more_capacity_or_slots_than_memory_is_infeasible_and_the_own_setup_fits(name, instances):
    for inst in instances:
        setup = registry.call(name, inst, "online")
        if setup.placement is not None:
            break
    else:
        pytest.skip(f"{name} places nothing on the test instances: {setup.message}")
    n = 4000                  # a burst at t = 0: every slot and all of every capacity is taken at once
    burst = Arrivals(np.zeros(n), np.zeros(n, dtype=int))
    own = run_measures(inst, setup, simulate_setup(inst, setup, burst, retry_backoff=False), 0.0)
    assert own["sim_status"] != "infeasible" and own["peak_memory_share"] <= 1 + 1e-9
    greedy = inflated(setup, 10.0)
    row = run_measures(inst, greedy, simulate_setup(inst, greedy, burst, retry_backoff=False), 0.0)
    assert row["sim_status"] == "infeasible" and row["peak_memory_share"] > 1
    assert row["message"].startswith("memory exceeded: server ") and " GB at t = " in row["message"]
    assert row["per_token_s"] is not None and np.isfinite(row["per_token_s"])   # its times are still shown
