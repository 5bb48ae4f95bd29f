"""The memory-capacity bound (docs/formulations.md §3): BPR-Bench's own lower bound for instances where
memory binds, and the same inequalities as cuts for the extended formulation.

Every request processes exactly L blocks, visits a server at most once (its route moves forward through
block ranges) and processes at most m_j blocks per visit. With x_cj the request-blocks of client c on
server j and h_cj the number of its requests that visit j (H_j = sum_c h_cj), eq. 2 gives
s_m m_j + s_c x_j <= M_j and x_j <= m_j H_j, hence, over every real m_j,

    x_j <= f_j(H_j) = M_j H_j / (s_m + s_c H_j)          (concave in H_j)

and x_j <= (M_j - s_m) / s_c (a server that processes anything hosts a block). The bound is

    min  sum_{c,j} (t[c][j] h_cj + tau_j x_cj) / R        (the average per-token time of model.md §3)
    s.t. sum_j x_cj = L R_c;  x_cj <= mbar_j h_cj;  0 <= h_cj <= R_c;  the two memory limits above,

with f_j replaced by its secants between consecutive integers: H_j is an integer in every solution, and a
secant of a concave function lies above it at every integer outside its interval and meets it at both ends,
so the cuts remove no solution. It ignores where blocks sit (contiguity), so without memory pressure it is
weaker than the per-request bound; where memory binds it is the strongest the suite has.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.numeric import floor


def secants(inst: Instance, j: int, top: int) -> list[tuple[float, float]]:
    """(slope, intercept) of f_j's secants over [k, k+1] for k = 0..top-1: x_j <= slope H_j + intercept."""
    s = inst.servers[j]

    def f(h: float) -> float:
        return s.M * h / (inst.model.s_m + inst.s_c * h)

    return [(f(k + 1) - f(k), f(k) - (f(k + 1) - f(k)) * k) for k in range(top)]


def define_capacity(model: Any, inst: Instance, x: dict[tuple[int, int], Any], h: dict[tuple[int, int], Any],
                    name: str = "capacity") -> None:
    """The memory limits on x_j = sum_c x[c,j] against H_j = sum_c h[c,j] (x, h: expressions or variables
    per (client, server)) as constraints ``<name>_cache`` and ``<name>_secant`` on ``model``."""
    R = inst.R
    clients, servers = range(len(inst.clients)), range(inst.n_servers)
    X = {j: pyo.quicksum(x[c, j] for c in clients) for j in servers}
    H = {j: pyo.quicksum(h[c, j] for c in clients) for j in servers}
    rows = [(j, a, b) for j in servers for a, b in secants(inst, j, R)]
    setattr(model, f"{name}_cache", pyo.Constraint(
        servers, rule=lambda m, j: X[j] <= max(0.0, (inst.servers[j].M - inst.model.s_m) / inst.s_c)))
    setattr(model, f"{name}_secant", pyo.Constraint(
        range(len(rows)), rule=lambda m, i: X[rows[i][0]] <= rows[i][1] * H[rows[i][0]] + rows[i][2]))


def build(inst: Instance) -> pyo.ConcreteModel:
    """The bound's LP (objective: the average per-token time)."""
    L, R_c = inst.L, inst.requests_per_client()
    mbar = [min(L, floor(s.M / inst.model.s_m)) for s in inst.servers]
    model = pyo.ConcreteModel(name=f"bprr-capacity-{inst.name}")
    model.CJ = pyo.Set(initialize=[(c, j) for c in range(len(inst.clients)) for j in range(inst.n_servers)],
                       dimen=2)
    model.x = pyo.Var(model.CJ, within=pyo.NonNegativeReals)
    model.h = pyo.Var(model.CJ, bounds=lambda m, c, j: (0, R_c[c]))
    model.demand = pyo.Constraint(range(len(inst.clients)), rule=lambda m, c: pyo.quicksum(
        m.x[c, j] for j in range(inst.n_servers)) == L * R_c[c])
    model.per_visit = pyo.Constraint(model.CJ, rule=lambda m, c, j: m.x[c, j] <= mbar[j] * m.h[c, j])
    define_capacity(model, inst, model.x, model.h)
    model.cost = pyo.Objective(expr=pyo.quicksum(
        inst.t[c, j] * model.h[c, j] + inst.servers[j].tau * model.x[c, j] for (c, j) in model.CJ) / inst.R)
    return model
