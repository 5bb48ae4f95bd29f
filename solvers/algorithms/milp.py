"""``milp``: the paper's MILP (eq. 13; docs/formulations.md §1) in Pyomo, solved by HiGHS or any Pyomo MILP
solver, warm-started from CG-BPRR.

Its solver report (incumbent and dual bound as per-token times, objective / (R l_out), gap, nodes, build,
load and solve times, model size, the solver's raw status, the warm start) becomes result columns like
every model's (docs/results.md). The solver's own log goes to the job directory.
"""

from __future__ import annotations

from dataclasses import dataclass

from bpr.instance import Instance
from bpr.solution import Solution
from solvers.algorithms import cg_bprr
from solvers.algorithms.heuristic_starts import heuristic_starts
from solvers.formulations.milp.model import MilpFormulation
from solvers.framework.context import Context
from solvers.framework.formulation import solve_solution
from solvers.framework.registry import Kind, algorithm

NAME = "milp"


@dataclass
class Options:
    """The MILP's own options; the solver and its limits are the shared ``solver.*`` settings."""


@algorithm(NAME, Kind.SOLUTION, options=Options, uses_solver=True)
def solve(inst: Instance, opts: Options, ctx: Context) -> Solution:
    """The paper's MILP (eq. 13), warm-started from CG-BPRR."""
    starts = [s for s in heuristic_starts(inst, ctx) if s.name == cg_bprr.NAME] if ctx.solver.warm_start else []
    return solve_solution(MilpFormulation(inst, NAME, starts), inst, ctx)
