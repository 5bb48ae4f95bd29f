"""Per-job results and their gathering.

Every job of a sweep first writes a ``result.json`` that says it started and did not finish, then replaces
it (atomically) with its result, so a killed job is a row with status ``error``, never a missing row. A job
is identified by its overrides (``resume`` aside): ``resume=true`` skips exactly the jobs whose result is
readable, successful and from the same overrides. At the end of a sweep (Hydra callback) or by hand:

    python bench/collect.py SWEEP_DIR     # (re)writes SWEEP_DIR/results.parquet and results.csv

gathers the rows of every job of the sweep's latest launch (bench/sweep.py; schema: bench/results.py); a
failed, killed or unreadable job is one row with status ``error`` and the reason.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import pandas as pd
from hydra.experimental.callback import Callback

from bench import provenance, sweep
from bench.results import error_row, ordered, write_table
from bpr.files import write_json
from bpr.status import failed

RESULT = "result.json"


NOT_IDENTITY = {"resume"}    # overrides that do not change what a job computes
STARTED = "started but did not finish (killed, or its machine stopped); see its run.log"


def write_result(out_dir: Path, payload: dict[str, Any]) -> None:
    write_json(out_dir / RESULT, payload)


def identity(overrides: list[str]) -> list[str]:
    return sorted(o for o in overrides if o.split("=", 1)[0].lstrip("+~") not in NOT_IDENTITY)


def read_result(path: Path) -> tuple[dict[str, Any] | None, str]:
    """A job's payload, or None and what is wrong with the file."""
    try:
        payload = json.loads(Path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return None, f"{path}: missing"
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        return None, f"{path}: unreadable ({type(err).__name__}: {str(err)[:200]})"
    problem = _problem(payload)
    return (None, f"{path}: {problem}") if problem else (payload, "")


def _problem(payload: Any) -> str:
    if not isinstance(payload, dict):
        return f"expected a JSON object, got {type(payload).__name__}"
    job = payload.get("job", {})
    if not isinstance(job, dict) or not all(isinstance(o, str) for o in job.get("overrides", [])):
        return "its 'job' is not an object with a list of overrides"
    status = payload.get("status")
    if status == "ok":
        rows = payload.get("rows")
        if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
            return "status ok but no rows"
        return ""
    if status == "error":
        return "" if isinstance(payload.get("error", ""), str) else "its 'error' is not a string"
    return f"unknown status {status!r}"


def finished(out_dir: Path, overrides: list[str]) -> dict[str, Any] | None:
    """This job's successful result when ``out_dir`` already holds one (same overrides, no failed algorithm;
    for resume)."""
    payload, _ = read_result(out_dir / RESULT)
    same = payload is not None and payload["status"] == "ok" and \
        identity(payload.get("job", {}).get("overrides", [])) == identity(overrides) and \
        not any(failed(str(row.get("status"))) for row in payload["rows"])
    return payload if same else None


def ok_payload(job: dict[str, Any], df: pd.DataFrame) -> dict[str, Any]:
    return {"status": "ok", "job": job, "rows": json.loads(df.to_json(orient="records"))}


def error_payload(job: dict[str, Any], message: str) -> dict[str, Any]:
    return {"status": "error", "job": job, "error": message}


def gather(sweep_dir: Path) -> pd.DataFrame:
    """The rows of every job of the latest launch below ``sweep_dir`` (all jobs when no launch is recorded),
    with the job's number, overrides and directory; ``attrs["stale"]`` counts results of earlier launches
    that were left out."""
    launch = sweep.current_launch(sweep_dir)
    frames, stale = [], 0
    for path in sorted(Path(sweep_dir).rglob(RESULT), key=lambda p: str(p)):
        payload, problem = read_result(path)
        if payload is None:  # cannot tell its launch: kept, as an error that names the file
            payload = error_payload({}, problem)
        job = payload.get("job", {})
        if launch is not None and job and job.get("launch") != launch:
            stale += 1
            continue
        tags = {"job": job.get("num"), "overrides": " ".join(job.get("overrides", [])), "job_dir": str(path.parent)}
        if payload["status"] == "ok":
            frames.append(pd.DataFrame(payload["rows"]).assign(**tags))
        else:
            frames.append(pd.DataFrame([{**error_row(payload.get("error", "")), **tags}]))
    df = ordered(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()
    df.attrs["stale"] = stale
    return df


def collect(sweep_dir: Path) -> pd.DataFrame:
    df = gather(sweep_dir)
    if not df.empty:
        write_table(df, Path(sweep_dir))
    return df


def failed_jobs(df: pd.DataFrame) -> list[str]:
    """The directories of jobs that failed, or in which an algorithm failed."""
    if df.empty or "status" not in df:
        return []
    return sorted(set(df.loc[df.status.map(failed), "job_dir"].astype(str)))


class CollectCallback(Callback):
    """Locks the sweep directory and writes its provenance.json when a multirun starts; gathers its results,
    names the failed jobs and releases the lock when it ends (``failed`` then makes the command exit 1)."""

    failed: list[str] = []

    def on_multirun_start(self, config, **kwargs) -> None:
        n_jobs = sweep.count_jobs(dict(config.hydra.sweeper.get("params") or {}), list(config.hydra.overrides.task))
        sweep.start(Path(config.hydra.sweep.dir), n_jobs)
        provenance.write(Path(config.hydra.sweep.dir))
        print(f"sweep of {n_jobs if n_jobs is not None else 'the'} jobs into {config.hydra.sweep.dir}; one line "
              "per finished job (verbose=true: each job's table)")

    def on_multirun_end(self, config, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            df = collect(sweep_dir)
            CollectCallback.failed = failed_jobs(df)
            print(f"gathered {len(df)} rows ({len(CollectCallback.failed)} failed jobs) into "
                  f"{sweep_dir / 'results.parquet'}")
            if CollectCallback.failed:
                print(f"failed jobs: {', '.join(CollectCallback.failed)}", file=sys.stderr)
        finally:
            sweep.finish(sweep_dir)


class ReportCallback(Callback):
    """When a sweep ends, writes a report of it: ``writer`` is a ``module.function`` that takes the sweep
    directory and returns the file it wrote (an experiment's yaml names it, e.g. bench.chains_report.write)."""

    def __init__(self, writer: str, label: str) -> None:
        self.writer, self.label = writer, label

    def on_multirun_end(self, config, **kwargs) -> None:
        from hydra.utils import get_method

        print(f"{self.label}: {get_method(self.writer)(Path(config.hydra.sweep.dir))}")


def report_command(write: Callable[[Path], Path], script: str) -> None:
    """``python bench/<script> SWEEP_DIR``: write the report and print it; exit 2 without a directory."""
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print(f"usage: python bench/{script} SWEEP_DIR", file=sys.stderr)
        sys.exit(2)
    print(write(Path(sys.argv[1])).read_text())


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python bench/collect.py SWEEP_DIR", file=sys.stderr)
        return 2
    table = collect(Path(argv[0]))
    if table.empty:
        print(f"error: no job results (result.json) below {argv[0]}", file=sys.stderr)
        return 2
    stale = f"; {table.attrs['stale']} result(s) of earlier launches left out" if table.attrs.get("stale") else ""
    print(f"{len(table)} rows written to {Path(argv[0]) / 'results.parquet'} and results.csv{stale}")
    failed = failed_jobs(table)
    if failed:
        print(f"failed jobs: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
