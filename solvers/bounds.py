"""Lower bounds on the offline BPRR optimum (docs/model.md §8), as average per-token times.

- per_request: each request alone, any server serving any segment of at most
  min(L, floor(M_j / (s_m + s_c))) blocks at cost t[c][j] + tau_j * length (a server that processes k
  blocks of a request holds m_j >= k blocks and that request's cache: (s_m + s_c) k <= M_j).
- lp_relaxation: the LP relaxation of (13).
- The MILP's own dual bound is reported by ``milp``; the harness takes the best of all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.numeric import floor
from bpr.solution import Solution, no_solution
from bpr.status import SolverStatus
from solvers.milp import backend
from solvers.milp.model import build as build_model
from solvers.milp.model import too_large
from solvers.registry import Context, Kind, algorithm
from solvers.settings import SolverSettings

NAME = "lower_bounds"


@dataclass
class Options:
    lp_relaxation: bool = True     # also solve the LP relaxation of (13) (weak and slow on large instances)


def segment_caps(inst: Instance) -> np.ndarray:
    return np.array([min(inst.L, floor(s.M / (inst.model.s_m + inst.s_c))) for s in inst.servers])


def per_request_bound(inst: Instance) -> float:
    """Shortest 1 -> L+1 chain per client over segments (a DAG in block order), weighted by its requests."""
    L, caps = inst.L, segment_caps(inst)
    tau = np.array([s.tau for s in inst.servers])
    total = 0.0
    for c, n_req in enumerate(inst.requests_per_client()):
        dist = np.full(L + 2, np.inf)
        dist[1] = 0.0
        for e in range(1, L + 1):
            for j in np.flatnonzero(caps):
                ends = np.arange(e + 1, min(e + caps[j], L + 1) + 1)  # segments of 1..cap_j blocks
                dist[ends] = np.minimum(dist[ends], dist[e] + inst.t[c, j] + tau[j] * (ends - e))
        total += n_req * dist[L + 1]
    return float(total / inst.R)


def lp_relaxation_bound(inst: Instance, s: SolverSettings, ctx: Context = Context()) -> tuple[float | None, str]:
    """(bound, status) of the LP relaxation of (13); None with the reason when it could not be had."""
    skip = too_large(inst, s.max_vars)
    if skip:
        return None, skip
    backend.require_available(s.name)
    model = build_model(inst).model
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    out = backend.solve(model, s, warm=False, seed=ctx.seed, log=backend.log_path(ctx, f"{NAME}-lp"))
    if out.status != SolverStatus.OPTIMAL or out.incumbent is None:
        return None, out.status
    return out.incumbent / (inst.R * inst.workload.l_out), SolverStatus.OPTIMAL


@algorithm(NAME, Kind.BOUND, options=Options, columns=("lower_bound_s", "lp_status"), uses_solver=True)
def solve(inst: Instance, opts: Options = Options(), ctx: Context = Context()) -> Solution:
    """Lower bounds on the offline optimum: per-request relaxation and the LP relaxation of (13)."""
    bounds: dict[str, float | None] = {"per_request": per_request_bound(inst)}
    lp_status = SolverStatus.SKIPPED
    if opts.lp_relaxation:
        bounds["lp_relaxation"], lp_status = lp_relaxation_bound(inst, ctx.solver, ctx)
    finite = [b for b in bounds.values() if b is not None and np.isfinite(b)]
    info = {"lower_bounds": bounds, "lp_status": str(lp_status), "lower_bound_s": max(finite) if finite else None}
    status = SolverStatus.TIME_LIMIT if lp_status == SolverStatus.TIME_LIMIT else SolverStatus.SOLVED
    return no_solution(inst, NAME, status, "lower bounds only", info)
