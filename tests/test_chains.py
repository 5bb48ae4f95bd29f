"""The chain-serving follow-up (docs/chains.md): GBP-CR and GCA on a hand-worked 4-server instance, JFFC on a
hand-worked trace of 5 requests and 2 chains, Theorem 4 against a birth-death chain solved by hand, and with
exponential service the simulated mean response time between Theorem 4's bounds."""

from __future__ import annotations

import numpy as np
import pytest
from factories import tiny

from bpr.errors import BprInputError
from bpr.grading import grade
from bpr.online import Chain
from bpr.perf import Placement
from bpr.queueing import theorem4
from bpr.simulator import Arrivals, simulate_jffc
from solvers.algorithms import chains


@pytest.fixture
def four():
    """L = 4, s_m = 1, s_c = 0.25; A, B: 4.5 GB, C, D: 2.5 GB (tiny's defaults: initial delay 0.5 s,
    t_in = t, tau_in = 10 tau, l_out = 10, lambda = 0.5/s)."""
    return tiny(4, M=[4.5, 4.5, 2.5, 2.5], tau=[0.01, 0.01, 0.02, 0.02], t=[[0.1, 0.2, 0.1, 0.3]], R=3, s_m=1.0,
                s_c=0.25)


def test_gbp_cr_hand_worked(four):
    """c = 2: m_j = floor(M_j / (1 + 0.5)) = 3, 3, 1, 1; amortised (t + tau m) / m = 0.043, 0.077, 0.12, 0.32.
    A takes blocks 1-3, B min(4, 4 - 3 + 1) = 2, so 2-4: the chain A, B is complete. Its service time is
    0.5 + (0.1 + 3 x 0.1) + (0.2 + 1 x 0.1) + 9 x (0.13 + 0.21) = 4.26 s, a rate of 0.235/s, short of
    lambda / (rho_bar c) = 0.5 / 1.4 = 0.357, so C takes block 1 and D block 2; no server is left."""
    a, m, complete = chains.gbp_cr(four, 0, chains.blocks(four, 2, np.ones(4, dtype=bool)), 0.5, 0.7, 2)
    assert m.tolist() == [3, 3, 1, 1] and a.tolist() == [1, 2, 1, 2] and complete == [[0, 1]]
    assert 1 / 4.26 < 0.5 / 1.4


def test_gca_hand_worked(four):
    """Free slots (M - s_m m) / s_c = 6 each. The cheapest route is A (3 blocks, 0.13) then B (its last block,
    0.21): 0.34, capacity min(6 // 3, 6 // 1) = 2, leaving A 0 and B 4. Then C (0.12) and B for three blocks
    (0.23): 0.35, capacity min(6, 4 // 3) = 1, leaving B 1. B cannot take 2 or 3 blocks more: no route."""
    p = chains.plan(four, 2, 0.7)
    assert [(ch.servers, ch.ks, ch.capacity) for ch in p.chains] == [([0, 1], [3, 1], 2), ([2, 1], [1, 3], 1)]
    assert p.chains[0].service_s == pytest.approx(4.26)


def test_gbp_cr_gca_offline_hand_worked(four):
    """R = 3: two requests on A, B (0.34 per token) and one on C, B (0.35): (2 x 0.34 + 0.35) / 3; memory is
    exactly full on A (3 + 2 x 3 x 0.25 = 4.5). With R = 4 the chains hold 3: infeasible, said with numbers."""
    sol = chains.gbp_cr_gca(four, chains.OfflineOptions(c=2))
    graded = grade(four, sol)
    assert graded.report.feasible and graded.evaluation.per_token_s == pytest.approx((2 * 0.34 + 0.35) / 3)
    assert sol.info == {"c": 2, "chains": 2, "slots": 3}
    short = chains.gbp_cr_gca(four.with_R(4), chains.OfflineOptions(c=2))
    assert not short.has_solution and short.termination == "infeasible"
    assert "the chains hold 3 requests at once, fewer than R = 4" in short.message


def test_jffc_hand_worked():
    """Two chains of one server each: fast (1 s of service, one slot), slow (2 s, one slot); requests at 0,
    0.1, 0.2, 0.3 and 2.5. r0 takes fast [0, 1]; r1 slow [0.1, 2.1]; r2, r3 queue; at 1 r2 takes the freed fast
    slot [1, 2], at 2 r3 [2, 3]; at 2.5 fast is busy, so r4 takes slow [2.5, 4.5]."""
    inst = tiny(1, M=[10.0, 10.0], tau=[0.0, 0.0], t=[[1.0, 2.0]], R=1, l_out=1, tau_in=[0.0, 0.0],
                initial_delay=0.0)
    found = [Chain(0, [0], [1], 1, 1.0), Chain(0, [1], [1], 1, 2.0)]
    arrivals = Arrivals(np.array([0.0, 0.1, 0.2, 0.3, 2.5]), np.zeros(5, dtype=int))
    trace = simulate_jffc(inst, found, arrivals, Placement.of([1, 1], [1, 1]))
    assert trace.start.tolist() == pytest.approx([0.0, 0.1, 1.0, 2.0, 2.5])
    assert trace.completion.tolist() == pytest.approx([1.0, 2.1, 2.0, 3.0, 4.5])
    assert trace.response.tolist() == pytest.approx([1.0, 2.0, 1.8, 2.7, 2.0])
    assert trace.wait.tolist() == pytest.approx([0.0, 0.0, 0.8, 1.7, 0.0])
    assert trace.route.tolist() == ["s0", "s1", "s0", "s0", "s1"]


def test_theorem4_against_a_birth_death_chain_by_hand():
    """Chains of rate 2 and 1 with one slot each, lambda = 1 (C = 2, nu = 3, rho = 1/3). Fastest slots first:
    nu(1) = 2, phi = phi_0 (1, 1/2, 1/6 ...), phi_0 = 4/7, E[N] = 2/7 + (2/21)(3/4 + 3) = 13.5/21. Slowest
    first: nu(1) = 1, phi = phi_0 (1, 1, 1/3 ...), phi_0 = 2/5, E[N] = 2/5 + (2/15)(15/4) = 0.9."""
    b = theorem4(1.0, [1.0, 2.0], [1, 1])
    assert b.lower_s == pytest.approx(13.5 / 21) and b.upper_s == pytest.approx(0.9)
    mm1 = theorem4(1.0, [2.0], [1])
    assert mm1.lower_s == pytest.approx(1.0) == mm1.upper_s          # M/M/1: 1 / (mu - lambda)
    assert theorem4(3.0, [1.0, 2.0], [1, 1]).lower_s == float("inf")   # lambda >= nu: unstable


@pytest.mark.parametrize("load", [0.3, 0.5, 0.7])
def test_simulated_mean_lies_between_the_bounds_with_exponential_service(load):
    """JFFC with Poisson arrivals and exponential service (the follow-up's setting): chains of 1 s and 4 s
    with 2 slots each; 8 seeds of 20,000 requests at each load, every mean between Theorem 4's bounds."""
    inst = tiny(1, M=[10.0, 10.0], tau=[0.0, 0.0], t=[[1.0, 4.0]], R=1, l_out=1, tau_in=[0.0, 0.0],
                initial_delay=0.0)
    found = [Chain(0, [0], [1], 2, 1.0), Chain(0, [1], [1], 2, 4.0)]
    lam = load * (2 * 1.0 + 2 * 0.25)
    b = theorem4(lam, [1.0, 0.25], [2, 2])
    assert b.lower_s < b.upper_s
    for seed in range(8):
        rng = np.random.default_rng(seed)
        n = 20_000
        arrivals = Arrivals(np.concatenate(([0.0], np.cumsum(rng.exponential(1 / lam, n - 1)))), np.zeros(n, int),
                            scale=rng.exponential(1.0, n))
        mean = simulate_jffc(inst, found, arrivals, Placement.of([1, 1], [1, 1])).response.mean()
        assert b.lower_s <= mean <= b.upper_s, (seed, b, mean)


def test_jffc_only_gives_a_server_one_slot_per_request_its_memory_holds():
    """L = 2 blocks of 1 GB beside M = 3.05 GB leave 1.05 GB of cache; a request holds s_c = 0.1 GB on each of
    its 2 blocks, so 5 requests fit at once (not 10: slots count requests, not blocks); a server that cannot
    hold the model beside one request's cache serves none."""
    inst = tiny(2, M=[3.05, 2.1], tau=[0.1, 0.1], t=[[0.1, 0.1]], s_m=1.0, s_c=0.1)
    setup = chains.jffc_only(inst)
    assert [(ch.servers, ch.ks, ch.capacity) for ch in setup.chains] == [([0], [2], 5)]


@pytest.mark.parametrize("options", [chains.OfflineOptions, chains.OnlineOptions])
@pytest.mark.parametrize("rho_bar", [0.0, 5e-324, 1e-4, 1.5])
def test_a_target_load_gbp_cr_cannot_size_for_is_refused(options, rho_bar):
    with pytest.raises(BprInputError, match="rho_bar: must be"):
        options(rho_bar=rho_bar)
