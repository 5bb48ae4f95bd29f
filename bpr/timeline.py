"""Cache reservations of one server over time (docs/simulator.md §1): admitted requests hold their cache over
[S_r, S_r + D_r). Answers "from when on is there room for ``need`` GB at every later instant".

The usage is a step function kept as sorted breakpoints, the usage on each segment and its suffix maximum
(non-increasing; kept negated, so that binary searches need no copy), in arrays that grow by doubling. A
query is a binary search on the suffix maximum; a reservation inserts at most two breakpoints (a shift of
the arrays' tail, short when requests queue at the end) and updates the segments it covers; segments that
ended before the current arrival are dropped lazily. So a request costs about a log factor however many
requests wait, and nothing for the servers it does not touch.
"""

from __future__ import annotations

import math

import numpy as np

# Relative slack: a request that exactly fills a server must fit despite float sums.
ROOM_RTOL = 1e-9


class Timeline:
    def __init__(self, capacity: float):
        self.capacity = float(capacity)
        self.peak = 0.0
        self._t = np.zeros(16)          # breakpoints; segment i is [t[i], t[i+1]), the last one open
        self._u = np.zeros(16)          # usage on segment i (0 on the last one: every reservation ends)
        self._s = np.zeros(16)          # minus the max usage over segments i, i+1, ... (non-decreasing)
        self._head = 0                  # first segment that has not ended before the latest ``forget_before``
        self._n = 0                     # segments in use
        self._at: tuple[float, int] | None = None   # (now, its segment) of the latest query

    def forget_before(self, t: float) -> None:
        """Drop segments that ended by ``t``: queries never look before the current arrival."""
        n, head = self._n, self._head
        if n - head > 1 and self._t[head + 1] <= t:
            self._head = head + int(self._t[head + 1:n].searchsorted(t, side="right"))
            self._at = None
        if self._head > 1024 and self._head > n // 2:    # compact now and then: the arrays stay short
            keep = slice(self._head, n)
            for a in (self._t, self._u, self._s):
                a[:n - self._head] = a[keep]
            self._n, self._head, self._at = n - self._head, 0, None

    def _segment(self, t: float) -> int:
        """The segment that contains ``t`` (``head - 1`` when ``t`` is before every breakpoint); remembered for
        the next query at the same instant (a route asks about many hops at once)."""
        if self._at is not None and self._at[0] == t:
            return self._at[1]
        i = self._head + int(self._t[self._head:self._n].searchsorted(t, side="right")) - 1
        self._at = (t, i)
        return i

    def usage(self, t: float) -> float:
        i = self._segment(t)
        return float(self._u[i]) if i >= self._head else 0.0

    def earliest_fit(self, need: float, now: float) -> float:
        """Earliest t >= now with usage(tau) + need <= capacity for every tau >= t; inf if never."""
        limit = self.capacity * (1 + ROOM_RTOL)
        if need > limit:
            return math.inf
        head, n = self._head, self._n
        if n == head:
            return now
        room = limit - need
        i = max(self._segment(now), head)
        if -self._s[i] <= room:
            return now
        # the suffix maximum does not increase: the first segment after i whose suffix fits
        return float(self._t[i + 1 + int(self._s[i + 1:n].searchsorted(-room, side="left"))])

    def _split(self, t: float) -> int:
        """Make ``t`` a breakpoint; its index."""
        head, n = self._head, self._n
        i = head + int(self._t[head:n].searchsorted(t, side="left"))
        if i < n and self._t[i] == t:
            return i
        self._at = None
        if n == len(self._t):
            for name in ("_t", "_u", "_s"):
                grown = np.zeros(2 * n)
                grown[:n] = getattr(self, name)[:n]
                setattr(self, name, grown)
        for a in (self._t, self._u, self._s):
            a[i + 1:n + 1] = a[i:n]
        self._t[i] = t
        # the new segment continues the one it splits (usage 0 before the first breakpoint); the suffix
        # maximum from it equals that segment's
        before = i - 1 >= head
        self._u[i] = self._u[i - 1] if before else 0.0
        self._s[i] = self._s[i - 1] if before else (self._s[i + 1] if i + 1 <= n else 0.0)
        self._n = n + 1
        return i

    def reserve(self, start: float, end: float, amount: float) -> None:
        if not end > start:
            return
        i = self._split(start)
        k = self._split(end)            # after start: i stays where it is
        u, s = self._u, self._s
        u[i:k] += amount
        tail = s[k] if k < self._n else 0.0
        s[i:k] = np.minimum(-np.maximum.accumulate(u[i:k][::-1])[::-1], tail)
        # earlier segments' suffix maximum is at least the new one from i: a block ending at i - 1 rises
        first = self._head + int(s[self._head:i].searchsorted(s[i], side="right"))
        s[first:i] = np.minimum(s[first:i], s[i])
        self.peak = max(self.peak, float(u[i:k].max()))
