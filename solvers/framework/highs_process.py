"""HiGHS in a child process, so that the runner can stop a solve at its deadline.

HiGHS reads its clock only between steps, and some steps of a large MIP are long: on janet-binding (49,080
columns) its MIP presolve takes 4-5 s and the root LP 3.4 s without one clock read, so a 7 s time limit
ended after 9.3 s (docs/results.md, "Time"). A thread cannot be stopped; a process can. The parent
(``HighsProcess.solve``) hands the loaded model to a child that runs it with the same options and streams
back every log point (incumbent, bound) and every improving solution; if the deadline comes first, the
parent kills the child and keeps what was streamed: the best solution so far and the last dual bound.

The child is started once per process and reused (its start, about 0.1 s, overlaps the model's build); a
killed child is replaced at once. This file is also the child's program: run by path, it imports only
highspy and numpy.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from typing import Any, Callable

import numpy as np

POLL_S = 0.05        # how often the parent looks at the clock while the child solves
STOPPED = "Time limit reached (stopped by the runner: HiGHS had not read its clock by the deadline)"


@dataclass
class Ended:
    """How a solve in the child ended, in HiGHS's words: its model status (``stopped`` when the parent
    killed it at the deadline), whether a primal solution exists and its column values (None without
    one), the incumbent and dual bound, nodes, the solve's wall time and whether the MIP start was taken."""

    status: str
    code: int | None            # HighsModelStatus (None: stopped, or the child failed)
    has_solution: bool
    values: np.ndarray | None
    incumbent: float | None
    bound: float | None
    nodes: int | None
    run_s: float
    start_accepted: bool | None
    stopped: bool = False
    error: str = ""


@dataclass
class Job:
    """One solve: the model as arrays (``model_arrays``), the HiGHS options, a MIP start in column order (or
    None), the log file (None: no log) and the moment HiGHS's time limit ends on ``time.monotonic`` (one
    clock for every process of the machine: the child sets the limit from it just before it solves, so
    sending and loading the model do not eat into it). It crosses the pipe as a dict: the child, run by
    path, cannot import this module by name."""

    model: dict[str, Any]
    options: dict[str, Any]
    start: np.ndarray | None = None
    log: str | None = None
    ends_at: float | None = None


def model_arrays(h: Any) -> dict[str, Any]:
    """The model held by a ``highspy.Highs`` as plain arrays (what crosses the pipe)."""
    lp = h.getLp()
    m = lp.a_matrix_
    return {"num_col": lp.num_col_, "num_row": lp.num_row_, "cost": np.asarray(lp.col_cost_),
            "col_lower": np.asarray(lp.col_lower_), "col_upper": np.asarray(lp.col_upper_),
            "row_lower": np.asarray(lp.row_lower_), "row_upper": np.asarray(lp.row_upper_),
            "format": int(m.format_), "start": np.asarray(m.start_), "index": np.asarray(m.index_),
            "value": np.asarray(m.value_), "integrality": np.array([int(t) for t in lp.integrality_], dtype=np.int8),
            "offset": float(lp.offset_), "sense": int(lp.sense_)}


@dataclass
class HighsProcess:
    """The parent's handle on its child (one per process, ``worker()``)."""

    proc: subprocess.Popen | None = None
    conn: Connection | None = None

    def ensure(self) -> None:
        """Start the child unless one is running (non-blocking: it imports while the parent goes on). It has
        a session of its own, so that a Ctrl-C of the terminal reaches only the parent, which stops it."""
        if self.proc is not None and self.proc.poll() is None:
            return
        self.stop()                       # a child that died idle: its pipe is closed too
        ours, theirs = Pipe()
        try:
            fd = theirs.fileno()
            self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), str(fd)], pass_fds=(fd,),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         start_new_session=True)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.conn = ours

    def stop(self) -> None:
        """Kill the child (a solve past its deadline, or the parent interrupted)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None

    def _exit_code(self) -> int | None:
        """The child's exit code once it has ended (a pipe can close a moment before the process does)."""
        try:
            return None if self.proc is None else self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:     # alive with a broken pipe: stop() kills it
            return None

    def solve(self, job: Job, left: Callable[[], float], stop_s: float,
              on_point: Callable[[float, float | None, float | None], None]) -> Ended:
        """Run ``job`` in the child; stop it when ``left()`` (seconds to the deadline) falls to ``stop_s``.
        ``on_point(seconds, incumbent, bound)`` hears every MIP log point as it comes."""
        tick = time.perf_counter()
        seen = _Seen(job.start is not None)
        try:
            self.ensure()
            _send(self.conn, vars(job))
            while True:
                wait = left() - stop_s
                # what has already arrived is read first: a solve that ended just in time keeps its answer
                if not self.conn.poll(max(min(wait, POLL_S), 0)):
                    if wait > 0:
                        continue
                    self.stop()
                    self.ensure()
                    return seen.stopped(time.perf_counter() - tick)
                kind, *data = _receive(self.conn)
                if kind == "done":
                    return Ended(**data[0])
                seen.take(kind, data, on_point)
        except (EOFError, OSError) as err:      # the child died: a solver crash is a result
            code = self._exit_code()
            self.stop()
            return Ended(f"the HiGHS process ended unexpectedly (exit code {code}: {str(err) or type(err).__name__})",
                         None, False, None, None, None, None, time.perf_counter() - tick, None, error="crash")
        except BaseException:                   # an interrupt of the parent must not leave the child solving
            self.stop()
            raise


@dataclass
class _Seen:
    """What the parent has heard of a running solve: the last log point, the best improving solution (HiGHS
    reports an accepted MIP start as one, at its start) and whether the start was accepted."""

    warm: bool
    incumbent: float | None = None
    bound: float | None = None
    best: tuple[float, np.ndarray] | None = None
    start_accepted: bool | None = None

    def take(self, kind: str, data: list, on_point: Callable[[float, float | None, float | None], None]) -> None:
        if kind == "point":
            seconds, self.incumbent, self.bound = data
            on_point(seconds, self.incumbent, self.bound)
        elif kind == "solution":
            self.best = (data[0], data[1])
        elif kind == "start":
            self.start_accepted = data[0]

    def stopped(self, run_s: float) -> Ended:
        """What is known of a solve the parent stopped: the best improving solution; without one, a finite
        incumbent in the log can only be the MIP start, whose values the caller still holds."""
        if self.best is not None:
            return Ended(STOPPED, None, True, self.best[1], self.best[0], self.bound, None, run_s,
                         self.start_accepted, stopped=True)
        from_start = self.warm and self.incumbent is not None
        return Ended(STOPPED, None, from_start, None, self.incumbent if from_start else None, self.bound, None,
                     run_s, self.start_accepted, stopped=True)


_WORKER = HighsProcess()


def worker() -> HighsProcess:
    return _WORKER


# ---- the child ---------------------------------------------------------------------------------------

def _send(conn: Connection, message: Any) -> None:
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _receive(conn: Connection) -> Any:
    return pickle.loads(conn.recv_bytes())


def _orphaned(parent: int) -> None:
    """End the child when its parent has gone (killed mid-solve: no one would ever read the result)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _serve(conn: Connection) -> None:
    import threading

    import highspy

    threading.Thread(target=_orphaned, args=(os.getppid(),), daemon=True).start()

    while True:
        try:
            message = _receive(conn)
        except EOFError:        # the parent has gone
            return
        try:
            ended = _run(highspy, Job(**message), conn)
        except Exception as err:   # reported, not raised: the parent makes it a row with an error
            ended = Ended(f"{type(err).__name__}: {err}", None, False, None, None, None, None, 0.0, None, error="crash")
        _send(conn, ("done", vars(ended)))


def _run(highspy: Any, job: Job, conn: Connection) -> Ended:
    highspy.Highs.resetGlobalScheduler(True)   # threads are process-wide; the last job may have had more
    h = highspy.Highs()
    h.setOptionValue("log_to_console", False)
    h.passModel(_lp(highspy, job.model))
    options = dict(job.options) | ({"log_file": job.log} if job.log else {})
    for key, value in options.items():
        if h.setOptionValue(key, value) == highspy.HighsStatus.kError:
            raise ValueError(f"HiGHS rejects the option {key} = {value!r} (solver.options: see HiGHS's option list)")
    accepted = None
    if job.start is not None:
        start = highspy.HighsSolution()
        start.col_value = job.start.tolist()
        start.value_valid = True
        accepted = h.setSolution(start) == highspy.HighsStatus.kOk
        _send(conn, ("start", accepted))
    if job.ends_at is not None:
        h.setOptionValue("time_limit", max(job.ends_at - time.monotonic(), 1e-3))

    def on_log(event: Any) -> None:
        out = event.data_out
        _send(conn, ("point", float(out.running_time), finite(out.mip_primal_bound), finite(out.mip_dual_bound)))

    def on_improving(event: Any) -> None:
        out = event.data_out
        _send(conn, ("solution", float(out.objective_function_value), np.asarray(out.mip_solution, dtype=float)))

    h.cbMipLogging.subscribe(on_log)
    h.cbMipImprovingSolution.subscribe(on_improving)
    tick = time.perf_counter()
    h.run()
    run_s = time.perf_counter() - tick
    return _ended(highspy, h, run_s, accepted)


def _ended(highspy: Any, h: Any, run_s: float, accepted: bool | None) -> Ended:
    """The solve's outcome as Pyomo's HiGHS interface reads it (pyomo/contrib/solver/solvers/highs.py)."""
    info = h.getInfo()
    status = h.getModelStatus()
    has = info.primal_solution_status == 2
    mip = info.mip_node_count != -1
    if mip:
        bound = finite(info.mip_dual_bound)
    else:
        bound = info.objective_function_value if has and status == highspy.HighsModelStatus.kOptimal else None
    values = np.asarray(h.getSolution().col_value, dtype=float) if has else None
    incumbent = info.objective_function_value if has else None
    return Ended(h.modelStatusToString(status), int(status), has, values, incumbent, bound,
                 int(info.mip_node_count), run_s, accepted)


def _lp(highspy: Any, a: dict[str, Any]) -> Any:
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = a["num_col"], a["num_row"]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = a["cost"], a["col_lower"], a["col_upper"]
    lp.row_lower_, lp.row_upper_ = a["row_lower"], a["row_upper"]
    m = lp.a_matrix_
    m.format_ = highspy.MatrixFormat(a["format"])
    m.num_col_, m.num_row_ = a["num_col"], a["num_row"]
    m.start_, m.index_, m.value_ = a["start"], a["index"], a["value"]
    lp.integrality_ = [highspy.HighsVarType(int(t)) for t in a["integrality"]]
    lp.offset_ = a["offset"]
    lp.sense_ = highspy.ObjSense(a["sense"])
    return lp


def finite(x: float | None) -> float | None:
    """A solver's value, or None for a missing or infinite one (JSON has no Infinity)."""
    return float(x) if x is not None and np.isfinite(x) else None


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
