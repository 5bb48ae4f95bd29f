"""``size_branch`` (docs/formulations.md §9): the brute-force optimum on tiny instances, exact's optimum on
random binding ones, bound <= optimum <= incumbent when stopped, a certificate that re-solves and one that
was tampered with, and the window-size relaxation's no-good and fixing rows."""

from __future__ import annotations

import copy
import math

import pytest
from factories import random_binding, solver_ctx, tiny
from oracle import optimum
from test_milp import random_tiny
from test_window_sizes import half_server

from bpr.errors import BprInputError
from bpr.grading import grade
from solvers.algorithms import lower_bounds, size_branch
from solvers.formulations.window_sizes import WindowSizesFormulation, sizes
from solvers.framework.context import Context, for_run
from solvers.framework.formulation import solve_model

QUIET = {"log": False, "progress": False}
EXACT = {"rel_gap": 1e-9, "time_limit": 120, **QUIET}
NO_SEARCH = size_branch.Options(lns_s=0.0)


def recheck(inst, cert) -> list[str]:
    return size_branch.recheck(inst, cert, for_run(Context(), size_branch.NAME, None), 60)


def test_hand_worked_the_half_server():
    """Optimum 0.4 (formulations.md §7). The relaxation's best vector, A idle and B two blocks (0.2 + 0.1 x 2),
    costs 0.4 on the blocks too, which proves it; the certificate says so and re-solves."""
    inst = half_server()
    sol = size_branch.solve(inst, NO_SEARCH, ctx=solver_ctx(**EXACT))
    assert sol.termination == "optimal" and grade(inst, sol).evaluation.per_token_s == pytest.approx(0.4)
    cert = sol.info["certificate"]
    assert cert["bound"] == pytest.approx(0.4) and sol.record.solver.dual_bound_s == pytest.approx(0.4)
    assert recheck(inst, cert) == []


def pigeonhole() -> object:
    """L = 3, R = 3, s_m = s_c = 1, no compute cost. P (M = 4: room 4 - m beside m blocks) and three identical
    Q (M = 3: room 2 at one block, 1 at two) at round trip 0.1; F (M = 10) at 1.0."""
    return tiny(3, M=[4.0, 3.0, 3.0, 3.0, 10.0], tau=[0.0] * 5, t=[[0.1, 0.1, 0.1, 0.1, 1.0]], R=3,
                s_m=1.0, s_c=1.0)


def test_hand_worked_the_pigeonhole():
    """formulations.md §9. The relaxation sends each request through P and two Qs, on three patterns that
    use each Q twice (0.3). No placement of one-block P and Qs does that: P carries all 3 requests on its
    block, and each of the other two blocks needs 3 requests from Qs holding 2 each, four Qs. So the leaf
    (1, 1, 1, 1, 0) is infeasible, and F must carry a request. The optimum is 0.5: one request on F alone
    (1.0), one over P's two blocks (its room: one request) and a Q (0.2), one over the three Qs (0.3)."""
    inst = pigeonhole()
    assert lower_bounds.window_sizes_bound(inst, solver_ctx(**EXACT)).value_s == pytest.approx(0.3)
    sol = size_branch.solve(inst, NO_SEARCH, ctx=solver_ctx(**EXACT))
    assert sol.termination == "optimal" and grade(inst, sol).evaluation.per_token_s == pytest.approx(0.5)
    assert optimum(inst) == pytest.approx(0.5)
    cert = sol.info["certificate"]
    leaves = {tuple(leaf["sizes"]): leaf for leaf in cert["leaves"]}
    assert leaves[1, 1, 1, 1, 0]["status"] == "infeasible" and leaves[1, 1, 1, 1, 0]["bound"] is None
    assert leaves[1, 1, 1, 1, 0]["relaxation"] == pytest.approx(0.3)
    assert cert["bound"] == pytest.approx(0.5) and recheck(inst, cert) == []


@pytest.mark.parametrize("seed", range(12))
def test_equals_the_brute_force_optimum(seed):
    inst = random_tiny(seed)
    opt, sol = optimum(inst), size_branch.solve(inst, NO_SEARCH, ctx=solver_ctx(**EXACT))
    if opt is None:
        assert sol.termination == "infeasible" and not sol.has_solution
        assert sol.info["certificate"]["bound"] is None and sol.info["certificate"]["rest_status"] == "infeasible"
        return
    g = grade(inst, sol)
    assert sol.termination == "optimal" and g.report.feasible
    assert g.evaluation.per_token_s == pytest.approx(opt, rel=1e-6)
    assert sol.record.solver.dual_bound_s <= opt * (1 + 1e-6)


@pytest.mark.parametrize("seed", [3, 5])
def test_equals_exact_on_binding_instances_and_its_certificate_re_solves(seed, binding_optimum):
    inst, graded_exact = binding_optimum(seed)
    opt = graded_exact.evaluation.per_token_s
    sol = size_branch.solve(inst, size_branch.Options(lns_s=0.5), ctx=solver_ctx(**EXACT))
    assert sol.termination == "optimal" and grade(inst, sol).evaluation.per_token_s == pytest.approx(opt, rel=1e-6)
    cert = sol.info["certificate"]
    assert len(cert["leaves"]) == sol.info["size_vectors"] > 0
    assert cert["bound"] <= opt * (1 + 1e-6) and cert["bound"] >= opt * (1 - 1e-6)
    assert recheck(inst, cert) == []


def test_leaves_left_open_are_re_solved_with_the_time_left(binding_optimum, tmp_path):
    """With 0.01 s per leaf every first-block model stops at once; started from the optimum, the master's
    bound passes it after a few vectors, the time left goes to the open leaves, and the run proves it."""
    inst, graded_exact = binding_optimum(3)
    start = tmp_path / "optimum.json"
    graded_exact.solution.save(start)
    opts = size_branch.Options(lns_s=0.0, sub_time_limit=0.01, start=str(start))
    sol = size_branch.solve(inst, opts, ctx=solver_ctx(**EXACT))
    leaves = sol.info["certificate"]["leaves"]
    assert sol.termination == "optimal" and sol.record.solver.dual_bound_s >= graded_exact.evaluation.per_token_s * (
        1 - 1e-6)
    assert leaves and all(leaf["status"] in ("optimal", "infeasible") or leaf["bound"] >= sol.record.solver.dual_bound_s
                          for leaf in leaves)


def test_stopped_it_keeps_bound_below_optimum_below_incumbent(binding_optimum):
    """Seed 7 takes exact 10 s and this method minutes: stopped after 8 s its bound is the tree's, below the
    optimum, and its solution (the search's, graded) above it."""
    inst, graded_exact = binding_optimum(7)
    opt = graded_exact.evaluation.per_token_s
    sol = size_branch.solve(inst, size_branch.Options(lns_s=1.0, sub_time_limit=2.0),
                            ctx=solver_ctx(time_limit=8, rel_gap=1e-9, **QUIET))
    g = grade(inst, sol)
    assert g.report.feasible and g.evaluation.per_token_s >= opt * (1 - 1e-9)
    bound = sol.record.solver.dual_bound_s
    assert bound is not None and bound <= opt * (1 + 1e-9)
    assert sol.termination == "time_limit" or bound >= g.evaluation.per_token_s * (1 - 1e-9)


def test_a_tampered_certificate_is_refused(binding_optimum):
    inst, _ = binding_optimum(3)
    cert = size_branch.solve(inst, NO_SEARCH, ctx=solver_ctx(**EXACT)).info["certificate"]
    raised = copy.deepcopy(cert)
    raised["rest_bound"] *= 1.05
    raised["bound"] = min([raised["rest_bound"]] + [leaf["bound"] for leaf in raised["leaves"] if leaf["bound"]])
    assert any("every leaf excluded reaches" in p for p in recheck(inst, raised))
    dropped = copy.deepcopy(cert)
    dropped["leaves"] = dropped["leaves"][1:]          # a vector the rest's bound does not cover
    assert recheck(inst, dropped)
    arithmetic = copy.deepcopy(cert)
    arithmetic["bound"] = cert["bound"] * 1.01
    assert any("not the minimum of its parts" in p for p in recheck(inst, arithmetic))
    too_large = copy.deepcopy(cert)
    too_large["leaves"][0]["sizes"][0] = inst.L + 1      # no server holds more than L blocks
    assert recheck(inst, too_large) == ["its size vectors are not distinct vectors the instance's servers can take"]


def test_excluding_and_fixing_a_size_vector():
    """Excluding the relaxation's best vector moves it to another, no cheaper; fixing that vector gives its
    value back."""
    inst, ctx = random_binding(3), solver_ctx(**EXACT)

    def solved(f: WindowSizesFormulation) -> tuple[float, tuple[int, ...]]:
        report, model = solve_model(f, ctx, record=False)
        assert report.termination == "optimal"
        return report.dual_bound_s, sizes(model, inst.n_servers)

    value, v = solved(WindowSizesFormulation(inst))
    value2, v2 = solved(WindowSizesFormulation(inst, excluded=[v]))
    assert v2 != v and value2 >= value - 1e-9
    assert solved(WindowSizesFormulation(inst, fixed=v))[0] == pytest.approx(value, rel=1e-7)
    assert solved(WindowSizesFormulation(inst, fixed=v2)) == (pytest.approx(value2, rel=1e-7), v2)
    assert math.isfinite(value2)


def test_a_start_file_of_another_instance_is_an_input_error(tmp_path):
    with pytest.raises(BprInputError, match="no solution file"):
        size_branch.Options(start=str(tmp_path / "missing.json"))


def test_library_rechecks_a_certificate_file_and_refuses_a_file_without_one(tmp_path, capsys):
    from bench import library

    inst = pigeonhole()
    inst_file, sol_file = tmp_path / "instance.json", tmp_path / "solution.json"
    inst.save(inst_file)
    sol = size_branch.solve(inst, NO_SEARCH, ctx=solver_ctx(**EXACT))
    sol.save(sol_file)
    assert library.main(["certificate", str(sol_file), str(inst_file), "--seconds", "30"]) == 0
    assert "its bound re-confirmed" in capsys.readouterr().out
    sol.info.pop("certificate")
    sol.save(sol_file)
    assert library.main(["certificate", str(sol_file), str(inst_file)]) == 2
    assert "carries no certificate" in capsys.readouterr().err
