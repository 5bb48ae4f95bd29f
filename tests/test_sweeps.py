"""Sweeps: one results table per sweep with one row group per job as launched (failed and killed jobs kept),
the joblib launcher, resume by overrides after a kill or with a changed grid, one sweep per directory."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.collect import collect, finished

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "bench" / "run.py"


def sweep(sweep_dir, *overrides):
    return subprocess.run([sys.executable, str(RUN), "-m", f"hydra.sweep.dir={sweep_dir}", *overrides],
                          capture_output=True, text=True, cwd=sweep_dir.parent)


def jobs(root: Path) -> dict[str, tuple[Path, dict]]:
    """seed=N / instance=X,seed=N ... -> (job directory, result payload), from the results themselves."""
    out = {}
    for path in root.rglob("result.json"):
        payload = json.loads(path.read_text())
        key = ",".join(sorted(o for o in payload["job"]["overrides"] if not o.startswith(("resume", "algorithms"))))
        out[key] = (path.parent, payload)
    return out


def test_grid_with_a_failing_job_gives_one_table_and_exit_1(tmp_path):
    out = sweep(tmp_path / "s", "instance=abovenet", "instance.servers=5,40", "seed=0,1", "algorithms=[cg_bprr,petals]")
    assert out.returncode == 1, out.stderr
    df = pd.read_parquet(tmp_path / "s" / "results.parquet")
    ok, failed = df[df.status != "error"], df[df.status == "error"]
    assert len(ok) == 2 * 2 and set(ok.seed) == {0, 1} and set(ok.algorithm) == {"cg_bprr", "petals"}
    assert len(failed) == 2 and failed.message.str.contains("at most 21 servers").all()
    assert failed.overrides.str.contains("instance.servers=40").all()
    # the failed jobs are named on stderr, by directory
    named = out.stderr.strip().splitlines()[-1]
    assert named.startswith("failed jobs: ") and all(d in named for d in failed.job_dir)
    assert pd.read_csv(tmp_path / "s" / "results.csv").shape == df.shape
    assert json.loads((tmp_path / "s" / "provenance.json").read_text())["git_commit"] == ok.git_commit.iloc[0]
    # one line per finished job that counts them (no per-job table, no Hydra banner)
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("sweep of 4 jobs") and len(lines) == 1 + 4 + 1
    assert [line.split(" done")[0] for line in lines[1:5]] == ["[1/4", "[2/4", "[3/4", "[4/4"]
    assert sum("failed in" in line and "at most 21 servers" in line for line in lines) == 2


LAUNCHED = ("instance=clustered,abovenet", "seed=3", "algorithms=[cg_bprr,petals]")
COLS = ["instance", "algorithm", "seed", "per_token_s"]


def table_of(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / "results.parquet")[COLS].sort_values(COLS[:3]).reset_index(drop=True)


@pytest.fixture(scope="session")
def basic(tmp_path_factory) -> Path:
    """The sweep LAUNCHED with Hydra's basic launcher, which the other launchers must reproduce."""
    root = tmp_path_factory.mktemp("launchers") / "basic"
    assert sweep(root, *LAUNCHED).returncode == 0
    return root


@pytest.mark.xdist_group("launchers")     # with the submitit test: one basic sweep for both
def test_basic_and_joblib_launchers_give_the_same_table(basic, tmp_path):
    out = sweep(tmp_path / "joblib", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *LAUNCHED)
    assert out.returncode == 0, out.stderr
    assert "JoblibLauncher" in (tmp_path / "joblib" / "multirun.yaml").read_text()
    a, b = table_of(basic), table_of(tmp_path / "joblib")
    assert len(a) == 4 and a.equals(b)
    # the same job lands in the same directory under either launcher
    assert [p.name for p in sorted(basic.glob("*/result.json"))] == \
        [p.name for p in sorted((tmp_path / "joblib").glob("*/result.json"))]


def test_resume_after_a_kill_redoes_only_unfinished_jobs(tmp_path):
    root = tmp_path / "s"
    args = ("instance=abovenet", "seed=0,1,2", "algorithms=[cg_bprr]")
    assert sweep(root, *args).returncode == 0
    before = jobs(root)
    # a kill leaves seed 1 without result.json (writes are atomic: at most a stray temporary file)
    (before["instance=abovenet,seed=1"][0] / "result.json").unlink()
    (before["instance=abovenet,seed=1"][0] / ".result.json.x.tmp").write_text('{"status": "ok", "rows": [')
    out = sweep(root, "resume=true", *args)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("skipped (resume)") == 2
    after = jobs(root)
    for seed in (0, 2):  # the same rows, not recomputed
        assert after[f"instance=abovenet,seed={seed}"][1]["rows"] == before[f"instance=abovenet,seed={seed}"][1]["rows"]
    assert finished(after["instance=abovenet,seed=1"][0], ["instance=abovenet", "seed=1", "algorithms=[cg_bprr]"])
    assert sorted(pd.read_parquet(root / "results.parquet").seed) == [0, 1, 2]


def test_resume_with_a_changed_grid_runs_exactly_the_new_jobs(tmp_path):
    root = tmp_path / "s"
    assert sweep(root, "instance=abovenet,clustered", "seed=0,1,2", "algorithms=[cg_bprr]").returncode == 0
    first = jobs(root)
    out = sweep(root, "resume=true", "instance=abovenet,clustered", "seed=0,1,2,3", "algorithms=[cg_bprr]")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("skipped (resume)") == 6
    second = jobs(root)
    assert set(second) - set(first) == {"instance=abovenet,seed=3", "instance=clustered,seed=3"}
    for key, (job_dir, payload) in first.items():  # every old job kept its directory and its rows
        assert second[key][0] == job_dir and second[key][1]["rows"] == payload["rows"]
    df = pd.read_parquet(root / "results.parquet")
    assert sorted(zip(df.scenario, df.seed)) == sorted((s, k) for s in ("abovenet", "clustered-c0") for k in range(4))
    # a result from other overrides in a job's directory is not taken for this job's
    job_dir, payload = jobs(root)["instance=abovenet,seed=3"]
    payload["job"]["overrides"] = ["instance=abovenet", "seed=4", "algorithms=[cg_bprr]"]
    (job_dir / "result.json").write_text(json.dumps(payload))
    # and a smaller grid gathers only its own jobs: one row per job of the sweep as launched
    out = sweep(root, "resume=true", "instance=abovenet", "seed=1,3", "algorithms=[cg_bprr]")
    assert out.returncode == 0 and out.stdout.count("skipped (resume)") == 1  # seed 1; seed 3 runs again
    assert jobs(root)["instance=abovenet,seed=3"][1]["rows"][0]["seed"] == 3
    df = pd.read_parquet(root / "results.parquet")
    assert sorted(zip(df.scenario, df.seed)) == [("abovenet", 1), ("abovenet", 3)]


def test_a_second_sweep_into_a_directory_in_use_is_refused(tmp_path):
    import time

    root = tmp_path / "s"
    args = ["instance=bellcanada", "mode=online", "workload.n_requests=60000", "seed=0,1", "algorithms=[proposed]"]
    first = subprocess.Popen([sys.executable, str(RUN), "-m", f"hydra.sweep.dir={root}", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.time() + 60
    while not (root / ".sweep.lock").exists() and time.time() < deadline:
        time.sleep(0.02)
    second = sweep(root, "instance=abovenet", "seed=7", "algorithms=[cg_bprr]")
    assert first.poll() is None, "the first sweep ended too early to test anything"
    assert second.returncode == 2
    assert len(second.stderr.strip().splitlines()) == 1 and "in use by another sweep" in second.stderr
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    df = pd.read_parquet(root / "results.parquet")
    assert sorted(df.seed.unique()) == [0, 1] and set(df.scenario) == {"bellcanada"}
    assert not (root / ".sweep.lock").exists()


def test_a_lock_left_by_a_crashed_sweep_does_not_block(tmp_path):
    root = tmp_path / "s"
    root.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket
    (root / ".sweep.lock").write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()}))
    out = sweep(root, "instance=abovenet", "seed=0", "algorithms=[cg_bprr]")
    assert out.returncode == 0, out.stderr
    assert not (root / ".sweep.lock").exists()


BROKEN = [(b"\xff\xfe not utf-8", "unreadable"), (b"[1, 2]", "expected a JSON object, got list"),
          (b'{"status": "ok"}', "status ok but no rows"), (b'{"status": "ok", "rows": []}', "status ok but no rows"),
          (b'{"status": "maybe"}', "unknown status 'maybe'"), (b'{"status": "ok", "rows": [', "unreadable")]


def test_broken_results_are_error_rows_and_are_rerun(tmp_path):
    root = tmp_path / "s"
    seeds = ",".join(str(k) for k in range(len(BROKEN) + 1))
    assert sweep(root, "instance=abovenet", f"seed={seeds}", "algorithms=[cg_bprr]").returncode == 0
    found = jobs(root)
    for k, (content, _) in enumerate(BROKEN):
        (found[f"instance=abovenet,seed={k + 1}"][0] / "result.json").write_bytes(content)
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "collect.py"), str(root)], capture_output=True,
                         text=True)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    df = pd.read_csv(root / "results.csv")
    errors = df[df.status == "error"]
    assert len(df) == len(BROKEN) + 1 and len(errors) == len(BROKEN)
    for k, (_, problem) in enumerate(BROKEN):  # each row names its job's file and what is wrong with it
        job_dir = str(found[f"instance=abovenet,seed={k + 1}"][0])
        assert errors.message.str.contains(job_dir, regex=False).sum() == 1
        assert problem in errors[errors.message.str.contains(job_dir, regex=False)].message.iloc[0]
    out = sweep(root, "resume=true", "instance=abovenet", f"seed={seeds}", "algorithms=[cg_bprr]")
    assert out.returncode == 0 and out.stdout.count("skipped (resume)") == 1
    assert sorted(pd.read_parquet(root / "results.parquet").seed) == list(range(len(BROKEN) + 1))


def test_collect_regathers_a_sweep_directory(tmp_path):
    for num, status in ((0, "ok"), (1, "error")):
        d = tmp_path / str(num)
        d.mkdir()
        payload = {"status": status, "job": {"num": num, "overrides": [f"seed={num}"]}}
        payload.update({"rows": [{"algorithm": "cg_bprr", "per_token_s": 0.5, "check_status": "feasible"}]}
                       if status == "ok" else {"error": "boom"})
        (d / "result.json").write_text(json.dumps(payload))
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "collect.py"), str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 1 and out.stderr.strip() == f"failed jobs: {tmp_path / '1'}"
    df = pd.read_csv(tmp_path / "results.csv")
    assert df.check_status.tolist() == ["feasible", "none"] and df.message.tolist()[1] == "boom"
    assert df.status.tolist()[1] == "error"
    assert collect(tmp_path).shape == df.shape


def test_collect_on_a_directory_without_results_says_so(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "collect.py"), str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.strip() == f"error: no job results (result.json) below {tmp_path}"


def test_a_really_killed_sweep_resumes(tmp_path):
    """SIGKILL a sweep once its first job has a result: the job it was running is an error row; the rerun
    skips the finished ones and finishes the rest."""
    import signal
    import time

    root = tmp_path / "s"
    args = ["instance=bellcanada", "mode=online", "workload.n_requests=1000", "seed=0,1,2",
            f"hydra.sweep.dir={root}"]
    proc = subprocess.Popen([sys.executable, str(RUN), "-m", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=tmp_path)
    deadline = time.time() + 900   # a guard against a hung sweep only: the kill waits for events, not for time

    def done():
        return {k for k, (_, p) in jobs(root).items() if p["status"] == "ok"} if root.exists() else set()

    def running():   # a job that has marked itself started and has no result yet
        return {k for k, (_, p) in jobs(root).items() if p["status"] != "ok"} if root.exists() else set()

    while not (done() and running()) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished_before = done()
    assert finished_before and len(finished_before) < 3, "the kill came too late to test anything"
    df = collect(root)  # the job it was running: a row with status error, not a missing row
    killed = df[df.status == "error"]
    assert len(killed) == 1 and "started but did not finish" in killed.message.iloc[0]
    out = subprocess.run([sys.executable, str(RUN), "-m", "resume=true", *args], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("skipped (resume)") == len(finished_before)
    assert done() == {f"instance=bellcanada,mode=online,seed={s},workload.n_requests=1000" for s in range(3)}
    assert sorted(pd.read_parquet(root / "results.parquet").seed.unique()) == [0, 1, 2]


def test_report_from_a_sweep(tmp_path):
    root = tmp_path / "s"
    out = sweep(root, "instance=abovenet", "mode=online", "workload.n_requests=20", "seed=0,1",
                "workload.arrival_rate=0.1,0.5", "algorithms=[proposed,petals]")
    assert out.returncode == 0, out.stderr
    rep = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), str(root)], capture_output=True, text=True)
    assert rep.returncode == 0, rep.stderr
    assert rep.stdout.strip() == (f"written to {root}: report.md, report.html, figures/ (2: per_token_by_instance.png,"
                                  " per_token_vs_workload_arrival_rate.png)")         # every file it wrote
    text = (root / "report.md").read_text()
    assert "## Winner per instance cell" in text and "Shift fitted to the kind: heuristic 0.001 s, exact 1 s" in text
    assert (root / "figures" / "per_token_vs_workload_arrival_rate.png").exists()
    assert (root / "figures" / "per_token_by_instance.png").exists()
    page = (root / "report.html").read_text()
    assert ">Results per cell</h2>" in page and ">Instances</h2>" not in page   # online: no solution to draw
    assert '"error_y"' in page          # the interactive lambda chart has the PNG's error bars (two seeds)
    df = pd.read_parquet(root / "results.parquet")
    cell = df[(df.algorithm == "petals") & (df.arrival_rate == 0.5)].per_token_s.mean()
    assert f"{cell:.4g}" in text


def test_shifted_geometric_mean_counts_time_outs_at_the_limit():
    from bench.report import _counted_runtime, shifted_geometric_mean

    assert abs(shifted_geometric_mean(pd.Series([0.0, 0.0]), 10.0)) < 1e-12
    assert abs(shifted_geometric_mean(pd.Series([10.0, 30.0]), 10.0) - ((20 * 40) ** 0.5 - 10)) < 1e-12
    ms = shifted_geometric_mean(pd.Series([0.001, 0.003, None]), 0.001)
    assert abs(ms - ((0.002 * 0.004) ** 0.5 - 0.001)) < 1e-15
    row = pd.Series({"status": "time_limit", "runtime_s": 612.3, "p_solver_time_limit": 600})
    assert _counted_runtime(row) == 600.0


def test_report_counts_outcomes_and_averages_feasible_ones_only(tmp_path):
    """A cell where PETALS over-commits memory: its infeasible cost is counted, not averaged; no reduction
    is printed against it; one seed means no spread."""
    from bench.report import report

    rows = [{"instance": "x-s0", "scenario": "x", "seed": 0, "algorithm": a, "kind": "solution", "run": 0,
             "mode": "offline", "status": "solved", "check_status": c, "per_token_s": v, "runtime_s": 0.01}
            for a, c, v in (("cg_bprr", "feasible", 0.5), ("petals", "infeasible", 0.4), ("slow", "feasible", 0.6))]
    rows.append({**rows[0], "algorithm": "broken", "status": "error", "check_status": "none",
                 "per_token_s": None})
    pd.DataFrame(rows).to_parquet(tmp_path / "results.parquet")
    text = report(tmp_path).read_text()
    # the cell, the rank (1: the winner) and the per-token time first; the cell's algorithms in rank order
    assert "| scenario | rank | algorithm | per_token_s | runtime_s | feasible | infeasible |" in text
    assert "| x | 1 | cg_bprr | 0.5 | 0.01 | 1 | 0 | 0 | 0 | 0 | offline |\n| x | 2 | slow | 0.6 |" in text
    assert "| x |  | petals |  | 0.01 | 0 | 1 | 0 | 0 | 0 | offline |" in text   # counted as infeasible, no mean
    assert "| x |  | broken |  | 0.01 | 0 | 0 | 0 | 0 | 1 | offline |" in text
    assert "| x-s0 | broken |" in text                                    # named among the failures
    assert "| x | cg_bprr | 0.5 | 1 | offline |" in text                 # the winner is the cheapest feasible
    assert "per_token_sd" not in text and "response_s" not in text      # no spread, no online rows


def test_reduction_is_not_measured_against_an_infeasible_reference():
    from bench.results import reduction_vs_reference

    df = pd.DataFrame({"algorithm": ["petals", "cg_bprr"], "per_token_s": [0.4, 0.5],
                       "check_status": ["infeasible", "feasible"], "instance": ["x", "x"]})
    assert reduction_vs_reference(df, ["instance"]).isna().all()
    df.loc[0, "check_status"] = "feasible"
    assert reduction_vs_reference(df, ["instance"]).tolist() == [0.0, 1 - 0.5 / 0.4]


def test_speed_table_is_generated_from_benchmark_output(tmp_path):
    from bench.speed import BEGIN, END, splice, table

    run = {"datetime": "2026-11-26T12:00:00", "commit_info": {"id": "abcdef1234567890"},
           "machine_info": {"node": "vm", "python_version": "3.11.7",
                            "cpu": {"brand_raw": "Intel Xeon", "count": 2}},
           "benchmarks": [{"name": "test_cg", "fullname": "a::test_cg",
                           "stats": {"median": 0.0061, "min": 0.0058, "max": 0.0093, "rounds": 120}},
                          {"name": "test_exact", "fullname": "a::test_exact",
                           "stats": {"median": 20.4, "min": 20.4, "max": 20.4, "rounds": 1}}]}
    path = tmp_path / "0001_x.json"
    path.write_text(json.dumps(run))
    text = table(path)
    assert text.startswith("Measured 2026-11-26 on vm: Intel Xeon, 2 cores, Python 3.11.7, commit abcdef123456")
    assert "| `test_cg` | 6.1 ms | 5.8 ms | 9.3 ms | 120 |" in text and "| `test_exact` | 20.40 s |" in text
    assert splice(f"a\n{BEGIN}\nold\n{END}\nb", "new") == f"a\n{BEGIN}\nnew\n{END}\nb"


def test_report_on_library_instances_has_gaps_profiles_and_convergence(tmp_path):
    root = tmp_path / "s"
    out = sweep(root, "instance=file", "instance.file=library:clustered-c0,library:abilene",
                "algorithms=[cg_bprr,petals,exact]", "solver.time_limit=2", "solver.progress=false")
    assert out.returncode == 0, out.stderr
    rep = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), str(root)], capture_output=True, text=True)
    assert rep.returncode == 0, rep.stderr
    text = (root / "report.md").read_text()
    assert "## Certified library: gaps" in text and "gap_to_best_known" in text
    figures = {p.name for p in (root / "figures").iterdir()}
    assert {"profile_quality.png", "profile_runtime.png"} <= figures
    assert any(name.startswith("convergence_exact_abilene") for name in figures)


@pytest.mark.xdist_group("launchers")
def test_submitit_local_launcher_gives_the_same_table_resumes_and_locks(basic, tmp_path):
    """The SLURM path (hydra-submitit-launcher) run with submitit's local executor: same jobs, same rows,
    resume skips the finished jobs, and the sweep lock holds."""
    import os
    import socket

    args = LAUNCHED
    out = sweep(tmp_path / "submitit", "hydra/launcher=submitit_local", *args)
    assert out.returncode == 0, out.stderr
    a, b = table_of(basic), table_of(tmp_path / "submitit")
    assert len(a) == 4 and a.equals(b)
    again = sweep(tmp_path / "submitit", "hydra/launcher=submitit_local", "resume=true", *args)
    assert again.returncode == 0, again.stderr
    done = (tmp_path / "submitit" / "jobs_done.log").read_text().splitlines()
    assert sum("skipped (resume)" in line for line in done) == 2
    # a live sweep holds the directory: a second one is refused before any job starts
    (tmp_path / "submitit" / ".sweep.lock").write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    refused = sweep(tmp_path / "submitit", "hydra/launcher=submitit_local", *args)
    assert refused.returncode == 2 and "in use by another sweep" in refused.stderr


def test_convergence_levels_are_the_jobs_bound_and_the_librarys_entry_for_that_instance_only():
    from bench.library import load_table
    from bench.report import _levels

    table = load_table().set_index("name")
    entry = table.loc["abilene"]
    row = {"instance": "abilene", "seed": 0, "kind": "solution", "job_dir": "a", "n_servers": 9, "R": entry.R,
           "lower_bound_s": None}
    bound = {"algorithm": "lower_bounds:best", "kind": "bound"}
    df = pd.DataFrame([row | {"algorithm": "exact"}, row | bound | {"lower_bound_s": 0.4},
                       row | bound | {"job_dir": "b", "lower_bound_s": 0.45}])
    levels = {label: value for value, label, _ in _levels(df, df.iloc[0], table)}
    # the other job's bound (0.45) is not this row's; the library's numbers are abilene's
    assert levels == {"best lower bound, this job": 0.4, "library best known": float(entry.best_known_s),
                      "library bound": float(entry.best_bound_s)}
    # a variant that kept the name but not the library's R is not the library's instance
    variant = df.assign(R=entry.R + 1)
    assert {label for _, label, _ in _levels(variant, variant.iloc[0], table)} == {"best lower bound, this job"}


@pytest.mark.parametrize("content, message", [
    ("nothing", "no results in"),
    ("failed", "every job in"),
    ("corrupt", "not a readable results table"),
    ("foreign", "not a BPR-Bench results table (no column status)"),
])
def test_report_on_a_directory_it_cannot_report_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    from bench import report
    from bench.results import error_row

    if content == "failed":
        rows = [{**error_row("instance.servers: at most 21 servers"), "overrides": f"seed={s}", "job_dir": str(s)}
                for s in range(2)]
        pd.DataFrame(rows).to_parquet(tmp_path / "results.parquet")
    elif content == "corrupt":
        (tmp_path / "results.parquet").write_bytes(b"PAR1 this is not parquet")
    elif content == "foreign":
        pd.DataFrame({"a": [1], "b": [2]}).to_parquet(tmp_path / "results.parquet")
    assert report.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err
    assert not (tmp_path / "report.md").exists()


@pytest.mark.parametrize("subdir", ["same", "../outside", "${hydra.job.num}"])
def test_a_sweep_that_sets_its_job_directories_is_refused_before_it_runs(tmp_path, subdir):
    """Job directories are the harness's (one per job, named by its overrides, inside the sweep): a subdir
    that maps jobs to one directory, leads out of the sweep, or is merely another name is refused."""
    out = sweep(tmp_path / "s", "instance=abovenet", "seed=0,1,2", "algorithms=[cg_bprr]",
                f"hydra.sweep.subdir={subdir}")
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        "error: hydra.sweep.subdir is the harness's: each job's directory is named after its overrides "
        "(bench/config.py job_dir), one per job and inside the sweep; it cannot be set"]
    assert not (tmp_path / "s").exists() and not (tmp_path / "outside").exists()


def test_a_terminated_joblib_sweep_stops_its_workers(tmp_path):
    """SIGTERM to a sweep on the joblib launcher: it exits 143 and its workers stop with it (no job writes
    after the sweep has ended, where a resume would count their results as its own)."""
    import signal
    import time

    root = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, str(RUN), "-m", "instance=bellcanada", "mode=online",
                             "workload.n_requests=30000", "seed=0,1,2,3", "algorithms=[proposed]",
                             "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={root}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    while proc.poll() is None and not list(root.rglob("result.json")):   # a job has started
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 143

    def written():
        return {str(p): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}

    before = written()
    time.sleep(3)      # a worker left running would finish its job (about 2 s) and write its result here
    assert written() == before
