"""Grade any algorithm's output with the one checker and the one evaluator (no algorithm grades itself)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bpr.checker import CheckReport, check
from bpr.evaluator import Evaluation, evaluate
from bpr.instance import Instance
from bpr.solution import Solution


@dataclass(frozen=True, eq=False)
class Graded:
    solution: Solution                 # status = feasible / infeasible (checked), objective = per-token time
    evaluation: Evaluation | None      # None when there is no sound solution to cost
    report: CheckReport | None         # None when the algorithm returned no solution


def grade(inst: Instance, sol: Solution) -> Graded:
    """Check, then evaluate when placement and routes are sound. Memory violations keep their cost."""
    if not sol.has_solution:
        return Graded(sol, None, None)
    report = check(inst, sol)
    evaluation = evaluate(inst, sol, report) if report.structural else None
    info = dict(sol.info)
    if report.violations:
        info["violations"] = [str(v) for v in report.violations]
    graded = dataclasses.replace(sol, status="feasible" if report.feasible else "infeasible",
                                 objective=None if evaluation is None else evaluation.per_token_s, info=info)
    return Graded(graded, evaluation, report)
