"""Performance model of docs/model.md §2: feasible hops, k_ij, link cost, memory use and service times.

Blocks are 1-based. A route position ``e`` is the next block a request needs (1 at the client's start,
L+1 when done); server j holding a_j..a_j+m_j-1 ends at ``a_j + m_j``. The client is block 0 / L+1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from bpr.instance import Instance
from bpr.numeric import floor


@dataclass(frozen=True, eq=False)
class Placement:
    """Per-server arrays (0-based server index): first block ``a`` and count ``m`` (0 = hosts nothing)."""

    a: np.ndarray
    m: np.ndarray

    @classmethod
    def of(cls, a: Sequence[int], m: Sequence[int]) -> "Placement":
        return cls(np.asarray(a, dtype=int), np.asarray(m, dtype=int))

    @property
    def end(self) -> np.ndarray:
        """a_j + m_j: the block a request needs after server j."""
        return self.a + self.m

    def hosts(self, j: int) -> bool:
        return bool(self.m[j] > 0)


def hop_blocks(e: int, a_j: int, m_j: int) -> int:
    """k_ij for a hop from position e into server j: a_j + m_j - e if a_j <= e <= a_j + m_j - 1, else 0."""
    return a_j + m_j - e if m_j > 0 and a_j <= e <= a_j + m_j - 1 else 0


def route_blocks(L: int, pl: Placement, route: Sequence[int]) -> list[int] | None:
    """k_j of every hop of a route, or None when some hop is infeasible or the chain does not reach L+1."""
    e, ks = 1, []
    for j in route:
        k = hop_blocks(e, int(pl.a[j]), int(pl.m[j]))
        if k == 0:
            return None
        ks.append(k)
        e += k
    return ks if e == L + 1 else None


def link_cost(inst: Instance, c: int, j: int, k: int) -> float:
    """Per-token cost t^c_ij = t[c][j] + tau_j * k_ij of entering server j for k blocks (docs/model.md §2)."""
    return float(inst.t[c, j]) + inst.servers[j].tau * k


def per_token_time(inst: Instance, c: int, route: Sequence[int], ks: Sequence[int]) -> float:
    """Sum of link costs on a route: the time per generated token."""
    return sum(link_cost(inst, c, j, k) for j, k in zip(route, ks))


def offline_time(inst: Instance, c: int, route: Sequence[int], ks: Sequence[int], l_in: int | None = None,
                 l_out: int | None = None) -> float:
    """Offline service time D = l_out * sum t^c_ij (docs/model.md §2, the MILP's cost)."""
    return (inst.workload.l_out if l_out is None else l_out) * per_token_time(inst, c, route, ks)


def first_token_time(inst: Instance, c: int, route: Sequence[int], ks: Sequence[int], l_in: int | None = None) -> float:
    """initial_delay + sum_j [t_in[c][j] + k_j tau_in_j] (docs/model.md §2, TTFT without waiting); for a
    request with its own prompt of l_in tokens, t_in and tau_in move by their per-token slopes."""
    if l_in is None or l_in == inst.workload.l_in:
        return inst.initial_delay + sum(float(inst.t_in[c, j]) + k * inst.servers[j].tau_in for j, k in zip(route, ks))
    more = l_in - inst.workload.l_in
    return inst.initial_delay + sum(float(inst.t_in[c, j]) + inst.t_in_per_token * more
                                    + k * (inst.servers[j].tau_in + inst.servers[j].tau_in_per_token * more)
                                    for j, k in zip(route, ks))


def full_time(inst: Instance, c: int, route: Sequence[int], ks: Sequence[int], l_in: int | None = None,
              l_out: int | None = None) -> float:
    """Full service time of eq. 1: first token plus (l_out - 1) decode steps (docs/model.md §2); with a
    request's own token counts when given."""
    decode = (inst.workload.l_out if l_out is None else l_out) - 1
    return first_token_time(inst, c, route, ks, l_in) + decode * per_token_time(inst, c, route, ks)


def window_cap(inst: Instance, j: int) -> int:
    """mbar_j = min(L, floor(M_j / s_m)): the most blocks server j can host (eq. 2 with no cache)."""
    return min(inst.L, floor(inst.servers[j].M / inst.model.s_m))


def window_caps(inst: Instance) -> list[int]:
    return [window_cap(inst, j) for j in range(inst.n_servers)]


def memory_use(inst: Instance, pl: Placement, loads: np.ndarray) -> np.ndarray:
    """s_m m_j + s_c * sum_r k^r_j per server (eq. 2); ``loads[j]`` = sum of k^r_j over requests."""
    return inst.model.s_m * pl.m + inst.s_c * loads
