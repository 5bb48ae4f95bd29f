"""Choosing R, an explicit step (docs/model.md §7.3): a drawn scenario and the workload's R, or the robust
design rule, give the final instance. Also the largest design load R_max (the paper's eq. 19)."""

from __future__ import annotations

import math

from bpr.fields import integer
from bpr.instance import Instance
from bpr.limits import MAX_R
from bpr.numeric import FLOOR_EPS
from bpr.perf import full_time, route_blocks
from bpr.scenarios import Scenario
from solvers.algorithms import cg_bprr

GIVEN, ROBUST = "given", "spec-7.3"     # the rules, as recorded in an instance's R_rule


def r_max(inst: Instance) -> int:
    """Eq. 19: floor((sum_j M_j - s_m (L + |V_s|)) / (s_c (L + |V_s|)))."""
    n = inst.L + inst.n_servers
    return math.floor((sum(s.M for s in inst.servers) - inst.model.s_m * n) / (inst.s_c * n) + FLOOR_EPS)


def single_request_time(inst: Instance) -> float | None:
    """T_hat: full service time (eq. 1) of one request under CG-BPRR with R = 1, share-weighted over
    clients (§7.3 speaks of one client; with several we average by share). None if R = 1 is infeasible."""
    p = cg_bprr.plan(inst, R=1)
    if p.placement is None or any(r is None for r in p.routes):
        return None
    return sum(c.share * full_time(inst, k, p.routes[k], route_blocks(inst.L, p.placement, p.routes[k]))
               for k, c in enumerate(inst.clients))


def design_R(inst: Instance) -> int:
    """R = min(round(lambda T_hat + sqrt(lambda T_hat)), R_max), at least 1 (§7.3)."""
    t_hat = single_request_time(inst)
    if t_hat is None:
        return 1
    load = inst.workload.arrival_rate * t_hat
    return max(1, min(math.floor(load + math.sqrt(load) + 0.5), r_max(inst)))


def choose_R(scenario: Scenario, R: int | None = None) -> Instance:
    """The final instance of a scenario: with the given R, or (R None) with the robust R of §7.3."""
    if R is not None:
        return scenario.with_R(integer(R, "workload.R", lo=1, hi=MAX_R), GIVEN)
    return scenario.with_R(design_R(scenario.single), ROBUST)
