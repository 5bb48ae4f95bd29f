"""The run record every algorithm's result carries (docs/results.md): what the harness measured (outcome,
runtime, the settings it ran with) and, for model-based algorithms, the solver report (termination,
incumbent, dual bound, gap, nodes, build / load / solve seconds). Solutions, bounds and online setups share it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from bpr.errors import BprInputError
from bpr.fields import integer, listing, member, number, require, text
from bpr.status import Outcome, Termination


def gap(incumbent: float | None, bound: float | None) -> float | None:
    """The relative gap (incumbent - bound) / |incumbent| (docs/model.md §8), the one definition of the suite.
    None without both numbers, 0 when both are 0, None (undefined) at incumbent 0 with another bound."""
    if incumbent is None or bound is None:
        return None
    if incumbent == 0:
        return 0.0 if bound == 0 else None
    return (incumbent - bound) / abs(incumbent)


Progress = list[tuple[float, float | None, float | None]]   # (s on the run's clock, incumbent, bound)


@dataclass(frozen=True)
class Phase:
    """One phase of an algorithm run (heuristic starts, a search, a model's build, load or solve), in seconds
    on the run's clock (origin: when the runner called the algorithm)."""

    name: str
    start_s: float
    end_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "start_s": self.start_s, "end_s": self.end_s}

    @classmethod
    def from_dict(cls, d: Any, where: str) -> "Phase":
        return cls(text(require(d, "name", where), f"{where}.name"), number(require(d, "start_s", where),
                   f"{where}.start_s"), number(require(d, "end_s", where), f"{where}.end_s"))


def overran(overrun_s: float | None, time_limit_s: float | None) -> bool:
    """Whether a run took longer than its time limit allows: max(1 s, 2 % of the limit) beyond it (the
    runner's promise, docs/results.md "Time")."""
    return overrun_s is not None and time_limit_s is not None and overrun_s > max(1.0, 0.02 * time_limit_s)


def phases_text(phases: Sequence[Phase]) -> str:
    """The phases as one line of a table: ``lns 0.0-10.0 s; exact: build 10.0-10.4 s; ...``."""
    return "; ".join(f"{p.name} {p.start_s:.1f}-{p.end_s:.1f} s" for p in phases)


@dataclass(frozen=True)
class SolverReport:
    """One MILP/LP solve, in the units of the offline cost (average per-token seconds, docs/model.md §3)."""

    termination: Termination
    raw_status: str = ""                 # the solver's own word
    has_solution: bool = False
    incumbent_s: float | None = None
    dual_bound_s: float | None = None
    gap: float | None = None
    nodes: int | None = None
    variables: int | None = None
    constraints: int | None = None
    build_s: float | None = None
    load_s: float | None = None
    solve_s: float | None = None
    warm_start_from: str | None = None   # the heuristic whose solution was loaded as a MIP start
    warm_start_accepted: bool | None = None
    warning: str = ""                    # e.g. an export that could not be written
    progress: Progress = field(default_factory=list)

    COLUMNS = ("raw_status", "incumbent_s", "dual_bound_s", "gap", "nodes", "variables", "constraints", "build_s",
               "load_s", "solve_s", "warm_start_from", "warm_start_accepted")

    def columns(self) -> dict[str, Any]:
        """The report's result columns (docs/results.md; its termination is the row's); the progress curve
        stays in the solution file."""
        return {k: getattr(self, k) for k in self.COLUMNS}

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "termination": str(self.termination),
                "progress": [list(p) for p in self.progress]}

    @classmethod
    def from_dict(cls, d: Any, where: str = "solver") -> "SolverReport":
        """A report as written by ``to_dict``; a wrong field is bad input that names it."""
        require(d, "termination", where)
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise BprInputError(f"{where}.{sorted(unknown)[0]}: not a field of a solver report")
        values: dict[str, Any] = {"termination": member(Termination, d["termination"], f"{where}.termination")}
        for f in dataclasses.fields(cls):
            if f.name in d and f.name != "termination" and d[f.name] is not None:
                values[f.name] = _field(f.name, d[f.name], f"{where}.{f.name}")
        return cls(**values)


def _field(name: str, value: Any, where: str) -> Any:
    if name in ("raw_status", "warning", "warm_start_from"):
        return text(value, where) if value else ""
    if name in ("has_solution", "warm_start_accepted"):
        if not isinstance(value, bool):
            raise BprInputError(f"{where}: expected true or false, got {value!r}")
        return value
    if name in ("nodes", "variables", "constraints"):
        return integer(value, where, lo=0)
    if name == "progress":
        return [tuple(None if x is None else number(x, f"{where}[{i}]") for x in listing(p, f"{where}[{i}]"))
                for i, p in enumerate(listing(value, where))]
    return number(value, where)


@dataclass(frozen=True)
class RunRecord:
    """What the runner measured of one algorithm call (solvers/framework/registry.py): ``outcome`` and its
    ``message`` (why it was skipped or what went wrong), the runtime and the time limit the runner gave the
    run (None: none), the phases of the run on its clock, the settings it ran with (seed, options, solver
    settings) and the solver report of a model-based algorithm."""

    outcome: Outcome = Outcome.OK
    message: str = ""
    runtime_s: float | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    solver: SolverReport | None = None
    time_limit_s: float | None = None
    phases: tuple[Phase, ...] = ()

    @property
    def overrun_s(self) -> float | None:
        """Seconds the run took beyond its time limit (0 within it; None without a limit)."""
        if self.time_limit_s is None or self.runtime_s is None:
            return None
        return max(self.runtime_s - self.time_limit_s, 0.0)

    def to_dict(self) -> dict[str, Any]:
        """The file fields (docs/formats.md §2): outcome, runtime_s, time_limit_s, the phases, settings and the
        solver report."""
        out: dict[str, Any] = {"outcome": str(self.outcome), "runtime_s": self.runtime_s,
                               "time_limit_s": self.time_limit_s, "phases": [p.to_dict() for p in self.phases],
                               "settings": dict(self.settings)}
        if self.outcome is not Outcome.OK:
            out["error"] = self.message
        if self.solver is not None:
            out["solver"] = self.solver.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunRecord":
        settings = d.get("settings", {})
        if not isinstance(settings, dict):
            raise BprInputError(f"settings: expected an object, got {type(settings).__name__}")
        runtime, limit = d.get("runtime_s"), d.get("time_limit_s")
        error = d.get("error", "")
        return cls(outcome=member(Outcome, d.get("outcome", "ok"), "outcome"),
                   message=error if isinstance(error, str) else str(error),
                   runtime_s=None if runtime is None else number(runtime, "runtime_s"), settings=settings,
                   solver=None if d.get("solver") is None else SolverReport.from_dict(d["solver"]),
                   time_limit_s=None if limit is None else number(limit, "time_limit_s"),
                   phases=tuple(Phase.from_dict(p, f"phases[{i}]")
                                for i, p in enumerate(listing(d.get("phases", []), "phases"))))


RECORD_KEYS = ("outcome", "runtime_s", "time_limit_s", "phases", "settings", "error", "solver")
