"""What a model-based run shows while it works (solvers/framework/status_line.py): every phase on the line and in the
log, the MIP's incumbent, bound and gap, throttled updates, and silence when progress is off."""

import io
import logging

import pytest
from factories import random_binding

from solvers.algorithms import lns
from solvers.framework import registry
from solvers.framework.settings import SolverSettings
from solvers.framework.status_line import StatusLine


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_phases_are_always_shown_and_logged(caplog, monkeypatch):
    monkeypatch.setattr("solvers.framework.status_line.TTY_EVERY", 0.0)   # no throttling here
    screen = Terminal()
    with caplog.at_level(logging.INFO, logger="solvers.framework.status_line"):
        line = StatusLine("exact", show=True, stream=screen)
        line.phase("building 10 variables")
        line.mip(3.0, 2.0, 1.5)
        line.done("optimal")
    shown = screen.getvalue()
    assert "exact [0 s] building 10 variables" in shown and shown.endswith("optimal\n")
    assert "incumbent 2, bound 1.5, gap 25.00 %" in shown          # (2 - 1.5) / 2
    logged = [r.getMessage() for r in caplog.records]
    assert logged[0].endswith("building 10 variables") and logged[-1].endswith("optimal") and len(logged) == 2


def test_updates_are_throttled_and_phases_are_not():
    screen = Terminal()
    line = StatusLine("lns", show=True, stream=screen)
    line.phase("start")
    for i in range(50):
        line.update(f"step {i}")
    assert screen.getvalue().count("step") == 0       # within TTY_EVERY of the phase: dropped
    line.phase("next")
    assert "next" in screen.getvalue()


def test_no_terminal_and_no_progress(caplog):
    plain = io.StringIO()   # not a TTY: the log only
    with caplog.at_level(logging.INFO, logger="solvers.framework.status_line"):
        StatusLine("exact", show=True, stream=plain).phase("building")
        StatusLine("quiet", show=False, stream=Terminal()).phase("building")
    assert plain.getvalue() == ""
    assert [r.getMessage() for r in caplog.records] == ["exact [0 s] building"]


@pytest.mark.parametrize("algorithm", ["exact", "lns"])
def test_a_model_based_run_logs_its_phases_and_its_end(caplog, algorithm):
    inst = random_binding(3)
    with caplog.at_level(logging.INFO, logger="solvers.framework.status_line"):
        options = lns.Options(iterations=2, patience=10) if algorithm == "lns" else None   # a short search
        sol = registry.call(algorithm, inst, options=options, solver=SolverSettings(time_limit=30, rel_gap=1e-6,
                                                                                    log=False))
    messages = [r.getMessage() for r in caplog.records]
    assert sol.has_solution and messages
    if algorithm == "exact":
        assert any("building" in m for m in messages) and any("loaded in" in m for m in messages)
        assert "optimal after" in messages[-1] and "gap 0.00 %" in messages[-1]
    else:
        assert messages[0].startswith("lns [0 s] placement search") and "best" in messages[-1]
        assert any(" start from " in m for m in messages)
