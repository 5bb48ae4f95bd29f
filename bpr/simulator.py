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

Neither trusts the setup's memory: the capacities and slots an online algorithm declares decide whom it
admits, but what each server then holds is graded by bpr/memory_audit.py against M_j and the placement
(§7): the trace's ``attrs`` carry each server's peak cache, the peak share of memory and the first overflow.
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
from bpr.memory_audit import Holds, audit
from bpr.online import Chain, OnlineSetup, RoutingPolicy, State
from bpr.perf import Placement, first_token_time, per_token_time, route_blocks

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


def service_time(kind: str, first: float, per_token: float, l_out: int) -> float:
    """D of one request from its first-token time and per-token time: ``full`` is eq. 1, first token plus
    (l_out - 1) decode steps (bpr/perf.py ``full_time``); ``offline`` is l_out per-token times, the offline cost
    (``offline_time``)."""
    return first + (l_out - 1) * per_token if kind == "full" else l_out * per_token


SERVICE = ("full", "offline")
COLUMNS = ["request", "client", "arrival", "served", "start", "wait", "delay", "ttft", "service", "completion",
           "per_token", "decode_per_token", "route", "route_s", "response", "l_in", "l_out"]


class Trace:
    """One row per request (columns of docs/simulator.md §1): a served request is recorded as it is admitted
    (its start, allocation delay, first-token time, service time and chain), the rest is derived in ``frame``
    for all requests at once. Per-request inputs are Python lists: the loop reads them one at a time."""

    def __init__(self, inst: Instance, arrivals: Arrivals):
        n = len(arrivals)
        self.inst, self.arrivals, self.n = inst, arrivals, n
        w = inst.workload
        self.l_in = np.full(n, w.l_in) if arrivals.l_in is None else np.asarray(arrivals.l_in)
        self.l_out = np.full(n, w.l_out) if arrivals.l_out is None else np.asarray(arrivals.l_out)
        self.tokens_in = None if arrivals.l_in is None else self.l_in.tolist()
        self.tokens_out = None if arrivals.l_out is None else self.l_out.tolist()
        self.scales = None if arrivals.scale is None else np.asarray(arrivals.scale, dtype=float).tolist()
        # its cache per block: the instance's s_c scaled by its tokens (the file's s_c is authoritative)
        self.s_c = [inst.s_c] * n if arrivals.l_in is None else \
            [inst.s_c * (a + b) / (w.l_in + w.l_out) for a, b in zip(self.tokens_in, self.tokens_out)]
        self.route_s = np.full(n, np.nan)
        self.rows: list[tuple[int, float, float, float, float]] = []   # (request, start, delay, first, service)
        self.chains: list[tuple[int, ...]] = []
        self.holds = Holds()

    def tokens(self, r: int) -> tuple[int | None, int | None]:
        """The request's own token counts (None: the instance's)."""
        return (None if self.tokens_in is None else self.tokens_in[r]), \
            (None if self.tokens_out is None else self.tokens_out[r])

    def scale(self, r: int) -> float:
        return 1.0 if self.scales is None else self.scales[r]

    def record(self, r: int, start: float, delay: float, first: float, duration: float, chain: Sequence[int]) -> None:
        """A served request: it waits until ``start``, then the delay, the first token and the rest."""
        self.rows.append((r, start, delay, first, duration))
        self.chains.append(tuple(chain))

    def frame(self, pl: Placement) -> pd.DataFrame:
        """The trace, with the memory grade of its holds on ``pl`` in ``attrs`` (``peak_cache_gb`` per
        server, ``peak_memory_share``, ``memory_overflow``: the first overflow's message or None)."""
        n, arrival = self.n, np.asarray(self.arrivals.times, dtype=float)
        rows = np.array(self.rows, dtype=float).reshape(-1, 5)
        served = rows[:, 0].astype(int)
        cols: dict[str, np.ndarray] = {}
        for key, values in (("start", rows[:, 1]), ("delay", rows[:, 2]), ("first", rows[:, 3]),
                            ("service", rows[:, 4])):
            cols[key] = np.full(n, np.nan)
            cols[key][served] = values
        start, delay, first, duration = cols.pop("start"), cols["delay"], cols.pop("first"), cols["service"]
        l_out = self.l_out.astype(float)
        completion = start + delay + duration
        with np.errstate(invalid="ignore", divide="ignore"):
            decode = np.where(l_out > 1, (duration - first) / (l_out - 1), 0.0)
        names: dict[tuple[int, ...], str] = {}
        route: list[str | None] = [None] * n
        for r, chain in zip(served.tolist(), self.chains):
            if chain not in names:
                names[chain] = " ".join(self.inst.servers[j].id for j in chain)
            route[r] = names[chain]
        is_served = np.zeros(n, dtype=bool)
        is_served[served] = True
        df = pd.DataFrame({
            "request": np.arange(n), "client": np.asarray(self.arrivals.clients, dtype=int), "arrival": arrival,
            "served": is_served, "start": start, "wait": start - arrival, "delay": delay,
            "ttft": start - arrival + delay + first, "service": duration, "completion": completion,
            "per_token": (completion - arrival) / l_out, "decode_per_token": np.where(is_served, decode, np.nan),
            "route": route, "route_s": self.route_s, "response": completion - arrival, "l_in": self.l_in,
            "l_out": self.l_out})[COLUMNS]
        grade = audit(self.inst, pl, self.holds)
        df.attrs["peak_cache_gb"] = grade.peak_cache_gb.tolist()
        df.attrs["peak_memory_share"] = grade.peak_share
        df.attrs["memory_overflow"] = None if grade.overflow is None else str(grade.overflow)
        return df


def simulate(inst: Instance, pl: Placement, capacity: Sequence[float], policy: RoutingPolicy,
             arrivals: Arrivals, service: str = "full", retry_backoff: bool = True,
             progress: Callable[[int], None] | None = None, calibration: Calibration = Calibration()
             ) -> pd.DataFrame:
    """The reservation timeline: one row per request (arrival, start, wait, allocation delay, TTFT, service,
    completion, per-token and response time, route, the policy's routing time, its tokens). A request no
    chain can serve, or that cannot fit even alone, is not ``served`` and has NaN times."""
    if service not in SERVICE:
        raise ValueError(f"service: expected one of {SERVICE}, got {service!r}")
    state = State(inst, pl, capacity)
    timelines = state.timelines
    trace = Trace(inst, arrivals)
    route_s, sizes, delay = trace.route_s, trace.s_c, calibration.delay_s
    l_out_default = inst.workload.l_out
    # per client and chain: its blocks per hop, first-token time at the instance's l_in and per-token time
    # (routes repeat: computed once each)
    known: dict[tuple[int, tuple[int, ...]], tuple[list[int] | None, float, float]] = {}
    for r, (arrival, c) in enumerate(zip(arrivals.times.tolist(), arrivals.clients.tolist())):
        state.s_c = s_c = sizes[r]
        tick = time.perf_counter()
        chain = policy.route(state, r, c, arrival)
        route_s[r] = time.perf_counter() - tick
        if chain:
            key = (c, tuple(chain))
            if key not in known:
                ks = route_blocks(inst.L, pl, chain)
                known[key] = (ks, 0.0, 0.0) if ks is None else \
                    (ks, first_token_time(inst, c, chain, ks), per_token_time(inst, c, chain, ks))
            ks, first, per_token = known[key]
        else:
            ks = None
        ready = math.inf if ks is None else max(timelines[j].earliest_fit(s_c * k, arrival)
                                                for j, k in zip(chain, ks))
        if math.isfinite(ready):
            l_in, l_out = trace.tokens(r)
            start = retry_instant(arrival, ready) if retry_backoff else ready
            factor = trace.scale(r)
            if l_in is not None:        # its own prompt: its own first-token time
                first = first_token_time(inst, c, chain, ks, l_in)
            duration = service_time(service, first, per_token, l_out_default if l_out is None else l_out) * factor
            held_from = arrival if calibration.hold_from_arrival else start
            end = start + delay + duration
            for j, k in zip(chain, ks):
                timelines[j].forget_before(arrival)
                timelines[j].reserve(held_from, end, s_c * k)
            trace.holds.add(chain, ks, s_c, held_from, end)
            trace.record(r, start, delay, first * factor, duration, chain)
        if progress:
            progress(r)
    return trace.frame(pl)


def simulate_setup(inst: Instance, setup: OnlineSetup, arrivals: Arrivals, retry_backoff: bool = True,
                   progress: Callable[[int], None] | None = None, calibration: Calibration = Calibration()
                   ) -> pd.DataFrame:
    """An online algorithm's setup simulated: by slots (JFFC) when it has chains, else on the timeline."""
    if setup.chains is not None:
        return simulate_jffc(inst, setup.chains, arrivals, setup.placement, progress=progress,
                             calibration=calibration)
    return simulate(inst, setup.placement, setup.capacity, setup.policy, arrivals, retry_backoff=retry_backoff,
                    progress=progress, calibration=calibration)


def simulate_jffc(inst: Instance, chains: Sequence[Chain], arrivals: Arrivals, placement: Placement,
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
    queues: dict[int, deque[int]] = {c: deque() for c in order}
    done: list[tuple[float, int, int]] = []          # (completion, request, chain)

    def start(r: int, k: int, at: float) -> None:
        ch = chains[k]
        c = int(arrivals.clients[r])
        l_in, l_out = trace.tokens(r)
        factor = trace.scale(r)
        first = first_token_time(inst, c, ch.servers, ch.ks, l_in)
        duration = service_time("full", first, per_token_time(inst, c, ch.servers, ch.ks),
                                inst.workload.l_out if l_out is None else l_out) * factor
        trace.record(r, at, calibration.delay_s, first * factor, duration, ch.servers)
        free[k] -= 1
        end = at + calibration.delay_s + duration
        trace.holds.add(ch.servers, ch.ks, inst.s_c, at, end)     # a slot holds what it was sized for: s_c per block
        heapq.heappush(done, (end, r, k))

    def finish_until(t: float) -> None:
        while done and done[0][0] <= t:
            at, _, k = heapq.heappop(done)
            ch = chains[k]
            free[k] += 1
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
    return trace.frame(placement)
