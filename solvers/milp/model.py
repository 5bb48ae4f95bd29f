"""Assemble the paper's MILP (docs/formulations.md §1), estimate its size first, map solutions in (warm start)
and out."""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.perf import Placement
from solvers.milp import constraints as con
from solvers.milp import variables as var
from solvers.milp.objective import define_cost
from solvers.milp.variables import Graph


@dataclass(frozen=True)
class Size:
    variables: int
    constraints: int


def estimate_size(n: int, R: int) -> Size:
    """Counts of ``build`` without building: per request n(n-1) server-server edges carry f and four
    products, the 2n client edges f and two products; three McCormick rows per product."""
    ss, ends = n * (n - 1), 2 * n
    per_request_vars = ss * 5 + ends * 3
    per_request_rows = (n + 2) + ss * (2 + 12) + ends * (2 + 6)
    return Size(2 * n + R * per_request_vars, 2 * n + R * per_request_rows)


def too_large(inst: Instance, max_vars: int) -> str | None:
    """The size guard of milp and of its LP relaxation: a message when (13) would exceed ``max_vars``."""
    n = estimate_size(inst.n_servers, inst.R).variables
    return f"skipped: too large ({n} variables > limit {max_vars})" if n > max_vars else None


@dataclass
class Built:
    model: pyo.ConcreteModel
    graph: Graph
    owners: list[int]


def build(inst: Instance) -> Built:
    """The model: placement variables, one block ``req[r]`` per request (its flow, products, k^r_ij and
    per-request constraints), memory (13b), range ends (13d) and the objective (13a)."""
    g, L = Graph.of(inst.n_servers), inst.L
    owners = inst.request_clients()
    model = pyo.ConcreteModel(name=f"bprr-{inst.name}")
    var.define_sets(model, inst, g)
    var.define_placement(model, L)

    def request(b: pyo.Block, r: int) -> None:
        var.define_request_vars(b)
        var.define_blocks_processed(b, g)
        con.define_flow(b, g)
        con.define_entry(b, g, L)
        con.define_exit(b, g, L)
        con.define_mccormick(b, L)

    model.req = pyo.Block(model.Rq, rule=request)
    con.define_memory(model, inst, g)
    con.define_range_end(model, L)
    define_cost(model, inst, owners)
    return Built(model, g, owners)


def set_values(b: Built, inst: Instance, pl: Placement, chains: list[list[int]]) -> None:
    """Give every variable the value of a solution (for a MIP start). Idle servers get block 1 only,
    since the paper's model has m_j >= 1; the start is then rejected by the solver if that breaks memory."""
    model, g = b.model, b.graph
    a = [int(pl.a[j]) if pl.m[j] > 0 else 1 for j in range(g.n)]
    size = [int(pl.m[j]) if pl.m[j] > 0 else 1 for j in range(g.n)]
    for j in range(g.n):
        model.a[j].set_value(a[j])
        model.m[j].set_value(size[j])
    node_a = a + [0, inst.L + 1]
    node_m = size + [1, 1]
    for r in model.Rq:
        req = model.req[r]
        path = [g.src, *chains[r], g.dst]
        used = set(zip(path, path[1:]))
        for (i, j) in model.E:
            f = 1 if (i, j) in used else 0
            req.f[i, j].set_value(f)
            if j < g.n:
                req.alpha[i, j].set_value(f * node_a[j])
                req.gamma[i, j].set_value(f * node_m[j])
            if i < g.n:
                req.beta[i, j].set_value(f * node_a[i])
                req.delta[i, j].set_value(f * node_m[i])


def extract(b: Built, inst: Instance) -> tuple[Placement, list[list[int]]]:
    """(a, m) and every request's chain from loaded variable values (f rounded at 0.5)."""
    model, g = b.model, b.graph
    pl = Placement.of([round(pyo.value(model.a[j])) for j in range(g.n)],
                      [round(pyo.value(model.m[j])) for j in range(g.n)])
    succ_by_r = []
    for r in model.Rq:
        succ = {i: j for (i, j) in model.E if pyo.value(model.req[r].f[i, j]) > 0.5}
        chain, v = [], succ.get(g.src)
        while v is not None and v != g.dst and len(chain) <= g.n:
            chain.append(v)
            v = succ.get(v)
        succ_by_r.append(chain)
    return pl, succ_by_r


