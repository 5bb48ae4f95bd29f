"""One module per algorithm; ``ALGORITHMS`` maps a name to ``solve(instance, *, seed) -> Solution``."""

from __future__ import annotations

from functools import partial
from typing import Callable

from bpr.errors import BprInputError
from bpr.instance import Instance
from bpr.solution import Solution
from solvers import cg_bprr, petals

Algorithm = Callable[..., Solution]

ALGORITHMS: dict[str, Algorithm] = {
    cg_bprr.NAME: cg_bprr.solve,
    **{v: partial(petals.solve, variant=v) for v in petals.VARIANTS},
}


def get(name: str) -> Algorithm:
    if name not in ALGORITHMS:
        raise BprInputError(f"unknown algorithm '{name}'; known: {', '.join(ALGORITHMS)}")
    return ALGORITHMS[name]


def run(name: str, inst: Instance, seed: int = 0) -> Solution:
    return get(name)(inst, seed=seed)
