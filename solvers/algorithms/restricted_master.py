"""``restricted_master``: a solution from the decomposition's columns (docs/formulations.md §6, "Incumbents
from the columns"), price-and-branch style.

The decomposition by server (§6) is solved as an LP; at its optimum (a vertex: HiGHS's interior point
method crosses over) each server uses a few windows, y[j,s,e] > 0. The master problem is then solved as an
integer program over those columns: the exact model (§2) with every server restricted to the windows its
LP optimum uses, plus the window the best heuristic solution gives it, so that this solution is a feasible
MIP start and the result is never worse than the heuristics. A server the LP leaves idle and no heuristic
uses stays idle. The restricted model bounds only its own solutions: the row's dual bound is the LP's
optimum (a bound on the instance, also the column ``decomposition_s``), and the row reads ``optimal`` only
where that bound meets its incumbent (solvers/framework/formulation.py, ``instance_word``).
"""

from __future__ import annotations

import dataclasses

import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.solution import Solution, no_solution
from bpr.status import Termination
from solvers.algorithms.heuristic_starts import heuristic_starts
from solvers.formulations.decomposition import DecompositionFormulation, lp_context
from solvers.formulations.extended.model import ExactFormulation
from solvers.formulations.extended.model import Options as ExactOptions
from solvers.formulations.extended.variables import Allowed, fixed_windows
from solvers.framework.context import Context
from solvers.framework.formulation import solve_model, solve_solution, start_solution
from solvers.framework.registry import Kind, NoOptions, algorithm
from solvers.framework.starts import Start

NAME = "restricted_master"
USED = 1e-6     # a column the LP optimum uses (y above the solver's tolerances)


def columns(model: pyo.ConcreteModel, n_servers: int) -> dict[int, list[tuple[int, int]]]:
    """The windows (s, e) each server's LP optimum uses ([] for a server it leaves idle)."""
    used: dict[int, list[tuple[int, int]]] = {j: [] for j in range(n_servers)}
    for (j, s, e) in model.W:
        if pyo.value(model.y[j, s, e]) > USED:
            used[j].append((s, e))
    return used


def restricted(used: Allowed, starts: list[Start]) -> dict[int, list[tuple[int, int]]]:
    """The LP's columns with the best start's windows added (that start stays a solution of the model)."""
    out = {j: list(ws) for j, ws in used.items()}
    if starts:
        for j, ws in fixed_windows(starts[0].placement).items():
            out[j] = sorted(set(out[j]) | set(ws))
    return out


@algorithm(NAME, Kind.SOLUTION, columns=("decomposition_s", "windows"), uses_solver=True)
def solve(inst: Instance, opts: NoOptions, ctx: Context) -> Solution:
    """The decomposition LP (half of the run's time), then the exact model over its columns and the best
    heuristic's windows, warm-started from the heuristics (the rest); optimal for the instance only where
    the LP's value proves it. When the LP is not solved in its time, the best heuristic solution is the
    run's (the promise: never worse than the heuristics)."""
    report, model = solve_model(DecompositionFormulation(inst), lp_context(ctx.share(0.5)), relax=True,
                                log_name=f"{NAME}-decomposition")
    starts = heuristic_starts(inst, ctx)
    if report.termination is not Termination.OPTIMAL:
        why = f"the decomposition LP was not solved ({report.termination}, {report.raw_status})"
        if starts:
            return start_solution(inst, NAME, starts[0], report, why)
        return no_solution(inst, NAME, report.termination, why)
    allowed = restricted(columns(model, inst.n_servers), starts)
    info = {"decomposition_s": report.incumbent_s, "windows": sum(len(ws) for ws in allowed.values())}
    f = ExactFormulation(inst, ExactOptions(allow_idle=True), NAME, allowed=allowed, starts=starts)
    sol = solve_solution(f, inst, ctx, info, proof=report.incumbent_s)
    if not sol.has_solution:       # says what was restricted: the instance itself may well have solutions
        sol = dataclasses.replace(sol, message=f"no solution over the LP's columns"
                                               f"{'' if starts else ' (no heuristic solution to add)'}: {sol.message}")
    return dataclasses.replace(sol, info={**sol.info, **info})
