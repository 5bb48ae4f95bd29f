"""The window-size relaxation (docs/formulations.md §7): a lower bound that keeps every server's number of
blocks whole and forgets where its window sits.

The LP bounds of §3 and §6 convexify each server's choice of window, so a server can act as a mixture of
two half servers that the same requests visit in turn (§6, "What the LP bounds cannot see"). Here the
number of blocks m_j a server hosts is a binary choice z[j,m], solved as a MILP whose dual bound is the
bound. Given the sizes, a request is a set of visits, at most one per server, processing k_j <= m_j
blocks on server j and L in all; since positions are dropped, the order of the visits does not matter,
so the requests of client c flow through the servers in index order as a layered network over
(server, blocks done so far):

    min  sum f[c,j,b,k] (t[c][j] + tau_j k) / R
    s.t. sum_m z[j,m] <= 1,   sum_{j,m} m z[j,m] >= L                           one size; every block hosted
         R_c requests of client c go from (0, 0) to (n, L); at layer j a request either passes server j
         (skip[c,j,b]) or processes k blocks on it (f[c,j,b,k]: from b to b + k done)
         sum_b f[c,j,b,k] = sum_m u[c,j,k,m]                                    which size served the visit
         sum_{c,k} k u[c,j,k,m] <= C_jm z[j,m]                                  eq. 2's memory for size m
         sum_k u[c,j,k,m] <= R_c z[j,m],  u[c,j,k,m] <= floor(C_jm / k) z[j,m]   visits within the room
         x_jm <= m h z + (C_jm - m h) (H_jm - h z[j,m])                          integer visits (as §6)

with C_jm = floor((M_j - s_m m) / s_c) request-blocks of cache (the checker's tolerance), h = floor(C_jm /
m), x_jm = sum k u and H_jm = sum u over clients and k. Every solution the checker accepts is a point of
it (z its servers' sizes, f and u its visits), so the MILP's dual bound, at optimality or at any time
limit, bounds the offline optimum from below. Identical servers take ascending sizes (any solution can be
permuted to do so).

``excluded`` size vectors (sizes[j] blocks on server j, 0 idle) are cut off, one no-good row each: the
relaxation then bounds every solution whose sizes are none of them; ``fixed`` keeps only one vector (the
size level of ``size_branch`` and its certificate's re-check, docs/formulations.md §9).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.perf import window_caps
from solvers.formulations.decomposition import room
from solvers.formulations.extended.variables import identical_groups
from solvers.framework.formulation import BoundModel, Size


@dataclass(frozen=True)
class Index:
    """The index sets: sizes (j, m) with their room, visits (c, j, k, m), arcs (c, j, b, k), nodes (c, j, b)."""

    sizes: dict[tuple[int, int], int]
    visits: list[tuple[int, int, int, int]]
    arcs: list[tuple[int, int, int, int]]
    nodes: list[tuple[int, int, int]]


def index(inst: Instance) -> Index:
    """A visit of k blocks needs a size m >= k whose room holds k request-blocks."""
    L, clients = inst.L, range(len(inst.clients))
    sizes = {(j, m): room(inst, j, m) for j, mbar in enumerate(window_caps(inst)) for m in range(1, mbar + 1)}
    visits = [(c, j, k, m) for c in clients for (j, m), cache in sizes.items() for k in range(1, min(m, cache) + 1)]
    kmax = [0] * inst.n_servers
    for _, j, k, _ in visits:
        kmax[j] = max(kmax[j], k)
    arcs = [(c, j, b, k) for c in clients for j in range(inst.n_servers) for b in range(L)
            for k in range(1, min(kmax[j], L - b) + 1)]
    nodes = [(c, j, b) for c in clients for j in range(inst.n_servers) for b in range(L + 1)]
    return Index(sizes, visits, arcs, nodes)


@dataclass
class WindowSizesFormulation(BoundModel):
    """The window-size MILP (a bound model: no MIP start, no solution to map back)."""

    name: str = "window_sizes"
    excluded: list[tuple[int, ...]] = field(default_factory=list)
    fixed: tuple[int, ...] | None = None

    def size(self) -> Size:
        """z per size, u per visit, f per arc, skip per node (counted as built, which is fast)."""
        ix = index(self.inst)
        return Size(len(ix.sizes) + len(ix.visits) + len(ix.arcs) + len(ix.nodes))

    def build(self) -> pyo.ConcreteModel:
        inst, ix = self.inst, index(self.inst)
        model = pyo.ConcreteModel(name=f"bprr-window-sizes-{inst.name}")
        model.S = pyo.Set(initialize=list(ix.sizes), dimen=2, ordered=True)
        model.U = pyo.Set(initialize=ix.visits, dimen=4, ordered=True)
        model.A = pyo.Set(initialize=ix.arcs, dimen=4, ordered=True)
        model.N = pyo.Set(initialize=ix.nodes, dimen=3, ordered=True)
        model.z = pyo.Var(model.S, within=pyo.Binary)
        model.u = pyo.Var(model.U, within=pyo.NonNegativeReals)
        model.f = pyo.Var(model.A, within=pyo.NonNegativeReals)
        model.skip = pyo.Var(model.N, within=pyo.NonNegativeReals)
        define_sizes(model, inst)
        define_flow(model, inst)
        define_linking(model)
        define_memory(model, inst, ix.sizes)
        define_symmetry(model, inst)
        define_excluded(model, inst, self.excluded, self.fixed)
        model.cost = pyo.Objective(expr=pyo.quicksum(
            (float(inst.t[c, j]) + inst.servers[j].tau * k) / inst.R * model.f[c, j, b, k]
            for (c, j, b, k) in model.A), sense=pyo.minimize)
        return model


def _by(keys: Any, key: Any) -> dict[Any, list]:
    groups: dict[Any, list] = {}
    for k in keys:
        groups.setdefault(key(k), []).append(k)
    return groups


def define_sizes(model: pyo.ConcreteModel, inst: Instance) -> None:
    """sum_m z[j,m] <= 1 (a server carrying nothing may as well be idle) and sum m z >= L: every block is
    hosted somewhere."""
    per_server = _by(model.S, lambda k: k[0])
    model.one_size = pyo.Constraint(list(per_server), rule=lambda m, j: pyo.quicksum(
        m.z[k] for k in per_server[j]) <= 1)
    model.cover = pyo.Constraint(expr=pyo.quicksum(size * model.z[j, size] for (j, size) in model.S) >= inst.L)


def define_flow(model: pyo.ConcreteModel, inst: Instance) -> None:
    """Layer j, b blocks done: what arrives (R_c at (0, 0); from layer j - 1 by a skip or a visit) leaves by a
    skip or a visit; R_c arrive at (n, L)."""
    R_c, n, L = inst.requests_per_client(), inst.n_servers, inst.L
    out = _by(model.A, lambda a: (a[0], a[1], a[2]))
    into = _by(model.A, lambda a: (a[0], a[1] + 1, a[2] + a[3]))

    def arriving(m, c, j, b):
        if j == 0:
            return R_c[c] if b == 0 else 0
        return m.skip[c, j - 1, b] + pyo.quicksum(m.f[a] for a in into.get((c, j, b), []))

    model.layer = pyo.Constraint(model.N, rule=lambda m, c, j, b: m.skip[c, j, b] + pyo.quicksum(
        m.f[a] for a in out.get((c, j, b), [])) == arriving(m, c, j, b))
    model.done = pyo.Constraint(range(len(inst.clients)), rule=lambda m, c: arriving(m, c, n, L) == R_c[c])


def define_linking(model: pyo.ConcreteModel) -> None:
    """The visits of client c processing k blocks on server j, sum_b f[c,j,b,k], are served by one size."""
    arcs = _by(model.A, lambda a: (a[0], a[1], a[3]))
    visits = _by(model.U, lambda v: v[:3])
    model.linking = pyo.Constraint(list(arcs), rule=lambda m, c, j, k: pyo.quicksum(
        m.f[a] for a in arcs[c, j, k]) == pyo.quicksum(m.u[v] for v in visits.get((c, j, k), [])))


def define_memory(model: pyo.ConcreteModel, inst: Instance, rooms: dict[tuple[int, int], int]) -> None:
    """Per size m of server j: its room C, each client's visits within R_c, k-block visits within floor(C / k),
    and the line through (h, m h) and (h + 1, C) over the integer points (H, min(m H, C)) (§6)."""
    R_c = inst.requests_per_client()
    per_size = _by(model.U, lambda v: (v[1], v[3]))
    per_client = _by(model.U, lambda v: (v[0], v[1], v[3]))

    def blocks(m, j, size):
        return pyo.quicksum(v[2] * m.u[v] for v in per_size.get((j, size), []))

    model.memory = pyo.Constraint(model.S, rule=lambda m, j, size: blocks(m, j, size) <= rooms[j, size] * m.z[
        j, size])
    model.once = pyo.Constraint(list(per_client), rule=lambda m, c, j, size: pyo.quicksum(
        m.u[v] for v in per_client[c, j, size]) <= R_c[c] * m.z[j, size])
    tight = [v for v in model.U if rooms[v[1], v[3]] // v[2] < R_c[v[0]]]
    model.per_visit = pyo.Constraint(range(len(tight)), rule=lambda m, i: m.u[tight[i]] <= rooms[
        tight[i][1], tight[i][3]] // tight[i][2] * m.z[tight[i][1], tight[i][3]])
    hull = [k for k in model.S if rooms[k] % k[1] and k in per_size]

    def integer_visits(m, i):
        j, size = hull[i]
        cache, z = rooms[j, size], m.z[j, size]
        h = cache // size
        visits = pyo.quicksum(m.u[v] for v in per_size[j, size])
        return blocks(m, j, size) <= size * h * z + (cache - size * h) * (visits - h * z)

    model.integer_visits = pyo.Constraint(range(len(hull)), rule=integer_visits)


def define_symmetry(model: pyo.ConcreteModel, inst: Instance) -> None:
    """Identical servers (solvers/formulations/extended/variables.py) take ascending sizes."""
    pairs = [(i, j) for group in identical_groups(inst) for i, j in zip(group, group[1:])]
    per_server = _by(model.S, lambda k: k[0])

    def size(m, j):
        return pyo.quicksum(k[1] * m.z[k] for k in per_server.get(j, []))

    model.symmetry = pyo.Constraint(range(len(pairs)), rule=lambda m, p: size(m, pairs[p][0]) <= size(
        m, pairs[p][1]))


def define_excluded(model: pyo.ConcreteModel, inst: Instance, excluded: Sequence[Sequence[int]],
                    fixed: Sequence[int] | None) -> None:
    """No-good rows, for each excluded vector v: sum_j [server j has v_j blocks] <= n - 1, where the bracket
    is z[j,v_j] for v_j > 0 (0 when it cannot) and 1 - sum_m z[j,m] for an idle server; and, for a ``fixed``
    vector, every bracket = 1 (the relaxation's value for those sizes)."""
    per_server = _by(model.S, lambda k: k[0])

    def has(m, j: int, size: int) -> Any:
        if size:
            return m.z[j, size] if (j, size) in m.S else 0
        return 1 - pyo.quicksum(m.z[k] for k in per_server.get(j, []))

    model.excluded = pyo.Constraint(range(len(excluded)), rule=lambda m, i: pyo.quicksum(
        has(m, j, size) for j, size in enumerate(excluded[i])) <= inst.n_servers - 1)
    model.fixed = pyo.Constraint(range(len(fixed or ())), rule=lambda m, j: has(m, j, fixed[j]) == 1)


def sizes(model: pyo.ConcreteModel, n_servers: int) -> tuple[int, ...]:
    """The size vector of the loaded solution (0: idle)."""
    out = [0] * n_servers
    for (j, size) in model.S:
        if pyo.value(model.z[j, size]) > 0.5:
            out[j] = size
    return tuple(out)
