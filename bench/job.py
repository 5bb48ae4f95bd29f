"""One benchmark job: build the instance, run the algorithms of the mode through the registry, grade,
write the files and the results table (bench/results.py), and render the console table."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from bench import figures, instance_builder
from bench.online import run_measures, simulate_runs, summary
from bench.results import bound_rows, head, solution_row, table, write_table
from bpr.calibration import CalibrationSpec, calibration
from bpr.errors import BprInputError
from bpr.grading import grade
from bpr.instance import Instance
from solvers import registry
from solvers.registry import Algorithm, Context, Kind
from solvers.settings import SolverSettings

log = logging.getLogger(__name__)


def plan(cfg: dict[str, Any], spec: CalibrationSpec) -> list[tuple[Algorithm, Any]]:
    """The algorithms of the run with their checked options (before any work is done)."""
    mode, runs = cfg["mode"], cfg["runs"]
    if mode not in ("offline", "online"):
        raise BprInputError(f"mode: expected offline or online, got '{mode}'")
    if runs < 1:
        raise BprInputError(f"runs: expected an integer >= 1, got {runs}")
    names = cfg["algorithms"] or registry.default_names(mode)
    chosen = [registry.get(name, mode) for name in names]
    if mode == "online":
        for alg in chosen:  # an algorithm without a calibrated family is named before any work
            spec.for_algorithm(alg.name, 1)
    options = cfg.get("algorithm") or {}
    return [(alg, registry.make_options(alg, options.get(alg.name))) for alg in chosen]


def calibration_of(cfg: dict[str, Any]) -> CalibrationSpec:
    """The run's calibration (docs/simulator.md §3); only online runs take one that changes anything."""
    given = dict(cfg.get("calibration") or {"name": "none"})
    name, hold = given.pop("name"), given.pop("hold_from_arrival", None)
    spec = calibration(name, {k.removesuffix("_delay_s"): v for k, v in given.items()}, hold)
    changed = name != "none" or hold is not None or any(v is not None for v in given.values())
    if cfg["mode"] != "online" and changed:
        raise BprInputError(f"calibration={name}: calibrations apply to the online simulator only (mode=online)")
    return spec


def instance_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    """The settings as given (recorded as p_instance_*, p_workload_*, p_model, p_calibration_*)."""
    spec = {k: v for k, v in (cfg.get("instance") or {}).items() if k != "_target_"}
    return {"instance": spec, "workload": dict(cfg.get("workload") or {}), "model": cfg["model"]["name"],
            "calibration": dict(cfg.get("calibration") or {"name": "none"})}


def run_config(cfg: dict[str, Any], out_dir: Path) -> tuple[Instance, pd.DataFrame, str]:
    """The main job for a composed config: the instance, the result rows and the console text."""
    spec = calibration_of(cfg)
    algorithms = plan(cfg, spec)
    ctx = Context(seed=cfg["seed"], solver=SolverSettings.of(cfg["solver"]), log_dir=out_dir)
    inst = instance_builder.build(cfg["instance"], cfg["seed"], cfg["workload"], cfg["model"]["name"])
    log.info("instance %s: %d servers, %d clients, L = %d, R = %d", inst.name, inst.n_servers, len(inst.clients),
             inst.L, inst.R)
    out_dir.mkdir(parents=True, exist_ok=True)
    inst.save(out_dir / "instance.json")
    given = instance_settings(cfg)
    if cfg["mode"] == "online":
        df, trace = run_online(inst, algorithms, ctx, cfg["runs"], cfg["retry_backoff"], given, spec)
        write_table(trace, out_dir, "trace", csv=False)
        w, per_algorithm = inst.workload, summary(df)
        figures.online(per_algorithm, trace, out_dir,
                       f"{inst.name}, lambda = {w.arrival_rate}/s, l_out = {w.l_out}, {cfg['runs']} run(s)")
        write_table(df, out_dir)
        return inst, df, render_online(per_algorithm)
    df = run_offline(inst, algorithms, ctx, out_dir, given)
    write_table(df, out_dir)
    return inst, df, render(df)


def run_offline(inst: Instance, algorithms: list[tuple[Algorithm, Any]], ctx: Context, out_dir: Path,
                given: dict[str, Any]) -> pd.DataFrame:
    """Every algorithm through the registry, graded by the one checker and evaluator; solutions/<name>.json."""
    rows = []
    for alg, opts in algorithms:
        log.info("running %s (%s) with %s", alg.name, alg.kind, opts)
        sol = registry.run(alg, inst, opts, ctx)
        graded = grade(inst, sol)
        graded.solution.save(out_dir / "solutions" / f"{alg.name}.json")
        base = head(inst, alg.name, str(alg.kind), ctx.seed, 0, "offline", _settings(alg, opts, ctx, given))
        new = bound_rows(base, graded, alg.columns) if alg.kind is Kind.BOUND else \
            [solution_row(base, inst, graded, alg.columns)]
        for row in new:
            log.info("%s: %s / %s, per-token %s s, runtime %.3f s %s", row["algorithm"], row["solver_status"],
                     row["check_status"], row.get("per_token_s", row.get("lower_bound_s")), sol.runtime_s,
                     row.get("message") or "")
        rows.extend(new)
    return table(rows)


def run_online(inst: Instance, algorithms: list[tuple[Algorithm, Any]], ctx: Context, runs: int,
               retry_backoff: bool, given: dict[str, Any], spec: CalibrationSpec
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per algorithm and run (same arrivals for every algorithm), and the per-request trace. Every
    row names its calibration and the allocation delay its requests got."""
    rows, traces = [], []
    for alg, opts in algorithms:
        log.info("placing %s with %s", alg.name, opts)
        setup = registry.run(alg, inst, opts, ctx)
        cal = spec.for_algorithm(alg.name, inst.n_servers)
        settings = _settings(alg, opts, ctx, given) | {"runs": runs, "retry_backoff": retry_backoff}
        for run, trace, sim_s in simulate_runs(inst, setup, ctx.seed, runs, retry_backoff, cal):
            base = head(inst, alg.name, str(alg.kind), ctx.seed, run, "online",
                        settings | {"arrival_seed": ctx.seed + run})
            rows.append({**base, **run_measures(inst, setup, trace, sim_s, alg.columns),
                         "allocation_delay_s": cal.delay_s, "hold_from_arrival": cal.hold_from_arrival})
            if trace is not None:
                traces.append(trace)
    return table(rows), (pd.concat(traces, ignore_index=True) if traces else pd.DataFrame())


def _settings(alg: Algorithm, opts: Any, ctx: Context, given: dict[str, Any]) -> dict[str, Any]:
    """Everything the row depends on but the seed (an identity column): options, solver, instance."""
    return {k: v for k, v in registry.settings(alg, opts, ctx).items() if k != "seed"} | given


def _fmt(x: Any, spec: str, scale: float = 1.0) -> str:
    return "" if x is None or pd.isna(x) else format(scale * x, spec)


def _pct(x: Any) -> str:
    return "" if x is None or pd.isna(x) else f"{100 * x:+.1f}%"


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df else pd.Series([None] * len(df), index=df.index)


def _status(row: pd.Series) -> str:
    """The checker's word for a solution, the solver's beside it when it adds something."""
    if row.kind == "bound":
        return "bound" + (f" ({row.solver_status})" if row.solver_status not in ("solved", None) else "")
    if row.check_status in (None, "none") or pd.isna(row.check_status):
        return str(row.solver_status)
    extra = "" if row.solver_status in ("solved", row.check_status) else f" ({row.solver_status})"
    return f"{row.check_status}{extra}"


def render(df: pd.DataFrame) -> str:
    """The offline console table. bound = Theorem 3.5 guarantee (cg_bprr), dual bound (milp) or the lower
    bound itself; gap LB = gap to the best lower bound."""
    bound = _col(df, "guarantee_s").combine_first(_col(df, "dual_bound_s")).combine_first(_col(df, "lower_bound_s"))
    view = pd.DataFrame({
        "algorithm": df.algorithm,
        "status": [_status(r) for _, r in df.iterrows()],
        "per-token s": df.per_token_s.map(lambda x: _fmt(x, ".4f")),
        "vs petals": df.reduction_vs_petals.map(_pct),
        "gap LB": df.gap_to_best_bound.map(lambda x: _fmt(x, ".1f", 100) + ("%" if pd.notna(x) else "")),
        "bound": bound.map(lambda x: _fmt(x, ".4f")),
        "blocks per GPU": _col(df, "blocks_per_gpu").fillna(""),
        "servers": _col(df, "servers_used").map(lambda x: _fmt(x, ".0f")),
        "on routes": _col(df, "servers_routed").map(lambda x: _fmt(x, ".0f")),
        "runtime s": _col(df, "runtime_s").map(lambda x: _fmt(x, ".3f")),
    })
    notes = [f"  {a}: {m}" for a, m in zip(df.algorithm, _col(df, "message")) if isinstance(m, str) and m]
    if "variables" in df:
        for _, r in df[df.variables.notna() & _col(df, "build_s").notna()].iterrows():
            notes.append(f"  {r.algorithm}: {r.variables:.0f} variables, {r.constraints:.0f} constraints, build "
                         f"{_fmt(r.get('build_s'), '.1f')} s + load {_fmt(r.get('load_s'), '.1f')} s, solve "
                         f"{_fmt(r.get('solve_s'), '.1f')} s, {_fmt(r.get('nodes'), '.0f')} nodes, "
                         f"gap {_fmt(r.get('gap'), '.3g')}")
    return view.to_string(index=False) + ("\n" + "\n".join(notes) if notes else "")


def render_online(s: pd.DataFrame) -> str:
    """The online console table from ``bench.online.summary``: means over runs (per-token time +- its
    sample std when runs > 1)."""
    view = pd.DataFrame({
        "algorithm": s.algorithm,
        "status": [sim if sim != "none" else solver for sim, solver in zip(s.sim_status, s.solver_status)],
        "per-token s": [_fmt(m, ".3f") + ("" if pd.isna(sd) else f" ±{sd:.3f}")
                        for m, sd in zip(_col(s, "per_token_s"), _col(s, "per_token_std_s"))],
        "vs petals": _col(s, "reduction_vs_petals").map(_pct),
        "TTFT s": _col(s, "ttft_s").map(lambda x: _fmt(x, ".2f")),
        "decode s/tok": _col(s, "decode_per_token_s").map(lambda x: _fmt(x, ".3f")),
        "p95 s/tok": _col(s, "p95_per_token_s").map(lambda x: _fmt(x, ".3f")),
        "wait s": _col(s, "wait_s").map(lambda x: _fmt(x, ".2f")),
        "peak conc.": _col(s, "peak_concurrent").map(lambda x: _fmt(x, ".0f")),
        "place ms": _col(s, "runtime_s").map(lambda x: _fmt(x, ".1f", 1e3)),
        "route ms/req": _col(s, "route_ms_per_request").map(lambda x: _fmt(x, ".2f")),
    })
    notes = [f"  {a}: {m}" for a, m in zip(s.algorithm, _col(s, "message")) if isinstance(m, str) and m]
    return view.to_string(index=False) + ("\n" + "\n".join(notes) if notes else "")
