"""Statuses, one enum per layer, so that a results table never mixes what a solver says with what the
checker or the simulator found (docs/results.md)."""

from __future__ import annotations

from enum import StrEnum


class SolverStatus(StrEnum):
    """What the algorithm (or the MILP/LP solver behind it) reports about its own run."""

    SOLVED = "solved"            # a heuristic returned a solution (no claim of optimality)
    OPTIMAL = "optimal"          # proven optimal within the relative gap
    TIME_LIMIT = "time_limit"    # stopped at the time limit, with or without an incumbent
    INFEASIBLE = "infeasible"    # no solution exists or the algorithm found none
    ERROR = "error"              # the run failed (solver crash, bad input of a sweep job)
    SKIPPED = "skipped"          # not run (size guard, option)
    OTHER = "other"              # any other solver termination (iteration limit, interrupted ...)


class CheckStatus(StrEnum):
    """What the one checker says of the algorithm's output."""

    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"    # placement, routes or memory violated (the cost may still be defined)
    NONE = "none"                # no solution to check


class SimStatus(StrEnum):
    """What the simulator says of one online run."""

    SERVED = "served"            # every request was served
    UNSERVED = "unserved"        # some requests could not be served
    NONE = "none"                # no placement, nothing simulated
