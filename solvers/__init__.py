"""One module per algorithm; ``ALGORITHMS`` maps a name to ``solve(instance, *, seed) -> Solution``."""

from __future__ import annotations

import dataclasses
import inspect
from functools import partial
from typing import Any, Callable

from bpr.errors import BprInputError
from bpr.instance import Instance
from bpr.solution import Solution
from solvers import bounds, cg_bprr, milp, petals

Algorithm = Callable[..., Solution]

ALGORITHMS: dict[str, Algorithm] = {
    cg_bprr.NAME: cg_bprr.solve,
    **{v: partial(petals.solve, variant=v) for v in petals.VARIANTS},
    milp.NAME: milp.solve,
    bounds.NAME: bounds.solve,
}


def get(name: str) -> Algorithm:
    if name not in ALGORITHMS:
        raise BprInputError(f"unknown algorithm '{name}'; known: {', '.join(ALGORITHMS)}")
    return ALGORITHMS[name]


def run(name: str, inst: Instance, seed: int = 0, **options: Any) -> Solution:
    """Run an algorithm; ``options`` (e.g. time_limit) reach only the algorithms whose solve() takes them,
    and the ones applied are recorded in the solution's ``settings``."""
    fn = get(name)
    accepted = inspect.signature(fn).parameters
    applied = {k: v for k, v in options.items() if k in accepted and v is not None}
    sol = fn(inst, seed=seed, **applied)
    return dataclasses.replace(sol, info={**sol.info, "settings": {"seed": seed, **applied}})
