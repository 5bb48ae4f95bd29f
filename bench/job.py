"""One benchmark job: build or load the instance, run the algorithms of the mode, write files, render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

import solvers
from bench import figures
from bench.online import run_online
from bench.rows import rows_for, table
from bpr import instance as instance_io
from bpr.errors import BprInputError
from bpr.grading import grade
from bpr.instance import Instance
from solvers.design_load import make_instance, with_R
from solvers.online import ONLINE_ALGORITHMS

OFFLINE_ALGORITHMS = ["cg_bprr", "petals", "petals-opt-number", "petals-opt-order"]


def scenario_overrides(icfg: dict[str, Any], wcfg: dict[str, Any]) -> dict[str, Any]:
    """Instance and workload config fields that are set, as scenario parameters."""
    out = {k: v for k, v in icfg.items() if k not in ("name", "file") and v is not None}
    out.update({f"workload.{k}": v for k, v in wcfg.items() if v is not None})
    return out


def resolve_instance(icfg: dict[str, Any], wcfg: dict[str, Any], seed: int, model: str | None = None) -> Instance:
    """A frozen instance file (its own model and workload; only R may change) or a generated scenario."""
    if icfg.get("file"):
        inst = instance_io.load(icfg["file"])
        extra = {k: v for k, v in wcfg.items() if v is not None and k != "R"}
        if extra:
            raise BprInputError(f"workload.{next(iter(extra))}: an instance file fixes its workload "
                                "(only workload.R may be overridden)")
        return with_R(inst, wcfg["R"]) if wcfg.get("R") else inst
    return make_instance(icfg["name"], seed, scenario_overrides(icfg, wcfg) | ({"model": model} if model else {}))


def run_config(cfg: dict[str, Any], out_dir: Path) -> tuple[Instance, pd.DataFrame, str]:
    """The main job for a composed config: the instance, the result rows and the console text.
    Names are checked before any work is done."""
    mode, runs = cfg["mode"], cfg["runs"]
    if mode not in ("offline", "online"):
        raise BprInputError(f"mode: expected offline or online, got '{mode}'")
    if runs < 1:
        raise BprInputError(f"runs: expected an integer >= 1, got {runs}")
    known = ONLINE_ALGORITHMS if mode == "online" else solvers.ALGORITHMS
    algorithms = cfg["algorithms"] or (list(ONLINE_ALGORITHMS) if mode == "online" else OFFLINE_ALGORITHMS)
    for name in algorithms:
        if name not in known:
            raise BprInputError(f"unknown {mode} algorithm '{name}'; known: {', '.join(known)}")
    inst = resolve_instance(cfg["instance"], cfg["workload"], cfg["seed"], cfg["model"]["name"])
    out_dir.mkdir(parents=True, exist_ok=True)
    inst.save(out_dir / "instance.json")
    if mode == "online":
        df, trace = run_online(inst, algorithms, cfg["seed"], runs, out_dir, cfg["retry_backoff"])
        figures.online(df, trace, out_dir)
        return inst, df, render_online(df)
    df = run_offline(inst, algorithms, cfg["seed"], out_dir, cfg["solver"])
    return inst, df, render(df)


def run_offline(inst: Instance, algorithms: list[str], seed: int, out_dir: Path,
                solver: dict[str, Any] | None = None) -> pd.DataFrame:
    """solutions/<algorithm>.json and results.csv/.parquet under ``out_dir``."""
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


def _pct(x: Any) -> str:
    return "" if x is None or pd.isna(x) else f"{100 * x:+.1f}%"


def render(df: pd.DataFrame) -> str:
    """The offline console table. bound = Theorem 3.5 guarantee (cg_bprr), dual bound (milp) or the lower
    bound itself; gap LB = gap to the best lower bound."""
    col = lambda name: df[name] if name in df else pd.Series([None] * len(df))  # noqa: E731
    solver_status = [f" ({x})" if isinstance(x, str) and x != st else ""
                     for x, st in zip(col("solver_status"), df.status)]
    bound = col("guarantee_s").combine_first(col("dual_bound_s")).combine_first(col("lower_bound_s"))
    view = pd.DataFrame({
        "algorithm": df.algorithm,
        "status": df.status + pd.Series(solver_status, index=df.index),
        "per-token s": df.per_token_s.map(lambda x: _fmt(x, ".4f")),
        "vs petals": df.reduction_vs_petals.map(_pct),
        "gap LB": df.gap_to_best_bound.map(lambda x: _fmt(x, ".1f", 100) + ("%" if pd.notna(x) else "")),
        "bound": bound.map(lambda x: _fmt(x, ".4f")),
        "blocks per GPU": col("blocks_per_gpu").fillna(""),
        "servers": col("servers_used").map(lambda x: _fmt(x, ".0f")),
        "on routes": col("servers_routed").map(lambda x: _fmt(x, ".0f")),
        "runtime s": df.runtime_s.map(lambda x: _fmt(x, ".3f")),
    })
    notes = [f"  {a}: {m}" for a, m in zip(df.algorithm, col("message")) if isinstance(m, str) and m]
    if "variables" in df:
        for _, r in df[df.variables.notna()].iterrows():
            notes.append(f"  {r.algorithm}: {r.variables:.0f} variables, {r.constraints:.0f} constraints, build "
                         f"{_fmt(r.get('build_s'), '.1f')} s + load {_fmt(r.get('load_s'), '.1f')} s, solve "
                         f"{_fmt(r.get('solve_s'), '.1f')} s, {_fmt(r.get('nodes'), '.0f')} nodes, "
                         f"gap {_fmt(r.get('gap'), '.3g')}")
    return view.to_string(index=False) + ("\n" + "\n".join(notes) if notes else "")


def render_online(df: pd.DataFrame) -> str:
    """The online console table (SPEC 7.1 metrics; times in s, per-token mean +- std over runs)."""
    col = lambda name: df[name] if name in df else pd.Series([None] * len(df))  # noqa: E731
    view = pd.DataFrame({
        "algorithm": df.algorithm,
        "status": df.status,
        "per-token s": [_fmt(m, ".3f") + ("" if pd.isna(m) else f" ±{s:.3f}")
                        for m, s in zip(col("per_token_s"), col("per_token_std_s"))],
        "vs petals": col("reduction_vs_petals").map(_pct),
        "TTFT s": col("ttft_s").map(lambda x: _fmt(x, ".2f")),
        "decode s/tok": col("decode_per_token_s").map(lambda x: _fmt(x, ".3f")),
        "p95 s/tok": col("p95_per_token_s").map(lambda x: _fmt(x, ".3f")),
        "wait s": col("wait_s").map(lambda x: _fmt(x, ".2f")),
        "peak conc.": col("peak_concurrent").map(lambda x: _fmt(x, ".0f")),
        "place ms": col("place_runtime_s").map(lambda x: _fmt(x, ".1f", 1e3)),
        "route ms/req": col("route_ms_per_request").map(lambda x: _fmt(x, ".2f")),
    })
    notes = [f"  {a}: {m}" for a, m in zip(df.algorithm, col("message")) if isinstance(m, str) and m]
    return view.to_string(index=False) + ("\n" + "\n".join(notes) if notes else "")
