"""Simulator speed (docs/simulator.md §4). Run with ``.venv/bin/pytest bench/benchmarks/test_simulation.py``
(``--benchmark-autosave``, then ``python bench/speed.py --readme`` for README's table). The sizes are those
of the issues that asked for them: 100 and 10,000 requests per online algorithm on bellcanada; 100,000
requests at the default load, 100,000 overloaded ones (arrivals at 10^9/s and at 5/s) and 100,000 on a
499-server Gabriel instance; chain serving's JFFC on 100,000."""

import pytest

from bench.instance_builder import make_instance
from bpr.simulator import poisson_arrivals, simulate_setup
from solvers.framework import registry


@pytest.fixture(scope="module")
def bellcanada():
    return make_instance("bellcanada", 0)


@pytest.fixture(scope="module")
def gabriel499():
    return make_instance("topozoo", 0, {"topology": "gabriel/500/0", "servers": 499})


def _simulate(benchmark, inst, name, n, rate=0.5, rounds=1):
    """Time the replay only: placement and arrivals are made first (a setup without a placement skips the
    test before anything is timed)."""
    setup = registry.call(name, inst, "online")
    if setup.placement is None:
        pytest.skip(f"{name}: {setup.message}")
    arrivals = poisson_arrivals(inst, n, rate, 0)
    return benchmark.pedantic(simulate_setup, args=(inst, setup, arrivals), rounds=rounds, iterations=1)


@pytest.mark.parametrize("name", list(registry.algorithms("online")))
def test_simulate_100_requests(benchmark, bellcanada, name):
    trace = _simulate(benchmark, bellcanada, name, 100, rounds=3)
    assert len(trace) == 100


@pytest.mark.parametrize("name", ["proposed", "petals"])
def test_simulate_10000_requests(benchmark, bellcanada, name):
    trace = _simulate(benchmark, bellcanada, name, 10_000)
    assert len(trace) == 10_000


@pytest.mark.parametrize("name", ["proposed", "petals", "chains"])
def test_simulate_100000_requests(benchmark, bellcanada, name):
    trace = _simulate(benchmark, bellcanada, name, 100_000)
    assert trace.served.all()


@pytest.mark.parametrize("rate", [1e9, 5.0])
def test_simulate_100000_overloaded_requests(benchmark, bellcanada, rate):
    trace = _simulate(benchmark, bellcanada, "proposed", 100_000, rate)
    assert trace.wait.iloc[-1] > trace.wait.iloc[0]   # the queue grew: it was overloaded


def test_simulate_100000_requests_on_499_servers(benchmark, gabriel499):
    trace = _simulate(benchmark, gabriel499, "proposed", 100_000)
    assert trace.served.all()


@pytest.mark.parametrize("name", list(registry.algorithms("online")))
def test_simulate_2000_requests_on_499_servers(benchmark, gabriel499, name):
    trace = _simulate(benchmark, gabriel499, name, 2_000)
    assert len(trace) == 2_000
