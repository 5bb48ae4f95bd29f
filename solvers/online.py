"""Online algorithms of the paper's evaluation (SPEC 7): a placement, the cache capacity each server
offers, and a routing policy for the simulator.

- proposed: CG-BP placement for the robust design load R of SPEC 7.3, WS-RR routing.
- petals, petals-opt-number, petals-opt-order: the PETALS placements, PETALS min-latency routing.
- petals-opt-rr: PETALS placement, the exact myopic optimal routing of SPEC 7.2.
Capacity: M_j - s_m m_j for CG-BPRR sizing (the server keeps the rest for cache), PETALS's fixed pool
c_p m_j otherwise (SPEC 7.1).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from bpr.errors import BprInputError
from bpr.instance import Instance
from bpr.perf import Placement
from bpr.simulator import RoutingPolicy
from solvers import cg_bprr, petals
from solvers.design_load import design_R
from solvers.routing import MyopicOptimal, PetalsMinLatency, WsRR


@dataclass
class OnlineSetup:
    algorithm: str
    placement: Placement | None      # None: no placement could be made (see message)
    capacity: np.ndarray
    policy: RoutingPolicy
    place_runtime_s: float
    info: dict[str, Any]
    message: str = ""


def proposed(inst: Instance, seed: int) -> OnlineSetup:
    del seed  # deterministic
    start = time.perf_counter()
    R = design_R(inst)
    p = cg_bprr.plan(inst, R=R)
    runtime = time.perf_counter() - start
    capacity = np.array([s.M for s in inst.servers]) - inst.model.s_m * p.m
    return OnlineSetup("proposed", p.placement, capacity, WsRR(), runtime, {"design_R": R}, p.message)


def petals_variant(inst: Instance, seed: int, *, variant: str, policy: type, name: str) -> OnlineSetup:
    start = time.perf_counter()
    pl, sizing, _ = petals.place(inst, variant, seed)
    runtime = time.perf_counter() - start
    return OnlineSetup(name, pl, sizing.pool, policy(), runtime, {})


ONLINE_ALGORITHMS = {
    "proposed": proposed,
    **{v: partial(petals_variant, variant=v, policy=PetalsMinLatency, name=v) for v in petals.VARIANTS},
    "petals-opt-rr": partial(petals_variant, variant="petals", policy=MyopicOptimal, name="petals-opt-rr"),
}


def setup(name: str, inst: Instance, seed: int) -> OnlineSetup:
    if name not in ONLINE_ALGORITHMS:
        raise BprInputError(f"unknown online algorithm '{name}'; known: {', '.join(ONLINE_ALGORITHMS)}")
    return ONLINE_ALGORITHMS[name](inst, seed)
