"""The placement search of ``lns`` (docs/formulations.md §5): an iterated local search over placements whose
moves cost a linear program, not a MIP.

A placement is judged by the LP of routing over it (solvers/formulations/routing_model.py): a bound on every routing of
that placement, re-solved warm in a fraction of a millisecond. From each start a *descent* takes the first
move that lowers it, over:

- ``window``: one server's window with each end moved by at most d blocks (d = 1, then 2), or emptied; an
  idle server takes a window that starts where another one starts or ends;
- ``boundary``: where j's window ends next to k's start, both move by the same 1-2 blocks;
- ``swap``: two servers exchange windows,

until no move helps. Its local optimum is then routed exactly (the integer routing, one chain per request).
The best ``walkers`` local optima of the starts become walkers; in turn each is *kicked* (one or two
servers take random windows), descends again, and moves there when that lowers its LP value; every new
walker position is routed exactly and the cheapest routing found is the result. The search stops at the
run's deadline, after ``stall`` seconds without a new best (a time rule the caller sets only for a run
bounded by time), or after ``patience`` kicks in a row that improve no walker.

Deterministic for a seed when neither the deadline nor the stall time binds: every draw comes from the
seed, and HiGHS solves each LP and MIP the same way on one thread. Times are on the run's clock.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from bpr.instance import Instance
from bpr.perf import Placement, window_caps
from solvers.formulations.routing_model import RoutingModel
from solvers.framework.context import Context

IMPROVEMENT_RTOL = 1e-9
DEPTHS = (1, 2)          # how far a window's ends move in a descent, tried in turn


@dataclass
class Found:
    """A routed placement: its per-token time and one chain per request."""

    placement: Placement
    cost: float
    chains: list[list[int]]


@dataclass
class PlacementSearch:
    """One search's state: the model, the run's context (clock and deadline), the cached LP values and the
    best routed placement."""

    inst: Instance
    model: RoutingModel
    rng: np.random.Generator
    ctx: Context
    stall: float = np.inf                 # seconds without a new best after which it stops
    best: Found | None = None
    lp: dict[bytes, float | None] = field(default_factory=dict)
    routed: dict[bytes, float | None] = field(default_factory=dict)
    kicks: int = 0
    improvements: list[tuple[float, float]] = field(default_factory=list)   # (clock s, cost) of each new best

    def __post_init__(self) -> None:
        self.mbar = window_caps(self.inst)
        self.began = self.ctx.clock.now()

    def summary(self, where: str) -> str:
        best = "none yet" if self.best is None else f"{self.best.cost:.6g} s per token"
        return f"placement search, {where}: {len(self.lp):,} placements judged, {len(self.routed)} routed, best {best}"

    def out_of_time(self) -> bool:
        return self.ctx.left() <= 0 or self.ctx.clock.now() >= self.last + self.stall

    @property
    def last(self) -> float:
        """When the best last improved (or the search began)."""
        return self.improvements[-1][0] if self.improvements else self.began

    def value(self, pl: Placement) -> float | None:
        """The routing LP of ``pl`` (cached)."""
        key = _key(pl)
        if key not in self.lp:
            self.lp[key] = self.model.lower_bound(pl, self.ctx.left())
        return self.lp[key]

    def route(self, pl: Placement) -> float | None:
        """The cost of routing ``pl`` exactly (cached; None: no routing, or out of time); a routing cheaper
        than the best becomes the best."""
        key = _key(pl)
        if key not in self.routed and not self.out_of_time():
            found = self.model.route(pl, self.ctx.left())
            self.routed[key] = None if found is None else found[0]
            if found is not None and (self.best is None or found[0] < self.best.cost * (1 - IMPROVEMENT_RTOL)):
                self.best = Found(pl, *found)
                self.improvements.append((self.ctx.clock.now(), found[0]))
        return self.routed.get(key)

    def descend(self, pl: Placement, value: float) -> tuple[Placement, float]:
        """First-improvement descent on the routing LP."""
        depth = 0
        while depth < len(DEPTHS) and not self.out_of_time():
            for other in neighbours(self.inst, pl, DEPTHS[depth], self.mbar):
                if self.out_of_time():
                    return pl, value
                v = self.value(other)
                if v is not None and v < value * (1 - IMPROVEMENT_RTOL):
                    pl, value, depth = other, v, -1
                    break
            depth += 1
        return pl, value

    def kick(self, pl: Placement) -> Placement:
        """One or two servers (drawn from the seed) take random windows."""
        a, m = pl.a.copy(), pl.m.copy()
        for j in self.rng.choice(self.inst.n_servers, size=min(int(self.rng.integers(1, 3)), self.inst.n_servers),
                                 replace=False):
            if self.mbar[j] > 0:
                m[j] = int(self.rng.integers(1, self.mbar[j] + 1))
                a[j] = int(self.rng.integers(1, self.inst.L - m[j] + 2))
        return Placement(a, m)


def _key(pl: Placement) -> bytes:
    return pl.a.tobytes() + pl.m.tobytes()


def neighbours(inst: Instance, pl: Placement, d: int, mbar: list[int]) -> Iterator[Placement]:
    """The placements one move away (the module docstring's window, boundary and swap moves), in a fixed order."""
    n, L = inst.n_servers, inst.L
    edges = sorted({int(x) for j in range(n) if pl.m[j] for x in (pl.a[j] - 1, pl.a[j] - 1 + pl.m[j])})
    for j in range(n):
        for s, e in _windows(pl, j, d, mbar[j], L, edges):
            yield _with(pl, {j: (s + 1, e - s)})
    for j, k in itertools.permutations(range(n), 2):
        if pl.m[j] and pl.m[k] and abs(int(pl.a[j] + pl.m[j]) - int(pl.a[k])) <= 1:
            for shift in (-2, -1, 1, 2):
                mj, ak, mk = pl.m[j] + shift, pl.a[k] + shift, pl.m[k] - shift
                if 1 <= mj <= mbar[j] and 1 <= mk <= mbar[k] and ak >= 1:
                    yield _with(pl, {j: (pl.a[j], mj), k: (ak, mk)})
    for j, k in itertools.combinations(range(n), 2):
        if (pl.a[j], pl.m[j]) != (pl.a[k], pl.m[k]) and pl.m[j] <= mbar[k] and pl.m[k] <= mbar[j]:
            yield _with(pl, {j: (pl.a[k], pl.m[k]), k: (pl.a[j], pl.m[j])})


def _windows(pl: Placement, j: int, d: int, mbar: int, L: int, edges: list[int]) -> list[tuple[int, int]]:
    """The windows (s, e) server j may move to (s, e 0-based boundaries; (0, 0) empties it)."""
    if pl.m[j]:
        s, e = int(pl.a[j]) - 1, int(pl.a[j] + pl.m[j]) - 1
        moved = [(s2, e2) for s2 in range(s - d, s + d + 1) for e2 in range(e - d, e + d + 1)
                 if 0 <= s2 < e2 <= L and e2 - s2 <= mbar and (s2, e2) != (s, e)]
        return moved + [(0, 0)]
    return [(s, s + w) for s in edges for w in range(1, mbar + 1) if s + w <= L]


def _with(pl: Placement, windows: dict[int, tuple[int, int]]) -> Placement:
    a, m = pl.a.copy(), pl.m.copy()
    for j, (first, count) in windows.items():
        a[j], m[j] = (first, count) if count else (0, 0)
    return Placement(a, m)


def search(inst: Instance, starts: list[Placement], rng: np.random.Generator, ctx: Context, walkers: int,
           patience: int, stall: float = np.inf,
           report: Callable[[str], None] = lambda text: None) -> PlacementSearch:
    """Descend from every start, then kick the best ``walkers`` local optima in turn (module docstring), until
    the deadline of ``ctx``; ``report`` hears how far it got after each start and kick (a status line
    throttles it)."""
    state = PlacementSearch(inst, RoutingModel(inst), rng, ctx, stall)
    local: list[tuple[float, Placement, float]] = []     # (routed cost, placement, LP value)
    for i, pl in enumerate(starts, 1):
        state.route(pl)
        v = state.value(pl)
        if v is None or state.out_of_time():
            continue
        pl, v = state.descend(pl, v)
        cost = state.route(pl)
        if cost is not None and _key(pl) not in {_key(q) for _, q, _ in local}:
            local.append((cost, pl, v))
        report(state.summary(f"descended from start {i} of {len(starts)}"))
    ranked = sorted(local, key=lambda x: x[0])[:walkers]
    walk = [[pl, v] for _, pl, v in ranked]
    idle = 0
    while walk and idle < patience and not state.out_of_time():
        w = walk[state.kicks % len(walk)]
        state.kicks += 1
        kicked = state.kick(w[0])
        v = state.value(kicked)
        if v is None:
            idle += 1
            continue
        pl, v = state.descend(kicked, v)
        if v < w[1] * (1 - IMPROVEMENT_RTOL):
            w[:] = [pl, v]
            state.route(pl)
            idle = 0
        else:
            idle += 1
        report(state.summary(f"{state.kicks} kicks ({idle} without a move)"))
    return state
