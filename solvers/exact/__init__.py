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
from solvers.registry import Context, Kind, Skipped, algorithm
from solvers.starts import Start, heuristic_starts, of_solution

NAME = "exact"


@algorithm(NAME, Kind.SOLUTION, options=Options, columns=("lns_start_s", "columns_start_s"), uses_solver=True)
def solve(inst: Instance, opts: Options = Options(), ctx: Context = Context()) -> Solution:
    """The extended formulation (block windows, aggregated flows), warm-started from the best heuristic, and
    from the large-neighbourhood search's solution (``lns_s`` seconds) and the restricted master's (``columns``, at
    most half the limit) when asked for; the time they take comes off the solver's limit."""
    if not (opts.lns_s or opts.columns):
        return solve_solution(ExactFormulation(inst, opts, NAME), inst, ctx)
    tick = time.perf_counter()
    found: list[Start] = []
    info: dict[str, float | None] = {}
    if opts.lns_s:
        from solvers import lns  # the search is built on this package's model: imported when asked for

        best = lns.run_search(inst, lns.Options(time_limit=min(opts.lns_s, ctx.solver.time_limit),
                                                iterations=10**6), ctx).best
        found += [replace(best, name=lns.NAME)] if best else []
        info["lns_start_s"] = best.cost if best else None
    if opts.columns:
        from solvers import restricted_master  # built on this package's model, like the search

        # its LP and its integer program get a quarter of the limit each: half is left for this model
        quarter = replace(ctx, solver=replace(ctx.solver, time_limit=ctx.solver.time_limit / 4))
        try:
            sol = restricted_master.solve(inst, ctx=quarter)
        except Skipped:      # its LP is larger than solver.max_vars: this model may still fit
            sol = None
        start = of_solution(inst, sol, restricted_master.NAME) if sol and sol.has_solution else None
        found += [start] if start else []
        info["columns_start_s"] = start.cost if start else None
    starts = sorted(found + heuristic_starts(inst, ctx.seed), key=lambda st: st.cost)
    rest = replace(ctx, solver=replace(ctx.solver, time_limit=max(ctx.solver.time_limit -
                                                                   (time.perf_counter() - tick), 1.0)))
    return solve_solution(ExactFormulation(inst, opts, NAME, starts=starts), inst, rest, info)
