"""Online algorithms of the paper's evaluation (docs/simulator.md): a placement, the cache capacity each
server offers, and a routing policy for the simulator (an ``OnlineSetup``, bpr/online.py).

- proposed: CG-BP placement for the robust design load R (docs/model.md §7.3), WS-RR routing.
- petals, petals-opt-number, petals-opt-order: the PETALS placements, PETALS min-latency routing.
- petals-opt-rr: PETALS placement, the exact myopic optimal routing (docs/simulator.md §2).
Capacity: M_j - s_m m_j for CG-BPRR sizing (the server keeps the rest for cache), PETALS's fixed pool
c_p m_j otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from bpr.fields import integer
from bpr.instance import Instance
from bpr.limits import MAX_R
from bpr.online import OnlineSetup, RoutingPolicy
from solvers.algorithms import cg_bprr, petals
from solvers.algorithms.design_load import design_R
from solvers.algorithms.policies import MyopicOptimal, PetalsMinLatency, WsRR
from solvers.framework.context import Context
from solvers.framework.registry import Kind, algorithm


@dataclass
class ProposedOptions:
    design_R: Optional[int] = None   # R to place for; None: the robust choice of docs/model.md §7.3

    def __post_init__(self) -> None:
        if self.design_R is not None:
            integer(self.design_R, "algorithm.proposed.design_R", lo=1, hi=MAX_R)


@algorithm("proposed", Kind.ONLINE, options=ProposedOptions, columns=("design_R",))
def proposed(inst: Instance, opts: ProposedOptions, ctx: Context) -> OnlineSetup:
    """CG-BP for the robust design load, WS-RR routing (the paper's proposed system)."""
    R = design_R(inst) if opts.design_R is None else opts.design_R
    p = cg_bprr.plan(inst, R=R)
    capacity = np.array([s.M for s in inst.servers]) - inst.model.s_m * p.m
    return OnlineSetup("proposed", p.placement, capacity, WsRR(), {"design_R": R}, p.message)


def petals_setup(inst: Instance, opts: petals.Options, ctx: Context, variant: str, policy: RoutingPolicy
                 ) -> OnlineSetup:
    """A PETALS placement with its fixed cache pools, routed by ``policy``."""
    pl, sizing, _ = petals.place(inst, variant, ctx.seed, opts)
    message = petals.uncovered(inst, pl)
    return OnlineSetup(ctx.algorithm, None if message else pl, sizing.pool, policy, message=message)


@algorithm("petals", Kind.ONLINE, options=petals.Options)
@algorithm("petals-opt-number", Kind.ONLINE, options=petals.Options)
@algorithm("petals-opt-order", Kind.ONLINE, options=petals.Options)
def petals_min_latency(inst: Instance, opts: petals.Options, ctx: Context) -> OnlineSetup:
    """The PETALS variant of the algorithm's name, PETALS min-latency routing."""
    return petals_setup(inst, opts, ctx, ctx.algorithm, PetalsMinLatency())


@algorithm("petals-opt-rr", Kind.ONLINE, options=petals.Options)
def opt_rr(inst: Instance, opts: petals.Options, ctx: Context) -> OnlineSetup:
    """PETALS placement, exact myopic optimal routing."""
    return petals_setup(inst, opts, ctx, "petals", MyopicOptimal())
