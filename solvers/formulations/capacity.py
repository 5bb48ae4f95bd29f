"""The memory-capacity bound (docs/formulations.md §3): BPR-Bench's own lower bound for instances where
memory binds, and the same inequalities as cuts for the extended formulation.

Every request processes exactly L blocks, visits a server at most once (its route moves forward through
block ranges) and processes at most m_j blocks per visit. With x_cj the request-blocks of client c on
server j and h_cj the number of its requests that visit j (H_j = sum_c h_cj), all integers, eq. 2 gives
s_m m_j + s_c x_j <= M_j and x_j <= m_j H_j for an integer 1 <= m_j <= mbar_j, hence

    x_j <= g_j(H_j) = max_m min(m H_j, floor((M_j - s_m m) / s_c))

The bound is

    min  sum_{c,j} (t[c][j] h_cj + tau_j x_cj) / R        (the average per-token time of model.md §3)
    s.t. sum_j x_cj = L R_c;  x_cj <= mbar_j h_cj;  0 <= h_cj <= R_c;  x_j <= every edge of the upper
         concave hull of the points (H, g_j(H)), H = 0..R,

which holds at every integer H_j, since the hull lies above g_j and each of its edges' lines above the hull.
It ignores where blocks sit (contiguity), so without memory pressure it is weaker than the per-request
bound; where memory binds it is the strongest the suite has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from bpr.checker import MEMORY_RTOL
from bpr.instance import Instance
from bpr.numeric import FLOOR_EPS
from bpr.perf import window_cap, window_caps
from solvers.framework.formulation import BoundModel, Size


def limits(inst: Instance, j: int, top: int) -> np.ndarray:
    """g_j(H) for H = 0..top: the most request-blocks server j can process for H visits (with the
    checker's memory tolerance, so no solution it accepts is cut off)."""
    s = inst.servers[j]
    m = np.arange(1, window_cap(inst, j) + 1)
    room = np.floor((s.M * (1 + MEMORY_RTOL) - inst.model.s_m * m) / inst.s_c + FLOOR_EPS)
    visits = np.arange(top + 1)[:, None]
    return np.max(np.minimum(visits * m[None, :], room[None, :]), axis=1, initial=0.0)


def hull(values: np.ndarray) -> list[tuple[float, float]]:
    """(slope, intercept) of every edge of the upper concave hull of the points (k, values[k])."""
    top: list[int] = []
    for k in range(len(values)):
        while len(top) >= 2 and (values[top[-1]] - values[top[-2]]) * (k - top[-1]) <= \
                (values[k] - values[top[-1]]) * (top[-1] - top[-2]):
            top.pop()
        top.append(k)
    edges = []
    for lo, hi in zip(top, top[1:]):
        slope = (values[hi] - values[lo]) / (hi - lo)
        edges.append((float(slope), float(values[lo] - slope * lo)))
    return edges


def define_capacity(model: Any, inst: Instance, x: dict[tuple[int, int], Any], h: dict[tuple[int, int], Any]
                    ) -> None:
    """The memory limits on x_j = sum_c x[c,j] against H_j = sum_c h[c,j] (x, h: expressions or variables
    per (client, server)) as constraints ``capacity_cache`` (x_j <= g_j(R)) and ``capacity_hull``."""
    clients, servers = range(len(inst.clients)), range(inst.n_servers)
    X = {j: pyo.quicksum(x[c, j] for c in clients) for j in servers}
    H = {j: pyo.quicksum(h[c, j] for c in clients) for j in servers}
    g = {j: limits(inst, j, inst.R) for j in servers}
    rows = [(j, slope, intercept) for j in servers for slope, intercept in hull(g[j])]
    model.capacity_cache = pyo.Constraint(servers, rule=lambda m, j: X[j] <= g[j][-1])
    model.capacity_hull = pyo.Constraint(
        range(len(rows)), rule=lambda m, i: X[rows[i][0]] <= rows[i][1] * H[rows[i][0]] + rows[i][2])


@dataclass
class CapacityFormulation(BoundModel):
    """The bound's LP as a formulation (solvers/framework/formulation.py): a bound model, so it has no MIP start and
    no solution to map back."""

    name: str = "capacity"

    def size(self) -> Size:
        """x and h per client and server; the hull has at most R + 1 rows per server."""
        cj = len(self.inst.clients) * self.inst.n_servers
        return Size(2 * cj, len(self.inst.clients) + cj + self.inst.n_servers * (self.inst.R + 2))

    def build(self) -> pyo.ConcreteModel:
        return build(self.inst)


def build(inst: Instance) -> pyo.ConcreteModel:
    """The bound's LP (objective: the average per-token time)."""
    L, R_c, mbar = inst.L, inst.requests_per_client(), window_caps(inst)
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
