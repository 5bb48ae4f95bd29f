"""``lns``: BPR-Bench's large-neighbourhood search (docs/formulations.md §5).

It has two phases. The *placement search* (solvers/algorithms/placement_search.py) starts from the heuristics'
placements (CG-BPRR, also for smaller design loads, and the PETALS variants) and moves windows with
moves that cost one LP each (routing over a placement as a persistent HiGHS model); it ends when
``patience`` kicks in a row improve none of its ``walkers``, or, in a run bounded by time only (``iterations``
not set), after ``stall_share`` of its time without a new best (so that the neighbourhood search keeps time
where the placement search stalls). Its
best placement, routed exactly, or the cheapest heuristic solution if that is cheaper, starts the
*neighbourhood search*: each iteration frees the windows of a few servers, chosen by a rule in turn:

- ``slowest``: servers with the largest amortised time per block in the incumbent, tau_j + t*_j / m_j
  (idle servers first);
- ``loaded``: servers whose memory the incumbent fills most, (s_m m_j + s_c load_j) / M_j;
- ``chains``: servers on the chains most requests take;
- ``random``: servers drawn at random,

each rule's first server taken at a rotating rank and the others drawn among the servers whose windows
overlap or adjoin it (they can trade blocks). A neighbourhood frees ``free`` servers at first; after a
round of the rules without an improvement it frees one more (up to ``max_free``), and after an improvement
``free`` again. The extended formulation restricted to that neighbourhood
(every other window fixed; solvers/exact) is solved from the incumbent as a MIP start, time-boxed, and a
cheaper solution, re-checked by the one checker, becomes the incumbent. A neighbourhood already tried
since the last improvement is not tried again.

``start`` adds a solution file (docs/formats.md §2; a library solution, or the last run's to continue it),
re-checked by the one checker, to the heuristics' solutions: the cheapest of them all is the first start.

A run is bounded either by time or by work. Without ``iterations`` it searches until the run's time limit
(the runner's: solvers/framework/context.py), and the stall rule applies. With ``iterations`` it is
deterministic for a seed: every random draw comes from the seed, the placement search ends by its patience
and the neighbourhood search after that many neighbourhoods (or when every neighbourhood was tried), each
solve by optimality; no rule looks at the clock but the time limits themselves (the run's and
``sub_time_limit``), and the result depends on the machine's speed only where one of those binds
(docs/formulations.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from bpr.errors import BprInputError
from bpr.fields import integer, number
from bpr.instance import Instance
from bpr.perf import Placement, window_caps
from bpr.record import RunRecord, SolverReport
from bpr.solution import Solution, no_solution
from bpr.status import Termination
from solvers.algorithms import cg_bprr, placement_search
from solvers.algorithms.heuristic_starts import heuristic_starts
from solvers.algorithms.optimal_routing import route
from solvers.algorithms.placement_search import IMPROVEMENT_RTOL
from solvers.formulations import routing_model
from solvers.formulations.extended.model import ExactFormulation
from solvers.formulations.extended.model import Options as ExactOptions
from solvers.formulations.extended.variables import fixed_windows
from solvers.framework.context import Context
from solvers.framework.formulation import solve_model
from solvers.framework.registry import Kind, Skipped, algorithm
from solvers.framework.starts import Start, from_file, graded
from solvers.framework.status_line import StatusLine

NAME = "lns"
RULES = ("slowest", "loaded", "chains", "random")
DESIGN_SHARES = (0.75, 0.5, 0.35, 0.25)
# HiGHS's presolve rule 15 (probing): most of a neighbourhood's solve time and, on these models of a few
# thousand columns, nothing the search needs (docs/formulations.md §5: the same results, half the time)
PROBING = 2 ** 15


@dataclass
class Options:
    time_limit: Optional[float] = None   # seconds for the whole search; None: solver.time_limit
    iterations: Optional[int] = None     # neighbourhoods at most, deterministic; None: until the time limit
    free: int = 2                        # servers a neighbourhood frees at first (more when a round fails)
    max_free: int = 8                    # servers a neighbourhood frees at most
    band: int = 8                        # a freed window moves each end by this many blocks at first (0: anywhere)
    sub_time_limit: float = 20.0         # seconds at most per neighbourhood solve
    rules: str = ",".join(RULES)         # the rules, taken in turn
    walkers: int = 2                     # local optima the placement search kicks in turn (0: no placement search)
    patience: int = 200                  # kicks in a row that improve no walker end the placement search
    stall_share: float = 0.5             # without iterations: the placement search ends after this share of its
                                         # time without a new best
    start: str = ""                      # a solution file (a library solution, a last run's) to start from as well

    def __post_init__(self) -> None:
        if self.time_limit is not None:
            number(self.time_limit, f"algorithm.{NAME}.time_limit", lo=0, strict=True, hi=1e6)
        if self.iterations is not None:
            integer(self.iterations, f"algorithm.{NAME}.iterations", lo=0, hi=10**7)
        integer(self.free, f"algorithm.{NAME}.free", lo=1, hi=1000)
        integer(self.max_free, f"algorithm.{NAME}.max_free", lo=self.free, hi=1000)
        integer(self.band, f"algorithm.{NAME}.band", lo=0, hi=1000)
        integer(self.walkers, f"algorithm.{NAME}.walkers", lo=0, hi=1000)
        integer(self.patience, f"algorithm.{NAME}.patience", lo=0, hi=10**9)
        number(self.stall_share, f"algorithm.{NAME}.stall_share", lo=0, hi=1)
        number(self.sub_time_limit, f"algorithm.{NAME}.sub_time_limit", lo=0, strict=True, hi=1e6)
        if self.start and not Path(self.start).is_file():
            raise BprInputError(f"algorithm.{NAME}.start: no solution file at '{self.start}'")
        bad = [r for r in self.rules.split(",") if r not in RULES]
        if bad or not self.rules:
            raise BprInputError(f"algorithm.{NAME}.rules: expected a comma-separated list of "
                                f"{', '.join(RULES)}, got '{self.rules}'")

    def check_instance(self, inst: Instance) -> None:
        """The start file is a solution of this instance the checker accepts (bench/options.py runs this
        before any algorithm of a job)."""
        if self.start:
            from_file(inst, self.start)

    def scales(self, n_servers: int, widest: int) -> list[tuple[int, int]]:
        """(servers freed, band) from the smallest neighbourhood to the largest: the band doubles while it
        still leaves out some window of a server that can hold ``widest`` blocks, then 'anywhere' (0); then
        one more server is freed."""
        bands = []
        d = self.band
        while d and 2 * d + 1 < widest:
            bands.append(d)
            d *= 2
        return [(k, d) for k in range(min(self.free, n_servers), min(self.max_free, n_servers) + 1)
                for d in bands + [0]]


@dataclass
class Search:
    """The state of one search: the incumbent, the run's context (its clock and deadline), the scale it looks
    at and what it has tried."""

    inst: Instance
    opts: Options
    ctx: Context
    best: Start
    rng: np.random.Generator
    scales: list[tuple[int, int]]
    tried: set[tuple[frozenset[int], int]] = field(default_factory=set)
    used: dict[str, int] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=lambda: {"build_s": 0.0, "load_s": 0.0, "solve_s": 0.0,
                                                            "nodes": 0.0})
    scale: int = 0                # index into scales
    failed: int = 0               # neighbourhoods without an improvement at this scale

    def grow(self) -> bool:
        """Look at the next larger scale; False when there is none."""
        self.failed = 0
        self.scale += 1
        return self.scale < len(self.scales)


def start_placements(inst: Instance, starts: list[Start]) -> list[tuple[str, Placement, list[Start]]]:
    """(name, placement, its heuristic solutions) to route: the best heuristic's, CG-BPRR's for smaller design
    loads (DESIGN_SHARES of R: more blocks per server, fewer hops; where memory binds often the better
    start), and the other heuristics'."""
    out = [(f"{starts[0].name}+routing", starts[0].placement, [starts[0]])] if starts else []
    for share in DESIGN_SHARES:
        p = cg_bprr.plan(inst, max(1, round(share * inst.R)))
        if p.placement is not None:
            out.append((f"cg_bprr@{share:g}R+routing", p.placement, []))
    return out + [(f"{s.name}+routing", s.placement, [s]) for s in starts[1:]]


def first_start(inst: Instance, opts: Options, ctx: Context, rng: np.random.Generator, status: StatusLine
                ) -> tuple[Start | None, dict]:
    """The cheapest of the heuristics' solutions and the placement search's best (module docstring), or,
    without the placement search (``walkers=0``, or a routing model too large), of the heuristics' solutions
    and the best one's and CG-BPRR's smaller-design-load placements routed optimally; and the placement
    search's counts and improvements."""
    given = [from_file(inst, opts.start)] if opts.start else []   # first: a bad file fails before any work
    starts = sorted(heuristic_starts(inst, ctx) + given, key=lambda s: s.cost)
    if given:
        ctx.clock.found(incumbent=given[0].cost)
    placements = start_placements(inst, starts)
    if opts.walkers and routing_model.columns(inst) <= routing_model.MAX_COLUMNS:
        stall = opts.stall_share * ctx.left() if opts.iterations is None else np.inf   # a time rule: time runs only
        with ctx.clock.phase("placement search"):
            state = placement_search.search(inst, [pl for _, pl, _ in placements], rng, ctx, opts.walkers,
                                            opts.patience, stall=stall, report=status.update)
        if state.best is not None:
            starts.append(graded(inst, "placement_search", state.best.placement, state.best.chains))
        info = {"kicks": state.kicks, "placements": len(state.lp), "routed": len(state.routed)}
        floor = min((s.cost for s in starts if s is not None), default=np.inf)
        # the routing model's objective and the evaluator's may differ in the last digit: the curve ends at
        # the evaluator's cost of the start, never below it
        for at, cost in state.improvements:
            ctx.clock.found(incumbent=max(cost, floor), at=at)
    else:
        for name, pl, given in placements[:1 + len(DESIGN_SHARES)]:
            try:
                rerouted = route(inst, pl, ctx.quiet(), given, NAME)
            except Skipped:
                continue
            if rerouted.has_solution:
                starts.append(graded(inst, name, pl, _chains(inst, rerouted)))
        info = {}
    best = min((s for s in starts if s is not None), key=lambda s: s.cost, default=None)
    return best, info


def _chains(inst: Instance, sol: Solution) -> list[list[int]]:
    index = inst.server_index()
    return [[index[s] for s in r.servers] for r in sol.routes]


def neighbourhood(search: Search, rule: str) -> frozenset[int]:
    """The servers a rule frees next (a rotating first server, the others among its block neighbours)."""
    inst, pl = search.inst, search.best.placement
    k = min(search.scales[search.scale][0], inst.n_servers)
    rank = _ranking(search, rule)
    turn = search.used.get(rule, 0)
    search.used[rule] = turn + 1
    first = rank[turn % len(rank)]
    if rule == "random":
        return frozenset(int(j) for j in search.rng.choice(inst.n_servers, size=k, replace=False))
    others = [j for j in range(inst.n_servers) if j != first]
    weight = np.array([_closeness(pl, first, j) for j in others], dtype=float)
    pick = search.rng.choice(len(others), size=k - 1, replace=False, p=weight / weight.sum()) if k > 1 else []
    return frozenset([int(first)] + [int(others[i]) for i in pick])


def _ranking(search: Search, rule: str) -> list[int]:
    inst, best = search.inst, search.best
    pl, n = best.placement, inst.n_servers
    if rule == "slowest":
        t_star = inst.t.max(axis=0)
        score = [np.inf if pl.m[j] == 0 else inst.servers[j].tau + t_star[j] / pl.m[j] for j in range(n)]
    elif rule == "loaded":
        loads = np.zeros(n)
        for chain in best.chains:
            at = 1
            for j in chain:
                loads[j] += pl.a[j] + pl.m[j] - at
                at = pl.a[j] + pl.m[j]
        score = [(inst.model.s_m * pl.m[j] + inst.s_c * loads[j]) / inst.servers[j].M for j in range(n)]
    elif rule == "chains":
        counts: dict[tuple[int, ...], int] = {}
        for chain in best.chains:
            counts[tuple(chain)] = counts.get(tuple(chain), 0) + 1
        score = [0.0] * n
        for chain, count in counts.items():
            for j in chain:
                score[j] = max(score[j], count)
    else:
        score = [0.0] * n
    return sorted(range(n), key=lambda j: (-score[j], j))


def _closeness(pl, first: int, j: int) -> float:
    """How much two servers' windows overlap or adjoin (idle servers are close to everything)."""
    if pl.m[first] == 0 or pl.m[j] == 0:
        return 1.0
    gap = max(pl.a[first], pl.a[j]) - min(pl.a[first] + pl.m[first], pl.a[j] + pl.m[j])
    return 1.0 / (1.0 + max(gap, 0))


def _band(window: list[tuple[int, int]], d: int) -> list[tuple[int, int]]:
    """The windows whose start and end lie within d blocks of the given one's."""
    (s, e), = window
    return [(s2, e2) for s2 in range(s - d, s + d + 1) for e2 in range(e - d, e + d + 1) if s2 < e2]


def improve(search: Search, free: frozenset[int]) -> bool:
    """Solve the neighbourhood that frees ``free`` (each freed window within the scale's band, an idle server
    anywhere) from the incumbent; True when it found a cheaper solution, which becomes the incumbent."""
    inst, best = search.inst, search.best
    d, mbar = search.scales[search.scale][1], window_caps(inst)
    allowed = {j: w if j not in free else _band(w, d) for j, w in fixed_windows(best.placement).items()
               if j not in free or (w and d and mbar[j] > 2 * d + 1)}
    f = ExactFormulation(inst, ExactOptions(allow_idle=True, memory_caps=True, window_memory=True), NAME,
                         allowed=allowed, starts=[best])
    try:
        report, model = solve_model(f, search.ctx.at_most(search.opts.sub_time_limit).quiet().highs(
            presolve_rule_off=PROBING), record=False)
    except Skipped:
        return False
    for key in ("build_s", "load_s", "solve_s"):
        search.sums[key] += getattr(report, key) or 0.0
    search.sums["nodes"] += report.nodes or 0
    if model is None or not report.has_solution or report.incumbent_s >= best.cost * (1 - IMPROVEMENT_RTOL):
        return False
    pl, chains = f.extract(model)
    found = graded(inst, NAME, pl, chains)
    if found is None or found.cost >= best.cost * (1 - IMPROVEMENT_RTOL):
        return False
    search.best = found
    search.ctx.clock.found(incumbent=found.cost)
    search.tried.clear()
    search.scale = search.failed = 0
    return True


@dataclass(frozen=True)
class Outcome:
    """What a search found: its best solution (None without a feasible start), its report and counts."""

    best: Start | None
    report: SolverReport
    info: dict


def run_search(inst: Instance, opts: Options, ctx: Context) -> Outcome:
    """The search itself, until the context's deadline (also the MIP start of ``exact`` with ``lns_s``)."""
    rng = np.random.default_rng(ctx.seed)
    status = StatusLine(NAME, show=ctx.solver.progress, origin=ctx.clock.origin)
    if opts.walkers:
        status.phase(f"placement search ({opts.walkers} walkers, patience {opts.patience} kicks)")
    start, placed = first_start(inst, opts, ctx, rng, status)
    if start is None:
        return Outcome(None, SolverReport(Termination.NONE_FOUND, "no heuristic gives a feasible start"), {})
    status.phase(f"start from {start.name}: {start.cost:.6g} s per token")
    ctx.clock.found(incumbent=start.cost)
    scales = opts.scales(inst.n_servers, max(window_caps(inst)))
    search = Search(inst, opts, ctx, start, rng, scales)
    rules = opts.rules.split(",")
    done = improvements = 0
    stopped = False
    with ctx.clock.phase("neighbourhood search"):
        while opts.iterations is None or done < opts.iterations:
            if ctx.left() <= 0:
                stopped = True
                break
            band = search.scales[search.scale][1]
            free = next((f for f in (neighbourhood(search, rules[(done + i) % len(rules)]) for i in range(8))
                         if (f, band) not in search.tried), None)
            if free is None:   # every neighbourhood it draws at this scale was tried since the last improvement
                if not search.grow():
                    break
                continue
            done += 1
            search.tried.add((free, band))
            if improve(search, free):
                improvements += 1
            else:
                search.failed += 1
                if search.failed >= len(rules) and not search.grow():   # a round found nothing: look wider
                    break
            status.update(f"{done} neighbourhoods, {improvements} improvements: best {search.best.cost:.6g} s")
    status.done(f"{'time limit' if stopped else 'done'} after {done} neighbourhoods, {improvements} improvements: "
                f"best {search.best.cost:.6g} s per token (start {start.cost:.6g} s)")
    report = SolverReport(Termination.TIME_LIMIT if stopped else Termination.SOLVED,
                          f"{done} neighbourhoods, {improvements} improvements", True, search.best.cost,
                          nodes=int(search.sums["nodes"]), build_s=search.sums["build_s"],
                          load_s=search.sums["load_s"], solve_s=search.sums["solve_s"], warm_start_from=start.name,
                          progress=ctx.clock.curve())
    info = {"iterations": done, "improvements": improvements, "start_s": start.cost, "start_from": start.name,
            **placed}
    return Outcome(search.best, report, info)


@algorithm(NAME, Kind.SOLUTION, options=Options, columns=("iterations", "improvements", "start_s", "start_from",
                                                          "kicks", "placements", "routed"),
           uses_solver=True)
def solve(inst: Instance, opts: Options, ctx: Context) -> Solution:
    """Large-neighbourhood search over the extended formulation, from the best heuristic solution."""
    found = run_search(inst, opts, ctx)
    if found.best is None:
        return no_solution(inst, NAME, Termination.NONE_FOUND, found.report.raw_status)
    return found.best.solution(inst, NAME, info=found.info, termination=found.report.termination,
                               record=RunRecord(solver=found.report))
