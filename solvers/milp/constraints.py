"""Constraints (13b)-(13f) and the McCormick linearisation (9)-(12) of the paper's MILP (SPEC 4)."""

from __future__ import annotations

import pyomo.environ as pyo

from bpr.instance import Instance
from solvers.milp.variables import Graph, blocks


def add_constraints(m: pyo.ConcreteModel, inst: Instance, g: Graph) -> None:
    """Every request has the same graph; its client enters only the costs (objective.py)."""
    L, s_m, s_c = inst.L, inst.model.s_m, inst.s_c
    into = {j: g.into(j) for j in range(g.n)}
    out = {v: g.out(v) for v in range(g.n + 2)}
    inn = {v: g.into(v) for v in range(g.n + 2)}

    def memory(m, j):  # (13b)
        load = sum(blocks(m, g, L, r, i, j) for r in m.Rq for (i, _) in into[j])
        return s_m * m.m[j] + s_c * load <= inst.servers[j].M

    def flow(m, r, v):  # (13c)
        rhs = 1 if v == g.src else (-1 if v == g.dst else 0)
        return sum(m.f[r, e] for e in out[v]) - sum(m.f[r, e] for e in inn[v]) == rhs

    def end(m, j):  # (13d)
        return m.a[j] + m.m[j] <= L + 1

    def enter(m, r, i, j):  # (13e): a_j <= a_i + m_i on a used edge into a server j
        return m.alpha[r, i, j] <= (1 if i == g.src else m.a[i] + m.m[i])

    def leave_to_client(m, r, i):  # (13e) into the D-client: alpha = (L+1) f <= a_i + m_i
        return (L + 1) * m.f[r, i, g.dst] <= m.a[i] + m.m[i]

    def exit_(m, r, i, j):  # (13f): a_i + m_i <= a_j + m_j - 1 on a used edge out of a server i
        return m.beta[r, i, j] + m.delta[r, i, j] <= (L + 1 if j == g.dst else m.a[j] + m.m[j] - 1)

    def exit_client(m, r, j):  # (13f) out of the S-client: beta + delta = 0 + f <= a_j + m_j - 1
        return m.f[r, g.src, j] <= m.a[j] + m.m[j] - 1

    m.memory = pyo.Constraint(m.J, rule=memory)
    m.flow = pyo.Constraint(m.Rq, pyo.RangeSet(0, g.n + 1), rule=flow)
    m.end = pyo.Constraint(m.J, rule=end)
    m.enter = pyo.Constraint(m.Rq, m.EIN, rule=enter)
    m.leave_to_client = pyo.Constraint(m.Rq, m.J, rule=leave_to_client)
    m.exit = pyo.Constraint(m.Rq, m.EOUT, rule=exit_)
    m.exit_client = pyo.Constraint(m.Rq, m.J, rule=exit_client)
    _mccormick(m, g, L)


def _mccormick(m: pyo.ConcreteModel, g: Graph, L: int) -> None:
    """(9)-(12): p = f x with x in [1, U] as p <= U f, p <= x, p >= x - U (1 - f) (p >= 0 by domain).
    Big-M: L + 1 for alpha, L for beta, gamma, delta (SPEC 4)."""
    products = (("alpha", m.EIN, lambda i, j: m.a[j], L + 1),
                ("gamma", m.EIN, lambda i, j: m.m[j], L),
                ("beta", m.EOUT, lambda i, j: m.a[i], L),
                ("delta", m.EOUT, lambda i, j: m.m[i], L))
    for name, edges, factor, big in products:
        p = getattr(m, name)

        def upper_f(m, r, i, j, p=p, big=big):
            return p[r, i, j] <= big * m.f[r, i, j]

        def upper_x(m, r, i, j, p=p, factor=factor):
            return p[r, i, j] <= factor(i, j)

        def lower(m, r, i, j, p=p, factor=factor, big=big):
            return p[r, i, j] >= factor(i, j) - big * (1 - m.f[r, i, j])

        setattr(m, f"{name}_le_f", pyo.Constraint(m.Rq, edges, rule=upper_f))
        setattr(m, f"{name}_le_x", pyo.Constraint(m.Rq, edges, rule=upper_x))
        setattr(m, f"{name}_ge", pyo.Constraint(m.Rq, edges, rule=lower))
