"""``python -m bpr`` as a script would use it: JSON on stdout and the exit codes of docs/formats.md §3."""

import json
import subprocess
import sys

import pytest

from bench.instance_builder import library_file


def bpr(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "bpr", *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    out = bpr("instance", "abovenet", "--seed", 2, "--set", "workload.l_out=64", "--out", d / "i.json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["servers"] == 9
    return d


def test_solve_check_evaluate(files):
    out = bpr("solve", files / "i.json", "--algorithm", "cg_bprr", "--out", files / "s.json")
    assert out.returncode == 0, out.stderr
    solved = json.loads(out.stdout)
    assert solved["status"] == "feasible"
    check = bpr("check", files / "i.json", files / "s.json")
    assert check.returncode == 0 and json.loads(check.stdout) == {"feasible": True, "violations": []}
    ev = bpr("evaluate", files / "i.json", files / "s.json")
    assert ev.returncode == 0
    assert json.loads(ev.stdout)["objective"] == pytest.approx(solved["objective"], rel=1e-12)
    assert json.loads((files / "s.json").read_text())["algorithm"] == "cg_bprr"


def test_infeasible_solution_exits_1(files):
    assert bpr("solve", files / "i.json", "--algorithm", "cg_bprr", "--out", files / "ok.json").returncode == 0
    sol = json.loads((files / "ok.json").read_text())
    sol["routes"][0]["servers"] = sol["routes"][0]["servers"][:-1]
    (files / "broken.json").write_text(json.dumps(sol))
    out = bpr("check", files / "i.json", files / "broken.json")
    assert out.returncode == 1
    assert json.loads(out.stdout)["violations"][0]["kind"] == "coverage"
    assert bpr("evaluate", files / "i.json", files / "broken.json").returncode == 1


@pytest.mark.parametrize("args, message", [
    (("instance", "nowhere", "--out", "x.json"), "unknown instance 'nowhere'; known:"),
    (("instance", "abovenet", "--set", "servers=99", "--out", "x.json"), "at most 21 servers"),
    (("instance", "abovenet", "--set", "servers", "--out", "x.json"), "--set expects key=value"),
    (("solve", "missing.json", "--algorithm", "cg_bprr", "--out", "s.json"), "'missing.json' does not exist"),
    (("solve", "{i}", "--algorithm", "simplex", "--out", "s.json"), "unknown offline algorithm 'simplex'; known: "),
    (("solve", "{i}", "--algorithm", "cg_bprr", "--option", "colour=1", "--out", "s.json"),
     "unknown cg_bprr option 'colour'; known: design_R"),
    (("solve", "{i}", "--algorithm", "cg_bprr", "--option", "design_R=many", "--out", "s.json"),
     "algorithm.cg_bprr.design_R: Value 'many' of type 'str' could not be converted to Integer"),
    (("solve", "{i}", "--algorithm", "milp", "--solver", "gap=1", "--out", "s.json"), "unknown solver setting 'gap'"),
    (("solve", "{i}", "--algorithm", "milp", "--solver", "rel_gap=tight", "--out", "s.json"),
     "solver.rel_gap: expected a number, got 'tight'"),
    (("solve", "{i}", "--algorithm", "cg_bprr", "--time-limit", "-1", "--out", "s.json"), "--time-limit must be > 0"),
    (("check", "{i}", "{bad}"), "placement[0].num_blocks: missing"),
    (("check", "{i}"), "required: solution"),
    (("frobnicate",), "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(files, args, message):
    (files / "bad.json").write_text(json.dumps({"schema_version": 1, "placement": [{"server": "s0"}], "routes": []}))
    args = [str(a).format(i=files / "i.json", bad=files / "bad.json") for a in args]
    out = bpr(*args, cwd=files)
    assert out.returncode == 2
    assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
    assert message in out.stderr and "Traceback" not in out.stderr


def test_solve_milp_with_time_limit(tmp_path):
    assert bpr("instance", "clustered", "--set", "workload.R=2", "--out", tmp_path / "i.json").returncode == 0
    out = bpr("solve", tmp_path / "i.json", "--algorithm", "milp", "--time-limit", "2", "--solver", "rel_gap=1e-4",
              "--out", tmp_path / "m.json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "feasible"     # CG-BPRR's solution is the MIP start
    sol = json.loads((tmp_path / "m.json").read_text())
    assert sol["settings"]["solver"]["rel_gap"] == 1e-4   # 1e-4 is a number, as on Hydra's command line
    assert sol["settings"]["solver"]["time_limit"] == 2 and sol["termination"] in ("optimal", "time_limit")
    # the runner's limit and clock: the phases on the run's clock, the progress from 0 with the start's cost
    assert sol["time_limit_s"] == 2 and [p["name"] for p in sol["phases"]][:2] == ["heuristic starts", "milp: build"]
    assert sol["solver"]["progress"][0] == [0.0, None, None] and sol["solver"]["progress"][1][1] is not None
    assert bpr("check", tmp_path / "i.json", tmp_path / "m.json").returncode == 0


def test_negative_memory_in_instance_file(files):
    inst = json.loads((files / "i.json").read_text())
    inst["servers"][0]["M"] = -1
    (files / "neg.json").write_text(json.dumps(inst))
    out = bpr("solve", files / "neg.json", "--algorithm", "petals", "--out", files / "p.json")
    assert out.returncode == 2 and "servers[0].M: must be > 0, got -1" in out.stderr


def test_petals_solution_with_memory_violations_exits_1_but_is_written(tmp_path):
    assert bpr("instance", "abovenet", "--out", tmp_path / "i.json").returncode == 0
    out = bpr("solve", tmp_path / "i.json", "--algorithm", "petals", "--out", tmp_path / "p.json")
    result = json.loads(out.stdout)
    assert out.returncode == (0 if result["status"] == "feasible" else 1)
    assert result["status"] == "feasible" or all(v.startswith("memory") for v in result["violations"])
    assert (tmp_path / "p.json").exists()


def test_algorithm_options_reach_the_algorithm(files):
    """A larger design load sizes servers more conservatively (fewer blocks per A100): docs/model.md §5."""
    out = bpr("solve", files / "i.json", "--algorithm", "cg_bprr", "--option", "design_R=100",
              "--out", files / "o.json")
    assert out.returncode == 0, out.stderr
    sol = json.loads((files / "o.json").read_text())
    assert sol["settings"] == {"seed": 0, "design_R": 100} and sol["design_R"] == 100
    # A100: floor(86.13 / (1.3234 + 0.004817 * 100)) = 47 blocks instead of 53 at the instance's own R
    assert max(p["num_blocks"] for p in sol["placement"]) == 47


def test_lower_bounds_exit_0_and_print_the_bound(files):
    out = bpr("solve", files / "i.json", "--algorithm", "lower_bounds", "--option", "extended_lp=false",
              "--out", files / "lb.json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["lower_bound_s"] == result["lower_bounds"]["per_request"] > 0


@pytest.mark.registry
def test_algorithms_lists_the_registry():
    out = bpr("algorithms")
    listing = json.loads(out.stdout)
    offline = {a["name"]: a for a in listing["offline"]}
    assert {"cg_bprr", "petals", "milp", "lower_bounds"} <= set(offline)
    assert offline["cg_bprr"]["options"] == {"design_R": None} and "guarantee_s" in offline["cg_bprr"]["columns"]
    assert offline["cg_bprr"]["option_docs"]["design_R"]["type"] == "int or null"
    # every option of every algorithm says what it is (docs/contributing.md: a comment on the field's line)
    for a in listing["offline"] + listing["online"]:
        assert set(a["option_docs"]) == set(a["options"])
        for name, doc in a["option_docs"].items():
            assert doc["meaning"] and doc["default"] == a["options"][name], (a["name"], name)
    assert {"proposed", "petals"} <= {a["name"] for a in listing["online"]} and listing["unavailable"] == []


@pytest.mark.registry
def test_help_is_plain_text_and_names_the_instances():
    from bench.instance_names import known_instances

    top, inst = bpr("--help").stdout, bpr("instance", "--help").stdout
    assert "``" not in top and "Exit status" in top and "bpr solve" in top
    assert all(name in " ".join(inst.split()) for name in known_instances())


def test_a_reader_that_stops_early_gets_no_traceback():
    proc = subprocess.Popen([sys.executable, "-m", "bpr", "algorithms"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()   # before the command writes anything: every write meets a closed pipe
    assert "Traceback" not in proc.stderr.read()
    assert proc.wait() in (0, 1)


def test_solve_takes_a_library_name_and_writes_to_stdout(tmp_path):
    out = bpr("solve", "library:abilene", "--algorithm", "cg_bprr", "--out", "-")
    assert out.returncode == 0, out.stderr
    sol = json.loads(out.stdout)         # the solution file itself, nothing else on stdout
    assert sol["instance"] == "abilene" and sol["status"] == "feasible"
    (tmp_path / "s.json").write_text(out.stdout)
    assert bpr("check", library_file("abilene"), tmp_path / "s.json").returncode == 0
    unknown = bpr("solve", "library:atlantis", "--algorithm", "cg_bprr", "--out", "-")
    assert unknown.returncode == 2 and "unknown library instance 'atlantis'" in unknown.stderr


def test_solve_never_overwrites_its_own_instance(files, tmp_path):
    inst = tmp_path / "i.json"
    inst.write_text((files / "i.json").read_text())
    before = inst.read_text()
    out = bpr("solve", inst, "--algorithm", "cg_bprr", "--out", inst)
    assert out.returncode == 2 and "is the instance file itself" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and inst.read_text() == before
