"""``exact``: BPR-Bench's extended formulation (docs/formulations.md §2), solved by HiGHS or any Pyomo MILP
solver, warm-started from the best feasible heuristic solution (CG-BPRR, the PETALS variants).

Reported (declared result columns) as for ``milp``: incumbent and dual bound (average per-token times),
gap, nodes, build, load and solve time, model size, the solver's raw status, and which heuristic the
accepted warm start came from. Each client's integer flow is decomposed into per-request routes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bpr.grading import grade
from bpr.instance import Instance
from bpr.perf import Placement
from bpr.solution import Solution, build, no_solution
from bpr.status import SolverStatus
from solvers import backend, cg_bprr, petals
from solvers.exact.model import Built, canonical, estimate_size, extract, set_values
from solvers.exact.model import build as build_model
from solvers.registry import Context, Kind, algorithm

NAME = "exact"
COLUMNS = ("incumbent_s", "dual_bound_s", "gap", "nodes", "build_s", "load_s", "solve_s", "variables",
           "constraints", "raw_status", "warm_start_accepted", "warm_start_from")


@dataclass
class Options:
    allow_idle: bool = False      # a server may host nothing (the paper's model makes every server host)
    symmetry: bool = True         # order the windows of identical servers
    # Tighter LP, but slower certification on the library (geant: 17 s without, not certified in 600 s with;
    # docs/formulations.md §2), so off by default; the LP bound of lower_bounds uses both.
    memory_caps: bool = False     # bound each flow by what the server's memory can hold
    window_memory: bool = False   # memory row per window end
    capacity_cuts: bool = False   # the memory-capacity inequalities (docs/formulations.md §3)


@algorithm(NAME, Kind.SOLUTION, options=Options, columns=COLUMNS, uses_solver=True)
def solve(inst: Instance, opts: Options = Options(), ctx: Context = Context()) -> Solution:
    """The extended formulation (block windows, aggregated flows), warm-started from the best heuristic."""
    s = ctx.solver
    n = estimate_size(inst)
    info: dict[str, Any] = {"variables": n}
    if n > s.max_vars:
        return no_solution(inst, NAME, SolverStatus.SKIPPED, f"skipped: too large ({n} variables > limit "
                                                             f"{s.max_vars})", info)
    backend.require_available(s.name)
    tick = time.perf_counter()
    built = build_model(inst, opts.allow_idle, opts.symmetry, opts.memory_caps, opts.window_memory,
                        opts.capacity_cuts)
    info |= {"build_s": time.perf_counter() - tick, "constraints": built.model.nconstraints()}
    if s.export:
        info["warning"] = backend.export(built.model, s.export)
    start = _warm_start(inst, built, ctx) if s.warm_start else None
    out = backend.solve(built.model, s, start is not None, ctx.seed, backend.log_path(ctx, NAME))
    info |= {"raw_status": out.raw_status, "load_s": out.load_s, "solve_s": out.solve_s, "nodes": out.nodes,
             "warm_start_accepted": out.warm_start_accepted, "warm_start_from": start,
             "incumbent_s": out.incumbent, "dual_bound_s": out.bound, "progress": out.progress,
             "gap": None if out.incumbent is None or out.bound is None or not out.incumbent
             else (out.incumbent - out.bound) / abs(out.incumbent)}
    if not out.has_solution:
        return no_solution(inst, NAME, out.status, f"{out.status}: no solution ({out.raw_status})", info)
    pl, chains = extract(built, inst)
    return build(inst, NAME, pl.a, pl.m, chains, info, solver_status=out.status)


def _warm_start(inst: Instance, built: Built, ctx: Context) -> str | None:
    """Load the cheapest checker-feasible heuristic solution that fits the model; its name, or None."""
    candidates: list[tuple[float, str, Placement, list[list[int]]]] = []
    p = cg_bprr.plan(inst)
    if p.placement is not None and all(r is not None for r in p.routes):
        candidates.append(_scored(inst, cg_bprr.NAME, p.placement, [p.routes[c] for c in inst.request_clients()]))
    for variant in petals.VARIANTS:
        pl, sizing, _ = petals.place(inst, variant, ctx.seed)
        chains = petals.route_requests(inst, pl, sizing.pool)
        if chains is not None:
            candidates.append(_scored(inst, variant, pl, chains))
    for _cost, name, pl, chains in sorted(c for c in candidates if c[0] is not None):
        if set_values(built, inst, *canonical(inst, pl, chains)):
            return name
    return None


def _scored(inst: Instance, name: str, pl: Placement, chains: list[list[int]]):
    """(cost, name, placement, chains); cost None when the checker finds the solution infeasible."""
    graded = grade(inst, build(inst, name, pl.a, pl.m, chains))
    return (graded.evaluation.per_token_s if graded.report.feasible else None, name, pl, chains)
