"""Online routing policies (docs/model.md §6, 7.2): one interface, ``route(state, request, client, now)``.

- ``WsRR``: waiting-penalised shortest path, hop cost tW_ij + l_out t^c_ij (docs/simulator.md §2).
- ``MyopicOptimal``: minimises max tW on the route + l_out sum t^c (the paper's per-request MILP, used by
  opt-rr) exactly, by trying each distinct waiting threshold.
- ``PetalsMinLatency``: PETALS's min-latency route with the cache penalty on the current free pool.

Each policy's cost is a fixed cost plus non-negative terms that depend on the state (waits, penalties).
Its route under the fixed costs alone is computed once per client; when it is the only route of its cost
and those terms are 0 along it, it is the policy's route (every other route costs strictly more), so the
full search runs only when servers are busy (docs/simulator.md §4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bpr.hop_graph import (
    DST,
    StaticRoute,
    cheapest_by_position,
    cheapest_route,
    entries,
    unique_cheapest_route,
)
from bpr.online import State
from bpr.perf import link_cost
from solvers.algorithms.petals import min_latency_cost


def transmission(state: State, client: int):
    """l_out t^c_ij per hop: what every policy but PETALS's pays besides waiting."""
    inst, l_out = state.inst, state.inst.workload.l_out
    return lambda u, v, k: 0.0 if v == DST else l_out * link_cost(inst, client, v, k)


def static_route(state: State, key: str, client: int, cost) -> StaticRoute | None:
    """The policy's route under its fixed costs, once per client and placement."""
    if (key, client) not in state.memo:
        state.memo[(key, client)] = unique_cheapest_route(state.graph, cost)
    return state.memo[(key, client)]


def cheapest(state: State, entry_cost) -> list[int] | None:
    """The cheapest route for a price of entering a server for its last k blocks (None hides the hop): a
    pass over block positions, or, when another route ties with it, the hop graph's Dijkstra, whose choice
    among equal routes the simulator's results have always followed."""
    if "entries" not in state.memo:
        state.memo["entries"] = entries(state.inst.L, state.placement)
    found = cheapest_by_position(state.memo["entries"], entry_cost)
    if found is None or found.unique:
        return None if found is None else found.chain
    best = cheapest_route(state.graph, lambda u, v, k: 0.0 if v == DST else entry_cost(v, k))
    return None if best is None else best[1]


def idle_cheapest(state: State, client: int, now: float) -> list[int] | None:
    """The route of least transmission when it is the only one of its cost and every server on it can take
    the request now (then no wait can make another route cheaper), else None: the full search decides."""
    fixed = static_route(state, WsRR.name, client, transmission(state, client))
    return fixed.chain if fixed is not None and fixed.unique and state.idle_along(fixed, now) else None


@dataclass
class WsRR:
    name: str = "ws-rr"

    def route(self, state: State, request: int, client: int, now: float) -> list[int] | None:
        inst, l_out = state.inst, state.inst.workload.l_out
        if (chain := idle_cheapest(state, client, now)) is not None:
            return chain

        def cost(v, k):
            wait = state.wait(v, k, now)
            return None if math.isinf(wait) else wait + l_out * link_cost(inst, client, v, k)

        return cheapest(state, cost)


@dataclass
class MyopicOptimal:
    name: str = "myopic-optimal"

    def route(self, state: State, request: int, client: int, now: float) -> list[int] | None:
        inst, l_out = state.inst, state.inst.workload.l_out
        if (chain := idle_cheapest(state, client, now)) is not None:
            return chain       # no wait on the cheapest transmission route: threshold 0 wins
        if "entries" not in state.memo:
            state.memo["entries"] = entries(inst.L, state.placement)
        waits = {(j, k): state.wait(j, k, now) for at in state.memo["entries"] for j, k in at}

        def under(threshold: float):
            return lambda v, k: l_out * link_cost(inst, client, v, k) if waits[v, k] <= threshold else None

        floor = cheapest_by_position(state.memo["entries"], under(math.inf))  # no route beats this transmission
        if floor is None:
            return None
        best_cost, best_chain = math.inf, None
        for threshold in sorted({w for w in waits.values() if math.isfinite(w)}):
            if threshold + floor.cost >= best_cost:
                break  # thresholds only grow from here
            found = cheapest_by_position(state.memo["entries"], under(threshold))
            if found is not None and threshold + found.cost < best_cost:
                chain = found.chain if found.unique else cheapest(state, under(threshold))
                best_cost, best_chain = threshold + found.cost, chain
        return best_chain


@dataclass
class PetalsMinLatency:
    name: str = "petals-min-latency"

    def route(self, state: State, request: int, client: int, now: float) -> list[int] | None:
        inst, pl = state.inst, state.placement
        need = state.s_c * pl.m
        fixed = static_route(state, self.name, client, min_latency_cost(inst, client, lambda v: False))
        if fixed is not None and fixed.unique and all(state.free(j, now) >= need[j] for j in fixed.chain):
            return fixed.chain
        best = cheapest_route(state.graph, min_latency_cost(inst, client, lambda v: state.free(v, now) < need[v]))
        return None if best is None else best[1]
