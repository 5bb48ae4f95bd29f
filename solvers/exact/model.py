"""The extended formulation (docs/formulations.md §2) as a ``Formulation`` (solvers/formulation.py): its
size counted without building, the model assembled from the ``define_*`` families, a MIP start from the
best feasible heuristic, and the solution mapped back (each client's integer flow decomposed into chains).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from bpr.grading import grade
from bpr.instance import Instance
from bpr.perf import Placement
from bpr.solution import build
from solvers import cg_bprr, petals
from solvers.exact import constraints as con
from solvers.exact.objective import define_cost
from solvers.exact.variables import Windows, count_windows, define_variables, identical_groups
from solvers.formulation import Size
from solvers.registry import Context


@dataclass
class Options:
    allow_idle: bool = False      # a server may host nothing (the paper's model makes every server host)
    symmetry: bool = True         # order the windows of identical servers
    # Tighter LP, but slower certification on the library (geant: 17 s without, not certified in 600 s with;
    # docs/formulations.md §2), so off by default; the LP bound of lower_bounds uses both.
    memory_caps: bool = False     # bound each flow by what the server's memory can hold
    window_memory: bool = False   # memory row per window end
    capacity_cuts: bool = False   # the memory-capacity inequalities (docs/formulations.md §3)


@dataclass
class ExactFormulation:
    """The extended formulation of ``inst``; ``windows`` is set by ``build``."""

    inst: Instance
    opts: Options = field(default_factory=Options)
    name: str = "exact"
    scale: float = 1.0            # the objective is the average per-token time already
    windows: Windows | None = None

    def size(self) -> Size:
        """y and Y per window, g per window and client (and x, h per client and server with the cuts)."""
        n = count_windows(self.inst) * (2 + len(self.inst.clients))
        return Size(n + (2 * len(self.inst.clients) * self.inst.n_servers if self.opts.capacity_cuts else 0))

    def build(self) -> pyo.ConcreteModel:
        inst, opts = self.inst, self.opts
        self.windows = w = Windows.of(inst)
        model = pyo.ConcreteModel(name=f"bprr-extended-{inst.name}")
        define_variables(model, inst, w)
        con.define_one_window(model, w, opts.allow_idle)
        con.define_cumulative(model, w)
        con.define_flow(model, inst)
        con.define_linking(model, inst, opts.memory_caps)
        con.define_memory(model, inst, w)
        if opts.window_memory:
            con.define_window_memory(model, inst, w)
        if opts.symmetry:
            con.define_symmetry(model, inst, w)
        if opts.capacity_cuts:
            con.define_capacity_cuts(model, inst, w)
        define_cost(model, inst)
        return model

    def warm_start(self, model: pyo.ConcreteModel, ctx: Context) -> str | None:
        """Load the cheapest checker-feasible heuristic solution (CG-BPRR, the PETALS variants) that fits the
        model; its name, or None."""
        inst = self.inst
        candidates: list[tuple[float, str, Placement, list[list[int]]]] = []
        p = cg_bprr.plan(inst)
        if p.placement is not None and all(r is not None for r in p.routes):
            candidates.append(_scored(inst, cg_bprr.NAME, p.placement, [p.routes[c] for c in inst.request_clients()]))
        for variant in petals.VARIANTS:
            pl, sizing, _ = petals.place(inst, variant, ctx.seed)
            chains = petals.route_requests(inst, pl, sizing.pool)
            if chains is not None:
                candidates.append(_scored(inst, variant, pl, chains))
        for _cost, name, pl, chains in sorted(c for c in candidates if c[0] is not None):
            if self.set_values(model, *canonical(inst, pl, chains)):
                return name
        return None

    def set_values(self, model: pyo.ConcreteModel, pl: Placement, chains: list[list[int]]) -> bool:
        """Give every variable the value of a solution; False when the placement has no window in the model
        (a range longer than mbar) or leaves a server idle that must host."""
        inst, index = self.inst, set(self.windows.jse)
        if not self.opts.allow_idle and (pl.m == 0).any():
            return False
        for k in model.W:
            model.y[k].set_value(0)
            model.Y[k].set_value(0)
            for c in model.C:
                model.g[c, k].set_value(0)
        for j in range(inst.n_servers):
            if pl.m[j] > 0:
                s, e = int(pl.a[j]) - 1, int(pl.a[j] + pl.m[j]) - 1
                if (j, s, e) not in index:
                    return False
                model.y[j, s, e].set_value(1)
                for b in range(s, e):
                    model.Y[j, b, e].set_value(1)
        owners = inst.request_clients()
        for r, chain in enumerate(chains):
            at = 0
            for j in chain:
                end = int(pl.a[j] + pl.m[j]) - 1
                model.g[owners[r], j, at, end].set_value(model.g[owners[r], j, at, end].value + 1)
                at = end
        return True

    def extract(self, model: pyo.ConcreteModel) -> tuple[Placement, list[list[int]]]:
        """The placement of the chosen windows and R chains from decomposing each client's integer flow."""
        inst = self.inst
        a = np.zeros(inst.n_servers, dtype=int)
        m = np.zeros(inst.n_servers, dtype=int)
        for (j, s, e) in model.W:
            if pyo.value(model.y[j, s, e]) > 0.5:
                a[j], m[j] = s + 1, e - s
        chains_by_client = [decompose({(j, b, e): round(pyo.value(model.g[c, j, b, e])) for (j, b, e) in model.W
                                       if pyo.value(model.g[c, j, b, e]) > 0.5}, inst.L)
                            for c in range(len(inst.clients))]
        chains = [chains_by_client[c].pop() for c in inst.request_clients()]
        return Placement(a, m), chains


def _scored(inst: Instance, name: str, pl: Placement, chains: list[list[int]]):
    """(cost, name, placement, chains); cost None when the checker finds the solution infeasible."""
    graded = grade(inst, build(inst, name, pl.a, pl.m, chains))
    return (graded.evaluation.per_token_s if graded.report.feasible else None, name, pl, chains)


def canonical(inst: Instance, pl: Placement, chains: list[list[int]]) -> tuple[Placement, list[list[int]]]:
    """The same solution with identical servers swapped so that their windows come in the order the
    symmetry rows ask for (a heuristic's start would otherwise be cut off by them)."""
    a, m = pl.a.copy(), pl.m.copy()
    where = list(range(inst.n_servers))          # where[j]: the server that takes j's window
    for group in identical_groups(inst):
        order = sorted(group, key=lambda j: ((inst.L + 1) * (pl.a[j] - 1) + pl.a[j] + pl.m[j] - 1 if pl.m[j] else 0, j))
        for new, old in zip(group, order):
            a[new], m[new], where[old] = pl.a[old], pl.m[old], new
    return Placement(a, m), [[where[j] for j in chain] for chain in chains]


def decompose(flow: dict[tuple[int, int, int], int], L: int) -> list[list[int]]:
    """Split an integer 0 -> L flow on arcs (j, b, e) into unit paths (server chains); the graph is acyclic
    (e > b), so every walk from 0 reaches L."""
    left = dict(flow)
    out_of: dict[int, list[tuple[int, int, int]]] = {}
    for arc in sorted(left):
        out_of.setdefault(arc[1], []).append(arc)
    chains = []
    while any(left[arc] > 0 for arc in out_of.get(0, [])):
        at, chain = 0, []
        while at != L:
            arc = next(a for a in out_of[at] if left[a] > 0)
            left[arc] -= 1
            chain.append(arc[0])
            at = arc[2]
        chains.append(chain)
    return chains
