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

import bisect
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

    def own_service(self, r: int, c: int, chain: Sequence[int], ks: Sequence[int], kind: str = "full",
                    first: float | None = None, per_token: float | None = None) -> tuple[float, float]:
        """A request's first-token time and service time on a chain with its own tokens, before its job-size
        draw (``first`` and ``per_token`` at the instance's tokens when the caller has them)."""
        l_in, l_out = self.tokens(r)
        if first is None or l_in is not None:     # its own prompt: its own first-token time
            first = first_token_time(self.inst, c, chain, ks, l_in)
        if per_token is None:
            per_token = per_token_time(self.inst, c, chain, ks)
        return first, service_time(kind, first, per_token, self.inst.workload.l_out if l_out is None else l_out)

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


class TimelineServer:
    """Requests routed by a policy and served on the servers' reservation timelines (one state per
    simulation): ``offer`` routes a request and says when its chain has room, ``serve`` reserves it there."""

    def __init__(self, inst: Instance, pl: Placement, capacity: Sequence[float], policy: RoutingPolicy,
                 trace: Trace, service: str, retry_backoff: bool, calibration: Calibration) -> None:
        self.inst, self.pl, self.policy, self.trace = inst, pl, policy, trace
        self.service, self.retry_backoff, self.calibration = service, retry_backoff, calibration
        self.state = State(inst, pl, capacity)
        # per client and chain: its blocks per hop, first-token time at the instance's l_in and per-token time
        # (routes repeat: computed once each)
        self.known: dict[tuple[int, tuple[int, ...]], tuple[list[int] | None, float, float]] = {}

    def offer(self, r: int, c: int, arrival: float) -> tuple[list[int], list[int], float, float, float] | None:
        """(chain, blocks per hop, the instant it has room, first-token and per-token time), or None when the
        policy finds no chain or its chain can never hold the request."""
        state, trace = self.state, self.trace
        state.s_c = s_c = trace.s_c[r]
        tick = time.perf_counter()
        chain = self.policy.route(state, r, c, arrival)
        trace.route_s[r] = time.perf_counter() - tick
        if not chain:
            return None
        key = (c, tuple(chain))
        if key not in self.known:
            ks = route_blocks(self.inst.L, self.pl, chain)
            self.known[key] = (ks, 0.0, 0.0) if ks is None else \
                (ks, first_token_time(self.inst, c, chain, ks), per_token_time(self.inst, c, chain, ks))
        ks, first, per_token = self.known[key]
        if ks is None:
            return None
        ready = max(state.timelines[j].earliest_fit(s_c * k, arrival) for j, k in zip(chain, ks))
        return (chain, ks, ready, first, per_token) if math.isfinite(ready) else None

    def expected_end(self, r: int, c: int, offer: tuple[list[int], list[int], float, float, float]) -> float:
        """When the request would end on the offered chain, as the policy can know it (no job-size draw)."""
        chain, ks, ready, first, per_token = offer
        return ready + self.calibration.delay_s + self.trace.own_service(r, c, chain, ks, self.service, first,
                                                                         per_token)[1]

    def serve(self, r: int, c: int, arrival: float, offer: tuple[list[int], list[int], float, float, float]) -> None:
        chain, ks, ready, first, per_token = offer
        trace, calibration, s_c = self.trace, self.calibration, self.trace.s_c[r]
        start = retry_instant(arrival, ready) if self.retry_backoff else ready
        factor = trace.scale(r)
        first, duration = trace.own_service(r, c, chain, ks, self.service, first, per_token)
        duration *= factor
        held_from = arrival if calibration.hold_from_arrival else start
        end = start + calibration.delay_s + duration
        for j, k in zip(chain, ks):
            self.state.timelines[j].forget_before(arrival)
            self.state.timelines[j].reserve(held_from, end, s_c * k)
        trace.holds.add(chain, ks, s_c, held_from, end)
        trace.record(r, start, calibration.delay_s, first * factor, duration, chain)


def simulate(inst: Instance, pl: Placement, capacity: Sequence[float], policy: RoutingPolicy,
             arrivals: Arrivals, service: str = "full", retry_backoff: bool = True,
             progress: Callable[[int], None] | None = None, calibration: Calibration = Calibration()
             ) -> pd.DataFrame:
    """The reservation timeline: one row per request (arrival, start, wait, allocation delay, TTFT, service,
    completion, per-token and response time, route, the policy's routing time, its tokens). A request no
    chain can serve, or that cannot fit even alone, is not ``served`` and has NaN times."""
    if service not in SERVICE:
        raise ValueError(f"service: expected one of {SERVICE}, got {service!r}")
    trace = Trace(inst, arrivals)
    server = TimelineServer(inst, pl, capacity, policy, trace, service, retry_backoff, calibration)
    for r, (arrival, c) in enumerate(zip(arrivals.times.tolist(), arrivals.clients.tolist())):
        offer = server.offer(r, c, arrival)
        if offer is not None:
            server.serve(r, c, arrival, offer)
        if progress:
            progress(r)
    return trace.frame(pl)


def simulate_setup(inst: Instance, setup: OnlineSetup, arrivals: Arrivals, retry_backoff: bool = True,
                   progress: Callable[[int], None] | None = None, calibration: Calibration = Calibration()
                   ) -> pd.DataFrame:
    """An online algorithm's setup simulated: by slots (JFFC) when it has chains, else on the timeline."""
    if setup.chains is not None:
        return simulate_jffc(inst, setup.chains, arrivals, setup.placement, progress=progress,
                             calibration=calibration, overflow=setup.policy, capacity=setup.capacity,
                             retry_backoff=retry_backoff, by_cache=setup.slots_by_cache)
    return simulate(inst, setup.placement, setup.capacity, setup.policy, arrivals, retry_backoff=retry_backoff,
                    progress=progress, calibration=calibration)


def simulate_jffc(inst: Instance, chains: Sequence[Chain], arrivals: Arrivals, placement: Placement,
                  progress: Callable[[int], None] | None = None, calibration: Calibration = Calibration(),
                  overflow: RoutingPolicy | None = None, capacity: Sequence[float] | None = None,
                  retry_backoff: bool = True, by_cache: bool = False) -> pd.DataFrame:
    """Join the fastest free chain (docs/simulator.md §5): per client its chains, fastest (shortest
    service time) first; an arriving request takes the fastest chain with a free slot, else waits in its
    client's FIFO queue; a completion hands its slot to the head of that queue. Heap of completions: a
    request costs a log factor, however many wait.

    With an ``overflow`` policy (docs/simulator.md §5, `spill`), the servers outside the chains serve on
    their reservation timelines (``capacity``): a request that finds no free slot goes there when it would
    end sooner than in the queue, by what the system can know at its arrival (the expected ends of the
    requests in the slots, without their job-size draws). With ``by_cache`` a chain's slots are a budget of
    cache: a request takes its own cache's share of a slot (under a trace, smaller requests than the largest
    take less), in FIFO order."""
    trace = Trace(inst, arrivals)
    spill = None if overflow is None else TimelineServer(
        inst, Placement(placement.a, np.where(np.isin(np.arange(inst.n_servers), _chain_servers(chains)), 0,
                                              placement.m)),
        capacity, overflow, trace, "full", retry_backoff, calibration)
    expected: dict[int, list[float]] = {c: [] for c in range(len(inst.clients))}   # sorted expected ends
    ends: dict[int, float] = {}
    order = {c: sorted((k for k, ch in enumerate(chains) if ch.client == c), key=lambda k: (chains[k].service_s, k))
             for c in range(len(inst.clients))}
    free = [float(ch.capacity) for ch in chains]      # in slots
    taken: dict[int, float] = {}

    def need(r: int) -> float:
        """The slots a request takes: one, or with ``by_cache`` its own cache over the slot's (<= 1)."""
        return trace.s_c[r] / inst.s_c if by_cache else 1.0

    def fits(k: int, r: int) -> bool:
        return free[k] >= need(r) - 1e-9

    queues: dict[int, deque[int]] = {c: deque() for c in order}
    done: list[tuple[float, int, int]] = []          # (completion, request, chain)

    def start(r: int, k: int, at: float) -> None:
        ch = chains[k]
        c = int(arrivals.clients[r])
        factor = trace.scale(r)
        first, duration = trace.own_service(r, c, ch.servers, ch.ks)
        duration *= factor
        trace.record(r, at, calibration.delay_s, first * factor, duration, ch.servers)
        taken[r] = need(r)
        free[k] -= taken[r]
        end = at + calibration.delay_s + duration
        ends[r] = at + calibration.delay_s + duration / factor
        bisect.insort(expected[c], ends[r])
        # a slot holds what it was sized for, s_c per block; by cache, the request's own
        trace.holds.add(ch.servers, ch.ks, trace.s_c[r] if by_cache else inst.s_c, at, end)
        heapq.heappush(done, (end, r, k))

    def queued_end(r: int, c: int, at: float) -> float:
        """When a request joining its client's queue now would end, as expected: it starts when the
        (q + 1)-th of the slots' expected ends comes (q ahead of it; past one round of the slots, a fastest
        service later per round) and runs on the fastest chain."""
        ahead, mine = len(queues[c]), expected[c]
        if not mine:
            return math.inf
        fastest = chains[order[c][0]]
        slot = mine[ahead % len(mine)] + (ahead // len(mine)) * fastest.service_s
        return max(slot, at) + calibration.delay_s + trace.own_service(r, c, fastest.servers, fastest.ks)[1]

    def finish_until(t: float) -> None:
        while done and done[0][0] <= t:
            at, r, k = heapq.heappop(done)
            ch = chains[k]
            free[k] += taken.pop(r)
            mine = expected[ch.client]
            del mine[bisect.bisect_left(mine, ends.pop(r))]
            waiting = queues[ch.client]
            while waiting and fits(k, waiting[0]):      # FIFO: the head first, as many as the chain now holds
                start(waiting.popleft(), k, at)

    for r, (arrival, c) in enumerate(zip(arrivals.times.tolist(), arrivals.clients.tolist())):
        finish_until(arrival)
        k = next((k for k in order[c] if fits(k, r)), None) if not queues[c] else None   # FIFO: none overtakes
        if k is not None:
            start(r, k, arrival)
        elif spill is not None and (offer := spill.offer(r, c, arrival)) is not None and \
                spill.expected_end(r, c, offer) < queued_end(r, c, arrival):
            spill.serve(r, c, arrival, offer)
        elif order[c]:
            queues[c].append(r)
        if progress:
            progress(r)
    finish_until(math.inf)
    return trace.frame(placement)


def _chain_servers(chains: Sequence[Chain]) -> list[int]:
    return sorted({j for ch in chains for j in ch.servers})
