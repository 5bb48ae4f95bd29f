"""Online mode of the main job (SPEC 7): simulate every algorithm on the same seeded arrivals, ``runs``
Monte-Carlo repetitions, and summarise per algorithm."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from bench.rows import provenance
from bpr.instance import Instance
from bpr.simulator import poisson_arrivals, simulate
from solvers.online import OnlineSetup, setup

DEFAULT_ALGORITHMS = ["proposed", "petals", "petals-opt-number", "petals-opt-order", "petals-opt-rr"]


def peak_concurrency(trace: pd.DataFrame) -> int:
    """Largest number of requests in service at once ([start, completion) intervals)."""
    served = trace[trace.served]
    events = sorted([(t, 1) for t in served.start] + [(t, -1) for t in served.completion], key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def run_online(inst: Instance, algorithms: list[str], seed: int, runs: int, out_dir: Path,
               retry_backoff: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summary rows (one per algorithm) and the per-request trace; both written under ``out_dir``."""
    w = inst.workload
    arrivals = [poisson_arrivals(inst, w.n_requests, w.arrival_rate, seed + i) for i in range(runs)]
    rows, traces = [], []
    for name in algorithms:
        s = setup(name, inst, seed)
        per_run = []
        for i, arr in enumerate(arrivals):
            if s.placement is None:
                break
            with tqdm(total=w.n_requests, desc=f"{name} run {i + 1}/{runs}", leave=False, disable=None) as bar:
                tick = time.perf_counter()
                trace = simulate(inst, s.placement, s.capacity, s.policy, arr, retry_backoff=retry_backoff,
                                 progress=lambda _: bar.update())
                sim_s = time.perf_counter() - tick
            trace.insert(0, "algorithm", name)
            trace.insert(1, "run", i)
            per_run.append((trace, sim_s))
            traces.append(trace)
        rows.append(_summary(inst, name, s, per_run, seed, runs, retry_backoff))
    df = pd.DataFrame(rows)
    ref = df.set_index("algorithm").per_token_s.get("petals", np.nan)
    df["reduction_vs_petals"] = 1.0 - df.per_token_s / ref
    trace = pd.concat(traces, ignore_index=True) if traces else pd.DataFrame()
    out_dir.mkdir(parents=True, exist_ok=True)
    df.to_csv(out_dir / "results.csv", index=False)
    df.to_parquet(out_dir / "results.parquet", index=False)
    trace.to_parquet(out_dir / "trace.parquet", index=False)
    return df, trace


def _summary(inst: Instance, name: str, s: OnlineSetup, per_run: list, seed: int, runs: int,
             retry_backoff: bool) -> dict[str, Any]:
    settings = {"seed": seed, "runs": runs, "retry_backoff": retry_backoff,
                "arrival_seeds": [seed + i for i in range(runs)]}
    row = {**provenance(inst, seed), "algorithm": name, "mode": "online", "settings": json.dumps(settings),
           "place_runtime_s": s.place_runtime_s, "design_R": s.info.get("design_R")}
    if not per_run:
        return {**row, "status": "infeasible", "message": s.message}
    all_req = pd.concat([t for t, _ in per_run])
    served = all_req[all_req.served]
    run_means = [t[t.served].per_token.mean() for t, _ in per_run]
    peak_mem = np.max([t.attrs["peak_cache_gb"] for t, _ in per_run], axis=0) + inst.model.s_m * s.placement.m
    row.update({
        "status": "ok" if len(served) == len(all_req) else f"{len(all_req) - len(served)} unserved",
        "per_token_s": float(np.mean(run_means)),
        "per_token_std_s": float(np.std(run_means, ddof=1)) if runs > 1 else 0.0,
        "ttft_s": served.ttft.mean(), "decode_per_token_s": served.decode_per_token.mean(),
        "p50_per_token_s": served.per_token.quantile(0.5), "p95_per_token_s": served.per_token.quantile(0.95),
        "p99_per_token_s": served.per_token.quantile(0.99), "wait_s": served.wait.mean(),
        "peak_concurrent": max(peak_concurrency(t) for t, _ in per_run),
        "route_ms_per_request": 1e3 * all_req.route_s.mean(),
        "simulate_s_per_run": float(np.mean([sim for _, sim in per_run])),
        "peak_memory_gb": json.dumps([round(float(x), 4) for x in peak_mem]),
        "message": "",
    })
    return row
