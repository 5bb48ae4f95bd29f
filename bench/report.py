"""``python bench/report.py DIR`` writes DIR/report.md and DIR/figures/*.png from a run or sweep directory.

Contents: the results table (per-token time, gap to the best lower bound, runtime; mean over seeds and
runs), the winner of every instance cell, the shifted geometric mean of runtimes (shift 10 s; a solver that
hit its time limit counts at the limit), and figures: per-token time by algorithm and instance, gap vs time
for the MILP, and per-token time along every swept axis. A swept axis is any numeric setting column
(``p_*``, docs/results.md) that takes several values, so a new instance family or option needs nothing here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.collect import collect  # noqa: E402
from bench.figures import save  # noqa: E402

SHIFT_S = 10.0
NOT_AXES = {"p_arrival_seed"}     # varies with the run, not with the sweep
LABELS = {"p_workload_arrival_rate": "arrival rate lambda [1/s]", "p_workload_l_out": "l_out [tokens]",
          "p_instance_servers": "servers", "p_instance_a100_fraction": "share of fast (A100) servers"}


def swept_axes(df: pd.DataFrame) -> list[str]:
    """Numeric setting columns that take more than one value in the table."""
    return [c for c in df if c.startswith("p_") and c not in NOT_AXES
            and pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
            and df[c].nunique(dropna=True) > 1]


def load(run_dir: Path) -> pd.DataFrame:
    path = run_dir / "results.parquet"
    df = pd.read_parquet(path) if path.exists() else collect(run_dir)
    if df.empty:
        return df
    df = df.copy()
    df["runtime_counted_s"] = [_counted_runtime(r) for _, r in df.iterrows()]
    return df


def _counted_runtime(row: pd.Series) -> float:
    """Runtime for the shifted geometric mean: a time-limited solve counts at its limit."""
    limit = row.get("p_solver_time_limit")
    if row.get("solver_status") == "time_limit" and limit is not None and pd.notna(limit):
        return float(limit)
    runtime = row.get("runtime_s")
    return float(runtime) if runtime is not None and pd.notna(runtime) else np.nan


def shifted_geometric_mean(values: pd.Series, shift: float = SHIFT_S) -> float:
    v = values.dropna().astype(float)
    return float(np.exp(np.mean(np.log(v + shift))) - shift) if len(v) else np.nan


def cell_columns(df: pd.DataFrame) -> list[str]:
    """What tells two cells apart: mode, scenario and every swept axis."""
    return ["mode", "scenario"] + swept_axes(df)


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds and runs per cell and algorithm (solutions and online rows; bound rows left out)."""
    rows = df[df.per_token_s.notna()] if "per_token_s" in df else df.iloc[0:0]
    cols = {"per_token_s": ("per_token_s", "mean"), "per_token_sd": ("per_token_s", "std"),
            "seeds": ("seed", "nunique"), "runtime_s": ("runtime_counted_s", "mean")}
    if "gap_to_best_bound" in rows:
        cols["gap_to_best_bound"] = ("gap_to_best_bound", "mean")
    return rows.groupby(cell_columns(df) + ["algorithm"], dropna=False, sort=True).agg(**cols).reset_index()


def winners(table: pd.DataFrame, cell: list[str]) -> pd.DataFrame:
    best = table.loc[table.groupby(cell, dropna=False).per_token_s.idxmin()]
    return best[cell + ["algorithm", "per_token_s"]]


def markdown(df: pd.DataFrame, floats: str = "{:.4g}") -> str:
    def cell(x):
        if isinstance(x, float):
            return "" if np.isnan(x) else floats.format(x)
        return str(x)
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def figures(df: pd.DataFrame, table: pd.DataFrame, fig_dir: Path) -> list[Path]:
    fig_dir.mkdir(parents=True, exist_ok=True)
    out = [_by_instance(table, fig_dir / "per_token_by_instance.png")]
    milp = df[(df.algorithm == "milp") & df.get("solve_s", pd.Series(index=df.index)).notna()] \
        if "solve_s" in df else df.iloc[0:0]
    if not milp.empty:
        out.append(_milp_gap(milp, fig_dir / "milp_gap_vs_time.png"))
    for axis in swept_axes(df):
        label = LABELS.get(axis, axis.removeprefix("p_").replace("_", " "))
        out.append(_sweep(table, axis, label, fig_dir / f"per_token_vs_{axis.removeprefix('p_')}.png"))
    return out


def _by_instance(table: pd.DataFrame, path: Path) -> Path:
    pivot = table.assign(cell=table.scenario + " " + table["mode"]).pivot_table(
        index="cell", columns="algorithm", values="per_token_s", aggfunc="mean")
    ax = pivot.plot.bar(figsize=(8, 4), rot=20)
    ax.set_ylabel("mean per-token time [s]")
    ax.set_xlabel("")
    ax.legend(fontsize=7)
    return save(ax.figure, path)


def _milp_gap(milp: pd.DataFrame, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, group in milp.groupby("scenario"):
        ax.scatter(group.solve_s, 100 * group.gap_to_best_bound, label=name)
    ax.set_xlabel("MILP solve time [s]")
    ax.set_ylabel("gap to best lower bound [%]")
    ax.legend(fontsize=7)
    return save(fig, path)


def _sweep(table: pd.DataFrame, axis: str, label: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for (scen, alg), group in table.groupby(["scenario", "algorithm"]):
        g = group.groupby(axis).agg(mean=("per_token_s", "mean"), sd=("per_token_sd", "mean")).reset_index()
        ax.errorbar(g[axis], g["mean"], yerr=g.sd.fillna(0), marker="o", capsize=3, label=f"{alg} ({scen})")
    ax.set_xlabel(label)
    ax.set_ylabel("mean per-token time [s]")
    ax.legend(fontsize=7)
    return save(fig, path)


def report(run_dir: Path) -> Path:
    df = load(run_dir)
    if df.empty:
        raise SystemExit(f"error: no results in {run_dir}")
    table = summary(df)
    errors = df[df.solver_status == "error"] if "solver_status" in df else df.iloc[0:0]
    sgm = df[df.algorithm.notna()].groupby("algorithm").runtime_counted_s.apply(shifted_geometric_mean).dropna()
    figs = figures(df, table, run_dir / "figures")
    parts = [f"# BPR-Bench report: {run_dir}", "",
             f"{len(df)} rows, {df.seed.nunique()} seed(s), {len(errors)} failed job(s).", "",
             "## Results (mean over seeds)", "", markdown(table), "",
             "## Winner per instance cell", "", markdown(winners(table, cell_columns(df))), "",
             f"## Shifted geometric mean of runtimes (shift {SHIFT_S:g} s, time-outs at the limit)", "",
             markdown(sgm.rename("sgm_runtime_s").reset_index()), ""]
    if len(errors):
        parts += ["## Failed jobs", "", markdown(errors[["overrides", "message"]]), ""]
    parts += ["## Figures", ""] + [f"![{p.stem}](figures/{p.name})" for p in figs]
    out = run_dir / "report.md"
    out.write_text("\n".join(parts) + "\n")
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print("usage: python bench/report.py RUN_OR_SWEEP_DIR", file=sys.stderr)
        sys.exit(2)
    print(report(Path(sys.argv[1])))
