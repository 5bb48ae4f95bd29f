"""``optimal_routing``: the best routing of a heuristic's placement (docs/formulations.md §4): the extended
formulation with every server's window fixed to the placement's, a small integer flow problem with the
memory rows as side constraints, started from the heuristic's own routes when they are feasible. Applied
to every heuristic (``algorithm.optimal_routing.placement=cg_bprr,petals,...``) it shows how much of each
one's gap is routing and how much placement."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bpr.errors import unknown
from bpr.instance import Instance
from bpr.perf import Placement
from bpr.solution import Solution, no_solution
from bpr.status import Termination
from solvers.algorithms.heuristic_starts import HEURISTICS, heuristic
from solvers.formulations.extended.model import ExactFormulation
from solvers.formulations.extended.model import Options as ExactOptions
from solvers.formulations.extended.variables import fixed_windows
from solvers.framework.context import Context
from solvers.framework.formulation import solve_solution
from solvers.framework.registry import Kind, algorithm
from solvers.framework.starts import Start, graded

NAME = "optimal_routing"


@dataclass
class Options:
    placement: str = "cg_bprr"      # whose placement: cg_bprr, petals, petals-opt-number, petals-opt-order

    def __post_init__(self) -> None:
        if self.placement not in HEURISTICS:
            raise unknown(f"algorithm.{NAME}.placement", self.placement, HEURISTICS)


def route(inst: Instance, pl: Placement, ctx: Context, starts: list[Start], name: str = NAME,
          proof: float | None = None) -> Solution:
    """The cheapest routes of R requests over the placement ``pl`` (feasible for memory), or why none exist;
    ``proof``: a bound on the instance the run computed (a fixed placement's optimum is not the instance's)."""
    f = ExactFormulation(inst, ExactOptions(allow_idle=True), name, allowed=fixed_windows(pl), starts=starts)
    return solve_solution(f, inst, ctx, proof=proof)


@algorithm(NAME, Kind.SOLUTION, options=Options, columns=("placement_from", "heuristic_s"), uses_solver=True)
def solve(inst: Instance, opts: Options, ctx: Context) -> Solution:
    """A heuristic's placement, routed optimally (the exact model with every window fixed)."""
    pl, chains = heuristic(inst, opts.placement, ctx.seed)
    own = None if pl is None or chains is None else graded(inst, opts.placement, pl, chains)
    info = {"placement_from": opts.placement, "heuristic_s": None if own is None else own.cost}
    if pl is None:
        return no_solution(inst, NAME, Termination.NONE_FOUND, f"{opts.placement} makes no placement", info)
    if own is not None:
        ctx.clock.found(incumbent=own.cost)
    sol = route(inst, pl, ctx, [own] if own else [])
    return dataclasses.replace(sol, info={**sol.info, **info})
