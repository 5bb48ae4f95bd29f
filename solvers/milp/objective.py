"""Objective (13a): sum over requests and edges into servers of l_out [t[c_r][j] f + tau_j k^r_ij]."""

from __future__ import annotations

import pyomo.environ as pyo

from bpr.instance import Instance
from solvers.milp.variables import Graph, blocks


def add_objective(m: pyo.ConcreteModel, inst: Instance, g: Graph, owners: list[int]) -> None:
    L, l_out = inst.L, inst.workload.l_out
    tau = [s.tau for s in inst.servers]
    m.cost = pyo.Objective(expr=l_out * pyo.quicksum(
        float(inst.t[owners[r], j]) * m.f[r, i, j] + tau[j] * blocks(m, g, L, r, i, j)
        for r in m.Rq for (i, j) in m.EIN), sense=pyo.minimize)
