"""Speed of the extended formulation (docs/formulations.md §2) on the named instances at the default R:
build + load into HiGHS, and the whole certified solve. Run with ``pytest bench/benchmarks``."""

import pytest
from pyomo.contrib.solver.common.factory import SolverFactory

from bench.instance_builder import make_instance
from solvers.formulations.extended.model import ExactFormulation
from solvers.framework import registry
from solvers.framework.settings import SolverSettings

CERTIFY = SolverSettings(time_limit=600, rel_gap=1e-4, log=False, progress=False)


@pytest.fixture(scope="module", params=["abovenet", "bellcanada"])
def instance(request):
    return make_instance(request.param, 0)


def test_exact_build_and_load(benchmark, instance):
    formulation = ExactFormulation(instance)

    def build_and_load():
        model = formulation.build()
        SolverFactory("highs").set_instance(model)
        return model

    model = benchmark.pedantic(build_and_load, rounds=2, iterations=1)
    assert model.nvariables() == formulation.size().variables


def test_exact_certified_solve(benchmark, instance):
    sol = benchmark.pedantic(registry.call, args=("exact", instance), kwargs={"solver": CERTIFY}, rounds=1,
                             iterations=1)
    assert sol.termination == "optimal" and sol.record.solver.gap <= 1e-4
