"""CG-BPRR, Algorithm 1 of the paper (docs/model.md §5): conservative sizing, greedy placement, shortest-path routing.

Also the Theorem 3.5 performance bound (eq. 17). Float ties in window sums are broken with a relative
tolerance (smallest start wins) so that equal windows summed in a different order compare equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from bpr.fields import integer
from bpr.hop_graph import DST, cheapest_route, hop_graph
from bpr.instance import Instance
from bpr.limits import MAX_R
from bpr.numeric import floor
from bpr.perf import Placement, link_cost
from bpr.solution import Solution, build, no_solution
from bpr.status import Termination
from solvers.framework.context import Context
from solvers.framework.registry import Kind, algorithm

NAME = "cg_bprr"
TIE_RTOL = 1e-12


@dataclass(frozen=True, eq=False)
class Plan:
    """Everything Algorithm 1 decides; ``routes`` holds one server chain per client (None if none)."""

    m: np.ndarray                 # blocks per server (step 1); 0 = too small, idle
    fbar: np.ndarray              # sessions each server can take (step 1)
    tt: np.ndarray                # amortised time per block (step 2); inf when idle
    placement: Placement | None   # None when infeasible
    routes: list[list[int] | None]
    message: str = ""


def conservative_sizing(inst: Instance, R: int) -> tuple[np.ndarray, np.ndarray]:
    """Step 1: m_j = min(floor(M_j / (s_m + s_c R)), L); fbar_j = floor((M_j - s_m m_j) / (s_c m_j))."""
    s_m, s_c, L = inst.model.s_m, inst.s_c, inst.L
    m = np.array([min(floor(s.M / (s_m + s_c * R)), L) for s in inst.servers], dtype=int)
    fbar = np.array([floor((s.M - s_m * mj) / (s_c * mj)) if mj > 0 else 0
                     for s, mj in zip(inst.servers, m)], dtype=int)
    return m, fbar


def amortised_times(inst: Instance, m: np.ndarray) -> np.ndarray:
    """tt_j = tau_j + t*_j / m_j with t*_j = max_c t[c][j] (step 2); inf for idle servers."""
    t_star = inst.t.max(axis=0)
    tau = np.array([s.tau for s in inst.servers])
    with np.errstate(divide="ignore"):
        return np.where(m > 0, tau + t_star / np.maximum(m, 1), np.inf)


def serving_order(tt: np.ndarray) -> list[int]:
    """Servers that host blocks, by increasing tt_j (ties: index)."""
    return sorted((j for j in range(len(tt)) if np.isfinite(tt[j])), key=lambda j: (tt[j], j))


def greedy_placement(inst: Instance, R: int, m: np.ndarray, fbar: np.ndarray, tt: np.ndarray) -> np.ndarray:
    """Step 2: each server, in tt order, takes the window of m_j blocks chosen by the T / C rules."""
    L = inst.L
    tt0 = float(np.max(tt[np.isfinite(tt)])) + 1.0
    C = np.zeros(L, dtype=int)
    T = np.full(L, R * tt0)
    a = np.zeros(len(m), dtype=int)
    for j in serving_order(tt):
        start = _window(C, T, int(m[j]), R)
        a[j] = start + 1
        window = slice(start, start + m[j])
        T[window] -= (tt0 - tt[j]) * np.minimum(np.maximum(R - C[window], 0), fbar[j])
        C[window] += fbar[j]
    return a


def _window(C: np.ndarray, T: np.ndarray, width: int, R: int) -> int:
    """0-based start: among windows holding a block with C_b < R the largest sum T_b; when every block
    has C_b >= R, the window whose sorted C is lexicographically smallest (smallest start on ties)."""
    starts = range(len(C) - width + 1)
    if np.any(C < R):
        sums = np.lib.stride_tricks.sliding_window_view(T, width).sum(axis=1)
        short = np.lib.stride_tricks.sliding_window_view(C < R, width).any(axis=1)
        best = max(sums[s] for s in starts if short[s])
        return next(s for s in starts if short[s] and sums[s] >= best - TIE_RTOL * abs(best))
    return min(starts, key=lambda s: (tuple(np.sort(C[s:s + width])), s))


def client_routes(inst: Instance, pl: Placement) -> list[list[int] | None]:
    """Step 3: per client, the shortest S-client -> D-client path with link costs t^c_ij."""
    g = hop_graph(inst.L, pl)
    routes = []
    for c in range(len(inst.clients)):
        best = cheapest_route(g, lambda u, v, k, c=c: 0.0 if v == DST else link_cost(inst, c, v, k))
        routes.append(None if best is None else best[1])
    return routes


def theorem_bound(inst: Instance, m: np.ndarray, tt: np.ndarray) -> float:
    """Eq. 17 (Theorem 3.5): sum_{j<=K} tt_j m_j - tau_K (sum_{j<=K} m_j - L), K the shortest tt-prefix
    covering L blocks; an upper bound on CG-BPRR's average per-token time. inf when no prefix covers."""
    total, acc = 0, 0.0
    for j in serving_order(tt):
        total += int(m[j])
        acc += float(tt[j]) * int(m[j])
        if total >= inst.L:
            return acc - inst.servers[j].tau * (total - inst.L)
    return math.inf


def plan(inst: Instance, R: int | None = None) -> Plan:
    """Run steps 1-3 for design load R (default: the instance's R)."""
    R = inst.R if R is None else R
    m, fbar = conservative_sizing(inst, R)
    tt = amortised_times(inst, m)
    if m.sum() < inst.L:
        return Plan(m, fbar, tt, None, [], _shortfall(inst, R, m))
    pl = Placement(greedy_placement(inst, R, m, fbar, tt), m)
    return Plan(m, fbar, tt, pl, client_routes(inst, pl))


def _shortfall(inst: Instance, R: int, m: np.ndarray) -> str:
    per_block = inst.model.s_m + inst.s_c * R
    total = sum(s.M for s in inst.servers)
    return (f"infeasible: conservative sizing fits sum m_j = {int(m.sum())} < L = {inst.L} blocks "
            f"(R = {R}, s_m + s_c*R = {per_block:.4f} GB per block); short by {inst.L - int(m.sum())} blocks; "
            f"the model needs at least {inst.L * per_block:.2f} GB, the servers have {total:.2f} GB")


@dataclass
class Options:
    design_R: Optional[int] = None    # R that steps 1-2 size and place for; None: the instance's R

    def __post_init__(self) -> None:
        if self.design_R is not None:
            integer(self.design_R, f"algorithm.{NAME}.design_R", lo=1, hi=MAX_R)


@algorithm(NAME, Kind.SOLUTION, options=Options, columns=("guarantee_s", "design_R"))
def solve(inst: Instance, opts: Options, ctx: Context) -> Solution:
    """CG-BPRR (Algorithm 1): conservative sizing, greedy placement, shortest-path routing; deterministic."""
    R = inst.R if opts.design_R is None else opts.design_R
    p = plan(inst, R)
    bound = theorem_bound(inst, p.m, p.tt)
    info = {"guarantee_s": bound if math.isfinite(bound) else None, "design_R": R}
    if p.placement is None:
        return no_solution(inst, NAME, Termination.INFEASIBLE, p.message, info)
    chains = [p.routes[c] for c in inst.request_clients()]
    if any(ch is None for ch in chains):
        return no_solution(inst, NAME, Termination.INFEASIBLE, "placement leaves some client without a route",
                           info)
    return build(inst, NAME, p.placement.a, p.placement.m, chains, info)
