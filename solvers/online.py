"""Online algorithms of the paper's evaluation (docs/simulator.md): a placement, the cache capacity each
server offers, and a routing policy for the simulator.

- proposed: CG-BP placement for the robust design load R (docs/model.md §7.3), WS-RR routing.
- petals, petals-opt-number, petals-opt-order: the PETALS placements, PETALS min-latency routing.
- petals-opt-rr: PETALS placement, the exact myopic optimal routing (docs/simulator.md §2).
Capacity: M_j - s_m m_j for CG-BPRR sizing (the server keeps the rest for cache), PETALS's fixed pool
c_p m_j otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Optional

import numpy as np

from bpr.errors import BprInputError
from bpr.instance import Instance
from bpr.perf import Placement
from bpr.simulator import RoutingPolicy
from solvers import cg_bprr, petals
from solvers.design_load import design_R
from solvers.registry import Algorithm, Context, Kind, register
from solvers.routing import MyopicOptimal, PetalsMinLatency, WsRR


@dataclass(frozen=True)
class OnlineSetup:
    algorithm: str
    placement: Placement | None      # None: no placement could be made (see message)
    capacity: np.ndarray
    policy: RoutingPolicy
    info: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    runtime_s: float | None = None   # placement time, set by the runner


@dataclass
class ProposedOptions:
    design_R: Optional[int] = None   # R to place for; None: the robust choice of docs/model.md §7.3


def proposed(inst: Instance, opts: ProposedOptions, ctx: Context) -> OnlineSetup:
    """CG-BP placed for the robust design load, WS-RR routing (the paper's proposed system)."""
    R = design_R(inst) if opts.design_R is None else opts.design_R
    if R < 1:
        raise BprInputError(f"algorithm.proposed.design_R: expected an integer >= 1, got {R}")
    p = cg_bprr.plan(inst, R=R)
    capacity = np.array([s.M for s in inst.servers]) - inst.model.s_m * p.m
    return OnlineSetup("proposed", p.placement, capacity, WsRR(), {"design_R": R}, p.message)


def petals_variant(inst: Instance, opts: petals.Options, ctx: Context, *, variant: str, policy: type,
                   name: str) -> OnlineSetup:
    pl, sizing, _ = petals.place(inst, variant, ctx.seed, opts)
    message = petals.uncovered(inst, pl)
    return OnlineSetup(name, None if message else pl, sizing.pool, policy(), message=message)


register(Algorithm("proposed", Kind.ONLINE, proposed, ProposedOptions, ("design_R",),
                   summary="CG-BP for the robust design load, WS-RR routing"))
for _v in petals.VARIANTS:
    register(Algorithm(_v, Kind.ONLINE, partial(petals_variant, variant=_v, policy=PetalsMinLatency, name=_v),
                       petals.Options, summary=f"{_v} placement, PETALS min-latency routing"))
register(Algorithm("petals-opt-rr", Kind.ONLINE,
                   partial(petals_variant, variant="petals", policy=MyopicOptimal, name="petals-opt-rr"),
                   petals.Options, summary="PETALS placement, exact myopic optimal routing"))
