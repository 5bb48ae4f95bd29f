"""A sweep directory's launches: one sweep at a time, and which jobs belong to the latest launch.

- ``start`` (when a multirun starts) takes ``.sweep.lock`` (pid, host) or refuses, naming the sweep that holds
  it; a lock whose process is gone (a crashed or killed sweep) is taken over. It writes ``launch.json`` with a
  fresh launch id.
- Every job records the launch id in its ``result.json`` (a resumed job that is skipped re-records it), so
  the gathered table holds exactly the jobs of the latest launch, whatever an earlier launch left behind.
- ``finish`` (when the multirun ends) releases the lock.
"""

from __future__ import annotations

import json
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


def start(sweep_dir: Path) -> str:
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
    write_json(sweep_dir / LAUNCH, {"launch": launch, "started": started, "argv": sys.argv})
    return launch


def finish(sweep_dir: Path) -> None:
    lock = Path(sweep_dir) / LOCK
    other = holder(sweep_dir)
    if other is not None and other.get("pid") == os.getpid() and other.get("host") == socket.gethostname():
        lock.unlink(missing_ok=True)


def current_launch(sweep_dir: Path) -> str | None:
    """The latest launch's id, None for a directory made before launches were recorded (or not a sweep)."""
    try:
        return str(json.loads((Path(sweep_dir) / LAUNCH).read_text())["launch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
