"""SCIP (through pyscipopt) on the model exactly as HiGHS holds it: the second solver of the one solve path
(``solver=scip``, docs/results.md, "Solvers").

Pyomo loads the model into HiGHS as for a HiGHS solve (fast, and the same matrix both solvers see); HiGHS
writes it as MPS and SCIP reads it. Pyomo's own SCIP interface would walk every constraint's expression in
Python (minutes on a model of 50,000 columns). SCIP reads its clock often, so it runs in the runner's
process: it has the run's time limit, and an event handler hands every new incumbent and bound to the
caller and interrupts the solve if the deadline comes first.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyscipopt

from bpr.status import Termination
from solvers.framework.highs_process import Ended, Job

# SCIP's status words (SCIPgetStatus) as terminations: a gap limit is HiGHS's "Optimal" within
# mip_rel_gap; any other limit (nodes, solutions, memory) is ``other``, as with HiGHS.
TERMINATION = {"optimal": Termination.OPTIMAL, "gaplimit": Termination.OPTIMAL, "timelimit": Termination.TIME_LIMIT,
               "infeasible": Termination.INFEASIBLE, "inforunbd": Termination.INFEASIBLE,
               "unbounded": Termination.UNBOUNDED}


# SCIP 10's defaults claimed wrong optima on 3 of the tests' 20 random binding instances (seeds 8, 18, 19 of
# factories.random_binding: 0.326971, 0.440403, 0.378766 "optimal", where HiGHS's 0.326482, 0.439597,
# 0.377897 pass the checker and SCIP's own check; Pyomo's own SCIP interface gives the same wrong values).
# With its emphasis for numerically troublesome models and conflict analysis off it was wrong on 1 of seeds
# 0-39 (seed 10: 0.310716 against 0.309263), the fewest of the settings tried (docs/results.md, "Solvers");
# solver.options may still override either.
SAFE = {"conflict/enable": False}


def termination(ended: Ended) -> Termination:
    if ended.stopped:
        return Termination.TIME_LIMIT
    return TERMINATION.get(ended.status, Termination.OTHER)


def solve(h: Any, job: Job, left: Callable[[], float], stop_s: float,
          on_point: Callable[[float, float | None, float | None], None]) -> Ended:
    """Solve the model loaded in the ``highspy.Highs`` ``h`` with SCIP; ``job`` carries the options (SCIP
    parameter names, plus the shared ``rel_gap`` and ``seed``), the MIP start in HiGHS column order, the log
    file and the end of the time limit (``Job.ends_at``)."""
    m = pyscipopt.Model()
    m.hideOutput(True)          # quiet on the console; the log file still gets every line
    if job.log:          # SCIP appends to it: the caller starts it empty
        m.setLogfile(job.log)
    columns = _read(m, h)
    m.setEmphasis(pyscipopt.SCIP_PARAMEMPHASIS.NUMERICS)
    for name, value in SAFE.items():
        m.setParam(name, value)
    _set(m, job.options)
    accepted = _start(m, columns, job.start) if job.start is not None else None
    watch = _Watch(left, stop_s, on_point)
    m.includeEventhdlr(watch, "bpr_watch", "hands incumbents and bounds to the runner; stops at its deadline")
    if job.ends_at is not None:     # set last: writing and reading the model do not eat into it
        m.setParam("limits/time", max(job.ends_at - time.monotonic(), 1e-3))
    tick = time.perf_counter()
    m.optimize()
    run_s = time.perf_counter() - tick
    status = m.getStatus()
    stopped = watch.stopped and status == "userinterrupt"
    if status == "userinterrupt" and not watch.stopped:
        raise KeyboardInterrupt      # SCIP caught a Ctrl-C meant for the run
    has = m.getNSols() > 0
    best = m.getBestSol() if has else None
    values = np.array([m.getSolVal(best, v) for v in columns]) if has else None
    word = status + (" (stopped by the runner at the deadline)" if stopped else "")
    return Ended(word, None, has, values, m.getSolObjVal(best) if has else None, _finite(m, m.getDualbound()),
                 int(m.getNNodes()), run_s, accepted, stopped=stopped)


def _read(m: Any, h: Any) -> list[Any]:
    """Read HiGHS's model into SCIP by MPS; SCIP's variables in HiGHS column order (by their MPS names)."""
    names = list(h.getLp().col_names_)
    h.setOptionValue("output_flag", False)     # HiGHS would print its name warnings to stdout
    with tempfile.TemporaryDirectory(prefix="bpr-scip-") as tmp:
        path = str(Path(tmp) / "model.mps")
        h.writeModel(path)
        m.readProblem(path)
    by_name = {v.name: v for v in m.getVars()}
    return [by_name[names[j] if names else f"c{j}"] for j in range(h.getNumCol())]


def _set(m: Any, options: dict[str, Any]) -> None:
    shared = {"rel_gap": "limits/gap", "seed": "randomization/randomseedshift"}
    for key, value in options.items():
        m.setParam(shared.get(key, key), value)


def _start(m: Any, columns: list[Any], values: np.ndarray) -> bool:
    """Hand SCIP the MIP start; accepted only when SCIP finds it feasible (``addSol`` keeps any)."""
    sol = m.createSol()
    for v, x in zip(columns, values):
        m.setSolVal(sol, v, float(x))
    feasible = bool(m.checkSol(sol))
    return bool(m.addSol(sol, free=True)) and feasible


def _finite(m: Any, x: float) -> float | None:
    return None if m.isInfinity(abs(x)) else float(x)


class _Watch(pyscipopt.Eventhdlr):
    """SCIP's events that change what the runner shows (a new incumbent, a solved node, a presolve round):
    hand on (incumbent, bound) when either moved, and interrupt once the deadline is ``stop_s`` away."""

    def __init__(self, left: Callable[[], float], stop_s: float,
                 on_point: Callable[[float, float | None, float | None], None]):
        self.left, self.stop_s, self.on_point = left, stop_s, on_point
        self.last: tuple[float | None, float | None] | None = None
        self.stopped = False

    def _events(self) -> Any:
        kinds = pyscipopt.SCIP_EVENTTYPE
        return kinds.BESTSOLFOUND | kinds.NODESOLVED | kinds.PRESOLVEROUND

    def eventinit(self) -> None:
        self.model.catchEvent(self._events(), self)

    def eventexit(self) -> None:
        self.model.dropEvent(self._events(), self)

    def eventexec(self, event: Any) -> None:
        m = self.model
        point = (_finite(m, m.getPrimalbound()), _finite(m, m.getDualbound()))
        if point != self.last:
            self.last = point
            self.on_point(m.getSolvingTime(), *point)
        if not self.stopped and self.left() <= self.stop_s:
            self.stopped = True
            m.interruptSolve()
