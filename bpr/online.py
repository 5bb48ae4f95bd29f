"""What an online algorithm hands the simulator (docs/simulator.md): a placement, the cache capacity each
server offers, and a routing policy that picks a chain for every arriving request from the ``State`` the
simulator keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np

from bpr.hop_graph import hop_graph
from bpr.instance import Instance
from bpr.perf import Placement
from bpr.record import RunRecord
from bpr.status import Termination
from bpr.timeline import Timeline


class State:
    """What a routing policy may look at: instance, placement, hop graph and the server timelines."""

    def __init__(self, inst: Instance, pl: Placement, capacity: Sequence[float]):
        self.inst, self.placement = inst, pl
        self.graph = hop_graph(inst.L, pl)
        self.timelines = [Timeline(c) for c in capacity]

    def wait(self, j: int, k: int, now: float) -> float:
        """tW: time from ``now`` until server j has room for k blocks of cache at every later instant."""
        return self.timelines[j].earliest_fit(self.inst.s_c * k, now) - now

    def free(self, j: int, now: float) -> float:
        return self.timelines[j].capacity - self.timelines[j].usage(now)


class RoutingPolicy(Protocol):
    name: str

    def route(self, state: State, request: int, client: int, now: float) -> list[int] | None: ...


@dataclass(frozen=True)
class OnlineSetup:
    """``placement`` None: no placement could be made (``message`` says why); ``record`` is the runner's."""

    algorithm: str
    placement: Placement | None
    capacity: np.ndarray
    policy: RoutingPolicy | None
    info: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    record: RunRecord = field(default_factory=RunRecord)

    @property
    def termination(self) -> Termination:
        return Termination.SOLVED if self.placement is not None else Termination.INFEASIBLE
