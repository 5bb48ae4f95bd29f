"""Speed of the bounds where memory binds (docs/formulations.md §3, §6, §7) on two 9-server instances of the
library's hard tier, build and solve together; compare them as ratios (the machine is shared). Run with
``pytest bench/benchmarks``."""

import pytest

from bench.instance_builder import library_file
from bpr.instance import load
from solvers.algorithms import lower_bounds
from solvers.framework.context import Context
from solvers.framework.settings import SolverSettings

CTX = Context(solver=SolverSettings(time_limit=600, log=False, progress=False))
BOUNDS = {"capacity": lower_bounds.capacity_bound, "decomposition": lower_bounds.decomposition_bound,
          "window_sizes": lower_bounds.window_sizes_bound}


@pytest.fixture(scope="module", params=["abovenet-binding", "clustered-c1-r95"])
def instance(request):
    return load(library_file(request.param))


@pytest.mark.parametrize("name", list(BOUNDS))
def test_bound(benchmark, instance, name):
    bound = benchmark.pedantic(BOUNDS[name], args=(instance, CTX), rounds=1, iterations=1)
    assert bound.value_s is not None and bound.termination == "optimal"
