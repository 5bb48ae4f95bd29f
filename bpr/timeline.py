"""Cache reservations of one server over time (docs/simulator.md §1): admitted requests hold s_c * k_j GB over
[S_r, S_r + D_r). Answers "from when on is there room for ``need`` GB at every later instant"."""

from __future__ import annotations

import math
from bisect import bisect_left

import numpy as np

# Relative slack: a request that exactly fills a server must fit despite float sums.
ROOM_RTOL = 1e-9


class Timeline:
    def __init__(self, capacity: float):
        self.capacity = float(capacity)
        self._start: list[float] = []
        self._end: list[float] = []
        self._amount: list[float] = []
        self._profile: tuple[float, list[float], list[float]] | None = None
        self.peak = 0.0

    def forget_before(self, t: float) -> None:
        """Drop reservations that ended by ``t``: queries never look before the current arrival."""
        keep = [i for i, e in enumerate(self._end) if e > t]
        if len(keep) < len(self._end):
            self._start = [self._start[i] for i in keep]
            self._end = [self._end[i] for i in keep]
            self._amount = [self._amount[i] for i in keep]
            self._profile = None

    def usage(self, t: float) -> float:
        return float(sum(a for s, e, a in zip(self._start, self._end, self._amount) if s <= t < e))

    def _suffix_max(self, now: float) -> tuple[list[float], list[float]]:
        """Breakpoints from ``now`` on and -max(usage over [point, inf)), non-decreasing (for bisection);
        computed once per query time until the next reservation."""
        if self._profile is None or self._profile[0] != now:
            start, end, amount = (np.asarray(x, dtype=float) for x in (self._start, self._end, self._amount))
            points = np.unique(np.concatenate(([now], start[start > now], end[end > now])))
            active = (start[None, :] <= points[:, None]) & (points[:, None] < end[None, :])
            usage = active @ amount if len(amount) else np.zeros(len(points))
            suffix = np.maximum.accumulate(usage[::-1])[::-1]
            self._profile = (now, points.tolist(), (-suffix).tolist())
        return self._profile[1], self._profile[2]

    def earliest_fit(self, need: float, now: float) -> float:
        """Earliest t >= now with usage(tau) + need <= capacity for every tau >= t; inf if never."""
        limit = self.capacity * (1 + ROOM_RTOL)
        if need > limit:
            return math.inf
        if not self._start:
            return now
        points, neg_suffix = self._suffix_max(now)
        return points[bisect_left(neg_suffix, need - limit)]

    def reserve(self, start: float, end: float, amount: float) -> None:
        self._start.append(start)
        self._end.append(end)
        self._amount.append(amount)
        self._profile = None
        # an earlier arrival that waited may start inside [start, end): look at every breakpoint there
        inside = [start] + [s for s in self._start if start < s < end]
        self.peak = max(self.peak, max(self.usage(t) for t in inside))
