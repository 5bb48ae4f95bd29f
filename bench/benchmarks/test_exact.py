"""Speed of the extended formulation (docs/formulations.md §2) on the named instances at the default R:
build + load into HiGHS, and the whole certified solve. Run with ``pytest bench/benchmarks``."""

import pytest
from pyomo.contrib.solver.common.factory import SolverFactory

from bench.instance_builder import make_instance
from solvers import registry
from solvers.exact.model import build, estimate_size
from solvers.settings import SolverSettings

CERTIFY = SolverSettings(time_limit=600, rel_gap=1e-4, log=False, progress=False)


@pytest.fixture(scope="module", params=["abovenet", "bellcanada"])
def instance(request):
    return make_instance(request.param, 0)


def test_exact_build_and_load(benchmark, instance):
    def build_and_load():
        built = build(instance)
        SolverFactory("highs").set_instance(built.model)
        return built

    built = benchmark.pedantic(build_and_load, rounds=2, iterations=1)
    assert built.model.nvariables() == estimate_size(instance)


def test_exact_certified_solve(benchmark, instance):
    sol = benchmark.pedantic(registry.call, args=("exact", instance), kwargs={"solver": CERTIFY}, rounds=1,
                             iterations=1)
    assert sol.solver_status == "optimal" and sol.info["gap"] <= 1e-4
