"""Exact brute-force BPRR optimum for tiny instances (tests only): every placement with m_j >= 1 (as the
paper's MILP), every chain per request, every memory-feasible assignment of chains to requests."""

from __future__ import annotations

import itertools
import math

import numpy as np

from bpr.instance import Instance
from bpr.perf import Placement, hop_blocks, link_cost


def chains(inst: Instance, pl: Placement, c: int) -> list[tuple[float, np.ndarray]]:
    """Every chain from block 1 to L+1 as (per-token cost, blocks per server)."""
    out: list[tuple[float, np.ndarray]] = []

    def walk(e: int, cost: float, load: np.ndarray) -> None:
        if e == inst.L + 1:
            out.append((cost, load.copy()))
            return
        for j in range(inst.n_servers):
            k = hop_blocks(e, int(pl.a[j]), int(pl.m[j]))
            if k:
                load[j] += k
                walk(e + k, cost + link_cost(inst, c, j, k), load)
                load[j] -= k

    walk(1, 0.0, np.zeros(inst.n_servers, dtype=int))
    return out


def optimum(inst: Instance) -> float | None:
    """Minimal average per-token time, or None when no placement and routing is feasible."""
    L, n = inst.L, inst.n_servers
    M = np.array([s.M for s in inst.servers])
    counts = inst.requests_per_client()
    ranges = [(a, m) for m in range(1, L + 1) for a in range(1, L - m + 2)]
    best = math.inf
    for choice in itertools.product(ranges, repeat=n):
        pl = Placement.of([a for a, _ in choice], [m for _, m in choice])
        room = M - inst.model.s_m * pl.m
        if np.any(room < -1e-12):
            continue
        per_client = [sorted(chains(inst, pl, c), key=lambda x: x[0]) for c in range(len(inst.clients))]
        if any(not ch and k for ch, k in zip(per_client, counts)):
            continue
        if sum(k * ch[0][0] for ch, k in zip(per_client, counts) if k) >= best:
            continue
        options = [itertools.combinations_with_replacement(ch, k) for ch, k in zip(per_client, counts)]
        for combo in itertools.product(*options):
            picked = [x for group in combo for x in group]
            cost = sum(x[0] for x in picked)
            if cost < best and np.all(inst.s_c * sum(x[1] for x in picked) <= room + 1e-12):
                best = cost
    return None if best == math.inf else best / inst.R
