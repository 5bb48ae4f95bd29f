"""Tiny hand-made instances for tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from bench.synthetic import random_binding, tiny  # noqa: F401  (the tests' factories, re-exported)
from bpr.instance import Instance
from bpr.online import State
from bpr.simulator import Arrivals
from solvers.framework.context import Context
from solvers.framework.settings import SolverSettings


def solver_ctx(seed: int = 0, **solver) -> Context:
    """A run context with the given solver settings (what the harness passes to exact algorithms)."""
    return Context(seed=seed, solver=SolverSettings.of(solver))


class FixedRoutes:
    """A routing policy that takes given chains, one per request (the simulator's offline check)."""

    name = "fixed"

    def __init__(self, chains: Sequence[Sequence[int]]):
        self.chains = [list(c) for c in chains]

    def route(self, state: State, request: int, client: int, now: float) -> list[int] | None:
        return self.chains[request]


def offline_arrivals(inst: Instance) -> Arrivals:
    """The offline check (docs/simulator.md §1): R requests at t = 0, clients by the largest-remainder split."""
    return Arrivals(np.zeros(inst.R), np.array(inst.request_clients()))


ROOT = Path(__file__).resolve().parents[1]
PARTS = ("bpr", "solvers", "bench", "conf", "instances", "tests")


def copy_project(dest: Path, files: Mapping[str, str]) -> dict[str, str]:
    """A copy of the project at ``dest`` with ``files`` (path -> text) added; the environment that runs it."""
    for part in PARTS:
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")   # a checkout: it reads its own conf/
    for path, text in files.items():
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).write_text(text)
    return {**os.environ, "PYTHONPATH": str(dest)}
