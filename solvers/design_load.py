"""Design load R (SPEC 7.3) and the largest design load R_max (eq. 19)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from bpr.instance import Instance
from bpr.perf import full_time, route_blocks
from bpr.scenarios import generate
from solvers import cg_bprr


def r_max(inst: Instance) -> int:
    """Eq. 19: floor((sum_j M_j - s_m (L + |V_s|)) / (s_c (L + |V_s|)))."""
    n = inst.L + inst.n_servers
    return math.floor((sum(s.M for s in inst.servers) - inst.model.s_m * n) / (inst.s_c * n) + cg_bprr.FLOOR_EPS)


def single_request_time(inst: Instance) -> float | None:
    """T_hat: full service time (eq. 1) of one request under CG-BPRR with R = 1, share-weighted over
    clients (SPEC 7.3 speaks of one client; with several we average by share). None if R = 1 is infeasible."""
    p = cg_bprr.plan(inst, R=1)
    if p.placement is None or any(r is None for r in p.routes):
        return None
    return sum(c.share * full_time(inst, k, p.routes[k], route_blocks(inst.L, p.placement, p.routes[k]))
               for k, c in enumerate(inst.clients))


def design_R(inst: Instance) -> int:
    """R = min(round(lambda T_hat + sqrt(lambda T_hat)), R_max), at least 1 (SPEC 7.3)."""
    t_hat = single_request_time(inst)
    if t_hat is None:
        return 1
    load = inst.workload.arrival_rate * t_hat
    return max(1, min(math.floor(load + math.sqrt(load) + 0.5), r_max(inst)))


def with_R(inst: Instance, R: int) -> Instance:
    return dataclasses.replace(inst, workload=dataclasses.replace(inst.workload, R=R))


def make_instance(name: str, seed: int = 0, overrides: dict[str, Any] | None = None) -> Instance:
    """Generate a named scenario; when ``workload.R`` is not given, R follows SPEC 7.3."""
    inst = generate(name, seed, overrides)
    return with_R(inst, design_R(inst)) if inst.extra.get("R_rule") == "spec-7.3" else inst
