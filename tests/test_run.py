"""The main job ``bench/run.py`` (Hydra): configs compose, the table and files appear, bad input exits 2."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from bench.config import register
from bench.configs import CONF_DIR
from bench.instance_names import known_instances
from bench.job import default_names, plan
from bench.library import LIBRARY, load_table
from solvers.framework import registry
from solvers.framework.settings import SolverSettings

ROOT = Path(__file__).resolve().parents[1]
ABILENE = load_table().set_index("name").solution["abilene"]      # a library solution of another instance
RUN = ROOT / "bench" / "run.py"


def run(tmp_path, *overrides):
    tmp_path.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, str(RUN), f"hydra.run.dir={tmp_path}", *overrides],
                          capture_output=True, text=True, cwd=tmp_path)


def compose_with(*overrides):
    register()
    with initialize_config_dir(version_base="1.3", config_dir=str(ROOT / "conf")):
        return compose("config", overrides=list(overrides))


@pytest.mark.registry
@pytest.mark.parametrize("option", sorted(p.stem for p in (ROOT / "conf" / "instance").glob("*.yaml")))
def test_every_instance_option_composes(option):
    cfg = compose_with(f"instance={option}", "workload.l_out=64", "seed=3")
    assert cfg.instance.name == option.split("_")[0] and cfg.workload.l_out == 64 and cfg.seed == 3


CONF = ROOT / "conf"


def config_dict(*overrides):
    return OmegaConf.to_container(compose_with(*overrides))


@pytest.mark.registry
@pytest.mark.parametrize("group", ["model", "workload", "algorithm", "experiment", "hydra/launcher"])
def test_every_option_of_every_group_composes(group):
    """Every option composes; a ready list (and an experiment's list) names algorithms of its mode."""
    for option in sorted(p.stem for p in (CONF / group).glob("*.yaml")):
        cfg = compose_with(f"{group}={option}")
        if group == "model":
            assert cfg.model.name == option
        if group in ("experiment", "algorithm"):
            assert cfg.mode in ("offline", "online")
            for name in cfg.algorithms or []:
                registry.get(name, cfg.mode)
        if group == "experiment" and option == "library":   # the library's sweep is offline and exact
            assert "exact" in cfg.algorithms and cfg.instance.name == "file"


@pytest.mark.registry
@pytest.mark.parametrize("mode, ready", [("offline", "heuristics"), ("online", "online")])
def test_the_default_list_is_the_ready_list(mode, ready):
    """Without ``algorithms``, a run takes conf/algorithm/<ready>.yaml: a new module joins only by a line there."""
    cfg = config_dict(f"mode={mode}")
    names = [alg.name for alg, _ in plan(cfg, None, SolverSettings())]
    assert names == list(compose_with(f"algorithm={ready}").algorithms) == default_names(mode)


def test_an_empty_or_repeated_algorithm_list_is_bad_input():
    with pytest.raises(Exception, match="algorithms: the list is empty"):
        plan(config_dict("algorithms=[]"), None, SolverSettings())
    with pytest.raises(Exception, match="algorithms: 'petals' is listed twice"):
        plan(config_dict("algorithms=[petals,cg_bprr,petals]"), None, SolverSettings())


def test_experiments_sweep_the_paper_axes():
    register()
    axes = {"paper_tables": "instance", "vary_lambda": "workload.arrival_rate", "vary_lout": "workload.l_out",
            "vary_servers": "instance.servers", "vary_a100_fraction": "instance.a100_fraction"}
    for name, key in axes.items():
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
            cfg = compose("config", overrides=[f"experiment={name}"], return_hydra_config=True)
        assert key in cfg.hydra.sweeper.params
        if name == "paper_tables":  # every cell under both calibrations (docs/simulator.md §3)
            assert cfg.hydra.sweeper.params.calibration == "none,paper"


def test_structured_config_rejects_misspelt_keys_and_wrong_types():
    from hydra.errors import ConfigCompositionException

    for bad in ("model.nmae=x", "workload.l_out=many", "solver.threads=two", "runs=lots"):
        with pytest.raises(ConfigCompositionException):
            compose_with(bad)


def test_appended_keys_must_exist_unless_their_node_is_open():
    from bench.config import unknown_key

    assert unknown_key("seeed") == "seeed" and unknown_key("solver.time_limt") == "solver.time_limt"
    for fine in ("seed", "solver.time_limit", "algorithm.lns.time_limit", "instance.anything",
                 "calibration.delay_s.petals", "algorithm.lns.sed"):   # algorithm.*: checked when planned
        assert unknown_key(fine) is None, fine


@pytest.mark.parametrize("options, says", [
    ({"lns": {"sed": 1}}, "unknown lns option 'sed'; known: "),
    ({"nosuch": {"x": 1}}, "unknown algorithm 'nosuch'; known: "),
    ({"proposed": {"design_R": "many"}}, "algorithm.proposed.design_R: Value 'many'"),
    ({"cg_bprr": 3}, "algorithm.cg_bprr: expected options"),
])
def test_every_algorithm_option_given_is_checked_when_the_job_is_planned(options, says):
    """Also for an algorithm the job does not run, or of the other mode: a typo is never ignored."""
    from bench.job import plan
    from bpr.errors import BprInputError
    from solvers.framework.settings import SolverSettings

    cfg = {"mode": "offline", "runs": 1, "algorithms": ["cg_bprr"], "algorithm": options}
    with pytest.raises(BprInputError, match=re.escape(says)):
        plan(cfg, None, SolverSettings())


@pytest.mark.parametrize("option, name", [("highs", "highs"), ("cbc", "cbc"), ("glpk", "glpk"),
                                          ("gurobi", "gurobi_direct")])
def test_every_solver_option_composes(option, name):
    cfg = compose_with(f"solver={option}", "solver.time_limit=5", "solver.warm_start=false")
    assert cfg.solver.name == name and cfg.solver.time_limit == 5 and cfg.solver.warm_start is False


def test_milp_and_lower_bound_rows(tmp_path):
    out = run(tmp_path, "instance=abovenet", "workload.R=3", "algorithms=[cg_bprr,milp,lower_bounds]",
              "solver.time_limit=5", "algorithm.lower_bounds.paper_lp=true")
    assert out.returncode == 0, out.stderr
    df = pd.read_csv(tmp_path / "results.csv").set_index("algorithm")
    assert {"milp", "lower_bounds:per_request", "lower_bounds:extended_lp", "lower_bounds:paper_lp",
            "lower_bounds:best"} <= set(df.index)
    milp = df.loc["milp"]
    assert milp.status in ("optimal", "time_limit") and milp.check_status == "feasible"
    assert milp.variables > 0 and milp.build_s >= 0 and milp.load_s > 0 and milp.solve_s > 0
    best = df.loc["lower_bounds:best"].lower_bound_s
    names = ["lower_bounds:per_request", "lower_bounds:extended_lp", "lower_bounds:paper_lp"]
    bounds = df.loc[names].lower_bound_s.tolist()
    assert best == max(*bounds, milp.dual_bound_s)
    for alg in ("cg_bprr", "milp"):
        row = df.loc[alg]
        assert best <= row.per_token_s * (1 + 1e-9)
        assert row.gap_to_best_bound == pytest.approx((row.per_token_s - best) / row.per_token_s)
    assert milp.p_solver_time_limit == 5 and milp.kind == "solution"
    assert (tmp_path / "solver_logs" / "milp.log").stat().st_size > 0
    assert (tmp_path / "solver_logs" / "lower_bounds-paper-lp.log").stat().st_size > 0
    assert (tmp_path / "solver_logs" / "lower_bounds-extended-lp.log").stat().st_size > 0


def unknown_columns(df: pd.DataFrame, mode: str) -> set[str]:
    """Columns neither the schema declares (bpr/schema.py) nor a setting nor an algorithm of the table declares."""
    from bpr import schema

    declared = {c for name in df.algorithm.str.split(":").str[0].unique() if name != "lower_bounds"
                for c in registry.get(name, mode).columns}
    return {c for c in df.columns if not c.startswith("p_")} - schema.columns() - declared


def test_main_job_writes_table_rows_and_solutions(tmp_path):
    out = run(tmp_path, "instance=abovenet", "seed=1", "workload.l_out=64",
              "algorithms=[cg_bprr,petals,petals-opt-order]")
    assert out.returncode == 0, out.stderr
    df = pd.read_parquet(tmp_path / "results.parquet")
    assert df.algorithm.tolist() == ["cg_bprr", "petals", "petals-opt-order"]
    assert (df.seed == 1).all() and (df.l_out == 64).all() and (df.n_servers == 9).all()
    assert df.highspy.str.len().gt(0).all() and df.pyomo.str.len().gt(0).all()
    assert df.git_commit.str.fullmatch("[0-9a-f]{40}").all() and df.cpu.str.len().gt(0).all()
    assert (df.cpu_count >= 1).all() and df.host.str.len().gt(0).all() and df.hydra_core.str.len().gt(0).all()
    assert (df.p_workload_l_out == 64).all() and (df.p_instance_name == "abovenet").all()
    assert list(df.columns[:12]) == ["instance", "scenario", "seed", "algorithm", "kind", "run", "status", "outcome",
                                     "termination", "has_solution", "check_status", "sim_status"]
    assert pd.read_csv(tmp_path / "results.csv").shape == df.shape
    assert unknown_columns(df, "offline") == set()          # the schema is declared once, in bpr/schema.py
    assert (df.time_limit_s.isna() & df.overrun_s.isna()).all()   # heuristics run without a time limit
    cg = df.set_index("algorithm").loc["cg_bprr"]
    assert cg.check_status == "feasible" and cg.per_token_s <= cg.guarantee_s * (1 + 1e-9)
    petals = df.set_index("algorithm").loc["petals"]
    assert cg.reduction_vs_petals == pytest.approx(1 - cg.per_token_s / petals.per_token_s)
    assert "a100-80gb=53" in petals.blocks_per_gpu and "mig-1g.10gb=4" in petals.blocks_per_gpu
    for alg in df.algorithm:
        assert json.loads((tmp_path / "solutions" / f"{alg}.json").read_text())["algorithm"] == alg
    assert json.loads((tmp_path / "instance.json").read_text())["name"] == "abovenet-s1"
    assert "cg_bprr" in out.stdout and "vs petals" in out.stdout
    log = (tmp_path / "run.log").read_text()
    assert "instance abovenet-s1: 9 servers" in log and "petals-opt-order: solved / feasible" in log
    prov = json.loads((tmp_path / "provenance.json").read_text())
    assert prov["git_commit"] == df.git_commit.iloc[0] and prov["cpu_count"] >= 1 and "numpy" in prov


def test_algorithm_options_from_the_command_line(tmp_path):
    out = run(tmp_path, "instance=abovenet", "algorithms=[cg_bprr,petals]", "algorithm.cg_bprr.design_R=100",
              "algorithm.petals.attn_cache_tokens=2048")
    assert out.returncode == 0, out.stderr
    df = pd.read_parquet(tmp_path / "results.parquet").set_index("algorithm")
    assert df.loc["cg_bprr"].p_design_R == 100 and df.loc["cg_bprr"].design_R == 100
    assert "a100-80gb=39" in df.loc["cg_bprr"].blocks_per_gpu   # floor(86.13 / (1.3234 + 0.008487 * 100))
    # a 2048-token pool per block: floor((86.13 - 2.147) / (1.3234 + 0.1174)) = 58 blocks, capped at L = 70
    assert df.loc["petals"].p_attn_cache_tokens == 2048 and "a100-80gb=58" in df.loc["petals"].blocks_per_gpu

def test_model_that_does_not_fit_is_a_status_row(tmp_path):
    out = run(tmp_path, "instance=abovenet", "instance.servers=3", "instance.a100_fraction=0",
              "algorithms=[cg_bprr]")
    assert out.returncode == 0, out.stderr
    row = pd.read_csv(tmp_path / "results.csv").iloc[0]
    assert row.status == "infeasible" and row.check_status == "none" and "short by 52 blocks" in row.message
    assert "short by 52 blocks" in out.stdout


@pytest.mark.registry
def test_online_model_that_does_not_fit_is_a_status_row_per_run(tmp_path):
    out = run(tmp_path, "instance=abovenet", "instance.servers=1", "instance.a100_fraction=0", "mode=online",
              "runs=2")
    assert out.returncode == 0, out.stderr
    df = pd.read_parquet(tmp_path / "results.parquet")
    assert len(df) == len(default_names("online")) * 2
    assert (df.status == "infeasible").all() and (df.sim_status == "none").all()
    assert df.per_token_s.isna().all() and df.message.str.startswith("infeasible: ").all()
    assert "short by 64 blocks" in out.stdout and "leaves 66 of 70 blocks on no server" in out.stdout


def test_instance_file_option(tmp_path):
    first = run(tmp_path / "a", "instance=clustered", "algorithms=[cg_bprr]")
    assert first.returncode == 0, first.stderr
    again = run(tmp_path / "b", "instance=file", f"instance.file={tmp_path / 'a' / 'instance.json'}",
                "algorithms=[cg_bprr]")
    assert again.returncode == 0, again.stderr
    a, b = (pd.read_csv(tmp_path / d / "results.csv").iloc[0] for d in "ab")
    assert a.per_token_s == b.per_token_s


def options(group: str) -> str:
    """A config group's options as Hydra lists them (conf/<group>/*.yaml, sorted)."""
    return ", ".join(sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml")))


@pytest.mark.registry
@pytest.mark.parametrize("overrides, message", [
    (["instance=atlantis"], "unknown instance 'atlantis'; known: " + ", ".join(known_instances())),
    (["mode=sideways"], "mode: expected offline or online"),
    (["mode=online", "algorithms=[cg_bprr]"], "unknown online algorithm 'cg_bprr'"),
    (["mode=online", "runs=0"], "runs: expected an integer >= 1"),
    (["instance=abovenet", "instance.servers=40"], "at most 21 servers"),
    (["instance=abovenet", "instance.severs=4"], "severs"),
    (["instance=abovenet", "workload.l_out=many"], "l_out"),
    (["algorithms=[cg_bprr,simplex]"], "unknown offline algorithm 'simplex'"),
    (["algorithms=[milp]", "solver.name=nosuchsolver"], "solver 'nosuchsolver'"),
    (["solver.time_limt=3"], "time_limt"),
    (["algorithm.cg_bprr.colour=1"], "colour"),
    (["algorithm.petals.attn_cache_tokens=many"], "attn_cache_tokens"),
    (["+seeed=1"], "'seeed' is not a setting"),
    (["++solver.time_limt=3"], "'solver.time_limt' is not a setting"),
    (["instance=abovenet", "instance.clients=0"], "clients: must be >= 1, got 0"),
    (["seed=1.5"], "Value '1.5' of type 'float' could not be converted to Integer"),
    (["model=gpt-5"], f"Could not find 'model/gpt-5'; available in 'model': {options('model')}"),
    (["calibration=bogus"], f"'calibration/bogus'; available in 'calibration': {options('calibration')}"),
    (["algorithms=cg_bprr"], "str is not a ListConfig, list or tuple"),
    (["algorithm.lns.patience=2", "algorithm.cg_bprr.patience=2"], "unknown cg_bprr option 'patience'"),
    (["algorithms=[milp]", f"solver.max_vars={10**20}"], "solver.max_vars: must be at most 2**63 - 1 in size"),
    (["mode=online", f"algorithm.chains.c={10**30}"], "algorithm.chains.c: must be at most 2**63 - 1 in size"),
    (["instance=abovenet", "algorithms=[cg_bprr,lns]", f"algorithm.lns.start={LIBRARY / ABILENE}"],
     "made for instance 'abilene', not 'abovenet-s0'"),      # before cg_bprr runs: no row computed for nothing
])
def test_bad_input_exits_2_without_traceback(tmp_path, overrides, message):
    out = run(tmp_path, *overrides)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr     # one line, Hydra's errors too
    assert not (tmp_path / "results.csv").exists()


@pytest.mark.registry
def test_online_mode_rows_trace_and_figures(tmp_path):
    out = run(tmp_path, "instance=clustered", "mode=online", "workload.n_requests=30", "runs=2", "seed=4")
    assert out.returncode == 0, out.stderr
    df = pd.read_parquet(tmp_path / "results.parquet")
    names = default_names("online")
    assert df.algorithm.tolist() == [n for n in names for _ in range(2)] and df.run.tolist() == [0, 1] * len(names)
    assert (df["mode"] == "online").all() and (df.kind == "online").all() and (df.sim_status == "served").all()
    assert df.p_arrival_seed.tolist() == [4, 5] * len(names) and (df.p_runs == 2).all()
    assert unknown_columns(df, "online") == set() and (df.peak_memory_share <= 1 + 1e-9).all()
    trace = pd.read_parquet(tmp_path / "trace.parquet")
    assert len(trace) == len(names) * 2 * 30
    rows = df.set_index(["algorithm", "run"])
    for (alg, r), group in trace.groupby(["algorithm", "run"]):
        assert rows.loc[(alg, r)].per_token_s == pytest.approx(group.per_token.mean())
        assert rows.loc[(alg, r)].wait_s == pytest.approx(group.wait.mean())
    for r in (0, 1):
        assert rows.loc[("proposed", r)].reduction_vs_petals == pytest.approx(
            1 - rows.loc[("proposed", r)].per_token_s / rows.loc[("petals", r)].per_token_s)
    assert (tmp_path / "per_token_time.png").stat().st_size > 0 and (tmp_path / "ttft_decode.png").exists()


def test_model_group_reaches_the_instance(tmp_path):
    out = run(tmp_path, "instance=abovenet", "model=llama-2-70b", "algorithms=[cg_bprr]")
    assert out.returncode == 0, out.stderr
    model = json.loads((tmp_path / "instance.json").read_text())["model"]
    assert (model["name"], model["L"], model["kv_groups"]) == ("llama-2-70b", 80, 8)


def test_ctrl_c_keeps_the_finished_rows_and_says_so_in_one_line(tmp_path):
    """SIGINT while lns searches: cg_bprr's finished row and solution are kept, lns's row says interrupted,
    nothing after it runs, one line on stderr, exit 130 (as a shell reports an interrupted command)."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "run.py"), "instance=abovenet",
                             "algorithms=[cg_bprr,lns,petals]", "algorithm.lns.time_limit=120",
                             f"hydra.run.dir={tmp_path}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))   # as in a terminal
    log = tmp_path / "run.log"
    while proc.poll() is None and not (log.exists() and "running lns" in log.read_text()):
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.strip().splitlines() == [
        f"error: interrupted (Ctrl-C); the rows that finished are in {tmp_path} (resume=true runs the job again)"]
    df = pd.read_csv(tmp_path / "results.csv").set_index("algorithm")
    assert list(df.index) == ["cg_bprr", "lns"] and df.status.lns == "interrupted"
    assert df.check_status.cg_bprr == "feasible" and (tmp_path / "solutions" / "cg_bprr.json").exists()


def test_a_quoted_run_directory_is_the_directory_hydra_uses(tmp_path):
    out = subprocess.run([sys.executable, str(RUN), "instance=abovenet", "algorithms=[cg_bprr]", 'hydra.run.dir="run"'],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"] and (tmp_path / "run" / "results.csv").exists()


def test_resume_takes_a_result_only_when_it_was_computed_on_the_same_instance(tmp_path):
    """Same overrides, another instance behind them (the instance file was edited): the job runs again."""
    inst = tmp_path / "inst.json"
    inst.write_text((LIBRARY / "instances" / "abilene.json").read_text())
    args = ("instance=file", f"instance.file={inst}", "algorithms=[cg_bprr]", "resume=true")
    assert run(tmp_path / "job", *args).returncode == 0
    again = run(tmp_path / "job", *args)
    assert again.returncode == 0 and "skipped (resume)" in again.stdout
    edited = json.loads(inst.read_text())
    for server in edited["servers"]:
        server["M"] *= 2
    inst.write_text(json.dumps(edited))
    third = run(tmp_path / "job", *args)
    assert third.returncode == 0 and "skipped (resume)" not in third.stdout
    from bpr import instance as instance_io
    recorded = json.loads((tmp_path / "job" / "result.json").read_text())["job"]["instance_sha256"]
    assert recorded == instance_io.load(inst).fingerprint()
