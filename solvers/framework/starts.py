"""Solutions that start a search or a MIP (a ``Start``): a feasible solution in index form, graded by the one
checker and evaluator. Where they come from (the heuristics, a file, an earlier phase of the run) is the
algorithms' business (solvers/algorithms/heuristic_starts.py); the formulations load them as MIP starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bpr.errors import BprInputError
from bpr.grading import grade
from bpr.instance import Instance
from bpr.perf import Placement
from bpr.solution import Solution, build, load


@dataclass(frozen=True, eq=False)
class Start:
    """A feasible solution in index form: where it came from, its placement, one chain per request, its cost."""

    name: str
    placement: Placement
    chains: list[list[int]]
    cost: float

    def solution(self, inst: Instance, algorithm: str, **kwargs) -> Solution:
        return build(inst, algorithm, self.placement.a, self.placement.m, self.chains, **kwargs)


def graded(inst: Instance, name: str, pl: Placement, chains: list[list[int]]) -> Start | None:
    """The start of a placement and chains, or None when the checker finds them infeasible."""
    result = grade(inst, build(inst, name, pl.a, pl.m, chains))
    return Start(name, pl, chains, result.evaluation.per_token_s) if result.report.feasible else None


def from_file(inst: Instance, path: str) -> Start:
    """A solution file (docs/formats.md §2) of this instance as a start, re-checked by the one checker; a file
    of another instance, or one the checker rejects, is an input error that says so."""
    sol = load(path)
    if sol.instance != inst.name:
        raise BprInputError(f"start solution {path}: made for instance '{sol.instance}', not '{inst.name}'")
    index = inst.server_index()
    unknown = sorted({p.server for p in sol.placement} - set(index))
    if unknown or len(sol.placement) != inst.n_servers or len(sol.routes) != inst.R:
        raise BprInputError(f"start solution {path}: its placement and routes do not fit instance '{inst.name}' "
                            f"({len(sol.placement)} servers, {len(sol.routes)} routes; the instance has "
                            f"{inst.n_servers} and R = {inst.R})")
    start = of_solution(inst, sol, f"start file {Path(path).name}")
    if start is None:
        raise BprInputError(f"start solution {path}: the checker finds it infeasible for instance '{inst.name}'")
    return start


def of_solution(inst: Instance, sol: Solution, name: str) -> Start | None:
    """A solution of this instance (its servers and R routes) as a start, re-graded; None when infeasible."""
    index = inst.server_index()
    a, m = [0] * inst.n_servers, [0] * inst.n_servers
    for p in sol.placement:
        a[index[p.server]], m[index[p.server]] = p.first_block or 0, p.num_blocks
    chains = [[index[s] for s in r.servers] for r in sorted(sol.routes, key=lambda r: r.request)]
    return graded(inst, name, Placement.of(a, m), chains)
