"""The by-position route search (bpr/hop_graph.cheapest_by_position, docs/simulator.md §4) against Dijkstra
on the hop graph and against enumerating every route: same cost, same route when it is the only cheapest
one, and ``unique`` exactly when no other route ties. Integer prices make ties frequent."""

import math

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bpr.hop_graph import (
    DST,
    SRC,
    cheapest_by_position,
    cheapest_route,
    entries,
    hop_graph,
)
from bpr.perf import Placement


@st.composite
def placements(draw):
    L = draw(st.integers(1, 6))
    n = draw(st.integers(1, 6))
    m = np.array([draw(st.integers(0, L)) for _ in range(n)])
    a = np.array([draw(st.integers(1, L - int(mj) + 1)) if mj else 0 for mj in m])
    prices = {(j, k): draw(st.integers(1, 4)) for j in range(n) for k in range(1, L + 1)}
    return L, Placement(a, m), prices


def every_route(g: nx.DiGraph, prices: dict) -> list[tuple[int, list[int]]]:
    out = []
    for path in nx.all_simple_paths(g, SRC, DST):
        hops = list(zip(path, path[1:]))
        out.append((sum(prices[(v, g.edges[u, v]["k"])] for u, v in hops if v != DST), path[1:-1]))
    return out


@settings(max_examples=300, deadline=None)
@given(placements())
def test_by_position_equals_dijkstra_and_enumeration(case):
    L, pl, prices = case
    g = hop_graph(L, pl)
    found = cheapest_by_position(entries(L, pl), lambda j, k: prices[(j, k)])
    routes = every_route(g, prices) if g.has_node(SRC) and g.has_node(DST) else []
    if not routes:
        assert found is None
        return
    best = min(cost for cost, _ in routes)
    ties = [chain for cost, chain in routes if cost == best]
    dijkstra = cheapest_route(g, lambda u, v, k: 0.0 if v == DST else prices[(v, k)])
    assert found is not None and math.isclose(found.cost, best) and math.isclose(dijkstra[0], best)
    assert found.unique == (len(ties) == 1)
    assert found.chain in ties
    if found.unique:
        assert found.chain == dijkstra[1]


def test_a_tie_is_reported():
    """Two servers holding blocks 1-2 at the same price: two cheapest routes, not unique."""
    pl = Placement(np.array([1, 1]), np.array([2, 2]))
    found = cheapest_by_position(entries(2, pl), lambda j, k: 1.0)
    assert found.cost == 1.0 and not found.unique and found.ks == [2]
