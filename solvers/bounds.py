"""Lower bounds on the offline BPRR optimum (SPEC 8), as average per-token times.

- per_request: each request alone, any server serving any segment of at most
  min(L, floor(M_j / (s_m + s_c))) blocks at cost t[c][j] + tau_j * length (a server that processes k
  blocks of a request holds m_j >= k blocks and that request's cache: (s_m + s_c) k <= M_j).
- lp_relaxation: the LP relaxation of (13).
- The MILP's own dual bound is reported by ``milp``; the harness takes the best of all.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.solution import Solution, no_solution
from solvers import cg_bprr
from solvers.milp import backend
from solvers.milp.model import build as build_model
from solvers.milp.model import too_large

NAME = "lower_bounds"


def segment_caps(inst: Instance) -> np.ndarray:
    return np.array([min(inst.L, cg_bprr.floor(s.M / (inst.model.s_m + inst.s_c))) for s in inst.servers])


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


def lp_relaxation_bound(inst: Instance, s: backend.SolverSettings, seed: int = 0) -> tuple[float | None, str]:
    """(bound, status) of the LP relaxation of (13); None with the reason when it could not be had."""
    skip = too_large(inst, s.max_vars)
    if skip:
        return None, skip
    backend.require_available(s.name)
    model = build_model(inst).model
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    out = backend.solve(model, s, warm=False, seed=seed)
    if out.status != "optimal" or out.incumbent is None:
        return None, out.status
    return out.incumbent / (inst.R * inst.workload.l_out), "optimal"


def solve(inst: Instance, *, seed: int = 0, time_limit: float | None = None,
          solver: dict[str, Any] | None = None) -> Solution:
    s = backend.SolverSettings.of(solver, time_limit=time_limit)
    start = time.perf_counter()
    bounds: dict[str, float | None] = {"per_request": per_request_bound(inst)}
    bounds["lp_relaxation"], lp_status = lp_relaxation_bound(inst, s, seed)
    finite = [b for b in bounds.values() if b is not None and np.isfinite(b)]
    info = {"lower_bounds": bounds, "lp_status": lp_status, "lower_bound_s": max(finite) if finite else None}
    return no_solution(inst, NAME, "bound", "lower bounds only", time.perf_counter() - start, info)
