"""Speed of the heuristics on bellcanada (issue #2: each under 50 ms). Run with
``.venv/bin/pytest bench/benchmarks`` (kept out of the plain test run)."""

import pytest

from bench.instance_builder import make_instance
from solvers.algorithms import petals
from solvers.framework import registry


@pytest.fixture(scope="module", params=[None, 88], ids=["R-spec-7.3", "R-88"])
def bellcanada(request):
    return make_instance("bellcanada", 0, {"workload.R": request.param})


def test_cg_bprr_bellcanada(benchmark, bellcanada):
    assert benchmark(registry.call, "cg_bprr", bellcanada).has_solution


@pytest.mark.parametrize("variant", petals.VARIANTS)
def test_petals_bellcanada(benchmark, bellcanada, variant):
    assert benchmark(registry.call, variant, bellcanada).has_solution


def test_make_instance_bellcanada(benchmark):
    assert benchmark(make_instance, "bellcanada", 0).n_servers == 26


def test_milp_build_abovenet(benchmark):
    """Pyomo build of the paper's MILP (eq. 13) on abovenet at the docs/model.md §7.3 load (no solve)."""
    from solvers.formulations.milp.model import MilpFormulation

    formulation = MilpFormulation(make_instance("abovenet", 0))
    model = benchmark.pedantic(formulation.build, rounds=3, iterations=1)
    assert model.nvariables() == formulation.size().variables
