"""``python bench/report.py DIR`` writes DIR/report.md, DIR/figures/*.png and DIR/report.html (the same
findings as one self-contained interactive page, bench/report_html.py) from a run or sweep directory.

What it says, and how it can be trusted:
- per algorithm and cell, the counts of its verdicts (feasible / infeasible / no solution / skipped / error:
  the checker's or the simulator's word on a row, its ``verdict``), and means, winners and ratios over
  feasible rows only, with the counts beside them; spread (sample std) only where
  a cell has several values;
- a cell is the scenario, the mode, every setting that takes several values (a numeric ``p_*`` one is a swept
  axis with a figure along it; a named one, e.g. the calibration or the model, splits cells) (docs/results.md),
  so a new instance family or option needs nothing here; figures draw one line per algorithm and value of
  the other settings; the calibration of online rows is named at the top;
- the shifted geometric mean of runtimes with the shift fitted to the kind (heuristics 1 ms, exact 1 s), a
  time-limited solve counted at its limit;
- on instances of the certified library (docs/library.md), every algorithm's gap to the best known solution
  and to the best bound, and Dolan-More performance profiles of solution quality and runtime;
- for every row whose solution file records its progress (exact models, the large-neighbourhood search),
  its convergence curve (incumbent and dual bound against time) and Berthold's primal integral.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from pyarrow import ArrowException  # noqa: E402

from bench.collect import collect  # noqa: E402
from bench.config import path_safe  # noqa: E402
from bench.console import limits_text  # noqa: E402
from bench.figures import save, title_width, wrapped  # noqa: E402
from bench.report_html import OVERRUN_NOTE, Findings, for_people, page  # noqa: E402
from bench.results import BEST_BOUND, bound_word  # noqa: E402
from bench.rounding import markdown, rounded  # noqa: E402
from bpr.errors import BprInputError  # noqa: E402
from bpr.files import write_text  # noqa: E402
from bpr.record import overran  # noqa: E402
from bpr.status import failed  # noqa: E402

SHIFTS_S = {"heuristic": 1e-3, "exact": 1.0}
NOT_AXES = {"p_arrival_seed", "p_runs"}     # vary with the run (a trace replayed once), not with the sweep
LABELS = {"p_workload_arrival_rate": "arrival rate lambda [1/s]", "p_workload_l_out": "l_out [tokens]",
          "p_instance_servers": "servers", "p_instance_a100_fraction": "share of fast (A100) servers"}
VERDICTS = ["feasible", "infeasible", "no solution", "skipped", "error"]
RARE_VERDICTS = ["interrupted"]     # counted in a column of its own only where a row has it


def _varying(df: pd.DataFrame) -> list[str]:
    """Setting columns that take more than one value in the table."""
    return [c for c in df if c.startswith("p_") and c not in NOT_AXES
            and df[c].map(str, na_action="ignore").nunique(dropna=True) > 1]


def swept_axes(df: pd.DataFrame) -> list[str]:
    """Numeric settings that vary: cells, each with a figure along it."""
    return [c for c in _varying(df) if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]


def varying_names(df: pd.DataFrame) -> list[str]:
    """Named (non-numeric) settings that vary: cells, not figure axes."""
    return [c for c in _varying(df) if not pd.api.types.is_numeric_dtype(df[c])]


def verdict(row: Mapping[str, Any]) -> str:
    """The report's verdict of one row: feasible / infeasible (the checker's word offline, the simulator's
    online) / no solution / skipped / error / interrupted; a bound row's is the bound's own (``bound``,
    ``bound (optimal)``, ``bound (time_limit)``: bench/results.py ``bound_word``). Its own column:
    ``outcome`` stays the harness's word."""
    if row.get("status") in ("error", "skipped", "interrupted"):
        return str(row.get("status"))
    if row.get("kind") == "bound":
        return bound_word(str(row.get("status")))
    if row.get("kind") == "online":
        return {"served": "feasible", "unserved": "infeasible", "infeasible": "infeasible"}.get(row.get("sim_status"),
                                                                                             "no solution")
    return {"feasible": "feasible", "infeasible": "infeasible"}.get(row.get("check_status"), "no solution")


# what a BPR-Bench results table has (bpr/schema.py) once a row is not a failed job's
REQUIRED = ("instance", "algorithm", "status")


def load(run_dir: Path) -> pd.DataFrame:
    """The rows of a run or sweep directory (results.parquet, else gathered from its jobs); a directory
    without results, a table that is not BPR-Bench's, or one whose every row failed is bad input, said in
    one line."""
    path = run_dir / "results.parquet"
    try:
        df = pd.read_parquet(path) if path.exists() else collect(run_dir)
    except (OSError, ValueError, ArrowException) as err:
        raise BprInputError(f"{path}: not a readable results table ({str(err).strip().splitlines()[0]})") from None
    if df.empty:
        raise BprInputError(f"no results in {run_dir} (a run or sweep directory of bench/run.py)")
    if "status" not in df:
        raise BprInputError(f"{path}: not a BPR-Bench results table (no column status)")
    if df.status.map(failed).all():
        first = str(df.get("message", pd.Series([""])).iloc[0]).splitlines()[0]
        raise BprInputError(f"every job in {run_dir} failed ({len(df)} error row(s); nothing to report); the "
                            f"first: {first}")
    missing = [c for c in REQUIRED if c not in df]
    if missing:
        raise BprInputError(f"{path}: not a BPR-Bench results table (no column {', '.join(missing)})")
    df = df.copy()
    records = df.to_dict("records")      # 10-50x faster than iterrows on a sweep of many rows
    df["verdict"] = [verdict(r) for r in records]
    df["family"] = np.where(df.get("p_solver_name", pd.Series(index=df.index)).notna(), "exact", "heuristic")
    df["runtime_counted_s"] = [_counted_runtime(r) for r in records]
    return df


def _counted_runtime(row: Mapping[str, Any]) -> float:
    """Runtime for the shifted geometric mean: a time-limited solve counts at its limit."""
    limit = row.get("p_solver_time_limit")
    # a bound's row has its own runtime, within the share of its run's limit it had: counted as it is
    if row.get("status") == "time_limit" and row.get("kind") != "bound" and limit is not None and pd.notna(limit):
        return float(limit)
    runtime = row.get("runtime_s")
    return float(runtime) if runtime is not None and pd.notna(runtime) else np.nan


def wall_text(df: pd.DataFrame) -> str:
    """The jobs' wall time (``job_wall_s``, one value per job) and what the time limits covered."""
    limits = limits_text(df).capitalize() + "."
    if "job_wall_s" not in df:      # rows of an older run
        return limits
    wall = df.drop_duplicates("job_dir" if "job_dir" in df else "job_wall_s").job_wall_s.dropna()
    said = (f"Wall time: {len(wall)} job(s), {rounded(wall.sum(), '.1f')} s summed over the jobs (the longest "
            f"{rounded(wall.max(), '.1f')} s; jobs that ran side by side took less elapsed time). "
            if len(wall) else "")
    return said + limits


def shifted_geometric_mean(values: pd.Series, shift: float) -> float:
    v = values.dropna().astype(float)
    return float(np.exp(np.mean(np.log(v + shift))) - shift) if len(v) else np.nan


def within_scenario(df: pd.DataFrame, column: str) -> bool:
    """Whether a setting takes several values within one scenario. One that only changes with the scenario
    (the servers of a named grid instance, its topology) is part of the scenario's name: no figure is drawn
    along it and no legend repeats it."""
    values = df[["scenario", column]].dropna().astype(str)
    return bool(len(values)) and bool((values.groupby("scenario")[column].nunique() > 1).any())


def cell_columns(df: pd.DataFrame) -> list[str]:
    """What tells two cells apart: mode, scenario and every setting that varies."""
    return ["mode", "scenario"] + varying_names(df) + swept_axes(df)


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per cell and algorithm: over feasible rows the mean per-token time, its spread (only with several
    values), the mean response time (online), the mean gap to the best bound and the runtime; the verdict
    counts. Read at a glance: the cell's settings, then ``rank`` (1: the cell's winner, the cheapest mean
    among the algorithms feasible on every row of the cell; the others have none) and the algorithm, then the
    per-token time; the cell's algorithms in rank order."""
    rows = df[df.kind.isin(["solution", "online"])] if "kind" in df else df.iloc[0:0]
    cell = cell_columns(df)
    counted = VERDICTS + [v for v in RARE_VERDICTS if (df.verdict == v).any()]
    out = []
    for key, group in rows.groupby(cell + ["algorithm"], dropna=False, sort=True):
        ok = group[group.verdict == "feasible"]
        entry = dict(zip(cell + ["algorithm"], key))
        entry |= {"per_token_s": _mean(ok, "per_token_s"),
                  "per_token_sd": ok.per_token_s.std() if len(ok) > 1 else np.nan,
                  "response_s": _mean(ok, "response_s"), "gap_to_best_bound": _mean(ok, "gap_to_best_bound"),
                  "runtime_s": group.runtime_counted_s.mean()}
        entry |= {v: int((group.verdict == v).sum()) for v in counted}
        out.append(entry)
    if not out:
        return pd.DataFrame(columns=[*cell, "rank", "algorithm", "per_token_s", "per_token_sd", "response_s",
                                     "gap_to_best_bound", "runtime_s", *counted])
    table = pd.DataFrame(out)
    first, last = glance(df, cell)
    # ranked: the algorithms feasible on every row of the cell (a mean over fewer seeds is not comparable)
    whole = table.feasible == table[counted].sum(axis=1)
    table["rank"] = table.per_token_s.where(whole).groupby([table[c] for c in cell], dropna=False) \
        .rank(method="min").astype("Int64")
    table = table.sort_values([*first, *last, "rank", "algorithm"], na_position="last", kind="stable")
    order = [*first, "rank", "algorithm", "per_token_s", "per_token_sd", "response_s", "gap_to_best_bound",
             "runtime_s", *counted, *last]
    return table[order].reset_index(drop=True)


def glance(df: pd.DataFrame, cell: list[str]) -> tuple[list[str], list[str]]:
    """The cell's columns to show before the algorithm (the scenario and the settings that vary within a
    scenario) and after the measures (the mode, and settings that only change with the scenario: its servers,
    its topology), so that the winner and its per-token time stay on the first screen."""
    first = [c for c in cell if c == "scenario" or c != "mode" and within_scenario(df, c)]
    return first, [c for c in cell if c not in first]


def _mean(rows: pd.DataFrame, column: str) -> float:
    return rows[column].mean() if column in rows and len(rows) else np.nan


def winners(table: pd.DataFrame, first: list[str], last: list[str]) -> pd.DataFrame:
    """The cheapest algorithm per cell among those feasible on every row of it (``rank`` 1; cells where none
    is are left out): the cell's columns ``first`` (``glance``), the winner and its per-token time, then the
    cell's other columns ``last``."""
    ok = table[table["rank"].notna()]
    if ok.empty:
        return ok
    best = ok.loc[ok.groupby([*first, *last], dropna=False).per_token_s.idxmin()]
    return for_people(best[[*first, "algorithm", "per_token_s", "response_s", "feasible", *last]]
                      .reset_index(drop=True))


def overruns(df: pd.DataFrame) -> pd.DataFrame:
    """Every run that ended later than its time limit allows (bpr/record.py ``overran``): a bound algorithm's
    rows share one run, shown once."""
    if "overrun_s" not in df:
        return df.iloc[0:0]
    runs = df[df.overrun_s.notna()].assign(run_of=lambda d: d.algorithm.str.split(":").str[0])
    runs = runs.drop_duplicates([c for c in ("job_dir", "instance", "seed", "run", "run_of") if c in runs])
    late = runs[[overran(o, t) for o, t in zip(runs.overrun_s, runs.time_limit_s)]]
    cols = [c for c in ("instance", "run_of", "seed", "time_limit_s", "runtime_s", "overrun_s", "phases") if c in late]
    return late[cols].rename(columns={"run_of": "algorithm"}).reset_index(drop=True)


def runtimes(df: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm and time limit (each bound of a bound algorithm apart, with its own runtime), the shifted
    geometric mean of its runtimes; ``lower_bounds:best`` is derived from the others, not run, and is not
    listed. A swept time limit splits an algorithm's rows: nothing is pooled over a setting that varies."""
    rows = df[df.algorithm.notna() & df.kind.isin(["solution", "online", "bound"]) & (df.algorithm != BEST_BOUND)]
    limit = rows.time_limit_s if "time_limit_s" in rows else pd.Series(np.nan, index=rows.index)
    rows = rows.assign(time_limit_s=limit.fillna(-1.0))     # -1: no limit (a group key may not be NaN)
    out = [{"algorithm": alg, "time_limit_s": np.nan if lim < 0 else lim, "sgm_runtime_s":
            shifted_geometric_mean(g.runtime_counted_s, SHIFTS_S[fam]), "family": fam, "shift_s": SHIFTS_S[fam],
            "runs": int(g.runtime_counted_s.notna().sum())}
           for (alg, lim, fam), g in rows.groupby(["algorithm", "time_limit_s", "family"], sort=True)]
    return pd.DataFrame(out)


def library_gaps(df: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Per library instance and algorithm: gap to the best known solution and to the best bound (``table``:
    the library's, by name)."""
    rows = df[(df.kind == "solution") & (df.verdict == "feasible")]
    rows = rows[[_in_library(row, table) for _, row in rows.iterrows()]]
    if rows.empty:
        return rows
    best = table.loc[rows.instance]
    out = rows[["instance", "algorithm", "per_token_s"]].reset_index(drop=True)
    out["library_status"] = best.status.to_numpy()
    out["gap_to_best_known"] = (out.per_token_s.to_numpy() - best.best_known_s.to_numpy()) / out.per_token_s
    out["gap_to_library_bound"] = (out.per_token_s.to_numpy() - best.best_bound_s.to_numpy()) / out.per_token_s
    # where the library has certified the optimum, the gap to it is the true gap
    out["true_gap"] = out.gap_to_best_known.where(out.library_status != "open")
    return out


def _in_library(row: pd.Series, table: pd.DataFrame) -> bool:
    """Whether the row ran the library's instance of that name (same servers and R, not a variant that kept
    the name)."""
    if row.instance not in table.index:
        return False
    entry = table.loc[row.instance]
    return all(pd.isna(row.get(k)) or int(row[k]) == int(entry[k]) for k in ("n_servers", "R"))


def performance_profile(values: pd.DataFrame, measure: str, settings: list[str] = ()) -> pd.DataFrame:
    """Dolan-More: per problem (an instance with one value of each of ``settings``, the settings that vary
    within a scenario, so that no two settings are merged) the ratio of each algorithm's measure to the best
    one (inf when it has no feasible value); one column of ratios per algorithm, one row per problem."""
    key = values[["instance", *settings]].astype(str).agg(" | ".join, axis=1)
    pivot = values.assign(problem=key).pivot_table(index="problem", columns="algorithm", values=measure,
                                                   aggfunc="min")
    return pivot.div(pivot.min(axis=1), axis=0).fillna(np.inf)


def figures(f: Findings, fig_dir: Path) -> list[Path]:
    fig_dir.mkdir(parents=True, exist_ok=True)
    out = []
    if f.table.per_token_s.notna().any():
        out.append(_by_instance(f.table, f.settings, fig_dir / "per_token_by_instance.png"))
    for axis, label, others in f.sweeps:
        out.append(_sweep(f.table, axis, label, others,
                          fig_dir / path_safe(f"per_token_vs_{axis.removeprefix('p_')}.png")))
    for (ratios, what), name in zip(f.profiles, ("profile_quality.png", "profile_runtime.png")):
        out.append(_profile(ratios, what, fig_dir / name))
    out += _convergence(f, fig_dir)
    return out


def setting_label(column: str) -> str:
    """A setting's short name for people: ``p_instance_servers`` -> ``servers``."""
    return LABELS.get(column, column.removeprefix("p_").removeprefix("instance_").removeprefix("workload_"))


def _cell_name(row: pd.Series, settings: list[str]) -> str:
    parts = [f"{setting_label(c).split(' [')[0]}={row[c]:g}" if isinstance(row[c], float)
             else f"{setting_label(c)}={row[c]}" for c in settings]
    return ", ".join(parts) or row["mode"]


def _by_instance(table: pd.DataFrame, settings: list[str], path: Path) -> Path:
    """One panel per scenario, one bar group per value of the settings that vary within it (never averaged
    over a swept setting), one bar per algorithm in the same colour in every panel, one legend of them all;
    error bars: spread over the seeds and runs of the cell."""
    ok = table[table.per_token_s.notna()]
    ok = ok.assign(cell=[_cell_name(r, settings) for _, r in ok.iterrows()])
    scenarios = sorted(ok.scenario.unique())
    cols = min(4, len(scenarios))
    rows = -(-len(scenarios) // cols)
    width = max(4.5, 0.5 * ok.cell.nunique() * ok.algorithm.nunique() ** 0.5)
    fig, axes = plt.subplots(rows, cols, figsize=(min(width, 9) * cols, 3.6 * rows + 0.8), squeeze=False)
    algorithms = sorted(ok.algorithm.unique())
    for ax, scenario in zip(axes.flat, scenarios):
        mine = ok[ok.scenario == scenario]
        # every algorithm in every panel (no bar where it has no feasible row): one colour per algorithm
        pivot, spread = (mine.pivot_table(index="cell", columns="algorithm", values=v, aggfunc="first",
                                          dropna=False).reindex(columns=algorithms)
                         for v in ("per_token_s", "per_token_sd"))
        pivot.plot.bar(ax=ax, rot=30, capsize=2, legend=False,
                       yerr=spread.reindex_like(pivot) if spread.notna().any().any() else None)
        ax.set_title(scenario, fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("mean per-token time [s]", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    for ax in list(axes.flat)[len(scenarios):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=min(6, len(labels)))
    fig.suptitle(wrapped("Per-token time by cell (feasible rows; no bar: no feasible row; error bars: spread over "
                         "seeds and runs)", title_width(fig)))
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return save(fig, path, tight=False)


def _sweep(table: pd.DataFrame, axis: str, label: str, others: list[str], path: Path) -> Path:
    """One panel per scenario, one line per algorithm and value of every other setting that varies within a
    scenario (so nothing is averaged over a swept setting); one legend for all panels."""
    ok = table[table.per_token_s.notna()]
    scenarios = sorted(ok.scenario.unique())
    cols = min(4, len(scenarios))
    rows = -(-len(scenarios) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(6.5, 4.2 * cols), 3.2 * rows + 0.8), squeeze=False,
                             sharex=True)
    handles: dict[str, object] = {}
    for ax, scenario in zip(axes.flat, scenarios):
        for key, group in ok[ok.scenario == scenario].groupby(["algorithm"] + others, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            g = group.groupby(axis).agg(mean=("per_token_s", "mean"), sd=("per_token_sd", "mean")).reset_index()
            name = key[0] + "".join(f", {setting_label(o).split(' [')[0]}={v}" for o, v in zip(others, key[1:]))
            line = ax.errorbar(g[axis], g["mean"], yerr=g.sd if g.sd.notna().any() else None, marker="o",
                               capsize=3, label=name)
            handles.setdefault(name, line)
        ax.set_title(scenario, fontsize=9)
        ax.set_xlabel(label, fontsize=8)
        ax.set_ylabel("mean per-token time [s]", fontsize=8)
        values = ok[axis].dropna().astype(float)
        if len(values) and np.allclose(values, values.round()):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in list(axes.flat)[len(scenarios):]:
        ax.set_visible(False)
    fig.legend(list(handles.values()), list(handles), fontsize=7, loc="lower center",
               ncol=min(4, len(handles)), bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(wrapped(f"Per-token time against {label} (error bars: spread over seeds and runs)",
                         title_width(fig)))
    fig.tight_layout(rect=(0, 0.05 + 0.025 * -(-len(handles) // 4), 1, 0.97))
    return save(fig, path, tight=False)


def _profile(ratios: pd.DataFrame, what: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3.8))
    finite = ratios.replace(np.inf, np.nan)
    top = max(2.0, float(np.nanmax(finite.to_numpy())) * 1.05) if finite.notna().any().any() else 2.0
    ratios_seen = np.unique(np.concatenate([[1.0, top], finite.stack().to_numpy()]))
    for alg in ratios.columns:
        share = [(ratios[alg] <= t).mean() for t in ratios_seen]
        ax.step(ratios_seen, share, where="post", label=alg)
    ax.set_xscale("log")
    ax.set_xlabel(f"ratio r: {what} / best {what} on the instance")
    ax.set_ylabel("share of problems within r")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Performance profile, {what} ({len(ratios)} problems: instance and settings)")
    ax.legend(fontsize=7, loc="lower right")
    return save(fig, path)


def _progress(row: Mapping[str, Any], run_dir: Path) -> np.ndarray | None:
    """(time, incumbent, bound) rows of the progress log in a row's solution file (NaN where unknown); None
    without a log or when it knows no incumbent and no bound (a model whose objective is not the instance's
    cost, Helix's, records none: there is no curve to draw and no primal integral to take)."""
    base = Path(row["job_dir"]) if isinstance(row.get("job_dir"), str) else run_dir
    path = base / "solutions" / f"{row['algorithm']}.json"
    if not path.exists():
        return None
    progress = (json.loads(path.read_text()).get("solver") or {}).get("progress") or []
    if len(progress) < 2:
        return None
    log = np.array([[np.nan if v is None else v for v in p[:3]] for p in progress], dtype=float)
    return None if np.isnan(log[:, 1:]).all() else log


def primal_gap(incumbent: np.ndarray, reference: float) -> np.ndarray:
    """Berthold's primal gap of each incumbent against the reference (the best known solution): 1 without an
    incumbent, else |c - ref| / max(|c|, |ref|) (0 when both are 0)."""
    c = np.asarray(incumbent, dtype=float)
    scale = np.maximum(np.abs(c), abs(reference))
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(scale > 0, np.abs(c - reference) / scale, 0.0)
    return np.where(np.isnan(c), 1.0, gap)


def primal_integral(progress: np.ndarray, reference: float, horizon: float) -> float:
    """Berthold's primal integral: the area under the primal gap (a step function of time, 1 until the first
    incumbent) from 0 to ``horizon`` seconds. Lower is better: good solutions found early."""
    t = np.clip(progress[:, 0], 0.0, horizon)
    gaps = primal_gap(progress[:, 1], reference)
    edges = np.concatenate(([0.0], t, [horizon]))
    steps = np.concatenate(([1.0], gaps))
    return float(np.sum(np.diff(edges) * steps))


def primal_integrals(df: pd.DataFrame, progress_logs: dict[int, np.ndarray], table: pd.DataFrame
                     ) -> pd.DataFrame:
    """Per solution row with a progress log (``progress_logs``, by row index): its primal integral up to its
    runtime and its mean primal gap (integral / runtime), against the library's best known solution
    (``table``), or the best feasible cost of any row on the same instance elsewhere."""
    rows = df[(df.kind == "solution") & df.runtime_s.notna()] if "runtime_s" in df else df.iloc[0:0]
    feasible = df[(df.kind == "solution") & (df.verdict == "feasible")]
    best = feasible.groupby("instance").per_token_s.min().to_dict()
    known = table.best_known_s.dropna().to_dict()
    out = []
    for index, row in rows.iterrows():
        progress = progress_logs.get(index)
        ref = min(known.get(row.instance, np.inf), best.get(row.instance, np.inf))
        if progress is None or not np.isfinite(ref) or row.runtime_s <= 0:
            continue
        area = primal_integral(progress, ref, float(row.runtime_s))
        out.append({"instance": row.instance, "algorithm": row.algorithm, "runtime_s": row.runtime_s,
                    "reference_s": ref, "primal_integral_s": area, "mean_primal_gap": area / row.runtime_s})
    return pd.DataFrame(out)


def _convergence(f: Findings, fig_dir: Path) -> list[Path]:
    """Incumbent and dual bound against time for every solution row whose solution file has a progress log
    (the exact models, the large-neighbourhood search), with the job's best lower bound and, on a library
    instance, the library's best known solution and bound as levels: which side holds the gap."""
    out = []
    for index, progress in f.progress.items():
        row = f.df.loc[index]
        t, inc, bnd = progress.T
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.step(t, inc, where="post", label="incumbent")
        if not np.isnan(bnd).all():
            ax.step(t, bnd, where="post", label="dual bound")
        for level, label, style in f.levels.get(index, []):
            ax.axhline(level, linestyle=style, color="grey", linewidth=0.8, label=f"{label} ({level:.4g})")
        ax.set_xlim(left=0)       # the run's clock: the runner's call is 0, the first incumbent comes later
        ax.set_xlabel("time since the run began [s]")
        ax.set_ylabel("average per-token time [s]")
        ax.set_title(f"{row.algorithm} on {row.instance} (seed {row.seed}): {row.status}")
        ax.legend(fontsize=7)
        # names from data (an instance named ../x) make one path-safe file name inside figures/
        out.append(save(fig, fig_dir / path_safe(f"convergence_{row.algorithm}_{row.instance}_s{row.seed}.png")))
    return out


def _library_table() -> pd.DataFrame:
    """The library's table by instance name, read when a report uses it (the import loads the library)."""
    from bench.library import load_table

    return load_table().set_index("name")


def _levels(df: pd.DataFrame, row: pd.Series, table: pd.DataFrame) -> list[tuple[float, str, str]]:
    """(value, label, line style): the best lower bound the row's own job computed on its instance (its
    ``lower_bounds:best`` row), and the library's best known solution and bound (``table``, by name) when
    the instance is one."""
    out = []
    same = (df.algorithm == BEST_BOUND) & (df.instance == row.instance) & (df.seed == row.seed)
    if "job_dir" in df and isinstance(row.get("job_dir"), str):
        same &= df.job_dir == row.job_dir
    bounds = df.loc[same, "lower_bound_s"].astype(float).dropna()
    if len(bounds):
        out.append((float(bounds.max()), "best lower bound, this job", "--"))
    if _in_library(row, table):
        entry = table.loc[row.instance]
        out += [(float(entry.best_known_s), "library best known", ":"),
                (float(entry.best_bound_s), "library bound", "-.")]
    return out


def findings(run_dir: Path, df: pd.DataFrame) -> Findings:
    """Everything the report says, computed once for report.md and report.html."""
    table = summary(df)
    errors = df[df.status.map(failed)] if "status" in df else df.iloc[0:0]
    online = df[df.kind == "online"] if "kind" in df else df.iloc[0:0]
    calibrations = sorted(set(online.get("p_calibration_name", pd.Series(dtype=object)).fillna("none")))
    intro = (f"{len(df)} rows, {df.seed.nunique()} seed(s), {len(errors)} failed job(s). Means over feasible "
             f"rows only; the verdict counts stand beside them. {wall_text(df)}"
             + (f" Online rows ran under calibration {', '.join(calibrations)} (docs/simulator.md §3)."
                if calibrations else ""))
    inner = [c for c in swept_axes(df) + varying_names(df) if within_scenario(df, c)]
    sweeps = [(a, setting_label(a), [o for o in inner if o != a]) for a in swept_axes(df) if a in inner]
    settings = [c for c in cell_columns(df) if c not in ("mode", "scenario") and within_scenario(df, c)]
    feasible = df[(df.kind == "solution") & (df.verdict == "feasible")]
    profiles = []
    if len(feasible[["instance", *settings]].drop_duplicates()) > 1 and feasible.algorithm.nunique() > 1:
        timed = df[(df.kind == "solution") & df.runtime_counted_s.notna()]
        profiles = [(performance_profile(feasible, "per_token_s", settings), "per-token time"),
                    (performance_profile(timed, "runtime_counted_s", settings), "runtime")]
    solutions = df[df.kind == "solution"]
    progress = {i: p for i, row in zip(solutions.index, solutions.to_dict("records"))
                if (p := _progress(row, run_dir)) is not None}
    library = _library_table() if "instance" in df else None
    return Findings(df=df, table=table, winners=winners(table, *glance(df, cell_columns(df))),
                    runtimes=runtimes(df), overruns=overruns(df),
                    gaps=library_gaps(df, library) if library is not None else pd.DataFrame(),
                    integrals=primal_integrals(df, progress, library) if library is not None else pd.DataFrame(),
                    errors=errors, settings=settings,
                    sweeps=sweeps, profiles=profiles, progress=progress, intro=intro,
                    levels={i: _levels(df, df.loc[i], library) for i in progress})


def report(run_dir: Path) -> Path:
    """Write report.md, figures/ and report.html; returns the path of report.md."""
    return write_report(run_dir)[0]


def write_report(run_dir: Path) -> tuple[Path, list[Path]]:
    """Write report.md, figures/ and report.html; returns report.md's path and the figures drawn."""
    df = load(run_dir)
    f = findings(run_dir, df)
    table, errors = f.table, f.errors
    figs = figures(f, run_dir / "figures")
    shown = for_people(table)
    parts = [f"# BPR-Bench report: {run_dir}", "", f.intro, "",
             "## Results per cell", "", markdown(shown), "",
             "## Winner per instance cell (cheapest feasible)", "", markdown(f.winners), "",
             "## Shifted geometric mean of runtimes", "",
             "Shift fitted to the kind: " + ", ".join(f"{k} {v:g} s" for k, v in SHIFTS_S.items())
             + "; a time-limited solve counts at its limit.", "", markdown(f.runtimes), ""]
    if len(f.overruns):
        parts += ["## Runs past their time limit", "", OVERRUN_NOTE, "", markdown(f.overruns), ""]
    gaps = f.gaps
    if len(gaps):
        per_alg = gaps.groupby("algorithm").agg(instances=("instance", "nunique"),
                                                certified=("true_gap", "count"),
                                                mean_true_gap=("true_gap", "mean"),
                                                max_true_gap=("true_gap", "max"),
                                                mean_gap_to_best_known=("gap_to_best_known", "mean"),
                                                mean_gap_to_bound=("gap_to_library_bound", "mean")).reset_index()
        parts += ["## Certified library: gaps", "",
                  "`true_gap`: against the certified optimum (library status `optimal`); elsewhere the gap to the "
                  "library's best bound is an upper bound on it.", "", markdown(per_alg), "", markdown(gaps), ""]
    integrals = f.integrals
    if len(integrals):
        parts += ["## Primal integrals", "",
                  "Berthold's primal integral (seconds): the area under the primal gap |c - ref| / max(c, ref) "
                  "over the run, 1 before the first incumbent; ref is the library's best known solution or the "
                  "best feasible cost on the instance in this sweep. Lower: good solutions sooner.", "",
                  markdown(integrals), ""]
    if len(errors):
        cols = [c for c in ("overrides", "instance", "algorithm", "message") if c in errors]
        parts += ["## Failed jobs and algorithms", "", markdown(errors[cols]), ""]
    parts += ["## Figures", ""] + [f"![{p.stem}](figures/{p.name})" for p in figs]
    out = run_dir / "report.md"
    write_text(out, "\n".join(parts) + "\n")
    page(run_dir, f)
    return out, figs


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python bench/report.py RUN_OR_SWEEP_DIR", file=sys.stderr)
        return 2
    try:
        md, figs = write_report(Path(argv[0]))
    except BprInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"written to {md.parent}: report.md, report.html, figures/ ({len(figs)}: "
          f"{', '.join(sorted(p.name for p in figs))})")     # the files this report drew, not older ones
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
