"""Helix's placement MILP (Mei et al., ASPLOS 2025, arXiv 2406.01566; artifact Thesys-lab/Helix-ASPLOS25 at
148b7330, ``simulator/initial_layout/ilp_layout/ilp_layout.py``) in this model's terms (docs/peers.md §2), and
its flow-proportional routing.

Servers are nodes of a graph with a source and a sink (the client). Server j holds one contiguous range of
k_j blocks starting at s_j, 1 <= k_j <= K_j (Helix makes every node hold at least one layer), and can carry
T_j(k) tokens per second when it holds k blocks. An arc u -> v may carry flow only where u's range ends where
v's begins (from the source: v starts at block 1; to the sink: u ends at block L). The placement maximises
the flow from source to sink:

    max  sum_v f_src,v
    s.t. sum_k b_jk = 1,   e_j = s_j + sum_k k b_jk <= L + 1                     (one range per server)
         sum_u f_uj = sum_v f_jv,   sum_u f_uj <= sum_k T_j(k) b_jk                 (conservation, capacity)
         |s_v - e_u| <= L (1 - d_uv),   s_v - 1 <= L (1 - d_src,v),   L + 1 - e_u <= L (1 - d_u,snk)
         f_uv <= U d_uv,   b, d binary,   1 <= s_j <= L integer,   f >= 0

with U the largest node capacity. Helix's link capacities (bandwidth over activation bytes) are left out:
this model has no bandwidth. Its node capacity is transcribed as T_j(k) = B_j(k) / (k tau_j): the requests
whose cache fits beside k blocks, B_j(k) = floor((M_j - k s_m) / (k s_c)), each needing k tau_j of the server
per token (Helix: the tokens of a typical batch over the time k layers take to run it); K_j the blocks that
fit in ``weight_share`` of M_j (Helix keeps weights to about half of a GPU's memory).

Routing (Helix's interleaved weighted round robin): a request walks from the source, at each server taking
the outgoing arc that minimises load + w / flow among the arcs carrying at least 5 % of the server's
outflow (the largest always) whose next server has room for its cache and reaches the sink through servers
with room, and adds w / flow to the loads of the arcs it took.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pyomo.environ as pyo

from bpr.instance import Instance
from bpr.numeric import floor
from bpr.perf import Placement
from solvers.framework.formulation import Size

MIN_SHARE = 0.05      # Helix masks arcs below 5 % of a node's outflow
FLOW_TOL = 1e-6       # flows below this share of the largest node capacity are solver noise


def max_blocks(inst: Instance, weight_share: float) -> list[int]:
    """K_j = min(L, floor(weight_share M_j / s_m)): the blocks server j may hold."""
    return [min(inst.L, floor(weight_share * s.M / inst.model.s_m)) for s in inst.servers]


def batch(inst: Instance, j: int, k: int) -> int:
    """B_j(k) = floor((M_j - k s_m) / (k s_c)): the requests whose cache fits beside k blocks."""
    return max(0, floor((inst.servers[j].M - k * inst.model.s_m) / (k * inst.s_c)))


def throughput(inst: Instance, j: int, k: int) -> float:
    """T_j(k) = B_j(k) / (k tau_j) tokens per second (inf for a server of no compute time that holds a
    request)."""
    b, tau = batch(inst, j, k), inst.servers[j].tau
    return b / (k * tau) if tau > 0 else (math.inf if b > 0 else 0.0)


@dataclass
class HelixFormulation:
    """The placement MILP as a formulation of the one solve path: its objective is a throughput, not the
    instance's cost, and it bounds nothing of the instance."""

    inst: Instance
    weight_share: float = 0.5
    name: str = "helix"
    scale: float = 1.0
    bounds_instance = False
    objective_is_cost = False
    caps: list[int] = field(init=False)
    unit: float = field(init=False)     # tokens per second of one unit of flow in the model

    def __post_init__(self) -> None:
        self.caps = max_blocks(self.inst, self.weight_share)
        finite = [t for j in range(self.inst.n_servers) for k in range(1, self.caps[j] + 1)
                  if math.isfinite(t := throughput(self.inst, j, k))]
        self.unit = max(finite, default=0.0) or 1.0

    @property
    def source(self) -> int:
        return self.inst.n_servers

    @property
    def sink(self) -> int:
        return self.inst.n_servers + 1

    @property
    def nodes(self) -> list[int]:
        """The servers that can hold a block (a node of Helix's holds at least one; the others stay out)."""
        return [j for j in range(self.inst.n_servers) if self.caps[j] > 0]

    def arcs(self) -> list[tuple[int, int]]:
        n = self.nodes
        return [(self.source, v) for v in n] + [(u, v) for u in n for v in n if u != v] + \
            [(u, self.sink) for u in n]

    def size(self) -> Size:
        n, arcs = len(self.nodes), len(self.arcs())
        return Size(n + sum(self.caps) + 2 * arcs, 3 * n + 5 * arcs)

    def build(self) -> pyo.ConcreteModel:
        inst, L, nodes = self.inst, self.inst.L, self.nodes
        # capacities in units of the largest (1): a big-M of 1 keeps the switched-off arcs' leak small
        # (a server of no compute time counts as the largest: capacity 1)
        T = {(j, k): min(1.0, throughput(inst, j, k) / self.unit) for j in nodes for k in range(1, self.caps[j] + 1)}
        top = 1.0
        m = pyo.ConcreteModel(name=f"helix-{inst.name}")
        m.N = pyo.Set(initialize=nodes)
        m.JK = pyo.Set(initialize=list(T), dimen=2)
        m.A = pyo.Set(initialize=self.arcs(), dimen=2)
        m.s = pyo.Var(m.N, domain=pyo.Integers, bounds=(1, L))
        m.b = pyo.Var(m.JK, domain=pyo.Binary)
        m.f = pyo.Var(m.A, domain=pyo.NonNegativeReals)
        m.d = pyo.Var(m.A, domain=pyo.Binary)
        end = {j: m.s[j] + pyo.quicksum(k * m.b[j, k] for k in range(1, self.caps[j] + 1)) for j in nodes}
        into = {j: pyo.quicksum(m.f[u, v] for (u, v) in self.arcs() if v == j) for j in nodes}
        out = {j: pyo.quicksum(m.f[u, v] for (u, v) in self.arcs() if u == j) for j in nodes}
        m.one_range = pyo.Constraint(m.N, rule=lambda m, j: pyo.quicksum(
            m.b[j, k] for k in range(1, self.caps[j] + 1)) == 1)
        m.fits = pyo.Constraint(m.N, rule=lambda m, j: end[j] <= L + 1)
        m.conservation = pyo.Constraint(m.N, rule=lambda m, j: into[j] == out[j])
        m.capacity = pyo.Constraint(m.N, rule=lambda m, j: into[j] <= pyo.quicksum(
            T[j, k] * m.b[j, k] for k in range(1, self.caps[j] + 1)))
        src, snk = self.source, self.sink

        def starts(m, u, v):
            return m.s[v] - 1 <= L * (1 - m.d[u, v]) if u == src else pyo.Constraint.Skip

        def ends(m, u, v):
            return L + 1 - end[u] <= L * (1 - m.d[u, v]) if v == snk else pyo.Constraint.Skip

        def meets_up(m, u, v):
            return m.s[v] - end[u] <= L * (1 - m.d[u, v]) if u != src and v != snk else pyo.Constraint.Skip

        def meets_down(m, u, v):
            return end[u] - m.s[v] <= L * (1 - m.d[u, v]) if u != src and v != snk else pyo.Constraint.Skip

        m.valid_source = pyo.Constraint(m.A, rule=starts)
        m.valid_sink = pyo.Constraint(m.A, rule=ends)
        m.valid_up = pyo.Constraint(m.A, rule=meets_up)
        m.valid_down = pyo.Constraint(m.A, rule=meets_down)
        m.arc_flow = pyo.Constraint(m.A, rule=lambda m, u, v: m.f[u, v] <= top * m.d[u, v])
        m.flow = pyo.Objective(expr=pyo.quicksum(m.f[src, v] for v in nodes), sense=pyo.maximize)
        return m

    def pipelines(self) -> list[list[tuple[int, int]]]:
        """Separate pipelines, the start Helix's artifact compares against: servers in decreasing K_j dealt in
        turn into chains of (server, blocks) covering 1..L, each taking K_j blocks (the last what is left)."""
        chains, chain, left = [], [], self.inst.L
        for j in sorted(self.nodes, key=lambda j: (-self.caps[j], j)):
            k = min(self.caps[j], left)
            chain.append((j, k))
            left -= k
            if left == 0:
                chains.append(chain)
                chain, left = [], self.inst.L
        return chains

    def warm_start(self, model: pyo.ConcreteModel) -> str | None:
        """The separate pipelines as a MIP start, each carrying the least capacity along it; every other
        server holds block 1 alone and carries nothing (as Helix's start sets its layout variables)."""
        chains = self.pipelines()
        if not chains:
            return None
        for arc in model.A:
            model.f[arc].set_value(0.0)
            model.d[arc].set_value(0)
        for j in self.nodes:
            model.s[j].set_value(1)
            for k in range(1, self.caps[j] + 1):
                model.b[j, k].set_value(1 if k == 1 else 0)
        for chain in chains:
            flow = min(min(1.0, throughput(self.inst, j, k) / self.unit) for j, k in chain)
            start, previous = 1, self.source
            for j, k in chain:
                model.s[j].set_value(start)
                model.b[j, 1].set_value(0)
                model.b[j, k].set_value(1)
                model.f[previous, j].set_value(flow)
                model.d[previous, j].set_value(1)
                start, previous = start + k, j
            model.f[previous, self.sink].set_value(flow)
            model.d[previous, self.sink].set_value(1)
        return "separate pipelines"

    def placement_and_flows(self, model: pyo.ConcreteModel) -> tuple[Placement, dict[tuple[int, int], float]]:
        """The ranges and the flow on every arc (in tokens per second) from the loaded values."""
        n, inside = self.inst.n_servers, set(self.nodes)
        a = [int(round(pyo.value(model.s[j]))) if j in inside else 1 for j in range(n)]
        m = [sum(k for k in range(1, self.caps[j] + 1) if pyo.value(model.b[j, k]) > 0.5) for j in range(n)]
        # in the model's units (1: the largest node capacity) a flow below FLOW_TOL is the solver's tolerance
        # at work (a switch at 1e-6 lets its big-M through), not a flow
        flows = {arc: self.unit * float(pyo.value(model.f[arc])) for arc in self.arcs()
                 if pyo.value(model.d[arc]) > 0.5 and pyo.value(model.f[arc]) > FLOW_TOL}
        return Placement.of(a, m), flows

    def extract(self, model: pyo.ConcreteModel) -> tuple[Placement, list[list[int]]]:
        pl, flows = self.placement_and_flows(model)
        routes, message = route_by_flow(self.inst, pl, flows)
        if message:
            raise ValueError(message)
        return pl, routes


class FlowRouter:
    """Helix's interleaved weighted round robin over a flow: per arc a load; a request walks from the source,
    at each node taking the admissible arc of least load + w / flow, which adds w / flow to its load once the
    walk reaches the sink. An arc is admissible when it carries at least 5 % of its node's outflow (the
    largest always is) and its next server has room for the request (``room(v)``) and reaches the sink
    through servers with room: the walk never strands a request a free chain could take."""

    def __init__(self, flows: dict[tuple[int, int], float], source: int, sink: int) -> None:
        self.source, self.sink = source, sink
        self.out: dict[int, list[tuple[int, float]]] = {}
        for (u, v), f in flows.items():
            self.out.setdefault(u, []).append((v, f))
        for u, arcs in self.out.items():
            total, top = sum(f for _, f in arcs), max(f for _, f in arcs)
            self.out[u] = sorted((v, f) for v, f in arcs if f >= min(MIN_SHARE * total, top))
        self.load: dict[tuple[int, int], float] = {}

    def walk(self, w: float, room: Callable[[int], bool]) -> list[int] | None:
        reach: dict[int, bool] = {self.sink: True}

        def reaches(v: int) -> bool:
            """Whether v has room and a path of servers with room to the sink (the flow has no cycle: an arc
            goes to a later block)."""
            if v not in reach:
                reach[v] = room(v) and any(reaches(x) for x, _ in self.out.get(v, []))
            return reach[v]

        chain, u, added = [], self.source, []
        while u != self.sink:
            options = [(self.load.get((u, v), 0.0) + w / f, v, f) for v, f in self.out.get(u, []) if reaches(v)]
            if not options:
                return None
            _, v, f = min(options)
            added.append(((u, v), w / f))
            if v != self.sink:
                chain.append(v)
            u = v
        for arc, more in added:
            self.load[arc] = self.load.get(arc, 0.0) + more
        return chain


def slots(inst: Instance, pl: Placement) -> np.ndarray:
    """Requests whose cache fits beside each server's blocks: B_j(m_j) (0 without blocks)."""
    return np.array([batch(inst, j, int(m)) if m > 0 else 0 for j, m in enumerate(pl.m.tolist())], dtype=int)


def route_by_flow(inst: Instance, pl: Placement, flows: dict[tuple[int, int], float]
                  ) -> tuple[list[list[int]], str]:
    """The R requests in turn by ``FlowRouter`` (weight 1 each), each holding its cache on every server of
    its chain; the routes, or why the next request found none."""
    if not flows:
        return [], "infeasible: the placement carries no flow (no chain covers the L blocks)"
    router = FlowRouter(flows, inst.n_servers, inst.n_servers + 1)
    cap, used, routes = slots(inst, pl), np.zeros(inst.n_servers, dtype=int), []
    for r in range(inst.R):
        chain = router.walk(1.0, lambda v: used[v] < cap[v])
        if chain is None:
            return routes, f"infeasible: request {r}: every chain of the flow has a server whose cache is full"
        used[chain] += 1
        routes.append(chain)
    return routes, ""
