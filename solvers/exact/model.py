"""The extended formulation (docs/formulations.md §2) in Pyomo: block windows per server, integer flows
per client, one ``define_*`` per constraint family.

Index sets (0 <= s < e <= L, window length e - s <= mbar_j = min(L, floor(M_j / s_m))):
- ``y[j,s,e]`` binary: server j hosts blocks s+1..e;
- ``Y[j,b,e]`` = sum_{s <= b} y[j,s,e]: j's window ends at e and starts at or before block b+1;
- ``g[c,j,b,e]`` integer >= 0: requests of client c that enter j after block b and leave after block e.

    min  sum g[c,j,b,e] (t[c][j] + tau_j (e - b)) / R            (average per-token time, model.md §3)
    s.t. sum_{s,e} y[j,s,e] = 1   (<= 1 with allow_idle)          every server
         sum_{j,e} g[c,j,0,e] = R_c;  sum_{j,b} g[c,j,b,e'] = sum_{j,e} g[c,j,e',e] (0 < e' < L)
         g[c,j,b,e] <= U[c,j,e-b] Y[j,b,e],  U = min(R_c, floor((M_j - s_m k) / (s_c k)))   (linking)
         s_m sum (e - s) y[j,s,e] + s_c sum (e - b) g[c,j,b,e] <= M_j                      (eq. 2)
         identical servers j < j': pos_j <= pos_j' with pos = sum ((L+1) s + e) y     (symmetry)

U with the memory term is valid because a server that processes k blocks of a request hosts at least k
blocks and holds k blocks of cache per such request (the "memory-derived bound on g").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.numeric import floor
from bpr.perf import Placement, window_caps
from solvers.capacity import define_capacity


@dataclass(frozen=True)
class Windows:
    """The index sets: ``mbar[j]`` and every (j, s, e) with 1 <= e - s <= mbar[j]."""

    mbar: list[int]
    jse: list[tuple[int, int, int]]

    @classmethod
    def of(cls, inst: Instance) -> "Windows":
        mbar = window_caps(inst)
        jse = [(j, s, e) for j in range(inst.n_servers) for e in range(1, inst.L + 1)
               for s in range(max(0, e - mbar[j]), e)]
        return cls(mbar, jse)


def estimate_size(inst: Instance) -> int:
    """Variables of ``build``: y and Y per window, g per window and client."""
    return len(Windows.of(inst).jse) * (2 + len(inst.clients))


def identical_groups(inst: Instance) -> list[list[int]]:
    """Servers that no solution can tell apart (same memory, speeds and client round trips)."""
    groups: dict[tuple, list[int]] = {}
    for j, s in enumerate(inst.servers):
        key = (s.M, s.tau, s.tau_in, tuple(inst.t[:, j]), tuple(inst.t_in[:, j]))
        groups.setdefault(key, []).append(j)
    return [g for g in groups.values() if len(g) > 1]


@dataclass
class Built:
    model: pyo.ConcreteModel
    windows: Windows
    allow_idle: bool


def build(inst: Instance, allow_idle: bool = False, symmetry: bool = True, memory_caps: bool = False,
          window_memory: bool = False, capacity_cuts: bool = False) -> Built:
    w = Windows.of(inst)
    model = pyo.ConcreteModel(name=f"bprr-extended-{inst.name}")
    model.W = pyo.Set(initialize=w.jse, dimen=3, ordered=True)
    model.C = pyo.RangeSet(0, len(inst.clients) - 1)
    model.J = pyo.RangeSet(0, inst.n_servers - 1)
    model.y = pyo.Var(model.W, within=pyo.Binary)
    model.Y = pyo.Var(model.W, bounds=(0, 1))
    model.g = pyo.Var(model.C, model.W, within=pyo.NonNegativeIntegers)
    define_one_window(model, w, allow_idle)
    define_cumulative(model, w)
    define_flow(model, inst)
    define_linking(model, inst, memory_caps)
    define_memory(model, inst, w)
    if window_memory:
        define_window_memory(model, inst, w)
    if symmetry:
        define_symmetry(model, inst, w)
    if capacity_cuts:
        define_capacity_cuts(model, inst, w)
    define_cost(model, inst)
    return Built(model, w, allow_idle)


def _by_server(w: Windows) -> dict[int, list[tuple[int, int, int]]]:
    out: dict[int, list[tuple[int, int, int]]] = {}
    for jse in w.jse:
        out.setdefault(jse[0], []).append(jse)
    return out


def define_one_window(model: pyo.ConcreteModel, w: Windows, allow_idle: bool) -> None:
    """Every server that can hold a block hosts exactly one window (at most one with ``allow_idle``).
    Both give the same optimum: a server that carries no request can host any one block at no cost, so
    the dual bound of either bounds every solution the checker accepts. A server too small for one block
    (mbar_j = 0) stays idle."""
    by_server = _by_server(w)

    def one(model, j):
        if j not in by_server:
            return pyo.Constraint.Skip
        total = pyo.quicksum(model.y[k] for k in by_server[j])
        return total <= 1 if allow_idle else total == 1

    model.one_window = pyo.Constraint(model.J, rule=one)


def define_cumulative(model: pyo.ConcreteModel, w: Windows) -> None:
    """Y[j,b,e] = Y[j,b-1,e] + y[j,b,e] (the window ending at e starts at or before b)."""
    index = set(w.jse)

    def cumulative(model, j, b, e):
        before = model.Y[j, b - 1, e] if (j, b - 1, e) in index else 0
        return model.Y[j, b, e] == before + model.y[j, b, e]

    model.cumulative = pyo.Constraint(model.W, rule=cumulative)


def define_flow(model: pyo.ConcreteModel, inst: Instance) -> None:
    """Per client, R_c requests leave boundary 0; what arrives at a boundary 0 < e < L leaves from it."""
    R_c = inst.requests_per_client()
    starts: dict[int, list] = {}
    ends: dict[int, list] = {}
    for (j, b, e) in model.W:
        starts.setdefault(b, []).append((j, b, e))
        ends.setdefault(e, []).append((j, b, e))

    def balance(model, c, v):
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
    model.linking = pyo.Constraint(model.C, model.W, rule=lambda model, c, j, b, e: model.g[c, j, b, e] <= capacity(
        inst, j, e - b, R_c[c], memory_caps) * model.Y[j, b, e])


def define_memory(model: pyo.ConcreteModel, inst: Instance, w: Windows) -> None:
    """Eq. 2: blocks hosted plus the caches of the requests processed on j."""
    by_server = _by_server(w)

    def memory(model, j):
        if j not in by_server:   # too small for one block: hosts nothing, carries nothing
            return pyo.Constraint.Skip
        ws = by_server[j]
        blocks = pyo.quicksum((e - s) * model.y[j, s, e] for (_, s, e) in ws)
        cache = pyo.quicksum((e - b) * model.g[c, j, b, e] for c in model.C for (_, b, e) in ws)
        return inst.model.s_m * blocks + inst.s_c * cache <= inst.servers[j].M

    model.memory = pyo.Constraint(model.J, rule=memory)


def define_window_memory(model: pyo.ConcreteModel, inst: Instance, w: Windows) -> None:
    """Memory per window end: the caches of the requests that leave j after block e fit beside the window
    that ends at e, s_c sum_{c,b} (e - b) g[c,j,b,e] <= sum_s (M_j - s_m (e - s)) y[j,s,e]. Summed over e it
    is the memory row; apart, it stops a fractional placement from lending one window's room to another."""
    ends: dict[tuple[int, int], list[int]] = {}
    for (j, s, e) in w.jse:
        ends.setdefault((j, e), []).append(s)
    keys = sorted(ends)

    def room(model, i):
        j, e = keys[i]
        cache = pyo.quicksum((e - b) * model.g[c, j, b, e] for c in model.C for b in ends[(j, e)])
        free = pyo.quicksum((inst.servers[j].M - inst.model.s_m * (e - s)) * model.y[j, s, e] for s in ends[(j, e)])
        return inst.s_c * cache <= free

    model.window_memory = pyo.Constraint(range(len(keys)), rule=room)


def define_capacity_cuts(model: pyo.ConcreteModel, inst: Instance, w: Windows) -> None:
    """The memory-capacity inequalities (solvers/capacity.py) on x[c,j] = sum (e - b) g[c,j,b,e] (request-
    blocks) and h[c,j] = sum g[c,j,b,e] (visits, at most R_c: a request visits a server once), kept as
    variables so each hull row has 2C entries."""
    by_server = _by_server(w)
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
    by_server = _by_server(w)
    pos = {j: pyo.quicksum(((inst.L + 1) * s + e) * model.y[j, s, e] for (_, s, e) in by_server.get(j, []))
           for j in range(inst.n_servers)}
    pairs = [(a, b) for group in identical_groups(inst) for a, b in zip(group, group[1:]) if a in by_server]
    model.symmetry = pyo.Constraint(range(len(pairs)), rule=lambda model, i: pos[pairs[i][0]] <= pos[pairs[i][1]])


def define_cost(model: pyo.ConcreteModel, inst: Instance) -> None:
    """Average per-token time: sum of link costs over requests / R."""
    tau = [s.tau for s in inst.servers]
    model.cost = pyo.Objective(expr=pyo.quicksum(
        (float(inst.t[c, j]) + tau[j] * (e - b)) / inst.R * model.g[c, j, b, e]
        for c in model.C for (j, b, e) in model.W), sense=pyo.minimize)


def canonical(inst: Instance, pl: Placement, chains: list[list[int]]) -> tuple[Placement, list[list[int]]]:
    """The same solution with identical servers swapped so that their windows come in the order the
    symmetry rows ask for (a heuristic's start would otherwise be cut off by them)."""
    a, m = pl.a.copy(), pl.m.copy()
    where = list(range(inst.n_servers))          # where[j]: the server that takes j's window
    for group in identical_groups(inst):
        order = sorted(group, key=lambda j: ((inst.L + 1) * (pl.a[j] - 1) + pl.a[j] + pl.m[j] - 1 if pl.m[j] else 0, j))
        for new, old in zip(group, order):
            a[new], m[new], where[old] = pl.a[old], pl.m[old], new
    return Placement(a, m), [[where[j] for j in chain] for chain in chains]


def set_values(b: Built, inst: Instance, pl: Placement, chains: list[list[int]]) -> bool:
    """Give every variable the value of a solution (a MIP start); False when the placement has no window
    in the model (a range longer than mbar) or leaves a server idle that must host."""
    model, index = b.model, set(b.windows.jse)
    if not b.allow_idle and (pl.m == 0).any():
        return False
    for k in model.W:
        model.y[k].set_value(0)
        model.Y[k].set_value(0)
        for c in model.C:
            model.g[c, k].set_value(0)
    for j in range(inst.n_servers):
        if pl.m[j] > 0:
            s, e = int(pl.a[j]) - 1, int(pl.a[j] + pl.m[j]) - 1
            if (j, s, e) not in index:
                return False
            model.y[j, s, e].set_value(1)
            for bb in range(s, e):
                model.Y[j, bb, e].set_value(1)
    owners = inst.request_clients()
    for r, chain in enumerate(chains):
        at = 0
        for j in chain:
            end = int(pl.a[j] + pl.m[j]) - 1
            model.g[owners[r], j, at, end].set_value(model.g[owners[r], j, at, end].value + 1)
            at = end
    return True


def extract(b: Built, inst: Instance) -> tuple[Placement, list[list[int]]]:
    """The placement of the chosen windows and R chains from decomposing each client's integer flow."""
    model = b.model
    a = np.zeros(inst.n_servers, dtype=int)
    m = np.zeros(inst.n_servers, dtype=int)
    for (j, s, e) in model.W:
        if pyo.value(model.y[j, s, e]) > 0.5:
            a[j], m[j] = s + 1, e - s
    chains_by_client = [decompose({(j, bb, e): round(pyo.value(model.g[c, j, bb, e])) for (j, bb, e) in model.W
                                   if pyo.value(model.g[c, j, bb, e]) > 0.5}, inst.L)
                        for c in range(len(inst.clients))]
    chains = [chains_by_client[c].pop() for c in inst.request_clients()]
    return Placement(a, m), chains


def decompose(flow: dict[tuple[int, int, int], int], L: int) -> list[list[int]]:
    """Split an integer 0 -> L flow on arcs (j, b, e) into unit paths (server chains); the graph is acyclic
    (e > b), so every walk from 0 reaches L."""
    left = dict(flow)
    out_of: dict[int, list[tuple[int, int, int]]] = {}
    for arc in sorted(left):
        out_of.setdefault(arc[1], []).append(arc)
    chains = []
    while any(left[arc] > 0 for arc in out_of.get(0, [])):
        at, chain = 0, []
        while at != L:
            arc = next(a for a in out_of[at] if left[a] > 0)
            left[arc] -= 1
            chain.append(arc[0])
            at = arc[2]
        chains.append(chain)
    return chains
