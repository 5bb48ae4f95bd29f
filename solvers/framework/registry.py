"""One registry for every algorithm: offline solutions, lower bounds and online setups.

An algorithm is one module in ``solvers/algorithms/`` that declares itself with the one decorator
(docs/contributing.md has a whole example):

    @dataclass
    class Options:
        reverse: bool = False

    @algorithm("my-greedy", Kind.SOLUTION, options=Options, columns=("my_measure",))
    def solve(inst: Instance, opts: Options, ctx: Context) -> Solution: ...

Discovery reads the source of ``solvers/algorithms/`` (``ast``, nothing imported) to find the modules that declare
algorithms and the names they declare, and imports a module only when one of its algorithms is asked for,
so helper modules are never imported for discovery and ``bpr solve --algorithm cg_bprr`` imports no MILP
solver. A module that fails to import disables only its own algorithms; ``unavailable`` lists them with
the reason (as benchopt's ``is_installed``).

``run`` calls an algorithm under one guard (as benchopt's runner does): it gives the run its context (a
clock that starts at the call, the deadline of its time limit: solvers/framework/context.py), times the
call, records the settings and the phases, checks that the result is of the declared kind, and turns an
exception into a result whose run record says ``error`` with the exception's one-line message (the
traceback goes to the log), a ``Skipped`` into ``skipped``; a failed algorithm never takes the other
algorithms of a job with it.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import io
import logging
import textwrap
import time
import tokenize
import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Callable, Union

import numpy as np

from bpr import schema
from bpr.bounds import Bounds
from bpr.errors import BprInputError, unknown
from bpr.instance import Instance
from bpr.online import OnlineSetup
from bpr.solution import Solution
from bpr.status import CheckStatus, Outcome
from solvers.framework.context import Context, for_run
from solvers.framework.settings import SolverSettings

log = logging.getLogger(__name__)
Result = Union[Solution, Bounds, OnlineSetup]


class Kind(StrEnum):
    SOLUTION = "solution"    # returns a Solution (placement + routes), graded by the one checker
    BOUND = "bound"          # returns Bounds: named lower bounds on the offline optimum
    ONLINE = "online"        # returns an OnlineSetup (placement, cache capacity, routing policy)

    @property
    def mode(self) -> str:
        return "online" if self is Kind.ONLINE else "offline"

    @property
    def result_type(self) -> type:
        return {Kind.SOLUTION: Solution, Kind.BOUND: Bounds, Kind.ONLINE: OnlineSetup}[self]


class Skipped(Exception):
    """Raised by an algorithm that declines to run (a size guard): its row says ``skipped`` and why."""


@dataclass(frozen=True)
class NoOptions:
    """For algorithms without options."""


@dataclass(frozen=True)
class Algorithm:
    name: str
    kind: Kind
    fn: Callable[[Instance, Any, Context], Result]
    options: type = NoOptions
    columns: tuple[str, ...] = ()     # keys of the result's ``info`` that become result columns
    uses_solver: bool = False         # runs a MILP/LP solver: takes ``solver.*``, honours its time limit
    summary: str = ""


@dataclass(frozen=True)
class Unavailable:
    """An algorithm whose module cannot be imported, and why."""

    name: str
    mode: str
    module: str
    reason: str


_REGISTRY: dict[tuple[str, str], Algorithm] = {}
_FAILED: dict[str, str] = {}          # module -> why it cannot be imported
_IMPORTED: set[str] = set()


def algorithm(name: str, kind: Kind | str, *, options: type = NoOptions, columns: tuple[str, ...] = (),
              uses_solver: bool = False) -> Callable[[Callable], Callable]:
    """Declare ``fn(inst, opts, ctx)`` as an algorithm; its docstring's first line is the summary. A name is
    used once per mode; an offline and an online algorithm may share it (``petals``) with one options
    class, because both are configured by ``algorithm.<name>.<option>``. Stacked, the decorator declares
    one function under several names; ``ctx.algorithm`` tells it which one runs.

    The registry keeps ``fn``; the name in the module is ``fn`` with defaults for a direct call (a notebook,
    a test, another algorithm): ``opts`` the options' defaults, ``ctx`` a new run with its own clock and the
    runner's time limit (``time_limit``), as ``run`` gives it."""
    def wrap(fn: Callable) -> Callable:
        raw = getattr(fn, "__wrapped__", fn)      # stacked: the function itself, not the outer default wrapper
        alg = Algorithm(name, Kind(kind), raw, options, tuple(columns), uses_solver,
                        next(iter((raw.__doc__ or "").strip().splitlines()), ""))
        _add(alg)

        @functools.wraps(raw)
        def with_defaults(inst: Instance, opts: Any = None, ctx: Context | None = None) -> Result:
            opts = options() if opts is None else opts
            if ctx is None:
                ctx = Context()
                ctx = for_run(ctx, name, time_limit(alg, opts, ctx.solver))
            return raw(inst, opts, ctx)

        return with_defaults
    return wrap


def time_limit(alg: Algorithm, opts: Any, solver: SolverSettings) -> float | None:
    """The run's time limit, the one rule of the suite: an algorithm's own ``time_limit`` option when it has
    one and it is set, else ``solver.time_limit`` for an algorithm that uses a solver; None for the others
    (heuristics: milliseconds)."""
    own = getattr(opts, "time_limit", None)
    if own is not None:
        return float(own)
    return solver.time_limit if alg.uses_solver else None


def _add(alg: Algorithm) -> None:
    key = (alg.kind.mode, alg.name)
    if key in _REGISTRY and _REGISTRY[key].fn is not alg.fn:
        raise ValueError(f"algorithm '{alg.name}' ({alg.kind.mode}) is declared twice")
    for other in _REGISTRY.values():
        if other.name == alg.name and other.options is not alg.options:
            raise ValueError(f"algorithm '{alg.name}': offline and online declarations must share one "
                             f"options class ({other.options.__name__} vs {alg.options.__name__})")
    if not dataclasses.is_dataclass(alg.options):
        raise TypeError(f"algorithm '{alg.name}': options must be a dataclass, got {alg.options!r}")
    refused = schema.clash([f.name for f in dataclasses.fields(alg.options)], list(alg.columns))
    if refused:
        raise ValueError(f"algorithm '{alg.name}': {refused}")
    _REGISTRY[key] = alg


@cache
def declarations() -> dict[str, list[tuple[str | None, str | None]]]:
    """Module -> the (name, mode) of every ``@algorithm`` in its source, read without importing it (None
    where the name or kind is not a literal or a module-level string constant)."""
    root = Path(__file__).parents[1] / "algorithms"     # read, not imported: the place above the framework
    found: dict[str, list[tuple[str | None, str | None]]] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parents[1]).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        try:
            tree = ast.parse(path.read_text(), str(path))
        except (SyntaxError, UnicodeDecodeError, ValueError) as err:
            found[module] = [(None, None)]
            _FAILED[module] = f"{type(err).__name__}: {err}"
            continue
        decls = _declared(tree)
        if decls:
            found[module] = decls
    return found


def _declared(tree: ast.Module) -> list[tuple[str | None, str | None]]:
    consts = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
              and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
              for t in n.targets if isinstance(t, ast.Name)}

    def literal(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return consts.get(node.id)
        if isinstance(node, ast.Attribute) and node.attr in Kind.__members__:
            return Kind[node.attr].value
        return None

    out = []
    for node in tree.body:
        for dec in getattr(node, "decorator_list", []):
            func = dec.func if isinstance(dec, ast.Call) else None
            if func is not None and getattr(func, "id", getattr(func, "attr", None)) == "algorithm":
                args = [literal(a) for a in dec.args[:2]] + [None, None]
                kind = args[1]
                out.append((args[0], Kind(kind).mode if kind in set(Kind) else None))
    return out


def _load(module: str) -> None:
    """Import one declaring module once; a failure disables its algorithms and is remembered."""
    if module in _IMPORTED or module in _FAILED:
        return
    try:
        importlib.import_module(module)
    except Exception as err:  # any failure of one module must leave the others usable
        _FAILED[module] = _one_line(err)
        log.info("algorithm module %s cannot be imported: %s", module, _FAILED[module])
    _IMPORTED.add(module)


def _modules_for(name: str | None, mode: str) -> list[str]:
    """Modules that may declare ``name`` in ``mode`` (every declaring module for name None)."""
    return [m for m, decls in declarations().items()
            if name is None or any(n in (name, None) and md in (mode, None) for n, md in decls)]


def algorithms(mode: str) -> dict[str, Algorithm]:
    """The available algorithms of a mode (offline / online), by module and declaration order."""
    for module in _modules_for(None, mode):
        _load(module)
    return {n: a for (m, n), a in _REGISTRY.items() if m == mode}


def unavailable() -> list[Unavailable]:
    """Declared algorithms whose module cannot be imported, with the reason."""
    algorithms("offline")
    return [Unavailable(name or "?", mode or "?", module, _FAILED[module])
            for module, decls in declarations().items() if module in _FAILED for name, mode in decls]


@dataclass(frozen=True)
class OptionDoc:
    """One option of an algorithm as users read it (``bpr algorithms``)."""

    name: str
    type: str
    default: Any
    meaning: str


def option_docs(cls: type) -> list[OptionDoc]:
    """The fields of an options dataclass with their type, default and meaning: the comment on the field's
    line in the source of the class that declares it (a subclass inherits its base's; docs/contributing.md
    asks for one per option; empty when there is none)."""
    meaning: dict[str, str] = {}
    for base in reversed(cls.__mro__):
        if dataclasses.is_dataclass(base):
            meaning |= {k: v for k, v in _field_comments(base).items() if v or k not in meaning}
    default = cls()
    hints = typing.get_type_hints(cls)
    return [OptionDoc(f.name, _type_name(hints.get(f.name, f.type)), getattr(default, f.name),
                      meaning.get(f.name, "")) for f in dataclasses.fields(cls)]


def _field_comments(cls: type) -> dict[str, str]:
    """The comment on each field's line in the class's own source."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):   # defined where there is no source (an interactive session)
        return {}
    comments = {tok.start[0]: tok.string.lstrip("# ").strip()
                for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT}
    return {node.target.id: comments.get(node.lineno, "") for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}


def _type_name(tp: Any) -> str:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        return f"{_type_name(args[0])} or null"
    return getattr(tp, "__name__", str(tp).replace("typing.", ""))


def get(name: str, mode: str = "offline") -> Algorithm:
    """One algorithm, importing only the module(s) that declare it."""
    modules = _modules_for(name, mode)
    for module in modules:
        _load(module)
        if (mode, name) in _REGISTRY:
            return _REGISTRY[(mode, name)]
    broken = [m for m in modules if m in _FAILED and any(n == name for n, _ in declarations()[m])]
    if broken:
        raise BprInputError(f"{mode} algorithm '{name}' is unavailable: module {broken[0]} cannot be imported "
                            f"({_FAILED[broken[0]]})")
    raise unknown(f"{mode} algorithm", name, algorithms(mode))


def declared(name: str, mode: str) -> Algorithm:
    """The algorithm ``name`` of ``mode``, else of the other mode (an option node names an algorithm, not a
    mode: options are shared across modes); unknown in both is bad input that lists the names."""
    try:
        return get(name, mode)
    except BprInputError:
        other = "online" if mode == "offline" else "offline"
        if any(n == name for decls in declarations().values() for n, _ in decls):
            return get(name, other)
        raise unknown("algorithm", name, sorted({n for d in declarations().values() for n, _ in d if n})) from None


def settings(alg: Algorithm, opts: Any, ctx: Context) -> dict[str, Any]:
    """What the run depends on besides the instance: seed, options and (for solver users) solver settings."""
    out: dict[str, Any] = {"seed": ctx.seed, **dataclasses.asdict(opts)}
    if alg.uses_solver:
        out["solver"] = dataclasses.asdict(ctx.solver)
    return out


def run(alg: Algorithm, inst: Instance, opts: Any, ctx: Context) -> Result:
    """Call the algorithm under the guard with a new run context (its clock starts now; its deadline is the
    run's time limit); the result's run record holds the outcome, the runner's runtime, the time limit, the
    phases on the run's clock and the settings. An interrupt (Ctrl-C) ends the run as ``interrupted``: the
    caller keeps what finished before it and stops (bench/job.py)."""
    limit = time_limit(alg, opts, ctx.solver)
    ctx = for_run(ctx, alg.name, limit)
    tick = time.perf_counter()
    message = ""
    try:
        result = alg.fn(inst, opts, ctx)
        if not isinstance(result, alg.kind.result_type):
            raise TypeError(f"{alg.name} returned {type(result).__name__}; a {alg.kind} algorithm returns "
                            f"{alg.kind.result_type.__name__}")
        outcome = Outcome.OK
    except Skipped as why:
        result, outcome, message = _empty(alg, inst), Outcome.SKIPPED, str(why)
    except Exception as err:  # one failed algorithm is one error row (benchopt's runner does the same)
        log.exception("algorithm %s failed on %s", alg.name, inst.name)
        result, outcome, message = _empty(alg, inst), Outcome.ERROR, _one_line(err)
    except KeyboardInterrupt:  # Ctrl-C: this run's row says so; the job keeps its finished rows and stops
        log.warning("algorithm %s interrupted on %s", alg.name, inst.name)
        result, outcome, message = _empty(alg, inst), Outcome.INTERRUPTED, "interrupted (Ctrl-C) before it returned"
    record = dataclasses.replace(result.record, outcome=outcome, message=message or result.record.message,
                                 runtime_s=time.perf_counter() - tick, settings=settings(alg, opts, ctx),
                                 time_limit_s=limit, phases=tuple(ctx.clock.phases))
    return dataclasses.replace(result, record=record)


def _empty(alg: Algorithm, inst: Instance) -> Result:
    """The result of an algorithm that returned none (it failed or declined)."""
    if alg.kind is Kind.SOLUTION:
        return Solution(inst.name, alg.name, CheckStatus.NONE)
    if alg.kind is Kind.BOUND:
        return Bounds(inst.name, alg.name)
    return OnlineSetup(alg.name, None, np.zeros(inst.n_servers), None)


def _one_line(err: BaseException) -> str:
    """An exception as one line: bad input by its message alone, anything else with its type."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return text if isinstance(err, BprInputError) else f"{type(err).__name__}: {text}".rstrip(": ")


def call(name: str, inst: Instance, mode: str = "offline", seed: int = 0, options: Any = None,
         solver: SolverSettings | None = None) -> Result:
    """Look up and run one algorithm with its default options or an instance of its options class (for
    notebooks, tests and benchmarks; the harness parses options from configs in bench/options.py)."""
    alg = get(name, mode)
    opts = alg.options() if options is None else options
    if not isinstance(opts, alg.options):
        raise BprInputError(f"{name}: options must be a {alg.options.__name__}, got {type(opts).__name__}")
    return run(alg, inst, opts, Context(seed=seed, solver=solver or SolverSettings()))
