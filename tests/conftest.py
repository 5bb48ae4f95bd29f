"""Shared fixtures. An expensive fixture a module computes once is session-scoped, not module-scoped: under
xdist a worker runs other modules' tests between a module's, and pytest tears a module's fixtures down (and
computes them again) each time it leaves the module."""

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

# tests/factories.py is imported as a plain module by the tests.
sys.path.insert(0, str(Path(__file__).parent))

from factories import random_binding, solver_ctx, tiny  # noqa: E402

from bpr import solution as solution_io  # noqa: E402
from bpr.grading import Graded, grade  # noqa: E402
from bpr.instance import Instance  # noqa: E402
from bpr.perf import Placement  # noqa: E402
from bpr.simulator import Arrivals  # noqa: E402


@pytest.fixture
def three():
    """One server with both blocks; three requests at 0, 1, 2 s; each holds 0.2 GB for 10.2 s (offline service
    time)."""
    inst = tiny(2, M=[10], tau=[0.01], t=[[1.0]], R=3, l_out=10)
    return inst, Placement.of([1], [2]), Arrivals(np.array([0.0, 1.0, 2.0]), np.zeros(3, dtype=int))


@pytest.fixture(scope="session")
def binding_optimum(tmp_path_factory, worker_id):
    """seed -> (random_binding(seed), exact's solution graded), proved optimal (rel_gap 0): computed once per
    test session, whichever xdist worker asks first (the others wait for its file), because test_binding,
    test_size_layout and test_window_sizes all compare against the same optima."""
    shared = tmp_path_factory.getbasetemp()
    shared = (shared.parent if worker_id != "master" else shared) / "binding-optima"
    shared.mkdir(exist_ok=True)

    def optimum(seed: int) -> tuple[Instance, Graded]:
        from solvers.algorithms import exact

        inst = random_binding(seed)
        path, lock = shared / f"{seed}.json", shared / f"{seed}.lock"
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL))
        except FileExistsError:            # another worker solves it: wait for its file
            deadline = time.monotonic() + 1800
            while not path.exists():
                assert time.monotonic() < deadline, f"no optimum of random_binding({seed}) from the worker solving it"
                time.sleep(0.05)
            return inst, grade(inst, solution_io.load(path))
        sol = exact.solve(inst, ctx=solver_ctx(rel_gap=0.0, time_limit=600, log=False, progress=False))
        sol.save(path.with_suffix(".tmp"))
        os.replace(path.with_suffix(".tmp"), path)
        return inst, grade(inst, sol)

    return optimum
