"""The routing graph of docs/model.md §2/4: S-client -> servers -> D-client with the feasible hops of a placement.

Edge (u, v) carries ``k`` = blocks v processes; costs come from a callback so that CG-BPRR (eq. link
cost), PETALS (min-latency with cache penalty) and later WS-RR share one shortest-path routine.
"""

from __future__ import annotations

from typing import Callable, Hashable

import networkx as nx

from bpr.perf import Placement, hop_blocks

SRC: Hashable = "S"
DST: Hashable = "D"

# cost(u, v, k): u is SRC or a server index, v a server index or DST (k = 0 into DST); None hides the hop.
HopCost = Callable[[Hashable, Hashable, int], float | None]


def hop_graph(L: int, pl: Placement) -> nx.DiGraph:
    """Feasible hops: SRC -> j iff a_j = 1; i -> j iff a_j <= a_i+m_i <= a_j+m_j-1; i -> DST iff a_i+m_i = L+1."""
    g = nx.DiGraph()
    hosting = [j for j in range(len(pl.m)) if pl.hosts(j)]
    g.add_nodes_from([SRC, *hosting, DST])
    for j in hosting:
        if pl.a[j] == 1:
            g.add_edge(SRC, j, k=int(pl.m[j]))
        if pl.end[j] == 1 + L:
            g.add_edge(j, DST, k=0)
    for i in hosting:
        for j in hosting:
            k = hop_blocks(int(pl.end[i]), int(pl.a[j]), int(pl.m[j])) if i != j else 0
            if k:
                g.add_edge(i, j, k=k)
    return g


def cheapest_route(g: nx.DiGraph, cost: HopCost) -> tuple[float, list[int]] | None:
    """Dijkstra from SRC to DST; returns (cost, server chain) or None when no chain covers 1..L."""
    try:
        length, path = nx.single_source_dijkstra(g, SRC, DST, weight=lambda u, v, d: cost(u, v, d["k"]))
    except nx.NetworkXNoPath:
        return None
    return float(length), [int(j) for j in path[1:-1]]
