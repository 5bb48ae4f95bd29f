"""Per-job results and their gathering.

Every job writes ``result.json`` atomically (a temporary file renamed into place), so a killed job leaves
either a whole result or none. At the end of a sweep (Hydra callback) or by hand:

    python bench/collect.py SWEEP_DIR     # (re)writes SWEEP_DIR/results.parquet and results.csv

gathers every job's rows (schema: bench/results.py); a failed job is one row with status ``error``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.experimental.callback import Callback

from bench import provenance
from bench.results import error_row, ordered, write_table

RESULT = "result.json"


def write_result(out_dir: Path, payload: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{RESULT}.tmp"
    tmp.write_text(json.dumps(payload, indent=1, default=str))
    os.replace(tmp, out_dir / RESULT)


def finished(out_dir: Path) -> bool:
    """True when the job in ``out_dir`` already has a successful result (for ``resume=true``)."""
    try:
        return json.loads((out_dir / RESULT).read_text()).get("status") == "ok"
    except (OSError, json.JSONDecodeError):
        return False


def ok_payload(job: dict[str, Any], df: pd.DataFrame) -> dict[str, Any]:
    return {"status": "ok", "job": job, "rows": json.loads(df.to_json(orient="records"))}


def error_payload(job: dict[str, Any], message: str) -> dict[str, Any]:
    return {"status": "error", "job": job, "error": message}


def gather(sweep_dir: Path) -> pd.DataFrame:
    """All rows of all jobs below ``sweep_dir``, with the job's number and overrides."""
    frames = []
    for path in sorted(Path(sweep_dir).rglob(RESULT), key=lambda p: str(p)):
        try:
            payload = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            payload = error_payload({}, f"unreadable {path}: {err}")
        job = payload.get("job", {})
        tags = {"job": job.get("num"), "overrides": " ".join(job.get("overrides", [])), "job_dir": str(path.parent)}
        if payload.get("status") == "ok":
            frames.append(pd.DataFrame(payload["rows"]).assign(**tags))
        else:
            frames.append(pd.DataFrame([{**error_row(payload.get("error", "")), **tags}]))
    return ordered(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()


def collect(sweep_dir: Path) -> pd.DataFrame:
    df = gather(sweep_dir)
    if not df.empty:
        write_table(df, Path(sweep_dir))
    return df


class CollectCallback(Callback):
    """Writes the sweep's provenance.json when a multirun starts and gathers its results when it ends."""

    def on_multirun_start(self, config, **kwargs) -> None:
        provenance.write(Path(config.hydra.sweep.dir))

    def on_multirun_end(self, config, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        df = collect(sweep_dir)
        errors = int((df.solver_status == "error").sum()) if not df.empty else 0
        print(f"gathered {len(df)} rows ({errors} failed jobs) into {sweep_dir / 'results.parquet'}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print("usage: python bench/collect.py SWEEP_DIR", file=sys.stderr)
        sys.exit(2)
    table = collect(Path(sys.argv[1]))
    print(f"{len(table)} rows written to {Path(sys.argv[1]) / 'results.parquet'} and results.csv")
