"""HiGHS in its child process: the parent stops a solve at the deadline and keeps what was streamed, a child
that dies is a result, and the next solve gets a fresh child. No assertion here depends on how fast the
machine is: the 'deadline' comes at the first log point, however long that takes."""

import os
import signal

import highspy
import numpy as np
import pytest

from solvers.framework import highs_process


def market_split(m: int, n: int, seed: int) -> highspy.Highs:
    """min sum |slack| s.t. sum_j a_ij x_j + s+_i - s-_i = b_i, x binary (Cornuejols-Dawande market split:
    with m = 4 and n = 30 branch and bound needs far more than a second, so a solve is still running when
    it is stopped)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(m, n))
    b = a.sum(axis=1) // 2
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    h.addVars(n + 2 * m, np.zeros(n + 2 * m), np.r_[np.ones(n), np.full(2 * m, inf)])
    h.changeColsCost(n + 2 * m, np.arange(n + 2 * m), np.r_[np.zeros(n), np.ones(2 * m)])
    h.changeColsIntegrality(n, np.arange(n), np.full(n, highspy.HighsVarType.kInteger))
    for i in range(m):
        idx = np.r_[np.arange(n), n + 2 * i, n + 2 * i + 1]
        h.addRow(b[i], b[i], len(idx), idx, np.r_[a[i], 1.0, -1.0])
    return h


def start_of(h: highspy.Highs) -> np.ndarray:
    """x = 0: every slack takes its whole b_i (a feasible start of cost sum b)."""
    lp = h.getLp()
    n, m = lp.num_col_ - 2 * lp.num_row_, lp.num_row_
    x = np.zeros(lp.num_col_)
    x[n::2] = np.asarray(lp.row_lower_)[:m]
    return x


def tiny_lp() -> highspy.Highs:
    """min x + 2y s.t. x + y >= 3, y >= 1: optimum 4 at (2, 1)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVars(2, np.array([0.0, 1.0]), np.array([highspy.kHighsInf] * 2))
    h.changeColsCost(2, np.arange(2), np.array([1.0, 2.0]))
    h.addRow(3.0, highspy.kHighsInf, 2, np.arange(2), np.ones(2))
    return h


def stop_at_first_point(extra=lambda: None):
    seen = []

    def on_point(seconds, incumbent, bound):
        seen.append((incumbent, bound))
        extra()

    return (lambda: 0.0 if seen else float("inf")), on_point, seen


def test_a_solve_past_its_deadline_is_stopped_and_keeps_its_incumbent():
    h = market_split(4, 30, seed=3)
    start = start_of(h)
    left, on_point, seen = stop_at_first_point()
    child = highs_process.worker()
    ended = child.solve(highs_process.Job(highs_process.model_arrays(h), {"threads": 1}, start), left, 0.0,
                        on_point)
    assert ended.stopped and ended.code is None and ended.status.startswith("Time limit reached")
    assert seen and ended.has_solution
    assert ended.incumbent is not None and ended.incumbent <= start.sum() + 1e-9
    if ended.values is not None:   # an improving solution was streamed: its cost is the incumbent
        assert float(np.dot(h.getLp().col_cost_, ended.values)) == pytest.approx(ended.incumbent)
    after = child.solve(highs_process.Job(highs_process.model_arrays(tiny_lp()), {}), lambda: float("inf"), 0.0,
                        lambda *p: None)
    assert after.status == "Optimal" and after.incumbent == pytest.approx(4.0)
    assert after.values == pytest.approx([2.0, 1.0])


def test_a_child_that_dies_is_an_error_and_the_next_solve_works():
    child = highs_process.worker()
    child.ensure()

    def kill():
        os.kill(child.proc.pid, signal.SIGKILL)

    h = market_split(4, 30, seed=4)
    left, on_point, _ = stop_at_first_point(extra=kill)
    ended = child.solve(highs_process.Job(highs_process.model_arrays(h), {}, start_of(h)),
                        lambda: float("inf"), 0.0, on_point)
    assert ended.error == "crash" and "ended unexpectedly" in ended.status and not ended.has_solution
    after = child.solve(highs_process.Job(highs_process.model_arrays(tiny_lp()), {}), lambda: float("inf"), 0.0,
                        lambda *p: None)
    assert after.code == int(highspy.HighsModelStatus.kOptimal) and after.incumbent == pytest.approx(4.0)
