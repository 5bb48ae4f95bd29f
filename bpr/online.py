"""What an online algorithm hands the simulator (docs/simulator.md): a placement, the cache capacity each
server offers, and a routing policy that picks a chain for every arriving request from the ``State`` the
simulator keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np

from bpr.hop_graph import StaticRoute, hop_graph
from bpr.instance import Instance
from bpr.perf import Placement
from bpr.record import RunRecord
from bpr.status import Termination
from bpr.timeline import Timeline


class State:
    """What a routing policy may look at: instance, placement, hop graph, the server timelines, the cache per
    block of the request being routed (``s_c``: its own under a trace workload) and a memo for what a policy
    computes once per placement (its routes under fixed costs)."""

    def __init__(self, inst: Instance, pl: Placement, capacity: Sequence[float]):
        self.inst, self.placement = inst, pl
        self.graph = hop_graph(inst.L, pl)
        self.timelines = [Timeline(c) for c in capacity]
        self.s_c = inst.s_c
        self.memo: dict[Any, Any] = {}

    def wait(self, j: int, k: int, now: float) -> float:
        """tW: time from ``now`` until server j has room for k blocks of cache at every later instant."""
        return self.timelines[j].earliest_fit(self.s_c * k, now) - now

    def idle_along(self, route: StaticRoute | None, now: float) -> bool:
        """Whether every server of the route has room for this request now and at every later instant."""
        if route is None:
            return False
        timelines, s_c = self.timelines, self.s_c
        return all(timelines[j].earliest_fit(s_c * k, now) == now for j, k in zip(route.chain, route.ks))

    def free(self, j: int, now: float) -> float:
        return self.timelines[j].capacity - self.timelines[j].usage(now)


class RoutingPolicy(Protocol):
    name: str

    def route(self, state: State, request: int, client: int, now: float) -> list[int] | None: ...


@dataclass(frozen=True)
class Chain:
    """A route of one client with a number of slots (the follow-up's chains, docs/simulator.md §5): each slot
    holds one request's cache s_c k_j on every server of the route, reserved for good, so the chains never
    over-commit a server's memory. ``service_s`` is one request's full service time along it (eq. 1)."""

    client: int
    servers: list[int]
    ks: list[int]
    capacity: int
    service_s: float


@dataclass(frozen=True)
class OnlineSetup:
    """``placement`` None: no placement could be made (``message`` says why); ``record`` is the runner's.
    With ``chains`` the simulator admits requests by slots (JFFC) instead of the reservation timeline and
    ``policy`` is not used."""

    algorithm: str
    placement: Placement | None
    capacity: np.ndarray
    policy: RoutingPolicy | None
    info: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    record: RunRecord = field(default_factory=RunRecord)
    chains: list[Chain] | None = None
    slots_by_cache: bool = False        # a chain's slots as a budget of cache (docs/simulator.md §5)

    @property
    def termination(self) -> Termination:
        return Termination.SOLVED if self.placement is not None else Termination.INFEASIBLE
