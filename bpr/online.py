"""What an online algorithm hands the simulator (docs/simulator.md): a placement, the cache capacity each
server offers, and a routing policy that picks a chain for every arriving request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from bpr.perf import Placement
from bpr.record import RunRecord
from bpr.status import Termination

if TYPE_CHECKING:
    from bpr.simulator import State


class RoutingPolicy(Protocol):
    name: str

    def route(self, state: "State", request: int, client: int, now: float) -> list[int] | None: ...


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
