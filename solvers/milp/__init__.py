"""The paper's MILP (eq. 13, SPEC 4) in Pyomo, solved by HiGHS or any Pyomo MILP solver.

Reported in the solution's info: solver status (and the solver's raw status), incumbent and dual bound as
per-token times (objective / (R l_out)), gap = (incumbent - bound) / incumbent, nodes, build, load and
solve times, model size and the settings used.
"""

from __future__ import annotations

import time
from typing import Any

from bpr.instance import Instance
from bpr.solution import Solution, build, no_solution
from solvers import cg_bprr
from solvers.milp import backend
from solvers.milp.model import build as build_model
from solvers.milp.model import estimate_size, extract, set_values, too_large

NAME = "milp"


def solve(inst: Instance, *, seed: int = 0, time_limit: float | None = None,
          solver: dict[str, Any] | None = None) -> Solution:
    s = backend.SolverSettings.of(solver, time_limit=time_limit)
    size = estimate_size(inst.n_servers, inst.R)
    info: dict[str, Any] = {"solver": s.name, "variables": size.variables, "constraints": size.constraints}
    skip = too_large(inst, s.max_vars)
    if skip:
        return no_solution(inst, NAME, "skipped", skip, 0.0, info)
    backend.require_available(s.name)
    start = time.perf_counter()
    built = build_model(inst)
    info["build_s"] = time.perf_counter() - start
    if s.export:
        backend.export(built.model, s.export)
    warm = s.warm_start and _warm_start(inst, built)
    out = backend.solve(built.model, s, warm, seed)
    scale = inst.R * inst.workload.l_out
    info.update(solver_status=out.status, termination_condition=out.termination, raw_status=out.raw_status,
                load_s=out.load_s, solve_s=out.solve_s,
                nodes=out.nodes, warm_start=warm, warm_start_accepted=out.warm_start_accepted,
                incumbent_s=None if out.incumbent is None else out.incumbent / scale,
                dual_bound_s=None if out.bound is None else out.bound / scale,
                gap=_gap(out.incumbent, out.bound))
    runtime = time.perf_counter() - start
    if not out.has_solution:
        return no_solution(inst, NAME, out.status, f"{out.status}: no solution ({out.raw_status})", runtime, info)
    pl, chains = extract(built, inst)
    return build(inst, NAME, pl.a, pl.m, chains, runtime, info)


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
