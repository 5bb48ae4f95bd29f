"""Solutions that start a search: the heuristics' (CG-BPRR and the PETALS variants), graded by the one checker
and evaluator, the feasible ones cheapest first. The exact model loads the cheapest that fits it as its MIP
start; the large-neighbourhood search and the optimal routing start from them."""

from __future__ import annotations

from dataclasses import dataclass

from bpr.grading import grade
from bpr.instance import Instance
from bpr.perf import Placement
from bpr.solution import Solution, build
from solvers import cg_bprr, petals


@dataclass(frozen=True, eq=False)
class Start:
    """A feasible solution in index form: where it came from, its placement, one chain per request, its cost."""

    name: str
    placement: Placement
    chains: list[list[int]]
    cost: float

    def solution(self, inst: Instance, algorithm: str, **kwargs) -> Solution:
        return build(inst, algorithm, self.placement.a, self.placement.m, self.chains, **kwargs)


def graded(inst: Instance, name: str, pl: Placement, chains: list[list[int]]) -> Start | None:
    """The start of a placement and chains, or None when the checker finds them infeasible."""
    result = grade(inst, build(inst, name, pl.a, pl.m, chains))
    return Start(name, pl, chains, result.evaluation.per_token_s) if result.report.feasible else None


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


def heuristic_starts(inst: Instance, seed: int) -> list[Start]:
    """Every heuristic's checker-feasible solution, cheapest first (ties: CG-BPRR, then the PETALS order)."""
    found = [graded(inst, name, pl, chains) for name in HEURISTICS
             for pl, chains in [heuristic(inst, name, seed)] if chains is not None]
    return sorted((s for s in found if s is not None), key=lambda s: s.cost)


def windows(pl: Placement) -> dict[int, list[tuple[int, int]]]:
    """Every server's window (s, e) = blocks s+1..e in the exact model's terms, as the only one it may take
    ([] when it hosts nothing): the placement fixed."""
    return {j: [(int(pl.a[j]) - 1, int(pl.a[j] + pl.m[j]) - 1)] if pl.m[j] > 0 else [] for j in range(len(pl.m))}
