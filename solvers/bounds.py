"""Lower bounds on the offline BPRR optimum (docs/model.md §8), as average per-token times.

- per_request: each request alone, any server serving any segment of at most
  min(L, floor(M_j / (s_m + s_c))) blocks at cost t[c][j] + tau_j * length (a server that processes k
  blocks of a request holds m_j >= k blocks and that request's cache: (s_m + s_c) k <= M_j).
- extended_lp: the LP relaxation of the extended formulation (docs/formulations.md §2), on by default.
- capacity: the memory-capacity bound (docs/formulations.md §3, solvers/capacity.py), on by default: what
  the servers' memories can process in total, the strongest bound where memory binds.
- paper_lp: the LP relaxation of (13), only on request: its value is negative on realistic instances and
  it is slow (docs/formulations.md §1).
- The exact models' dual bounds are reported by ``milp`` and ``exact``; the harness takes the best of all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.numeric import floor
from bpr.solution import Solution, no_solution
from bpr.status import SolverStatus
from solvers import backend, capacity
from solvers.exact import model as extended
from solvers.milp import model as paper
from solvers.registry import Context, Kind, algorithm

NAME = "lower_bounds"


@dataclass
class Options:
    extended_lp: bool = True     # the LP relaxation of the extended formulation
    capacity: bool = True        # the memory-capacity bound
    paper_lp: bool = False       # the LP relaxation of (13): negative on realistic instances, slow


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


def lp_bound(model: pyo.ConcreteModel, scale: float, ctx: Context, log_name: str) -> tuple[float | None, str]:
    """(bound, status) of a model's LP relaxation, objective / ``scale``; None with the reason without one."""
    backend.require_available(ctx.solver.name)
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    out = backend.solve(model, ctx.solver, warm=False, seed=ctx.seed, log=backend.log_path(ctx, log_name))
    if out.status != SolverStatus.OPTIMAL or out.incumbent is None:
        return None, str(out.status)
    return out.incumbent / scale, str(SolverStatus.OPTIMAL)


def paper_lp_bound(inst: Instance, ctx: Context = Context()) -> tuple[float | None, str]:
    """The LP relaxation of (13), with its size guard."""
    skip = paper.too_large(inst, ctx.solver.max_vars)
    if skip:
        return None, skip
    return lp_bound(paper.build(inst).model, inst.R * inst.workload.l_out, ctx, f"{NAME}-paper-lp")


def extended_lp_bound(inst: Instance, ctx: Context = Context()) -> tuple[float | None, str]:
    """The LP relaxation of the extended formulation (objective already a per-token time), with idle
    servers allowed so that it bounds every solution the checker accepts, and with every strengthening
    (memory caps, window memory, capacity cuts), which raise the LP value where memory binds."""
    n = extended.estimate_size(inst)
    if n > ctx.solver.max_vars:
        return None, f"skipped: too large ({n} variables > limit {ctx.solver.max_vars})"
    model = extended.build(inst, allow_idle=True, memory_caps=True, window_memory=True, capacity_cuts=True).model
    return lp_bound(model, 1.0, ctx, f"{NAME}-extended-lp")


def capacity_bound(inst: Instance, ctx: Context = Context()) -> tuple[float | None, str]:
    """The memory-capacity LP (solvers/capacity.py); its size grows with servers x R only."""
    return lp_bound(capacity.build(inst), 1.0, ctx, f"{NAME}-capacity")


@algorithm(NAME, Kind.BOUND, options=Options, columns=("lower_bound_s",), uses_solver=True)
def solve(inst: Instance, opts: Options = Options(), ctx: Context = Context()) -> Solution:
    """Lower bounds on the offline optimum: per-request relaxation and LP relaxations."""
    bounds: dict[str, float | None] = {"per_request": per_request_bound(inst)}
    statuses: dict[str, str] = {"per_request": str(SolverStatus.SOLVED)}
    for name, wanted, fn in (("extended_lp", opts.extended_lp, extended_lp_bound),
                             ("capacity", opts.capacity, capacity_bound),
                             ("paper_lp", opts.paper_lp, paper_lp_bound)):
        if wanted:
            bounds[name], statuses[name] = fn(inst, ctx)
    finite = [b for b in bounds.values() if b is not None and np.isfinite(b)]
    info = {"lower_bounds": bounds, "bound_status": statuses, "lower_bound_s": max(finite) if finite else None}
    status = SolverStatus.TIME_LIMIT if str(SolverStatus.TIME_LIMIT) in statuses.values() else SolverStatus.SOLVED
    return no_solution(inst, NAME, status, "lower bounds only", info)
