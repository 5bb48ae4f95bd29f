"""Installed as users install it: a wheel of the checkout in a fresh virtual environment, run from another
directory through its console commands, writes the same table as ``python bench/run.py`` with the commit,
host, CPU and versions in every row (conf/ and instances/ ship as the package data bench.conf and bpr.data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest

from bench.job import default_names

pytestmark = pytest.mark.xdist_group("test_install")   # its tests share an expensive module fixture

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def venv(tmp_path_factory):
    """A new venv holding only the wheel; the dependencies come from this environment through a .pth line
    (so the test runs offline), which does not run this environment's editable-install hook."""
    base = tmp_path_factory.mktemp("install")
    # setuptools builds below the test's own directory, not in the checkout's build/ (a second run at the same
    # commit would find the first one's files there)
    (base / "build.cfg").write_text(f"[build]\nbuild_base = {base / 'build'}\n")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(base / "dist"), str(ROOT)], capture_output=True, text=True,
                           env={**os.environ, "DIST_EXTRA_CONFIG": str(base / "build.cfg")})
    assert build.returncode == 0, build.stderr
    wheel = next((base / "dist").glob("bpr_bench-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(base / "venv")], check=True)
    python = base / "venv" / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                              "--no-index", "-q", str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    return base / "venv", site


def test_the_wheel_is_what_runs(venv):
    env, site = venv
    out = subprocess.run([str(env / "bin" / "python"), "-c",
                          "import bpr, solvers, bench, bench.conf, bpr.data; from bench.configs import CONF_DIR; "
                          "from bpr.paths import DATA_DIR; print(bpr.__file__, CONF_DIR, DATA_DIR)"],
                         capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    assert all(str(site) in path for path in out.stdout.split())
    # no generic top-level names (conf, instances) in the user's environment
    top = subprocess.run([str(env / "bin" / "python"), "-c", "import importlib.util as u; "
                          "print([m for m in ('conf', 'instances') if u.find_spec(m)])"],
                         capture_output=True, text=True, cwd="/")
    assert top.stdout.strip() == "[]"


def test_console_commands_from_another_directory_give_the_same_table(venv, tmp_path):
    env, _ = venv
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    wheel_run = subprocess.run([str(env / "bin" / "bpr-bench"), "instance=bellcanada"], capture_output=True,
                               text=True, cwd=elsewhere)
    assert wheel_run.returncode == 0, wheel_run.stderr
    run_dir = next((elsewhere / "outputs" / "bellcanada").iterdir())
    source_run = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "instance=bellcanada",
                                 f"hydra.run.dir={tmp_path / 'source'}"], capture_output=True, text=True)
    assert source_run.returncode == 0, source_run.stderr
    a, b = (pd.read_parquet(d / "results.parquet") for d in (run_dir, tmp_path / "source"))
    same = ["instance", "algorithm", "status", "check_status", "per_token_s", "blocks_per_gpu", "guarantee_s"]
    assert a[same].equals(b[same]) and len(a) == len(default_names("offline"))
    assert a.git_commit.str.fullmatch("[0-9a-f]{40}").all() and (a.git_commit == b.git_commit).all()
    for col in ("host", "cpu", "cpu_count", "python", "highspy", "pyomo", "numpy", "networkx", "hydra_core"):
        assert a[col].notna().all() and (a[col] == b[col]).all()
    assert "instance bellcanada-s0: 26 servers" in (run_dir / "run.log").read_text()
    # the table printed on the console is the same too (runtimes aside)
    rows = slice(1, 2 + len(a))     # the header line and one line per algorithm
    strip = [line.rsplit(maxsplit=1)[0] for line in wheel_run.stdout.splitlines()[rows]]
    assert strip == [line.rsplit(maxsplit=1)[0] for line in source_run.stdout.splitlines()[rows]]


def test_bpr_command_from_another_directory(venv, tmp_path):
    env, _ = venv
    bpr = str(env / "bin" / "bpr")
    made = subprocess.run([bpr, "instance", "abovenet", "--out", "i.json"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    solved = subprocess.run([bpr, "solve", "i.json", "--algorithm", "cg_bprr", "--out", "s.json"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert solved.returncode == 0, solved.stderr
    same = subprocess.run([sys.executable, "-m", "bpr", "solve", str(tmp_path / "i.json"), "--algorithm", "cg_bprr",
                           "--out", str(tmp_path / "t.json")], capture_output=True, text=True)
    assert json.loads(solved.stdout)["objective"] == json.loads(same.stdout)["objective"]
