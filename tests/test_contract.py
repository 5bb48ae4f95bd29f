"""The contract every registered algorithm keeps (as ``benchopt test`` does for its solvers), run for each
algorithm the registry finds, so a new algorithm is covered without writing a test:

- on three small instances it returns a result of its declared kind without failing, and its output passes
  the one checker, or carries a non-feasible termination with a message (online: a placement whose ranges
  lie in 1..L and a simulation that serves requests, or a message; bounds: a positive best bound);
- the same seed gives the same result;
- an option it does not declare is rejected by name, and so is a value of the wrong type;
- a time limit, where declared (``uses_solver``), is honoured and reported as a status.
"""

from __future__ import annotations

import dataclasses

import pytest
from factories import tiny

from bench.instance_builder import make_instance
from bench.online import run_measures
from bench.options import make_options
from bpr.bounds import Bounds
from bpr.errors import BprInputError
from bpr.grading import grade
from bpr.simulator import poisson_arrivals, simulate_setup
from bpr.status import Outcome, Termination
from solvers.framework import registry
from solvers.framework.context import Context
from solvers.framework.registry import Kind
from solvers.framework.settings import SolverSettings

pytestmark = pytest.mark.registry    # one test per registered algorithm

# The paper's MILP rarely closes its gap on the named instances: 3 s give an incumbent and a status.
SOLVER = SolverSettings(time_limit=3, rel_gap=0.0, log=False, progress=False)


@pytest.fixture(scope="session")
def instances():
    """A hand-made one, a clustered and a Topology Zoo one, all small enough for the exact algorithms."""
    return {
        "tiny": tiny(5, M=[4.0, 3.0, 8.0], tau=[0.01, 0.02, 0.005], t=[[0.1, 0.05, 0.2]], R=2),
        "clustered": make_instance("clustered", 0, {"workload.R": 2, "workload.n_requests": 12}),
        "abovenet": make_instance("abovenet", 1, {"workload.R": 2, "workload.l_out": 64, "workload.n_requests": 12}),
    }


ALL = [(mode, name) for mode in ("offline", "online") for name in registry.algorithms(mode)]


def run(mode: str, name: str, inst, seed: int = 0, **solver):
    alg = registry.get(name, mode)
    ctx = Context(seed=seed, solver=dataclasses.replace(SOLVER, **solver))
    return alg, registry.run(alg, inst, make_options(alg), ctx)


def _fingerprint(mode, result):
    if mode == "online":
        pl = result.placement
        return None if pl is None else (pl.a.tolist(), pl.m.tolist(), result.capacity.tolist())
    if isinstance(result, Bounds):
        return {name: (b.value_s, b.termination) for name, b in result.bounds.items()}
    return (result.placement, result.routes, result.termination)


@pytest.mark.parametrize("mode, name", ALL)
@pytest.mark.parametrize("which", ["tiny", "clustered", "abovenet"])
def test_output_is_checked_feasible_or_a_status_with_a_message(instances, mode, name, which):
    inst = instances[which]
    alg, result = run(mode, name, inst)
    assert isinstance(result, alg.kind.result_type) and result.record.outcome is Outcome.OK, result.record.message
    assert result.record.runtime_s is not None and result.record.runtime_s >= 0     # measured by the runner
    if alg.kind is Kind.ONLINE:
        if result.placement is None:
            assert result.message
            return
        pl = result.placement
        hosting = pl.m > 0
        assert (pl.a[hosting] >= 1).all() and (pl.a[hosting] + pl.m[hosting] - 1 <= inst.L).all()
        trace = simulate_setup(inst, result, poisson_arrivals(inst, 5, 0.5, 0))
        row = run_measures(inst, result, trace, 0.0)
        assert row["sim_status"] == "served" or (row["sim_status"] == "unserved" and "unserved" in row["message"])
        return
    if alg.kind is Kind.BOUND:
        assert result.bounds and result.best_s > 0
        return
    assert result.termination in set(Termination)
    graded = grade(inst, result)
    if graded.report is None:
        assert result.termination != Termination.SOLVED and result.message
    else:
        assert graded.solution.status in ("feasible", "infeasible")
        if not graded.report.feasible:   # PETALS over-commits memory: said by the checker, cost still known
            assert graded.report.summary() and graded.evaluation is not None


@pytest.mark.parametrize("mode, name", ALL)
def test_same_seed_same_result(instances, mode, name):
    # a solver stopped by its time limit is not repeatable; on the tiny instance every solver finishes
    inst = instances["tiny" if registry.get(name, mode).uses_solver else "abovenet"]
    assert _fingerprint(mode, run(mode, name, inst, seed=3)[1]) == _fingerprint(mode, run(mode, name, inst, seed=3)[1])


@pytest.mark.parametrize("mode, name", ALL)
def test_undeclared_options_are_rejected_by_name(mode, name):
    alg = registry.get(name, mode)
    with pytest.raises(BprInputError, match=f"unknown {alg.name} option 'no_such_option'"):
        make_options(alg, {"no_such_option": 1})
    for f in dataclasses.fields(alg.options):
        with pytest.raises(BprInputError, match=f"algorithm.{alg.name}"):
            make_options(alg, {f.name: "not a value of any option type"})
        assert dataclasses.asdict(make_options(alg)) == dataclasses.asdict(alg.options())


@pytest.mark.parametrize("name", [n for n, a in registry.algorithms("offline").items() if a.uses_solver])
def test_time_limit_is_honoured_and_reported(name):
    """abovenet at R = 6 cannot be closed in 1 s by the paper's MILP; an LP may finish: optimal then."""
    inst = make_instance("abovenet", 0, {"workload.R": 6})
    alg, result = run("offline", name, inst, time_limit=1.0)
    assert result.record.outcome is Outcome.OK
    allowed = (Termination.TIME_LIMIT, Termination.OPTIMAL, Termination.SOLVED)
    if alg.kind is Kind.BOUND:
        # a bound that does not apply here (the decomposition where memory does not bind) is skipped, with why
        assert all(b.termination in allowed or (b.outcome is Outcome.SKIPPED and b.message)
                   for b in result.bounds.values())
        reports = [b.solver for b in result.bounds.values()]
    else:
        assert result.termination in allowed
        reports = [result.record.solver]
    for report in filter(None, reports):  # the solver stops at the limit (slack for its clean-up)
        assert report.solve_s is None or report.solve_s < 1.0 + 2.0   # None: the time was up before it was built
    # the run's limit is the runner's, recorded with the phases on the run's clock
    record = result.record
    assert record.time_limit_s == 1.0 and record.overrun_s == max(record.runtime_s - 1.0, 0.0)
    assert all(0 <= p.start_s <= p.end_s <= record.runtime_s for p in record.phases)
    if name == "milp":
        assert result.termination == Termination.TIME_LIMIT and result.has_solution
