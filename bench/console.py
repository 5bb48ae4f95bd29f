"""What a job shows on the console: a header naming the instance, the results table (offline: one row per
algorithm; online: means over runs) with notes, and the files the job actually wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from bench.job import JobResult
from bench.results import bound_word
from bench.rounding import percent, rounded
from bpr.record import overran
from solvers.framework.status_line import gap_text  # the progress line's format: one gap format


def header(job: JobResult, seed: int) -> str:
    inst, w = job.instance, job.instance.workload
    if job.replay is not None:     # a trace gives every request its own tokens: describe the trace
        return f"{inst.name}: {inst.n_servers} servers, R = {inst.R}, seed = {seed}, {trace_text(job.replay)}, " \
               f"{runs_text(job)}"
    text = f"{inst.name}: {inst.n_servers} servers, R = {inst.R}, l_out = {w.l_out}, seed = {seed}"
    if job.mode == "online":
        text += f", {w.n_requests} requests at {rounded(w.arrival_rate, '.4g')}/s, {runs_text(job)}"
    return text


def runs_text(job: JobResult) -> str:
    if job.runs < job.runs_asked:
        return (f"replayed once (runs={job.runs_asked} asked: with one client and deterministic service nothing "
                "varies between runs; workload.service=exponential draws job sizes per run)")
    return f"{job.runs} run(s)"


def trace_text(replay: Any) -> str:
    """A replayed trace for people: requests, span, mean rate and the token ranges."""
    t, times = replay.trace, replay.times
    span = float(times[-1] - times[0]) if len(t) else 0.0
    return (f"trace {t.name}: {len(t):,} requests over {rounded(span, '.4g')} s ({rounded(replay.rate, '.4g')}/s "
            f"on average), prompts {t.l_in.min()}-{t.l_in.max()} and outputs {t.l_out.min()}-{t.l_out.max()} "
            f"tokens")


def body(job: JobResult) -> str:
    table = render_online(job.summary) if job.mode == "online" else render(job.table)
    return f"{table}\n{timing(job.table, job.wall_s)}"


def timing(df: pd.DataFrame, wall_s: float) -> str:
    """The job's wall time and what its time limits covered (``limits_text``)."""
    return f"job: {rounded(wall_s, '.1f')} s wall in all; {limits_text(df)}"


def limits_text(df: pd.DataFrame) -> str:
    """What the time limits of these rows covered: a limit is per algorithm run (the bounds of a bound run
    share their run's), the heuristics have none (docs/results.md "Time")."""
    limited = df[df.time_limit_s.notna()] if "time_limit_s" in df else df.iloc[0:0]
    runs = limited.assign(run_of=limited.algorithm.str.split(":").str[0]).drop_duplicates(["run_of", "time_limit_s"])
    if runs.empty:
        return "no time limit (none of the algorithms takes one)"
    limits = [f"{limit:g} s for {'each of ' if g.run_of.nunique() > 1 else ''}{', '.join(g.run_of.unique())}"
              for limit, g in runs.groupby("time_limit_s", sort=True)]
    shared = [r for r in runs.run_of.unique() if limited.algorithm.str.startswith(f"{r}:").any()]
    return (f"time limit per algorithm run: {'; '.join(limits)}"
            + "".join(f" ({r}: one limit for all its bounds)" for r in shared))


def written(out_dir: Path) -> str:
    """The files and folders the job's directory really holds (folders with their number of files)."""
    parts = []
    for p in sorted(Path(out_dir).iterdir(), key=lambda p: (p.is_dir(), p.name)):
        if p.name.startswith("."):
            continue
        parts.append(f"{p.name}/ ({sum(1 for f in p.rglob('*') if f.is_file())})" if p.is_dir() else p.name)
    return f"written to {out_dir}: {', '.join(parts)}"


def _fmt(x: Any, spec: str, scale: float = 1.0) -> str:
    return "" if x is None or pd.isna(x) else rounded(scale * x, spec)


def _vs_petals(x: Any) -> str:
    """A reduction against PETALS in words: ``2.4% faster``, ``1.5% slower`` (a bare +2.4% read as slower)."""
    if x is None or pd.isna(x):
        return ""
    if round(100 * x, 1) == 0:
        return "same"
    return f"{percent(abs(x), signed=False, space='')} {'faster' if x > 0 else 'slower'}"


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df else pd.Series([None] * len(df), index=df.index)


def _status(row: pd.Series) -> str:
    """The checker's word for a solution, the algorithm's status beside it when it adds something."""
    if row.kind == "bound":
        return bound_word(row.status)
    if not row.has_solution or row.check_status in (None, "none") or pd.isna(row.check_status):
        return str(row.status)
    extra = "" if row.status in ("solved", row.check_status) else f" ({row.status})"
    return f"{row.check_status}{extra}"


def render(df: pd.DataFrame) -> str:
    """The offline console table. bound = Theorem 3.5 guarantee (cg_bprr), dual bound (exact models) or the
    lower bound itself; gap LB = gap to the best lower bound."""
    bound = _col(df, "guarantee_s").combine_first(_col(df, "dual_bound_s")).combine_first(_col(df, "lower_bound_s"))
    view = pd.DataFrame({
        "algorithm": df.algorithm,
        "status": [_status(r) for _, r in df.iterrows()],
        "per-token s": df.per_token_s.map(lambda x: _fmt(x, ".4f")),
        "vs petals": df.reduction_vs_petals.map(_vs_petals),
        "gap LB": df.gap_to_best_bound.map(lambda x: _fmt(x, ".1f", 100) + ("%" if pd.notna(x) else "")),
        "bound": bound.map(lambda x: _fmt(x, ".4f")),
        "blocks per GPU": _col(df, "blocks_per_gpu").fillna(""),
        "servers": _col(df, "servers_used").map(lambda x: _fmt(x, ".0f")),
        "on routes": _col(df, "servers_routed").map(lambda x: _fmt(x, ".0f")),
        "runtime s": _col(df, "runtime_s").map(lambda x: _fmt(x, ".3f")),
    })
    notes = [f"  {a}: {m}" for a, m in zip(df.algorithm, _col(df, "message")) if isinstance(m, str) and m]
    notes += overruns(df)
    if "variables" in df:
        for _, r in df[df.variables.notna() & _col(df, "build_s").notna() & (df.kind == "solution")].iterrows():
            notes.append(f"  {r.algorithm}: {r.variables:.0f} variables, {r.constraints:.0f} constraints, build "
                         f"{_fmt(r.get('build_s'), '.1f')} s + load {_fmt(r.get('load_s'), '.1f')} s, solve "
                         f"{_fmt(r.get('solve_s'), '.1f')} s, {_fmt(r.get('nodes'), '.0f')} nodes, "
                         f"gap {gap_text(None if pd.isna(r.get('gap')) else float(r.get('gap')))}")
    return view.to_string(index=False) + ("\n" + "\n".join(notes) if notes else "")


def overruns(df: pd.DataFrame) -> list[str]:
    """A note per algorithm whose run ended later than its time limit allows (bpr/record.py ``overran``)."""
    if "overrun_s" not in df:
        return []
    runs = df.assign(run_of=df.algorithm.str.split(":").str[0]).drop_duplicates("run_of")   # a bound run: one note
    return [f"  {r.run_of}: ran {r.overrun_s:.1f} s beyond its {r.time_limit_s:g} s time limit (phases: {r.phases})"
            for _, r in runs.iterrows() if overran(r.overrun_s, r.time_limit_s)]


def render_online(s: pd.DataFrame) -> str:
    """The online console table from ``bench.online.summary``: means over runs (per-token time +- its
    sample std when runs > 1)."""
    view = pd.DataFrame({
        "algorithm": s.algorithm,
        "status": [sim if sim != "none" else status for sim, status in zip(s.sim_status, s.status)],
        "per-token s": [_fmt(m, ".3f") + ("" if pd.isna(sd) else f" ±{sd:.3f}")
                        for m, sd in zip(_col(s, "per_token_s"), _col(s, "per_token_std_s"))],
        "vs petals": _col(s, "reduction_vs_petals").map(_vs_petals),
        "TTFT s": _col(s, "ttft_s").map(lambda x: _fmt(x, ".2f")),
        "decode s/tok": _col(s, "decode_per_token_s").map(lambda x: _fmt(x, ".3f")),
        "p95 s/tok": _col(s, "p95_per_token_s").map(lambda x: _fmt(x, ".3f")),
        "wait s": _col(s, "wait_s").map(lambda x: _fmt(x, ".2f")),
        "response s": _col(s, "response_s").map(lambda x: _fmt(x, ".1f")),
        "Thm 4 s": [f"{_fmt(lo, '.1f')}-{_fmt(hi, '.1f')}" if pd.notna(lo) else ""
                    for lo, hi in zip(_col(s, "theorem4_lower_s"), _col(s, "theorem4_upper_s"))],
        "peak conc.": _col(s, "peak_concurrent").map(lambda x: _fmt(x, ".0f")),
        "place ms": _col(s, "runtime_s").map(lambda x: _fmt(x, ".1f", 1e3)),
        "route ms/req": _col(s, "route_ms_per_request").map(lambda x: _fmt(x, ".2f")),
    })
    notes = [f"  {a}: {m}" for a, m in zip(s.algorithm, _col(s, "message")) if isinstance(m, str) and m]
    return view.to_string(index=False) + ("\n" + "\n".join(notes) if notes else "")
