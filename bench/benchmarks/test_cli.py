"""Wall time of a CLI call that needs no solver: ``bpr solve`` with CG-BPRR on abovenet, start to exit
(interpreter start and imports included; the issue's target is 0.5 s, the minimum of repeated runs)."""

import subprocess
import sys

import pytest

from bench.instance_builder import make_instance


@pytest.fixture(scope="module")
def abovenet(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "abovenet.json"
    make_instance("abovenet", 0).save(path)
    return path


def test_bpr_solve_cg_bprr_abovenet(benchmark, abovenet):
    def call():
        return subprocess.run([sys.executable, "-m", "bpr", "solve", str(abovenet), "--algorithm", "cg_bprr",
                               "--out", str(abovenet.with_name("sol.json"))], capture_output=True, text=True)

    out = benchmark.pedantic(call, rounds=7, iterations=1)
    assert out.returncode == 0, out.stderr
