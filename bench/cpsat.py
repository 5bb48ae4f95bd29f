"""CP-SAT on the extended formulation, for comparison with the suite's exact methods (docs/formulations.md §9,
"Against constraint programming"). CP-SAT takes integers only, so:

- the window-ends variables Y (sums of binaries) become integers, and each flow g gets the upper bound R;
- the model is the extended formulation with idle servers allowed and its two all-integer strengthenings
  (memory caps, window memory); the memory-capacity cuts have continuous variables and are left out;
- the cost coefficients (t + tau k) / R are scaled by ``--scale`` and rounded. Every request adds at most L
  coefficients to the objective, so the scaled objective divided by the scale differs from the true one by at
  most L / (2 scale) per token: the report gives that error with CP-SAT's incumbent and bound.

    pip install -e ".[compare]"
    python bench/cpsat.py instances/library/instances/abovenet-binding.json --seconds 120 --workers 2

Exit 2 with one line when the instance cannot be read or OR-Tools is not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from bench.provenance import provenance
from bpr import instance as instance_io
from bpr.errors import BprInputError
from solvers.formulations.extended.model import ExactFormulation, Options


def integer_model(inst: instance_io.Instance, scale: float) -> pyo.ConcreteModel:
    """The extended formulation with every variable integer and bounded, and integer cost coefficients."""
    model = ExactFormulation(inst, Options(allow_idle=True, memory_caps=True, window_memory=True)).build()
    for var in model.component_data_objects(pyo.Var):
        if var.is_continuous():
            var.domain = pyo.NonNegativeIntegers
        if var.ub is None:
            var.setub(inst.R)
    repn = generate_standard_repn(model.cost.expr)
    model.cost.deactivate()
    model.scaled = pyo.Objective(expr=pyo.quicksum(round(c * scale) * v for c, v in zip(
        repn.linear_coefs, repn.linear_vars, strict=True)), sense=pyo.minimize)
    return model


@contextmanager
def captured_stdout() -> Iterator[list[str]]:
    """CP-SAT's C++ log, written to file descriptor 1 (its Python log callback does not bind in OR-Tools
    9.15), read into the list when the block ends."""
    lines: list[str] = []
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+") as out:
        os.dup2(out.fileno(), 1)
        try:
            yield lines
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            out.seek(0)
            lines.extend(out.read().splitlines())


def summary(log: list[str], key: str) -> float | None:
    """The last ``key: value`` of CP-SAT's response summary in its log (None when absent or infinite)."""
    values = [line.split(":", 1)[1] for text in log for line in text.splitlines() if line.startswith(f"{key}:")]
    value = float(values[-1]) if values else None
    return value if value is not None and abs(value) != float("inf") else None


def solve(path: Path, seconds: float, workers: int, scale: float) -> dict:
    try:
        from ortools.linear_solver.python import model_builder
    except ImportError as err:
        raise BprInputError(f"OR-Tools is not installed ({err}): pip install -e \".[compare]\"") from None
    inst = instance_io.load(path)
    model = integer_model(inst, scale)
    with tempfile.TemporaryDirectory() as tmp:
        mps = Path(tmp) / "model.mps"
        model.write(str(mps), io_options={"symbolic_solver_labels": False})
        builder = model_builder.Model()
        builder.import_from_mps_file(str(mps))
    solver = model_builder.Solver("sat")
    solver.set_time_limit_in_seconds(seconds)
    # the wrapper reports no bound unless CP-SAT proved optimality: its log's summary has it
    solver.set_solver_specific_parameters(f"num_workers: {workers}, log_search_progress: true")
    solver.enable_output(True)
    tick = time.perf_counter()
    with captured_stdout() as log:
        status = solver.solve(builder)
    found = status in (model_builder.SolveStatus.OPTIMAL, model_builder.SolveStatus.FEASIBLE)
    bound = summary(log, "best_bound")
    return {"instance": inst.name, "status": status.name, "seconds": round(time.perf_counter() - tick, 1),
            "workers": workers, "incumbent_s": solver.objective_value / scale if found else None,
            "bound_s": None if bound is None else bound / scale,
            "scaling_error_s": inst.L / (2 * scale), "variables": builder.num_variables,
            "provenance": provenance()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/cpsat.py", description=__doc__.splitlines()[0])
    p.add_argument("instance", type=Path)
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--scale", type=float, default=1e6, help="cost coefficients are multiplied by this and rounded")
    args = p.parse_args(argv)
    try:
        print(json.dumps(solve(args.instance, args.seconds, args.workers, args.scale), indent=1))
    except BprInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
