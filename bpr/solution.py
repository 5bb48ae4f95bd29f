"""Solutions (docs/model.md §3): a placement plus one route per request, and their JSON file format."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from bpr.errors import BprInputError
from bpr.fields import integer, listing, member, number, require, text
from bpr.files import write_json
from bpr.instance import SCHEMA_VERSION, Instance, parse_file
from bpr.record import RECORD_KEYS, RunRecord
from bpr.status import CheckStatus, Termination


@dataclass(frozen=True)
class PlacementEntry:
    """Server ``server`` stores blocks first_block .. first_block+num_blocks-1 (1-based); 0 blocks = idle."""

    server: str
    first_block: int | None
    num_blocks: int


@dataclass(frozen=True)
class Route:
    request: int
    client: str
    servers: tuple[str, ...]


@dataclass(frozen=True)
class Solution:
    """What a solution algorithm returns (file format: docs/formats.md §2). ``status`` is the checker's word
    (``unchecked`` until graded, then ``feasible`` / ``infeasible``; ``none`` without a solution);
    ``termination`` is what the algorithm says of its own run (bpr/status.py); ``record`` is what the runner
    measured (outcome, runtime, settings, solver report: bpr/record.py). ``info`` holds the algorithm's own
    extras, written next to the format's fields; an extra may not reuse a field's name."""

    instance: str
    algorithm: str
    status: str = CheckStatus.UNCHECKED
    placement: tuple[PlacementEntry, ...] = ()
    routes: tuple[Route, ...] = ()
    objective: float | None = None
    termination: Termination | None = None
    message: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    record: RunRecord = field(default_factory=RunRecord)

    def __post_init__(self) -> None:
        clash = sorted(set(self.info) & CORE)
        if clash:
            raise ValueError(f"{self.algorithm}: info key '{clash[0]}' would overwrite a field of the solution "
                             "file (docs/formats.md §2)")

    @property
    def has_solution(self) -> bool:
        return bool(self.placement)

    @property
    def runtime_s(self) -> float | None:
        return self.record.runtime_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "instance": self.instance,
            "algorithm": self.algorithm,
            "status": str(self.status),
            "placement": [{"server": p.server, "first_block": p.first_block, "num_blocks": p.num_blocks}
                          for p in self.placement],
            "routes": [{"request": r.request, "client": r.client, "servers": list(r.servers)} for r in self.routes],
            "objective": self.objective,
            "termination": None if self.termination is None else str(self.termination),
            "message": self.message,
            **self.record.to_dict(),
            **self.info,
        }

    def save(self, path: str | Path) -> None:
        """Standard JSON: an infinite or undefined number (a bound a solver never found) is null."""
        write_json(path, self.to_dict())


def build(inst: Instance, algorithm: str, first: Sequence[int], num: Sequence[int],
          routes: Sequence[Sequence[int]], info: dict[str, Any] | None = None,
          termination: Termination = Termination.SOLVED, record: RunRecord | None = None) -> Solution:
    """A Solution from 0-based server indices: ``first[j]``/``num[j]`` per server, one index chain per request.
    The status stays ``unchecked`` until the checker grades it (no algorithm grades itself)."""
    placement = tuple(PlacementEntry(s.id, int(first[j]) if num[j] > 0 else None, int(num[j]))
                      for j, s in enumerate(inst.servers))
    owners = inst.request_clients()
    route_list = tuple(Route(r, inst.clients[owners[r]].id, tuple(inst.servers[j].id for j in chain))
                       for r, chain in enumerate(routes))
    return Solution(inst.name, algorithm, CheckStatus.UNCHECKED, placement, route_list, None, termination, "",
                    info or {}, record or RunRecord())


def no_solution(inst: Instance, algorithm: str, termination: Termination, message: str,
                info: dict[str, Any] | None = None, record: RunRecord | None = None) -> Solution:
    """An algorithm's result without a solution: why it stopped and the reason, never an exception."""
    return Solution(inst.name, algorithm, CheckStatus.NONE, termination=termination, message=message,
                    info=info or {}, record=record or RunRecord())


CORE = {"schema_version", "instance", "algorithm", "status", "placement", "routes", "objective", "termination",
        "message", *RECORD_KEYS}


def from_dict(d: Any) -> Solution:
    """Parse a solution file's dict. Shape errors are BprInputError; semantic ones are the checker's job."""
    version = require(d, "schema_version", "solution")
    if version != SCHEMA_VERSION:
        raise BprInputError(f"solution schema_version: expected {SCHEMA_VERSION}, got {version!r}")
    placement = []
    for j, p in enumerate(listing(require(d, "placement", "solution"), "placement")):
        where = f"placement[{j}]"
        num = integer(require(p, "num_blocks", where), f"{where}.num_blocks")
        first = p.get("first_block")
        placement.append(PlacementEntry(text(require(p, "server", where), f"{where}.server"),
                                        None if first is None else integer(first, f"{where}.first_block"), num))
    routes = []
    for r, rd in enumerate(listing(require(d, "routes", "solution"), "routes")):
        where = f"routes[{r}]"
        servers = listing(require(rd, "servers", where), f"{where}.servers")
        routes.append(Route(integer(require(rd, "request", where), f"{where}.request"),
                            text(require(rd, "client", where), f"{where}.client"),
                            tuple(text(s, f"{where}.servers[{i}]") for i, s in enumerate(servers))))
    objective = d.get("objective")
    termination = d.get("termination")
    message = d.get("message", "")
    return Solution(instance=str(d.get("instance", "")), algorithm=str(d.get("algorithm", "")),
                    status=str(d.get("status", CheckStatus.UNCHECKED)), placement=tuple(placement),
                    routes=tuple(routes), objective=None if objective is None else number(objective, "objective"),
                    termination=None if termination is None else member(Termination, termination, "termination"),
                    message=message if isinstance(message, str) else str(message),
                    info={k: v for k, v in d.items() if k not in CORE}, record=RunRecord.from_dict(d))


def load(path: str | Path) -> Solution:
    return parse_file(path, "solution", from_dict)
