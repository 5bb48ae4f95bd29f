"""The runner's clock and deadline (solvers/framework/context.py, docs/results.md "Time"): shares of the one
deadline, the progress of a run on its clock from 0, work done once per run, and what a run of several
phases records. Nothing here asserts how long anything took: the clock is driven by hand or only ordered."""

from __future__ import annotations

import pandas as pd
import pytest
from factories import random_binding, tiny

from bench.report import overruns
from bpr.grading import grade
from bpr.record import overran
from solvers.algorithms import exact
from solvers.algorithms.heuristic_starts import heuristic_starts
from solvers.framework import registry
from solvers.framework.context import Clock, Context, for_run
from solvers.framework.settings import SolverSettings

QUIET = {"log": False, "progress": False}


class Hand(Clock):
    """A clock that shows what the test sets."""

    def __init__(self) -> None:
        super().__init__()
        self.t = 0.0

    def now(self) -> float:
        return self.t


def test_shares_of_the_one_deadline():
    clock = Hand()
    ctx = Context(clock=clock, until=20.0)
    clock.t = 4.0
    half = ctx.share(0.5)                  # half of the 16 s left
    assert half.deadline == 12.0 and half.left() == 8.0 and half.clock is clock
    assert ctx.at_most(10.0).deadline == 14.0 and ctx.at_most(100.0).deadline == 20.0
    clock.t = 25.0
    assert ctx.left() == 0.0 and ctx.share(0.5).deadline == 25.0     # nothing left to share
    assert Context(clock=clock).deadline == SolverSettings().time_limit   # no deadline given: the solver's limit


def test_the_progress_keeps_the_best_of_each_so_far_from_zero():
    clock = Hand()
    clock.t = 1.0
    clock.found(incumbent=0.9)
    clock.t = 2.0
    clock.found(incumbent=1.2, bound=0.5)       # a worse incumbent is not news; the first bound is
    clock.t = 3.0
    clock.found(bound=0.4)                      # nor is a lower bound
    clock.found(incumbent=0.8, at=2.5)
    assert clock.progress == [(0.0, None, None), (1.0, 0.9, None), (2.0, 0.9, 0.5), (2.5, 0.8, 0.5)]
    clock.t = 4.0
    assert clock.curve()[-1] == (4.0, 0.8, 0.5) and clock.incumbent() == 0.8


def test_work_asked_twice_is_done_once_and_charged_as_one_phase():
    clock = Hand()
    calls = []
    assert clock.once("k", "starts", lambda: calls.append(1) or 7) == 7
    assert clock.once("k", "starts", lambda: calls.append(1) or 8) == 7
    assert calls == [1] and [p.name for p in clock.phases] == ["starts"]


def test_a_run_gets_a_fresh_clock_and_its_limit():
    ctx = for_run(Context(), "exact", 5.0)
    assert ctx.algorithm == "exact" and ctx.until == 5.0 and ctx.clock.progress == [(0.0, None, None)]
    assert for_run(ctx, "cg_bprr", None).deadline == float("inf")


def test_the_heuristics_starts_are_computed_once_per_run_and_are_its_first_incumbent():
    inst = random_binding(3)
    ctx = for_run(Context(solver=SolverSettings(**QUIET)), "exact", 60.0)
    first = heuristic_starts(inst, ctx)
    assert heuristic_starts(inst, ctx) is first
    assert [p.name for p in ctx.clock.phases] == ["heuristic starts"]
    assert ctx.clock.progress[1][1] == first[0].cost


def test_a_run_of_several_phases_is_one_run_on_one_clock():
    """exact with lns_s and columns: the search, the restricted master and the model, each a phase of the one
    run in order; the heuristics' starts once; the progress log from 0 with the earlier phases' incumbents;
    the runner's time limit and its phases in the record."""
    inst = random_binding(3)
    sol = registry.call("exact", inst, options=exact.Options(lns_s=2.0, columns=True),
                        solver=SolverSettings(time_limit=60, rel_gap=0.0, **QUIET))
    names = [p.name for p in sol.record.phases]
    assert names.count("heuristic starts") == 1 and names[0] == "heuristic starts"
    assert names.index("neighbourhood search") < names.index("restricted_master-decomposition: build") \
        < names.index("exact: build") < names.index("exact: solve")
    starts = [p.start_s for p in sol.record.phases]
    assert starts == sorted(starts) and all(p.end_s <= sol.record.runtime_s for p in sol.record.phases)
    progress = sol.record.solver.progress
    assert progress[0] == (0.0, None, None) and progress[1][0] < sol.record.phases[-1].start_s
    incumbents = [inc for _, inc, _ in progress[1:]]
    assert incumbents == sorted(incumbents, reverse=True) and sol.record.time_limit_s == 60.0
    assert sol.termination == "optimal" and progress[-1][1] == pytest.approx(progress[-1][2], rel=1e-6)


@pytest.mark.parametrize("name", ["exact", "restricted_master", "milp"])
def test_a_time_that_is_up_builds_no_model_and_the_run_returns_its_start(name):
    """Nothing is built once the deadline has passed; the run still returns the best heuristic solution it
    computed (never worse than the heuristics), with termination time_limit and a message that says so."""
    inst = random_binding(3)
    sol = registry.call(name, inst, solver=SolverSettings(time_limit=1e-6, **QUIET))   # up after the starts
    starts = {s.name: s for s in heuristic_starts(inst, Context())}
    first = "cg_bprr" if name == "milp" else min(starts.values(), key=lambda s: s.cost).name   # the paper's start
    assert sol.termination == "time_limit" and sol.has_solution and sol.info["solution_from"] == first
    assert "time limit" in sol.message and first in sol.message
    assert not any(p.name.endswith(": build") for p in sol.record.phases)
    assert grade(inst, sol).evaluation.per_token_s == pytest.approx(starts[first].cost, rel=1e-12)


def test_a_time_that_is_up_without_a_start_is_a_run_without_a_solution():
    ctx = Context(solver=SolverSettings(warm_start=False, **QUIET), until=0.0)
    sol = exact.solve(tiny(3, M=[10.0], tau=[0.01], t=[[0.1]], R=2), ctx=ctx)
    assert sol.termination == "time_limit" and not sol.has_solution
    assert "before the model was built" in sol.message


def test_runs_past_their_limit_are_listed_once_per_run():
    rows = pd.DataFrame([
        {"instance": "i", "algorithm": "exact", "seed": 0, "run": 0, "time_limit_s": 20.0, "runtime_s": 21.5,
         "overrun_s": 1.5, "phases": "exact: solve 3.0-21.4 s"},
        {"instance": "i", "algorithm": "lns", "seed": 0, "run": 0, "time_limit_s": 20.0, "runtime_s": 20.9,
         "overrun_s": 0.9, "phases": ""},
        {"instance": "i", "algorithm": "lower_bounds:capacity", "seed": 0, "run": 0, "time_limit_s": 100.0,
         "runtime_s": 103.0, "overrun_s": 3.0, "phases": ""},
        {"instance": "i", "algorithm": "lower_bounds:window_sizes", "seed": 0, "run": 0, "time_limit_s": 100.0,
         "runtime_s": 103.0, "overrun_s": 3.0, "phases": ""},
        {"instance": "i", "algorithm": "cg_bprr", "seed": 0, "run": 0, "time_limit_s": None, "runtime_s": 0.01,
         "overrun_s": None, "phases": ""},
    ])
    assert overruns(rows).algorithm.tolist() == ["exact", "lower_bounds"]      # 1 s or 2 %, whichever is more
    assert overran(1.01, 20.0) and not overran(1.0, 20.0) and overran(2.01, 100.0) and not overran(2.0, 100.0)
    assert not overran(None, None) and not overran(5.0, None)
