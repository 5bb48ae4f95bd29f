"""The reservation-timeline simulator of docs/simulator.md §1.

Requests are handled in arrival order; a routing policy picks a chain from the current state; the request
reserves s_c * k_j on every server of its chain over [S_r, S_r + D_r), where S_r is the earliest time
>= A_r from which every server of the chain has room at every later instant (moved to the next PETALS
client retry instant when ``retry_backoff``). D_r is the full service time of eq. 1, or the offline
service time for the offline check (all arrivals at 0, fixed routes: waits 0 and the evaluator's cost).
A calibration (docs/simulator.md §3, bpr/calibration.py) adds an allocation delay before the service and may
hold the caches from the arrival; the default applies nothing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from bpr.calibration import Calibration
from bpr.instance import Instance
from bpr.online import RoutingPolicy, State
from bpr.perf import Placement, first_token_time, full_time, offline_time, route_blocks

RETRY_CAP_S = 60.0  # PETALS client back-off: delays 1, 2, 4, ... s, at most 60 s


@dataclass(frozen=True, eq=False)
class Arrivals:
    times: np.ndarray       # A_r, non-decreasing
    clients: np.ndarray     # client index of each request


def poisson_arrivals(inst: Instance, n: int, rate: float, seed: int) -> Arrivals:
    """First arrival at t = 0, exponential gaps of mean 1/rate; clients drawn by share. Same seed, same
    arrivals, whatever algorithm is simulated."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / rate, size=n - 1)
    shares = np.array([c.share for c in inst.clients])
    clients = rng.choice(len(shares), size=n, p=shares / shares.sum())
    return Arrivals(np.concatenate(([0.0], np.cumsum(gaps))), clients)


def retry_instant(arrival: float, ready: float) -> float:
    """First of A, A+1, A+3, A+7, ... (delays doubling, capped at 60 s) that is >= ready; in closed form once
    the delays are capped, so a long wait costs no more than a short one."""
    t, delay = arrival, 1.0
    while t < ready - 1e-12 and delay < RETRY_CAP_S:
        t += delay
        delay = 2 * delay
    if t < ready - 1e-12:  # from here on every delay is the cap
        t += RETRY_CAP_S * math.ceil((ready - 1e-12 - t) / RETRY_CAP_S)
    return t


ServiceTime = Callable[[Instance, int, Sequence[int], Sequence[int]], float]
SERVICE: dict[str, ServiceTime] = {"full": full_time, "offline": offline_time}


def simulate(inst: Instance, pl: Placement, capacity: Sequence[float], policy: RoutingPolicy,
             arrivals: Arrivals, service: str = "full", retry_backoff: bool = True,
             progress: Callable[[int], None] | None = None, calibration: Calibration = Calibration()
             ) -> pd.DataFrame:
    """One row per request: arrival, start, wait, allocation delay, TTFT, service, completion, per-token
    time, route and the policy's routing time.
    A request no chain can serve, or that cannot fit even alone, gets ``served`` False and NaN times."""
    state = State(inst, pl, capacity)
    service_time = SERVICE[service]
    rows = []
    for r, (arrival, c) in enumerate(zip(arrivals.times.tolist(), arrivals.clients.tolist())):
        for tl in state.timelines:
            tl.forget_before(arrival)
        tick = time.perf_counter()
        chain = policy.route(state, r, c, arrival)
        route_s = time.perf_counter() - tick
        ks = route_blocks(inst.L, pl, chain) if chain else None
        ready = math.inf if ks is None else max(state.timelines[j].earliest_fit(inst.s_c * k, arrival)
                                                for j, k in zip(chain, ks))
        if math.isinf(ready):
            rows.append({"request": r, "client": c, "arrival": arrival, "served": False, "route_s": route_s})
        else:
            start = retry_instant(arrival, ready) if retry_backoff else ready
            rows.append(_admit(state, r, c, arrival, start, chain, ks, service_time(inst, c, chain, ks),
                               calibration, route_s))
        if progress:
            progress(r)
    trace = pd.DataFrame(rows)
    trace.attrs["peak_cache_gb"] = [tl.peak for tl in state.timelines]
    return trace


def _admit(state: State, r: int, c: int, arrival: float, start: float, chain: list[int], ks: list[int],
           duration: float, cal: Calibration, route_s: float) -> dict:
    """Reserve the request's cache on its chain until its completion (start + allocation delay + service),
    from its start (from its arrival when the calibration holds caches from arrival); its trace row."""
    inst, l_out = state.inst, state.inst.workload.l_out
    completion = start + cal.delay_s + duration
    held_from = arrival if cal.hold_from_arrival else start
    for j, k in zip(chain, ks):
        state.timelines[j].reserve(held_from, completion, inst.s_c * k)
    first = first_token_time(inst, c, chain, ks)
    return {"request": r, "client": c, "arrival": arrival, "served": True, "start": start,
            "wait": start - arrival, "delay": cal.delay_s, "ttft": start - arrival + cal.delay_s + first,
            "service": duration, "completion": completion, "per_token": (completion - arrival) / l_out,
            "decode_per_token": (duration - first) / (l_out - 1) if l_out > 1 else 0.0,
            "route": " ".join(inst.servers[j].id for j in chain), "route_s": route_s}
