"""Online routing policies (docs/model.md §6, 7.2): one interface, ``route(state, request, client, now)``.

- ``WsRR``: waiting-penalised shortest path, hop cost tW_ij + l_out t^c_ij (docs/simulator.md §2).
- ``MyopicOptimal``: minimises max tW on the route + l_out sum t^c (the paper's per-request MILP, used by
  opt-rr) exactly, by trying each distinct waiting threshold.
- ``PetalsMinLatency``: PETALS's min-latency route with the cache penalty on the current free pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bpr.hop_graph import DST, cheapest_route
from bpr.online import State
from bpr.perf import link_cost
from solvers.petals import min_latency_cost


@dataclass
class WsRR:
    name: str = "ws-rr"

    def route(self, state: State, request: int, client: int, now: float) -> list[int] | None:
        inst, l_out = state.inst, state.inst.workload.l_out

        def cost(u, v, k):
            if v == DST:
                return 0.0
            wait = state.wait(v, k, now)
            return None if math.isinf(wait) else wait + l_out * link_cost(inst, client, v, k)

        best = cheapest_route(state.graph, cost)
        return None if best is None else best[1]


@dataclass
class MyopicOptimal:
    name: str = "myopic-optimal"

    def route(self, state: State, request: int, client: int, now: float) -> list[int] | None:
        inst, l_out = state.inst, state.inst.workload.l_out
        waits = {(u, v): state.wait(v, d["k"], now) for u, v, d in state.graph.edges(data=True) if v != DST}

        def under(threshold: float):
            def cost(u, v, k):
                if v == DST:
                    return 0.0
                return l_out * link_cost(inst, client, v, k) if waits[u, v] <= threshold else None
            return cost

        floor = cheapest_route(state.graph, under(math.inf))  # no route beats this transmission cost
        if floor is None:
            return None
        best_cost, best_chain = math.inf, None
        for threshold in sorted({w for w in waits.values() if math.isfinite(w)}):
            if threshold + floor[0] >= best_cost:
                break  # thresholds only grow from here
            found = cheapest_route(state.graph, under(threshold))
            if found is not None and threshold + found[0] < best_cost:
                best_cost, best_chain = threshold + found[0], found[1]
        return best_chain


@dataclass
class PetalsMinLatency:
    name: str = "petals-min-latency"

    def route(self, state: State, request: int, client: int, now: float) -> list[int] | None:
        inst, pl = state.inst, state.placement
        need = inst.s_c * pl.m
        best = cheapest_route(state.graph, min_latency_cost(inst, client, lambda v: state.free(v, now) < need[v]))
        return None if best is None else best[1]
