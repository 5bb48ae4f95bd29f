"""The PETALS heuristics as the paper models them (docs/model.md §6), and the ablations opt-number and opt-order.

Placement: PETALS sizes each server for a fixed cache pool, servers join one by one (seeded random order)
and each takes the window whose sorted per-block throughputs are lexicographically smallest, leftmost on
ties (as ``petals/server/block_selection.py::_choose_best_start``). Routing: min-latency Dijkstra over the
hop graph, requests one by one, each consuming cache from the servers' pools, +penalty where a pool is short.

Client legs are priced with t[c][j] / 2 instead of raw RTT / 2: every route has exactly one first and one
last client leg, so a per-client constant overhead in t shifts all routes equally and leaves the choice
unchanged (the instance file does not keep raw client RTTs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from bpr.errors import BprInputError, unknown
from bpr.fields import integer
from bpr.hop_graph import DST, SRC, HopCost, cheapest_route, hop_graph
from bpr.instance import Instance
from bpr.limits import MAX_TOKENS
from bpr.numeric import floor
from bpr.perf import Placement, route_blocks
from bpr.profiles import petals_constants
from bpr.solution import Solution, build, no_solution
from bpr.status import Termination
from solvers.algorithms import cg_bprr
from solvers.framework.context import Context
from solvers.framework.registry import Kind, algorithm

GIB = 1.073741824  # GB per GiB

VARIANTS = ("petals", "petals-opt-number", "petals-opt-order")


@dataclass
class Options:
    """Shared by the offline and online PETALS variants."""

    attn_cache_tokens: Optional[int] = None   # cache pool per block in tokens; None: instances/profiles/petals.yaml

    def __post_init__(self) -> None:
        if self.attn_cache_tokens is not None:
            integer(self.attn_cache_tokens, "algorithm.petals.attn_cache_tokens", lo=1, hi=MAX_TOKENS)


@dataclass(frozen=True, eq=False)
class Sizing:
    m: np.ndarray        # blocks per server
    pool: np.ndarray     # cache pool per server in GB (what routing may consume)


def cache_per_block(inst: Instance, tokens: int | None = None) -> float:
    """c_p = 2 * d_model * attn_cache_tokens * 2 / g / 1e9 GB (4096 tokens, 16384 when g > 1)."""
    k = petals_constants()
    if tokens is None:
        tokens = k.attn_cache_tokens if inst.model.kv_groups == 1 else k.attn_cache_tokens_grouped
    return 2 * inst.model.d_model * tokens * 2 / inst.model.kv_groups / 1e9


def petals_sizing(inst: Instance, tokens: int | None = None) -> Sizing:
    """m_j = min(L, floor((M_j - A) / (s_m + c_p))), A = 2 GiB * d_model / 14336; pool = c_p * m_j."""
    k = petals_constants()
    reserved = k.reserved_gib_per_14336_dmodel * GIB * inst.model.d_model / 14336
    c_p = cache_per_block(inst, tokens)
    m = np.array([max(0, min(inst.L, floor((s.M - reserved) / (inst.model.s_m + c_p))))
                  for s in inst.servers], dtype=int)
    return Sizing(m, c_p * m)


def cg_sizing(inst: Instance) -> Sizing:
    """opt-number: m_j from CG-BPRR step 1; the server keeps the rest of its memory for cache."""
    m, _ = cg_bprr.conservative_sizing(inst, inst.R)
    return Sizing(m, np.array([s.M for s in inst.servers]) - inst.model.s_m * m)


def throughputs(inst: Instance, m: np.ndarray) -> np.ndarray:
    """T_j = min(forward_rps * 2 / (m_j + 1), network_rps) (docs/model.md §6)."""
    out = np.zeros(len(m))
    for j, s in enumerate(inst.servers):
        if s.forward_rps is None or s.network_rps is None:
            raise BprInputError(f"servers[{j}] ({s.id}): PETALS needs forward_rps and network_rps")
        out[j] = min(s.forward_rps * 2 / (m[j] + 1), s.network_rps)
    return out


def choose_blocks(L: int, m: np.ndarray, T: np.ndarray, order: list[int]) -> np.ndarray:
    """Servers join in ``order``; each takes the lexicographically smallest sorted throughput window."""
    block_tp = np.zeros(L)
    a = np.zeros(len(m), dtype=int)
    for j in order:
        if m[j] == 0:
            continue
        width = int(m[j])
        start = min(range(L - width + 1), key=lambda s: (tuple(np.sort(block_tp[s:s + width])), s))
        a[j] = start + 1
        block_tp[start:start + width] += T[j]
    return a


def join_order(inst: Instance, variant: str, m: np.ndarray, seed: int) -> list[int]:
    """Seeded random order; opt-order joins in increasing tt_j (CG-BPRR's amortised time, with these m_j)."""
    if variant == "petals-opt-order":
        return cg_bprr.serving_order(cg_bprr.amortised_times(inst, m))
    return [int(j) for j in np.random.default_rng(seed).permutation(inst.n_servers)]


def min_latency_cost(inst: Instance, c: int, short: Callable[[int], bool]) -> HopCost:
    """PETALS hop prices for client c (docs/model.md §6): client legs t/2, server legs rtt_ss/2, + 0.018 s per hop
    into a server, + penalty when that server's pool is ``short``, + tau per block."""
    k = petals_constants()

    def cost(u, v, blocks):
        if v == DST:
            return float(inst.t[c, u]) / 2
        leg = float(inst.t[c, v]) / 2 if u == SRC else float(inst.rtt_ss[u, v]) / 2
        return leg + k.hop_overhead_s + (k.cache_penalty_s if short(v) else 0.0) + inst.servers[v].tau * blocks

    return cost


def route_requests(inst: Instance, pl: Placement, pool: np.ndarray) -> list[list[int]] | None:
    """Min-latency routing of requests 0..R-1 in order; each consumes s_c * k_j from every pool it uses.
    A hop into server j pays the penalty when j's free pool < s_c * m_j (its whole range)."""
    g = hop_graph(inst.L, pl)
    free = pool.astype(float).copy()
    need = inst.s_c * pl.m
    chains = []
    for c in inst.request_clients():
        best = cheapest_route(g, min_latency_cost(inst, c, lambda v: free[v] < need[v]))
        if best is None:
            return None
        chain = best[1]
        for j, kj in zip(chain, route_blocks(inst.L, pl, chain)):
            free[j] -= inst.s_c * kj
        chains.append(chain)
    return chains


def place(inst: Instance, variant: str, seed: int, opts: Options = Options()
          ) -> tuple[Placement, Sizing, list[int]]:
    """Placement of a PETALS variant, its sizing (cache pools) and the join order used."""
    if variant not in VARIANTS:
        raise unknown("PETALS variant", variant, VARIANTS)
    sizing = cg_sizing(inst) if variant == "petals-opt-number" else petals_sizing(inst, opts.attn_cache_tokens)
    order = join_order(inst, variant, sizing.m, seed)
    return Placement(choose_blocks(inst.L, sizing.m, throughputs(inst, sizing.m), order), sizing.m), sizing, order


def uncovered(inst: Instance, pl: Placement) -> str:
    """The message for a placement that leaves blocks on no server ("" when every block is hosted)."""
    covered = np.zeros(inst.L + 2, dtype=bool)
    for j in np.flatnonzero(pl.m):
        covered[pl.a[j]:pl.end[j]] = True
    missing = inst.L - int(covered[1:inst.L + 1].sum())
    return "" if not missing else (f"infeasible: the placement leaves {missing} of {inst.L} blocks on no server "
                                   f"(sum m_j = {int(pl.m.sum())} < L = {inst.L})")


@algorithm("petals", Kind.SOLUTION, options=Options)
@algorithm("petals-opt-number", Kind.SOLUTION, options=Options)
@algorithm("petals-opt-order", Kind.SOLUTION, options=Options)
def solve(inst: Instance, opts: Options, ctx: Context) -> Solution:
    """PETALS as the paper models it (docs/model.md §6), in the variant the algorithm is named after.

    petals: its own sizing; opt-number: CG-BPRR's blocks per server; opt-order: servers join in CG-BPRR's
    order. Then the seeded join order and min-latency routing with the cache penalty."""
    variant = ctx.algorithm
    pl, sizing, order = place(inst, variant, ctx.seed, opts)
    chains = route_requests(inst, pl, sizing.pool)
    info = {"join_order": [inst.servers[j].id for j in order]}
    if chains is None:
        return no_solution(inst, variant, Termination.INFEASIBLE, uncovered(inst, pl), info)
    return build(inst, variant, pl.a, pl.m, chains, info)

