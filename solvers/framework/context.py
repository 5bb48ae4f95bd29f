"""What the runner gives every algorithm run besides the instance and its options (as benchopt's runner owns
the clock): the seed, the solver settings, where logs go, and the run's ``Clock``.

The clock's origin is the moment the runner calls the algorithm; the run's deadline comes from its time
limit (solvers/framework/registry.py). Every phase of the run (heuristic starts, a search, an LP, a
relaxation, a model's build, load and solve) is recorded on it with its start and end, and so is every
incumbent and dual bound the run finds, whichever phase finds it: the progress log of a solution is the
run's, from 0 (docs/results.md, "Time"). A sub-phase gets its share of the one deadline through
``Context.share`` or ``Context.at_most``; no algorithm does its own budget arithmetic, and work that
several phases need (the heuristics' starts) is done once per run (``Clock.once``).
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from bpr.fields import integer
from bpr.limits import MAX_SEED
from bpr.record import Phase, Progress
from solvers.framework.settings import SolverSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


class Clock:
    """One run's clock: seconds since its origin, the phases and the progress (incumbent, bound) on it."""

    def __init__(self, run: str = "") -> None:
        self.run = run                                    # the algorithm the run is of (names its log lines)
        self.origin = time.perf_counter()
        self.phases: list[Phase] = []
        self.progress: Progress = [(0.0, None, None)]    # nothing known at 0
        self._memo: dict[Any, Any] = {}

    def now(self) -> float:
        return time.perf_counter() - self.origin

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Record the phase ``name`` from now until the block ends (also when it raises)."""
        start = self.now()
        try:
            yield
        finally:
            self.phases.append(Phase(name, start, self.now()))
            log.info("%s phase %s: %.2f-%.2f s", self.run or "run", name, start, self.phases[-1].end_s)

    def found(self, incumbent: float | None = None, bound: float | None = None, at: float | None = None) -> None:
        """An incumbent (the cost of a solution of the instance) or a dual bound (on the instance's optimum)
        found at ``at`` (default now). The progress keeps the best of each so far, one point per news."""
        _, best, proved = self.progress[-1]
        inc = incumbent if best is None or (incumbent is not None and incumbent < best) else best
        bnd = bound if proved is None or (bound is not None and bound > proved) else proved
        if (inc, bnd) != (best, proved):
            self.progress.append((self.now() if at is None else at, inc, bnd))

    def incumbent(self) -> float | None:
        return self.progress[-1][1]

    def curve(self) -> Progress:
        """The progress until now: its points and one at now with the last values (where the curve ends)."""
        now = self.now()
        last = self.progress[-1]
        return list(self.progress) + ([(now, last[1], last[2])] if now > last[0] else [])

    def once(self, key: Any, name: str, compute: Callable[[], T]) -> T:
        """``compute()`` the first time a run asks for ``key``, as the phase ``name``; the same value after."""
        if key not in self._memo:
            with self.phase(name):
                self._memo[key] = compute()
        return self._memo[key]


@dataclass(frozen=True)
class Context:
    """What the harness gives every algorithm besides the instance and its options. ``until`` is the deadline
    of the run (or of the phase this context was shared out for) in seconds on ``clock``; None: the solver's
    time limit from the clock's origin."""

    seed: int = 0
    solver: SolverSettings = field(default_factory=SolverSettings)
    log_dir: Path | None = None       # the job directory: solver logs go below it
    algorithm: str = ""               # the name the call runs under (set by the runner): a function declared
                                      # under several names (the PETALS variants) tells them apart by it
    clock: Clock = field(default_factory=Clock, compare=False)
    until: float | None = None

    def __post_init__(self) -> None:
        integer(self.seed, "seed", lo=0, hi=MAX_SEED)

    @property
    def deadline(self) -> float:
        return self.solver.time_limit if self.until is None else self.until

    def left(self) -> float:
        """Seconds until the deadline (0 when it has passed)."""
        return max(self.deadline - self.clock.now(), 0.0)

    def share(self, fraction: float) -> "Context":
        """The context of a sub-phase that may use ``fraction`` of the time left (the rest stays for what
        follows it)."""
        return replace(self, until=self.clock.now() + fraction * self.left())

    def at_most(self, seconds: float) -> "Context":
        """The context of a sub-phase that may use ``seconds``, and never more than is left."""
        return replace(self, until=self.clock.now() + min(seconds, self.left()))

    def highs(self, **options: object) -> "Context":
        """The same context with HiGHS options a model asks for; the user's ``solver.options`` win, and another
        solver is left as it is (the option names are HiGHS's)."""
        if self.solver.name != "highs":
            return self
        return replace(self, solver=replace(self.solver, options={**options, **self.solver.options}))

    def quiet(self) -> "Context":
        """The same run without a solver log or a status line (sub-solves by the thousand)."""
        return replace(self, solver=replace(self.solver, log=False, progress=False, export=None))


def for_run(ctx: Context, algorithm: str, limit: float | None) -> Context:
    """A new run of ``algorithm``: a fresh clock from now, the deadline ``limit`` seconds on (None: none)."""
    return replace(ctx, algorithm=algorithm, clock=Clock(algorithm), until=math.inf if limit is None else limit)
