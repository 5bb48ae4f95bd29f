"""Where a number was measured: git commit (and whether the tree was dirty), host, CPU, Python and the
versions of the libraries that decide results and speed. Every result row carries these columns, and every
run or sweep directory gets one ``provenance.json``."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import bpr
from bpr.files import write_json
from bpr.schema import LIBRARIES

FILE = "provenance.json"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str | None:
    """Output of git in the checkout this code runs from; None outside a checkout (an installed wheel)."""
    try:
        out = subprocess.run(["git", *args], cwd=Path(bpr.__file__).resolve().parents[1], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _commit() -> tuple[str, bool | None]:
    """(full commit hash, dirty) from the live checkout, else from the build (``bpr/_build.py``, written by
    setuptools-scm when the wheel is built: ``node`` is ``g`` + the commit)."""
    head = _git("rev-parse", "HEAD")
    if head:
        return head, bool(_git("status", "--porcelain", "--untracked-files=no"))
    try:
        from bpr import _build
    except ImportError:
        return "unknown", None
    return str(_build.node).removeprefix("g"), bool(_build.dirty)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@cache
def provenance() -> dict[str, Any]:
    """The provenance columns (computed once per process)."""
    commit, dirty = _commit()
    out: dict[str, Any] = {"git_commit": commit, "git_dirty": dirty, "host": socket.gethostname(), "cpu": _cpu(),
                           "cpu_count": os.cpu_count(), "python": platform.python_version(),
                           "bpr_bench": package_version("bpr-bench")}
    out.update({lib.replace("-", "_"): package_version(lib) for lib in LIBRARIES})
    return out


def write(directory: Path, **extra: Any) -> Path:
    """``provenance.json`` of a run or sweep (with the command line that started it)."""
    return write_json(directory / FILE, {**provenance(), "argv": sys.argv, **extra})
