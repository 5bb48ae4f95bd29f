"""The simulators of docs/simulator.md.

``simulate`` is the reservation timeline of §1: requests are handled in arrival order; a routing policy
picks a chain from the current state; the request reserves s_c(r) k_j on every server of its chain over
[S_r, S_r + D_r), where S_r is the earliest time >= A_r from which every server of the chain has room at
every later instant (moved to the next PETALS client retry instant when ``retry_backoff``). D_r is the full
service time of eq. 1, or the offline service time for the offline check (all arrivals at 0, fixed routes:
waits 0 and the evaluator's cost). A calibration (§3, bpr/calibration.py) adds an allocation delay before
the service and may hold the caches from the arrival; the default applies nothing.

``simulate_jffc`` is the follow-up's slot-based admission (§5): chains with a number of slots, a request
takes the fastest chain with a free slot or waits in one central FIFO queue per client, and a completing
request hands its slot to the head of the queue. No retries.

Both take per-request token counts (a trace, §6) and per-request service-time factors (exponential job
sizes, the follow-up's model, §5), and report per request its response time (completion - arrival).
"""

from __future__ import annotations

import heapq
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from bpr.calibration import Calibration
from bpr.instance import Instance
from bpr.online import Chain, OnlineSetup, RoutingPolicy, State
from bpr.perf import Placement, first_token_time, full_time, offline_time, route_blocks

RETRY_CAP_S = 60.0  # PETALS client back-off: delays 1, 2, 4, ... s, at most 60 s


@dataclass(frozen=True, eq=False)
class Arrivals:
    """Requests in arrival order: arrival times (non-decreasing), clients, and optionally each request's own
    prompt and output tokens (a trace) and a factor on its service time (exponential job sizes)."""

    times: np.ndarray
    clients: np.ndarray
    l_in: np.ndarray | None = None
    l_out: np.ndarray | None = None
    scale: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.times)


def poisson_arrivals(inst: Instance, n: int, rate: float, seed: int, exponential: bool = False) -> Arrivals:
    """First arrival at t = 0, exponential gaps of mean 1/rate; clients drawn by share; with ``exponential``
    each request's service time is its deterministic one times an Exp(1) draw. Same seed, same arrivals (and
    job sizes), whatever algorithm is simulated."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / rate, size=n - 1)
    shares = np.array([c.share for c in inst.clients])
    clients = rng.choice(len(shares), size=n, p=shares / shares.sum())
    scale = rng.exponential(1.0, size=n) if exponential else None
    return Arrivals(np.concatenate(([0.0], np.cumsum(gaps))), clients, scale=scale)


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


ServiceTime = Callable[..., float]
SERVICE: dict[str, ServiceTime] = {"full": full_time, "offline": offline_time}
COLUMNS = ["request", "client", "arrival", "served", "start", "wait", "delay", "ttft", "service", "completion",
           "per_token", "decode_per_token", "route", "route_s", "response", "l_in", "l_out"]


class Trace:
    """One row per request, filled in place (columns of docs/simulator.md §1)."""

    def __init__(self, inst: Instance, arrivals: Arrivals):
        n = len(arrivals)
        self.inst, self.arrivals = inst, arrivals
        self.cols = {c: np.full(n, np.nan) for c in COLUMNS if c not in ("route", "served")}
        self.cols["request"] = np.arange(n)
        self.cols["client"] = np.asarray(arrivals.clients, dtype=int)
        self.cols["arrival"] = np.asarray(arrivals.times, dtype=float)
        self.cols["l_in"] = np.full(n, inst.workload.l_in) if arrivals.l_in is None else np.asarray(arrivals.l_in)
        self.cols["l_out"] = np.full(n, inst.workload.l_out) if arrivals.l_out is None else np.asarray(arrivals.l_out)
        self.served = np.zeros(n, dtype=bool)
        self.route = [None] * n

    def tokens(self, r: int) -> tuple[int | None, int | None]:
        """The request's own token counts (None: the instance's)."""
        a = self.arrivals
        return (None if a.l_in is None else int(a.l_in[r])), (None if a.l_out is None else int(a.l_out[r]))

    def s_c(self, r: int) -> float:
        """Its cache per block: the instance's s_c scaled by its tokens (the file's s_c is authoritative)."""
        if self.arrivals.l_in is None:
            return self.inst.s_c
        w = self.inst.workload
        return self.inst.s_c * (self.cols["l_in"][r] + self.cols["l_out"][r]) / (w.l_in + w.l_out)

    def scale(self, r: int) -> float:
        return 1.0 if self.arrivals.scale is None else float(self.arrivals.scale[r])

    def record(self, r: int, start: float, delay: float, first: float, duration: float, chain: Sequence[int]) -> None:
        """A served request: it waits until ``start``, then the delay, the first token and the rest."""
        c, arrival, l_out = self.cols, self.cols["arrival"][r], self.cols["l_out"][r]
        completion = start + delay + duration
        self.served[r] = True
        self.route[r] = " ".join(self.inst.servers[j].id for j in chain)
        for key, value in (("start", start), ("wait", start - arrival), ("delay", delay),
                           ("ttft", start - arrival + delay + first), ("service", duration),
                           ("completion", completion), ("per_token", (completion - arrival) / l_out),
                           ("decode_per_token", (duration - first) / (l_out - 1) if l_out > 1 else 0.0),
                           ("response", completion - arrival)):
            c[key][r] = value

    def frame(self, peak: Sequence[float]) -> pd.DataFrame:
        df = pd.DataFrame({**{k: self.cols[k] for k in COLUMNS if k in self.cols}, "served": self.served,
                           "route": self.route})[COLUMNS]
        df.attrs["peak_cache_gb"] = list(peak)
        return df


def simulate(inst: Instance, pl: Placement, capacity: Sequence[float], policy: RoutingPolicy,
             arrivals: Arrivals, service: str = "full", retry_backoff: bool = True,
             progress: Callable[[int], None] | None = None, calibration: Calibration = Calibration()
             ) -> pd.DataFrame:
    """The reservation timeline: one row per request (arrival, start, wait, allocation delay, TTFT, service,
    completion, per-token and response time, route, the policy's routing time, its tokens). A request no
    chain can serve, or that cannot fit even alone, is not ``served`` and has NaN times."""
    state = State(inst, pl, capacity)
    service_time = SERVICE[service]
    trace = Trace(inst, arrivals)
    route_s = trace.cols["route_s"]
    for r, (arrival, c) in enumerate(zip(arrivals.times.tolist(), arrivals.clients.tolist())):
        state.s_c = s_c = trace.s_c(r)
        tick = time.perf_counter()
        chain = policy.route(state, r, c, arrival)
        route_s[r] = time.perf_counter() - tick
        ks = route_blocks(inst.L, pl, chain) if chain else None
        ready = math.inf if ks is None else max(state.timelines[j].earliest_fit(s_c * k, arrival)
                                                for j, k in zip(chain, ks))
        if math.isfinite(ready):
            l_in, l_out = trace.tokens(r)
            start = retry_instant(arrival, ready) if retry_backoff else ready
            factor = trace.scale(r)
            duration = service_time(inst, c, chain, ks, l_in, l_out) * factor
            held_from = arrival if calibration.hold_from_arrival else start
            for j, k in zip(chain, ks):
                state.timelines[j].forget_before(arrival)
                state.timelines[j].reserve(held_from, start + calibration.delay_s + duration, s_c * k)
            trace.record(r, start, calibration.delay_s, first_token_time(inst, c, chain, ks, l_in) * factor,
                         duration, chain)
        if progress:
            progress(r)
    return trace.frame([tl.peak for tl in state.timelines])


def simulate_setup(inst: Instance, setup: OnlineSetup, arrivals: Arrivals, retry_backoff: bool = True,
                   progress: Callable[[int], None] | None = None, calibration: Calibration = Calibration()
                   ) -> pd.DataFrame:
    """An online algorithm's setup simulated: by slots (JFFC) when it has chains, else on the timeline."""
    if setup.chains is not None:
        return simulate_jffc(inst, setup.chains, arrivals, progress=progress, calibration=calibration)
    return simulate(inst, setup.placement, setup.capacity, setup.policy, arrivals, retry_backoff=retry_backoff,
                    progress=progress, calibration=calibration)


def simulate_jffc(inst: Instance, chains: Sequence[Chain], arrivals: Arrivals,
                  progress: Callable[[int], None] | None = None, calibration: Calibration = Calibration()
                  ) -> pd.DataFrame:
    """Join the fastest free chain (docs/simulator.md §5): per client its chains, fastest (shortest
    service time) first; an arriving request takes the fastest chain with a free slot, else waits in its
    client's FIFO queue; a completion hands its slot to the head of that queue. Heap of completions: a
    request costs a log factor, however many wait."""
    trace = Trace(inst, arrivals)
    order = {c: sorted((k for k, ch in enumerate(chains) if ch.client == c), key=lambda k: (chains[k].service_s, k))
             for c in range(len(inst.clients))}
    free = [ch.capacity for ch in chains]
    busy = np.zeros(inst.n_servers)
    peak = np.zeros(inst.n_servers)
    queues: dict[int, deque[int]] = {c: deque() for c in order}
    done: list[tuple[float, int, int]] = []          # (completion, request, chain)

    def start(r: int, k: int, at: float) -> None:
        ch = chains[k]
        c = int(arrivals.clients[r])
        l_in, l_out = trace.tokens(r)
        factor = trace.scale(r)
        duration = full_time(inst, c, ch.servers, ch.ks, l_in, l_out) * factor
        trace.record(r, at, calibration.delay_s, first_token_time(inst, c, ch.servers, ch.ks, l_in) * factor,
                     duration, ch.servers)
        free[k] -= 1
        for j, kb in zip(ch.servers, ch.ks):
            busy[j] += inst.s_c * kb
            peak[j] = max(peak[j], busy[j])
        heapq.heappush(done, (at + calibration.delay_s + duration, r, k))

    def finish_until(t: float) -> None:
        while done and done[0][0] <= t:
            at, _, k = heapq.heappop(done)
            ch = chains[k]
            free[k] += 1
            for j, kb in zip(ch.servers, ch.ks):
                busy[j] -= inst.s_c * kb
            waiting = queues[ch.client]
            if waiting:
                start(waiting.popleft(), k, at)

    for r, (arrival, c) in enumerate(zip(arrivals.times.tolist(), arrivals.clients.tolist())):
        finish_until(arrival)
        k = next((k for k in order[c] if free[k] > 0), None)
        if k is not None:
            start(r, k, arrival)
        elif order[c]:
            queues[c].append(r)
        if progress:
            progress(r)
    finish_until(math.inf)
    return trace.frame(peak.tolist())
