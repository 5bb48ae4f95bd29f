"""Small synthetic instances: hand-made ones (``tiny``) and random ones where memory binds
(``random_binding``), for the tests and the search-quality measurement (bench/search_quality.py)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from bpr.instance import Client, Instance, Model, Server, Workload


def tiny(L: int, M: Sequence[float], tau: Sequence[float], t: Sequence[Sequence[float]], *, R: int = 1,
         s_m: float = 1.0, s_c: float = 0.1, l_out: int = 10, l_in: int = 5,
         tau_in: Sequence[float] | None = None, t_in: Sequence[Sequence[float]] | None = None,
         shares: Sequence[float] | None = None, initial_delay: float = 0.5,
         rps: tuple[float, float] | None = (1000.0, 500.0), rtt_ss: Sequence[Sequence[float]] | None = None,
         ) -> Instance:
    n, c = len(M), len(t)
    tau_in = tau_in if tau_in is not None else [10 * x for x in tau]
    servers = tuple(Server(f"s{j}", f"n{j}", "gpu", M[j], tau[j], tau_in[j],
                           forward_rps=rps and rps[0], inference_rps=rps and 1.0, network_rps=rps and rps[1])
                    for j in range(n))
    shares = shares or [1.0 / c] * c
    clients = tuple(Client(f"c{k}", f"m{k}", shares[k]) for k in range(c))
    return Instance(name="tiny", model=Model("toy", L, 16, 1, s_m), workload=Workload(l_in, l_out, R, 0.5, 10),
                    s_c=s_c, initial_delay=initial_delay, servers=servers, clients=clients,
                    t=np.array(t, dtype=float),
                    t_in=np.array(t_in if t_in is not None else t, dtype=float),
                    rtt_ss=np.array(rtt_ss if rtt_ss is not None else np.zeros((n, n)), dtype=float))


def random_binding(seed: int) -> Instance:
    """A small instance where memory binds: 4-7 servers (about a third fast with large memories), 8-14 blocks,
    1-2 clients, and R at 60-90 % of R_max (the paper's eq. 19), so blocks and caches compete for memory."""
    from solvers.algorithms.design_load import r_max

    rng = np.random.default_rng(seed)
    L, n, C = int(rng.integers(8, 15)), int(rng.integers(4, 8)), int(rng.integers(1, 3))
    s_m, s_c = 1.0, 0.05
    fast = rng.random(n) < 0.35
    fast[0] = True
    weight = np.where(fast, rng.uniform(3, 5, n), rng.uniform(0.8, 1.2, n))
    total = (L + n) * (s_m + s_c * rng.uniform(20, 60))
    M = np.maximum(weight / weight.sum() * total, 1.2 * s_m).round(3).tolist()
    tau = np.where(fast, rng.uniform(0.003, 0.006, n), rng.uniform(0.012, 0.02, n)).round(5).tolist()
    t = rng.uniform(0.05, 0.3, (C, n)).round(4).tolist()
    shares = rng.integers(1, 4, C)
    base = tiny(L, M=M, tau=tau, t=t, R=1, s_m=s_m, s_c=s_c, shares=list(shares / shares.sum()))
    return base.with_R(max(1, round(rng.uniform(0.6, 0.9) * r_max(base))))
