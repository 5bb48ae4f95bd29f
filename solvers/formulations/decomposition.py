"""The decomposition by server (docs/formulations.md §6): a lower bound from the convex hull of each server's
configurations, joined by the clients' flow rows.

A configuration of server j is a window (s, e] and the requests of each client that enter it at each block
b in [s, e) (they leave at e), within eq. 2's memory and with each request visiting once. Dantzig-Wolfe
keeps the flow rows in a master problem over convex combinations of configurations (one per server); with
the loads of a configuration taken as continuous, the master's LP value equals the LP of the compact
description below, by Balas' hull of a union of polytopes (one per window):

    min  sum z[c,j,s,b,e] (t[c][j] + tau_j (e - b)) / R
    s.t. sum_{s,e} y[j,s,e] <= 1                                              one configuration per server
         x = sum_{c,b} (e - b) z[c,j,s,b,e] <= C y[j,s,e]                       the window's memory
         H = sum_{c,b} z[c,j,s,b,e],  sum_b z[c,j,s,b,e] <= R_c y[j,s,e]        a request visits once
         x <= w h y + (C - w h) (H - h y)                                        integer visits
         z[c,j,s,b,e] <= floor(C / (e - b)) y[j,s,e]                             (when below R_c)
         flow per client and boundary as in the extended formulation (§2)

with w = e - s blocks, C = floor((M_j - s_m w) / s_c) request-blocks of room (integers: a request holds whole
blocks of cache) and h = floor(C / w): the line through (h, w h) and (h + 1, C) is the upper hull of the
integer points (H, min(w H, C)), so the row holds at every integer number of visits.

Every solution the checker accepts is a point of it, so its optimum bounds the offline optimum from below.
Per window it implies the memory-capacity inequalities (§3) and the extended formulation's memory, window-
memory and linking rows, so it is at least both bounds; where a server's windows differ in memory it is
stronger (docs/formulations.md §6 has the measurements).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from bpr.checker import MEMORY_RTOL
from bpr.instance import Instance
from bpr.numeric import FLOOR_EPS
from bpr.perf import window_caps
from solvers.framework.context import Context
from solvers.framework.formulation import BoundModel, Size


def room(inst: Instance, j: int, w: int) -> int:
    """C: the request-blocks of cache server j holds beside a window of w blocks (with the checker's memory
    tolerance, so no solution it accepts is cut off)."""
    return int((inst.servers[j].M * (1 + MEMORY_RTOL) - inst.model.s_m * w) / inst.s_c + FLOOR_EPS)


def entries(inst: Instance) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int, int, int, int]]]:
    """The windows (j, s, e) that fit, and the entries (c, j, s, b, e, cap) with room for one request."""
    mbar = window_caps(inst)
    windows, out = [], []
    for j in range(inst.n_servers):
        for e in range(1, inst.L + 1):
            for s in range(max(0, e - mbar[j]), e):
                windows.append((j, s, e))
                cache = room(inst, j, e - s)
                out += [(c, j, s, b, e, cache // (e - b)) for c in range(len(inst.clients)) for b in range(s, e)
                        if cache >= e - b]
    return windows, out


@dataclass
class DecompositionFormulation(BoundModel):
    """The compact LP of the decomposition bound (a bound model: no MIP start, no solution to map back)."""

    name: str = "decomposition"

    def size(self) -> Size:
        mbar, L, C = window_caps(self.inst), self.inst.L, len(self.inst.clients)
        windows = sum(m * (L + 1) - m * (m + 1) // 2 for m in mbar)
        pairs = sum(sum((L - w + 1) * w for w in range(1, m + 1)) for m in mbar)   # (window, entry) pairs
        return Size(windows + C * pairs)

    def build(self) -> pyo.ConcreteModel:
        inst = self.inst
        windows, found = entries(inst)
        R_c = inst.requests_per_client()
        model = pyo.ConcreteModel(name=f"bprr-decomposition-{inst.name}")
        model.W = pyo.Set(initialize=windows, dimen=3, ordered=True)
        model.Z = pyo.Set(initialize=[k[:5] for k in found], dimen=5, ordered=True)
        cap = {k[:5]: k[5] for k in found}
        model.y = pyo.Var(model.W, bounds=(0, 1))
        model.z = pyo.Var(model.Z, within=pyo.NonNegativeReals)
        by_window: dict[tuple[int, int, int], list] = {}
        for (c, j, s, b, e) in model.Z:
            by_window.setdefault((j, s, e), []).append((c, b))
        servers: dict[int, list] = {}
        for (j, s, e) in model.W:
            servers.setdefault(j, []).append((s, e))
        model.one = pyo.Constraint(list(servers), rule=lambda m, j: pyo.quicksum(
            m.y[j, s, e] for s, e in servers[j]) <= 1)
        def blocks(m, j, s, e):
            return pyo.quicksum((e - b) * m.z[c, j, s, b, e] for c, b in by_window.get((j, s, e), []))

        def visits(m, j, s, e):
            return pyo.quicksum(m.z[c, j, s, b, e] for c, b in by_window.get((j, s, e), []))

        model.memory = pyo.Constraint(model.W, rule=lambda m, j, s, e: blocks(m, j, s, e) <= room(
            inst, j, e - s) * m.y[j, s, e])
        hull = [k for k in model.W if room(inst, k[0], k[2] - k[1]) % (k[2] - k[1])]

        def integer_visits(m, i):
            j, s, e = hull[i]
            w, cache = e - s, room(inst, j, e - s)
            h = cache // w
            y = m.y[j, s, e]
            return blocks(m, j, s, e) <= w * h * y + (cache - w * h) * (visits(m, j, s, e) - h * y)

        model.integer_visits = pyo.Constraint(range(len(hull)), rule=integer_visits)
        model.once = pyo.Constraint(range(len(inst.clients)), model.W, rule=lambda m, c, j, s, e: pyo.quicksum(
            m.z[c, j, s, b, e] for c2, b in by_window.get((j, s, e), []) if c2 == c) <= R_c[c] * m.y[j, s, e])
        tight = [k for k in model.Z if cap[k] < R_c[k[0]]]
        model.cap = pyo.Constraint(range(len(tight)), rule=lambda m, i: m.z[tight[i]] <= cap[tight[i]] * m.y[
            tight[i][1], tight[i][2], tight[i][4]])
        define_flow(model, inst)
        model.cost = pyo.Objective(expr=pyo.quicksum(
            (float(inst.t[c, j]) + inst.servers[j].tau * (e - b)) / inst.R * model.z[c, j, s, b, e]
            for (c, j, s, b, e) in model.Z), sense=pyo.minimize)
        return model


def define_flow(model: pyo.ConcreteModel, inst: Instance) -> None:
    """Per client, R_c requests leave boundary 0; what arrives at a boundary 0 < v < L leaves from it."""
    R_c = inst.requests_per_client()
    out: dict[tuple[int, int], list] = {}
    into: dict[tuple[int, int], list] = {}
    for k in model.Z:
        c, _, _, b, e = k
        out.setdefault((c, b), []).append(k)
        into.setdefault((c, e), []).append(k)

    def balance(m, c, v):
        rhs = R_c[c] if v == 0 else (-R_c[c] if v == inst.L else 0)
        terms = pyo.quicksum(m.z[k] for k in out.get((c, v), [])) - pyo.quicksum(m.z[k] for k in into.get((c, v), []))
        if not out.get((c, v)) and not into.get((c, v)):
            return pyo.Constraint.Skip if rhs == 0 else pyo.Constraint.Infeasible
        return terms == rhs

    model.flow = pyo.Constraint(range(len(inst.clients)), range(inst.L + 1), rule=balance)


def lp_context(ctx: Context) -> Context:
    """HiGHS solves this LP by its interior point method (with crossover, so the optimum is a vertex like the
    simplex's): 3-4x faster on an LP of a few hundred thousand columns (docs/formulations.md §6); a
    ``solver.options.solver`` the user set wins."""
    return ctx.highs(solver="ipm")
