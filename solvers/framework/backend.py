"""Running a Pyomo model on a MILP/LP solver: HiGHS (default) loaded through Pyomo's new solver interface
and solved in a child process the runner can stop at the deadline (solvers/framework/highs_process.py), any
other installed Pyomo solver through the classic ``SolverFactory``. Limits and failures (a solver that
crashes) come back as a ``Solved`` with a termination, never as an exception; only an unavailable solver is
bad input (``require_available``, called before any work).

Every solve can write the solver's own log (``solver.log``, on by default, into the job directory) and,
with HiGHS, shows its progress (elapsed time, incumbent, dual bound, gap) on its status line
(solvers/framework/status_line.py) and hands each point to ``Call.watch``. The solver's time limit is what is
left of the run's deadline once the model is loaded (``Call.left``), so the build and the load count.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory as ContribFactory
from pyomo.contrib.solver.common.results import SolutionStatus
from pyomo.contrib.solver.common.results import TerminationCondition as ContribTC
from pyomo.opt import TerminationCondition as LegacyTC

from bpr.errors import BprInputError
from bpr.files import atomic, read_yaml
from bpr.status import Termination
from solvers.framework import highs_process
from solvers.framework.context import Context
from solvers.framework.highs_process import finite
from solvers.framework.settings import SolverSettings
from solvers.framework.status_line import StatusLine, num

logger = logging.getLogger(__name__)

CONTRIB_TERMINATION = {
    ContribTC.convergenceCriteriaSatisfied: Termination.OPTIMAL,
    ContribTC.maxTimeLimit: Termination.TIME_LIMIT,
    ContribTC.provenInfeasible: Termination.INFEASIBLE,
    ContribTC.infeasibleOrUnbounded: Termination.INFEASIBLE,
    ContribTC.unbounded: Termination.UNBOUNDED,
    ContribTC.error: Termination.ERROR,
}
LEGACY_TERMINATION = {LegacyTC.optimal: Termination.OPTIMAL, LegacyTC.maxTimeLimit: Termination.TIME_LIMIT,
                      LegacyTC.infeasible: Termination.INFEASIBLE,
                      LegacyTC.infeasibleOrUnbounded: Termination.INFEASIBLE, LegacyTC.unbounded: Termination.UNBOUNDED,
                      LegacyTC.error: Termination.ERROR, LegacyTC.solverFailure: Termination.ERROR}


@dataclass
class Solved:
    """One solve in the model's own objective units (solvers/framework/formulation.py scales it)."""

    termination: Termination
    raw_status: str             # the solver's own word
    has_solution: bool
    incumbent: float | None
    bound: float | None
    load_s: float
    solve_s: float
    nodes: int | None
    warm_start_accepted: bool | None = None

    @classmethod
    def failed(cls, err: Exception, load_s: float, solve_s: float) -> "Solved":
        """A solver that raised: its message is the raw status (a crash is a result, not a crash of the run)."""
        return cls(Termination.ERROR, (str(err).splitlines() or [type(err).__name__])[0], False, None, None, load_s,
                   solve_s, None)


def is_contrib(name: str) -> bool:
    return name in set(ContribFactory)


LOADED = ("highs", "scip")    # solved from the model as Pyomo loads it into HiGHS (``_solve_loaded``)


def require_available(name: str) -> None:
    """One clear message when a solver cannot be used."""
    if name == "scip":
        if importlib.util.find_spec("pyscipopt") is None:
            raise BprInputError("solver 'scip' needs pyscipopt (pip install pyscipopt), which is not installed")
        return
    try:
        opt = ContribFactory(name) if is_contrib(name) else pyo.SolverFactory(name)
        ok = bool(opt.available()) if is_contrib(name) else bool(opt.available(exception_flag=False))
    except Exception as err:  # Pyomo raises various types for unknown or broken solvers
        raise BprInputError(f"solver '{name}' cannot be used: {err}") from None
    if not ok:
        raise BprInputError(f"solver '{name}' is not installed or not licensed (Pyomo found no working "
                            f"'{name}'); install it or use solver=highs")


def log_path(ctx: Context, name: str) -> Path | None:
    """Where the solver log of algorithm ``name`` goes: <job dir>/solver_logs/<name>.log (when enabled)."""
    if not (ctx.solver.log and ctx.log_dir):
        return None
    path = Path(ctx.log_dir) / "solver_logs" / f"{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def export(model: pyo.ConcreteModel, path: str) -> str:
    """Write the model as .lp or .mps (by suffix) so others can run it elsewhere. A path that cannot be
    written is not worth the solve: the message comes back to stand beside the result ("" when written)."""
    suffix = Path(path).suffix.lower()   # .lp or .mps: checked with the settings (SolverSettings.of)
    try:
        atomic(path, lambda tmp: model.write(str(tmp), format=suffix[1:], io_options={"symbolic_solver_labels": True}))
    except BprInputError as err:
        return f"solver.export: {err}"
    return ""


def _no_phase(name: str) -> AbstractContextManager:
    return nullcontext()


RESERVE_S = 1.0


def reserve(left: float) -> float:
    """Seconds kept back from a solver's time limit: 5 % of what is left, at most ``RESERVE_S``."""
    return min(RESERVE_S, 0.05 * left)


@dataclass
class Call:
    """One solve: the settings, whether the variables hold a MIP start, the seed, the log file, the status
    line, the seconds left of the deadline (asked once the model is loaded), how a phase is recorded
    (``load``, ``solve``) and who hears each (incumbent, bound) point in the model's units."""

    settings: SolverSettings
    warm: bool = False
    seed: int = 0
    log: Path | None = None
    status: StatusLine | None = None
    left: Callable[[], float] = lambda: float("inf")
    phase: Callable[[str], AbstractContextManager] = _no_phase
    watch: Callable[[float | None, float | None], None] = lambda incumbent, bound: None

    def limit(self) -> float:
        """The solver's time limit now: what is left less a reserve (a tiny positive limit when nothing is: the
        solver then stops at once with its time-limit status). The reserve, 5 % of what is left and at most
        ``RESERVE_S``, lets a solver that reads its clock often stop by itself and hand back its final answer
        (a dual bound after the last log line, the node count); HiGHS, which reads it only between steps, is
        stopped half its reserve before the deadline if it has not stopped by then (docs/results.md, "Time")."""
        left = self.left()
        return max(left - reserve(left), 1e-3)

    def stop_at(self) -> float:
        """Seconds before the deadline at which a solve still running is stopped: half the reserve."""
        return reserve(self.left()) / 2


def solve(model: pyo.ConcreteModel, call: Call) -> Solved:
    s = call.settings
    call.status = call.status or StatusLine(s.name, show=False)
    call.status.phase(f"loading into {s.name}")
    how = _solve_loaded if s.name in LOADED else _solve_contrib if is_contrib(s.name) else _solve_legacy
    out = how(model, call)
    logger.info("%s: %s (%s), incumbent %s, bound %s, load %.1f s, solve %.1f s%s", s.name, out.termination,
                out.raw_status, num(out.incumbent), num(out.bound), out.load_s, out.solve_s,
                f", log {call.log}" if call.log else "")
    return out


def _solve_contrib(model: pyo.ConcreteModel, call: Call) -> Solved:
    s = call.settings
    opt = ContribFactory(s.name)
    tick = time.perf_counter()
    load_s = 0.0
    try:
        with call.phase("load"):
            opt.set_instance(model)
        load_s = time.perf_counter() - tick
        limit = call.limit()
        call.status.phase(f"loaded in {load_s:.1f} s; solving (time limit {limit:.3g} s)")
        with ExitStack() as stack:
            tee = [stack.enter_context(open(call.log, "w", buffering=1))] if call.log else []  # readable meanwhile
            stack.enter_context(call.status.solving())
            stack.enter_context(call.phase("solve"))
            res = opt.solve(model, time_limit=limit, rel_gap=s.rel_gap, threads=s.threads,
                            solver_options=dict(s.options), tee=tee, load_solutions=False,
                            raise_exception_on_nonoptimal_result=False)
    except Exception as err:  # a solver crash is a result (termination error), never a crash of the run
        logger.exception("%s failed", s.name)
        return Solved.failed(err, load_s, time.perf_counter() - tick - load_s)
    has = res.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal)
    if has:
        res.solution_loader.load_vars()
    tc = res.termination_condition
    return Solved(CONTRIB_TERMINATION.get(tc, Termination.OTHER), tc.name, has,
                  res.incumbent_objective if has else None, finite(res.objective_bound), load_s,
                  res.timing_info.wall_time, getattr(res.extra_info, "mip_node_count", None))


def _solve_loaded(model: pyo.ConcreteModel, call: Call) -> Solved:
    """HiGHS or SCIP on the model as Pyomo loads it into HiGHS. HiGHS solves in a child process
    (solvers/framework/highs_process.py), SCIP in this one (solvers/framework/scip_solve.py); either is
    stopped half the reserve before the deadline (``Call.stop_at``) if it has not stopped by then, and each
    of its (incumbent, bound) points goes to ``call.watch`` and the status line as it comes."""
    s = call.settings
    scip = s.name == "scip"
    child = highs_process.worker()
    opt = ContribFactory("highs")
    tick = time.perf_counter()
    load_s = 0.0

    def on_point(seconds: float, incumbent: float | None, bound: float | None) -> None:
        call.watch(incumbent, bound)
        call.status.mip(seconds, incumbent, bound)

    try:
        if not scip:
            child.ensure()               # the child starts while the model loads
        with call.phase("load"):
            opt.set_instance(model)
            h, index = highs_internals(opt)
            start = _start(model, index) if call.warm else None
        load_s = time.perf_counter() - tick
        limit, stop_s = call.limit(), call.stop_at()
        ends_at = time.monotonic() + limit    # the solver's own limit, set from this just before it solves
        log = str(call.log) if call.log else None
        if log:          # there before the solver writes to it: a solve stopped at once still leaves its log
            open(log, "w").close()
        call.status.phase(f"loaded in {load_s:.1f} s; solving (time limit {limit:.3g} s)")
        with call.status.solving(), call.phase("solve"):
            if scip:   # SCIP solves on one thread: solver.threads does not apply
                from solvers.framework import scip_solve

                options = {"rel_gap": s.rel_gap, "seed": call.seed} | dict(s.options)
                job = highs_process.Job({}, options, start, log, ends_at)
                ended = scip_solve.solve(h, job, call.left, stop_s, on_point)
                termination = scip_solve.termination(ended)
            else:
                options = {"threads": s.threads, "mip_rel_gap": s.rel_gap, "random_seed": call.seed} | dict(s.options)
                job = highs_process.Job(highs_process.model_arrays(h), options, start, log, ends_at)
                ended = child.solve(job, call.left, stop_s, on_point)
                termination = Termination.TIME_LIMIT if ended.stopped else highs_termination(ended.code)
    except Exception as err:  # a solver crash is a result (termination error), never a crash of the run
        logger.exception("%s failed", s.name)
        return Solved.failed(err, load_s, time.perf_counter() - tick - load_s)
    if ended.error:
        return Solved(Termination.ERROR, ended.status, False, None, None, load_s, ended.run_s, None)
    if ended.values is not None:
        _load(model, index, ended.values)
    if ended.stopped and call.log and not scip:
        with open(call.log, "a") as fh:
            fh.write(f"\n{ended.status}, after {ended.run_s:.2f} s\n")
    return Solved(termination, ended.status, ended.has_solution, ended.incumbent, ended.bound, load_s,
                  ended.run_s, ended.nodes, ended.start_accepted)


def highs_termination(code: int | None) -> Termination:
    """A HiGHS model status as a termination (the mapping of Pyomo's HiGHS interface; anything else is
    ``other``: an iteration, node or solution limit, an empty model)."""
    import highspy

    status = highspy.HighsModelStatus
    known = {status.kOptimal: Termination.OPTIMAL, status.kTimeLimit: Termination.TIME_LIMIT,
             status.kInfeasible: Termination.INFEASIBLE, status.kUnboundedOrInfeasible: Termination.INFEASIBLE,
             status.kUnbounded: Termination.UNBOUNDED}
    known |= dict.fromkeys((status.kLoadError, status.kModelError, status.kPresolveError, status.kSolveError,
                            status.kPostsolveError), Termination.ERROR)
    return Termination.OTHER if code is None else known.get(status(code), Termination.OTHER)


def highs_internals(opt: Any) -> tuple[Any, dict[int, int]]:
    """The one place that reads private attributes of Pyomo's HiGHS interface (pyomo 6.10): the
    ``highspy.Highs`` object holding the loaded model and the map from id(Pyomo variable) to HiGHS column."""
    return opt._solver_model, opt._pyomo_var_to_solver_var_map


def _start(model: pyo.ConcreteModel, index: dict[int, int]) -> np.ndarray:
    """MIP start: the variables' current values, in HiGHS column order."""
    values = np.zeros(len(index))
    for v in model.component_data_objects(pyo.Var):
        if id(v) in index and v.value is not None:
            values[index[id(v)]] = v.value
    return values


def _load(model: pyo.ConcreteModel, index: dict[int, int], values: np.ndarray) -> None:
    """A solution in HiGHS column order into the model's variables."""
    for v in model.component_data_objects(pyo.Var):
        if id(v) in index:
            v.set_value(float(values[index[id(v)]]), skip_validation=True)


@cache
def _known_option_names() -> dict[str, dict[str, str]]:
    with open(Path(__file__).with_name("option_names.yaml")) as fh:
        return read_yaml(fh)


def _solve_legacy(model: pyo.ConcreteModel, call: Call) -> Solved:
    """A classic Pyomo solver: one call (load and solve are not apart); the status line shows the phase."""
    s = call.settings
    opt = pyo.SolverFactory(s.name)
    names = s.option_names or _known_option_names().get(s.name, {})
    options = dict(s.options)
    for ours, value in (("time_limit", call.limit()), ("rel_gap", s.rel_gap), ("threads", s.threads),
                        ("seed", call.seed)):
        if ours in names:
            options[names[ours]] = value
    kwargs: dict[str, Any] = {"warmstart": True} if call.warm and opt.warm_start_capable() else {}
    if call.log:
        kwargs["logfile"] = str(call.log)
    tick = time.perf_counter()
    try:
        with call.status.solving(), call.phase("load and solve"):
            res = opt.solve(model, options=options, load_solutions=False, **kwargs)
    except Exception as err:  # a solver crash is a result, not a crash of the benchmark
        return Solved.failed(err, 0.0, time.perf_counter() - tick)
    solve_s = time.perf_counter() - tick
    tc = res.solver.termination_condition
    has = len(res.solution) > 0
    if has:
        model.solutions.load_from(res)
    lower = res.problem.lower_bound
    return Solved(LEGACY_TERMINATION.get(tc, Termination.OTHER), f"{res.solver.status} ({tc})", has,
                  pyo.value(model.cost) if has else None, finite(None if lower is None else float(lower)), 0.0,
                  solve_s, None, None)
