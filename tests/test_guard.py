"""The runner's guard and discovery (solvers/framework/registry.py): one failed algorithm is one error row, in a
single run and in a sweep, while the other algorithms' rows and solutions are kept; a module that cannot
be imported disables only its own algorithms; a result of the wrong kind, a skip and a clash of file keys
are named; discovery imports only what is asked for."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import subprocess
import sys

import pandas as pd
import pytest
from factories import copy_project, tiny

from bpr.errors import BprInputError
from bpr.instance import Instance
from bpr.solution import Solution
from bpr.status import Outcome, Termination
from solvers.framework import registry
from solvers.framework.context import Context
from solvers.framework.registry import Algorithm, Kind, NoOptions, Skipped, algorithm

pytestmark = pytest.mark.xdist_group("test_guard")   # its tests share an expensive module fixture

RAISES = '''"""An algorithm that always fails (a test of the runner's guard)."""
from solvers.framework.registry import Kind, algorithm


@algorithm("raises", Kind.SOLUTION)
def solve(inst, opts, ctx):
    """Always raises."""
    raise RuntimeError(f"boom at {inst.name}")
'''
BROKEN_IMPORT = '''"""An algorithm whose module cannot be imported."""
import no_such_package_xyz  # noqa: F401
from solvers.framework.registry import Kind, algorithm


@algorithm("needs-xyz", Kind.SOLUTION)
def solve(inst, opts, ctx):
    """Needs a package that is not installed."""
'''


def _alg(fn, kind: Kind = Kind.SOLUTION) -> Algorithm:
    return Algorithm("probe", kind, fn, NoOptions)


@pytest.fixture
def inst() -> Instance:
    return tiny(3, M=[10.0], tau=[0.01], t=[[0.1]], R=2)


def test_an_exception_is_an_error_result_with_its_message_and_the_traceback_in_the_log(inst, caplog):
    def fails(inst, opts, ctx):
        raise RuntimeError("boom\nsecond line")

    with caplog.at_level(logging.ERROR):
        result = registry.run(_alg(fails), inst, NoOptions(), Context(seed=3))
    assert isinstance(result, Solution) and not result.has_solution
    assert result.record.outcome is Outcome.ERROR and result.record.message == "RuntimeError: boom"
    assert result.record.runtime_s >= 0 and result.record.settings == {"seed": 3}
    assert "Traceback" in caplog.text and "second line" in caplog.text


def test_a_result_of_the_wrong_kind_is_an_error(inst):
    result = registry.run(_alg(lambda i, o, c: {"placement": []}, Kind.BOUND), inst, NoOptions(), Context())
    assert result.record.outcome is Outcome.ERROR
    assert result.record.message == "TypeError: probe returned dict; a bound algorithm returns Bounds"


def test_a_skip_is_skipped_with_its_reason(inst):
    def declines(inst, opts, ctx):
        raise Skipped("too large: 9 variables > solver.max_vars = 1")

    result = registry.run(_alg(declines, Kind.ONLINE), inst, NoOptions(), Context())
    assert result.record.outcome is Outcome.SKIPPED and result.record.message.startswith("too large")
    assert result.placement is None


def test_an_interrupt_ends_the_run_as_interrupted(inst):
    """Ctrl-C is not an algorithm's error: its row says interrupted, and the job stops after it (tests/test_run.py
    test_ctrl_c_keeps_the_finished_rows_and_says_so_in_one_line)."""
    def interrupted(inst, opts, ctx):
        raise KeyboardInterrupt

    result = registry.run(_alg(interrupted), inst, NoOptions(), Context())
    assert result.record.outcome is Outcome.INTERRUPTED and "Ctrl-C" in result.record.message
    assert not result.has_solution


def test_extras_cannot_overwrite_the_fields_of_a_file(inst):
    with pytest.raises(ValueError, match="info key 'routes' would overwrite a field"):
        Solution("x", "y", info={"routes": []})
    with pytest.raises(BprInputError, match="extra key 'servers' would overwrite a field"):
        Instance(**{**inst.__dict__, "extra": {"servers": 1}})


def test_a_solver_that_raises_is_a_termination_not_a_crash(monkeypatch):
    """The backend turns a solver exception into a result (termination error), as its docstring says: here
    HiGHS's process raises on a model it cannot read."""
    from solvers.algorithms import exact
    from solvers.framework import highs_process

    monkeypatch.setattr(highs_process, "model_arrays", lambda h: {"num_col": 1})
    inst = tiny(3, M=[10.0], tau=[0.01], t=[[0.1]], R=2)
    sol = exact.solve(inst, ctx=Context())
    assert sol.termination is Termination.ERROR and not sol.has_solution
    assert sol.record.solver.raw_status == "KeyError: 'num_row'" and "KeyError: 'num_row'" in sol.message


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("guard") / "project"
    return root, copy_project(root, {"solvers/algorithms/raises.py": RAISES,
                                     "solvers/algorithms/broken_import.py": BROKEN_IMPORT})


def _run(project, *args, module: str = "bench/run.py"):
    root, env = project
    command = [sys.executable, *(["-m", "bpr"] if module == "bpr" else [str(root / module)]), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=root)


def test_a_failing_algorithm_beside_cg_bprr_in_a_single_run(project, tmp_path):
    out = _run(project, "instance=abovenet", "algorithms=[cg_bprr,raises]", f"hydra.run.dir={tmp_path}")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [f"error: raises failed (see the message column and "
                                               f"{tmp_path / 'run.log'})"]
    df = pd.read_csv(tmp_path / "results.csv").set_index("algorithm")
    assert df.loc["cg_bprr"].check_status == "feasible" and df.loc["cg_bprr"].per_token_s > 0
    failed = df.loc["raises"]
    assert (failed.status, failed.outcome, failed.message) == ("error", "error", "RuntimeError: boom at abovenet-s0")
    assert (tmp_path / "solutions" / "cg_bprr.json").exists() and not (tmp_path / "solutions" / "raises.json").exists()
    log = (tmp_path / "run.log").read_text()
    assert "Traceback" in log and "boom at abovenet-s0" in log
    assert "raises: RuntimeError: boom at abovenet-s0" in out.stdout   # the console notes it too


def test_a_failing_algorithm_in_a_sweep_fails_only_its_rows_and_is_rerun_on_resume(project, tmp_path):
    args = ("-m", f"hydra.sweep.dir={tmp_path / 's'}", "instance=abovenet", "seed=0,1", "algorithms=[cg_bprr,raises]")
    out = _run(project, *args)
    assert out.returncode == 1 and "failed jobs: " in out.stderr
    df = pd.read_parquet(tmp_path / "s" / "results.parquet")
    assert sorted(df[df.status == "error"].algorithm) == ["raises", "raises"]
    assert (df[df.algorithm == "cg_bprr"].check_status == "feasible").all() and len(df) == 4
    again = _run(project, *args, "resume=true")
    assert again.returncode == 1 and "skipped (resume)" not in again.stdout   # not a successful job: rerun


def test_a_module_that_cannot_be_imported_disables_only_its_algorithms(project, tmp_path):
    listing = json.loads(_run(project, "algorithms", module="bpr").stdout)
    reason = "ModuleNotFoundError: No module named 'no_such_package_xyz'"
    assert listing["unavailable"] == [{"name": "needs-xyz", "mode": "offline",
                                       "module": "solvers.algorithms.broken_import", "reason": reason}]
    assert "cg_bprr" in {a["name"] for a in listing["offline"]}
    made = _run(project, "instance", "abovenet", "--out", tmp_path / "i.json", module="bpr")
    assert made.returncode == 0, made.stderr
    refused = _run(project, "solve", tmp_path / "i.json", "--algorithm", "needs-xyz", "--out", tmp_path / "s.json",
                   module="bpr")
    assert refused.returncode == 2 and refused.stderr.strip() == (
        f"error: offline algorithm 'needs-xyz' is unavailable: module solvers.algorithms.broken_import cannot be "
        f"imported ({reason})")
    solved = _run(project, "solve", tmp_path / "i.json", "--algorithm", "cg_bprr", "--out", tmp_path / "s.json",
                  module="bpr")
    assert solved.returncode == 0 and json.loads(solved.stdout)["status"] == "feasible"


def test_asking_for_one_algorithm_imports_only_its_module():
    code = ("import sys; from solvers.framework import registry; registry.get('cg_bprr'); "
            "print(sorted(m for m in sys.modules if m.startswith(('solvers.', 'pyomo')) and m.count('.') < 3))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert eval(out.stdout) == ["solvers.algorithms", "solvers.algorithms.cg_bprr", "solvers.framework",
                                "solvers.framework.context", "solvers.framework.registry", "solvers.framework.settings"]


@pytest.mark.parametrize("options, columns, says", [
    ("seed", (), "option 'seed' would be written as p_seed, a setting the harness writes itself"),
    ("solver_threads", (), "option 'solver_threads' would be written as p_solver_threads"),
    (None, ("runtime_s",), "column 'runtime_s' is a column of the results schema"),
])
def test_an_option_or_column_that_clashes_with_the_schema_is_refused_when_it_registers(options, columns, says):
    """An option named like a setting the harness writes would be dropped from the row, a column named like
    a schema column would overwrite it: the registry refuses both, naming the name."""
    fields = [(options, int, 0)] if options else []
    opts = dataclasses.make_dataclass("Opts", fields)
    with pytest.raises(ValueError, match=re.escape(says)):
        @algorithm("clashes", Kind.SOLUTION, options=opts, columns=columns)
        def solve(inst, o, ctx):
            """Never registered."""
    assert "clashes" not in registry.algorithms("offline")


def test_the_provenance_columns_are_the_schemas():
    from bench.provenance import provenance
    from bpr import schema

    assert tuple(provenance()) == schema.PROVENANCE
