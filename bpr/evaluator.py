"""The one evaluator (docs/model.md §2-3): cost of any structurally sound solution, whatever algorithm made it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpr.checker import CheckReport, check
from bpr.instance import Instance
from bpr.perf import full_time, offline_time, route_blocks
from bpr.solution import Solution


class UnsoundSolution(Exception):
    """Placement or routes are broken, so costs are undefined; carries the checker's report."""

    def __init__(self, report: CheckReport):
        super().__init__(report.summary())
        self.report = report


@dataclass(frozen=True, eq=False)
class Evaluation:
    per_token_s: float              # sum_r D_r / (R * l_out), docs/model.md §3
    offline_s: np.ndarray           # D_r = l_out * sum t^c_ij per request
    full_s: np.ndarray              # eq. 1 per request, no waiting
    report: CheckReport

    @property
    def feasible(self) -> bool:
        return self.report.feasible


def evaluate(inst: Instance, sol: Solution, report: CheckReport | None = None) -> Evaluation:
    """Costs of every request; memory violations are reported, not hidden, and do not stop the evaluation."""
    report = report or check(inst, sol)
    if not report.structural:
        raise UnsoundSolution(report)
    index, cidx = inst.server_index(), inst.client_index()
    offline = np.zeros(inst.R)
    full = np.zeros(inst.R)
    for route in sol.routes:
        chain = [index[s] for s in route.servers]
        ks = route_blocks(inst.L, report.placement, chain)
        c = cidx[route.client]
        offline[route.request] = offline_time(inst, c, chain, ks)
        full[route.request] = full_time(inst, c, chain, ks)
    per_token = float(offline.sum() / (inst.R * inst.workload.l_out))
    return Evaluation(per_token, offline, full, report)
