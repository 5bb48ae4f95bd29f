"""Constraints of the paper's MILP (docs/formulations.md §1): one ``define_*`` per family.

Model level: (13b) memory, (13d) end of range. Request level (in ``model.req[r]``): (13c) flow
conservation, (13e) entry, (13f) exit, and the McCormick linearisation (9)-(12) of the four products.
"""

from __future__ import annotations

import pyomo.environ as pyo

from bpr.instance import Instance
from solvers.formulations.milp.variables import Graph


def define_memory(model: pyo.ConcreteModel, inst: Instance, g: Graph) -> None:
    """(13b): s_m m_j + s_c sum_r sum_i k^r_ij <= M_j."""
    into = {j: g.into(j) for j in range(g.n)}

    def memory(model, j):
        load = pyo.quicksum(model.req[r].k[e] for r in model.Rq for e in into[j])
        return inst.model.s_m * model.m[j] + inst.s_c * load <= inst.servers[j].M

    model.memory = pyo.Constraint(model.J, rule=memory)


def define_range_end(model: pyo.ConcreteModel, L: int) -> None:
    """(13d): a_j + m_j <= L + 1."""
    model.end = pyo.Constraint(model.J, rule=lambda model, j: model.a[j] + model.m[j] <= L + 1)


def define_flow(req: pyo.Block, g: Graph) -> None:
    """(13c): one unit of flow from the S-client to the D-client."""
    out = {v: g.out(v) for v in range(g.n + 2)}
    inn = {v: g.into(v) for v in range(g.n + 2)}

    def flow(req, v):
        rhs = 1 if v == g.src else (-1 if v == g.dst else 0)
        return sum(req.f[e] for e in out[v]) - sum(req.f[e] for e in inn[v]) == rhs

    req.flow = pyo.Constraint(req.model().V, rule=flow)


def define_entry(req: pyo.Block, g: Graph, L: int) -> None:
    """(13e): a used edge enters server j at or after its first block, a_j <= a_i + m_i; into the
    D-client, alpha = (L+1) f <= a_i + m_i (the last server ends at L)."""
    model = req.model()
    req.enter = pyo.Constraint(model.EIN, rule=lambda req, i, j: req.alpha[i, j] <= (
        1 if i == g.src else model.a[i] + model.m[i]))
    req.leave_to_client = pyo.Constraint(model.J, rule=lambda req, i: (L + 1) * req.f[i, g.dst]
                                       <= model.a[i] + model.m[i])


def define_exit(req: pyo.Block, g: Graph, L: int) -> None:
    """(13f): a used edge leaves server i before the end of j's range, a_i + m_i <= a_j + m_j - 1; out of
    the S-client, beta + delta = f <= a_j + m_j - 1."""
    model = req.model()
    req.exit = pyo.Constraint(model.EOUT, rule=lambda req, i, j: req.beta[i, j] + req.delta[i, j] <= (
        L + 1 if j == g.dst else model.a[j] + model.m[j] - 1))
    req.exit_client = pyo.Constraint(model.J, rule=lambda req, j: req.f[g.src, j] <= model.a[j] + model.m[j] - 1)


def define_mccormick(req: pyo.Block, L: int) -> None:
    """(9)-(12): p = f x with x in [1, U] as p <= U f, p <= x, p >= x - U (1 - f) (p >= 0 by domain).
    Big-M: L + 1 for alpha, L for beta, gamma, delta."""
    model = req.model()
    products = (("alpha", model.EIN, lambda i, j: model.a[j], L + 1),
                ("gamma", model.EIN, lambda i, j: model.m[j], L),
                ("beta", model.EOUT, lambda i, j: model.a[i], L),
                ("delta", model.EOUT, lambda i, j: model.m[i], L))
    for name, edges, factor, big in products:
        p = getattr(req, name)

        def upper_f(req, i, j, p=p, big=big):
            return p[i, j] <= big * req.f[i, j]

        def upper_x(req, i, j, p=p, factor=factor):
            return p[i, j] <= factor(i, j)

        def lower(req, i, j, p=p, factor=factor, big=big):
            return p[i, j] >= factor(i, j) - big * (1 - req.f[i, j])

        setattr(req, f"{name}_le_f", pyo.Constraint(edges, rule=upper_f))
        setattr(req, f"{name}_le_x", pyo.Constraint(edges, rule=upper_x))
        setattr(req, f"{name}_ge", pyo.Constraint(edges, rule=lower))
