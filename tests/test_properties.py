"""Property tests over random tiny instances (hypothesis): CG-BPRR against Theorem 3.5, the checker and a
brute-force routing oracle; PETALS output always evaluable; same seed, same result."""

from __future__ import annotations

import math

from factories import tiny
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpr.checker import check
from bpr.evaluator import evaluate
from bpr.perf import Placement, hop_blocks, link_cost
from solvers.algorithms import cg_bprr, petals
from solvers.framework.context import Context


@st.composite
def instances(draw):
    L = draw(st.integers(1, 8))
    n = draw(st.integers(1, 5))
    n_clients = draw(st.integers(1, 3))
    R = draw(st.integers(1, 6))
    s_m, s_c = 1.0, draw(st.sampled_from([0.01, 0.05, 0.2]))
    M = [draw(st.floats(0.5, (s_m + s_c * R) * L * 1.2)) for _ in range(n)]
    tau = [draw(st.floats(0.001, 0.05)) for _ in range(n)]
    t = [[draw(st.floats(0.0, 0.3)) for _ in range(n)] for _ in range(n_clients)]
    weights = [draw(st.integers(1, 5)) for _ in range(n_clients)]
    shares = [w / sum(weights) for w in weights]
    rtt = [[0.0 if i == j else draw(st.floats(0.0, 0.2)) for j in range(n)] for i in range(n)]
    return tiny(L, M=M, tau=tau, t=t, R=R, s_m=s_m, s_c=s_c, shares=shares, rtt_ss=rtt)


def brute_force_route(inst, pl: Placement, c: int) -> float:
    """Cheapest per-token chain by enumerating every chain from block 1 (exponential; tiny L only)."""
    def best(e: int, used: frozenset) -> float:
        if e == inst.L + 1:
            return 0.0
        out = math.inf
        for j in range(inst.n_servers):
            k = hop_blocks(e, int(pl.a[j]), int(pl.m[j]))
            if k and j not in used:
                out = min(out, link_cost(inst, c, j, k) + best(e + k, used | {j}))
        return out
    return best(1, frozenset())


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(instances())
def test_cg_bprr_meets_theorem_3_5_and_passes_the_checker(inst):
    sol = cg_bprr.solve(inst)
    m, _ = cg_bprr.conservative_sizing(inst, inst.R)
    if m.sum() < inst.L:
        assert sol.termination == "infeasible" and not sol.has_solution
        return
    report = check(inst, sol)
    assert report.feasible, report.summary()
    cost = evaluate(inst, sol, report).per_token_s
    assert cost <= sol.info["guarantee_s"] * (1 + 1e-9) + 1e-12


@FAST
@given(instances())
def test_cg_bprr_routes_are_shortest_chains(inst):
    p = cg_bprr.plan(inst)
    if p.placement is None:
        return
    for c, chain in enumerate(p.routes):
        cost = sum(link_cost(inst, c, j, k) for j, k in
                   zip(chain, [hop_blocks(e, int(p.placement.a[j]), int(p.placement.m[j]))
                               for e, j in zip(_positions(p.placement, chain), chain)]))
        assert math.isclose(cost, brute_force_route(inst, p.placement, c), rel_tol=1e-12, abs_tol=1e-12)


def _positions(pl: Placement, chain: list[int]) -> list[int]:
    e, out = 1, []
    for j in chain:
        out.append(e)
        e = int(pl.end[j])
    return out


@FAST
@given(instances(), st.integers(0, 3), st.sampled_from(petals.VARIANTS))
def test_petals_output_is_sound_or_an_infeasible_status(inst, seed, variant):
    sol = petals.solve(inst, petals.Options(), Context(seed=seed, algorithm=variant))
    if not sol.has_solution:
        assert sol.termination == "infeasible" and sol.message
        return
    report = check(inst, sol)
    assert report.structural, report.summary()   # only memory may be violated
    again = petals.solve(inst, petals.Options(), Context(seed=seed, algorithm=variant))
    assert again.placement == sol.placement and again.routes == sol.routes
