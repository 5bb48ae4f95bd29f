"""Lower bounds on the offline BPRR optimum (docs/model.md §8), as average per-token times.

- per_request: each request alone, any server serving any segment of at most
  min(L, floor(M_j / (s_m + s_c))) blocks at cost t[c][j] + tau_j * length (a server that processes k
  blocks of a request holds m_j >= k blocks and that request's cache: (s_m + s_c) k <= M_j).
- extended_lp: the LP relaxation of the extended formulation (docs/formulations.md §2), on by default.
- capacity: the memory-capacity bound (docs/formulations.md §3, solvers/formulations/capacity.py), on by default: what
  the servers' memories can process in total, the strongest bound where memory binds.
- paper_lp: the LP relaxation of (13), only on request: its value is negative on realistic instances and
  it is slow (docs/formulations.md §1).
- decomposition: the decomposition by server (docs/formulations.md §6, solvers/formulations/decomposition.py): at least
  capacity and extended_lp, up to 5 % above them where memory binds; run where memory binds (the capacity
  bound above the per-request bound), since elsewhere it is minutes of LP for nothing over extended_lp.
- window_sizes: the window-size relaxation (docs/formulations.md §7, solvers/formulations/window_sizes.py), a MILP that
  keeps each server's number of blocks whole and drops where its window sits; its dual bound, also at a
  time limit. It sees what every LP above cannot (a server is not a mixture of half servers) and misses
  what they see (positions), so neither dominates; run where memory binds, like the decomposition.
- The exact models' dual bounds are reported by ``milp`` and ``exact``; the harness takes the best of all.
Every LP goes through the one formulation path (solvers/framework/formulation.py): size guard, log, solver report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from bpr.bounds import Bound, Bounds
from bpr.instance import Instance
from bpr.numeric import floor
from bpr.status import Outcome
from solvers.formulations.capacity import CapacityFormulation
from solvers.formulations.decomposition import DecompositionFormulation, lp_context
from solvers.formulations.extended.model import ExactFormulation
from solvers.formulations.extended.model import Options as ExactOptions
from solvers.formulations.milp.model import MilpFormulation
from solvers.formulations.window_sizes import WindowSizesFormulation
from solvers.framework.context import Context
from solvers.framework.formulation import mip_bound, relaxation_bound
from solvers.framework.registry import Kind, algorithm

NAME = "lower_bounds"


@dataclass
class Options:
    extended_lp: bool = True     # the LP relaxation of the extended formulation
    capacity: bool = True        # the memory-capacity bound
    paper_lp: bool = False       # the LP relaxation of (13): negative on realistic instances, slow
    decomposition: bool = True   # the decomposition by server, where memory binds (capacity > per_request)
    window_sizes: bool = True    # the window-size relaxation's dual bound, where memory binds


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


def extended_lp_bound(inst: Instance, ctx: Context) -> Bound:
    """The LP relaxation of the extended formulation with idle servers allowed, so that it bounds every
    solution the checker accepts, and with every strengthening (memory caps, window memory, capacity cuts),
    which raise its value where memory binds."""
    f = ExactFormulation(inst, ExactOptions(allow_idle=True, memory_caps=True, window_memory=True,
                                            capacity_cuts=True))
    return relaxation_bound(f, ctx, f"{NAME}-extended-lp")


def capacity_bound(inst: Instance, ctx: Context) -> Bound:
    """The memory-capacity LP (solvers/formulations/capacity.py); its size grows with servers x R only."""
    return relaxation_bound(CapacityFormulation(inst), ctx, f"{NAME}-capacity")


def paper_lp_bound(inst: Instance, ctx: Context) -> Bound:
    """The LP relaxation of (13)."""
    return relaxation_bound(MilpFormulation(inst), ctx, f"{NAME}-paper-lp")


def decomposition_bound(inst: Instance, ctx: Context) -> Bound:
    """The decomposition by server (solvers/formulations/decomposition.py), by the LP method of ``lp_context``."""
    return relaxation_bound(DecompositionFormulation(inst), lp_context(ctx), f"{NAME}-decomposition")


def window_sizes_bound(inst: Instance, ctx: Context) -> Bound:
    """The window-size MILP's dual bound (solvers/formulations/window_sizes.py)."""
    return mip_bound(WindowSizesFormulation(inst), ctx, f"{NAME}-window-sizes")


def timed(ctx: Context, compute: Callable[[], Bound]) -> Bound:
    """``compute()``'s bound with the seconds it took on the run's clock (the runner's), so that each bound's
    row reports its own time and not the run's."""
    start = ctx.clock.now()
    bound = compute()
    return replace(bound, runtime_s=ctx.clock.now() - start)


def memory_binds(bounds: dict[str, Bound]) -> bool:
    """Memory binds when the memory-capacity bound is above the per-request bound, which ignores memory
    sharing (docs/model.md §8); without the capacity bound this cannot be told, and the answer is yes."""
    capacity = bounds.get("capacity")
    return capacity is None or capacity.value_s is None or capacity.value_s > bounds["per_request"].value_s


@algorithm(NAME, Kind.BOUND, options=Options, uses_solver=True)
def solve(inst: Instance, opts: Options, ctx: Context) -> Bounds:
    """Lower bounds on the offline optimum: per-request relaxation and LP relaxations, sharing the run's time
    (each bound in turn gets an equal share of what is left, so a quick one leaves its time to the next)."""
    bounds = {"per_request": timed(ctx, lambda: Bound(per_request_bound(inst)))}
    first = [(name, fn) for name, wanted, fn in (("extended_lp", opts.extended_lp, extended_lp_bound),
                                                  ("capacity", opts.capacity, capacity_bound),
                                                  ("paper_lp", opts.paper_lp, paper_lp_bound)) if wanted]
    later = [(name, fn) for name, wanted, fn in (("decomposition", opts.decomposition, decomposition_bound),
                                                  ("window_sizes", opts.window_sizes, window_sizes_bound)) if wanted]
    for i, (name, fn) in enumerate(first):
        bounds[name] = timed(ctx, lambda: fn(inst, ctx.share(1 / (len(first) + len(later) - i))))
    if not memory_binds(bounds):
        bounds |= {name: Bound(None, None, Outcome.SKIPPED, "memory does not bind (capacity bound <= per-request "
                                                           "bound)") for name, _ in later}
        return Bounds(inst.name, NAME, bounds)
    for i, (name, fn) in enumerate(later):
        bounds[name] = timed(ctx, lambda: fn(inst, ctx.share(1 / (len(later) - i))))
    return Bounds(inst.name, NAME, bounds)
