"""Sets and variables of the paper's MILP (SPEC 4, eq. 13) and the per-edge block count k^r_ij.

Node indices: servers 0..n-1, the request's S-client ``src = n`` and D-client ``dst = n + 1``.
Edges: S-client -> every server, server -> every other server, every server -> D-client.
The products of the linearisation are variables only where both factors vary: alpha = f a_j and
gamma = f m_j on edges into a server, beta = f a_i and delta = f m_i on edges out of a server. At client
ends they take their fixed values (SPEC 4): beta = 0 and delta = f out of an S-client (a = 0, m = 1),
alpha = (L+1) f and gamma = f into a D-client (a = L+1, m = 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from bpr.instance import Instance


@dataclass(frozen=True)
class Graph:
    n: int
    src: int
    dst: int
    edges: list[tuple[int, int]]
    into_server: list[tuple[int, int]]      # (i, j), j a server: alpha, gamma exist
    out_of_server: list[tuple[int, int]]    # (i, j), i a server: beta, delta exist

    @classmethod
    def of(cls, n: int) -> "Graph":
        src, dst = n, n + 1
        first = [(src, j) for j in range(n)]
        middle = [(i, j) for i in range(n) for j in range(n) if i != j]
        last = [(i, dst) for i in range(n)]
        return cls(n, src, dst, first + middle + last, first + middle, middle + last)

    def into(self, v: int) -> list[tuple[int, int]]:
        return [e for e in self.edges if e[1] == v]

    def out(self, v: int) -> list[tuple[int, int]]:
        return [e for e in self.edges if e[0] == v]


def add_variables(m: pyo.ConcreteModel, inst: Instance, g: Graph) -> None:
    L = inst.L
    m.J = pyo.RangeSet(0, g.n - 1)
    m.Rq = pyo.RangeSet(0, inst.R - 1)
    m.E = pyo.Set(initialize=g.edges, dimen=2, ordered=True)
    m.EIN = pyo.Set(initialize=g.into_server, dimen=2, ordered=True)
    m.EOUT = pyo.Set(initialize=g.out_of_server, dimen=2, ordered=True)
    m.a = pyo.Var(m.J, within=pyo.Integers, bounds=(1, L))
    m.m = pyo.Var(m.J, within=pyo.Integers, bounds=(1, L))
    m.f = pyo.Var(m.Rq, m.E, within=pyo.Binary)
    m.alpha = pyo.Var(m.Rq, m.EIN, within=pyo.NonNegativeReals)
    m.gamma = pyo.Var(m.Rq, m.EIN, within=pyo.NonNegativeReals)
    m.beta = pyo.Var(m.Rq, m.EOUT, within=pyo.NonNegativeReals)
    m.delta = pyo.Var(m.Rq, m.EOUT, within=pyo.NonNegativeReals)


def blocks(m: pyo.ConcreteModel, g: Graph, L: int, r: int, i: int, j: int):
    """k^r_ij = alpha - beta + gamma - delta = f (a_j + m_j - a_i - m_i), with the client-end values."""
    f = m.f[r, i, j]
    if i == g.src:
        return m.alpha[r, i, j] + m.gamma[r, i, j] - f
    if j == g.dst:
        return (L + 2) * f - m.beta[r, i, j] - m.delta[r, i, j]
    return m.alpha[r, i, j] - m.beta[r, i, j] + m.gamma[r, i, j] - m.delta[r, i, j]
