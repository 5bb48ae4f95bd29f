"""The routing graph of docs/model.md §2/4: S-client -> servers -> D-client with the feasible hops of a placement.

Edge (u, v) carries ``k`` = blocks v processes; costs come from a callback so that CG-BPRR (eq. link
cost), PETALS (min-latency with cache penalty) and later WS-RR share one shortest-path routine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Hashable

from bpr.perf import Placement, hop_blocks

if TYPE_CHECKING:     # networkx (0.15 s to import) only where a graph is built: not on every command's start
    import networkx as nx

SRC: Hashable = "S"
DST: Hashable = "D"

# cost(u, v, k): u is SRC or a server index, v a server index or DST (k = 0 into DST); None hides the hop.
HopCost = Callable[[Hashable, Hashable, int], float | None]


def hop_graph(L: int, pl: Placement) -> nx.DiGraph:
    """Feasible hops: SRC -> j iff a_j = 1; i -> j iff a_j <= a_i+m_i <= a_j+m_j-1; i -> DST iff a_i+m_i = L+1."""
    import networkx as nx

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


@dataclass(frozen=True)
class StaticRoute:
    """A cheapest route under fixed hop costs, its blocks per hop, and whether it is the only route of its
    cost (then a policy whose costs only add non-negative terms picks it wherever those terms are 0)."""

    cost: float
    chain: list[int]
    ks: list[int]
    unique: bool


def unique_cheapest_route(g: nx.DiGraph, cost: HopCost) -> StaticRoute | None:
    """Dijkstra from SRC (the same route as ``cheapest_route``) and a count of the tight paths to DST (hops
    with dist[u] + w(u, v) == dist[v], in the graph's topological order: it is acyclic, routes move forward)."""
    import networkx as nx

    weight = lambda u, v, d: cost(u, v, d["k"])  # noqa: E731
    dist, paths = nx.single_source_dijkstra(g, SRC, weight=weight)
    if DST not in dist:
        return None
    count = {SRC: 1}
    for v in nx.topological_sort(g):
        if v != SRC and v in dist:
            count[v] = min(2, sum(count.get(u, 0) for u in g.predecessors(v)
                                  if u in dist and dist[u] + weight(u, v, g.edges[u, v]) == dist[v]))
    chain = [int(j) for j in paths[DST][1:-1]]
    ks = [g.edges[u, v]["k"] for u, v in zip(paths[DST][:-2], paths[DST][1:-1])]
    return StaticRoute(float(dist[DST]), chain, ks, count[DST] == 1)


# entry_cost(v, k): the price of entering server v for its last k blocks (None hides the hop); a price that
# does not depend on where the request comes from.
EntryCost = Callable[[int, int], float | None]


def entries(L: int, pl: Placement) -> list[list[tuple[int, int]]]:
    """Per position e = 1..L, the servers a request can enter there and the blocks they process:
    (j, a_j + m_j - e) for a_j <= e <= a_j + m_j - 1 (position 0 and L+1 are empty)."""
    out: list[list[tuple[int, int]]] = [[] for _ in range(L + 2)]
    for j in range(len(pl.m)):
        for e in range(int(pl.a[j]), int(pl.end[j])) if pl.m[j] > 0 else ():
            out[e].append((j, int(pl.end[j]) - e))
    return out


def cheapest_by_position(by_position: list[list[tuple[int, int]]], cost: EntryCost) -> StaticRoute | None:
    """The cheapest route when a hop's price depends only on the server entered and its blocks: a pass over
    the positions 1..L+1 (the hop graph is acyclic and every hop moves forward), O(sum of window lengths),
    adding prices in route order as Dijkstra does. ``unique`` says whether no other route ties with it."""
    end = len(by_position) - 1
    dist = [math.inf] * (end + 1)
    count = [0] * (end + 1)
    back: list[tuple[int, int, int] | None] = [None] * (end + 1)
    dist[1], count[1] = 0.0, 1
    for e in range(1, end):
        if dist[e] == math.inf:
            continue
        for j, k in by_position[e]:
            w = cost(j, k)
            if w is None:
                continue
            to, d = e + k, dist[e] + w
            if d < dist[to]:
                dist[to], count[to], back[to] = d, count[e], (e, j, k)
            elif d == dist[to]:
                count[to] = min(2, count[to] + count[e])
    if dist[end] == math.inf:
        return None
    chain, ks, at = [], [], end
    while at != 1:
        e, j, k = back[at]
        chain.append(j)
        ks.append(k)
        at = e
    return StaticRoute(dist[end], chain[::-1], ks[::-1], count[end] == 1)


def cheapest_route(g: nx.DiGraph, cost: HopCost) -> tuple[float, list[int]] | None:
    """Dijkstra from SRC to DST; returns (cost, server chain) or None when no chain covers 1..L."""
    import networkx as nx

    try:
        length, path = nx.single_source_dijkstra(g, SRC, DST, weight=lambda u, v, d: cost(u, v, d["k"]))
    except nx.NetworkXNoPath:
        return None
    return float(length), [int(j) for j in path[1:-1]]
