"""Routing over a fixed placement as one persistent HiGHS model (docs/formulations.md §4, §5).

The model of §4 (the extended formulation with every window fixed) is kept for *every* window a server may
take, so that moving to another placement changes only bounds, never the matrix:

    min  sum g[c,j,b,e] (t[c][j] + tau_j (e - b)) / R
    s.t. sum_{j,e} g[c,j,0,e] = R_c,  sum_{j,b} g[c,j,b,v] = sum_{j,e} g[c,j,v,e] (0 < v < L)   flow per client
         s_c sum_{c,b,e} (e - b) g[c,j,b,e] <= M_j - s_m m_j                                      eq. 2 per server
         0 <= g[c,j,b,e] <= min(R_c, floor((M_j - s_m m_j) / (s_c (e - b))))  if e = a_j + m_j - 1 and
                                                                              b >= a_j - 1, else 0

(0-based boundaries: a request enters j after block b and leaves after block e). ``lower_bound`` is its LP
(a bound on every routing of the placement; HiGHS re-solves it warm from the last basis), ``route`` the
integer optimum with one chain per request. highspy is used directly, not through Pyomo, because the large-
neighbourhood search evaluates thousands of placements a second (docs/formulations.md §5 has the timings).
"""

from __future__ import annotations

import os
import sys

import highspy
import numpy as np

from bpr.instance import Instance
from bpr.numeric import FLOOR_EPS
from bpr.perf import Placement, window_caps
from solvers.formulations.extended.model import decompose

MAX_COLUMNS = 3_000_000   # the model of a larger instance would take gigabytes: the caller skips it
_INTEGER = highspy.HighsVarType.kInteger
_CONTINUOUS = highspy.HighsVarType.kContinuous


def columns(inst: Instance) -> int:
    """g[c,j,b,e] for every client and every (b, e) with 1 <= e - b <= mbar_j, counted without listing."""
    L = inst.L
    per_client = sum(sum(min(e, m) for e in range(1, L + 1)) for m in window_caps(inst))
    return len(inst.clients) * per_client


class RoutingModel:
    """One instance's routing model; ``lower_bound`` and ``route`` load a placement into it and solve."""

    def __init__(self, inst: Instance):
        self.inst = inst
        n, L, C = inst.n_servers, inst.L, len(inst.clients)
        mbar = window_caps(inst)
        keys = np.array([(c, j, b, e) for c in range(C) for j in range(n) for e in range(1, L + 1)
                         for b in range(max(0, e - mbar[j]), e)], dtype=np.int64).reshape(-1, 4)
        self.c, self.j, self.b, self.e = keys.T
        self.k = self.e - self.b
        self.M = np.array([s.M for s in inst.servers])
        self.R_c = np.array(inst.requests_per_client(), dtype=float)
        self.n_cols = len(keys)
        self._index = np.arange(self.n_cols, dtype=np.int32)
        self._memory_rows = np.arange(C * (L + 1), C * (L + 1) + n, dtype=np.int32)
        self.h = self._build()
        self._upper = np.zeros(self.n_cols)        # the column bounds loaded now (the model starts closed)
        self.runs = 0

    def _build(self) -> highspy.Highs:
        inst, n, L, C = self.inst, self.inst.n_servers, self.inst.L, len(self.inst.clients)
        tau = np.array([s.tau for s in inst.servers])
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, C * (L + 1) + n
        lp.col_cost_ = (inst.t[self.c, self.j] + tau[self.j] * self.k) / inst.R
        lp.col_lower_, lp.col_upper_ = np.zeros(self.n_cols), np.zeros(self.n_cols)
        flow = np.zeros(C * (L + 1))
        flow[np.arange(C) * (L + 1)] = self.R_c
        flow[np.arange(C) * (L + 1) + L] = -self.R_c
        lp.row_lower_ = np.concatenate([flow, np.full(n, -highspy.kHighsInf)])
        lp.row_upper_ = np.concatenate([flow, self.M])
        # each column: +1 where it leaves boundary b, -1 where it arrives at e, s_c k in its server's memory row
        rows = np.stack([self.c * (L + 1) + self.b, self.c * (L + 1) + self.e, C * (L + 1) + self.j], axis=1)
        values = np.stack([np.ones(self.n_cols), -np.ones(self.n_cols), inst.s_c * self.k], axis=1)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.arange(0, 3 * self.n_cols + 1, 3, dtype=np.int32)
        lp.a_matrix_.index_ = rows.reshape(-1).astype(np.int32)
        lp.a_matrix_.value_ = values.reshape(-1).astype(float)
        highspy.Highs.resetGlobalScheduler(True)   # threads are process-wide; an earlier solve may have set more
        h = _quiet_highs()
        for option, value in (("output_flag", False), ("threads", 1), ("random_seed", 0), ("mip_rel_gap", 0.0)):
            h.setOptionValue(option, value)
        h.passModel(lp)
        return h

    def _load(self, pl: Placement) -> bool:
        """Open the arcs of ``pl``'s windows; False when its blocks alone overfill some server."""
        inst, j = self.inst, self.j
        room = self.M - inst.model.s_m * pl.m
        if (room < 0).any():
            return False
        start, end = pl.a - 1, pl.a - 1 + pl.m
        open_ = (pl.m[j] > 0) & (self.e == end[j]) & (self.b >= start[j])
        cap = np.floor(room[j] / (inst.s_c * self.k) + FLOOR_EPS)
        upper = np.where(open_, np.minimum(self.R_c[self.c], cap), 0.0)
        changed = np.flatnonzero(upper != self._upper)     # a move changes a few servers' columns only
        self.h.changeColsBounds(len(changed), changed.astype(np.int32), np.zeros(len(changed)), upper[changed])
        self._upper = upper
        n = inst.n_servers
        self.h.changeRowsBounds(n, self._memory_rows, np.full(n, -highspy.kHighsInf), room)
        return True

    def _run(self, seconds: float) -> bool:
        # HiGHS counts its time limit from the object's creation: the limit is the clock so far plus this run's
        self.h.setOptionValue("time_limit", self.h.getRunTime() + max(seconds, 1e-3))
        self.h.run()
        self.runs += 1
        return self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    def lower_bound(self, pl: Placement, seconds: float = 60.0) -> float | None:
        """The LP optimum of routing over ``pl`` (None: no routing, or the time ran out)."""
        if not self._load(pl) or not self._run(seconds):
            return None
        return self.h.getInfo().objective_function_value

    def route(self, pl: Placement, seconds: float = 60.0) -> tuple[float, list[list[int]]] | None:
        """The cheapest integer routing over ``pl``: its per-token time and one chain per request (None: no
        routing, or the time ran out before it was proved optimal)."""
        if not self._load(pl):
            return None
        self.h.changeColsIntegrality(self.n_cols, self._index, np.full(self.n_cols, _INTEGER))
        try:
            if not self._run(seconds):
                return None
            value, g = self.h.getInfo().objective_function_value, np.round(self.h.getSolution().col_value)
        finally:
            self.h.changeColsIntegrality(self.n_cols, self._index, np.full(self.n_cols, _CONTINUOUS))
        return value, self._chains(g)

    def _chains(self, g: np.ndarray) -> list[list[int]]:
        used = np.flatnonzero(g > 0.5)
        by_client = [decompose({(int(self.j[i]), int(self.b[i]), int(self.e[i])): int(g[i])
                                for i in used if self.c[i] == c}, self.inst.L) for c in range(len(self.inst.clients))]
        return [by_client[c].pop() for c in self.inst.request_clients()]


def _quiet_highs() -> highspy.Highs:
    """A Highs object without its banner (HiGHS prints it on descriptor 1 when the first one is made)."""
    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
