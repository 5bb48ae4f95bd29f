"""The extended formulation (docs/formulations.md §2) as a ``Formulation`` (solvers/framework/formulation.py): its
size counted without building, the model assembled from the ``define_*`` families, a MIP start from the
cheapest start that fits it (the algorithm gives the starts), and the solution mapped back (each client's
integer flow decomposed into chains).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from bpr.fields import number
from bpr.instance import Instance
from bpr.limits import MAX_SECONDS
from bpr.perf import Placement, window_caps
from solvers.formulations.extended import constraints as con
from solvers.formulations.extended.objective import define_cost
from solvers.formulations.extended.variables import (
    Allowed,
    Windows,
    count_windows,
    define_variables,
    identical_groups,
)
from solvers.framework.formulation import Size
from solvers.framework.starts import Start


@dataclass
class Options:
    allow_idle: bool = False      # a server may host nothing (the paper's model makes every server host)
    symmetry: bool = True         # order the windows of identical servers
    # Tighter LP, but slower certification on the library (geant: 17 s without, not certified in 600 s with;
    # docs/formulations.md §2), so off by default; the LP bound of lower_bounds uses both.
    memory_caps: bool = False     # bound each flow by what the server's memory can hold
    window_memory: bool = False   # memory row per window end
    capacity_cuts: bool = False   # the memory-capacity inequalities (docs/formulations.md §3)
    lns_s: float = 0.0            # seconds of the large-neighbourhood search first; its solution is a MIP start
    columns: bool = False         # the restricted master first (solvers/algorithms/restricted_master.py, at most
                                  # half of the time left); its solution is a MIP start

    def __post_init__(self) -> None:
        number(self.lns_s, "algorithm.exact.lns_s", lo=0, hi=MAX_SECONDS)


@dataclass
class ExactFormulation:
    """The extended formulation of ``inst``; ``windows`` is set by ``build``. ``allowed`` restricts servers to
    some windows: the exact model on a neighbourhood (the others fixed to one window, or none), or routing
    with the placement fixed (every server fixed); symmetry rows are then left out, since they could cut the
    neighbourhood's solutions. ``starts`` are MIP starts to try, cheapest first."""

    inst: Instance
    opts: Options = field(default_factory=Options)
    name: str = "exact"
    allowed: Allowed | None = None
    starts: list[Start] = field(default_factory=list)
    scale: float = 1.0            # the objective is the average per-token time already
    windows: Windows | None = None

    @property
    def bounds_instance(self) -> bool:
        """Only the unrestricted model's dual bound bounds the instance; a neighbourhood's or a fixed
        placement's bounds only its own solutions."""
        return self.allowed is None

    def size(self) -> Size:
        """y per window, Y per arc, g per arc and client (and x, h per client and server with the cuts)."""
        windows, arcs = count_windows(self.inst, self.allowed)
        n = windows + arcs * (1 + len(self.inst.clients))
        return Size(n + (2 * len(self.inst.clients) * self.inst.n_servers if self.opts.capacity_cuts else 0))

    def build(self) -> pyo.ConcreteModel:
        inst, opts = self.inst, self.opts
        self.windows = w = Windows.of(inst, self.allowed)
        model = pyo.ConcreteModel(name=f"bprr-extended-{inst.name}")
        define_variables(model, inst, w)
        con.define_one_window(model, w, opts.allow_idle)
        con.define_cumulative(model, w)
        con.define_flow(model, inst)
        con.define_linking(model, inst, opts.memory_caps)
        con.define_memory(model, inst, w)
        if opts.window_memory:
            con.define_window_memory(model, inst, w)
        if opts.symmetry and not self.allowed:
            con.define_symmetry(model, inst, w)
        if opts.capacity_cuts:
            con.define_capacity_cuts(model, inst, w)
        define_cost(model, inst)
        return model

    def warm_start(self, model: pyo.ConcreteModel) -> str | None:
        """Load the cheapest start that fits the model (its identical servers reordered for the symmetry
        rows); its name, or None."""
        for start in self.starts:
            placement = start.placement if self.opts.allow_idle else host_idle(self.inst, start.placement)
            placement, chains = (placement, start.chains) if self.allowed else \
                canonical(self.inst, placement, start.chains)
            if self.set_values(model, placement, chains):
                return start.name
        return None

    def set_values(self, model: pyo.ConcreteModel, pl: Placement, chains: list[list[int]]) -> bool:
        """Give every variable the value of a solution; False when the placement has no window in the model
        (a range longer than mbar, or one a restricted server may not take) or leaves a server idle that must
        host."""
        inst, index, arcs = self.inst, set(self.windows.jse), set(self.windows.arcs)
        if not self.opts.allow_idle and (pl.m == 0).any():
            return False
        for k in model.W:
            model.y[k].set_value(0)
        for k in model.A:
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
                if (j, at, end) not in arcs:
                    return False
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
        chains_by_client = [decompose({(j, b, e): round(pyo.value(model.g[c, j, b, e])) for (j, b, e) in model.A
                                       if pyo.value(model.g[c, j, b, e]) > 0.5}, inst.L)
                            for c in range(len(inst.clients))]
        chains = [chains_by_client[c].pop() for c in inst.request_clients()]
        return Placement(a, m), chains


def host_idle(inst: Instance, pl: Placement) -> Placement:
    """The same solution with every idle server that can hold a block hosting block 1 (it carries no request,
    so it costs nothing and its memory holds one block): a start for the model where every server hosts."""
    idle = (pl.m == 0) & (np.array(window_caps(inst)) > 0)
    return Placement(np.where(idle, 1, pl.a), np.where(idle, 1, pl.m))


def canonical(inst: Instance, pl: Placement, chains: list[list[int]],
              by_size: bool = False) -> tuple[Placement, list[list[int]]]:
    """The same solution with identical servers swapped so that their windows come in the order the
    symmetry rows ask for (a heuristic's start would otherwise be cut off by them); ``by_size``: in the
    order of the window-size relaxation's rows instead, ascending sizes (idle first)."""
    a, m = pl.a.copy(), pl.m.copy()
    where = list(range(inst.n_servers))          # where[j]: the server that takes j's window

    def window_order(j: int) -> tuple[int, int]:
        return ((inst.L + 1) * (pl.a[j] - 1) + pl.a[j] + pl.m[j] - 1 if pl.m[j] else 0, j)

    for group in identical_groups(inst):
        order = sorted(group, key=(lambda j: (pl.m[j], window_order(j))) if by_size else window_order)
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
