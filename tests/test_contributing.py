"""docs/contributing.md's examples work as written: a copy of the project gets the example algorithm module
(one file), the example family (a generator module and one yaml), and they run through bench/run.py, the
CLI and the contract tests without touching any other file; and every test that depends on the registry
or the config lists (marker ``registry``) still passes with them present."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from factories import ROOT, copy_project

pytestmark = pytest.mark.xdist_group("test_contributing")   # its tests share an expensive module fixture

DOC = ROOT / "docs" / "contributing.md"
PYTEST = [sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider"]   # the copy's own settings


def blocks() -> dict[str, str]:
    """The code blocks of the page, keyed by the file their ``<!-- file: ... -->`` marker names."""
    pattern = re.compile(r"<!-- file: (\S+) -->\n```\w+\n(.*?)```", re.S)
    return {path: code for path, code in pattern.findall(DOC.read_text())}


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    """A copy of the project with the page's files added; returns (root, env for subprocesses)."""
    root = tmp_path_factory.mktemp("contrib") / "project"
    files = blocks()
    assert set(files) == {"solvers/algorithms/greedy_fill.py", "bpr/ring.py", "conf/instance/ring.yaml"}
    return root, copy_project(root, files)


def test_the_page_adds_one_file_per_algorithm_and_two_per_family(project):
    root, _ = project
    added = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and not (ROOT / p.relative_to(root)).exists())
    assert added == ["bpr/ring.py", "conf/instance/ring.yaml", "solvers/algorithms/greedy_fill.py"]


def test_example_algorithm_and_family_through_the_harness(project, tmp_path):
    root, env = project
    out = subprocess.run([sys.executable, str(root / "bench" / "run.py"), "instance=ring", "instance.hop_rtt_s=0.05",
                          "algorithms=[cg_bprr,greedy-fill]", "algorithm.greedy-fill.headroom=1.5",
                          f"hydra.run.dir={tmp_path}"], capture_output=True, text=True, env=env, cwd=root)
    assert out.returncode == 0, out.stderr
    df = pd.read_parquet(tmp_path / "results.parquet").set_index("algorithm")
    row = df.loc["greedy-fill"]
    assert row.check_status == "feasible" and row.p_headroom == 1.5 and row.largest_range > 0
    assert row.per_token_s > 0 and row.runtime_s > 0 and row.p_instance_hop_rtt_s == 0.05
    inst = json.loads((tmp_path / "instance.json").read_text())
    assert inst["name"] == "ring-s0" and len(inst["servers"]) == 8 and inst["generator"] == "ring"
    # raw RTT of server n1 (ring distance 1) at 0.05 s per hop, plus the geo overhead 0.100 s
    assert inst["t"][0][0] == pytest.approx(0.05 + 0.100)
    # headroom 1.5: each A100 hosts floor(86.13 / (s_m + s_c R 1.5)) blocks
    s_m, s_c, R = inst["model"]["s_m"], inst["s_c"], inst["workload"]["R"]
    assert row.largest_range == min(int(86.13 / (s_m + s_c * R * 1.5) + 1e-9), 70)


def test_example_through_the_cli_and_the_registry_listing(project, tmp_path):
    root, env = project

    def bpr(*args):
        return subprocess.run([sys.executable, "-m", "bpr", *map(str, args)], capture_output=True, text=True,
                              env=env, cwd=root)

    assert bpr("instance", "ring", "--set", "servers=12", "--out", tmp_path / "i.json").returncode == 0
    out = bpr("solve", tmp_path / "i.json", "--algorithm", "greedy-fill", "--option", "headroom=1.5",
              "--out", tmp_path / "s.json")
    assert out.returncode == 0, out.stderr
    sol = json.loads((tmp_path / "s.json").read_text())
    assert sol["settings"] == {"seed": 0, "headroom": 1.5} and sol["status"] == "feasible"
    assert bpr("check", tmp_path / "i.json", tmp_path / "s.json").returncode == 0
    bad = bpr("solve", tmp_path / "i.json", "--algorithm", "greedy-fill", "--option", "headrom=1", "--out", "x.json")
    assert bad.returncode == 2 and "unknown greedy-fill option 'headrom'; known: headroom" in bad.stderr
    listing = json.loads(bpr("algorithms").stdout)
    assert {"name": "greedy-fill", "kind": "solution", "uses_solver": False,
            "summary": "Fill blocks 1..L in order, largest servers first; route every client on its shortest chain.",
            "options": {"headroom": 1.0},
            "option_docs": {"headroom": {"type": "float", "default": 1.0,
                                         "meaning": "cache for headroom x R requests on every hosted block"}},
            "columns": ["largest_range"]} in listing["offline"]


def test_the_contract_tests_cover_the_example(project):
    root, env = project
    out = subprocess.run([*PYTEST, "-k", "greedy-fill", str(root / "tests" / "test_contract.py")],
                         capture_output=True, text=True, env=env, cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"\b5 passed\b", out.stdout), out.stdout   # 3 instances, same seed, options


def test_the_suite_stays_green_with_the_page_followed(project, request):
    """Tests that enumerate algorithms, instances or config lists must not depend on today's sets: in the copy
    with the page's files, every such test (marker ``registry``) that the files add a case to, and every one
    that takes a whole list at once, passes. (The cases that exist without the files run in this session.)"""
    root, env = project
    listed = subprocess.run([*PYTEST, "--collect-only", "-m", "registry", str(root / "tests")], capture_output=True,
                            text=True, env=env, cwd=root)
    assert listed.returncode == 0, listed.stdout[-3000:] + listed.stderr[-2000:]
    in_copy = {line for line in listed.stdout.splitlines() if "::" in line}
    here = {item.nodeid for item in request.session.items if item.get_closest_marker("registry")}
    wanted = sorted(node for node in in_copy if node not in here or "[" not in node)
    assert any("greedy-fill" in node for node in wanted) and any("ring" in node for node in wanted)
    out = subprocess.run([*PYTEST, *wanted], capture_output=True, text=True, env=env, cwd=root)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert re.search(rf"\b{len(wanted)} passed\b", out.stdout), out.stdout[-2000:]
