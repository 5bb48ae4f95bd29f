"""Settings of the MILP/LP solver behind the exact algorithms (the Hydra group ``solver``); shared by every
algorithm that declares ``uses_solver`` and recorded as ``p_solver_*`` columns of every row it writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from bpr.errors import BprInputError, unknown
from bpr.fields import integer, number
from bpr.limits import MAX_SECONDS


@dataclass
class SolverSettings:
    """Solver choice and limits. ``option_names`` maps time_limit, rel_gap, threads and seed to a classic
    Pyomo solver's own option names (default: solvers/option_names.yaml). ``log`` writes the solver's
    own log into the job directory (``solver_logs/<algorithm>.log``); ``progress`` shows each phase (build,
    load, solve) with its elapsed time and, while a MIP runs, incumbent, bound and gap: one line rewritten in
    place on a terminal, and lines in the job's run.log either way (solvers/framework/status_line.py)."""

    name: str = "highs"
    time_limit: float = 60.0
    rel_gap: float = 1e-6
    threads: int = 1
    warm_start: bool = True
    max_vars: int = 1_000_000   # ~10 KB per variable in Pyomo + HiGHS: ~11 GB, room left on a 24 GB machine
    export: Optional[str] = None
    log: bool = True
    progress: bool = True
    option_names: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, cfg: dict[str, Any] | None, **overrides: Any) -> "SolverSettings":
        known = set(cls.__dataclass_fields__)
        data = {**(cfg or {}), **{k: v for k, v in overrides.items() if v is not None}}
        extra = sorted(set(data) - known)
        if extra:
            raise unknown("solver setting", extra[0], sorted(known))
        s = cls(**data)
        s.time_limit = number(s.time_limit, "solver.time_limit")
        s.rel_gap = number(s.rel_gap, "solver.rel_gap")
        if not 0 < s.time_limit <= MAX_SECONDS:
            raise BprInputError(f"solver.time_limit must be > 0 and at most {MAX_SECONDS:g} s, got {s.time_limit}")
        if not 0 <= s.rel_gap < 1:
            raise BprInputError(f"solver.rel_gap must be in [0, 1), got {s.rel_gap}")
        integer(s.threads, "solver.threads", lo=1, hi=1024)
        integer(s.max_vars, "solver.max_vars", lo=1)
        if s.export and Path(s.export).suffix.lower() not in (".lp", ".mps"):
            raise BprInputError(f"solver.export: expected a path ending in .lp or .mps, got '{s.export}'")
        return s
