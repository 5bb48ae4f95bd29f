"""Statuses, one enum per question, as linopy keeps a solver's termination condition apart from its status
(docs/results.md): did the harness run the algorithm (``Outcome``), why did the algorithm or its solver stop
(``Termination``), what does the checker say of the output (``CheckStatus``), what does the simulator say of
an online run (``SimStatus``). Whether a solution exists is a fact of its own (``has_solution``). The one
word a table or the console shows joins the first two (``joined``)."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What the harness says of running one algorithm."""

    OK = "ok"                    # the algorithm returned a result of its kind
    SKIPPED = "skipped"          # not run (a size guard); the message says why
    ERROR = "error"              # it raised, or returned the wrong type; the message says what
    INTERRUPTED = "interrupted"  # stopped by the user (Ctrl-C) before it returned; the job keeps what finished


class Termination(StrEnum):
    """Why the algorithm (or the MILP/LP solver behind it) stopped."""

    OPTIMAL = "optimal"          # proven optimal within the relative gap (an LP: solved to optimality)
    SOLVED = "solved"            # finished without a claim of optimality (a heuristic, a closed-form bound)
    TIME_LIMIT = "time_limit"    # stopped at the time limit, with or without an incumbent
    INFEASIBLE = "infeasible"    # no solution exists (exact models) or the heuristic found none
    NONE_FOUND = "none_found"    # a search or a restricted model (a neighbourhood, some columns, a fixed
                                 # placement) ended without a solution: it proves nothing of the instance
    UNBOUNDED = "unbounded"
    ERROR = "error"              # the solver itself failed (its message is the raw status)
    OTHER = "other"              # any other solver termination (iteration limit, interrupted ...)


class CheckStatus(StrEnum):
    """What the one checker says of the algorithm's output."""

    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"    # placement, routes or memory violated (the cost may still be defined)
    UNCHECKED = "unchecked"      # a solution not graded yet
    NONE = "none"                # no solution to check


class SimStatus(StrEnum):
    """What the simulator says of one online run."""

    SERVED = "served"            # every request was served
    UNSERVED = "unserved"        # some requests could not be served
    INFEASIBLE = "infeasible"    # some server held more than its memory at some instant (bpr/memory_audit.py)
    NONE = "none"                # no placement, nothing simulated


def joined(outcome: Outcome | str, termination: Termination | str | None) -> str:
    """The one status word of a row: the harness outcome unless it is ``ok``, else the termination. A
    solver failure (termination ``error``) therefore reads ``error`` like a failed algorithm."""
    if Outcome(outcome) is not Outcome.OK or termination is None:
        return str(Outcome(outcome))
    return str(Termination(termination))


def failed(status: str) -> bool:
    """Whether a joined status means that a job did not do its work (its sweep then exits 1)."""
    return status in (Outcome.ERROR, Outcome.INTERRUPTED)
