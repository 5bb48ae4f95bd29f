"""``exact``: BPR-Bench's extended formulation (docs/formulations.md §2), solved by HiGHS or any Pyomo MILP
solver, warm-started from the best feasible heuristic solution (CG-BPRR, the PETALS variants).

Its solver report (incumbent and dual bound as average per-token times, gap, nodes, build, load and solve
time, model size, the solver's raw status, which heuristic the accepted warm start came from) becomes
result columns like every model's (docs/results.md). Each client's integer flow is decomposed into
per-request routes.
"""

from __future__ import annotations

from dataclasses import replace

from bpr.instance import Instance
from bpr.solution import Solution
from solvers.algorithms import lns, restricted_master
from solvers.algorithms.heuristic_starts import heuristic_starts
from solvers.formulations.extended.model import ExactFormulation, Options
from solvers.framework.context import Context
from solvers.framework.formulation import solve_solution
from solvers.framework.registry import Kind, Skipped, algorithm
from solvers.framework.starts import Start, of_solution

NAME = "exact"


@algorithm(NAME, Kind.SOLUTION, options=Options, columns=("lns_start_s", "columns_start_s"), uses_solver=True)
def solve(inst: Instance, opts: Options, ctx: Context) -> Solution:
    """The extended formulation (block windows, aggregated flows), warm-started from the best heuristic, and
    from the large-neighbourhood search's solution (its first ``lns_s`` seconds) and the restricted master's
    (``columns``, at most half of the time left) when asked for; the model gets the rest of the run's time."""
    found: list[Start] = []
    info: dict[str, float | None] = {}
    if opts.lns_s:
        best = lns.run_search(inst, lns.Options(iterations=None), ctx.at_most(opts.lns_s)).best
        found += [replace(best, name=lns.NAME)] if best else []
        info["lns_start_s"] = best.cost if best else None
    if opts.columns:
        try:
            sol = restricted_master.solve(inst, ctx=ctx.share(0.5))
        except Skipped:      # its LP is larger than solver.max_vars: this model may still fit
            sol = None
        start = of_solution(inst, sol, restricted_master.NAME) if sol and sol.has_solution else None
        found += [start] if start else []
        info["columns_start_s"] = start.cost if start else None
    starts = sorted(found + (heuristic_starts(inst, ctx) if ctx.solver.warm_start else []), key=lambda st: st.cost)
    return solve_solution(ExactFormulation(inst, opts, NAME, starts=starts), inst, ctx, info or None)
