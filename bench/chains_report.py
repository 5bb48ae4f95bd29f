"""The follow-up's comparison (docs/chains.md §6) from an online sweep: per cell (instance x workload) the mean
response time of chain serving (``chains``), JFFC only, this paper's system (``proposed``) and PETALS, the
latter two under both calibrations, and the reduction chain serving brings, beside the follow-up's published
range and testbed table (instances/published/chains.yaml).

    python bench/run.py -m experiment=chains       # writes chains.md + chains.png at the end of the sweep
    python bench/chains_report.py SWEEP_DIR         # (re)writes them from the jobs' results

Every number is one cell's mean over its runs (arrival seeds); nothing is averaged over instances or
workloads. A system with an unserved or infeasible run has no mean in that cell: its status is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.collect import gather, report_command
from bench.figures import plt, save
from bench.rounding import percent
from bpr.files import read_yaml, write_text
from bpr.paths import DATA_DIR
from bpr.status import SimStatus

PUBLISHED = DATA_DIR / "published" / "chains.yaml"
# (algorithm, calibration): chain serving has no retries, so its calibration is moot (docs/simulator.md §3)
SYSTEMS = (("chains", "none"), ("jffc_only", "none"), ("proposed", "none"), ("proposed", "paper"),
           ("petals", "none"), ("petals", "paper"))
UNCALIBRATED = ("chains", "jffc_only")
LABELS = {"chains": "chains", "jffc_only": "JFFC only", "proposed": "proposed", "petals": "PETALS"}


def label(alg: str) -> str:
    return LABELS.get(alg, alg)


def others(cells: dict) -> list[str]:
    """The sweep's other online algorithms (the peers, spill: docs/peers.md), in name order; shown under
    calibration=none beside the follow-up's systems."""
    return sorted({a for cell in cells.values() for a, _ in cell} - set(LABELS))


def compared(cells: dict) -> list[str]:
    """Every system a cell's winner and the ratios are taken over (calibration=none)."""
    return list(LABELS) + others(cells)


@dataclass(frozen=True)
class Measure:
    """One system in one cell: means over runs, or the status that keeps it from having one."""

    status: str
    response_s: float = np.nan
    response_sd: float = np.nan
    p95_response_s: float = np.nan
    wait_s: float = np.nan
    service_s: float = np.nan
    per_token_s: float = np.nan
    theorem4: tuple[float, float] = (np.nan, np.nan)     # chain setups: Theorem 4's (lower, upper) bound
    runs: int = 0

    @property
    def ok(self) -> bool:
        return self.status == SimStatus.SERVED

    def text(self) -> str:
        if not self.ok:
            return self.status
        sd = "" if pd.isna(self.response_sd) else f" ±{self.response_sd:.1f}"
        return f"{self.response_s:.1f}{sd}"


def workload_label(row: pd.Series) -> str:
    """A cell's workload in words: the trace and its time scale, or Poisson at its rate."""
    trace = row.get("trace")
    if isinstance(trace, str) and trace:
        return f"{trace} x{row.get('p_workload_time_scale', 1.0):g}"
    return f"Poisson {row['arrival_rate']:g}/s"


def measures(df: pd.DataFrame) -> dict[tuple[str, str], dict[tuple[str, str], Measure]]:
    """(scenario, workload) -> (algorithm, calibration) -> Measure."""
    rows = df[df.kind == "online"].copy()
    if rows.empty:
        return {}
    rows["calibration"] = rows["p_calibration_name"].fillna("none") if "p_calibration_name" in rows else "none"
    rows["workload"] = rows.apply(workload_label, axis=1)
    out: dict[tuple[str, str], dict[tuple[str, str], Measure]] = {}
    for (scenario, workload, alg, cal), g in rows.groupby(["scenario", "workload", "algorithm", "calibration"]):
        out.setdefault((scenario, workload), {})[(alg, cal)] = _measure(g)
    return out


def _measure(runs: pd.DataFrame) -> Measure:
    bad = runs[runs.sim_status != SimStatus.SERVED]
    if len(bad):
        return Measure(str(bad.status.iloc[0]), runs=len(runs))
    bounds = tuple(float(pd.to_numeric(runs[k]).iloc[0]) if k in runs else np.nan
                   for k in ("theorem4_lower_s", "theorem4_upper_s"))
    return Measure(SimStatus.SERVED, runs.response_s.mean(), runs.response_s.std(), runs.p95_response_s.mean(),
                   runs.wait_s.mean(), runs.service_s.mean(), runs.per_token_s.mean(), bounds, len(runs))


def system(cell: dict[tuple[str, str], Measure], alg: str, cal: str) -> Measure:
    """Chain serving and JFFC only read the same under every calibration: any calibration's row stands."""
    if (alg, cal) in cell:
        return cell[(alg, cal)]
    moot = alg in UNCALIBRATED
    return next((m for (a, _), m in cell.items() if a == alg and moot), Measure("not run"))


def reduction(chains: Measure, other: Measure, field: str = "response_s") -> float:
    """1 - chains / other in one measure; NaN unless both served every request."""
    if not (chains.ok and other.ok):
        return np.nan
    return 1 - getattr(chains, field) / getattr(other, field)


def served(cell: dict[tuple[str, str], Measure], systems: list[str], field: str = "response_s") -> dict[str, float]:
    """The systems that served every request of the cell under calibration=none, with their mean ``field``."""
    ms = {alg: system(cell, alg, "none") for alg in systems}
    return {alg: getattr(m, field) for alg, m in ms.items() if m.ok}


def winner(cell: dict[tuple[str, str], Measure], field: str, systems: list[str]) -> str:
    """The system with the lowest mean under calibration=none (a system that failed cannot win)."""
    means = served(cell, systems, field)
    return label(min(means, key=means.get)) if means else "none"


def theorem4_text(m: Measure) -> str:
    """Theorem 4's bounds of a chain setup, or ``overloaded`` when lambda >= nu (no steady state)."""
    if not m.ok:
        return "–"
    lo, hi = m.theorem4
    return "overloaded" if np.isnan(lo) else f"{lo:.1f}-{hi:.1f}"


def _pct(x: float) -> str:
    return percent(x, digits=0, empty="–")


def cell_table(cells: dict[tuple[str, str], dict[tuple[str, str], Measure]]) -> list[str]:
    extra = others(cells)
    head = ["instance", "workload", "chains: Thm 4 s"]
    head += [LABELS[a] if a in UNCALIBRATED else f"{LABELS[a]} ({c})" for a, c in SYSTEMS] + extra
    head += ["vs proposed (none / paper)", "vs PETALS (none / paper)", "per-token vs proposed",
             "fastest response", "fastest per token"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    systems = compared(cells)
    for (scenario, workload), cell in sorted(cells.items()):
        ch = system(cell, "chains", "none")
        row = [scenario, workload, theorem4_text(ch)] + [system(cell, a, c).text() for a, c in SYSTEMS]
        row += [system(cell, a, "none").text() for a in extra]
        row += [" / ".join(_pct(reduction(ch, system(cell, other, cal))) for cal in ("none", "paper"))
                for other in ("proposed", "petals")]
        row += [_pct(reduction(ch, system(cell, "proposed", "none"), "per_token_s")),
                winner(cell, "response_s", systems), winner(cell, "per_token_s", systems)]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def summary(cells: dict[tuple[str, str], dict[tuple[str, str], Measure]], published: dict) -> list[str]:
    """Per workload and calibration the range (min - max over instances) of chains' reduction, and how many
    cells it wins, beside the follow-up's published range."""
    lo, hi = published["simulation"]["reduction_percent"]
    lines = ["| workload | against | calibration | cells | chains faster | reduction range | "
             f"inside the published {lo}-{hi} % |", "|---" * 7 + "|"]
    for workload in sorted({w for _, w in cells}):
        for other in ("proposed", "petals"):
            for cal in ("none", "paper"):
                r = np.array([reduction(system(c, "chains", "none"), system(c, other, cal))
                              for (_, w), c in cells.items() if w == workload])
                r = r[~np.isnan(r)]
                if not len(r):
                    continue
                inside = int(np.sum((r >= lo / 100) & (r <= hi / 100)))
                lines.append(f"| {workload} | {LABELS[other]} | {cal} | {len(r)} | {int(np.sum(r > 0))} | "
                             f"{_pct(r.min())} to {_pct(r.max())} | {inside} of {len(r)} |")
    return lines


def standing(cells: dict[tuple[str, str], dict[tuple[str, str], Measure]]) -> list[str]:
    """Per workload and system (calibration=none): in how many cells it served every request, in how many it
    was the fastest, and its mean response over the cell's fastest (geometric mean and worst, over the cells
    it served: a ratio, so cells of different scales weigh alike)."""
    systems = compared(cells)
    lines = ["| workload | system | cells served | fastest in | x the fastest: geometric mean | worst |",
             "|---" * 6 + "|"]
    for workload in sorted({w for _, w in cells}):
        mine = [c for (_, w), c in cells.items() if w == workload]
        means = [served(cell, systems) for cell in mine]
        fastest = [min(m.values(), default=np.nan) for m in means]
        for alg in systems:
            ratios = [m[alg] / best for m, best in zip(means, fastest) if alg in m]
            wins = sum(m[alg] == best for m, best in zip(means, fastest) if alg in m)
            if any((alg, cal) in c for c in mine for cal in ("none", "paper")):
                r = np.array(ratios)
                text = (f"{np.exp(np.log(r).mean()):.2f} | {r.max():.2f}") if len(r) else "– | –"
                lines.append(f"| {workload} | {label(alg)} | {len(r)} of {len(mine)} | {wins} | {text} |")
    return lines


def testbed(published: dict) -> list[str]:
    lines = ["| system | mean response s | p95 response s | mean wait s | mean service s |", "|---" * 5 + "|"]
    for alg, v in published["testbed"].items():
        lines.append(f"| {LABELS[alg]} | {v['response_s']} | {v['p95_response_s']} | {v['wait_s']} | "
                     f"{v['service_s']} |")
    return lines


def provenance(df: pd.DataFrame) -> str:
    keys = [k for k in ("host", "cpu", "git_commit", "model") if k in df]
    seen = {k: ", ".join(sorted({str(v) for v in df[k].dropna()})) for k in keys}
    return "; ".join(f"{k} {v}" for k, v in seen.items() if v)


def markdown(df: pd.DataFrame, cells: dict, published: dict, drawn: bool = True) -> str:
    return "\n".join([
        "# Chain serving against this paper's system and PETALS (docs/chains.md §6)", "",
        "Mean response time [s] (arrival to last token, waiting included) per cell: mean ± sample std over its "
        "runs (arrival seeds). `proposed` and PETALS under `calibration=none` and `calibration=paper` "
        "(docs/simulator.md §3); chain serving and JFFC only have no retries to calibrate. A reduction is "
        "1 - chains / other; '–' where one side did not serve every request. `chains: Thm 4 s` is Theorem 4's "
        "lower-upper bound for the chains' own setup (docs/chains.md §4), `overloaded` where the arrival rate "
        "reaches their service capacity: there no system has a steady state and mean response times grow with "
        "the number of requests. Simulated times: they do not depend on the machine. Measured with "
        + provenance(df) + ".", "",
        *cell_table(cells), "",
        "## Who is fastest where (calibration=none)", "",
        *standing(cells), "",
        "## Against the follow-up's published range", "",
        *summary(cells, published), "",
        "## The follow-up's testbed (LLaMA-2-7B on 9 MIG slices, Azure code trace at 2.57 req/s)", "",
        *testbed(published), "",
        *(["![mean response time per cell](chains.png)"] if drawn else []), ""])


def figure(cells: dict, path: Path) -> Path | None:
    """One panel per workload: mean response time per instance and system (log scale, calibration=none); None
    (no file) when none of the report's systems served a cell under calibration=none."""
    shown = [(a, "none") for a in compared(cells) if any(system(c, a, "none").ok for c in cells.values())]
    if not shown:
        return None
    never = [label(a) for a in compared(cells) if (a, "none") not in shown]
    workloads = sorted({w for _, w in cells})
    fig, axes = plt.subplots(len(workloads), 1, figsize=(14, 3.6 * len(workloads)), squeeze=False)
    width = 0.8 / len(shown)
    for ax, workload in zip(axes[:, 0], workloads):
        names = sorted(s for s, w in cells if w == workload)
        x = np.arange(len(names))
        for i, (alg, cal) in enumerate(shown):
            ms = [system(cells[(n, workload)], alg, cal) for n in names]
            ax.bar(x + (i - (len(shown) - 1) / 2) * width, [m.response_s for m in ms], width,
                   yerr=[m.response_sd for m in ms], capsize=2, label=label(alg))
        ax.set_yscale("log")
        ax.set_ylabel("mean response [s]")
        ax.set_title(f"{workload} (calibration=none; a missing bar: infeasible or not every request served)")
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    axes[0, 0].legend(fontsize=8, ncol=len(shown))
    note = "; ".join(filter(None, ["bars: mean over the cell's runs (arrival seeds), error bars: sample std over "
                                   "them; simulated time, the same on any machine",
                                   f"not shown, feasible in no cell: {', '.join(never)}" if never else ""]))
    fig.suptitle(note, fontsize=9)
    return save(fig, path)


def write(sweep_dir: Path) -> Path:
    df = gather(sweep_dir)   # a failed job's rows stay: its system reads "error" in its cell
    cells = measures(df) if "response_s" in df else {}
    published = read_yaml(PUBLISHED.read_text())
    out = Path(sweep_dir) / "chains.md"
    drawn = figure(cells, out.with_suffix(".png")) if cells else None
    write_text(out, markdown(df, cells, published, drawn is not None))
    return out


if __name__ == "__main__":
    report_command(write, "chains_report.py")
