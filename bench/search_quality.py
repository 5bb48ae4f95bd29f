"""How close the large-neighbourhood search (``lns``) comes to the optimum within a time limit, on random
instances where memory binds (docs/formulations.md §5, "How close, how fast").

    python bench/search_quality.py --seeds 100:140 --limits 1,30 [--out outputs/search_quality]

For each seed: the instance ``bench.synthetic.random_binding(seed)``; its optimum by ``exact`` on HiGHS
(relative gap 0; an instance it does not prove within ``--proof-limit`` is reported, never counted); then
``lns`` at each time limit, run by the runner (its clock, its deadline) and graded by the checker. Writes
``search_quality.csv`` (one row per instance and limit) and ``search_quality.md`` (per limit: instances,
how many within 1 % and 3 % of the optimum, mean and worst gap), with the machine it ran on. The tests'
instances are seeds 0-19; parameters were tuned on those only, so other seeds are a fresh set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from bench.options import make_options
from bench.provenance import provenance
from bench.synthetic import random_binding
from bpr.errors import BprInputError
from bpr.files import write_text
from bpr.grading import grade
from bpr.instance import Instance
from bpr.solution import Solution
from bpr.status import Termination
from solvers.framework import registry
from solvers.framework.context import Context
from solvers.framework.settings import SolverSettings

QUIET = dict(log=False, progress=False)
WITHIN = (0.01, 0.03)
CHECK_RTOL = 1e-6      # a search cheaper than the proved optimum by more than this contradicts the proof


def checked(inst: Instance, name: str, options: dict, solver: SolverSettings) -> tuple[Solution, float | None]:
    """An algorithm run by the runner (seed 0) and its cost as the checker and evaluator grade it (None
    unless feasible)."""
    alg = registry.get(name, "offline")
    sol = registry.run(alg, inst, make_options(alg, options), Context(seed=0, solver=solver))
    graded = grade(inst, sol)
    feasible = graded.report is not None and graded.report.feasible
    return sol, graded.evaluation.per_token_s if feasible else None


def optimum(inst: Instance, proof_limit: float) -> tuple[float | None, str]:
    """(the proved optimum, '') or (None, why not)."""
    sol, cost = checked(inst, "exact", {}, SolverSettings(time_limit=proof_limit, rel_gap=0.0, **QUIET))
    if sol.termination is not Termination.OPTIMAL or cost is None:
        return None, f"exact: {sol.termination}, feasible: {cost is not None} ({sol.message or 'no proof'})"
    return cost, ""


def search(inst: Instance, limit: float) -> tuple[float | None, float]:
    """(lns's checked cost or None, its runtime) with the runner's time limit ``limit``."""
    sol, cost = checked(inst, "lns", {"time_limit": limit}, SolverSettings(time_limit=limit, **QUIET))
    return cost, sol.record.runtime_s


def measure(seeds: range, limits: list[float], proof_limit: float) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        inst = random_binding(seed)
        best, why = optimum(inst, proof_limit)
        facts = {"seed": seed, "servers": inst.n_servers, "L": inst.L, "R": inst.R, "optimum_s": best}
        if best is None:
            rows.append(facts | {"limit_s": None, "cost_s": None, "gap": None, "runtime_s": None, "note": why})
            continue
        for limit in limits:
            cost, runtime = search(inst, limit)
            gap = None if cost is None else (cost - best) / best
            note = "no feasible solution" if cost is None else \
                "below the proved optimum: the proof is wrong" if gap < -CHECK_RTOL else ""
            rows.append(facts | {"limit_s": limit, "cost_s": cost, "gap": gap, "runtime_s": runtime, "note": note})
        print(f"seed {seed}: optimum {best:.6f}; " + ", ".join(
            f"{r['limit_s']:g} s: {gap_text(r['gap'])}" for r in rows if r["seed"] == seed), flush=True)
    return pd.DataFrame(rows)


def gap_text(gap: float | None) -> str:
    return "-" if gap is None else f"{100 * gap:.2f} %"


def summary(df: pd.DataFrame) -> str:
    p = provenance()
    lines = ["# lns against the optimum on random binding instances", "",
             f"Measured on {p['host']} ({p['cpu']}, {p['cpu_count']} cores), commit {p['git_commit'][:12]}, "
             f"one run at a time. Gap = (lns's checked cost - optimum) / optimum; an instance without a "
             f"proved optimum is listed, never counted.", "",
             "| limit s | instances | within 1 % | within 3 % | mean gap | worst gap | no feasible |",
             "|---|---|---|---|---|---|---|"]
    for limit, g in df.dropna(subset=["limit_s"]).groupby("limit_s"):
        gaps = g.gap.dropna()
        counts = [int((gaps <= w + 1e-12).sum()) for w in WITHIN]
        lines.append(f"| {limit:g} | {len(g)} | {counts[0]} | {counts[1]} | {100 * gaps.mean():.2f} % | "
                     f"{100 * gaps.max():.2f} % | {int(g.gap.isna().sum())} |")
    open_ = df[df.limit_s.isna()]
    lines += ["", f"Without a proved optimum: {', '.join(map(str, open_.seed)) or 'none'}."]
    wrong = df[df.note.fillna("").str.startswith("below")] if "note" in df else df.iloc[:0]
    if len(wrong):
        lines.append(f"Cheaper than the proved optimum (a wrong proof): seeds {', '.join(map(str, wrong.seed))}.")
    return "\n".join(lines) + "\n"


def _range(text: str) -> range:
    try:
        lo, hi = (int(x) for x in text.split(":"))
    except ValueError:
        raise BprInputError(f"--seeds: expected FIRST:END (END excluded), got '{text}'") from None
    if not 0 <= lo < hi:
        raise BprInputError(f"--seeds: expected 0 <= FIRST < END, got '{text}'")
    return range(lo, hi)


def _limits(text: str) -> list[float]:
    try:
        limits = [float(x) for x in text.split(",")]
    except ValueError:
        limits = []
    if not limits or min(limits) <= 0:
        raise BprInputError(f"--limits: expected positive seconds, comma-separated, got '{text}'")
    return limits


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/search_quality.py", description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="100:140", help="FIRST:END of random_binding's seeds (END excluded)")
    p.add_argument("--limits", default="1,30", help="lns time limits in seconds, comma-separated")
    p.add_argument("--proof-limit", type=float, default=300.0, help="seconds for exact to prove each optimum")
    p.add_argument("--out", type=Path, default=Path("outputs") / "search_quality")
    args = p.parse_args(argv)
    try:
        seeds, limits = _range(args.seeds), _limits(args.limits)
    except BprInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    df = measure(seeds, limits, args.proof_limit)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "search_quality.csv", index=False)
    write_text(args.out / "search_quality.md", summary(df))
    print(summary(df))
    return 0


if __name__ == "__main__":
    sys.exit(main())
