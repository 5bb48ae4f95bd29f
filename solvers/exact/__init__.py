"""``exact``: BPR-Bench's extended formulation (docs/formulations.md §2), solved by HiGHS or any Pyomo MILP
solver, warm-started from the best feasible heuristic solution (CG-BPRR, the PETALS variants).

Its solver report (incumbent and dual bound as average per-token times, gap, nodes, build, load and solve
time, model size, the solver's raw status, which heuristic the accepted warm start came from) becomes
result columns like every model's (docs/results.md). Each client's integer flow is decomposed into
per-request routes.
"""

from __future__ import annotations

from bpr.instance import Instance
from bpr.solution import Solution
from solvers.exact.model import ExactFormulation, Options
from solvers.formulation import solve_solution
from solvers.registry import Context, Kind, algorithm

NAME = "exact"


@algorithm(NAME, Kind.SOLUTION, options=Options, uses_solver=True)
def solve(inst: Instance, opts: Options = Options(), ctx: Context = Context()) -> Solution:
    """The extended formulation (block windows, aggregated flows), warm-started from the best heuristic."""
    return solve_solution(ExactFormulation(inst, opts, NAME), inst, ctx)
