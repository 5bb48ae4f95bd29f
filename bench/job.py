"""One benchmark job: build or load the instance, run every algorithm, grade, write files, return rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

import solvers
from bench.rows import rows_for, table
from bpr import instance as instance_io
from bpr.errors import BprInputError
from bpr.grading import grade
from bpr.instance import Instance
from solvers.design_load import make_instance, with_R


def scenario_overrides(icfg: dict[str, Any], wcfg: dict[str, Any]) -> dict[str, Any]:
    """Instance and workload config fields that are set, as scenario parameters."""
    out = {k: v for k, v in icfg.items() if k not in ("name", "file") and v is not None}
    out.update({f"workload.{k}": v for k, v in wcfg.items() if v is not None})
    return out


def resolve_instance(icfg: dict[str, Any], wcfg: dict[str, Any], seed: int) -> Instance:
    if icfg.get("file"):
        inst = instance_io.load(icfg["file"])
        extra = {k: v for k, v in wcfg.items() if v is not None and k != "R"}
        if extra:
            raise BprInputError(f"workload.{next(iter(extra))}: an instance file fixes its workload "
                                "(only workload.R may be overridden)")
        return with_R(inst, wcfg["R"]) if wcfg.get("R") else inst
    return make_instance(icfg["name"], seed, scenario_overrides(icfg, wcfg))


def run_job(icfg: dict[str, Any], wcfg: dict[str, Any], algorithms: list[str], seed: int,
            out_dir: Path, solver: dict[str, Any] | None = None) -> pd.DataFrame:
    """Everything written under ``out_dir``: instance.json, solutions/<algorithm>.json, results.csv/.parquet."""
    for name in algorithms:
        solvers.get(name)  # unknown names fail before any work is done
    inst = resolve_instance(icfg, wcfg, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    inst.save(out_dir / "instance.json")
    rows = []
    for name in algorithms:
        graded = grade(inst, solvers.run(name, inst, seed=seed, solver=solver))
        graded.solution.save(out_dir / "solutions" / f"{name}.json")
        rows.extend(rows_for(inst, graded, seed))
    df = table(rows)
    df.to_csv(out_dir / "results.csv", index=False)
    df.to_parquet(out_dir / "results.parquet", index=False)
    return df


def _fmt(x: Any, spec: str, scale: float = 1.0) -> str:
    return "" if x is None or pd.isna(x) else format(scale * x, spec)


def render(df: pd.DataFrame) -> str:
    """The console table: what a reader compares; bound = Theorem 3.5 guarantee (cg_bprr), dual bound
    (milp) or the lower bound itself; gap LB = gap to the best lower bound."""
    col = lambda name: df[name] if name in df else pd.Series([None] * len(df))  # noqa: E731
    solver_status = col("solver_status").map(lambda x: f" ({x})" if isinstance(x, str) else "")
    bound = col("guarantee_s").combine_first(col("dual_bound_s")).combine_first(col("lower_bound_s"))
    view = pd.DataFrame({
        "algorithm": df.algorithm,
        "status": df.status + solver_status,
        "per-token s": df.per_token_s.map(lambda x: _fmt(x, ".4f")),
        "vs petals": df.reduction_vs_petals.map(lambda x: _fmt(x, "+.1f", 100) + ("%" if pd.notna(x) else "")),
        "gap LB": df.gap_to_best_bound.map(lambda x: _fmt(x, ".1f", 100) + ("%" if pd.notna(x) else "")),
        "bound": bound.map(lambda x: _fmt(x, ".4f")),
        "blocks per GPU": col("blocks_per_gpu").fillna(""),
        "servers": col("servers_used").map(lambda x: _fmt(x, ".0f")),
        "on routes": col("servers_routed").map(lambda x: _fmt(x, ".0f")),
        "runtime s": df.runtime_s.map(lambda x: _fmt(x, ".3f")),
    })
    text = view.to_string(index=False)
    notes = [f"  {a}: {m}" for a, m in zip(df.algorithm, col("message")) if isinstance(m, str) and m]
    if "variables" in df:
        for _, r in df[df.variables.notna()].iterrows():
            notes.append(f"  {r.algorithm}: {r.variables:.0f} variables, {r.constraints:.0f} constraints, build "
                         f"{_fmt(r.get('build_s'), '.1f')} s + load {_fmt(r.get('load_s'), '.1f')} s, solve "
                         f"{_fmt(r.get('solve_s'), '.1f')} s, {_fmt(r.get('nodes'), '.0f')} nodes, "
                         f"gap {_fmt(r.get('gap'), '.3g')}")
    return text + ("\n" + "\n".join(notes) if notes else "")
