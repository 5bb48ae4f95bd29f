"""One registry for every algorithm: offline solutions, lower bounds and online setups.

An algorithm is one module in ``solvers/`` that declares itself (docs/contributing.md has a whole example):

    @dataclass
    class Options:
        reverse: bool = False

    @algorithm("my-greedy", Kind.SOLUTION, options=Options, columns=("my_measure",))
    def solve(inst: Instance, opts: Options, ctx: Context) -> Solution: ...

The registry imports every module of the ``solvers`` package once and collects the declarations. ``run``
checks the options against the declared dataclass (unknown names and wrong types are bad input that names
them), times the call (no algorithm measures its own runtime) and records the settings it ran with.
An offline and an online algorithm may share a name (``petals``); they then share one options class,
because both are configured by ``algorithm.<name>.<option>``.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Callable, Mapping

from bpr.errors import BprInputError, unknown
from bpr.fields import integer, typed
from bpr.instance import Instance
from bpr.limits import MAX_SEED
from solvers.settings import SolverSettings


class Kind(StrEnum):
    SOLUTION = "solution"    # returns a Solution (placement + routes), graded by the one checker
    BOUND = "bound"          # returns lower bounds on the offline optimum (Solution.info["lower_bounds"])
    ONLINE = "online"        # returns an OnlineSetup (placement, cache capacity, routing policy)

    @property
    def mode(self) -> str:
        return "online" if self is Kind.ONLINE else "offline"


@dataclass(frozen=True)
class NoOptions:
    """For algorithms without options."""


@dataclass(frozen=True)
class Context:
    """What the harness gives every algorithm besides the instance and its options."""

    seed: int = 0
    solver: SolverSettings = field(default_factory=SolverSettings)
    log_dir: Path | None = None       # the job directory: solver logs go below it

    def __post_init__(self) -> None:
        integer(self.seed, "seed", lo=0, hi=MAX_SEED)


@dataclass(frozen=True)
class Algorithm:
    name: str
    kind: Kind
    fn: Callable[[Instance, Any, Context], Any]
    options: type = NoOptions
    columns: tuple[str, ...] = ()     # keys of the result's ``info`` that become result columns
    uses_solver: bool = False         # runs a MILP/LP solver: takes ``solver.*``, honours its time limit
    summary: str = ""


_REGISTRY: dict[tuple[str, str], Algorithm] = {}
_discovered = False


def register(alg: Algorithm) -> Algorithm:
    """Add one declaration; a name may be used once per mode, with one options class across modes."""
    key = (alg.kind.mode, alg.name)
    if key in _REGISTRY and _REGISTRY[key].fn is not alg.fn:
        raise ValueError(f"algorithm '{alg.name}' ({alg.kind.mode}) is declared twice")
    for other in _REGISTRY.values():
        if other.name == alg.name and other.options is not alg.options:
            raise ValueError(f"algorithm '{alg.name}': offline and online declarations must share one "
                             f"options class ({other.options.__name__} vs {alg.options.__name__})")
    if not dataclasses.is_dataclass(alg.options):
        raise TypeError(f"algorithm '{alg.name}': options must be a dataclass, got {alg.options!r}")
    _REGISTRY[key] = alg
    return alg


def algorithm(name: str, kind: Kind | str, *, options: type = NoOptions, columns: tuple[str, ...] = (),
              uses_solver: bool = False) -> Callable[[Callable], Callable]:
    """Decorator form of ``register`` for ``fn(inst, opts, ctx)``; its docstring's first line is the summary."""
    def wrap(fn: Callable) -> Callable:
        register(Algorithm(name, Kind(kind), fn, options, tuple(columns), uses_solver,
                           next(iter((fn.__doc__ or "").strip().splitlines()), "")))
        return fn
    return wrap


def _discover() -> None:
    """Import every module of the solvers package (and its subpackages' __init__) once."""
    global _discovered
    if _discovered:
        return
    import solvers

    for info in sorted(pkgutil.iter_modules(solvers.__path__), key=lambda m: m.name):
        module = f"solvers.{info.name}"
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise BprInputError(f"algorithm module {module} cannot be imported: {err}") from None
    _discovered = True


def algorithms(mode: str) -> dict[str, Algorithm]:
    """Registered algorithms of a mode (offline / online), in declaration order."""
    _discover()
    return {n: a for (m, n), a in _REGISTRY.items() if m == mode}


def option_classes() -> dict[str, type]:
    """Options class per algorithm name (one per name across modes): the Hydra node ``algorithm``."""
    _discover()
    return {a.name: a.options for a in _REGISTRY.values()}


def default_names(mode: str) -> list[str]:
    """The algorithms a run uses when none are listed: every online algorithm online; offline, every
    solution algorithm that needs no MILP solver (the heuristics)."""
    return [n for n, a in algorithms(mode).items()
            if mode == "online" or (a.kind is Kind.SOLUTION and not a.uses_solver)]


def get(name: str, mode: str = "offline") -> Algorithm:
    known = algorithms(mode)
    if name not in known:
        raise unknown(f"{mode} algorithm", name, known)
    return known[name]


def make_options(alg: Algorithm, values: Mapping[str, Any] | None = None) -> Any:
    """The algorithm's options dataclass from ``values``; an undeclared name or a wrong type is bad input."""
    return typed(alg.options, values or {}, f"{alg.name} option", f"algorithm.{alg.name}")


def settings(alg: Algorithm, opts: Any, ctx: Context) -> dict[str, Any]:
    """What the run depends on besides the instance: seed, options and (for solver users) solver settings."""
    out: dict[str, Any] = {"seed": ctx.seed, **dataclasses.asdict(opts)}
    if alg.uses_solver:
        out["solver"] = dataclasses.asdict(ctx.solver)
    return out


def run(alg: Algorithm, inst: Instance, opts: Any, ctx: Context) -> Any:
    """Call the algorithm and time it: the result's ``runtime_s`` is the runner's measurement and its
    ``info["settings"]`` what it ran with."""
    tick = time.perf_counter()
    result = alg.fn(inst, opts, ctx)
    elapsed = time.perf_counter() - tick
    return dataclasses.replace(result, runtime_s=elapsed, info={**result.info, "settings": settings(alg, opts, ctx)})


def call(name: str, inst: Instance, mode: str = "offline", seed: int = 0, options: Mapping[str, Any] | None = None,
         solver: SolverSettings | None = None) -> Any:
    """Look up, configure and run one algorithm (for notebooks, tests and benchmarks)."""
    alg = get(name, mode)
    return run(alg, inst, make_options(alg, options), Context(seed=seed, solver=solver or SolverSettings()))
