"""The one results schema (docs/results.md) and the one writer of every table (CSV + parquet).

A row is: identity columns (instance, scenario, seed, algorithm, kind, run), the statuses (``status``, the
one word joining the harness ``outcome`` and the algorithm's ``termination``; ``has_solution``;
``check_status``; ``sim_status``), every setting as its own ``p_<name>`` column, the facts of the instance,
provenance (commit, host, CPU, versions), then the measures. Offline solution rows, bound rows,
online rows (one per Monte-Carlo run) and sweeps all use it; collect and report read only these columns.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from bench.provenance import provenance
from bpr.bounds import Bounds
from bpr.files import atomic
from bpr.grading import Graded
from bpr.instance import Instance
from bpr.record import RunRecord, SolverReport, phases_text
from bpr.schema import FACTS, IDENTITY, STATUS
from bpr.status import CheckStatus, Outcome, SimStatus, Termination, joined

REFERENCE = "petals"
BEST_BOUND = "lower_bounds:best"


def bound_word(status: str) -> str:
    """What a bound row is, in the console and the report alike: ``bound``, or with its status beside it when
    that says more than solved (``bound (optimal)``, ``bound (time_limit)``, ``bound (skipped)``)."""
    return "bound" if status == "solved" else f"bound ({status})"


def scenario(instance: str) -> str:
    """The scenario of an instance name: ``abovenet-s3`` -> ``abovenet``, ``clustered-c1-s0`` -> ``clustered-c1``."""
    return re.sub(r"-s\d+$", "", instance)


def params(prefix: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as ``p_<prefix><name>`` columns; nested mappings are flattened with ``_``."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(params(f"{name}_", value))
        else:
            out[f"p_{name}"] = value if not isinstance(value, (list, tuple)) else " ".join(map(str, value))
    return out


def head(inst: Instance, algorithm: str, kind: str, seed: int, run: int, mode: str,
         settings: Mapping[str, Any]) -> dict[str, Any]:
    """Identity, the p_ columns, instance facts and provenance of one row (statuses and measures follow)."""
    w = inst.workload
    memory = [s.M for s in inst.servers]
    return {"instance": inst.name, "scenario": scenario(inst.name), "seed": seed, "algorithm": algorithm,
            "kind": kind, "run": run, **params("", settings), "mode": mode, "R": inst.R, "l_out": w.l_out,
            "arrival_rate": w.arrival_rate, "n_requests": w.n_requests, "n_servers": inst.n_servers,
            "fast_server_share": sum(m == max(memory) for m in memory) / len(memory), **provenance()}


def blocks_per_gpu(inst: Instance, graded: Graded) -> str:
    """e.g. ``a100-80gb=53 mig-1g.10gb=5`` (a range lo-hi when servers of one GPU type differ)."""
    by_gpu: dict[str, list[int]] = {}
    for s, p in zip(inst.servers, graded.solution.placement):
        if p.num_blocks > 0:
            by_gpu.setdefault(s.gpu, []).append(p.num_blocks)
    return " ".join(f"{g}={min(v)}" if min(v) == max(v) else f"{g}={min(v)}-{max(v)}"
                    for g, v in sorted(by_gpu.items()))


def statuses(record: RunRecord, termination: Termination | None, has_solution: bool | None) -> dict[str, Any]:
    """The status columns of one row (docs/results.md): the joined word and its parts."""
    return {"status": joined(record.outcome, termination), "outcome": str(record.outcome),
            "termination": None if termination is None else str(termination), "has_solution": has_solution}


def solver_columns(report: SolverReport | None, values: bool = True) -> dict[str, Any]:
    """A solver report's columns; ``values`` False leaves out incumbent, dual bound and gap (an LP bound's
    own value is its row's lower_bound_s, and a stopped LP's numbers bound nothing)."""
    if report is None:
        return {}
    return {k: v for k, v in report.columns().items()
            if values or k not in ("incumbent_s", "dual_bound_s", "gap")}


def timing(record: RunRecord) -> dict[str, Any]:
    """What the runner measured of a run's time: its runtime, its time limit, the seconds beyond it and its
    phases on the run's clock (docs/results.md, "Time")."""
    return {"runtime_s": record.runtime_s, "time_limit_s": record.time_limit_s, "overrun_s": record.overrun_s,
            "phases": phases_text(record.phases)}


def solution_row(base: dict[str, Any], inst: Instance, graded: Graded, columns: Iterable[str]) -> dict[str, Any]:
    """The row of a solution algorithm's graded output; ``columns`` are the algorithm's declared extras."""
    sol, ev, report = graded.solution, graded.evaluation, graded.report
    check = CheckStatus.NONE if report is None else \
        (CheckStatus.FEASIBLE if report.feasible else CheckStatus.INFEASIBLE)
    message = (sol.message or sol.record.message) if not sol.has_solution else \
        (report.summary() if report and not report.feasible else "")
    warning = sol.record.solver.warning if sol.record.solver else ""
    return {**base, **statuses(sol.record, sol.termination, sol.has_solution), "check_status": str(check),
            "sim_status": None, "per_token_s": None if ev is None else ev.per_token_s,
            "full_per_token_s": None if ev is None else float(ev.full_s.mean() / inst.workload.l_out),
            **timing(sol.record),
            "blocks_per_gpu": blocks_per_gpu(inst, graded) if sol.has_solution else "",
            "servers_used": sum(p.num_blocks > 0 for p in sol.placement) if sol.has_solution else None,
            "servers_routed": len({s for r in sol.routes for s in r.servers}) if sol.has_solution else None,
            "violations": len(report.violations) if report else None,
            "message": "; ".join(filter(None, [message, warning])),
            **solver_columns(sol.record.solver), **{c: sol.info.get(c) for c in columns}}


def bound_rows(base: dict[str, Any], result: Bounds) -> list[dict[str, Any]]:
    """One row per lower bound of a bound algorithm (``<name>:<bound>``), with that bound's own runtime (the
    run's time limit, overrun and phases are the run's, shared by its bounds); one row for the algorithm when
    it failed or was skipped as a whole."""
    record = result.record
    common = {**base, "check_status": str(CheckStatus.NONE), "sim_status": None, **timing(record)}
    if record.outcome is not Outcome.OK or not result.bounds:
        return [{**common, **statuses(record, None, None), "lower_bound_s": None, "message": record.message}]
    return [{**common, **statuses(RunRecord(bound.outcome), bound.termination, None),
             "algorithm": f"{base['algorithm']}:{name}", "lower_bound_s": bound.value_s, "message": bound.message,
             "runtime_s": bound.runtime_s, **solver_columns(bound.solver, values=False)}
            for name, bound in result.bounds.items()]


def error_row(message: str) -> dict[str, Any]:
    """A failed job: one row with status error and the message (the caller adds its overrides)."""
    return {**statuses(RunRecord(Outcome.ERROR), None, None), "check_status": str(CheckStatus.NONE),
            "sim_status": None, "message": message, **provenance()}


def table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as the schema's DataFrame: the best lower bound per (instance, seed) as a ``lower_bounds:best``
    row, ``gap_to_best_bound`` = (cost - best bound) / cost and ``reduction_vs_petals`` on every row."""
    df = pd.DataFrame(rows)
    for col in ("per_token_s", "lower_bound_s", "dual_bound_s"):
        if col not in df:
            df[col] = np.nan
    df = pd.concat([df, _best_rows(df)], ignore_index=True)
    keys = list(zip(df.instance, df.seed))
    best = df[df.algorithm == BEST_BOUND].set_index(["instance", "seed"])["lower_bound_s"]
    cost = df.per_token_s.astype(float)
    df["gap_to_best_bound"] = (cost - pd.Series([best.get(k) for k in keys], index=df.index, dtype=float)) / cost
    df["reduction_vs_petals"] = reduction_vs_reference(df, ["instance", "seed", "run"])
    return ordered(df)


def reduction_vs_reference(df: pd.DataFrame, keys: list[str], value: str = "per_token_s") -> pd.Series:
    """1 - value / value of ``petals`` in the same ``keys`` group (the whole table when ``keys`` is empty);
    NaN where petals has no value or an infeasible one (a reduction against an infeasible reference
    would flatter)."""
    cost = df[value].astype(float)
    feasible = pd.Series(True, index=df.index)
    if "check_status" in df:
        feasible &= df.check_status.isin(["feasible"]) | df.check_status.isna()
    if "sim_status" in df:
        feasible &= ~df.sim_status.isin(["unserved", "infeasible", "none"])
    is_ref = (df.algorithm == REFERENCE) & feasible
    if not keys:
        ref = cost[is_ref].dropna()
        return 1.0 - cost / (ref.iloc[0] if len(ref) else np.nan)
    ref = df[is_ref].groupby(keys)[value].first().rename("_ref").reset_index()
    matched = df[keys].merge(ref, on=keys, how="left")["_ref"].to_numpy(dtype=float)
    return 1.0 - cost / matched


def _best_rows(df: pd.DataFrame) -> pd.DataFrame:
    out = []
    for _, group in df.groupby(["instance", "seed"], sort=False):
        values = pd.concat([group.lower_bound_s, group.dual_bound_s]).astype(float)
        values = values[np.isfinite(values)]
        if len(values):
            first = group.iloc[0]
            # the instance's own settings, shared by every row of the job (a filter on them keeps this row)
            given = [c for c in group if c.startswith(("p_instance_", "p_workload_", "p_model"))]
            keep = [*IDENTITY, *FACTS, *given, *provenance()]
            out.append({k: first[k] for k in keep if k in first}
                       | statuses(RunRecord(), Termination.SOLVED, None)
                       | {"algorithm": BEST_BOUND, "kind": "bound", "check_status": str(CheckStatus.NONE),
                          "lower_bound_s": values.max()})
    return pd.DataFrame(out)


def ordered(df: pd.DataFrame) -> pd.DataFrame:
    """Columns in schema order: identity, statuses, p_*, facts, provenance, measures."""
    first = [c for c in (*IDENTITY, *STATUS) if c in df]
    p = sorted(c for c in df if c.startswith("p_"))
    facts = [c for c in (*FACTS, *provenance()) if c in df]
    rest = [c for c in df if c not in set(first + p + facts)]
    return df[first + p + facts + rest]


def write_table(df: pd.DataFrame, directory: Path, stem: str = "results", csv: bool = True) -> list[Path]:
    """The one writer: ``<stem>.parquet`` (and ``<stem>.csv``), each written whole or not at all."""
    return [atomic(directory / f"{stem}{suffix}", write)
            for suffix, write in ((".parquet", lambda p: df.to_parquet(p, index=False)),
                                  (".csv", lambda p: df.to_csv(p, index=False)))[: 2 if csv else 1]]


def sim_status(served: int, total: int, overflow: bool = False) -> str:
    """The simulator's word on a run: ``infeasible`` when a server held more than its memory at some instant
    (whatever was served), else whether every request was served."""
    if total and overflow:
        return str(SimStatus.INFEASIBLE)
    return str(SimStatus.NONE if total == 0 else SimStatus.SERVED if served == total else SimStatus.UNSERVED)
