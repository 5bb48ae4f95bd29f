"""Index sets and variables of the extended formulation (docs/formulations.md §2).

Index sets (0 <= s < e <= L, window length e - s <= mbar_j = min(L, floor(M_j / s_m))):
- ``y[j,s,e]`` binary: server j hosts blocks s+1..e;
- ``Y[j,b,e]`` = sum_{s <= b} y[j,s,e]: j's window ends at e and starts at or before block b+1;
- ``g[c,j,b,e]`` integer >= 0: requests of client c that enter j after block b and leave after block e.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.perf import window_caps


@dataclass(frozen=True)
class Windows:
    """The index sets: ``mbar[j]`` and every (j, s, e) with 1 <= e - s <= mbar[j]."""

    mbar: list[int]
    jse: list[tuple[int, int, int]]

    @classmethod
    def of(cls, inst: Instance) -> "Windows":
        mbar = window_caps(inst)
        jse = [(j, s, e) for j in range(inst.n_servers) for e in range(1, inst.L + 1)
               for s in range(max(0, e - mbar[j]), e)]
        return cls(mbar, jse)

    def by_server(self) -> dict[int, list[tuple[int, int, int]]]:
        out: dict[int, list[tuple[int, int, int]]] = {}
        for jse in self.jse:
            out.setdefault(jse[0], []).append(jse)
        return out


def count_windows(inst: Instance) -> int:
    """len(Windows.of(inst).jse) without listing them: a server with mbar_j has L - w + 1 windows of each
    width w = 1..mbar_j, mbar_j (L + 1) - mbar_j (mbar_j + 1) / 2 in all."""
    return sum(m * (inst.L + 1) - m * (m + 1) // 2 for m in window_caps(inst))


def identical_groups(inst: Instance) -> list[list[int]]:
    """Servers that no solution can tell apart (same memory, speeds and client round trips)."""
    groups: dict[tuple, list[int]] = {}
    for j, s in enumerate(inst.servers):
        key = (s.M, s.tau, s.tau_in, tuple(inst.t[:, j]), tuple(inst.t_in[:, j]))
        groups.setdefault(key, []).append(j)
    return [g for g in groups.values() if len(g) > 1]


def define_variables(model: pyo.ConcreteModel, inst: Instance, w: Windows) -> None:
    """The sets W (windows), C (clients), J (servers) and the variables y, Y, g."""
    model.W = pyo.Set(initialize=w.jse, dimen=3, ordered=True)
    model.C = pyo.RangeSet(0, len(inst.clients) - 1)
    model.J = pyo.RangeSet(0, inst.n_servers - 1)
    model.y = pyo.Var(model.W, within=pyo.Binary)
    model.Y = pyo.Var(model.W, bounds=(0, 1))
    model.g = pyo.Var(model.C, model.W, within=pyo.NonNegativeIntegers)
