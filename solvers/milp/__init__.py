"""The paper's MILP (eq. 13; docs/formulations.md §1) in Pyomo, solved by HiGHS or any Pyomo MILP solver.

Reported (declared result columns): incumbent and dual bound as per-token times (objective / (R l_out)),
gap = (incumbent - bound) / incumbent, nodes, build, load and solve times, model size, the solver's raw
status and whether the CG-BPRR warm start was accepted. The solver's own log goes to the job directory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bpr.instance import Instance
from bpr.solution import Solution, build, no_solution
from bpr.status import SolverStatus
from solvers import cg_bprr
from solvers import backend
from solvers.milp.model import build as build_model
from solvers.milp.model import estimate_size, extract, set_values, too_large
from solvers.registry import Context, Kind, algorithm

NAME = "milp"
COLUMNS = ("incumbent_s", "dual_bound_s", "gap", "nodes", "build_s", "load_s", "solve_s", "variables",
           "constraints", "raw_status", "warm_start_accepted")


@dataclass
class Options:
    """The MILP's own options; the solver and its limits are the shared ``solver.*`` settings."""


@algorithm(NAME, Kind.SOLUTION, options=Options, columns=COLUMNS, uses_solver=True)
def solve(inst: Instance, opts: Options = Options(), ctx: Context = Context()) -> Solution:
    """The paper's MILP (eq. 13), warm-started from CG-BPRR."""
    s = ctx.solver
    size = estimate_size(inst.n_servers, inst.R)
    info: dict[str, Any] = {"variables": size.variables, "constraints": size.constraints}
    skip = too_large(inst, s.max_vars)
    if skip:
        return no_solution(inst, NAME, SolverStatus.SKIPPED, skip, info)
    backend.require_available(s.name)
    tick = time.perf_counter()
    built = build_model(inst)
    info["build_s"] = time.perf_counter() - tick
    if s.export:
        info["warning"] = backend.export(built.model, s.export)
    warm = s.warm_start and _warm_start(inst, built)
    out = backend.solve(built.model, s, warm, ctx.seed, backend.log_path(ctx, NAME))
    scale = inst.R * inst.workload.l_out
    info.update(raw_status=out.raw_status, load_s=out.load_s, solve_s=out.solve_s, nodes=out.nodes,
                warm_start_accepted=out.warm_start_accepted,
                incumbent_s=None if out.incumbent is None else out.incumbent / scale,
                dual_bound_s=None if out.bound is None else out.bound / scale,
                gap=_gap(out.incumbent, out.bound),
                progress=[(t, None if p is None else p / scale, None if b is None else b / scale)
                          for t, p, b in out.progress])
    if not out.has_solution:
        return no_solution(inst, NAME, out.status, f"{out.status}: no solution ({out.raw_status})", info)
    pl, chains = extract(built, inst)
    return build(inst, NAME, pl.a, pl.m, chains, info, solver_status=out.status)


def _warm_start(inst: Instance, built) -> bool:
    """Load CG-BPRR's solution into the variables; False when CG-BPRR has none."""
    p = cg_bprr.plan(inst)
    if p.placement is None or any(r is None for r in p.routes):
        return False
    set_values(built, inst, p.placement, [p.routes[c] for c in built.owners])
    return True


def _gap(incumbent: float | None, bound: float | None) -> float | None:
    if incumbent is None or bound is None:
        return None
    return (incumbent - bound) / abs(incumbent) if incumbent else 0.0
