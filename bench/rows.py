"""Result rows: one per (instance, algorithm, seed), one per lower bound, with provenance (seed, solver
versions, settings), the reduction against PETALS and the gap to the best lower bound (SPEC 8)."""

from __future__ import annotations

import json
import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd

from bpr.grading import Graded
from bpr.instance import Instance

REFERENCE = "petals"
LOWER_BOUNDS = "lower_bounds"
MILP_KEYS = ("solver_status", "dual_bound_s", "gap", "nodes", "build_s", "load_s", "solve_s", "variables",
             "constraints")


def scenario(instance: str) -> str:
    """The scenario of an instance name: ``abovenet-s3`` -> ``abovenet``, ``clustered-c1-s0`` -> ``clustered-c1``."""
    return re.sub(r"-s\d+$", "", instance)


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def blocks_per_gpu(inst: Instance, graded: Graded) -> str:
    """e.g. ``a100-80gb=53 mig-1g.10gb=5`` (a range lo-hi when servers of one GPU type differ)."""
    by_gpu: dict[str, list[int]] = {}
    for s, p in zip(inst.servers, graded.solution.placement):
        if p.num_blocks > 0:
            by_gpu.setdefault(s.gpu, []).append(p.num_blocks)
    parts = [f"{g}={min(v)}" if min(v) == max(v) else f"{g}={min(v)}-{max(v)}" for g, v in sorted(by_gpu.items())]
    return " ".join(parts)


def provenance(inst: Instance, seed: int) -> dict[str, Any]:
    """Columns every row carries: what was run, on what, with which solver versions."""
    w = inst.workload
    memory = [s.M for s in inst.servers]
    return {"instance": inst.name, "seed": seed, "R": inst.R, "l_out": w.l_out, "arrival_rate": w.arrival_rate,
            "n_requests": w.n_requests, "n_servers": inst.n_servers,
            "fast_server_share": sum(m == max(memory) for m in memory) / len(memory),
            "highspy": package_version("highspy"), "pyomo": package_version("pyomo")}


def _base(inst: Instance, graded: Graded, seed: int) -> dict[str, Any]:
    sol = graded.solution
    return {**provenance(inst, seed), "algorithm": sol.algorithm, "mode": "offline", "status": sol.status,
            "runtime_s": sol.runtime_s, "settings": json.dumps(sol.info.get("settings", {}), sort_keys=True)}


def _lp_note(info: dict[str, Any]) -> str:
    status = info.get("lp_status", "")
    return "" if status == "optimal" else status


def rows_for(inst: Instance, graded: Graded, seed: int) -> list[dict[str, Any]]:
    """One row per solution; the lower-bound 'algorithm' gives one row per bound."""
    sol, ev, report = graded.solution, graded.evaluation, graded.report
    if sol.algorithm == LOWER_BOUNDS:
        return [{**_base(inst, graded, seed), "algorithm": f"{LOWER_BOUNDS}:{kind}", "lower_bound_s": value,
                 "message": _lp_note(sol.info) if kind == "lp_relaxation" else ""}
                for kind, value in sol.info["lower_bounds"].items()]
    message = sol.info.get("message", "") if not sol.has_solution else \
        (report.summary() if report and not report.feasible else "")
    row = {**_base(inst, graded, seed),
           "per_token_s": None if ev is None else ev.per_token_s,
           "full_per_token_s": None if ev is None else float(ev.full_s.mean() / inst.workload.l_out),
           "guarantee_s": sol.info.get("guarantee_s"),
           "blocks_per_gpu": blocks_per_gpu(inst, graded) if sol.has_solution else "",
           "servers_used": sum(p.num_blocks > 0 for p in sol.placement),
           "servers_routed": len({s for r in sol.routes for s in r.servers}),
           "violations": len(report.violations) if report else None,
           "message": message}
    row.update({k: sol.info[k] for k in MILP_KEYS if k in sol.info})
    return [row]


def table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a DataFrame with ``reduction_vs_petals`` = 1 - cost / petals cost (same instance and seed)
    and ``gap_to_best_bound`` = (cost - best lower bound) / cost, the best over lower bounds and the MILP's
    dual bound of the same instance and seed (a ``lower_bounds:best`` row is added when there is one)."""
    df = pd.DataFrame(rows)
    for col in ("per_token_s", "lower_bound_s", "dual_bound_s"):
        if col not in df:
            df[col] = np.nan
    df = pd.concat([df, _best_rows(df)], ignore_index=True)
    keys = list(zip(df.instance, df.seed))
    ref = df[df.algorithm == REFERENCE].set_index(["instance", "seed"])["per_token_s"]
    best = df[df.algorithm == f"{LOWER_BOUNDS}:best"].set_index(["instance", "seed"])["lower_bound_s"]
    cost = df.per_token_s.astype(float)
    df["reduction_vs_petals"] = 1.0 - cost / pd.Series([ref.get(k) for k in keys], index=df.index, dtype=float)
    df["gap_to_best_bound"] = (cost - pd.Series([best.get(k) for k in keys], index=df.index, dtype=float)) / cost
    return df


def _best_rows(df: pd.DataFrame) -> pd.DataFrame:
    out = []
    for _, group in df.groupby(["instance", "seed"], sort=False):
        values = pd.concat([group.lower_bound_s, group.dual_bound_s]).astype(float)
        values = values[np.isfinite(values)]
        if len(values):
            source = group.iloc[0].to_dict()
            keep = ("instance", "seed", "R", "l_out", "arrival_rate", "n_requests", "n_servers", "fast_server_share",
                    "highspy", "pyomo", "mode")
            out.append({k: source[k] for k in keep}
                       | {"algorithm": f"{LOWER_BOUNDS}:best", "status": "bound", "lower_bound_s": values.max()})
    return pd.DataFrame(out)
