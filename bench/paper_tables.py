"""The paper's tables (docs/published.md) from an online sweep: measured PETALS -> proposed beside the published
numbers, with the ratio proposed / petals for both.

    python bench/run.py -m experiment=paper_tables      # writes paper_tables.md at the end of the sweep
    python bench/paper_tables.py SWEEP_DIR               # (re)writes it from the jobs' results.csv
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hydra.experimental.callback import Callback

from bench.collect import gather
from bpr.paths import DATA_DIR

PUBLISHED = DATA_DIR / "published" / "paper_tables.yaml"


def markdown(df: pd.DataFrame, published: dict[str, Any]) -> str:
    """One line per scenario and cell: measured (mean over seeds, i.e. instance draws, and their runs)
    and published per-token times and ratios."""
    lines = ["| scenario | lambda/s | l_out | seeds | measured petals -> proposed [s] | ratio | reduction | "
             "published petals -> proposed [s] | ratio | reduction |", "|---|---|---|---|---|---|---|---|---|---|"]
    for (name, rate, l_out), cell in df.groupby(["scenario", "arrival_rate", "l_out"]):
        cost = cell.groupby("algorithm").per_token_s.mean()
        pet, pro = cost.get("petals"), cost.get("proposed")
        pub = published.get(name, {}).get(f"{rate:g}/{l_out}")
        measured = _pair(pet, pro)
        paper = _pair(*pub) if pub else ("–", "–", "–")
        lines.append(f"| {name} | {rate:g} | {l_out} | {cell.seed.nunique()} | {' | '.join(measured)} | "
                     f"{' | '.join(paper)} |")
    return "\n".join(lines) + "\n"


def _pair(petals: float | None, proposed: float | None) -> tuple[str, str, str]:
    if petals is None or proposed is None or pd.isna(petals) or pd.isna(proposed):
        return "–", "–", "–"
    return f"{petals:.3f} -> {proposed:.3f}", f"{proposed / petals:.3f}", f"{100 * (1 - proposed / petals):.1f}%"


def write(sweep_dir: Path) -> Path:
    df = gather(sweep_dir)
    df = df[df.solver_status != "error"] if "solver_status" in df else df
    published = yaml.safe_load(PUBLISHED.read_text())
    out = Path(sweep_dir) / "paper_tables.md"
    out.write_text("# Mean per-token time, PETALS vs proposed (docs/published.md)\n\n" + markdown(df, published))
    return out


class PaperTablesCallback(Callback):
    def on_multirun_end(self, config, **kwargs) -> None:
        print(f"paper tables: {write(Path(config.hydra.sweep.dir))}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print("usage: python bench/paper_tables.py SWEEP_DIR", file=sys.stderr)
        sys.exit(2)
    print(write(Path(sys.argv[1])).read_text())
