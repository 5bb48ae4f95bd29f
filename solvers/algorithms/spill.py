"""``spill`` (online; BPR-Bench's own, docs/simulator.md §5 and docs/peers.md §4): chain serving that does
not lose under bursts. The follow-up's GBP-CR sizes its chains for the mean arrival rate and leaves the other
servers empty, so a burst waits in the chains' queue while servers idle. Here those servers get a placement
of their own (CG-BP for the robust design load of docs/model.md §7.3, on them alone) and serve on their
reservation timelines with WS-RR routing. A request takes the fastest chain with a free slot (JFFC); when
every slot is busy it goes to the other servers if it would end sooner there than in the queue, as far as the
system can tell at its arrival (the expected ends of the requests in the slots), and queues otherwise.

Its rule costs one WS-RR route and a sort of the slots' expected ends per request that finds every slot busy;
where the chains never fill, it is chain serving exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from bpr.instance import Instance
from bpr.online import OnlineSetup
from bpr.perf import Placement
from solvers.algorithms import cg_bprr
from solvers.algorithms.chains import OnlineOptions, _capacity, _facts, best_plan
from solvers.algorithms.design_load import design_R
from solvers.algorithms.policies import WsRR
from solvers.framework.context import Context
from solvers.framework.registry import Kind, algorithm


def overflow_placement(inst: Instance, rest: list[int]) -> Placement | None:
    """CG-BP for the robust design load on the servers ``rest`` alone, in the whole instance's indices (the
    others hold nothing); None when they cannot hold the model."""
    if not rest:
        return None
    sub = inst.only_servers(rest)
    p = cg_bprr.plan(sub, R=design_R(sub))
    if p.placement is None:
        return None
    a, m = np.ones(inst.n_servers, dtype=int), np.zeros(inst.n_servers, dtype=int)
    a[rest], m[rest] = p.placement.a, p.placement.m
    return Placement(a, m)


@dataclass
class SpillOptions(OnlineOptions):
    """The chains' options (GBP-CR + GCA), named for spill in their messages."""

    NAME: ClassVar[str] = "spill"


@algorithm("spill", Kind.ONLINE, options=SpillOptions,
           columns=("c", "chains", "slots", "theorem4_lower_s", "theorem4_upper_s", "spill_servers"))
def spill(inst: Instance, opts: SpillOptions, ctx: Context) -> OnlineSetup:
    """Chain serving (GBP-CR + GCA + JFFC) that spills a request to the other servers when it ends sooner there.

    The servers the chains leave empty are placed by CG-BP for the robust design load and served on their
    timelines with WS-RR."""
    best, message = best_plan(inst, opts)
    if best is None:
        return OnlineSetup("spill", None, np.zeros(inst.n_servers), None, message=message)
    rest = [j for j in range(inst.n_servers) if best.placement.m[j] == 0]
    extra = overflow_placement(inst, rest)
    info = {"c": best.c, **_facts(inst, best.chains), "spill_servers": 0 if extra is None else int((extra.m > 0).sum())}
    if extra is None:       # nothing to spill to: chain serving, its slots a budget of cache
        return OnlineSetup("spill", best.placement, _capacity(inst, best.placement), None, info, chains=best.chains,
                           slots_by_cache=True)
    used = best.placement.m > 0
    pl = Placement(np.where(used, best.placement.a, extra.a), np.where(used, best.placement.m, extra.m))
    capacity = np.where(used, 0.0, _capacity(inst, pl))     # the chains' servers are the slots'
    return OnlineSetup("spill", pl, capacity, WsRR(), info, chains=best.chains, slots_by_cache=True)
