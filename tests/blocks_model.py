"""An independent exact formulation of the offline problem (docs/model.md §3), indexed by blocks instead of
windows, for checking the suite's models on instances too large for tests/oracle.py's enumeration.

    x[j,b]  binary: server j hosts block b;  st[j,b] binary: j's range starts at b
    f[c,j,b] requests of client c that process block b on j; en / lv: that enter j at b / leave after b
    sum_b st[j,b] <= 1,  st <= x,  x[j,b] <= x[j,b-1] + st[j,b]              one contiguous range per server
    f[c,j,b] = f[c,j,b-1] - lv[c,j,b-1] + en[c,j,b],   f <= R_c x,  en <= R_c x
    lv[c,j,b] <= R_c (1 - x[j,b+1]),  f[c,j,b] - lv[c,j,b] <= R_c x[j,b+1]   leave exactly at the range's end
    sum_j f[c,j,b] = R_c                                                      every request processes every block
    s_m sum_b x[j,b] + s_c sum_{c,b} f[c,j,b] <= M_j                          eq. 2
    min (sum en[c,j,b] t[c][j] + f[c,j,b] tau_j) / R

A request enters a server anywhere in its range and runs to its end, and can never come back to it (the
range is contiguous), as in the model; identical requests of a client are one integer flow.
"""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import TerminationCondition

from bpr.instance import Instance


def block_optimum(inst: Instance, time_limit: float = 120.0, cutoff: float | None = None) -> float | None:
    """The optimal average per-token time, or None when no solution exists (raises if not proven). With a
    ``cutoff`` (a claimed optimum, a little above), only solutions below it are searched: None then says
    that none is cheaper than the cutoff."""
    L, n, C = inst.L, inst.n_servers, len(inst.clients)
    R_c = inst.requests_per_client()
    m = pyo.ConcreteModel()
    m.J, m.B, m.C = pyo.RangeSet(0, n - 1), pyo.RangeSet(1, L), pyo.RangeSet(0, C - 1)
    m.x = pyo.Var(m.J, m.B, within=pyo.Binary)
    m.st = pyo.Var(m.J, m.B, within=pyo.Binary)
    m.f = pyo.Var(m.C, m.J, m.B, within=pyo.NonNegativeIntegers)
    m.en = pyo.Var(m.C, m.J, m.B, within=pyo.NonNegativeIntegers)
    m.lv = pyo.Var(m.C, m.J, m.B, within=pyo.NonNegativeIntegers)

    def x(j, b):
        return m.x[j, b] if 1 <= b <= L else 0

    m.one_start = pyo.Constraint(m.J, rule=lambda m, j: sum(m.st[j, b] for b in m.B) <= 1)
    m.start_hosts = pyo.Constraint(m.J, m.B, rule=lambda m, j, b: m.st[j, b] <= m.x[j, b])
    m.contiguous = pyo.Constraint(m.J, m.B, rule=lambda m, j, b: m.x[j, b] <= x(j, b - 1) + m.st[j, b])
    m.carry = pyo.Constraint(m.C, m.J, m.B, rule=lambda m, c, j, b: m.f[c, j, b] == (
        (m.f[c, j, b - 1] - m.lv[c, j, b - 1]) if b > 1 else 0) + m.en[c, j, b])
    m.hosted = pyo.Constraint(m.C, m.J, m.B, rule=lambda m, c, j, b: m.f[c, j, b] <= R_c[c] * m.x[j, b])
    m.enter = pyo.Constraint(m.C, m.J, m.B, rule=lambda m, c, j, b: m.en[c, j, b] <= R_c[c] * m.x[j, b])
    m.leave_at_end = pyo.Constraint(m.C, m.J, m.B, rule=lambda m, c, j, b: m.lv[c, j, b] <= R_c[c] * (1 - x(j, b + 1)))
    m.stay = pyo.Constraint(m.C, m.J, m.B, rule=lambda m, c, j, b: m.f[c, j, b] - m.lv[c, j, b] <= R_c[c] * x(j, b + 1))
    m.cover = pyo.Constraint(m.C, m.B, rule=lambda m, c, b: sum(m.f[c, j, b] for j in m.J) == R_c[c])
    m.memory = pyo.Constraint(m.J, rule=lambda m, j: inst.model.s_m * sum(m.x[j, b] for b in m.B) + inst.s_c * sum(
        m.f[c, j, b] for c in m.C for b in m.B) <= inst.servers[j].M)
    m.cost = pyo.Objective(expr=sum(m.en[c, j, b] * float(inst.t[c, j]) + m.f[c, j, b] * inst.servers[j].tau
                                    for c in m.C for j in m.J for b in m.B) / inst.R)
    options = {} if cutoff is None else {"objective_bound": cutoff}
    res = SolverFactory("highs").solve(m, time_limit=time_limit, rel_gap=0.0, load_solutions=False,
                                       raise_exception_on_nonoptimal_result=False, solver_options=options)
    if res.termination_condition in (TerminationCondition.provenInfeasible,
                                     TerminationCondition.infeasibleOrUnbounded):
        return None
    if res.termination_condition is not TerminationCondition.convergenceCriteriaSatisfied:
        raise RuntimeError(f"the block model did not finish: {res.termination_condition}")
    return float(res.incumbent_objective)
