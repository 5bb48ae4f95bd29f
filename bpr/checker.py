"""The one checker for every algorithm's output (docs/model.md §3): lists every independent violation once,
never stops at the first, and never lists the consequences of one (a route through a server whose range is
already wrong is not judged again; a solution for another instance is that one violation)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpr.instance import Instance
from bpr.perf import Placement, hop_blocks, memory_use
from bpr.solution import Solution

# Relative slack on memory: JSON round trips and sums of floats must not turn equality into a violation.
MEMORY_RTOL = 1e-9


@dataclass(frozen=True)
class Violation:
    """``kind`` is one of: instance, server, range, request, route, gap, hop, coverage, memory."""

    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True, eq=False)
class CheckReport:
    violations: tuple[Violation, ...]
    placement: Placement
    loads: np.ndarray            # sum over requests of k^r_j, from the feasible part of every route
    memory: np.ndarray           # s_m m_j + s_c loads_j

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def structural(self) -> bool:
        """True when placement and routes are sound (memory may still be over): costs are defined."""
        return all(v.kind == "memory" for v in self.violations)

    def summary(self, limit: int = 3) -> str:
        if self.feasible:
            return "feasible"
        kinds: dict[str, int] = {}
        for v in self.violations:
            kinds[v.kind] = kinds.get(v.kind, 0) + 1
        head = "; ".join(str(v) for v in self.violations[:limit])
        counts = ", ".join(f"{n} {k}" for k, n in kinds.items())
        return f"{counts} violation(s): {head}" + (" ..." if len(self.violations) > limit else "")


def check(inst: Instance, sol: Solution) -> CheckReport:
    if sol.instance != inst.name:
        empty = np.zeros(inst.n_servers, dtype=int)
        return CheckReport((Violation("instance", f"the solution is for instance '{sol.instance}', not "
                                                  f"'{inst.name}'"),), Placement(empty, empty), empty, empty * 0.0)
    out: list[Violation] = []
    pl, invalid = _placement(inst, sol, out)
    loads = _routes(inst, sol, pl, invalid, out)
    memory = memory_use(inst, pl, loads)
    for j, s in enumerate(inst.servers):
        if memory[j] > s.M * (1 + MEMORY_RTOL):
            out.append(Violation("memory", f"server {s.id} needs {memory[j]:.4f} GB > M = {s.M:.4f} GB "
                                           f"({pl.m[j]} blocks, {loads[j]} request-blocks of cache)"))
    return CheckReport(tuple(out), pl, loads, memory)


def _placement(inst: Instance, sol: Solution, out: list[Violation]) -> tuple[Placement, set[int]]:
    """The placement, and the servers whose entry is wrong (their routes are not judged again)."""
    index = inst.server_index()
    a = np.zeros(inst.n_servers, dtype=int)
    m = np.zeros(inst.n_servers, dtype=int)
    seen: set[str] = set()
    invalid: set[int] = set()
    L = inst.L
    for p in sol.placement:
        if p.server not in index:
            out.append(Violation("server", f"placement names unknown server '{p.server}'"))
            continue
        if p.server in seen:
            out.append(Violation("server", f"server {p.server} is placed twice"))
            continue
        seen.add(p.server)
        if p.num_blocks == 0:
            if p.first_block is not None:
                invalid.add(index[p.server])
                out.append(Violation("range", f"server {p.server}: num_blocks 0 (idle) with first_block "
                                              f"{p.first_block}; an idle server has first_block null"))
            continue
        first, last = p.first_block, (p.first_block or 0) + p.num_blocks - 1
        if p.num_blocks < 0 or first is None or first < 1 or last > L:
            invalid.add(index[p.server])
            out.append(Violation("range", f"server {p.server}: blocks {first}..{last} not inside 1..{L} "
                                          f"(first_block {first}, num_blocks {p.num_blocks})"))
            continue
        a[index[p.server]], m[index[p.server]] = first, p.num_blocks
    return Placement(a, m), invalid


def _routes(inst: Instance, sol: Solution, pl: Placement, invalid: set[int], out: list[Violation]) -> np.ndarray:
    index, owners = inst.server_index(), inst.request_clients()
    loads = np.zeros(inst.n_servers, dtype=int)
    seen: set[int] = set()
    for route in sol.routes:
        r = route.request
        if not 0 <= r < inst.R or r in seen:
            out.append(Violation("request", f"route for request {r}: " +
                                 ("duplicate" if r in seen else f"not in 0..{inst.R - 1}")))
            continue
        seen.add(r)
        expected = inst.clients[owners[r]].id
        if route.client != expected:
            out.append(Violation("request", f"request {r} belongs to client {expected}, route says {route.client}"))
        _walk(inst, route, pl, index, invalid, loads, out)
    missing = sorted(set(range(inst.R)) - seen)
    if missing:
        out.append(Violation("request", f"{len(missing)} request(s) have no route, first {missing[:5]}"))
    return loads


def _walk(inst: Instance, route, pl: Placement, index: dict[str, int], invalid: set[int], loads: np.ndarray,
          out: list[Violation]) -> None:
    """Follow one route from block 1 and record every problem of it: after a bad hop the walk goes on from
    where the request stands (after a gap, from the server's first block), so each problem is named once.
    Loads count only feasible hops."""
    e, r, L = 1, route.request, inst.L
    for sid in route.servers:
        if sid not in index:
            out.append(Violation("route", f"request {r}: unknown server '{sid}'"))
            continue
        j = index[sid]
        if j in invalid:  # its range is already a violation; what follows on this route depends on it
            return
        a_j, m_j = int(pl.a[j]), int(pl.m[j])
        if m_j == 0:
            out.append(Violation("route", f"request {r}: server {sid} hosts no block"))
            continue
        if a_j > e:
            out.append(Violation("gap", f"request {r}: blocks {e}..{a_j - 1} skipped before server {sid}"))
            e = a_j
        k = hop_blocks(e, a_j, m_j)
        if k == 0:
            out.append(Violation("hop", f"request {r}: server {sid} holds {a_j}..{a_j + m_j - 1}, "
                                        f"cannot continue at block {e}"))
            continue
        loads[j] += k
        e += k
    if e != L + 1:
        out.append(Violation("coverage", f"request {r}: route ends after block {e - 1}, not {L}"))
