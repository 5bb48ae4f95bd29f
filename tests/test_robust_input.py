"""Bad input, whatever it is, gets one line naming the problem and exit 2; nothing computed is lost; what is
written is standard JSON, never through a symlink, never outside its directory; sizes are limited."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import tiny
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.cli import main as cli
from bench.instance_builder import make_instance
from bpr.errors import BprInputError
from bpr.files import dumps, write_json
from bpr.simulator import retry_instant
from solvers.algorithms import cg_bprr

ROOT = Path(__file__).resolve().parents[1]


def bpr(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "bpr", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def one_line_exit_2(out: subprocess.CompletedProcess, message: str) -> None:
    assert out.returncode == 2, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert message in out.stderr


def in_process(capsys, *args) -> subprocess.CompletedProcess:
    """``python -m bpr ARGS`` without a new interpreter (an escaping exception fails the test as a traceback
    would)."""
    code = cli([str(a) for a in args])
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, captured.out, captured.err)


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("robust")
    inst = make_instance("clustered", 0, {"workload.R": 3})
    inst.save(d / "i.json")
    cg_bprr.solve(inst).save(d / "s.json")
    return d


def edited(files: Path, name: str, edit) -> Path:
    data = json.loads((files / "i.json").read_text())
    edit(data)
    path = files / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def _set(path, value):
    def edit(d):
        *keys, last = path
        for k in keys:
            d = d[k]
        d[last] = value
    return edit


@pytest.mark.parametrize("name, edit, message", [
    ("huge-M", _set(["servers", 0, "M"], 1e20), "servers[0].M: must be at most 1e+06 (size limit"),
    ("huge-tau", _set(["servers", 0, "tau"], 1e308), "servers[0].tau: must be at most"),
    ("huge-t", _set(["t", 0, 0], 1e308), "t: every entry must be finite, >= 0 and at most"),
    ("huge-lout", _set(["workload", "l_out"], 1e308), "workload.l_out: must be at most 1000000"),
    ("huge-R", _set(["workload", "R"], 10**9), "workload.R: must be at most 100000"),
    ("bool-in-t", _set(["t", 0, 0], True), "t[0][0]: expected a number, got True"),
    ("string-in-t", _set(["t", 0, 1], "0.5"), "t[0][1]: expected a number, got '0.5'"),
    ("string-in-rtt", _set(["rtt_ss", 0, 1], "1"), "rtt_ss[0][1]: expected a number, got '1'"),
    ("ragged-rtt", _set(["rtt_ss", 0], [0.1]), "rtt_ss: expected a list of equally long rows"),
])
def test_bad_instance_files_exit_2_naming_the_field(files, capsys, name, edit, message):
    one_line_exit_2(in_process(capsys, "solve", edited(files, name, edit), "--algorithm", "cg_bprr", "--out",
                               files / "o.json"), message)


@pytest.mark.parametrize("args, message", [
    (("instance", "abovenet", "--seed", "-1"), "seed: must be >= 0, got -1"),
    (("instance", "abovenet", "--set", "workload.arrival_rate=abc"), "workload.arrival_rate: Value 'abc'"),
    (("instance", "abovenet", "--set", "generator=foo"), "unknown instance parameter 'generator'"),
    (("instance", "abovenet", "--set", "fiber_km_per_ms=0"), "fiber_km_per_ms: must be > 0"),
    (("instance", "clustered", "--set", "mig_servers=100000"), "mig_servers: must be at most 998 (size limit"),
    (("instance", "abovenet", "--set", "workload.n_requests=10000000"), "workload.n_requests: must be at most"),
    (("instance", "topozoo", "--set", "topology=../../tmp/evil"), "topohub has no topology '../../tmp/evil'"),
])
def test_bad_instance_commands_exit_2(tmp_path, capsys, args, message):
    one_line_exit_2(in_process(capsys, *args, "--out", tmp_path / "x.json"), message)


def test_a_device_or_a_directory_is_not_an_instance_file(tmp_path, capsys):
    one_line_exit_2(in_process(capsys, "solve", "/dev/zero", "--algorithm", "cg_bprr", "--out", tmp_path / "s.json"),
                    "'/dev/zero' is not a regular file")
    one_line_exit_2(in_process(capsys, "check", tmp_path, tmp_path), "is not a regular file")


def test_an_unwritable_out_is_refused_before_the_solve(files, tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    out = in_process(capsys, "solve", files / "i.json", "--algorithm", "milp", "--out", blocker / "s.json")
    one_line_exit_2(out, f"{blocker} is a file, not a directory")
    assert "runtime" not in out.stdout  # refused before any solve


def test_a_failed_export_is_a_message_beside_the_result(tmp_path, capsys):
    tiny(3, M=[10, 10], tau=[0.01, 0.02], t=[[0.1, 0.2]], R=2).save(tmp_path / "i.json")
    blocker = tmp_path / "afile"
    blocker.write_text("")
    out = in_process(capsys, "solve", tmp_path / "i.json", "--algorithm", "exact", "--solver",
                     f"export={blocker / 'm.lp'}", "--solver", "progress=false", "--out", tmp_path / "s.json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["status"] == "feasible" and "solver.export: cannot write" in payload["message"]
    assert json.loads((tmp_path / "s.json").read_text())["status"] == "feasible"


def test_the_run_directory_must_be_a_writable_directory(tmp_path, capsys):
    from bench.run import check_output_dirs

    blocker = tmp_path / "afile"
    blocker.write_text("")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "instance=abovenet",
                          f"hydra.run.dir={blocker}"], capture_output=True, text=True, cwd=tmp_path)
    one_line_exit_2(out, f"hydra.run.dir: cannot write {blocker / 'provenance.json'}")
    for key in ("hydra.run.dir", "hydra.sweep.dir"):
        with pytest.raises(SystemExit) as exc:
            check_output_dirs(["instance=abovenet", f"{key}={blocker / 'sub'}"])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and err == f"error: {key}: cannot write {blocker / 'sub' / 'provenance.json'}: " \
                                              f"{blocker} is a file, not a directory\n"


def test_an_instance_name_never_moves_the_run_directory(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "instance=abovenet",
                          "instance.name=../../x", "algorithms=[cg_bprr]"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    made = [p for p in tmp_path.rglob("result.json")]
    assert len(made) == 1 and made[0].is_relative_to(tmp_path / "outputs")
    assert not (tmp_path.parent / "x").exists()


def test_writes_never_go_through_a_symlink(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text("keep")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "result.json").symlink_to(target)
    with pytest.raises(BprInputError, match="refusing to write through the symlink"):
        write_json(tmp_path / "run" / "result.json", {"a": 1})
    (tmp_path / "linked").symlink_to(tmp_path / "run")
    with pytest.raises(BprInputError, match="refusing to write through the symlink"):
        write_json(tmp_path / "linked" / "other.json", {"a": 1})
    assert target.read_text() == "keep"


def test_json_is_standard_without_nan_or_infinity(tmp_path):
    import numpy as np

    text = dumps({"bound": -math.inf, "gap": math.nan, "x": np.float64(np.inf), "ok": [1.5, np.int64(2)]})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard {c}")) == \
        {"bound": None, "gap": None, "x": None, "ok": [1.5, 2]}


def test_a_time_limited_milp_writes_standard_json(tmp_path):
    inst = make_instance("abovenet", 0, {"workload.R": 6})
    inst.save(tmp_path / "i.json")
    out = bpr("solve", tmp_path / "i.json", "--algorithm", "milp", "--time-limit", "1", "--out", tmp_path / "m.json")
    assert out.returncode in (0, 1), out.stderr
    text = (tmp_path / "m.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard {c}"))


def test_retry_instants_need_no_loop_over_time():
    # 0, 1, 3, 7, 15, 31, 63, then every 60 s
    assert [retry_instant(0, r) for r in (0, 0.5, 2, 63, 64, 123.5, 1e12)] == \
        [0, 1, 3, 63, 123, 183, 63 + 60 * math.ceil((1e12 - 63) / 60)]


def test_online_petals_with_huge_link_times_ends(files, tmp_path):
    path = edited(files, "slow-links", _set(["t"], [[1e6] * 9]))
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "instance=file",
                          f"instance.file={path}", "mode=online", "algorithms=[petals]", "workload.R=3",
                          f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "petals" in out.stdout


def test_instance_file_without_a_path_says_what_is_missing(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "instance=file",
                          f"hydra.run.dir={tmp_path}"], capture_output=True, text=True)
    one_line_exit_2(out, "instance=file needs instance.file=PATH")


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                   max_size=3), max_leaves=6)


def _corrupt(data, path_choices, value, delete):
    """Replace (or delete) the value at a path chosen by ``path_choices`` (indices into each level)."""
    node = data
    for pick in path_choices:
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys:
            break
        key = keys[pick % len(keys)]
        child = node[key]
        if not isinstance(child, (dict, list)) or pick % 3 == 0:
            if delete and isinstance(node, dict):
                del node[key]
            else:
                node[key] = value
            return data
        node = child
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["i.json", "s.json"]), path=st.lists(st.integers(0, 50), min_size=1, max_size=5),
       value=JSON, delete=st.booleans(), cut=st.one_of(st.none(), st.integers(0, 4000)),
       command=st.sampled_from(["check", "evaluate", "solve"]))
def test_corrupted_files_get_exit_0_1_or_2_and_at_most_one_line(files, tmp_path_factory, capsys, which, path,
                                                                  value, delete, cut, command):
    d = tmp_path_factory.mktemp("corrupt")
    for name in ("i.json", "s.json"):
        text = (files / name).read_text()
        if name == which:
            text = json.dumps(_corrupt(json.loads(text), path, value, delete))
            text = text[:cut] if cut is not None else text
        (d / name).write_text(text)
    args = {"check": ["check", d / "i.json", d / "s.json"], "evaluate": ["evaluate", d / "i.json", d / "s.json"],
            "solve": ["solve", d / "i.json", "--algorithm", "cg_bprr", "--out", d / "o.json"]}[command]
    try:
        code = cli([str(a) for a in args])
    except SystemExit as exc:  # argparse
        code = exc.code
    err = capsys.readouterr().err
    assert code in (0, 1, 2)
    assert len(err.strip().splitlines()) <= 1, err
    if os.path.exists(d / "o.json"):
        json.loads((d / "o.json").read_text(), parse_constant=lambda c: pytest.fail(f"non-standard {c}"))


def test_a_skipped_milp_row_prints_no_empty_build_times(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "instance=abovenet",
                          "algorithms=[cg_bprr,milp]", "solver.max_vars=1000", f"hydra.run.dir={tmp_path}"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "milp: too large: " in out.stdout and "build  s" not in out.stdout and "load  s" not in out.stdout
