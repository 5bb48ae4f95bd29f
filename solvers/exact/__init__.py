"""``exact``: BPR-Bench's extended formulation (docs/formulations.md §2), solved by HiGHS or any Pyomo MILP
solver, warm-started from the best feasible heuristic solution (CG-BPRR, the PETALS variants).

Its solver report (incumbent and dual bound as average per-token times, gap, nodes, build, load and solve
time, model size, the solver's raw status, which heuristic the accepted warm start came from) becomes
result columns like every model's (docs/results.md). Each client's integer flow is decomposed into
per-request routes.
"""

from __future__ import annotations

import time
from dataclasses import replace

from bpr.instance import Instance
from bpr.solution import Solution
from solvers.exact.model import ExactFormulation, Options
from solvers.formulation import solve_solution
from solvers.registry import Context, Kind, algorithm
from solvers.starts import heuristic_starts

NAME = "exact"


@algorithm(NAME, Kind.SOLUTION, options=Options, columns=("lns_start_s",), uses_solver=True)
def solve(inst: Instance, opts: Options = Options(), ctx: Context = Context()) -> Solution:
    """The extended formulation (block windows, aggregated flows), warm-started from the best heuristic (or
    from the large-neighbourhood search's solution with ``lns_s``)."""
    if not opts.lns_s:
        return solve_solution(ExactFormulation(inst, opts, NAME), inst, ctx)
    from solvers import (
        lns,  # the search is built on this package's model: imported when asked for
    )

    tick = time.perf_counter()
    budget = min(opts.lns_s, ctx.solver.time_limit)
    found = lns.run_search(inst, lns.Options(time_limit=budget, iterations=10**6), ctx)
    starts = ([replace(found.best, name=lns.NAME)] if found.best else []) + heuristic_starts(inst, ctx.seed)
    rest = replace(ctx, solver=replace(ctx.solver, time_limit=max(ctx.solver.time_limit -
                                                                   (time.perf_counter() - tick), 1.0)))
    return solve_solution(ExactFormulation(inst, opts, NAME, starts=starts), inst, rest,
                          {"lns_start_s": found.best.cost if found.best else None})
