"""One benchmark job: build or load the instance, run every algorithm, grade, write files, return rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

import solvers
from bench.rows import row, table
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
            out_dir: Path) -> pd.DataFrame:
    """Everything written under ``out_dir``: instance.json, solutions/<algorithm>.json, results.csv/.parquet."""
    for name in algorithms:
        solvers.get(name)  # unknown names fail before any work is done
    inst = resolve_instance(icfg, wcfg, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    inst.save(out_dir / "instance.json")
    rows = []
    for name in algorithms:
        graded = grade(inst, solvers.run(name, inst, seed=seed))
        graded.solution.save(out_dir / "solutions" / f"{name}.json")
        rows.append(row(inst, graded, seed))
    df = table(rows)
    df.to_csv(out_dir / "results.csv", index=False)
    df.to_parquet(out_dir / "results.parquet", index=False)
    return df


def render(df: pd.DataFrame) -> str:
    """The console table: the columns a reader compares, times in ms, reduction in %."""
    view = pd.DataFrame({
        "algorithm": df.algorithm,
        "status": df.status,
        "per-token s": df.per_token_s.map(lambda x: "-" if pd.isna(x) else f"{x:.4f}"),
        "vs petals": df.reduction_vs_petals.map(lambda x: "-" if pd.isna(x) else f"{100 * x:+.1f}%"),
        "Thm 3.5 bound": df.bound_s.map(lambda x: "" if x is None or pd.isna(x) else f"{x:.4f}"),
        "blocks per GPU": df.blocks_per_gpu,
        "servers": df.servers_used,
        "on routes": df.servers_routed,
        "runtime ms": df.runtime_s.map(lambda x: "-" if pd.isna(x) else f"{1e3 * x:.1f}"),
    })
    text = view.to_string(index=False)
    notes = [f"  {a}: {m}" for a, m in zip(df.algorithm, df.message) if m]
    return text + ("\n" + "\n".join(notes) if notes else "")
