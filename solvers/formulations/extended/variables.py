"""Index sets and variables of the extended formulation (docs/formulations.md §2).

Index sets (0 <= s < e <= L, window length e - s <= mbar_j = min(L, floor(M_j / s_m))):
- windows W, ``y[j,s,e]`` binary: server j hosts blocks s+1..e;
- arcs A, ``Y[j,b,e]`` = sum_{s <= b} y[j,s,e]: j's window ends at e and starts at or before block b+1;
- ``g[c,j,b,e]`` on the arcs, integer >= 0: requests of client c that enter j after block b and leave after
  block e.
A server may be restricted to some windows (``allowed``): the exact model on a neighbourhood, or with the
placement fixed. Its arcs are then the (b, e) with s <= b < e for an allowed window (s, e); a free server's
arcs are its windows (every entry point b with e - b <= mbar_j is itself a possible start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.perf import Placement, window_caps

Allowed = Mapping[int, Sequence[tuple[int, int]]]   # server -> the windows (s, e) it may take ([]: none)


@dataclass(frozen=True)
class Windows:
    """The index sets: ``mbar[j]``, the windows (j, s, e) with 1 <= e - s <= mbar[j] (only the allowed ones
    of a server in ``allowed``) and the arcs."""

    mbar: list[int]
    jse: list[tuple[int, int, int]]
    arcs: list[tuple[int, int, int]]

    @classmethod
    def of(cls, inst: Instance, allowed: Allowed | None = None) -> "Windows":
        mbar, allowed = window_caps(inst), allowed or {}
        jse = [(j, s, e) for j in range(inst.n_servers) for e in range(1, inst.L + 1)
               for s in range(max(0, e - mbar[j]), e) if j not in allowed]
        jse += [(j, s, e) for j, ws in allowed.items() for s, e in sorted(set(ws)) if _fits(inst, mbar[j], s, e)]
        first: dict[tuple[int, int], int] = {}
        for j, s, e in jse:
            first[(j, e)] = min(s, first.get((j, e), s))
        arcs = [(j, b, e) for (j, e), s in first.items() for b in range(s, e)]
        return cls(mbar, jse, sorted(arcs))

    def by_server(self, arcs: bool = False) -> dict[int, list[tuple[int, int, int]]]:
        """Windows (or arcs) per server."""
        out: dict[int, list[tuple[int, int, int]]] = {}
        for jse in self.arcs if arcs else self.jse:
            out.setdefault(jse[0], []).append(jse)
        return out


def _fits(inst: Instance, mbar: int, s: int, e: int) -> bool:
    return 0 <= s < e <= inst.L and e - s <= mbar


def count_windows(inst: Instance, allowed: Allowed | None = None) -> tuple[int, int]:
    """(windows, arcs) of ``Windows.of(inst, allowed)``, a free server's counted without listing them: with
    mbar_j it has L - w + 1 windows of each width w = 1..mbar_j, mbar_j (L + 1) - mbar_j (mbar_j + 1) / 2 in
    all, and as many arcs; a restricted one its allowed windows and, per window end, the entries from the
    earliest start."""
    allowed, mbar = allowed or {}, window_caps(inst)
    free = sum(m * (inst.L + 1) - m * (m + 1) // 2 for j, m in enumerate(mbar) if j not in allowed)
    windows, arcs = free, free
    for j, ws in allowed.items():
        first: dict[int, int] = {}
        for s, e in set(ws):
            if _fits(inst, mbar[j], s, e):
                windows += 1
                first[e] = min(s, first.get(e, s))
        arcs += sum(e - s for e, s in first.items())
    return windows, arcs


def identical_groups(inst: Instance) -> list[list[int]]:
    """Servers that no solution can tell apart (same memory, speeds and client round trips)."""
    groups: dict[tuple, list[int]] = {}
    for j, s in enumerate(inst.servers):
        key = (s.M, s.tau, s.tau_in, tuple(inst.t[:, j]), tuple(inst.t_in[:, j]))
        groups.setdefault(key, []).append(j)
    return [g for g in groups.values() if len(g) > 1]


def define_variables(model: pyo.ConcreteModel, inst: Instance, w: Windows) -> None:
    """The sets W (windows), A (arcs), C (clients), J (servers) and the variables y, Y, g."""
    model.W = pyo.Set(initialize=w.jse, dimen=3, ordered=True)
    model.A = pyo.Set(initialize=w.arcs, dimen=3, ordered=True)
    model.C = pyo.RangeSet(0, len(inst.clients) - 1)
    model.J = pyo.RangeSet(0, inst.n_servers - 1)
    model.y = pyo.Var(model.W, within=pyo.Binary)
    model.Y = pyo.Var(model.A, bounds=(0, 1))
    model.g = pyo.Var(model.C, model.A, within=pyo.NonNegativeIntegers)


def fixed_windows(pl: Placement) -> dict[int, list[tuple[int, int]]]:
    """Every server's window (s, e) = blocks s+1..e of the placement ``pl`` as the only one it may take ([]
    when it hosts nothing): the model restricted to the placement fixed."""
    return {j: [(int(pl.a[j]) - 1, int(pl.a[j] + pl.m[j]) - 1)] if pl.m[j] > 0 else [] for j in range(len(pl.m))}
