"""Running a Pyomo model on a MILP solver: HiGHS (default) through Pyomo's new solver interface, any
other installed Pyomo solver through the classic ``SolverFactory``. Limits and failures come back as an
``Outcome`` with a status, never as an exception; only an unavailable solver is bad input."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyomo.environ as pyo
import yaml
from pyomo.contrib.solver.common.factory import SolverFactory as ContribFactory
from pyomo.contrib.solver.common.results import TerminationCondition as ContribTC
from pyomo.opt import TerminationCondition as LegacyTC

from bpr.errors import BprInputError

CONTRIB_STATUS = {
    ContribTC.convergenceCriteriaSatisfied: "optimal",
    ContribTC.maxTimeLimit: "time_limit",
    ContribTC.provenInfeasible: "infeasible",
    ContribTC.infeasibleOrUnbounded: "infeasible",
    ContribTC.iterationLimit: "iteration_limit",
    ContribTC.interrupted: "interrupted",
}
LEGACY_STATUS = {LegacyTC.optimal: "optimal", LegacyTC.maxTimeLimit: "time_limit",
                 LegacyTC.infeasible: "infeasible", LegacyTC.infeasibleOrUnbounded: "infeasible",
                 LegacyTC.maxIterations: "iteration_limit"}


@dataclass
class SolverSettings:
    """Solver choice and limits (also the Hydra schema of ``conf/solver``); recorded with every result row.
    ``option_names`` maps time_limit, rel_gap, threads and seed to a classic Pyomo solver's own option names
    (default: solvers/milp/option_names.yaml)."""

    name: str = "highs"
    time_limit: float = 60.0
    rel_gap: float = 1e-6
    threads: int = 1
    warm_start: bool = True
    max_vars: int = 1_000_000   # ~10 KB per variable in Pyomo + HiGHS: ~11 GB, room left on a 24 GB machine
    export: str | None = None
    option_names: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, cfg: dict[str, Any] | None, **overrides: Any) -> "SolverSettings":
        known = set(cls.__dataclass_fields__)
        data = {**(cfg or {}), **{k: v for k, v in overrides.items() if v is not None}}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BprInputError(f"unknown solver setting '{unknown[0]}'; known: {', '.join(sorted(known))}")
        s = cls(**data)
        if not s.time_limit > 0:
            raise BprInputError(f"solver.time_limit must be > 0, got {s.time_limit}")
        if not 0 <= s.rel_gap < 1:
            raise BprInputError(f"solver.rel_gap must be in [0, 1), got {s.rel_gap}")
        return s


@dataclass
class Outcome:
    status: str                 # optimal / time_limit / infeasible / iteration_limit / error ...
    termination: str            # Pyomo's termination condition
    raw_status: str             # the solver's own word
    has_solution: bool
    incumbent: float | None
    bound: float | None
    load_s: float
    solve_s: float
    nodes: int | None
    warm_start_accepted: bool | None = None


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


def export(model: pyo.ConcreteModel, path: str) -> None:
    """Write the model as .lp or .mps (by suffix) so others can run it elsewhere."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".lp", ".mps"):
        raise BprInputError(f"solver.export: expected a path ending in .lp or .mps, got '{path}'")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    model.write(path, io_options={"symbolic_solver_labels": True})  # Pyomo picks the format by suffix


def solve(model: pyo.ConcreteModel, s: SolverSettings, warm: bool, seed: int) -> Outcome:
    return (_solve_contrib if is_contrib(s.name) else _solve_legacy)(model, s, warm, seed)


def _solve_contrib(model: pyo.ConcreteModel, s: SolverSettings, warm: bool, seed: int) -> Outcome:
    opt = ContribFactory(s.name)
    options = dict(s.options)
    if s.name == "highs":
        import highspy

        # threads are process-wide in HiGHS; a reused worker may have run with another count
        highspy.Highs.resetGlobalScheduler(True)
        options.setdefault("random_seed", seed)
    tick = time.perf_counter()
    opt.set_instance(model)
    load_s = time.perf_counter() - tick
    accepted = _highs_start(opt, model) if warm and s.name == "highs" else None
    res = opt.solve(model, time_limit=s.time_limit, rel_gap=s.rel_gap, threads=s.threads, solver_options=options,
                    load_solutions=False, raise_exception_on_nonoptimal_result=False)
    has = res.incumbent_objective is not None
    if has:
        res.solution_loader.load_vars()
    raw = res.termination_condition.name
    if s.name == "highs":
        h = opt._solver_model
        raw = h.modelStatusToString(h.getModelStatus())
    tc = res.termination_condition
    return Outcome(CONTRIB_STATUS.get(tc, tc.name), tc.name, raw, has,
                   res.incumbent_objective, res.objective_bound, load_s, res.timing_info.wall_time,
                   getattr(res.extra_info, "mip_node_count", None), accepted)


def _highs_start(opt, model: pyo.ConcreteModel) -> bool:
    """MIP start: the variables' current values, in HiGHS column order (persistent interface map)."""
    import highspy

    index = opt._pyomo_var_to_solver_var_map
    values = np.zeros(len(index))
    for v in model.component_data_objects(pyo.Var):
        if id(v) in index and v.value is not None:
            values[index[id(v)]] = v.value
    start = highspy.HighsSolution()
    start.col_value = values.tolist()
    start.value_valid = True
    return opt._solver_model.setSolution(start) == highspy.HighsStatus.kOk


@cache
def _known_option_names() -> dict[str, dict[str, str]]:
    with open(Path(__file__).with_name("option_names.yaml")) as fh:
        return yaml.safe_load(fh)


def _solve_legacy(model: pyo.ConcreteModel, s: SolverSettings, warm: bool, seed: int) -> Outcome:
    opt = pyo.SolverFactory(s.name)
    names = s.option_names or _known_option_names().get(s.name, {})
    options = dict(s.options)
    for ours, value in (("time_limit", s.time_limit), ("rel_gap", s.rel_gap), ("threads", s.threads),
                        ("seed", seed)):
        if ours in names:
            options[names[ours]] = value
    kwargs = {"warmstart": True} if warm and opt.warm_start_capable() else {}
    tick = time.perf_counter()
    try:
        res = opt.solve(model, options=options, load_solutions=False, **kwargs)
    except Exception as err:  # a solver crash is a result, not a crash of the benchmark
        return Outcome("error", "error", str(err).splitlines()[0], False, None, None, 0.0,
                       time.perf_counter() - tick, None)
    solve_s = time.perf_counter() - tick
    tc = res.solver.termination_condition
    has = len(res.solution) > 0
    if has:
        model.solutions.load_from(res)
    lower = res.problem.lower_bound
    finite = lambda x: x is not None and abs(float(x)) < float("inf")  # noqa: E731
    return Outcome(LEGACY_STATUS.get(tc, str(tc)), str(tc), str(res.solver.status), has,
                   pyo.value(model.cost) if has else None,
                   float(lower) if finite(lower) else None, 0.0, solve_s, None, None)
