"""One protocol for every MILP/LP model of the suite (docs/formulations.md) and one path that solves it.

A formulation (the paper's MILP, the extended formulation, the memory-capacity LP, and every later model:
a restricted master problem, the exact model on a neighbourhood, routing with the placement fixed) says
its size before it is built, builds its Pyomo model, may load a MIP start, maps a solution back to a
placement and routes, states its objective's scale (objective units per average per-token second,
docs/model.md §3), from which incumbent and dual bound become per-token times, and whether its dual bound
bounds the instance (a restricted model's does not).

``solve_model`` is the one path: the one size guard (``solver.max_vars``; too large is a ``Skipped``), the
run's deadline (the solver gets what is left once the model is built and loaded; a model whose time is up
before it is built is not built), the phases build, load and solve on the run's clock, export, MIP start,
the solver with its log file and status line (solvers/framework/backend.py), every incumbent and instance
bound recorded on the run's clock as it is found, and one ``SolverReport`` with the one gap definition
(bpr/record.py). ``solve_solution`` turns it into an algorithm's ``Solution`` and is the one place that
decides what a restricted model's run may claim of the instance (``instance_word``); ``relaxation_bound``
and ``mip_bound`` turn it into a named ``Bound``.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any, Protocol

import pyomo.environ as pyo

from bpr.bounds import Bound
from bpr.instance import Instance
from bpr.perf import Placement
from bpr.record import RunRecord, SolverReport, gap
from bpr.solution import Solution, build, no_solution
from bpr.status import Outcome, Termination
from solvers.framework import backend
from solvers.framework.context import Context
from solvers.framework.registry import Skipped
from solvers.framework.starts import Start
from solvers.framework.status_line import StatusLine, gap_text, num


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
        """Whether its dual bound bounds the instance's optimum (False for a restricted model: a neighbourhood,
        some columns or a fixed placement bounds only its own solutions)."""

    # A formulation whose objective is not the instance's cost (a peer's: Helix's max-flow) says so with
    # ``objective_is_cost = False``: its incumbents and bounds are then no per-token times, and none is
    # recorded as one (``solve_model``); it must not bound the instance either.

    def size(self) -> Size: ...

    def build(self) -> pyo.ConcreteModel: ...

    def warm_start(self, model: pyo.ConcreteModel) -> str | None:
        """Give the variables a solution's values (a MIP start); the name of its source, or None."""

    def extract(self, model: pyo.ConcreteModel) -> tuple[Placement, list[list[int]]]:
        """The placement and one server chain per request from the loaded variable values."""


@dataclass
class BoundModel:
    """A relaxation solved for its bound (the memory-capacity LP, the decomposition, the window-size MILP):
    no MIP start, no placement or routes to map back, and its incumbents are not solutions of the instance.
    A subclass names itself (``name``) and states its scale when its objective is not the average per-token
    time."""

    inst: Instance
    name: str = "bound"
    scale: float = 1.0
    bounds_instance = True   # a relaxation of the whole problem

    def warm_start(self, model: pyo.ConcreteModel) -> str | None:
        return None

    def extract(self, model: pyo.ConcreteModel) -> Any:
        raise TypeError(f"{self.name} is a bound: it has no placement or routes to extract")


def too_large(size: Size, max_vars: int) -> str | None:
    """The one size-guard message (None when the model fits)."""
    if size.variables <= max_vars:
        return None
    return f"too large: {size.variables} variables > solver.max_vars = {max_vars}"


def solve_model(f: Formulation, ctx: Context, relax: bool = False, log_name: str | None = None,
                record: bool = True) -> tuple[SolverReport, pyo.ConcreteModel | None]:
    """Build and solve ``f`` (its LP relaxation with ``relax``) within the context's deadline; raises
    ``Skipped`` when it is too large. ``record``: its phases and what it finds go on the run's clock (off
    for the thousands of sub-solves of a search, which records its own). The model is None when the time
    was up before it was built."""
    s, clock = ctx.solver, ctx.clock
    name = log_name or f.name
    size = f.size()
    refused = too_large(size, s.max_vars)
    if refused:
        raise Skipped(refused)
    backend.require_available(s.name)
    if ctx.left() <= 0:
        return SolverReport(Termination.TIME_LIMIT, "the time limit was reached before the model was built",
                            variables=size.variables, progress=clock.curve()), None
    costed = getattr(f, "objective_is_cost", True)
    per = _per_token(f.scale) if costed else (lambda x: None)   # another objective has no per-token value
    solutions = not relax and not isinstance(f, BoundModel)     # its incumbents are solutions of the instance
    bounds = f.bounds_instance and not relax                    # its MIP dual bounds bound the instance

    def phase(step: str) -> AbstractContextManager:
        return clock.phase(f"{name}: {step}") if record else nullcontext()

    def watch(incumbent: float | None, bound: float | None) -> None:
        if record and costed:
            clock.found(per(incumbent) if solutions else None, per(bound) if bounds else None)

    status = StatusLine(name, show=s.progress, origin=clock.origin)
    status.phase(f"building {'the LP relaxation of ' if relax else ''}{size.variables:,} variables")
    tick = time.perf_counter()
    with phase("build"):
        model = f.build()
        if relax:
            pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    build_s = time.perf_counter() - tick
    if ctx.left() <= 0:        # a build can outlast the deadline; loading and solving it would overrun more
        status.done(f"time limit reached while building ({build_s:.1f} s): not loaded")
        return SolverReport(Termination.TIME_LIMIT, "the time limit was reached while the model was built",
                            variables=size.variables, build_s=build_s, progress=clock.curve()), None
    status.phase(f"built in {build_s:.1f} s")
    warning = backend.export(model, s.export) if s.export else ""
    start = f.warm_start(model) if s.warm_start and not relax else None
    out = backend.solve(model, backend.Call(s, start is not None, ctx.seed, backend.log_path(ctx, name), status,
                                            ctx.left, phase, watch))
    incumbent, bound = per(out.incumbent), per(out.bound)
    watch(out.incumbent if out.has_solution else None, out.bound)
    if record and relax and f.bounds_instance and out.termination is Termination.OPTIMAL:
        clock.found(bound=incumbent)        # an LP relaxation solved to optimality bounds the instance
    g = gap(incumbent, bound)
    status.done(f"{out.termination} after {out.solve_s:.1f} s: per-token incumbent {num(incumbent)} s, bound "
                f"{num(bound)} s" + ("" if g is None else f", gap {gap_text(g)}"))
    return SolverReport(
        termination=out.termination, raw_status=out.raw_status, has_solution=out.has_solution,
        incumbent_s=incumbent, dual_bound_s=bound, gap=g, nodes=out.nodes,
        variables=size.variables, constraints=model.nconstraints(), build_s=build_s, load_s=out.load_s,
        solve_s=out.solve_s, warm_start_from=start, warm_start_accepted=out.warm_start_accepted, warning=warning,
        progress=clock.curve()), model


def _per_token(scale: float):
    return lambda x: None if x is None else x / scale


def instance_word(report: SolverReport, proof: float | None, rel_gap: float) -> SolverReport:
    """What a restricted model's solve says of the instance (docs/results.md, "What a restricted model may
    claim"): its own optimum or infeasibility proves nothing for the instance, so the run ``solved`` (or
    stopped at its time limit); it is ``optimal`` only when a bound on the instance that the same run
    computed (``proof``: the decomposition LP, the window-size relaxation) meets its incumbent within
    ``rel_gap``, and a model without solutions is ``none_found``, never ``infeasible``. The sub-model's own
    status stays in ``raw_status``; the row's dual bound is ``proof`` (None without one)."""
    g = gap(report.incumbent_s, proof) if report.has_solution else None
    if g is not None and g <= rel_gap:
        termination = Termination.OPTIMAL
    elif report.termination is Termination.OPTIMAL:
        termination = Termination.SOLVED
    elif report.termination is Termination.INFEASIBLE:
        termination = Termination.NONE_FOUND
    else:
        termination = report.termination
    return replace(report, termination=termination, raw_status=f"restricted model: {report.raw_status}",
                   dual_bound_s=proof, gap=g)


def solve_solution(f: Formulation, inst: Instance, ctx: Context, info: dict[str, Any] | None = None,
                   proof: float | None = None) -> Solution:
    """The formulation solved as an algorithm: its solution (graded later by the one checker) or, without
    an incumbent, the reason; the solver report travels in the run record either way. For a restricted
    model ``proof`` is a bound on the instance the run computed (``instance_word``)."""
    report, model = solve_model(f, ctx)
    if not f.bounds_instance:
        report = instance_word(report, proof, ctx.solver.rel_gap)
    record = RunRecord(solver=report)
    starts = getattr(f, "starts", None)
    if not report.has_solution and starts and report.termination is not Termination.ERROR:   # a crash stays one
        return start_solution(inst, f.name, starts[0], report, f"the model found no solution ({report.raw_status})",
                              info)
    if not report.has_solution:
        what = "the restricted model" if not f.bounds_instance else "the model"
        return no_solution(inst, f.name, report.termination, f"{report.termination}: {what} has no solution "
                                                             f"({report.raw_status})", info, record)
    pl, chains = f.extract(model)
    return build(inst, f.name, pl.a, pl.m, chains, info, report.termination, record)


def start_solution(inst: Instance, name: str, start: Start, report: SolverReport, why: str,
                   info: dict[str, Any] | None = None) -> Solution:
    """A run whose model stopped without a solution of its own (``why``) still has its start, a solution of
    the instance this run computed (the heuristics' best, graded): the run returns it, so that it is never
    worse than its starts, with the model's termination and a message that says where it comes from."""
    sol = start.solution(inst, name, info={**(info or {}), "solution_from": start.name},
                         termination=report.termination, record=RunRecord(solver=report))
    return replace(sol, message=f"{report.termination}: {why}; the run's solution is its start, {start.name}'s")


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
