"""The simulator's memory grade (docs/simulator.md §7): what every server holds at every instant of a
simulated run, derived from the placement and M alone, never from the capacities or slots an online
algorithm declares.

Each served request holds cache on the servers of its route over an interval (its reservation on the
timeline; its slot under JFFC). Server j holds s_m m_j GB of blocks for good (docs/model.md eq. 2), so at
every instant the caches in use may take at most M_j - s_m m_j. ``audit`` sweeps each server's holds in time
order (a release before a hold at the same instant) and reports every server's peak and the first instant
at which some server holds more than its memory: the run is then ``infeasible``, as the checker says of an
offline solution that overfills a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from bpr.checker import MEMORY_RTOL
from bpr.instance import Instance
from bpr.perf import Placement


class Holds:
    """The cache holds of a run: per served request the servers of its route with the blocks it processes on
    each, its cache per block (GB) and the interval it holds them over."""

    def __init__(self) -> None:
        self.server: list[int] = []         # per hop
        self.blocks: list[int] = []         # per hop
        self.hops: list[int] = []           # per request
        self.gb_per_block: list[float] = []
        self.start: list[float] = []
        self.end: list[float] = []

    def add(self, servers: Sequence[int], blocks: Sequence[int], gb_per_block: float, start: float, end: float
            ) -> None:
        self.server.extend(servers)
        self.blocks.extend(blocks)
        self.hops.append(len(servers))
        self.gb_per_block.append(gb_per_block)
        self.start.append(start)
        self.end.append(end)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(server, GB, from, until) per hop."""
        hops = np.asarray(self.hops, dtype=int)
        per_request = [np.repeat(np.asarray(x, dtype=float), hops) for x in (self.gb_per_block, self.start, self.end)]
        return (np.asarray(self.server, dtype=int), np.asarray(self.blocks, dtype=float) * per_request[0],
                per_request[1], per_request[2])


@dataclass(frozen=True)
class Overflow:
    """The first instant at which a server holds more than its memory."""

    server: str
    time_s: float
    used_gb: float        # blocks and caches
    blocks_gb: float
    memory_gb: float

    def __str__(self) -> str:
        return (f"memory exceeded: server {self.server} holds {self.used_gb:.3f} GB at t = {self.time_s:.3f} s "
                f"({self.blocks_gb:.3f} GB of blocks + {self.used_gb - self.blocks_gb:.3f} GB of caches) > "
                f"M = {self.memory_gb:.3f} GB")


@dataclass(frozen=True)
class MemoryAudit:
    peak_cache_gb: np.ndarray          # per server: the most cache it held at once
    peak_share: float                  # max_j (s_m m_j + peak cache_j) / M_j
    overflow: Overflow | None          # None: every server fits its memory at every instant


def audit(inst: Instance, pl: Placement, holds: Holds) -> MemoryAudit:
    """Every server's peak and the first overflow of ``holds`` on placement ``pl`` (module docstring)."""
    n = inst.n_servers
    memory = np.array([s.M for s in inst.servers])
    blocks = inst.model.s_m * pl.m
    server, gb, start, end = holds.arrays()
    held = end > start
    server, gb, start, end = server[held], gb[held], start[held], end[held]
    peak = np.zeros(n)
    overflow = None
    if len(server):
        servers = np.concatenate([server, server])
        times = np.concatenate([start, end])
        delta = np.concatenate([gb, -gb])
        order = np.lexsort((delta > 0, times, servers))      # by server, time, releases first
        servers, times, delta = servers[order], times[order], delta[order]
        first = np.flatnonzero(np.r_[True, servers[1:] != servers[:-1]])
        usage = np.cumsum(delta)
        usage -= np.repeat(usage[first] - delta[first], np.diff(np.r_[first, len(usage)]))
        np.maximum.at(peak, servers, usage)
        over = np.flatnonzero(usage + blocks[servers] > memory[servers] * (1 + MEMORY_RTOL))
        if len(over):
            k = over[np.argmin(times[over])]
            j = int(servers[k])
            overflow = Overflow(inst.servers[j].id, float(times[k]), float(usage[k] + blocks[j]), float(blocks[j]),
                                float(memory[j]))
    if overflow is None and (blocks > memory * (1 + MEMORY_RTOL)).any():   # the blocks alone overfill a server
        j = int(np.argmax(blocks / memory))
        overflow = Overflow(inst.servers[j].id, 0.0, float(blocks[j]), float(blocks[j]), float(memory[j]))
    return MemoryAudit(peak, float(np.max((blocks + peak) / memory)), overflow)
