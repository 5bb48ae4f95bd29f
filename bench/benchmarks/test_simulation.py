"""Simulator speed (docs/simulator.md §4). Run with ``.venv/bin/pytest bench/benchmarks/test_simulation.py``
(``--benchmark-autosave``, then ``python bench/speed.py --readme`` for README's table). The sizes are those
of the issues that asked for them: 100 and 10,000 requests per online algorithm on bellcanada; 100,000
requests at the default load, 100,000 overloaded ones (arrivals at 10^9/s and at 5/s) and 100,000 on a
499-server Gabriel instance; chain serving's JFFC on 100,000."""

import pytest

from bench.instance_builder import make_instance
from bpr.simulator import poisson_arrivals, simulate_setup
from solvers import registry


@pytest.fixture(scope="module")
def bellcanada():
    return make_instance("bellcanada", 0)


@pytest.fixture(scope="module")
def gabriel499():
    return make_instance("topozoo", 0, {"topology": "gabriel/500/0", "servers": 499})


def _simulate(inst, name, n, rate=0.5):
    s = registry.call(name, inst, "online")
    if s.placement is None:
        pytest.skip(f"{name}: {s.message}")
    return simulate_setup(inst, s, poisson_arrivals(inst, n, rate, 0))


@pytest.mark.parametrize("name", list(registry.algorithms("online")))
def test_simulate_100_requests(benchmark, bellcanada, name):
    trace = benchmark.pedantic(_simulate, args=(bellcanada, name, 100), rounds=3, iterations=1)
    assert len(trace) == 100


@pytest.mark.parametrize("name", ["proposed", "petals"])
def test_simulate_10000_requests(benchmark, bellcanada, name):
    trace = benchmark.pedantic(_simulate, args=(bellcanada, name, 10_000), rounds=1, iterations=1)
    assert len(trace) == 10_000


@pytest.mark.parametrize("name", ["proposed", "petals", "chains"])
def test_simulate_100000_requests(benchmark, bellcanada, name):
    trace = benchmark.pedantic(_simulate, args=(bellcanada, name, 100_000), rounds=1, iterations=1)
    assert trace.served.all()


@pytest.mark.parametrize("rate", [1e9, 5.0])
def test_simulate_100000_overloaded_requests(benchmark, bellcanada, rate):
    trace = benchmark.pedantic(_simulate, args=(bellcanada, "proposed", 100_000, rate), rounds=1, iterations=1)
    assert trace.wait.iloc[-1] > trace.wait.iloc[0]   # the queue grew: it was overloaded


def test_simulate_100000_requests_on_499_servers(benchmark, gabriel499):
    trace = benchmark.pedantic(_simulate, args=(gabriel499, "proposed", 100_000), rounds=1, iterations=1)
    assert trace.served.all()


@pytest.mark.parametrize("name", list(registry.algorithms("online")))
def test_simulate_2000_requests_on_499_servers(benchmark, gabriel499, name):
    trace = benchmark.pedantic(_simulate, args=(gabriel499, name, 2_000), rounds=1, iterations=1)
    assert len(trace) == 2_000
