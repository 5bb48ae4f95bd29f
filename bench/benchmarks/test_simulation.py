"""Simulator speed on bellcanada (issue #4: 100 requests under 2 s per algorithm, 10,000 under 60 s).
Run with ``.venv/bin/pytest bench/benchmarks/test_simulation.py``."""

import pytest

from bench.instance_builder import make_instance
from bpr.simulator import poisson_arrivals, simulate_setup
from solvers import registry


@pytest.fixture(scope="module")
def bellcanada():
    return make_instance("bellcanada", 0)


def _simulate(inst, name, n):
    s = registry.call(name, inst, "online")
    return simulate_setup(inst, s, poisson_arrivals(inst, n, 0.5, 0))


@pytest.mark.parametrize("name", list(registry.algorithms("online")))
def test_simulate_100_requests(benchmark, bellcanada, name):
    trace = benchmark.pedantic(_simulate, args=(bellcanada, name, 100), rounds=3, iterations=1)
    assert trace.served.all()


@pytest.mark.parametrize("name", ["proposed", "petals"])
def test_simulate_10000_requests(benchmark, bellcanada, name):
    trace = benchmark.pedantic(_simulate, args=(bellcanada, name, 10_000), rounds=1, iterations=1)
    assert len(trace) == 10_000
