"""Helix (Mei et al., "Helix: Serving Large Language Models over Heterogeneous GPUs and Network via Max-Flow",
ASPLOS 2025; docs/peers.md §2): the placement that maximises the max-flow of its node capacities (the MILP of
solvers/formulations/helix.py, through the one solve path), requests routed in proportion to the flow by
interleaved weighted round robin.

- ``helix`` (offline): the R requests routed in turn, each holding its cache on its chain's servers.
- ``helix`` (online): at each arrival, the walk over the flow among servers with room for the request's cache
  now; when none has room, among all arcs of the flow (the request then waits for its chain).

The MILP's optimum is the most throughput, not the least per-token time: the row is ``solved`` (or stopped
at its time limit), never ``optimal`` for the instance, and its flow value is the column ``max_flow_tps``.
By default HiGHS stops after ``max_nodes`` branch-and-bound nodes, so that a run is bounded by work and the
same seed gives the same placement on any machine (Helix's own solves seldom improve on their start:
docs/peers.md §2); ``max_nodes=null`` leaves only the time limit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

import numpy as np

from bpr.fields import integer, number
from bpr.instance import Instance
from bpr.online import OnlineSetup, State
from bpr.record import RunRecord
from bpr.solution import Solution, build, no_solution
from bpr.status import Termination
from solvers.formulations.helix import FlowRouter, HelixFormulation, route_by_flow
from solvers.framework.context import Context
from solvers.framework.formulation import instance_word, solve_model
from solvers.framework.registry import Kind, algorithm

MAX_NODES = 10**9


@dataclass
class Options:
    """Shared by the offline and online Helix."""

    weight_share: float = 0.5            # share of a server's memory its blocks may take (Helix: about half)
    time_limit: Optional[float] = None   # seconds for the MILP; None: solver.time_limit
    max_nodes: Optional[int] = 500       # branch-and-bound nodes of HiGHS at most (a run bounded by work, not time)

    def __post_init__(self) -> None:
        self.weight_share = number(self.weight_share, "algorithm.helix.weight_share", lo=0.0, strict=True, hi=1.0)
        if self.time_limit is not None:
            number(self.time_limit, "algorithm.helix.time_limit", lo=0, strict=True, hi=1e6)
        if self.max_nodes is not None:
            integer(self.max_nodes, "algorithm.helix.max_nodes", lo=1, hi=MAX_NODES)


def place(inst: Instance, opts: Options, ctx: Context):
    """The MILP solved within the run's time limit: (formulation, report, placement, flows) or, without a
    solution, (formulation, report, None, {})."""
    f = HelixFormulation(inst, opts.weight_share)
    report, model = solve_model(f, ctx if opts.max_nodes is None else ctx.highs(mip_max_nodes=opts.max_nodes))
    report = instance_word(report, None, ctx.solver.rel_gap)
    if report.termination is Termination.OTHER and report.has_solution and opts.max_nodes is not None:
        report = replace(report, termination=Termination.SOLVED)    # its node budget: a run bounded by work
    if not report.has_solution or model is None:
        return f, report, None, {}
    pl, flows = f.placement_and_flows(model)
    return f, report, pl, flows


def _info(flows: dict[tuple[int, int], float], source: int) -> dict[str, float]:
    return {"max_flow_tps": sum(f for (u, _), f in flows.items() if u == source)}


@algorithm("helix", Kind.SOLUTION, options=Options, columns=("max_flow_tps",), uses_solver=True)
def solve(inst: Instance, opts: Options, ctx: Context) -> Solution:
    """Helix's max-flow placement (MILP), the requests routed by weighted round robin over the flow."""
    f, report, pl, flows = place(inst, opts, ctx)
    record = RunRecord(solver=report)
    if pl is None:
        return no_solution(inst, "helix", report.termination, f"{report.termination}: the model has no solution "
                                                                f"({report.raw_status})", record=record)
    info = _info(flows, f.source)
    routes, message = route_by_flow(inst, pl, flows)
    if message:
        return no_solution(inst, "helix", Termination.INFEASIBLE, message, info, record)
    return build(inst, "helix", pl.a, pl.m, routes, info, report.termination, record)


@dataclass
class HelixRouting:
    """The walk over the flow at each arrival (weight: the request's cache per block, which grows with its
    tokens), among servers with room for its cache now, else among all. The arcs' loads are the simulation's
    (``state.memo``): every run starts from none."""

    flows: dict[tuple[int, int], float]
    source: int
    sink: int
    name: str = "helix-iwrr"

    def route(self, state: State, request: int, client: int, now: float) -> list[int] | None:
        if "helix" not in state.memo:
            state.memo["helix"] = FlowRouter(self.flows, self.source, self.sink)
        router, pl = state.memo["helix"], state.placement
        room = router.walk(state.s_c, lambda v: state.wait(v, int(pl.m[v]), now) == 0.0)
        return room if room is not None else router.walk(state.s_c, lambda v: True)


@algorithm("helix", Kind.ONLINE, options=Options, columns=("max_flow_tps",), uses_solver=True)
def online(inst: Instance, opts: Options, ctx: Context) -> OnlineSetup:
    """Helix's placement; each server keeps the memory its blocks leave for the cache; routing by the flow."""
    f, report, pl, flows = place(inst, opts, ctx)
    info = _info(flows, f.source)
    if pl is None or not flows:
        why = "the placement carries no flow" if pl is not None else f"the model has no solution ({report.raw_status})"
        return OnlineSetup("helix", None, np.zeros(inst.n_servers), None, info, f"infeasible: {why}")
    capacity = np.array([s.M for s in inst.servers]) - inst.model.s_m * pl.m
    setup = OnlineSetup("helix", pl, capacity, HelixRouting(flows, f.source, f.sink), info)
    return replace(setup, record=RunRecord(solver=report))
