"""One protocol for every MILP/LP model of the suite (docs/formulations.md) and one path that solves it.

A formulation (the paper's MILP, the extended formulation, the memory-capacity LP, and every later model:
a restricted master problem, the exact model on a neighbourhood, routing with the placement fixed) says
its size before it is built, builds its Pyomo model, may load a MIP start, maps a solution back to a
placement and routes, and states its objective's scale (objective units per average per-token second,
docs/model.md §3), from which incumbent and dual bound become per-token times.

``solve_model`` is the one path: the one size guard (``solver.max_vars``; too large is a ``Skipped``), build
timing, export, MIP start, the solver with its log file and progress line (solvers/backend.py), and one
``SolverReport`` with the one gap definition (bpr/record.py). ``solve_solution`` turns it into a graded
algorithm's ``Solution``; ``relaxation_bound`` into a named ``Bound`` (the LP relaxation's optimum).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Protocol

import pyomo.environ as pyo

from bpr.bounds import Bound
from bpr.instance import Instance
from bpr.perf import Placement
from bpr.record import RunRecord, SolverReport, gap
from bpr.solution import Solution, build, no_solution
from bpr.status import Outcome, Termination
from solvers import backend
from solvers.registry import Context, Skipped
from solvers.status_line import StatusLine, gap_text, num


@dataclass(frozen=True)
class Size:
    """A model's size, counted without building it."""

    variables: int
    constraints: int | None = None


class Formulation(Protocol):
    name: str        # the algorithm (or bound) it serves: names the solver log and the solution
    scale: float     # objective units per average per-token second

    @property
    def bounds_instance(self) -> bool:
        """Whether its dual bound bounds the instance's optimum (False for a restricted model: a neighbourhood
        or a fixed placement bounds only its own solutions)."""

    def size(self) -> Size: ...

    def build(self) -> pyo.ConcreteModel: ...

    def warm_start(self, model: pyo.ConcreteModel, ctx: Context) -> str | None:
        """Give the variables a solution's values (a MIP start); the name of its source, or None."""

    def extract(self, model: pyo.ConcreteModel) -> tuple[Placement, list[list[int]]]:
        """The placement and one server chain per request from the loaded variable values."""


class BoundModel:
    """A relaxation solved for its bound (the memory-capacity LP, the decomposition, the window-size MILP):
    no MIP start, and no placement or routes to map back."""

    name: str
    bounds_instance = True   # a relaxation of the whole problem

    def warm_start(self, model: pyo.ConcreteModel, ctx: Context) -> str | None:
        return None

    def extract(self, model: pyo.ConcreteModel) -> Any:
        raise TypeError(f"{self.name} is a bound: it has no placement or routes to extract")


def too_large(size: Size, max_vars: int) -> str | None:
    """The one size-guard message (None when the model fits)."""
    if size.variables <= max_vars:
        return None
    return f"too large: {size.variables} variables > solver.max_vars = {max_vars}"


def solve_model(f: Formulation, ctx: Context, relax: bool = False, log_name: str | None = None
                ) -> tuple[SolverReport, pyo.ConcreteModel]:
    """Build and solve ``f`` (its LP relaxation with ``relax``); raises ``Skipped`` when it is too large."""
    s = ctx.solver
    size = f.size()
    refused = too_large(size, s.max_vars)
    if refused:
        raise Skipped(refused)
    backend.require_available(s.name)
    status = StatusLine(log_name or f.name, show=s.progress)
    status.phase(f"building {'the LP relaxation of ' if relax else ''}{size.variables:,} variables")
    tick = time.perf_counter()
    model = f.build()
    if relax:
        pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    build_s = time.perf_counter() - tick
    status.phase(f"built in {build_s:.1f} s")
    warning = backend.export(model, s.export) if s.export else ""
    start = f.warm_start(model, ctx) if s.warm_start and not relax else None
    out = backend.solve(model, s, start is not None, ctx.seed, backend.log_path(ctx, log_name or f.name), status)
    per = _per_token(f.scale)
    incumbent, bound = per(out.incumbent), per(out.bound)
    g = gap(incumbent, bound)
    status.done(f"{out.termination} after {out.solve_s:.1f} s: per-token incumbent {num(incumbent)} s, bound "
                f"{num(bound)} s" + ("" if g is None else f", gap {gap_text(g)}"))
    return SolverReport(
        termination=out.termination, raw_status=out.raw_status, has_solution=out.has_solution,
        incumbent_s=incumbent, dual_bound_s=bound, gap=g, nodes=out.nodes,
        variables=size.variables, constraints=model.nconstraints(), build_s=build_s, load_s=out.load_s,
        solve_s=out.solve_s, warm_start_from=start, warm_start_accepted=out.warm_start_accepted, warning=warning,
        progress=[(t, per(inc), per(dual)) for t, inc, dual in out.progress]), model


def _per_token(scale: float):
    return lambda x: None if x is None else x / scale


def solve_solution(f: Formulation, inst: Instance, ctx: Context, info: dict[str, Any] | None = None) -> Solution:
    """The formulation solved as an algorithm: its solution (graded later by the one checker) or, without
    an incumbent, the reason; the solver report travels in the run record either way."""
    report, model = solve_model(f, ctx)
    if not f.bounds_instance:
        # a restricted model's dual bound bounds only its own solutions: the table must not take it for a
        # bound on the instance (bench/results.py takes every row's dual bound)
        report = replace(report, dual_bound_s=None, gap=None,
                         progress=[(t, incumbent, None) for t, incumbent, _ in report.progress])
    record = RunRecord(solver=report)
    if not report.has_solution:
        return no_solution(inst, f.name, report.termination, f"{report.termination}: no solution "
                                                             f"({report.raw_status})", info, record)
    pl, chains = f.extract(model)
    return build(inst, f.name, pl.a, pl.m, chains, info, report.termination, record)


def _whole(f: Formulation) -> None:
    if not f.bounds_instance:
        raise ValueError(f"{f.name} is restricted (a neighbourhood or a fixed placement): its bound is not "
                         f"a bound on the instance")


def relaxation_bound(f: Formulation, ctx: Context, log_name: str) -> Bound:
    """The optimum of f's LP relaxation as a lower bound; none unless the LP was solved to optimality (a
    stopped LP's objective bounds nothing)."""
    _whole(f)
    try:
        report, _ = solve_model(f, ctx, relax=True, log_name=log_name)
    except Skipped as why:
        return Bound(None, None, Outcome.SKIPPED, str(why))
    solved = report.termination is Termination.OPTIMAL and report.incumbent_s is not None
    return Bound(report.incumbent_s if solved else None, report.termination,
                 message="" if solved else f"{report.termination} ({report.raw_status})", solver=report)


def mip_bound(f: Formulation, ctx: Context, log_name: str) -> Bound:
    """The dual bound of f's MILP (a relaxation of the problem) as a lower bound: valid at optimality and
    at a time limit alike, so a stopped solve keeps what it proved and says it stopped."""
    _whole(f)
    try:
        report, _ = solve_model(f, ctx, log_name=log_name)
    except Skipped as why:
        return Bound(None, None, Outcome.SKIPPED, str(why))
    proved = report.dual_bound_s
    if report.termination is Termination.OPTIMAL:
        message = ""
    elif proved is None:
        message = f"{report.termination} ({report.raw_status}): no dual bound"
    else:
        message = f"{report.termination}: the dual bound when it stopped (gap {gap_text(report.gap)})"
    return Bound(proved, report.termination, message=message, solver=report)
