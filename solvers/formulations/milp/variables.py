"""Sets and variables of the paper's MILP (docs/formulations.md §1, the paper's eq. 13).

Node indices: servers 0..n-1, the request's S-client ``src = n`` and D-client ``dst = n + 1``.
Edges: S-client -> every server, server -> every other server, every server -> D-client.
Placement variables a_j, m_j belong to the model; the per-request variables live in the request's block
``model.req[r]``. The products of the linearisation are variables only where both factors vary:
alpha = f a_j and gamma = f m_j on edges into a server, beta = f a_i and delta = f m_i on edges out of a
server. At client ends they take their fixed values: beta = 0 and delta = f out of an S-client (a = 0,
m = 1), alpha = (L+1) f and gamma = f into a D-client (a = L+1, m = 1).
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


def define_sets(model: pyo.ConcreteModel, inst: Instance, g: Graph) -> None:
    model.J = pyo.RangeSet(0, g.n - 1)
    model.V = pyo.RangeSet(0, g.n + 1)
    model.Rq = pyo.RangeSet(0, inst.R - 1)
    model.E = pyo.Set(initialize=g.edges, dimen=2, ordered=True)
    model.EIN = pyo.Set(initialize=g.into_server, dimen=2, ordered=True)
    model.EOUT = pyo.Set(initialize=g.out_of_server, dimen=2, ordered=True)


def define_placement(model: pyo.ConcreteModel, L: int) -> None:
    """a_j (first block) and m_j (number of blocks) of every server, integers in [1, L]."""
    model.a = pyo.Var(model.J, within=pyo.Integers, bounds=(1, L))
    model.m = pyo.Var(model.J, within=pyo.Integers, bounds=(1, L))


def define_request_vars(req: pyo.Block) -> None:
    """f^r_ij (edge used) and the four products of request r, in its block."""
    model = req.model()
    req.f = pyo.Var(model.E, within=pyo.Binary)
    req.alpha = pyo.Var(model.EIN, within=pyo.NonNegativeReals)
    req.gamma = pyo.Var(model.EIN, within=pyo.NonNegativeReals)
    req.beta = pyo.Var(model.EOUT, within=pyo.NonNegativeReals)
    req.delta = pyo.Var(model.EOUT, within=pyo.NonNegativeReals)


def define_blocks_processed(req: pyo.Block, g: Graph) -> None:
    """k^r_ij = alpha - beta + gamma - delta = f (a_j + m_j - a_i - m_i) on every edge into a server j,
    with the S-client's fixed values (beta = 0, delta = f)."""
    def k(req, i, j):
        if i == g.src:
            return req.alpha[i, j] + req.gamma[i, j] - req.f[i, j]
        return req.alpha[i, j] - req.beta[i, j] + req.gamma[i, j] - req.delta[i, j]

    req.k = pyo.Expression(req.model().EIN, rule=k)
