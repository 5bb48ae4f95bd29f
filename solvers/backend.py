"""Running a Pyomo model on a MILP/LP solver: HiGHS (default) through Pyomo's new solver interface, any
other installed Pyomo solver through the classic ``SolverFactory``. Limits and failures (a solver that
crashes) come back as a ``Solved`` with a termination, never as an exception; only an unavailable solver is
bad input (``require_available``, called before any work).

Every solve can write the solver's own log (``solver.log``, on by default, into the job directory) and,
with HiGHS, shows its progress (elapsed time, incumbent, dual bound, gap) on its status line
(solvers/status_line.py) and records it in ``Solved.progress``.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyomo.environ as pyo
import yaml
from pyomo.contrib.solver.common.factory import SolverFactory as ContribFactory
from pyomo.contrib.solver.common.results import SolutionStatus
from pyomo.contrib.solver.common.results import TerminationCondition as ContribTC
from pyomo.opt import TerminationCondition as LegacyTC

from bpr.errors import BprInputError
from bpr.files import atomic
from bpr.status import Termination
from solvers.registry import Context
from solvers.settings import SolverSettings
from solvers.status_line import StatusLine, num

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
    """One solve in the model's own objective units (solvers/formulation.py scales it)."""

    termination: Termination
    raw_status: str             # the solver's own word
    has_solution: bool
    incumbent: float | None
    bound: float | None
    load_s: float
    solve_s: float
    nodes: int | None
    warm_start_accepted: bool | None = None
    progress: list[tuple[float, float | None, float | None]] = field(default_factory=list)  # (s, incumbent, bound)

    @classmethod
    def failed(cls, err: Exception, load_s: float, solve_s: float) -> "Solved":
        """A solver that raised: its message is the raw status (a crash is a result, not a crash of the run)."""
        return cls(Termination.ERROR, (str(err).splitlines() or [type(err).__name__])[0], False, None, None, load_s,
                   solve_s, None)


def is_contrib(name: str) -> bool:
    return name in set(ContribFactory)


def require_available(name: str) -> None:
    """One clear message when a solver cannot be used."""
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


def solve(model: pyo.ConcreteModel, s: SolverSettings, warm: bool, seed: int, log: Path | None = None,
          status: StatusLine | None = None) -> Solved:
    status = status or StatusLine(s.name, show=False)
    status.phase(f"loading into {s.name}")
    out = (_solve_contrib if is_contrib(s.name) else _solve_legacy)(model, s, warm, seed, log, status)
    logger.info("%s: %s (%s), incumbent %s, bound %s, load %.1f s, solve %.1f s%s", s.name, out.termination,
                out.raw_status, num(out.incumbent), num(out.bound), out.load_s, out.solve_s,
                f", log {log}" if log else "")
    return out


def highs_internals(opt: Any) -> tuple[Any, dict[int, int]]:
    """The one place that reads private attributes of Pyomo's HiGHS interface (pyomo 6.10): the
    ``highspy.Highs`` object and the map from id(Pyomo variable) to HiGHS column. Needed for a MIP start
    (``setSolution``), the solver's own model status and its MIP callbacks, which the public interface
    does not offer."""
    return opt._solver_model, opt._pyomo_var_to_solver_var_map


def _solve_contrib(model: pyo.ConcreteModel, s: SolverSettings, warm: bool, seed: int,
                   log_file: Path | None, status: StatusLine) -> Solved:
    opt = ContribFactory(s.name)
    options = dict(s.options)
    highs = s.name == "highs"
    if highs:
        import highspy

        # threads are process-wide in HiGHS; a reused worker may have run with another count
        highspy.Highs.resetGlobalScheduler(True)
        options.setdefault("random_seed", seed)
    tick = time.perf_counter()
    load_s = 0.0
    progress: list[tuple[float, float | None, float | None]] = []
    try:
        opt.set_instance(model)
        load_s = time.perf_counter() - tick
        accepted = _highs_start(opt, model) if warm and highs else None
        status.phase(f"loaded in {load_s:.1f} s; solving (time limit {s.time_limit:g} s)")
        with ExitStack() as stack:
            tee = [stack.enter_context(open(log_file, "w", buffering=1))] if log_file else []  # readable meanwhile
            if highs:
                _watch(opt, progress, stack, status)
            stack.enter_context(status.solving())
            res = opt.solve(model, time_limit=s.time_limit, rel_gap=s.rel_gap, threads=s.threads,
                            solver_options=options, tee=tee, load_solutions=False,
                            raise_exception_on_nonoptimal_result=False)
    except Exception as err:  # a solver crash is a result (termination error), never a crash of the run
        logger.exception("%s failed", s.name)
        return Solved.failed(err, load_s, time.perf_counter() - tick - load_s)
    has = res.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal)
    if has:
        res.solution_loader.load_vars()
    tc = res.termination_condition
    raw = tc.name
    if highs:
        h, _ = highs_internals(opt)
        raw = h.modelStatusToString(h.getModelStatus())
        progress.append((float(res.timing_info.wall_time), _finite(res.incumbent_objective) if has else None,
                         _finite(res.objective_bound)))  # the curve ends where the solve ended
    return Solved(CONTRIB_TERMINATION.get(tc, Termination.OTHER), raw, has, res.incumbent_objective if has else None,
                  _finite(res.objective_bound), load_s, res.timing_info.wall_time,
                  getattr(res.extra_info, "mip_node_count", None), accepted, progress)


def _watch(opt: Any, progress: list, stack: ExitStack, status: StatusLine) -> None:
    """Record (elapsed, incumbent, bound) at every HiGHS MIP log line and show it on the status line."""
    h, _ = highs_internals(opt)

    def on_log(event: Any) -> None:
        out = event.data_out
        point = (float(out.running_time), _finite(out.mip_primal_bound), _finite(out.mip_dual_bound))
        progress.append(point)
        status.mip(*point)

    h.cbMipLogging.subscribe(on_log)
    stack.callback(h.cbMipLogging.unsubscribe, on_log)



def _finite(x: float | None) -> float | None:
    """A solver's value, or None for a missing or infinite one (JSON has no Infinity)."""
    return float(x) if x is not None and np.isfinite(x) else None


def _highs_start(opt: Any, model: pyo.ConcreteModel) -> bool:
    """MIP start: the variables' current values, in HiGHS column order."""
    import highspy

    h, index = highs_internals(opt)
    values = np.zeros(len(index))
    for v in model.component_data_objects(pyo.Var):
        if id(v) in index and v.value is not None:
            values[index[id(v)]] = v.value
    start = highspy.HighsSolution()
    start.col_value = values.tolist()
    start.value_valid = True
    return h.setSolution(start) == highspy.HighsStatus.kOk


@cache
def _known_option_names() -> dict[str, dict[str, str]]:
    with open(Path(__file__).with_name("option_names.yaml")) as fh:
        return yaml.safe_load(fh)


def _solve_legacy(model: pyo.ConcreteModel, s: SolverSettings, warm: bool, seed: int,
                  log_file: Path | None, status: StatusLine) -> Solved:
    """A classic Pyomo solver: one call (load and solve are not apart); the status line shows the phase."""
    opt = pyo.SolverFactory(s.name)
    names = s.option_names or _known_option_names().get(s.name, {})
    options = dict(s.options)
    for ours, value in (("time_limit", s.time_limit), ("rel_gap", s.rel_gap), ("threads", s.threads),
                        ("seed", seed)):
        if ours in names:
            options[names[ours]] = value
    kwargs: dict[str, Any] = {"warmstart": True} if warm and opt.warm_start_capable() else {}
    if log_file:
        kwargs["logfile"] = str(log_file)
    tick = time.perf_counter()
    try:
        with status.solving():
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
                  pyo.value(model.cost) if has else None, _finite(None if lower is None else float(lower)), 0.0,
                  solve_s, None, None)
