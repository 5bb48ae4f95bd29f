"""Cache reservations of one server over time (docs/simulator.md §1): admitted requests hold their cache over
[S_r, S_r + D_r). Answers "from when on is there room for ``need`` GB at every later instant".

The usage is a step function kept as sorted breakpoints, the usage on each segment and its suffix maximum
(non-increasing; kept negated, so that binary searches run on a non-decreasing list), in Python lists: a
server holds a few dozen live segments at a time, where a list and ``bisect`` cost a fraction of a numpy
call. A query is a binary search on the suffix maximum; a reservation inserts at most two breakpoints and
updates the segments it covers, and the suffix maximum before it only as far back as it rises; segments
that ended before the current arrival are dropped lazily. So a request costs about a log factor plus the
segments it spans, and nothing for the servers it does not touch.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right

# Relative slack: a request that exactly fills a server must fit despite float sums.
ROOM_RTOL = 1e-9
COMPACT = 1024          # dropped segments kept before the lists are cut


class Timeline:
    def __init__(self, capacity: float):
        self.capacity = float(capacity)
        self._limit = self.capacity * (1 + ROOM_RTOL)
        self._t: list[float] = []       # breakpoints; segment i is [t[i], t[i+1]), the last one open
        self._u: list[float] = []       # usage on segment i (0 on the last one: every reservation ends)
        self._s: list[float] = []       # minus the max usage over segments i, i+1, ... (non-decreasing)
        self._head = 0                  # first segment that has not ended before the latest ``forget_before``

    def forget_before(self, t: float) -> None:
        """Drop segments that ended by ``t``: queries never look before the current arrival."""
        tl, head = self._t, self._head
        n = len(tl)
        if n - head > 1 and tl[head + 1] <= t:
            self._head = head = bisect_right(tl, t, head + 1, n) - 1
        if head > COMPACT and head > n // 2:     # cut now and then: the lists stay short
            del tl[:head], self._u[:head], self._s[:head]
            self._head = 0

    def _segment(self, t: float) -> int:
        """The segment that contains ``t`` (``head - 1`` when ``t`` is before every breakpoint)."""
        return bisect_right(self._t, t, self._head) - 1

    def usage(self, t: float) -> float:
        i = self._segment(t)
        return self._u[i] if i >= self._head else 0.0

    def earliest_fit(self, need: float, now: float) -> float:
        """Earliest t >= now with usage(tau) + need <= capacity for every tau >= t; inf if never."""
        limit = self._limit
        if need > limit:
            return math.inf
        s, head = self._s, self._head
        n = len(s)
        if n == head:
            return now
        room = limit - need
        i = max(self._segment(now), head)
        if -s[i] <= room:
            return now
        # the suffix maximum does not increase: the first segment after i whose suffix fits
        return self._t[bisect_left(s, -room, i + 1, n)]

    def _split(self, t: float) -> int:
        """Make ``t`` a breakpoint; its index."""
        tl, head = self._t, self._head
        n = len(tl)
        i = bisect_left(tl, t, head, n)
        if i < n and tl[i] == t:
            return i
        tl.insert(i, t)
        # the new segment continues the one it splits (usage 0 before the first breakpoint); the suffix
        # maximum from it equals that segment's
        if i > head:
            self._u.insert(i, self._u[i - 1])
            self._s.insert(i, self._s[i - 1])
        else:
            self._u.insert(i, 0.0)
            self._s.insert(i, self._s[i] if i < n else 0.0)
        return i

    def reserve(self, start: float, end: float, amount: float) -> None:
        if not end > start:
            return
        i = self._split(start)
        k = self._split(end)            # after start: i stays where it is
        u, s = self._u, self._s
        low = s[k] if k < len(s) else 0.0       # minus the suffix maximum after the reservation
        for x in range(k - 1, i - 1, -1):
            v = u[x] + amount
            u[x] = v
            if -v < low:
                low = -v
            s[x] = low
        # earlier segments' suffix maximum is at least the new one from i: it rises back to where it is higher
        x = i - 1
        while x >= self._head and s[x] > low:
            s[x] = low
            x -= 1
