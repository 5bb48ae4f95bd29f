"""The paper's tables (docs/published.md) from an online sweep, four sources side by side per cell: the
published testbed and simulated PETALS -> proposed, and ours under ``calibration=paper`` and
``calibration=none`` (docs/simulator.md §3), each with its reduction; ours as mean ± spread over seeds.

    python bench/run.py -m experiment=paper_tables      # writes paper_tables.md + .png at the end of the sweep
    python bench/paper_tables.py SWEEP_DIR               # (re)writes them from the jobs' results
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.collect import gather, report_command
from bench.figures import plt, save
from bench.rounding import percent
from bpr.files import read_yaml, write_text
from bpr.paths import DATA_DIR

PUBLISHED = DATA_DIR / "published" / "paper_tables.yaml"
CALIBRATIONS = ("paper", "none")
SOURCES = ("published testbed", "published simulation", "ours, calibration=paper", "ours, calibration=none")
BAND = (0.60, 0.80)      # the paper's headline reduction
TOLERANCE = 0.25         # how far a mean per-token time may sit from the published simulated one


@dataclass(frozen=True)
class Pair:
    """PETALS -> proposed mean per-token times of one source in one cell; spreads over seeds (ours)."""

    petals: float
    proposed: float
    petals_sd: float = np.nan
    proposed_sd: float = np.nan
    reduction_sd: float = np.nan
    seeds: int = 0

    @property
    def reduction(self) -> float:
        return 1 - self.proposed / self.petals

    def text(self) -> str:
        return (f"{self.petals:.2f}{_sd(self.petals_sd, '.2f')} -> {self.proposed:.2f}{_sd(self.proposed_sd, '.2f')} "
                f"({100 * self.reduction:.1f}{_sd(100 * self.reduction_sd, '.1f')} %)")


def _sd(x: float, spec: str) -> str:
    return "" if pd.isna(x) else f" ±{format(x, spec)}"


def measured(df: pd.DataFrame) -> dict[tuple[str, float, int, str], Pair]:
    """(scenario, rate, l_out, calibration) -> ours: per seed the mean over runs, then mean and sample std
    over seeds; the reduction's spread is that of the per-seed reductions."""
    ok = df[df.per_token_s.notna() & df.algorithm.isin(["petals", "proposed"])].copy()
    ok["calibration"] = ok["p_calibration_name"].fillna("none") if "p_calibration_name" in ok else "none"
    out = {}
    for (name, rate, l_out, cal), cell in ok.groupby(["scenario", "arrival_rate", "l_out", "calibration"]):
        per_seed = cell.pivot_table(index="seed", columns="algorithm", values="per_token_s", aggfunc="mean")
        if not {"petals", "proposed"} <= set(per_seed) or per_seed.dropna().empty:
            continue
        per_seed = per_seed.dropna()
        reduction = 1 - per_seed.proposed / per_seed.petals
        out[(name, float(rate), int(l_out), cal)] = Pair(
            per_seed.petals.mean(), per_seed.proposed.mean(), per_seed.petals.std(), per_seed.proposed.std(),
            reduction.std(), len(per_seed))
    return out


def published(source: str, table: dict[str, Any], name: str, rate: float, l_out: int) -> Pair | None:
    value = table.get(source, {}).get(name, {}).get(f"{rate:g}/{l_out}")
    return Pair(*value) if value else None


def sources(ours: dict[tuple[str, float, int, str], Pair], table: dict[str, Any],
            cell: tuple[str, float, int]) -> list[Pair | None]:
    """One cell's pairs in the order of SOURCES (None where a source has no value)."""
    return [published("testbed", table, *cell), published("simulated", table, *cell)] + \
        [ours.get((*cell, cal)) for cal in CALIBRATIONS]


def cells(ours: dict[tuple[str, float, int, str], Pair]) -> list[tuple[str, float, int]]:
    return sorted({key[:3] for key in ours})


def markdown(ours: dict[tuple[str, float, int, str], Pair], table: dict[str, Any]) -> str:
    """The four-source table, then how ours under the paper's calibration compares with its simulator."""
    lines = ["| scenario | lambda/s | l_out | seeds | " + " | ".join(SOURCES) + " |", "|---" * 8 + "|"]
    for name, rate, l_out in cells(ours):
        row = sources(ours, table, (name, rate, l_out))
        seeds = max(p.seeds for p in row[2:] if p)
        lines.append(f"| {name} | {rate:g} | {l_out} | {seeds} | "
                     + " | ".join(p.text() if p else "–" for p in row) + " |")
    band = f"{100 * BAND[0]:.0f}-{100 * BAND[1]:.0f} %"
    lines += ["", f"Ours with calibration=paper against the published simulation (mean per-token time off by at "
                  f"most {100 * TOLERANCE:.0f} %, reduction inside the paper's {band}):",
              "", "| scenario | lambda/s | l_out | PETALS off by | proposed off by | reduction | in band |",
              "|---|---|---|---|---|---|---|"]
    for name, rate, l_out in cells(ours):
        sim, cal = published("simulated", table, name, rate, l_out), ours.get((name, rate, l_out, "paper"))
        if sim and cal:
            off = cal.petals / sim.petals - 1, cal.proposed / sim.proposed - 1
            inside = BAND[0] <= cal.reduction <= BAND[1] and max(map(abs, off)) <= TOLERANCE
            lines.append(f"| {name} | {rate:g} | {l_out} | {percent(off[0])} | {percent(off[1])} | "
                         f"{percent(cal.reduction, signed=False)} | {'yes' if inside else 'no'} |")
    return "\n".join(lines) + "\n"


def figure(ours: dict[tuple[str, float, int, str], Pair], table: dict[str, Any], path: Path) -> Path:
    """Grouped bars per cell, the four sources side by side: PETALS and proposed per-token time and the
    reduction, one column of panels per scenario; error bars are the spread over seeds."""
    names = sorted({c[0] for c in cells(ours)})
    fig, axes = plt.subplots(3, len(names), figsize=(4.5 * len(names), 9), squeeze=False)
    width = 0.2
    for col, name in enumerate(names):
        keys = [c for c in cells(ours) if c[0] == name]
        x = np.arange(len(keys))
        by_cell = [sources(ours, table, k) for k in keys]
        for s, source in enumerate(SOURCES):
            pairs = [of_cell[s] for of_cell in by_cell]
            for row, (value, spread, label) in enumerate((("petals", "petals_sd", "PETALS per-token time [s]"),
                                                          ("proposed", "proposed_sd", "proposed per-token time [s]"),
                                                          ("reduction", "reduction_sd", "reduction vs PETALS [%]"))):
                scale = 100 if row == 2 else 1
                ys = [scale * getattr(p, value) if p else np.nan for p in pairs]
                err = [scale * getattr(p, spread) if p else np.nan for p in pairs]
                ax = axes[row][col]
                ax.bar(x + (s - 1.5) * width, ys, width, yerr=None if np.all(np.isnan(err)) else err, capsize=2,
                       label=source)
                ax.set_ylabel(label)
                ax.set_xticks(x, [f"{r:g}/s, {lo}" for _, r, lo in keys])
        axes[0][col].set_title(f"{name} (lambda, l_out)")
        axes[2][col].axhspan(100 * BAND[0], 100 * BAND[1], color="0.9", zorder=0)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=len(labels))
    fig.suptitle("PETALS -> proposed: the paper's testbed and simulator, ours with and without its calibration\n"
                 f"grey band: the paper's reduction range {100 * BAND[0]:.0f}-{100 * BAND[1]:.0f} %; error bars: "
                 "spread (sample std) over our seeds", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return save(fig, path, tight=False)


def write(sweep_dir: Path) -> Path:
    df = gather(sweep_dir)
    df = df[df.status != "error"] if "status" in df else df
    table = read_yaml(PUBLISHED.read_text())
    ours = measured(df) if "per_token_s" in df else {}
    out = Path(sweep_dir) / "paper_tables.md"
    write_text(out, "# Mean per-token time, PETALS -> proposed (docs/published.md)\n\n"
                   "Four sources per cell: the paper's testbed, the paper's simulator (with its testbed "
                   "calibration), ours with that calibration and ours without (docs/simulator.md §3). Ours: mean "
                   "± sample std over seeds (instance draws), each seed the mean of its runs.\n\n"
                   + markdown(ours, table) + "\n![four sources](paper_tables.png)\n")
    if ours:
        figure(ours, table, out.with_suffix(".png"))
    return out


if __name__ == "__main__":
    report_command(write, "paper_tables.py")
