"""Constraints of the extended formulation (docs/formulations.md §2): one ``define_*`` per family.

    sum_{s,e} y[j,s,e] = 1   (<= 1 with allow_idle)                                   every server
    sum_{j,e} g[c,j,0,e] = R_c;  sum_{j,b} g[c,j,b,e'] = sum_{j,e} g[c,j,e',e] (0 < e' < L)   flow per client
    g[c,j,b,e] <= U[c,j,e-b] Y[j,b,e],  U = min(R_c, floor((M_j - s_m k) / (s_c k)))         linking
    s_m sum (e - s) y[j,s,e] + s_c sum (e - b) g[c,j,b,e] <= M_j                              memory (eq. 2)
    identical servers j < j': pos_j <= pos_j' with pos = sum ((L+1) s + e) y                 symmetry

U with the memory term is valid because a server that processes k blocks of a request hosts at least k
blocks and holds k blocks of cache per such request (the "memory-derived bound on g").
"""

from __future__ import annotations

import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.numeric import floor
from solvers.formulations.capacity import define_capacity
from solvers.formulations.extended.variables import Windows, identical_groups


def define_one_window(model: pyo.ConcreteModel, w: Windows, allow_idle: bool) -> None:
    """Every server that can hold a block hosts exactly one window (at most one with ``allow_idle``).
    Both give the same optimum: a server that carries no request can host any one block at no cost, so
    the dual bound of either bounds every solution the checker accepts. A server too small for one block
    (mbar_j = 0) stays idle."""
    by_server = w.by_server()

    def one(model, j):
        if j not in by_server:
            return pyo.Constraint.Skip
        total = pyo.quicksum(model.y[k] for k in by_server[j])
        return total <= 1 if allow_idle else total == 1

    model.one_window = pyo.Constraint(model.J, rule=one)


def define_cumulative(model: pyo.ConcreteModel, w: Windows) -> None:
    """Y[j,b,e] = Y[j,b-1,e] + y[j,b,e] on every arc (the window ending at e starts at or before b)."""
    arcs, windows = set(w.arcs), set(w.jse)

    def cumulative(model, j, b, e):
        before = model.Y[j, b - 1, e] if (j, b - 1, e) in arcs else 0
        return model.Y[j, b, e] == before + (model.y[j, b, e] if (j, b, e) in windows else 0)

    model.cumulative = pyo.Constraint(model.A, rule=cumulative)


def define_flow(model: pyo.ConcreteModel, inst: Instance) -> None:
    """Per client, R_c requests leave boundary 0; what arrives at a boundary 0 < e < L leaves from it."""
    R_c = inst.requests_per_client()
    starts: dict[int, list] = {}
    ends: dict[int, list] = {}
    for (j, b, e) in model.A:
        starts.setdefault(b, []).append((j, b, e))
        ends.setdefault(e, []).append((j, b, e))

    def balance(model, c, v):
        if v not in starts and v not in ends:   # no arc starts or ends here (fixed windows)
            return pyo.Constraint.Skip if 0 < v < inst.L or R_c[c] == 0 else pyo.Constraint.Infeasible
        out = pyo.quicksum(model.g[c, k] for k in starts.get(v, []))
        into = pyo.quicksum(model.g[c, k] for k in ends.get(v, []))
        if v == 0:
            return out == R_c[c]
        if v == inst.L:
            return into == R_c[c]
        return out - into == 0

    model.flow = pyo.Constraint(model.C, pyo.RangeSet(0, inst.L), rule=balance)


def capacity(inst: Instance, j: int, k: int, R_c: int, memory_caps: bool) -> int:
    """Most requests of one client that can process k blocks on server j at once."""
    if not memory_caps:
        return R_c
    s = inst.servers[j]
    return max(0, min(R_c, floor((s.M - inst.model.s_m * k) / (inst.s_c * k))))


def define_linking(model: pyo.ConcreteModel, inst: Instance, memory_caps: bool) -> None:
    """Requests leave j where its window ends and enter at or after its start."""
    R_c = inst.requests_per_client()
    model.linking = pyo.Constraint(model.C, model.A, rule=lambda model, c, j, b, e: model.g[c, j, b, e] <= capacity(
        inst, j, e - b, R_c[c], memory_caps) * model.Y[j, b, e])


def define_memory(model: pyo.ConcreteModel, inst: Instance, w: Windows) -> None:
    """Eq. 2: blocks hosted plus the caches of the requests processed on j."""
    windows, arcs = w.by_server(), w.by_server(arcs=True)

    def memory(model, j):
        if j not in windows:   # too small for one block (or fixed idle): hosts nothing, carries nothing
            return pyo.Constraint.Skip
        blocks = pyo.quicksum((e - s) * model.y[j, s, e] for (_, s, e) in windows[j])
        cache = pyo.quicksum((e - b) * model.g[c, j, b, e] for c in model.C for (_, b, e) in arcs[j])
        return inst.model.s_m * blocks + inst.s_c * cache <= inst.servers[j].M

    model.memory = pyo.Constraint(model.J, rule=memory)


def define_window_memory(model: pyo.ConcreteModel, inst: Instance, w: Windows) -> None:
    """Memory per window end: the caches of the requests that leave j after block e fit beside the window
    that ends at e, s_c sum_{c,b} (e - b) g[c,j,b,e] <= sum_s (M_j - s_m (e - s)) y[j,s,e]. Summed over e it
    is the memory row; apart, it stops a fractional placement from lending one window's room to another."""
    starts: dict[tuple[int, int], list[int]] = {}
    entries: dict[tuple[int, int], list[int]] = {}
    for (j, s, e) in w.jse:
        starts.setdefault((j, e), []).append(s)
    for (j, b, e) in w.arcs:
        entries.setdefault((j, e), []).append(b)
    keys = sorted(starts)

    def room(model, i):
        j, e = keys[i]
        cache = pyo.quicksum((e - b) * model.g[c, j, b, e] for c in model.C for b in entries[(j, e)])
        free = pyo.quicksum((inst.servers[j].M - inst.model.s_m * (e - s)) * model.y[j, s, e] for s in starts[(j, e)])
        return inst.s_c * cache <= free

    model.window_memory = pyo.Constraint(range(len(keys)), rule=room)


def define_capacity_cuts(model: pyo.ConcreteModel, inst: Instance, w: Windows) -> None:
    """The memory-capacity inequalities (solvers/formulations/capacity.py) on x[c,j] = sum (e - b) g[c,j,b,e] (request-
    blocks) and h[c,j] = sum g[c,j,b,e] (visits, at most R_c: a request visits a server once), kept as
    variables so each hull row has 2C entries."""
    by_server = w.by_server(arcs=True)
    R_c = inst.requests_per_client()
    model.cap_x = pyo.Var(model.C, model.J, within=pyo.NonNegativeReals)
    model.cap_h = pyo.Var(model.C, model.J, bounds=lambda m, c, j: (0, R_c[c]))
    model.cap_x_def = pyo.Constraint(model.C, model.J, rule=lambda m, c, j: m.cap_x[c, j] == pyo.quicksum(
        (e - b) * m.g[c, j, b, e] for (_, b, e) in by_server.get(j, [])))
    model.cap_h_def = pyo.Constraint(model.C, model.J, rule=lambda m, c, j: m.cap_h[c, j] == pyo.quicksum(
        m.g[c, j, b, e] for (_, b, e) in by_server.get(j, [])))
    define_capacity(model, inst, model.cap_x, model.cap_h)


def define_symmetry(model: pyo.ConcreteModel, inst: Instance, w: Windows) -> None:
    """Identical servers take their windows in order of (start, end)."""
    by_server = w.by_server()
    pos = {j: pyo.quicksum(((inst.L + 1) * s + e) * model.y[j, s, e] for (_, s, e) in by_server.get(j, []))
           for j in range(inst.n_servers)}
    pairs = [(j, k) for group in identical_groups(inst) for j, k in zip(group, group[1:]) if j in by_server]
    model.symmetry = pyo.Constraint(range(len(pairs)), rule=lambda model, i: pos[pairs[i][0]] <= pos[pairs[i][1]])
