"""Objective of the extended formulation: the average per-token time (docs/model.md §3),
sum g[c,j,b,e] (t[c][j] + tau_j (e - b)) / R."""

from __future__ import annotations

import pyomo.environ as pyo

from bpr.instance import Instance


def define_cost(model: pyo.ConcreteModel, inst: Instance) -> None:
    tau = [s.tau for s in inst.servers]
    model.cost = pyo.Objective(expr=pyo.quicksum(
        (float(inst.t[c, j]) + tau[j] * (e - b)) / inst.R * model.g[c, j, b, e]
        for c in model.C for (j, b, e) in model.A), sense=pyo.minimize)
