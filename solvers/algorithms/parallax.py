"""Parallax (Tong et al., "Parallax: Efficient LLM Inference Service over Decentralized Environment", arXiv
2509.26182; its scheduler is ``src/scheduling/`` of GradientHQ/parallax, read at commit 162354a0), in this
model's terms (docs/peers.md §1). Two phases:

1. Allocation. A server keeps ``param_share`` of its memory for blocks and ``kv_share`` for the attention
   cache (the rest stays free), so it holds at most c_j = min(L, floor(param_share M_j / s_m)) blocks.
   Servers in decreasing c_j are dealt into k pipelines that share no server, each a sequence whose
   capacities cover L; a dynamic program finds s*(k), the fewest servers that make k pipelines, and the k of
   largest k^2 / s*(k) is kept (more pipelines, fewer stages each). A pipeline's L blocks are split by
   water-filling, n_j = min(c_j, lambda / tau_j) with the least lambda that covers L (its stages' compute
   n_j tau_j equalised under their memory), in contiguous ranges in the pipeline's order. A server no
   pipeline took joins at the block of least cache capacity (the sum over its hosts of kv_share M / n) and
   takes from there as many blocks as it holds.
2. Routing. A request's chain is a shortest path over the servers as a DAG (u -> v where u's range ends
   where v's begins); entering v costs the client's RTT t[c][v], its compute n_v tau_v and ``load_s`` times
   its cache utilisation; a server whose cache budget is full is not entered. Offline the R requests are
   routed in turn, each taking its cache on every server of its chain; online each at its arrival against
   the servers' cache use then (docs/simulator.md), and when every chain has a full server, on the chain
   that frees first.

Where this differs from Parallax's code (docs/peers.md §1): no embedding or LM head at the chain's ends, no
regions (its code has none either), the compute of a hop is n_v tau_v where Parallax's router prices a node
by its per-layer latency (``hop_cost=layer`` keeps that), and its request cap is this model's cache per
request per block s_c instead of a maximal sequence length.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from bpr.errors import BprInputError, unknown
from bpr.fields import number
from bpr.hop_graph import cheapest_by_position, entries
from bpr.instance import Instance
from bpr.numeric import floor
from bpr.online import OnlineSetup, State
from bpr.perf import Placement
from bpr.profiles import parallax_constants
from bpr.solution import Solution, build, no_solution
from bpr.status import Termination
from solvers.framework.context import Context
from solvers.framework.registry import Kind, algorithm

HOP_COSTS = ("blocks", "layer")
MAX_STATES = 500_000    # per pipeline count: a larger k stops the search (its pipelines would be too many)


@dataclass
class Options:
    """Shared by the offline and online Parallax."""

    param_share: Optional[float] = None   # share of a server's memory for blocks; None: profiles/parallax.yaml
    kv_share: Optional[float] = None      # share for the attention cache; None: profiles/parallax.yaml
    load_s: Optional[float] = None        # seconds a hop costs per unit of cache utilisation; None: the profile's
    hop_cost: str = "blocks"              # a hop's compute: blocks (n_v tau_v) or layer (tau_v, as Parallax's code)

    def __post_init__(self) -> None:
        k = parallax_constants()
        self.param_share = k.param_share if self.param_share is None else \
            number(self.param_share, "algorithm.parallax.param_share", lo=0.0, strict=True, hi=1.0)
        self.kv_share = k.kv_share if self.kv_share is None else \
            number(self.kv_share, "algorithm.parallax.kv_share", lo=0.0, strict=True, hi=1.0)
        self.load_s = k.load_s if self.load_s is None else number(self.load_s, "algorithm.parallax.load_s", lo=0.0)
        if self.param_share + self.kv_share > 1.0 + 1e-12:
            raise BprInputError(f"algorithm.parallax: param_share + kv_share must be at most 1, got "
                                f"{self.param_share:g} + {self.kv_share:g}")
        if self.hop_cost not in HOP_COSTS:
            raise unknown("algorithm.parallax.hop_cost", self.hop_cost, HOP_COSTS)


@dataclass(frozen=True, eq=False)
class Allocation:
    placement: Placement
    pipelines: list[list[int]]      # the servers of each pipeline, in block order
    message: str = ""               # why there is no placement (placement.m all 0)
    search_cut: bool = False        # a larger pipeline count outgrew MAX_STATES and was not searched


def capacities(inst: Instance, param_share: float) -> np.ndarray:
    """c_j = min(L, floor(param_share M_j / s_m)): the blocks a server's share for weights holds."""
    return np.array([min(inst.L, floor(param_share * s.M / inst.model.s_m)) for s in inst.servers], dtype=int)


def fewest_stages(caps: list[int], L: int, k: int) -> list[list[int]] | None:
    """s*(k): the fewest servers, taken from ``caps`` in order (largest first), that form k pipelines sharing
    no server, each covering L blocks; the pipelines (positions in ``caps``), or None when there are none;
    raises ``SearchCut`` when the search outgrows ``MAX_STATES``. State: next server i, the sorted blocks the
    open pipelines still need, the pipelines closed. A server is skipped, appended to an open pipeline or
    starts a new one; on a tie the first of these found is kept, as in Parallax's allocator."""
    n = len(caps)
    suffix = np.concatenate([np.cumsum(caps[::-1])[::-1], [0]]).tolist()
    memo: dict[tuple[int, tuple[int, ...], int], float] = {}

    def moves(i: int, need: tuple[int, ...], closed: int) -> list[tuple[int, tuple, int | None]]:
        """(servers it adds, the next state, the move: None skip, r append to a pipeline needing r, 0 new)."""
        out: list[tuple[int, tuple, int | None]] = [(0, (i + 1, need, closed), None)]
        for r in sorted(set(need)):
            rest, left = list(need), r - caps[i]
            rest.remove(r)
            out.append((1, (i + 1, _with(rest, left), closed + (left <= 0)), r))
        if closed + len(need) < k:
            out.append((1, (i + 1, _with(list(need), L - caps[i]), closed + (L - caps[i] <= 0)), 0))
        return out

    def best(i: int, need: tuple[int, ...], closed: int) -> float:
        key = (i, need, closed)
        if key not in memo:
            if len(memo) >= MAX_STATES:
                raise SearchCut
            if closed == k and not need:
                memo[key] = 0.0
            elif i == n or n - i < k - closed or suffix[i] < sum(need) + (k - closed - len(need)) * L:
                memo[key] = math.inf
            else:   # a plain loop and dict: one Python frame per server, however many servers
                memo[key] = min(cost + best(*state) for cost, state, _ in moves(i, need, closed))
        return memo[key]

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 2 * n + 1000))
    try:
        if math.isinf(best(0, (), 0)):
            return None
    finally:
        sys.setrecursionlimit(limit)
    open_, done, need, closed = [], [], (), 0   # open_: [blocks still needed, servers]
    for i in range(n):
        if closed == k and not need:      # every pipeline closed: the servers left are skipped
            break
        target = memo[(i, need, closed)]
        move = next(mv for cost, state, mv in moves(i, need, closed) if cost + memo[state] == target)
        if move is None:
            continue
        pipe = [L, []] if move == 0 else next(p for p in open_ if p[0] == move)
        if move == 0:
            open_.append(pipe)
        pipe[0] -= caps[i]
        pipe[1].append(i)
        if pipe[0] <= 0:
            open_.remove(pipe)
            done.append(pipe[1])
        need, closed = tuple(sorted(p[0] for p in open_)), len(done)
    return done


class SearchCut(Exception):
    """The allocation search outgrew MAX_STATES."""


def _with(rest: list[int], left: int) -> tuple[int, ...]:
    return tuple(sorted(rest + [left] if left > 0 else rest))


def water_fill(caps: list[int], taus: list[float], L: int) -> list[int]:
    """Blocks per stage: n_j = min(c_j, lambda / tau_j) for the least lambda with sum n_j >= L, floored, the
    blocks still missing given to the largest fractional parts (lower index first on ties). Equal compute
    n_j tau_j where memory allows. Requires sum c_j >= L."""
    def share(c: int, t: float, lam: float) -> float:
        return min(c, lam / t) if t > 0 else c      # a server of no compute time takes all it holds

    lo, hi = 0.0, max(c * t for c, t in zip(caps, taus))
    for _ in range(100):
        mid = (lo + hi) / 2
        if sum(share(c, t, mid) for c, t in zip(caps, taus)) >= L:
            hi = mid
        else:
            lo = mid
    target = [share(c, t, hi) for c, t in zip(caps, taus)]
    n = [min(c, floor(x)) for c, x in zip(caps, target)]
    by_fraction = sorted(range(len(caps)), key=lambda j: (-(target[j] - n[j]), j))
    for j in by_fraction:
        if sum(n) >= L:
            break
        if n[j] < caps[j]:
            n[j] += 1
    for j in reversed(by_fraction):          # a rounding that overshot gives back the smallest fractions
        while sum(n) > L and n[j] > 0:
            n[j] -= 1
    return n


def allocate(inst: Instance, opts: Options) -> Allocation:
    """Phase 1: the pipelines of largest k^2 / s*(k), water-filled, then every other server joined at the
    block of least cache capacity."""
    caps = capacities(inst, opts.param_share)
    order = sorted(range(inst.n_servers), key=lambda j: (-caps[j], j))
    ordered = [int(caps[j]) for j in order]
    none = Placement.of([1] * inst.n_servers, [0] * inst.n_servers)
    if sum(ordered) < inst.L:
        return Allocation(none, [], f"infeasible: the servers' shares for weights hold {sum(ordered)} "
                                f"blocks < L = {inst.L}")
    best, best_score, cut = None, 0.0, False
    for k in range(1, min(inst.n_servers, sum(ordered) // inst.L) + 1):
        try:
            pipes = fewest_stages(ordered, inst.L, k)
        except SearchCut:
            cut = True
            break
        if pipes is None:
            break
        score = k * k / sum(len(p) for p in pipes)
        if score > best_score:      # strictly: on a tie the fewer pipelines
            best, best_score = pipes, score
    if best is None:
        return Allocation(none, [], "infeasible: no pipeline covers L blocks" +
                          (f" within {MAX_STATES:,} states of its search" if cut else ""), cut)
    a, m = np.ones(inst.n_servers, dtype=int), np.zeros(inst.n_servers, dtype=int)
    pipelines = []
    for pipe in best:
        servers = sorted((order[i] for i in pipe), key=lambda j: (-caps[j], j))
        n = water_fill([int(caps[j]) for j in servers], [inst.servers[j].tau for j in servers], inst.L)
        start = 1
        for j, nj in zip(servers, n):
            a[j], m[j], start = start, nj, start + nj
        pipelines.append([j for j, nj in zip(servers, n) if nj > 0])
    _join_rest(inst, opts, caps, order, a, m)
    return Allocation(Placement.of(a, m), pipelines, search_cut=cut)


def _join_rest(inst: Instance, opts: Options, caps: np.ndarray, order: list[int], a: np.ndarray,
               m: np.ndarray) -> None:
    """Every server without blocks (largest first) starts at the block whose hosts offer the least cache
    (sum of kv_share M_j / m_j; the lower block on ties) and takes as many blocks from there as it holds."""
    load = np.zeros(inst.L + 2)
    for j in np.flatnonzero(m):
        load[a[j]:a[j] + m[j]] += opts.kv_share * inst.servers[j].M / m[j]
    for j in order:
        if m[j] > 0 or caps[j] == 0:
            continue
        start = 1 + int(np.argmin(load[1:inst.L + 1]))
        a[j], m[j] = start, min(int(caps[j]), inst.L + 1 - start)
        load[start:start + m[j]] += opts.kv_share * inst.servers[j].M / m[j]


def hop_price(inst: Instance, opts: Options, pl: Placement) -> np.ndarray:
    """The compute a request pays entering server j: n_j tau_j (``hop_cost=layer``: tau_j)."""
    tau = np.array([s.tau for s in inst.servers])
    return tau * pl.m if opts.hop_cost == "blocks" else tau


def slots(inst: Instance, opts: Options, pl: Placement, s_c: float) -> np.ndarray:
    """Requests each server's cache budget holds: floor(kv_share M_j / (m_j s_c)) (0 without blocks)."""
    return np.array([floor(opts.kv_share * s.M / (m * s_c)) if m > 0 else 0
                     for s, m in zip(inst.servers, pl.m.tolist())], dtype=int)


def shortest_chain(by_position: list[list[tuple[int, int]]], pl: Placement,
                  price: Callable[[int], float | None]) -> list[int] | None:
    """The cheapest chain of whole ranges from block 1 to L + 1 (a hop enters a server at its first block and
    runs all its blocks), ``price(v)`` the cost of entering v (None: v may not be entered); the hop graph's
    pass over block positions (bpr/hop_graph.py, ``by_position`` its ``entries``), first of equal chains."""
    found = cheapest_by_position(by_position, lambda v, k: price(v) if k == pl.m[v] else None)
    return None if found is None else found.chain


def route_offline(inst: Instance, opts: Options, pl: Placement) -> tuple[list[list[int]], str]:
    """Phase 2 for the R requests in turn (client by client, as the instance splits them); the routes, or
    the ones found and why the next request found none."""
    cap, used = slots(inst, opts, pl, inst.s_c), np.zeros(inst.n_servers, dtype=int)
    compute, routes, by_position = hop_price(inst, opts, pl), [], entries(inst.L, pl)
    for r, c in enumerate(inst.request_clients()):
        def price(v: int, c: int = c) -> float | None:
            if used[v] >= cap[v]:
                return None
            return float(inst.t[c, v]) + float(compute[v]) + opts.load_s * used[v] / cap[v]

        chain = shortest_chain(by_position, pl, price)
        if chain is None:
            return routes, f"infeasible: request {r}: every chain has a server whose cache budget (kv_share) is full"
        used[chain] += 1
        routes.append(chain)
    return routes, ""


@algorithm("parallax", Kind.SOLUTION, options=Options, columns=("pipelines", "stages", "search_cut"))
def solve(inst: Instance, opts: Options, ctx: Context) -> Solution:
    """Parallax's two phases: pipelines by its dynamic program and water-filling, chains by shortest paths."""
    alloc = allocate(inst, opts)
    info = {"pipelines": len(alloc.pipelines), "stages": sum(len(p) for p in alloc.pipelines),
            "search_cut": alloc.search_cut}
    if alloc.message:
        return no_solution(inst, "parallax", Termination.INFEASIBLE, alloc.message, info)
    routes, message = route_offline(inst, opts, alloc.placement)
    if message:
        return no_solution(inst, "parallax", Termination.INFEASIBLE, message, info)
    return build(inst, "parallax", alloc.placement.a, alloc.placement.m, routes, info)


@dataclass
class ParallaxRouting:
    """Phase 2 online: the cheapest chain at the request's arrival among servers with room for its cache now
    (utilisation priced by ``load_s``); when every chain has a full server, the chain whose last server to
    free frees first, the cheapest among those."""

    opts: Options
    name: str = "parallax-dp"

    def route(self, state: State, request: int, client: int, now: float) -> list[int] | None:
        inst, pl = state.inst, state.placement
        if "parallax" not in state.memo:
            state.memo["parallax"] = hop_price(inst, self.opts, pl)
        if "entries" not in state.memo:     # the key the other policies keep them under (policies.py)
            state.memo["entries"] = entries(inst.L, pl)
        compute, by_position = state.memo["parallax"], state.memo["entries"]
        waits = {j: state.wait(j, int(pl.m[j]), now) for j in np.flatnonzero(pl.m).tolist()}

        def priced(limit: float) -> Callable[[int], float | None]:
            def price(v: int) -> float | None:
                if waits[v] > limit:
                    return None
                used = 1.0 - state.free(v, now) / state.timelines[v].capacity
                return float(inst.t[client, v]) + float(compute[v]) + self.opts.load_s * used
            return price

        for limit in sorted({w for w in waits.values() if math.isfinite(w)}):
            chain = shortest_chain(by_position, pl, priced(limit))
            if chain is not None:
                return chain
        return None


@algorithm("parallax", Kind.ONLINE, options=Options, columns=("pipelines", "stages", "search_cut"))
def online(inst: Instance, opts: Options, ctx: Context) -> OnlineSetup:
    """Parallax's allocation, each server's cache budget kv_share M_j, its chain selection at every arrival."""
    alloc = allocate(inst, opts)
    info = {"pipelines": len(alloc.pipelines), "stages": sum(len(p) for p in alloc.pipelines),
            "search_cut": alloc.search_cut}
    capacity = np.array([opts.kv_share * s.M for s in inst.servers])
    placement = None if alloc.message else alloc.placement
    return OnlineSetup("parallax", placement, capacity, ParallaxRouting(opts), info, alloc.message)
