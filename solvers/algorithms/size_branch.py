"""``size_branch``: an exact method that branches on placements, window sizes first (docs/formulations.md §9).

A placement is every server's window: its number of blocks (its size, 0 for idle) and its first block.
The search has two levels.

- **Sizes.** The window-size relaxation (§7) is the master. Its optimum names a size vector v and its dual
  bound LB bounds every solution whose sizes are not excluded yet. v is then excluded by a no-good row
  (``define_excluded``), so the master's next solve names the next-cheapest vector: a best-first search over
  size vectors that ends when LB reaches the incumbent (every size vector left costs at least as much), or
  when no vector is left.
- **First blocks.** For v, the extended formulation (§2) with every server restricted to the windows of its
  size (with the tighter LP rows and the memory-capacity cuts) finds the best placement with those sizes:
  its dual bound D(v) bounds them, and max(LB at v, D(v)) is v's leaf bound.

The lower bound is min(LB of the vectors not excluded, the leaf bounds); the incumbent is the best of the
heuristics, a start file, the large-neighbourhood search (§5, the first ``lns_s`` seconds) and every
leaf's solution. Once the master's bound reaches the incumbent, the time left re-solves the open leaves.
Identical servers take ascending sizes in the master (any solution can be permuted to do so), so each
vector stands for all its permutations over identical servers. The run's solution file carries the
certificate: the leaves with their bounds and the master's bound on the rest, which ``recheck`` re-derives
and re-solves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from bpr.errors import BprInputError
from bpr.fields import number
from bpr.instance import Instance
from bpr.limits import MAX_SECONDS
from bpr.perf import Placement, window_caps
from bpr.record import RunRecord, SolverReport, gap
from bpr.solution import Solution, no_solution
from bpr.status import Termination
from solvers.algorithms import lns
from solvers.algorithms.heuristic_starts import heuristic_starts
from solvers.formulations.extended.model import ExactFormulation, canonical
from solvers.formulations.extended.model import Options as ExactOptions
from solvers.formulations.window_sizes import WindowSizesFormulation, sizes
from solvers.framework.context import Context
from solvers.framework.formulation import solve_model
from solvers.framework.registry import Kind, algorithm
from solvers.framework.starts import Start, from_file, graded
from solvers.framework.status_line import StatusLine

NAME = "size_branch"
Sizes = tuple[int, ...]
CLOSED = (Termination.OPTIMAL, Termination.INFEASIBLE)   # a leaf's first-block model finished
RECHECK_RTOL = 1e-6     # a re-solved bound may fall short of the recorded one by solver tolerance only


@dataclass
class Options:
    lns_s: float = 10.0            # seconds of the large-neighbourhood search first (its solution is the incumbent)
    sub_time_limit: float = 60.0   # seconds at most for the first blocks of one size vector
    start: str = ""                # a solution file the search starts from as well (a library solution)

    def __post_init__(self) -> None:
        number(self.lns_s, f"algorithm.{NAME}.lns_s", lo=0, hi=MAX_SECONDS)
        number(self.sub_time_limit, f"algorithm.{NAME}.sub_time_limit", lo=0, strict=True, hi=MAX_SECONDS)
        if self.start and not Path(self.start).is_file():
            raise BprInputError(f"algorithm.{NAME}.start: no solution file at '{self.start}'")

    def search(self) -> lns.Options:
        return lns.Options(iterations=None, start=self.start)

    def check_instance(self, inst: Instance) -> None:
        """The start file is a solution of this instance the checker accepts."""
        self.search().check_instance(inst)


@dataclass(frozen=True)
class Leaf:
    """A size vector the search excluded: the master's bound when it named it, the first-block model's
    status, dual bound and best solution (None without one), and the leaf's bound (None: no solution has
    these sizes)."""

    sizes: Sizes
    relaxation: float
    status: str
    positions_bound: float | None
    positions_best: float | None

    @property
    def bound(self) -> float | None:
        if self.status == Termination.INFEASIBLE:
            return None
        return max(self.relaxation, self.positions_bound if self.positions_bound is not None else -math.inf)

    def to_dict(self) -> dict:
        return {"sizes": list(self.sizes), "relaxation": self.relaxation, "status": self.status,
                "positions_bound": self.positions_bound, "positions_best": self.positions_best,
                "bound": self.bound}


@dataclass
class Tree:
    """The search's state: its leaves, the master's bound on the vectors not excluded (inf: none left) and
    the master's last status."""

    leaves: list[Leaf] = field(default_factory=list)
    rest: float | None = None      # None: the master has not bounded the rest (stopped without a bound)
    rest_status: str = ""

    def lower(self) -> float | None:
        """min(the rest's bound, the leaves' bounds); None when the rest is unbounded."""
        if self.rest is None:
            return None
        return min([self.rest] + [b for b in (leaf.bound for leaf in self.leaves) if b is not None])

    def bound(self) -> float | None:
        """``lower`` as a number to report: None also when it is infinite (no solution anywhere)."""
        lower = self.lower()
        return None if lower is None or math.isinf(lower) else lower

    def certificate(self, rel_gap: float) -> dict:
        rest = None if self.rest is None or math.isinf(self.rest) else self.rest
        return {"method": NAME, "rel_gap": rel_gap, "leaves": [leaf.to_dict() for leaf in self.leaves],
                "rest_bound": rest, "rest_status": self.rest_status, "bound": self.bound()}


def size_vector(pl: Placement) -> Sizes:
    return tuple(int(m) for m in pl.m)


def in_size_order(inst: Instance, start: Start) -> Start:
    """The same solution with identical servers in ascending sizes, as the master orders them."""
    pl, chains = canonical(inst, start.placement, start.chains, by_size=True)
    return Start(start.name, pl, chains, start.cost)


def windows_of(inst: Instance, v: Sizes) -> dict[int, list[tuple[int, int]]]:
    """Every window of each server's size (none for an idle server)."""
    return {j: [(s, s + m) for s in range(inst.L - m + 1)] if m else [] for j, m in enumerate(v)}


def incumbent(inst: Instance, opts: Options, ctx: Context) -> Start | None:
    """The best of the heuristics, the start file and the search's first ``lns_s`` seconds."""
    found = list(heuristic_starts(inst, ctx)) + ([from_file(inst, opts.start)] if opts.start else [])
    if opts.lns_s:
        best = lns.run_search(inst, opts.search(), ctx.at_most(opts.lns_s)).best
        found += [best] if best else []
    return min(found, key=lambda st: st.cost, default=None)


def positions(inst: Instance, v: Sizes, relaxation: float, best: Start | None,
              ctx: Context) -> tuple[Leaf, Start | None, float]:
    """The first-block model of size vector ``v`` (MIP start: the incumbent when it has these sizes): its
    leaf (with the master's bound ``relaxation``), its solution when cheaper than ``best``, and its time."""
    starts = [best] if best is not None and size_vector(best.placement) == v else []
    f = ExactFormulation(inst, ExactOptions(allow_idle=True, memory_caps=True, window_memory=True,
                                            capacity_cuts=True), NAME, allowed=windows_of(inst, v), starts=starts)
    report, model = solve_model(f, ctx.quiet(), record=False)
    found = None
    if model is not None and report.has_solution and (best is None or report.incumbent_s < best.cost):
        pl, chains = f.extract(model)
        found = graded(inst, NAME, pl, chains)
    leaf = Leaf(v, relaxation, str(report.termination), report.dual_bound_s,
                report.incumbent_s if report.has_solution else None)
    return leaf, found, (report.build_s or 0) + (report.load_s or 0) + (report.solve_s or 0)


def search(inst: Instance, opts: Options, ctx: Context, best: Start | None,
           status: StatusLine) -> tuple[Tree, Start | None]:
    """The best-first search over size vectors until the master's bound reaches the incumbent, no vector is
    left, or the time is up; then the time left goes to the leaves still open (``deepen``)."""
    tree, rel_gap = Tree(), ctx.solver.rel_gap
    best = in_size_order(inst, best) if best else None
    while True:
        master = WindowSizesFormulation(inst, f"{NAME}-sizes", excluded=[leaf.sizes for leaf in tree.leaves])
        report, model = solve_model(master, ctx.quiet(), record=False)
        tree.rest_status = str(report.termination)
        if report.termination is Termination.INFEASIBLE:
            tree.rest = math.inf             # no size vector is left
        elif report.dual_bound_s is not None:
            # an earlier master's bound holds for a superset of the vectors left, so the larger one holds
            tree.rest = max(report.dual_bound_s, tree.rest if tree.rest is not None else -math.inf)
        record_bound(tree, ctx)
        reached = best is not None and (report.dual_bound_s or -math.inf) >= best.cost * (1 - rel_gap)
        if report.termination is Termination.INFEASIBLE or reached:
            return tree, deepen(inst, tree, best, ctx, status)
        if report.termination is not Termination.OPTIMAL or model is None or ctx.left() <= 0:
            return tree, best
        v = sizes(model, inst.n_servers)
        leaf, found, took = positions(inst, v, report.dual_bound_s, best, ctx.at_most(opts.sub_time_limit))
        tree.leaves.append(leaf)
        best = better(inst, best, found, ctx)
        status.update(f"{len(tree.leaves)} size vectors, bound {tree.lower():.6g} s, "
                      f"best {best.cost if best else math.nan:.6g} s (last: {leaf.status} in {took:.1f} s)")


def record_bound(tree: Tree, ctx: Context) -> None:
    ctx.clock.found(bound=tree.bound())


def better(inst: Instance, best: Start | None, found: Start | None, ctx: Context) -> Start | None:
    if found is None or (best is not None and found.cost >= best.cost):
        return best
    ctx.clock.found(incumbent=found.cost)
    return in_size_order(inst, found)


def deepen(inst: Instance, tree: Tree, best: Start | None, ctx: Context, status: StatusLine) -> Start | None:
    """Every size vector is a leaf or costs at least the incumbent: the time left goes to the open leaves
    whose bound is below the incumbent, the lowest first, each re-solved with an equal share of what is left
    (a re-solve starts afresh, so it gets more time than the first). A leaf keeps the larger of its bounds."""
    def open_leaves() -> list[int]:
        cut = math.inf if best is None else best.cost * (1 - ctx.solver.rel_gap)
        return sorted((i for i, leaf in enumerate(tree.leaves) if leaf.status not in CLOSED
                       and leaf.bound is not None and leaf.bound < cut), key=lambda i: tree.leaves[i].bound)

    while (todo := open_leaves()) and ctx.left() > 0:
        i, old = todo[0], tree.leaves[todo[0]]
        again, found, took = positions(inst, old.sizes, old.relaxation, best, ctx.at_most(ctx.left() / len(todo)))
        tree.leaves[i] = replace(again, status=again.status if again.status in CLOSED else old.status,
                                 positions_bound=_best_of(max, old.positions_bound, again.positions_bound),
                                 positions_best=_best_of(min, old.positions_best, again.positions_best))
        best = better(inst, best, found, ctx)
        record_bound(tree, ctx)
        status.update(f"re-solving {len(todo)} open size vectors, bound {tree.lower():.6g} s, best "
                      f"{best.cost if best else math.nan:.6g} s (last: {again.status} in {took:.1f} s)")
    return best


def _best_of(pick, *values: float | None) -> float | None:
    """``pick`` (max or min) of the values a solve gave, None when none did."""
    return pick((v for v in values if v is not None), default=None)


def arithmetic(inst: Instance, cert: dict) -> list[str]:
    """What a certificate contradicts without solving anything: its method, distinct size vectors that the
    instance's servers can take, each leaf's bound = max(relaxation, positions) (none when infeasible), and
    its bound = the minimum of the rest's and the leaves'."""
    if cert.get("method") != NAME:
        return [f"not a {NAME} certificate (method {cert.get('method')!r})"]
    problems, leaves, mbar = [], _leaves(cert), window_caps(inst)
    if len({leaf.sizes for leaf in leaves}) < len(leaves) or any(
            len(v.sizes) != inst.n_servers or any(not 0 <= m <= cap for m, cap in zip(v.sizes, mbar, strict=True))
            for v in leaves):
        return ["its size vectors are not distinct vectors the instance's servers can take"]
    for leaf, d in zip(leaves, cert["leaves"], strict=True):
        if d["bound"] != leaf.bound:
            problems.append(f"leaf {list(leaf.sizes)}: bound {d['bound']} is not max(relaxation, positions)")
    lower = _tree(cert).lower()
    if lower is None or (cert["bound"] is None) != math.isinf(lower) or (
            cert["bound"] is not None and abs(cert["bound"] - lower) > RECHECK_RTOL * abs(lower)):
        problems.append(f"its bound {cert['bound']} is not the minimum of its parts ({lower})")
    return problems


def _leaves(cert: dict) -> list[Leaf]:
    return [Leaf(tuple(d["sizes"]), d["relaxation"], d["status"], d["positions_bound"], d["positions_best"])
            for d in cert["leaves"]]


def _tree(cert: dict) -> Tree:
    return Tree(_leaves(cert), math.inf if cert["rest_status"] == Termination.INFEASIBLE else cert["rest_bound"])


def recheck(inst: Instance, cert: dict, ctx: Context, seconds: float) -> list[str]:
    """The problems of a certificate (none: it proves its bound): its ``arithmetic``, then by re-solving: the
    master with every leaf excluded reaches the rest's bound (or is infeasible, as claimed), the relaxation
    with a leaf's sizes fixed reaches its relaxation value, and its first-block model reaches its bound where
    that bound is the leaf's. Every solve gets ``seconds``; one that stops below the claim is a problem (not
    re-confirmed)."""
    problems = arithmetic(inst, cert)
    if problems:
        return problems
    tree = _tree(cert)

    def below(found: float | None, claim: float) -> bool:
        return found is None or found < claim - RECHECK_RTOL * abs(claim)

    master, _ = solve_model(WindowSizesFormulation(inst, f"{NAME}-recheck", excluded=[v.sizes for v in tree.leaves]),
                            ctx.at_most(seconds).quiet(), record=False)
    if math.isinf(tree.rest or 0.0) and master.termination is not Termination.INFEASIBLE:
        problems.append(f"the master with every leaf excluded is {master.termination}, not infeasible")
    elif tree.rest is not None and not math.isinf(tree.rest) and below(master.dual_bound_s, tree.rest):
        problems.append(f"the master with every leaf excluded reaches {master.dual_bound_s}, not {tree.rest}")
    for leaf in tree.leaves:
        fixed, _ = solve_model(WindowSizesFormulation(inst, f"{NAME}-recheck", fixed=leaf.sizes),
                               ctx.at_most(seconds).quiet(), record=False)
        if fixed.termination is not Termination.INFEASIBLE and below(fixed.dual_bound_s, leaf.relaxation):
            problems.append(f"leaf {list(leaf.sizes)}: the relaxation reaches {fixed.dual_bound_s}, not "
                            f"{leaf.relaxation}")
        if leaf.bound is None or leaf.bound > leaf.relaxation:
            again, _, _ = positions(inst, leaf.sizes, leaf.relaxation, None, ctx.at_most(seconds))
            if leaf.bound is None and again.status != Termination.INFEASIBLE:
                problems.append(f"leaf {list(leaf.sizes)}: its first-block model is {again.status}, not infeasible")
            elif leaf.bound is not None and below(again.positions_bound, leaf.bound):
                problems.append(f"leaf {list(leaf.sizes)}: its first-block model reaches {again.positions_bound}, "
                                f"not {leaf.bound}")
    return problems


@algorithm(NAME, Kind.SOLUTION, options=Options, columns=("size_vectors", "open_vectors", "start_s"),
           uses_solver=True)
def solve(inst: Instance, opts: Options, ctx: Context) -> Solution:
    """Sizes by the window-size relaxation, first blocks by the extended formulation per size vector, from
    the search's incumbent; the row's dual bound is the tree's lower bound, and the certificate travels in
    the solution file."""
    status = StatusLine(NAME, show=ctx.solver.progress, origin=ctx.clock.origin)
    with ctx.clock.phase("incumbent"):
        start = incumbent(inst, opts, ctx)
    if start is not None:
        ctx.clock.found(incumbent=start.cost)
    with ctx.clock.phase("size vectors"):
        tree, best = search(inst, opts, ctx, start, status)
    info = {"size_vectors": len(tree.leaves),
            "open_vectors": sum(leaf.status not in CLOSED for leaf in tree.leaves),
            "start_s": start.cost if start else None, "certificate": tree.certificate(ctx.solver.rel_gap)}
    bound = tree.bound()
    if best is None:
        closed = tree.lower() == math.inf
        why = "every size vector was excluded without a solution" if closed else "no solution found"
        return no_solution(inst, NAME, Termination.INFEASIBLE if closed else Termination.TIME_LIMIT, why, info)
    g = gap(best.cost, bound)
    proved = g is not None and g <= ctx.solver.rel_gap
    termination = Termination.OPTIMAL if proved else Termination.TIME_LIMIT
    status.done(f"{termination}: {len(tree.leaves)} size vectors, best {best.cost:.6g} s, bound {bound} s")
    report = SolverReport(termination, f"{len(tree.leaves)} size vectors; master: {tree.rest_status}", True,
                          best.cost, bound, g, progress=ctx.clock.curve())
    return best.solution(inst, NAME, info=info, termination=termination, record=RunRecord(solver=report))
