"""``bpr`` (or ``python -m bpr``) ``instance|solve|check|evaluate|algorithms`` (docs/formats.md §3).

JSON on stdout; exit 0 on success, 2 on bad input (one line on stderr naming the problem), 1 when the
checked solution is infeasible or the algorithm found none. It lives above the domain and the algorithms:
``solve`` runs any registered algorithm, ``instance`` builds named instances with R by §7.3.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from bench.instance_names import known_instances
from bench.options import check_for_instance, make_options
from bpr import instance as instance_io
from bpr import solution as solution_io
from bpr.checker import check
from bpr.errors import BprInputError
from bpr.evaluator import UnsoundSolution, evaluate
from bpr.files import check_writable, dumps, read_yaml
from bpr.grading import grade
from bpr.status import CheckStatus, Outcome, Termination, joined
from solvers.framework import registry
from solvers.framework.context import Context
from solvers.framework.registry import Kind
from solvers.framework.settings import SolverSettings


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise BprInputError(message)


def _emit(payload: dict[str, Any]) -> None:
    json.dump(payload, sys.stdout, indent=1, allow_nan=False, default=float)
    sys.stdout.write("\n")


def _overrides(pairs: list[str], flag: str = "--set") -> dict[str, Any]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BprInputError(f"{flag} expects key=value, got '{pair}'")
        out[key] = _value(value)
    return out


def _value(text: str) -> Any:
    """A command-line value as YAML reads it, except that a number in exponent form without a dot (1e-4) is a
    number, as on Hydra's command line (YAML 1.1 reads it as a string)."""
    value = read_yaml(text)
    if isinstance(value, str):
        try:
            return float(value) if any(ch.isdigit() for ch in value) else value
        except ValueError:
            return value
    return value


def cmd_instance(args: argparse.Namespace) -> int:
    from bench.instance_builder import (
        make_instance,  # pandas and Hydra: only this command needs them
    )

    check_writable(args.out)
    inst = make_instance(args.name, args.seed, _overrides(args.set))
    inst.save(args.out)
    _emit({"instance": inst.name, "servers": inst.n_servers, "clients": len(inst.clients), "L": inst.L,
           "R": inst.R, "out": args.out})
    return 0


def cmd_solve(args: argparse.Namespace) -> int:
    if args.time_limit is not None and args.time_limit <= 0:
        raise BprInputError(f"--time-limit must be > 0, got {args.time_limit}")
    alg = registry.get(args.algorithm, "offline")
    opts = make_options(alg, _overrides(args.option, "--option"))
    solver = SolverSettings.of(_overrides(args.solver, "--solver"), time_limit=args.time_limit)
    if alg.uses_solver:
        from solvers.framework import (
            backend,  # only a model-based algorithm needs the solver layer
        )

        backend.require_available(solver.name)
    from bench.instance_builder import instance_file

    path = instance_file(args.instance)
    inst = instance_io.load(path)
    check_for_instance(opts, inst)
    to_stdout = args.out == "-"
    if not to_stdout:
        if Path(args.out).resolve() == Path(path).resolve():
            raise BprInputError(f"--out {args.out} is the instance file itself: it would be overwritten")
        check_writable(args.out)  # before the solve: a result is never computed only to be lost
    result = registry.run(alg, inst, opts, Context(seed=args.seed, solver=solver))
    record = result.record
    payload = {"algorithm": alg.name, "outcome": str(record.outcome), "runtime_s": record.runtime_s}
    if alg.kind is Kind.BOUND:
        if to_stdout:      # the result file is the output: one JSON document on stdout
            sys.stdout.write(dumps(result.to_dict()) + "\n")
            return 0 if record.outcome is Outcome.OK else 1
        result.save(args.out)
        payload |= {"status": joined(record.outcome, Termination.SOLVED), "lower_bound_s": result.best_s,
                    "lower_bounds": {name: bound.value_s for name, bound in result.bounds.items()},
                    "message": "; ".join(filter(None, [record.message] + [f"{name}: {bound.message}" for name, bound
                                                                          in result.bounds.items() if bound.message]))}
        ok = record.outcome is Outcome.OK
    else:
        sol = grade(inst, result).solution
        if to_stdout:
            sys.stdout.write(dumps(sol.to_dict()) + "\n")
            return 0 if sol.status == CheckStatus.FEASIBLE else 1
        sol.save(args.out)
        warning = record.solver.warning if record.solver else ""
        payload |= {"status": sol.status if sol.has_solution else joined(record.outcome, sol.termination),
                    "termination": None if sol.termination is None else str(sol.termination),
                    "objective": sol.objective, "violations": sol.info.get("violations", []),
                    "message": "; ".join(filter(None, [sol.message or record.message, warning]))}
        ok = sol.status == CheckStatus.FEASIBLE
    _emit(payload | {"out": args.out})
    return 0 if ok else 1


def cmd_algorithms(args: argparse.Namespace) -> int:
    """Every available algorithm (name, kind, options with defaults, declared columns, summary) and every
    declared one whose module cannot be imported, with the reason."""
    listing: dict[str, Any] = {
        mode: [{"name": a.name, "kind": str(a.kind), "uses_solver": a.uses_solver, "summary": a.summary,
                "options": dataclasses.asdict(a.options()),
                "option_docs": {d.name: {"type": d.type, "default": d.default, "meaning": d.meaning}
                                for d in registry.option_docs(a.options)},
                "columns": list(a.columns)}
               for a in registry.algorithms(mode).values()] for mode in ("offline", "online")}
    listing["unavailable"] = [dataclasses.asdict(u) for u in registry.unavailable()]
    if args.format == "table":
        print(algorithms_text(listing))
    else:
        _emit(listing)
    return 0


def algorithms_text(listing: dict[str, Any]) -> str:
    """The listing for people: per mode, each algorithm with its kind and summary, then an option per line
    (type = default (meaning); ``--option name=value`` for bpr solve, ``algorithm.<name>.<option>=value`` for
    bench/run.py) and its declared columns."""
    lines = []
    for mode in ("offline", "online"):
        lines.append(f"{mode} algorithms ({len(listing[mode])}):")
        for a in listing[mode]:
            solver = ", uses a solver" if a["uses_solver"] else ""
            lines.append(f"  {a['name']} ({a['kind']}{solver}): {a['summary']}")
            for name, doc in a["option_docs"].items():
                lines.append(f"      {name}: {doc['type']} = {json.dumps(doc['default'])}"
                             + (f"  ({doc['meaning']})" if doc["meaning"] else ""))
            if a["columns"]:
                lines.append(f"      columns: {', '.join(a['columns'])}")
        lines.append("")
    for u in listing["unavailable"]:
        lines.append(f"unavailable: {u['name']} ({u['mode']}, {u['module']}): {u['reason']}")
    return "\n".join(lines).rstrip()


def cmd_check(args: argparse.Namespace) -> int:
    inst, sol = instance_io.load(args.instance), solution_io.load(args.solution)
    report = check(inst, sol)
    _emit({"feasible": report.feasible, "violations": [{"kind": v.kind, "message": v.message}
                                                       for v in report.violations]})
    return 0 if report.feasible else 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    inst, sol = instance_io.load(args.instance), solution_io.load(args.solution)
    try:
        ev = evaluate(inst, sol)
    except UnsoundSolution as err:
        _emit({"objective": None, "feasible": False, "violations": [str(v) for v in err.report.violations]})
        return 1
    _emit({"objective": ev.per_token_s, "total_offline_s": float(ev.offline_s.sum()),
           "mean_full_service_s": float(ev.full_s.mean()), "feasible": ev.feasible,
           "violations": [str(v) for v in ev.report.violations],
           "per_request_offline_s": ev.offline_s.tolist(), "per_request_full_s": ev.full_s.tolist()})
    return 0 if ev.feasible else 1


DESCRIPTION = "Build instances, run any registered algorithm, check and evaluate solutions (docs/formats.md §3)."
EPILOG = """\
Every command prints JSON on stdout (bpr algorithms --format table: a listing for people). Exit status:
0 success, 1 the solution is infeasible or the algorithm found none, 2 bad input (one line on stderr that
names the problem).

examples:
  bpr instance bellcanada --seed 0 --out inst.json
  bpr solve inst.json --algorithm cg_bprr --out sol.json
  bpr check inst.json sol.json
  bpr algorithms --format table  every algorithm with its options (type, default, meaning)

Sweeps, reports and the library: bpr-bench (python bench/run.py), see README."""


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bpr", description=DESCRIPTION, epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    q = sub.add_parser("instance", help="generate a named scenario (docs/model.md §1.2) into an instance file")
    q.add_argument("name", help=f"a named instance: {', '.join(known_instances())}")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="scenario parameter, e.g. servers=30, a100_fraction=0.5, workload.l_out=64")
    q.add_argument("--out", required=True)
    q.set_defaults(run=cmd_instance)
    q = sub.add_parser("solve", help="run an algorithm, check and evaluate its solution, write it")
    q.add_argument("instance", help="an instance file, or library:NAME (docs/library.md)")
    q.add_argument("--algorithm", required=True, help="a registered offline algorithm (bpr algorithms)")
    q.add_argument("--time-limit", type=float, default=None, help="seconds, for algorithms that use a solver")
    q.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="an option the algorithm declares (bpr algorithms lists them)")
    q.add_argument("--solver", action="append", default=[], metavar="KEY=VALUE",
                   help="solver setting for algorithms that use one, e.g. rel_gap=0, threads=2")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--out", required=True, help="the solution file; - writes it to stdout (instead of the summary)")
    q.set_defaults(run=cmd_solve)
    q = sub.add_parser("algorithms", help="list the registered algorithms, their options and columns")
    q.add_argument("--format", choices=("json", "table"), default="json",
                   help="json (for scripts, the default) or table (for people)")
    q.set_defaults(run=cmd_algorithms)
    for name, fn, text in (("check", cmd_check, "list every violation of a solution"),
                           ("evaluate", cmd_evaluate, "cost of a solution (docs/model.md §2-3)")):
        q = sub.add_parser(name, help=text)
        q.add_argument("instance")
        q.add_argument("solution")
        q.set_defaults(run=fn)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
        return args.run(args)
    except BprInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader stopped early (``| head``): no traceback, no further writes
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def main_exit() -> None:
    """The ``bpr`` console command."""
    sys.exit(main())
