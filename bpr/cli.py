"""``python -m bpr instance|solve|check|evaluate`` (SPEC 3).

JSON on stdout; exit 0 on success, 2 on bad input (one line on stderr naming the problem), 1 when the
checked solution is infeasible or the algorithm found none.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn

import yaml

from bpr import instance as instance_io
from bpr import solution as solution_io
from bpr.checker import check
from bpr.errors import BprInputError
from bpr.evaluator import UnsoundSolution, evaluate
from bpr.grading import grade


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise BprInputError(message)


def _emit(payload: dict[str, Any]) -> None:
    json.dump(payload, sys.stdout, indent=1, allow_nan=False, default=float)
    sys.stdout.write("\n")


def _overrides(pairs: list[str]) -> dict[str, Any]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BprInputError(f"--set expects key=value, got '{pair}'")
        out[key] = yaml.safe_load(value)
    return out


def cmd_instance(args: argparse.Namespace) -> int:
    from solvers.design_load import make_instance

    inst = make_instance(args.name, args.seed, _overrides(args.set))
    inst.save(args.out)
    _emit({"instance": inst.name, "servers": inst.n_servers, "clients": len(inst.clients), "L": inst.L,
           "R": inst.R, "out": args.out})
    return 0


def cmd_solve(args: argparse.Namespace) -> int:
    import solvers

    if args.time_limit is not None and args.time_limit <= 0:
        raise BprInputError(f"--time-limit must be > 0, got {args.time_limit}")
    inst = instance_io.load(args.instance)
    graded = grade(inst, solvers.run(args.algorithm, inst, seed=args.seed, time_limit=args.time_limit))
    sol = graded.solution
    sol.save(args.out)
    _emit({"algorithm": sol.algorithm, "status": sol.status, "objective": sol.objective,
           "runtime_s": sol.runtime_s, "violations": sol.info.get("violations", []),
           "message": sol.info.get("message", ""), "out": args.out})
    return 0 if sol.status == "feasible" else 1


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


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m bpr", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    q = sub.add_parser("instance", help="generate a named scenario (SPEC 1.2) into an instance file")
    q.add_argument("name")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="scenario parameter, e.g. servers=30, a100_fraction=0.5, workload.l_out=64")
    q.add_argument("--out", required=True)
    q.set_defaults(run=cmd_instance)
    q = sub.add_parser("solve", help="run an algorithm, check and evaluate its solution, write it")
    q.add_argument("instance")
    q.add_argument("--algorithm", required=True)
    q.add_argument("--time-limit", type=float, default=None, help="seconds, for algorithms that take one")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--out", required=True)
    q.set_defaults(run=cmd_solve)
    for name, fn, text in (("check", cmd_check, "list every violation of a solution"),
                           ("evaluate", cmd_evaluate, "cost of a solution (SPEC 2-3)")):
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
