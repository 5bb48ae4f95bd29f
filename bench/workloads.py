"""The workload of a run (docs/simulator.md §5-6): Poisson arrivals with the instance's token counts (the
default), or the replay of a request trace with each request's own tokens; service times deterministic
(eq. 1) or exponential around them (the follow-up's job-size model).

For a trace the instance is generated for it: its l_in and l_out are those of the replay's largest request
(so that a cache slot sized by s_c holds any request), its arrival rate the replay's mean rate (which the
design load of docs/model.md §7.3 and GBP-CR's target use) and its N the number of requests replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from bench.options import typed
from bpr import traces
from bpr.errors import BprInputError, unknown
from bpr.instance import Instance
from bpr.paths import DATA_DIR
from bpr.profiles import model_profile
from bpr.scenarios import WorkloadParams
from bpr.simulator import Arrivals, poisson_arrivals

TRACES = {"azure_code": DATA_DIR / "traces" / "AzureLLMInferenceTrace_code.csv",
          "azure_conv": DATA_DIR / "traces" / "AzureLLMInferenceTrace_conv.csv"}
SERVICE = ("deterministic", "exponential")


@dataclass
class TraceSettings:
    """The workload's keys besides the family's (``WorkloadParams``)."""

    trace: Optional[str] = None          # azure_code, azure_conv or a CSV file; None: Poisson arrivals
    time_scale: float = 1.0              # the trace's arrival times are multiplied by it
    over_context: str = "cut"            # requests longer than the model's context: cut or drop
    service: str = "deterministic"       # or exponential: each service time an Exp(1) multiple of eq. 1's

    def __post_init__(self) -> None:
        if self.service not in SERVICE:
            raise unknown("workload.service", self.service, SERVICE)
        if self.over_context not in traces.OVER_CONTEXT:
            raise unknown("workload.over_context", self.over_context, traces.OVER_CONTEXT)
        if not self.time_scale > 0:
            raise BprInputError(f"workload.time_scale: must be > 0, got {self.time_scale}")


TRACE_KEYS = {f.name for f in fields(TraceSettings)}


@dataclass(frozen=True, eq=False)
class Workload:
    """A run's workload: what the instance is generated with (``params``, only the fields that are set),
    the replay of a trace (or None) and whether service times are exponential."""

    params: dict[str, Any]
    replay: traces.Replay | None
    exponential: bool

    def arrivals(self, inst: Instance, seed: int) -> Arrivals:
        """One run's arrivals: Poisson with this seed, or the trace's (clients and job sizes by this seed)."""
        w = inst.workload
        if self.replay is None:
            return poisson_arrivals(inst, w.n_requests, w.arrival_rate, seed, self.exponential)
        rng = np.random.default_rng(seed)
        shares = np.array([c.share for c in inst.clients])
        n = len(self.replay.trace)
        clients = rng.choice(len(shares), size=n, p=shares / shares.sum())
        scale = rng.exponential(1.0, size=n) if self.exponential else None
        return Arrivals(self.replay.times, clients, self.replay.trace.l_in, self.replay.trace.l_out, scale)

    def varies(self, inst: Instance) -> bool:
        """Whether two runs (two arrival seeds) can differ: Poisson arrivals do; a trace's times and tokens are
        its own, so only the draw of each request's client (several clients) or of its exponential job size
        can."""
        return self.replay is None or self.exponential or len(inst.clients) > 1

    def counts(self) -> dict[str, Any]:
        """The replay's facts for every result row."""
        if self.replay is None:
            return {}
        return {"trace": self.replay.trace.name, "trace_requests": len(self.replay.trace),
                "trace_cut": self.replay.cut, "trace_dropped": self.replay.dropped}


def trace_file(name: str) -> Path:
    """A shipped trace by name, or a CSV file by path."""
    return TRACES[name] if name in TRACES else Path(name)


def resolve(given: Mapping[str, Any] | None, model: str | None) -> Workload:
    """The workload of a run's ``workload`` settings (None values: the defaults)."""
    set_ = {k: v for k, v in (given or {}).items() if v is not None}
    extra = typed(TraceSettings, {k: v for k, v in set_.items() if k in TRACE_KEYS}, "workload setting", "workload")
    params = {k: v for k, v in set_.items() if k not in TRACE_KEYS}
    typed(WorkloadParams, params, "workload setting", "workload")   # names and types, before any work
    if extra.trace is None:
        if extra.time_scale != 1.0 or extra.over_context != "cut":
            raise BprInputError("workload.time_scale and workload.over_context apply to a trace (workload.trace)")
        return Workload(params, None, extra.service == "exponential")
    clash = sorted(set(params) & {"l_in", "l_out", "arrival_rate"})
    if clash:
        raise BprInputError(f"workload.{clash[0]}: a trace gives every request its own tokens and arrival "
                            "(use workload.time_scale to change its rate)")
    context = model_profile(model or "bloom-176b").context
    rep = traces.replay(traces.read(trace_file(extra.trace), extra.trace), params.get("n_requests"), context,
                        extra.over_context, extra.time_scale)
    largest = int(np.argmax(rep.trace.l_in + rep.trace.l_out))
    derived = {"l_in": int(rep.trace.l_in[largest]), "l_out": int(rep.trace.l_out[largest]),
               "arrival_rate": rep.rate, "n_requests": len(rep.trace)}
    return Workload({**params, **derived}, rep, extra.service == "exponential")
