"""Result rows: one per (instance, algorithm, seed), with provenance (seed, solver versions, settings)."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd

from bpr.grading import Graded
from bpr.instance import Instance

REFERENCE = "petals"


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


def row(inst: Instance, graded: Graded, seed: int) -> dict[str, Any]:
    sol, ev = graded.solution, graded.evaluation
    routed = {s for r in sol.routes for s in r.servers}
    message = sol.info.get("message", "") if not sol.has_solution else (graded.report.summary() if graded.report
                                                                          and not graded.report.feasible else "")
    return {
        "instance": inst.name,
        "algorithm": sol.algorithm,
        "seed": seed,
        "status": sol.status,
        "per_token_s": None if ev is None else ev.per_token_s,
        "full_per_token_s": None if ev is None else float(ev.full_s.mean() / inst.workload.l_out),
        "bound_s": sol.info.get("bound_s"),
        "blocks_per_gpu": blocks_per_gpu(inst, graded) if sol.has_solution else "",
        "servers_used": sum(p.num_blocks > 0 for p in sol.placement),
        "servers_routed": len(routed),
        "runtime_s": sol.runtime_s,
        "R": inst.R,
        "l_out": inst.workload.l_out,
        "n_servers": inst.n_servers,
        "violations": len(graded.report.violations) if graded.report else None,
        "message": message,
        "highspy": package_version("highspy"),
        "pyomo": package_version("pyomo"),
        "settings": json.dumps(sol.info.get("settings", {}), sort_keys=True),
    }


def table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a DataFrame with ``reduction_vs_petals`` = 1 - cost / petals cost of the same instance and seed."""
    df = pd.DataFrame(rows)
    ref = df[df.algorithm == REFERENCE].set_index(["instance", "seed"])["per_token_s"]
    keys = list(zip(df.instance, df.seed))
    base = pd.Series([ref.get(k) for k in keys], index=df.index, dtype=float)
    df.insert(df.columns.get_loc("per_token_s") + 1, "reduction_vs_petals", 1.0 - df.per_token_s.astype(float) / base)
    return df
