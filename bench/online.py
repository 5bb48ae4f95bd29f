"""Online mode of the main job (docs/simulator.md): simulate every algorithm on the same seeded arrivals,
``runs`` Monte-Carlo repetitions (arrival seed = seed + run), one result row per algorithm and run."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import numpy as np
import pandas as pd
from tqdm import tqdm

from bench.results import reduction_vs_reference, sim_status, statuses, timing
from bpr.calibration import Calibration
from bpr.instance import Instance
from bpr.online import OnlineSetup
from bpr.simulator import Arrivals, simulate_setup

log = logging.getLogger(__name__)
MEASURES = ["per_token_s", "ttft_s", "decode_per_token_s", "p95_per_token_s", "wait_s", "response_s",
            "p95_response_s", "service_s", "theorem4_lower_s", "theorem4_upper_s", "runtime_s", "route_ms_per_request"]


def peak_concurrency(trace: pd.DataFrame) -> int:
    """Largest number of requests in service at once ([start, completion) intervals; an end before a start
    at the same instant)."""
    served = trace[trace.served]
    if served.empty:
        return 0
    times = np.concatenate([served.start.to_numpy(), served.completion.to_numpy()])
    steps = np.concatenate([np.ones(len(served)), -np.ones(len(served))])
    order = np.lexsort((steps, times))
    return int(np.cumsum(steps[order]).max())


PROGRESS_EVERY = 1000     # requests between two updates of the progress bar


def simulate_runs(inst: Instance, setup: OnlineSetup, arrivals: Callable[[int], Arrivals], runs: int,
                  retry_backoff: bool, calibration: Calibration = Calibration()
                  ) -> list[tuple[int, pd.DataFrame | None, float]]:
    """(run, trace, simulation seconds) per run; the trace is None when there is no placement. ``arrivals``
    gives run i's arrivals; a setup with chains is admitted by slots (JFFC), any other by the timeline."""
    out = []
    for i in range(runs):
        if setup.placement is None:
            out.append((i, None, 0.0))
            continue
        requests = arrivals(i)
        with tqdm(total=len(requests), desc=f"{setup.algorithm} run {i + 1}/{runs}", leave=False,
                  disable=None, mininterval=0.5) as bar:
            tick = time.perf_counter()
            step = lambda r: bar.update(PROGRESS_EVERY) if r % PROGRESS_EVERY == PROGRESS_EVERY - 1 else None  # noqa
            trace = simulate_setup(inst, setup, requests, retry_backoff, step, calibration)
            sim_s = time.perf_counter() - tick
        log.info("%s run %d: %d of %d requests served in %.2f s of simulation", setup.algorithm, i,
                 int(trace.served.sum()), len(trace), sim_s)
        out.append((i, trace.assign(algorithm=setup.algorithm, run=i), sim_s))
    return out


def run_measures(inst: Instance, setup: OnlineSetup, trace: pd.DataFrame | None, sim_s: float,
                 columns: tuple[str, ...] = ()) -> dict[str, Any]:
    """Statuses and measures of one run (per-token times in s; docs/simulator.md §1); ``columns`` are the
    algorithm's declared extras."""
    row: dict[str, Any] = {**statuses(setup.record, setup.termination, setup.placement is not None),
                           "check_status": None, **timing(setup.record),
                           "message": setup.message or setup.record.message, **{c: setup.info.get(c) for c in columns}}
    if trace is None:
        return {**row, "sim_status": sim_status(0, 0)}
    served = trace[trace.served]
    unserved = len(trace) - len(served)
    overflow = trace.attrs["memory_overflow"]
    if unserved:
        row["message"] = "; ".join(filter(None, [setup.message, f"{unserved} of {len(trace)} requests unserved: "
                                                 "no route, or the chosen route cannot hold their cache even alone"]))
    if overflow:     # the simulator's memory grade (bpr/memory_audit.py): the setup promised more than M holds
        row["message"] = "; ".join(filter(None, [overflow, row["message"]]))
    if len(served):  # a trace without served requests has no timing columns
        row.update({"per_token_s": served.per_token.mean(), "ttft_s": served.ttft.mean(),
                    "decode_per_token_s": served.decode_per_token.mean(),
                    "p50_per_token_s": served.per_token.quantile(0.5),
                    "p95_per_token_s": served.per_token.quantile(0.95),
                    "p99_per_token_s": served.per_token.quantile(0.99), "wait_s": served.wait.mean(),
                    "response_s": served.response.mean(), "p50_response_s": served.response.quantile(0.5),
                    "p95_response_s": served.response.quantile(0.95),
                    "p99_response_s": served.response.quantile(0.99), "service_s": served.service.mean()})
    row.update({
        "sim_status": sim_status(len(served), len(trace), overflow is not None), "served": len(served),
        "unserved": unserved, "peak_concurrent": peak_concurrency(trace),
        "peak_memory_share": trace.attrs["peak_memory_share"],
        "route_ms_per_request": 1e3 * trace.route_s.mean(),
        "simulate_s": sim_s,
    })
    return row


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """One line per algorithm for the console: means over runs, the spread of per-token time over runs
    (sample std; NaN with one run), the largest peak concurrency and the reduction of the means against
    PETALS."""
    aggs: dict[str, tuple[str, Any]] = {m: (m, "mean") for m in MEASURES if m in df}
    if "per_token_s" in df:
        aggs["per_token_std_s"] = ("per_token_s", "std")
    if "peak_concurrent" in df:
        aggs["peak_concurrent"] = ("peak_concurrent", "max")
    agg = df.groupby("algorithm", sort=False).agg(
        runs=("run", "nunique"), sim_status=("sim_status", lambda s: ",".join(sorted(set(map(str, s))))),
        status=("status", "first"),
        message=("message", "first"), **aggs).reset_index()
    if "per_token_s" in agg:
        agg["reduction_vs_petals"] = reduction_vs_reference(agg, [])
    return agg
