"""The three layers (bench -> solvers -> bpr): nothing imports a layer above it (the ``python -m bpr`` entry
module aside), and the domain needs no config library (no omegaconf, no hydra). Inside solvers, the same
holds for its three places (algorithms -> formulations -> framework), and only algorithms declare one."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from factories import ROOT

LAYERS = ["bpr", "solvers", "bench"]            # from the bottom up
SOLVERS = ["framework", "formulations", "algorithms"]   # inside solvers/, from the bottom up
ENTRY = ROOT / "bpr" / "__main__.py"            # the command line of ``python -m bpr`` lives in bench/


def imported(path, depth: int = 1) -> set[str]:
    """Package names (their first ``depth`` parts) a module imports (anywhere in it)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {".".join(a.name.split(".")[:depth]) for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(".".join(node.module.split(".")[:depth]))
    return names


@pytest.mark.parametrize("layer", LAYERS[:2])
def test_no_import_from_a_layer_above(layer):
    above = set(LAYERS[LAYERS.index(layer) + 1:])
    wrong = {str(p.relative_to(ROOT)): sorted(imported(p) & above)
             for p in (ROOT / layer).rglob("*.py") if p != ENTRY and imported(p) & above}
    assert wrong == {}


@pytest.mark.parametrize("place", SOLVERS[:2])
def test_no_solvers_module_imports_a_place_above_its_own(place):
    above = {f"solvers.{p}" for p in SOLVERS[SOLVERS.index(place) + 1:]}
    wrong = {str(p.relative_to(ROOT)): sorted(imported(p, 2) & above)
             for p in (ROOT / "solvers" / place).rglob("*.py") if imported(p, 2) & above}
    assert wrong == {}


def test_only_the_algorithms_place_declares_algorithms():
    def declares(path) -> bool:
        return any(isinstance(d, ast.Call) and getattr(d.func, "id", getattr(d.func, "attr", None)) == "algorithm"
                   for node in ast.parse(path.read_text()).body for d in getattr(node, "decorator_list", []))

    declaring = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "solvers").rglob("*.py")
                       if p.parent != ROOT / "solvers" / "algorithms" and declares(p))
    assert declaring == [] and any(declares(p) for p in (ROOT / "solvers" / "algorithms").glob("*.py"))


def test_the_domain_imports_no_config_library():
    modules = [p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".") for p in (ROOT / "bpr").glob("*.py")
               if p != ENTRY]
    code = (f"import sys\nfor m in {modules!r}: __import__(m)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('omegaconf', 'hydra', 'solvers', 'bench')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_no_script_directory_module_shadows_the_standard_library():
    """``python bench/run.py`` puts bench/ first on sys.path: a bench/numbers.py would replace ``numbers``."""
    shadows = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem in sys.stdlib_module_names)
    assert shadows == []
