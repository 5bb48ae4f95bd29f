"""bench/cpsat.py: the model CP-SAT gets is all-integer and bounded, its scaled costs stay within the error
the report states, and a machine without OR-Tools gets one line and exit 2."""

from __future__ import annotations

import sys

import pyomo.environ as pyo
from factories import random_binding
from pyomo.repn import generate_standard_repn

from bench import cpsat


def test_the_model_is_integer_bounded_and_its_scaling_error_within_the_stated_one():
    """Every variable integer and bounded, integer cost coefficients, and at a point with every flow at its
    bound the scaled objective differs from the true one by at most half a unit per flow unit."""
    inst, scale = random_binding(3), 1e3
    model = cpsat.integer_model(inst, scale)
    variables = list(model.component_data_objects(pyo.Var))
    assert variables and all(v.is_integer() and v.ub is not None for v in variables)
    coefs = generate_standard_repn(model.scaled.expr).linear_coefs
    assert coefs and all(float(c).is_integer() for c in coefs) and any(c > 0 for c in coefs)
    for v in variables:
        v.set_value(v.ub)
    error = abs(pyo.value(model.scaled.expr) / scale - pyo.value(model.cost.expr))
    assert error <= sum(v.ub for v in model.g.values()) * 0.5 / scale
    assert not model.cost.active and model.scaled.active


def test_without_or_tools_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "ortools.linear_solver.python", None)
    inst = random_binding(3)
    path = tmp_path / "instance.json"
    inst.save(path)
    assert cpsat.main([str(path), "--seconds", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: OR-Tools is not installed") and err.count("\n") == 1
