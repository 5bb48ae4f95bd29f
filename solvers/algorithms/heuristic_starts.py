"""The heuristics' solutions as starts (CG-BPRR and the PETALS variants), graded by the one checker and
evaluator, the feasible ones cheapest first. The exact model loads the cheapest that fits it as its MIP
start; the large-neighbourhood search, the restricted master and the optimal routing start from them. A run
computes them once, as its phase ``heuristic starts``, whichever of its phases asks first
(solvers/framework/context.py); each is an incumbent of the run from the moment it is known."""

from __future__ import annotations

from bpr.instance import Instance
from bpr.perf import Placement
from solvers.algorithms import cg_bprr, petals
from solvers.framework.context import Context
from solvers.framework.starts import Start, graded

HEURISTICS = (cg_bprr.NAME, *petals.VARIANTS)


def heuristic(inst: Instance, name: str, seed: int) -> tuple[Placement | None, list[list[int]] | None]:
    """A heuristic's placement (None when it makes none) and its own chains (None when it routes none)."""
    if name == cg_bprr.NAME:
        p = cg_bprr.plan(inst)
        if p.placement is None or any(r is None for r in p.routes):
            return p.placement, None
        return p.placement, [p.routes[c] for c in inst.request_clients()]
    pl, sizing, _ = petals.place(inst, name, seed)
    return pl, petals.route_requests(inst, pl, sizing.pool)


def heuristic_solutions(inst: Instance, seed: int) -> list[Start]:
    """Every heuristic's checker-feasible solution, cheapest first (ties: CG-BPRR, then the PETALS order)."""
    found = [graded(inst, name, pl, chains) for name in HEURISTICS
             for pl, chains in [heuristic(inst, name, seed)] if chains is not None]
    return sorted((s for s in found if s is not None), key=lambda s: s.cost)


def heuristic_starts(inst: Instance, ctx: Context) -> list[Start]:
    """The heuristics' starts of this run (computed on its first call, charged to the run as a phase)."""
    def first() -> list[Start]:
        starts = heuristic_solutions(inst, ctx.seed)
        if starts:
            ctx.clock.found(incumbent=starts[0].cost)
        return starts

    return ctx.clock.once(("heuristic starts", inst.name, ctx.seed), "heuristic starts", first)
