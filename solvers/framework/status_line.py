"""What a model-based algorithm shows while it works: each phase (build, load, solve) with the elapsed time,
and during a MIP the incumbent, the dual bound and the gap (from HiGHS's MIP log callback).

On a terminal (stderr is a TTY and ``solver.progress``) one line is rewritten in place, at most every
``TTY_EVERY`` seconds; in every case the same text goes to the log (the job's ``run.log``) once per phase and
at most every ``LOG_EVERY`` seconds during a solve, so a run without a terminal can be followed with
``tail -f run.log``. Incumbent and bound are in the model's objective units as HiGHS reports them."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from contextlib import contextmanager
from functools import cache
from typing import Iterator, TextIO

from bpr.record import gap

logger = logging.getLogger(__name__)

TTY_EVERY = 0.5
LOG_EVERY = 10.0


class StatusLine:
    """The status of one model-based run (``name``: the algorithm or bound)."""

    def __init__(self, name: str, show: bool, stream: TextIO | None = None, origin: float | None = None) -> None:
        self.name = name
        self.stream = stream or _terminal()
        self.show = show   # off (solver.progress=false, or the sub-solves of lns): neither line nor log
        self.tty = show and self.stream is not None and self.stream.isatty()
        self.start = time.perf_counter() if origin is None else origin   # the run's clock origin, when given
        self._shown = self._logged = float("-inf")
        self._point: tuple[float, float | None, float | None] | None = None
        self._solve_start = self.start
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def phase(self, text: str) -> None:
        """A new phase (``building 23,325 variables``, ``loading into highs``...): always shown and logged."""
        self._say(text, force=True)

    def mip(self, seconds: float, incumbent: float | None, bound: float | None) -> None:
        """One point of the MIP search (``seconds`` of solver time), from the solver's callback."""
        self._point = (seconds, incumbent, bound)
        self.update(self._solving(seconds))

    def update(self, text: str) -> None:
        """News that may be dropped when the last was shown a moment ago (throttled)."""
        self._say(text, force=False)

    @contextmanager
    def solving(self) -> Iterator[None]:
        """While the solver runs: a clock that keeps the line moving between the solver's own reports (the
        root LP of a large model can take minutes without one; highspy releases the GIL while it solves)."""
        stop = threading.Event()
        self._solve_start = time.perf_counter()
        if not self.show:
            yield
            return

        def tick() -> None:
            while not stop.wait(TTY_EVERY if self.tty else LOG_EVERY):
                self._say(self._solving(time.perf_counter() - self._solve_start), force=False)

        clock = threading.Thread(target=tick, name=f"status-{self.name}", daemon=True)
        clock.start()
        try:
            yield
        finally:
            stop.set()
            clock.join()

    def _solving(self, seconds: float) -> str:
        if self._point is None:
            return f"solving {seconds:.0f} s (presolve / root LP: no bound yet)"
        _, incumbent, bound = self._point
        g = gap(incumbent, bound)
        return (f"solving {seconds:.0f} s: incumbent {num(incumbent)}, bound {num(bound)}, "
                f"gap {gap_text(g)}")

    def done(self, text: str) -> None:
        self._say(text, force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _say(self, text: str, force: bool) -> None:
        if not self.show:
            return
        with self._lock:   # HiGHS may call back from its worker threads
            now = time.perf_counter()
            line = f"{self.name} [{now - self.start:.0f} s] {text}"
            if force or now - self._logged >= LOG_EVERY:
                logger.info("%s", line)
                self._logged = now
            if self.tty and (force or now - self._shown >= TTY_EVERY):
                self.stream.write(f"\r\x1b[K{line}")
                self.stream.flush()
                self._shown = now


@cache
def _terminal() -> TextIO | None:
    """The process's stderr as it is now, on a file descriptor of its own: a solver's log capture (Pyomo's
    ``tee``) redirects descriptor 2 into the log file while it solves, and the line must not follow it."""
    try:
        return os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
    except (OSError, ValueError, AttributeError):   # no real stderr (a captured or closed stream)
        return None


def gap_text(g: float | None) -> str:
    """A relative gap as people read it (a tiny negative one from solver tolerances is 0)."""
    return "-" if g is None else f"{100 * max(g, 0.0):.2f} %"


def num(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"
