"""docs/contributing.md's examples work as written: a copy of the project gets the example algorithm module
(one file), the example family (a generator module and one yaml), and they run through bench/run.py, the
CLI and the contract tests without touching any other file; and every test that depends on the registry
or the config lists (marker ``registry``) still passes with them present."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from factories import PARTS, ROOT, copy_project

pytestmark = pytest.mark.xdist_group("test_contributing")   # its tests share an expensive module fixture

DOC = ROOT / "docs" / "contributing.md"
PYTEST = [sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider"]   # the copy's own settings


def blocks() -> dict[str, str]:
    """The code blocks of the page, keyed by the file their ``<!-- file: ... -->`` marker names."""
    pattern = re.compile(r"<!-- file: (\S+) -->\n```\w+\n(.*?)```", re.S)
    return {path: code for path, code in pattern.findall(DOC.read_text())}


def commands() -> list[list[str]]:
    """The page's commands in order: every line of its ``<!-- commands -->`` blocks, split as the shell
    would, ``.venv/bin/python`` being the test's own Python."""
    text = "\n".join(re.findall(r"<!-- commands -->\n```bash\n(.*?)```", DOC.read_text(), re.S))
    lines = [shlex.split(line, comments=True) for line in text.splitlines()]
    return [[sys.executable if word == ".venv/bin/python" else word for word in words] for words in lines if words]


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    """A copy of the project with the page's files added; returns (root, env for subprocesses)."""
    root = tmp_path_factory.mktemp("contrib") / "project"
    files = blocks()
    assert set(files) == {"solvers/algorithms/greedy_fill.py", "bpr/ring.py", "conf/instance/ring.yaml"}
    return root, copy_project(root, files)


def project_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for part in PARTS if (root / part).exists() for p in (root / part).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_the_page_adds_one_file_per_algorithm_and_two_per_family(project):
    """The copy differs from the project by the page's files only (also in a checkout where the page was
    already followed: its files are then the project's too)."""
    root, _ = project
    page = set(blocks())
    assert project_files(root) - (project_files(ROOT) - page) == page


@pytest.fixture(scope="session")
def followed(project):
    """The page's commands, run in order in the copy as written; (root, their outputs)."""
    root, env = project
    done = []
    for words in commands():
        out = subprocess.run(words, capture_output=True, text=True, env=env, cwd=root, timeout=600)
        assert out.returncode == 0, f"{shlex.join(words)}: {out.stderr[-2000:]}"
        done.append(out)
    return root, done


def test_the_pages_commands_run_as_written(followed):
    root, outputs = followed
    assert len(outputs) == len(commands()) >= 7
    assert (root / "inst.json").exists() and (root / "ring.json").exists()
    listing = outputs[4].stdout          # bpr algorithms --format table: a listing for people
    assert "greedy-fill (solution): Fill blocks 1..L in order" in listing
    assert "headroom: float = 1.0  (cache for headroom x R requests on every hosted block)" in listing
    assert "columns: largest_range" in listing


def test_example_algorithm_and_family_through_the_harness(followed):
    root, _ = followed
    df = pd.read_parquet(next((root / "outputs" / "ring").iterdir()) / "results.parquet").set_index("algorithm")
    row = df.loc["greedy-fill"]
    assert row.check_status == "feasible" and row.p_headroom == 1.0 and row.largest_range > 0
    assert row.per_token_s > 0 and row.runtime_s > 0 and row.p_instance_hop_rtt_s == 0.05
    run = next((root / "outputs" / "ring").iterdir())
    inst = json.loads((run / "instance.json").read_text())
    assert inst["name"] == "ring-s0" and len(inst["servers"]) == 8 and inst["generator"] == "ring"
    # raw RTT of server n1 (ring distance 1) at 0.05 s per hop, plus the geo overhead 0.100 s
    assert inst["t"][0][0] == pytest.approx(0.05 + 0.100)
    above = pd.read_parquet(next((root / "outputs" / "abovenet").iterdir()) / "results.parquet")
    row = above.set_index("algorithm").loc["greedy-fill"]
    assert row.p_headroom == 1.5 and row.check_status == "feasible"
    # headroom 1.5: each A100 hosts floor(86.13 / (s_m + s_c R 1.5)) blocks
    inst = json.loads((next((root / "outputs" / "abovenet").iterdir()) / "instance.json").read_text())
    s_m, s_c, R = inst["model"]["s_m"], inst["s_c"], inst["workload"]["R"]
    assert row.largest_range == min(int(86.13 / (s_m + s_c * R * 1.5) + 1e-9), 70)
    assert len(json.loads((root / "ring.json").read_text())["servers"]) == 12


def test_example_through_the_cli_and_the_registry_listing(followed, project, tmp_path):
    root, _ = followed
    _, env = project

    def bpr(*args):
        return subprocess.run([sys.executable, "-m", "bpr", *map(str, args)], capture_output=True, text=True,
                              env=env, cwd=root)

    sol = json.loads((root / "sol.json").read_text())
    assert sol["settings"] == {"seed": 0, "headroom": 1.5} and sol["status"] == "feasible"
    bad = bpr("solve", "inst.json", "--algorithm", "greedy-fill", "--option", "headrom=1", "--out", tmp_path / "x.json")
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
    # the page's files add cases (run here already where the page was followed in this checkout too)
    assert any("greedy-fill" in node for node in in_copy) and any("ring" in node for node in in_copy)
    out = subprocess.run([*PYTEST, *wanted], capture_output=True, text=True, env=env, cwd=root)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert re.search(rf"\b{len(wanted)} passed\b", out.stdout), out.stdout[-2000:]
