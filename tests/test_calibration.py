"""Testbed calibration of the simulator (docs/simulator.md §3): allocation delay, arrival-time holding, the
data file's constants, and how the harness applies and records them."""

from __future__ import annotations

import numpy as np
import pytest
from factories import FixedRoutes, tiny
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from bench.config import register
from bench.configs import CONF_DIR
from bench.instance_builder import make_instance
from bench.job import calibration_of, run_config
from bpr.calibration import Calibration, calibration
from bpr.errors import BprInputError
from bpr.perf import Placement, first_token_time
from bpr.simulator import Arrivals, poisson_arrivals, simulate
from solvers.framework import registry


def test_three_requests_with_an_allocation_delay_hand_worked(three):
    inst, pl, arrivals = three
    trace = simulate(inst, pl, [0.45], FixedRoutes([[0]] * 3), arrivals, service="offline", retry_backoff=False,
                     calibration=Calibration(delay_s=5.0))
    # r0 holds [0, 0 + 5 + 10.2), r1 [1, 16.2); r2 (room for two) starts when r0 completes, at 15.2
    assert trace.start.tolist() == pytest.approx([0.0, 1.0, 15.2])
    assert trace.completion.tolist() == pytest.approx([15.2, 16.2, 30.4])
    assert trace.per_token.tolist() == pytest.approx([1.52, 1.52, (30.4 - 2) / 10])
    first = first_token_time(inst, 0, [0], [2])
    assert trace.ttft.tolist() == pytest.approx([5 + first, 5 + first, 13.2 + 5 + first])
    assert trace.delay.tolist() == [5.0] * 3


def two_sizes():
    """s0 hosts blocks 1-2, s1 block 1: chain [0] takes 0.2 GB on s0, chain [1, 0] only 0.1 GB."""
    inst = tiny(2, M=[10, 10], tau=[0.01, 0.01], t=[[1.0, 1.0]], R=4, l_out=10)
    arrivals = Arrivals(np.array([0.0, 1.0, 2.0, 3.0]), np.zeros(4, dtype=int))
    return inst, Placement.of([1, 1], [2, 1]), arrivals, FixedRoutes([[0], [0], [0], [1, 0]])


def test_holding_from_arrival_makes_a_later_request_wait():
    inst, pl, arrivals, routes = two_sizes()
    runs = {hold: simulate(inst, pl, [0.5, 10], routes, arrivals, service="offline", retry_backoff=False,
                           calibration=Calibration(hold_from_arrival=hold)) for hold in (False, True)}
    # r2 (0.2 GB) waits for r0 (until 10.2) either way; r3 needs 0.1 GB: 0.4 + 0.1 fits at 3 unless r2's
    # cache already counts from its arrival at 2, and then it waits until r0 leaves at 10.2
    assert runs[False].start.tolist() == pytest.approx([0.0, 1.0, 10.2, 3.0])
    assert runs[True].start.tolist() == pytest.approx([0.0, 1.0, 10.2, 10.2])
    # counted while they wait: over [3, 10.2) r0, r1, r2 and r3 all hold
    assert runs[True].attrs["peak_cache_gb"][0] == pytest.approx(0.7)


@pytest.mark.parametrize("name", ["none", "paper"])
def test_same_seed_same_trace_under_each_calibration(name):
    inst = make_instance("abovenet", 2)
    spec = calibration(name)
    for algorithm in ("proposed", "petals"):
        traces = []
        for _ in range(2):
            s = registry.call(algorithm, inst, "online", seed=2)
            traces.append(simulate(inst, s.placement, s.capacity, s.policy, poisson_arrivals(inst, 40, 0.5, 3),
                                   calibration=spec.for_algorithm(algorithm, inst.n_servers)))
        assert traces[0].drop(columns="route_s").equals(traces[1].drop(columns="route_s"))
        assert (traces[0].delay == spec.delay(algorithm, inst.n_servers)).all()


def test_none_applies_nothing_and_leaves_the_trace_of_the_plain_simulator():
    inst = make_instance("bellcanada", 0)
    s = registry.call("petals", inst, "online", seed=0)
    arrivals = poisson_arrivals(inst, 40, 0.5, 0)
    cal = calibration("none").for_algorithm("petals", inst.n_servers)
    assert cal == Calibration()
    plain = simulate(inst, s.placement, s.capacity, s.policy, arrivals)
    calibrated = simulate(inst, s.placement, s.capacity, s.policy, arrivals, calibration=cal)
    assert plain.drop(columns="route_s").equals(calibrated.drop(columns="route_s"))


def test_paper_constants_by_family_and_scenario_size():
    paper = calibration("paper")
    assert paper.hold_from_arrival
    assert [paper.delay("proposed", n) for n in (9, 26)] == [60.0, 60.0]
    for alg in ("petals", "petals-opt-number", "petals-opt-order", "petals-opt-rr"):
        assert [paper.delay(alg, n) for n in (5, 9, 25, 26, 100)] == [250.0, 250.0, 250.0, 350.0, 350.0]
    assert calibration("paper", {"petals": 300.0}).delay("petals", 26) == 300.0
    assert not calibration("paper", hold_from_arrival=False).hold_from_arrival


@pytest.mark.registry
def test_the_families_name_online_algorithms_with_a_delay():
    """Every algorithm the data file gives a family exists online; under ``paper`` the paper's families get
    its positive delays and the follow-up's chain serving none (its simulator had none); under ``none``
    nothing has one. A new online algorithm without a family runs under ``none`` and is named before work
    under ``paper``."""
    paper, none = calibration("paper"), calibration("none")
    assert paper.families and set(paper.families) <= set(registry.algorithms("online"))
    for name in paper.families:
        assert paper.delay(name, 9) == {"proposed": 60.0, "petals": 250.0, "chains": 0.0}[paper.family(name)]
        assert none.delay(name, 9) == 0.0


@pytest.mark.parametrize("call, message", [
    (lambda: calibration("testbed"), "unknown calibration 'testbed'"),
    (lambda: calibration("paper", {"vllm": 1.0}), "unknown calibration family 'vllm'"),
    (lambda: calibration("paper", {"petals": -1.0}), "calibration.delay_s.petals"),
    (lambda: calibration("paper").delay("greedy", 9), "no algorithm family for 'greedy'"),
])
def test_bad_calibrations_are_named(call, message):
    with pytest.raises(BprInputError, match=message):
        call()


def config(*overrides: str) -> dict:
    register()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return OmegaConf.to_container(compose("config", overrides=list(overrides)))


def test_offline_runs_refuse_a_calibration():
    assert calibration_of(config()) is None                  # offline: no calibration is built
    assert calibration_of(config("mode=online")).name == "none"
    with pytest.raises(BprInputError, match="mode=online"):
        calibration_of(config("calibration=paper"))
    with pytest.raises(BprInputError, match="mode=online"):
        calibration_of(config("+calibration.delay_s.petals=300"))
    assert calibration_of(config("calibration=paper", "+calibration.delay_s.petals=300", "mode=online")
                          ).delay("petals", 26) == 300.0


def test_rows_name_the_calibration_and_the_delay(tmp_path):
    cfg = config("instance=abovenet", "mode=online", "calibration=paper", "algorithms=[proposed,petals]",
                 "workload.n_requests=20", "runs=2")
    df = run_config(cfg, tmp_path).table
    assert (df.p_calibration_name == "paper").all()
    assert dict(zip(df.algorithm, df.allocation_delay_s)) == {"proposed": 60.0, "petals": 250.0}
    assert df.hold_from_arrival.all()
    # every request of the run waited at least the delay before its first token
    assert (df.ttft_s > df.allocation_delay_s).all()


def test_the_design_load_never_sees_the_delay(tmp_path):
    """R of docs/model.md §7.3 is the model's under either calibration, as in the authors' code."""
    rows = {}
    for name in ("none", "paper"):
        cfg = config("instance=clustered", "mode=online", f"calibration={name}", "algorithms=[proposed]",
                     "workload.n_requests=10")
        df = run_config(cfg, tmp_path / name).table
        rows[name] = df
    assert rows["none"].design_R.tolist() == rows["paper"].design_R.tolist()
    assert (rows["paper"].per_token_s > rows["none"].per_token_s + 60 / 128 - 1e-9).all()
