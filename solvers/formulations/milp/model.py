"""The paper's MILP (docs/formulations.md §1) as a ``Formulation`` (solvers/framework/formulation.py): its size
counted without building, the model assembled from the ``define_*`` families, a given solution (the
algorithm's: CG-BPRR's) as the MIP start, and the solution mapped back (f rounded at 0.5)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.perf import Placement
from solvers.formulations.milp import constraints as con
from solvers.formulations.milp import variables as var
from solvers.formulations.milp.objective import define_cost
from solvers.formulations.milp.variables import Graph
from solvers.framework.formulation import Size
from solvers.framework.starts import Start


def estimate_size(n: int, R: int) -> Size:
    """Counts of ``build`` without building: per request n(n-1) server-server edges carry f and four
    products, the 2n client edges f and two products; three McCormick rows per product."""
    ss, ends = n * (n - 1), 2 * n
    per_request_vars = ss * 5 + ends * 3
    per_request_rows = (n + 2) + ss * (2 + 12) + ends * (2 + 6)
    return Size(2 * n + R * per_request_vars, 2 * n + R * per_request_rows)


@dataclass
class MilpFormulation:
    """The paper's MILP (eq. 13) of ``inst``; its objective is the total offline service time. ``starts``:
    the first is loaded as the MIP start."""

    inst: Instance
    name: str = "milp"
    starts: list[Start] = field(default_factory=list)
    bounds_instance = True   # the whole problem

    @property
    def scale(self) -> float:
        return self.inst.R * self.inst.workload.l_out

    def size(self) -> Size:
        return estimate_size(self.inst.n_servers, self.inst.R)

    def build(self) -> pyo.ConcreteModel:
        """Placement variables, one block ``req[r]`` per request (its flow, products, k^r_ij and
        per-request constraints), memory (13b), range ends (13d) and the objective (13a)."""
        inst, g, L = self.inst, Graph.of(self.inst.n_servers), self.inst.L
        model = pyo.ConcreteModel(name=f"bprr-{inst.name}")
        var.define_sets(model, inst, g)
        var.define_placement(model, L)

        def request(req: pyo.Block, r: int) -> None:
            var.define_request_vars(req)
            var.define_blocks_processed(req, g)
            con.define_flow(req, g)
            con.define_entry(req, g, L)
            con.define_exit(req, g, L)
            con.define_mccormick(req, L)

        model.req = pyo.Block(model.Rq, rule=request)
        con.define_memory(model, inst, g)
        con.define_range_end(model, L)
        define_cost(model, inst, inst.request_clients())
        return model

    def warm_start(self, model: pyo.ConcreteModel) -> str | None:
        """The first start's values; None without one."""
        if not self.starts:
            return None
        self.set_values(model, self.starts[0].placement, self.starts[0].chains)
        return self.starts[0].name

    def set_values(self, model: pyo.ConcreteModel, pl: Placement, chains: list[list[int]]) -> None:
        """Give every variable the value of a solution. Idle servers get block 1 only, since the paper's
        model has m_j >= 1; the start is then rejected by the solver if that breaks memory."""
        g = Graph.of(self.inst.n_servers)
        a = [int(pl.a[j]) if pl.m[j] > 0 else 1 for j in range(g.n)]
        size = [int(pl.m[j]) if pl.m[j] > 0 else 1 for j in range(g.n)]
        for j in range(g.n):
            model.a[j].set_value(a[j])
            model.m[j].set_value(size[j])
        node_a = a + [0, self.inst.L + 1]
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

    def extract(self, model: pyo.ConcreteModel) -> tuple[Placement, list[list[int]]]:
        """(a, m) and every request's chain from the loaded variable values."""
        g = Graph.of(self.inst.n_servers)
        pl = Placement.of([round(pyo.value(model.a[j])) for j in range(g.n)],
                          [round(pyo.value(model.m[j])) for j in range(g.n)])
        chains = []
        for r in model.Rq:
            succ = {i: j for (i, j) in model.E if pyo.value(model.req[r].f[i, j]) > 0.5}
            chain, v = [], succ.get(g.src)
            while v is not None and v != g.dst and len(chain) <= g.n:
                chain.append(v)
                v = succ.get(v)
            chains.append(chain)
        return pl, chains
