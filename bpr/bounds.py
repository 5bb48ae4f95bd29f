"""What a bound algorithm returns (docs/model.md §8): named lower bounds on the offline optimum, each with
its own status, and the run record shared by every result (bpr/record.py). The file is
``bounds/<algorithm>.json`` in a run directory (docs/formats.md §2)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from bpr.files import write_json
from bpr.instance import SCHEMA_VERSION
from bpr.record import RunRecord, SolverReport
from bpr.status import Outcome, Termination


@dataclass(frozen=True)
class Bound:
    """One lower bound in average per-token seconds; ``value_s`` None when it was not obtained (the
    termination, outcome and message say why). An LP bound keeps its solver report; ``runtime_s`` is its own
    time on the run's clock (the run's bounds share one time limit, docs/results.md "Time")."""

    value_s: float | None
    termination: Termination | None = Termination.SOLVED
    outcome: Outcome = Outcome.OK
    message: str = ""
    solver: SolverReport | None = None
    runtime_s: float | None = None     # seconds of the run's clock this bound took (None: it did not run)

    def to_dict(self) -> dict[str, Any]:
        return {"value_s": self.value_s, "termination": None if self.termination is None else str(self.termination),
                "outcome": str(self.outcome), "message": self.message, "runtime_s": self.runtime_s,
                "solver": None if self.solver is None else self.solver.to_dict()}


@dataclass(frozen=True)
class Bounds:
    instance: str
    algorithm: str
    bounds: Mapping[str, Bound] = field(default_factory=dict)
    record: RunRecord = field(default_factory=RunRecord)

    @property
    def best_s(self) -> float | None:
        """The largest finite bound (every one is valid, so the largest is the best)."""
        values = [bound.value_s for bound in self.bounds.values()
                  if bound.value_s is not None and math.isfinite(bound.value_s)]
        return max(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "instance": self.instance, "algorithm": self.algorithm,
                "bounds": {name: bound.to_dict() for name, bound in self.bounds.items()}, "best_s": self.best_s,
                **self.record.to_dict()}

    def save(self, path: str | Path) -> None:
        write_json(path, self.to_dict())
