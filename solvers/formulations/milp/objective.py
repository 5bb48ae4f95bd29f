"""Objective (13a): sum over requests and edges into servers of l_out [t[c_r][j] f + tau_j k^r_ij]."""

from __future__ import annotations

import pyomo.environ as pyo

from bpr.instance import Instance


def define_cost(model: pyo.ConcreteModel, inst: Instance, owners: list[int]) -> None:
    tau = [s.tau for s in inst.servers]
    model.cost = pyo.Objective(expr=inst.workload.l_out * pyo.quicksum(
        float(inst.t[owners[r], j]) * model.req[r].f[i, j] + tau[j] * model.req[r].k[i, j]
        for r in model.Rq for (i, j) in model.EIN), sense=pyo.minimize)
