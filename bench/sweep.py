"""A sweep directory's launches: one sweep at a time, and which jobs belong to the latest launch.

- ``start`` (when a multirun starts) takes ``.sweep.lock`` (pid, host) or refuses, naming the sweep that holds
  it; a lock whose process is gone (a crashed or killed sweep) is taken over. It writes ``launch.json`` with a
  fresh launch id.
- Every job records the launch id in its ``result.json`` (a resumed job that is skipped re-records it), so
  the gathered table holds exactly the jobs of the latest launch, whatever an earlier launch left behind.
- ``finish`` (when the multirun ends) releases the lock.
- ``launch.json`` also holds the launch's start time and its number of jobs (``count_jobs``), so that each job
  can say how far the sweep is (``bench/collect.py`` ``progress``).
"""

from __future__ import annotations

import json
import math
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bpr.files import write_json

LOCK = ".sweep.lock"
LAUNCH = "launch.json"
DONE = "jobs_done.log"   # one line per finished job: launch id, job number, status (appends are atomic)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def holder(sweep_dir: Path) -> dict[str, Any] | None:
    """The live sweep that holds the lock, or None (no lock, or its process is gone on this host)."""
    try:
        lock = json.loads((Path(sweep_dir) / LOCK).read_text())
        pid, host = int(lock["pid"]), str(lock["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if host == socket.gethostname() and not _alive(pid):
        return None
    return lock


def count_jobs(params: dict[str, Any], task: list[str]) -> int | None:
    """The number of jobs Hydra's basic sweeper makes of the sweeper's ``params`` and the command line's
    ``task`` overrides (a command-line key replaces the same key of ``params``): the product of the sizes of
    the sweep overrides; None when one cannot be counted before it runs (``glob``)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ValueType

    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()] + list(task))
    sizes = {}
    for override in parsed:
        if override.is_sweep_override():
            if override.value_type is ValueType.GLOB_CHOICE_SWEEP:
                return None
            sizes[override.key_or_group] = len(list(override.sweep_iterator()))
        else:
            sizes.pop(override.key_or_group, None)
    return math.prod(sizes.values())


def start(sweep_dir: Path, n_jobs: int | None = None) -> str:
    """Lock the sweep directory for this process and open a new launch; exit 2 if another sweep runs there."""
    sweep_dir = Path(sweep_dir)
    other = holder(sweep_dir)
    if other is not None and other.get("pid") != os.getpid():
        print(f"error: {sweep_dir} is in use by another sweep (pid {other['pid']} on {other['host']}, since "
              f"{other.get('started', '?')}); choose another hydra.sweep.dir, or delete {sweep_dir / LOCK} if "
              "that sweep is gone", file=sys.stderr)
        sys.exit(2)
    launch = uuid.uuid4().hex
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    write_json(sweep_dir / LOCK, {"pid": os.getpid(), "host": socket.gethostname(), "started": started})
    write_json(sweep_dir / LAUNCH, {"launch": launch, "started": started, "started_epoch": time.time(),
                                    "n_jobs": n_jobs, "argv": sys.argv})
    return launch


def finish(sweep_dir: Path) -> None:
    lock = Path(sweep_dir) / LOCK
    other = holder(sweep_dir)
    if other is not None and other.get("pid") == os.getpid() and other.get("host") == socket.gethostname():
        lock.unlink(missing_ok=True)


def launch_info(sweep_dir: Path) -> dict[str, Any]:
    """The latest launch's ``launch.json`` ({} for a directory made before launches were recorded)."""
    try:
        info = json.loads((Path(sweep_dir) / LAUNCH).read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def current_launch(sweep_dir: Path) -> str | None:
    """The latest launch's id, None for a directory made before launches were recorded (or not a sweep)."""
    launch = launch_info(sweep_dir).get("launch")
    return None if launch is None else str(launch)


def job_done(sweep_dir: Path, job_num: int, status: str, seconds: float, what: str) -> str:
    """Record that job ``job_num`` of the latest launch ended, and say so in one line: which job, how long
    it took, how many of the launch's jobs are done, the time since the launch and an estimate of the rest
    (elapsed time per finished job, jobs running in parallel included)."""
    info = launch_info(sweep_dir)
    launch = str(info.get("launch"))
    with open(Path(sweep_dir) / DONE, "a", encoding="utf-8") as f:
        f.write(f"{launch} {job_num} {status}\n")
    done = sum(1 for line in (Path(sweep_dir) / DONE).read_text().splitlines() if line.split(" ")[0] == launch)
    n = info.get("n_jobs")
    elapsed = time.time() - float(info.get("started_epoch", time.time()))
    left = f", about {_duration(elapsed / done * (n - done))} left" if n and done < n else ""
    of = f"{done}/{n}" if n else f"{done}"
    return f"[{of} done, {_duration(elapsed)}{left}] job {job_num} {status} in {_duration(seconds)}: {what}"


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}h{rest // 60:02d}m" if h else f"{rest // 60}m{rest % 60:02d}s" if rest >= 60 else f"{rest}s"
