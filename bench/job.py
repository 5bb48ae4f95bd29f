"""One benchmark job: build the instance, run the algorithms of the mode through the registry (each under
the runner's guard: a failed algorithm is one error row), grade, and write the files and the results table
(bench/results.py). Showing it is bench/console.py's part."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench import instance_builder, workloads
from bench.configs import CONF_DIR
from bench.online import run_measures, simulate_runs, summary
from bench.options import check_for_instance, make_options
from bench.results import bound_rows, head, solution_row, table, write_table
from bpr import calibration as calibrations
from bpr.calibration import CalibrationSpec
from bpr.errors import BprInputError
from bpr.files import read_yaml
from bpr.grading import grade
from bpr.instance import Instance
from bpr.status import Outcome
from solvers.framework import registry
from solvers.framework.context import Context
from solvers.framework.registry import Algorithm, Kind
from solvers.framework.settings import SolverSettings

log = logging.getLogger(__name__)
DEFAULT_LISTS = {"offline": "heuristics", "online": "online"}   # conf/algorithm/<name>.yaml per mode


@dataclass(frozen=True, eq=False)
class JobResult:
    """What a job computed: the instance, its rows, and for online jobs the per-algorithm summary."""

    instance: Instance
    table: pd.DataFrame
    mode: str
    summary: pd.DataFrame | None = None
    replay: Any = None                  # online on a trace: what it replays (bpr/traces.py Replay)
    runs: int = 1                       # the runs simulated (a trace in which nothing varies: once)
    runs_asked: int = 1
    wall_s: float = float("nan")        # the job's wall time, instance to written rows (``job_wall_s``)

    @property
    def interrupted(self) -> bool:
        """Whether Ctrl-C stopped an algorithm (its row says ``interrupted``; the algorithms after it did not
        run)."""
        return bool((self.table.status == Outcome.INTERRUPTED).any())


def default_names(mode: str) -> list[str]:
    """The algorithms a run uses when none are listed: the ready list ``conf/algorithm/heuristics.yaml``
    offline, ``online.yaml`` online (a new algorithm joins only when a line there names it)."""
    return list(read_yaml((CONF_DIR / "algorithm" / f"{DEFAULT_LISTS[mode]}.yaml").read_text())["algorithms"])


def plan(cfg: dict[str, Any], spec: CalibrationSpec | None, solver: SolverSettings) -> list[tuple[Algorithm, Any]]:
    """The algorithms of the run with their checked options, and the solver they need, before any work."""
    mode, runs = cfg["mode"], cfg["runs"]
    if mode not in DEFAULT_LISTS:
        raise BprInputError(f"mode: expected offline or online, got '{mode}'")
    if runs < 1:
        raise BprInputError(f"runs: expected an integer >= 1, got {runs}")
    names = default_names(mode) if cfg["algorithms"] is None else list(cfg["algorithms"])
    if not names:
        raise BprInputError("algorithms: the list is empty; name at least one (bpr algorithms lists them), or "
                            "leave it out for the default list")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BprInputError(f"algorithms: '{twice[0]}' is listed twice")
    chosen = [registry.get(name, mode) for name in names]
    for alg in chosen:
        if spec is not None:  # an algorithm without a calibrated family is named before any work
            spec.for_algorithm(alg.name, 1)
    if any(alg.uses_solver for alg in chosen):
        from solvers.framework import (
            backend,  # only jobs with a MILP/LP import the solver layer
        )

        backend.require_available(solver.name)
    options = dict(cfg.get("algorithm") or {})
    for name, values in options.items():   # every option given is checked, also for an algorithm not run
        if not isinstance(values, dict):
            raise BprInputError(f"algorithm.{name}: expected options (algorithm.{name}.<option>=value), got "
                                f"{values!r}")
        make_options(registry.declared(name, mode), values)
    return [(alg, make_options(alg, options.get(alg.name))) for alg in chosen]


def calibration_of(cfg: dict[str, Any]) -> CalibrationSpec | None:
    """The run's calibration (docs/simulator.md §3), built for online runs only; offline, a calibration
    that changes anything is refused."""
    given = dict(cfg.get("calibration") or {})
    if cfg["mode"] != "online":
        if not calibrations.is_default(given):
            raise BprInputError(f"calibration={given.get('name')}: calibrations apply to the online simulator "
                                "only (mode=online)")
        return None
    return calibrations.from_settings(given)


def instance_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    """The settings as given (recorded as p_instance_*, p_workload_*, p_model, p_calibration_*)."""
    spec = {k: v for k, v in (cfg.get("instance") or {}).items() if k != "_target_"}
    return {"instance": spec, "workload": dict(cfg.get("workload") or {}), "model": cfg["model"]["name"],
            "calibration": dict(cfg.get("calibration") or {"name": "none"})}


def calibration_note(spec: CalibrationSpec, names: list[str], n_servers: int) -> str:
    """What a figure of an online run must say: the calibration and each algorithm's allocation delay."""
    by_delay: dict[float, list[str]] = {}
    for name in names:
        by_delay.setdefault(spec.for_algorithm(name, n_servers).delay_s, []).append(name)
    if not any(by_delay):
        return f"calibration {spec.name}: no allocation delay"
    return f"calibration {spec.name}, allocation delay per request: " + "; ".join(
        f"{delay:g} s {', '.join(group)}" for delay, group in sorted(by_delay.items()))


def config_instance(cfg: dict[str, Any], workload: workloads.Workload | None = None) -> Instance:
    """The instance a composed config builds (the job's identity with its overrides: a resumed job's result
    counts only when it was computed on this instance); ``workload``: the config's, when already resolved."""
    workload = workload or workloads.resolve(cfg["workload"], cfg["model"]["name"])
    return instance_builder.build(cfg["instance"], cfg["seed"], workload, cfg["model"]["name"])


def run_config(cfg: dict[str, Any], out_dir: Path, figures_too: bool = True) -> JobResult:
    """The main job for a composed config (``figures_too``: an online job draws its figures). Every row
    carries the job's wall time (``job_wall_s``: from here to its rows, the simulation and figures included)."""
    started = time.perf_counter()
    spec = calibration_of(cfg)
    solver = SolverSettings.of(cfg["solver"])
    algorithms = plan(cfg, spec, solver)
    ctx = Context(seed=cfg["seed"], solver=solver, log_dir=out_dir)
    workload = workloads.resolve(cfg["workload"], cfg["model"]["name"])
    if cfg["mode"] != "online" and (workload.replay is not None or workload.exponential):
        raise BprInputError("workload.trace and workload.service=exponential apply to the online simulator only "
                            "(mode=online)")
    inst = config_instance(cfg, workload)
    log.info("instance %s: %d servers, %d clients, L = %d, R = %d", inst.name, inst.n_servers, len(inst.clients),
             inst.L, inst.R)
    for _, opts in algorithms:
        check_for_instance(opts, inst)
    out_dir.mkdir(parents=True, exist_ok=True)
    inst.save(out_dir / "instance.json")
    given = instance_settings(cfg)
    if cfg["mode"] == "online":
        runs = cfg["runs"] if workload.varies(inst) else 1
        if runs < cfg["runs"]:
            log.info("runs=%d asked, the trace replayed once: nothing in it varies between runs", cfg["runs"])
        df, trace = run_online(inst, algorithms, ctx, runs, cfg["retry_backoff"], given, spec, workload)
        write_table(trace, out_dir, "trace", csv=False)
        w, per_algorithm = inst.workload, summary(df)
        if figures_too:
            from bench import figures  # matplotlib (0.3 s) only for a job that draws

            figures.online(per_algorithm, trace, out_dir,
                           f"{inst.name}, lambda = {w.arrival_rate}/s, l_out = {w.l_out}, {runs} run(s)\n"
                           + calibration_note(spec, [alg.name for alg, _ in algorithms], inst.n_servers))
        df["job_wall_s"] = wall_s = time.perf_counter() - started
        write_table(df, out_dir)
        return JobResult(inst, df, "online", per_algorithm, workload.replay, runs, cfg["runs"], wall_s)
    df = run_offline(inst, algorithms, ctx, out_dir, given)
    df["job_wall_s"] = wall_s = time.perf_counter() - started
    write_table(df, out_dir)
    return JobResult(inst, df, "offline", wall_s=wall_s)


def run_offline(inst: Instance, algorithms: list[tuple[Algorithm, Any]], ctx: Context, out_dir: Path,
                given: dict[str, Any]) -> pd.DataFrame:
    """Every algorithm through the registry, graded by the one checker and evaluator; its result file
    (``solutions/<name>.json``, ``bounds/<name>.json``) when it returned one."""
    rows = []
    for alg, opts in algorithms:
        log.info("running %s (%s) with %s", alg.name, alg.kind, opts)
        result = registry.run(alg, inst, opts, ctx)
        base = head(inst, alg.name, str(alg.kind), ctx.seed, 0, "offline", _settings(alg, opts, ctx, given))
        if alg.kind is Kind.BOUND:
            new = bound_rows(base, result)
        else:
            graded = grade(inst, result)
            result = graded.solution    # checked: the file keeps the checker's status and the cost
            new = [solution_row(base, inst, graded, alg.columns)]
        path = out_dir / ("bounds" if alg.kind is Kind.BOUND else "solutions") / f"{alg.name}.json"
        if result.record.outcome is Outcome.OK:
            result.save(path)
        else:   # no file of an earlier run in this directory may pass for this run's
            path.unlink(missing_ok=True)
        for row in new:
            value = row.get("per_token_s", row.get("lower_bound_s"))
            log.info("%s: %s / %s, per-token %s s, runtime %.3f s %s", row["algorithm"], row["status"],
                     row["check_status"], "-" if value is None else f"{value:.6g}", result.record.runtime_s,
                     row.get("message") or "")
        rows.extend(new)
        if result.record.outcome is Outcome.INTERRUPTED:     # Ctrl-C: keep what finished, run nothing more
            break
    return table(rows)


def run_online(inst: Instance, algorithms: list[tuple[Algorithm, Any]], ctx: Context, runs: int,
               retry_backoff: bool, given: dict[str, Any], spec: CalibrationSpec, workload: workloads.Workload
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per algorithm and run (same arrivals for every algorithm), and the per-request trace. Every
    row names its calibration and the allocation delay its requests got, and a trace's counts."""
    rows, traces = [], []
    for alg, opts in algorithms:
        log.info("placing %s with %s", alg.name, opts)
        setup = registry.run(alg, inst, opts, ctx)
        cal = spec.for_algorithm(alg.name, inst.n_servers)
        settings = _settings(alg, opts, ctx, given) | {"runs": runs, "retry_backoff": retry_backoff}
        arrivals = lambda run: workload.arrivals(inst, ctx.seed + run)  # noqa: E731
        for run, trace, sim_s in simulate_runs(inst, setup, arrivals, runs, retry_backoff, cal):
            base = head(inst, alg.name, str(alg.kind), ctx.seed, run, "online",
                        settings | {"arrival_seed": ctx.seed + run})
            rows.append({**base, **run_measures(inst, setup, trace, sim_s, alg.columns),
                         "allocation_delay_s": cal.delay_s, "hold_from_arrival": cal.hold_from_arrival,
                         **workload.counts()})
            if trace is not None:
                traces.append(trace)
        if setup.record.outcome is Outcome.INTERRUPTED:      # Ctrl-C: keep what finished, run nothing more
            break
    return table(rows), (pd.concat(traces, ignore_index=True) if traces else pd.DataFrame())


def _settings(alg: Algorithm, opts: Any, ctx: Context, given: dict[str, Any]) -> dict[str, Any]:
    """Everything the row depends on but the seed (an identity column): options, solver, instance."""
    return {k: v for k, v in registry.settings(alg, opts, ctx).items() if k != "seed"} | given
