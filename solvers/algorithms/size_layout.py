"""``size_layout``: a placement laid out from the window-size relaxation (docs/formulations.md §8), routed
optimally.

The relaxation (§7) chooses every server's number of blocks and sends the requests along *patterns*: sets
of visits (server, blocks) adding up to L. Where a pattern's servers can be put side by side on the blocks
it is a *lane*, a chain of windows tiling 1..L. Laying the patterns out, the most used first, gives a
placement; the servers no pattern placed are tiled into further lanes, so that capacity is not left
idle; the exact model with every window fixed (§4) then routes the requests. On geant-r95 this finds
what the placement search does not: five A100s in one lane for almost all requests, and a lane of twelve
small slices for the few that do not fit.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np
import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.perf import Placement, window_caps
from bpr.solution import Solution, no_solution
from bpr.status import Termination
from solvers.algorithms.optimal_routing import route
from solvers.formulations.decomposition import room
from solvers.formulations.window_sizes import WindowSizesFormulation
from solvers.framework.context import Context
from solvers.framework.formulation import solve_model
from solvers.framework.registry import Kind, NoOptions, algorithm

NAME = "size_layout"
FLOW_EPS = 1e-6
Pattern = tuple[tuple[int, int], ...]       # the visits (server, blocks) of a path, in server order


def patterns(model: pyo.ConcreteModel, inst: Instance) -> list[tuple[float, Pattern]]:
    """The relaxation's flow split into paths from (layer 0, block 0) to (layer n, block L), each taking
    the largest outgoing arc in turn; (requests, pattern), most used first."""
    found: dict[Pattern, float] = defaultdict(float)
    # per client, (j, b) -> {k (0: skip): flow}, read from the model in one pass
    flows: list[dict[tuple[int, int], dict[int, float]]] = [defaultdict(dict) for _ in inst.clients]
    for (c, j, b, k) in model.A:
        if (value := pyo.value(model.f[c, j, b, k])) > FLOW_EPS:
            flows[c][j, b][k] = value
    for (c, j, b) in model.N:
        if (value := pyo.value(model.skip[c, j, b])) > FLOW_EPS:
            flows[c][j, b][0] = value
    for out in flows:
        while True:
            path = _path(out, inst.n_servers)
            if path is None:
                break
            amount, steps = path
            for j, b, k in steps:
                out[j, b][k] -= amount
                if out[j, b][k] <= FLOW_EPS:
                    del out[j, b][k]
            found[tuple((j, k) for j, _, k in steps if k)] += amount
    return sorted(((v, p) for p, v in found.items()), key=lambda vp: (-vp[0], vp[1]))


def _path(out: dict[tuple[int, int], dict[int, float]], n: int) -> tuple[float, list] | None:
    j, b, steps, amount = 0, 0, [], float("inf")
    while j < n:
        if not out.get((j, b)):
            return None
        k = max(out[j, b], key=lambda key: (out[j, b][key], -key))
        amount = min(amount, out[j, b][k])
        steps.append((j, b, k))
        j, b = j + 1, b + k
    return amount, steps


ORDERS = ("pattern", "smallest first", "largest first")   # how a pattern's unplaced servers fill its gaps


def lay_out(inst: Instance, sizes: dict[int, int], paths: list[tuple[float, Pattern]], order: str = "pattern"
            ) -> Placement:
    """Windows from the patterns, most used first: a pattern whose placed servers leave gaps fills them with
    its unplaced servers side by side, in the pattern's order or by size (a window may overlap the previous
    one to end at the gap's end); a pattern that cannot fill them places nothing. Then every unplaced
    server with a size, largest first, starts at the block that carries the fewest requests so far
    (counting each window's room over its size), which tiles new lanes where capacity is short; the rest
    host block 1 (free without requests)."""
    start: dict[int, int] = {}
    for _, pattern in paths:
        free = [j for j, _ in pattern if j not in start and sizes.get(j)]
        if order != "pattern":
            free.sort(key=lambda j: sizes[j], reverse=order == "largest first")
        filled = _fill(inst.L, [(start[j], start[j] + sizes[j]) for j, _ in pattern if j in start], free, sizes)
        if filled is not None:
            start |= filled
    carried = np.zeros(inst.L)          # per block: the requests its windows carry on full visits
    for j, s in start.items():
        carried[s:s + sizes[j]] += room(inst, j, sizes[j]) // sizes[j]
    for j in sorted((j for j in sizes if j not in start and sizes[j]), key=lambda j: (-sizes[j], j)):
        start[j] = min(int(np.argmin(carried)), inst.L - sizes[j])
        carried[start[j]:start[j] + sizes[j]] += room(inst, j, sizes[j]) // sizes[j]
    mbar = window_caps(inst)
    a = [start[j] + 1 if j in start else 1 for j in range(inst.n_servers)]
    m = [sizes[j] if j in start else min(1, mbar[j]) for j in range(inst.n_servers)]
    return Placement.of(a, m)


def _fill(L: int, placed: list[tuple[int, int]], free: list[int], sizes: dict[int, int]) -> dict[int, int] | None:
    """Starts for ``free`` servers covering the blocks of 1..L that the windows ``placed`` leave, or None."""
    gaps, b = [], 0
    for s, e in sorted(placed):
        if s > b:
            gaps.append((b, s))
        b = max(b, e)
    if b < L:
        gaps.append((b, L))
    starts, queue = {}, list(free)
    for lo, hi in gaps:
        while lo < hi:
            if not queue:
                return None
            j = queue.pop(0)
            starts[j] = max(0, min(lo, hi - sizes[j]))
            lo = starts[j] + sizes[j]
    return starts


@algorithm(NAME, Kind.SOLUTION, columns=("relaxation_s", "patterns", "order", "trimmed"), uses_solver=True)
def solve(inst: Instance, opts: NoOptions, ctx: Context) -> Solution:
    """The window-size relaxation (half of the run's time), its patterns laid out, routed optimally (the
    rest): the first layout that routes, sizes trimmed to the longest visit before the sizes as chosen, each
    in every order; optimal for the instance only where the relaxation's bound proves it."""
    report, model = solve_model(WindowSizesFormulation(inst), ctx.share(0.5), log_name=f"{NAME}-relaxation")
    if not report.has_solution:
        return no_solution(inst, NAME, report.termination, f"the window-size relaxation has no solution "
                                                           f"({report.termination}, {report.raw_status})")
    sizes = {j: size for (j, size) in model.S if pyo.value(model.z[j, size]) > 0.5}
    paths = patterns(model, inst)
    # a size may exceed every visit it serves (the relaxation pays nothing for it), and such a window can
    # block the next one: try each server trimmed to its longest visit first, then the sizes as chosen
    longest: dict[int, int] = {}
    for _, pattern in paths:
        for j, k in pattern:
            longest[j] = max(longest.get(j, 0), k)
    trimmed = {j: longest.get(j, size) for j, size in sizes.items()}
    tried: set[tuple] = set()
    sol = no_solution(inst, NAME, Termination.TIME_LIMIT, "the time limit ran out before a layout was routed")
    used = (ORDERS[0], True)
    for chosen, order in [(t, o) for t in (trimmed, sizes) for o in ORDERS]:
        pl = lay_out(inst, chosen, paths, order)
        if (key := (tuple(pl.a), tuple(pl.m))) in tried:      # the same layout routes the same way
            continue
        tried.add(key)
        if ctx.left() <= 0:
            break
        sol, used = route(inst, pl, ctx, [], NAME, proof=report.dual_bound_s), (order, chosen is trimmed)
        if sol.has_solution:        # the last layout routed
            break
    return dataclasses.replace(sol, info={**sol.info, "relaxation_s": report.incumbent_s,
                                          "patterns": len(paths), "order": used[0], "trimmed": used[1]})
