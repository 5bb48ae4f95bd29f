"""The checker catches every kind of violation and lists all of them (docs/model.md §3)."""

import dataclasses
import json

import pytest
from factories import tiny

from bpr import solution as solution_io
from bpr.checker import check
from bpr.evaluator import UnsoundSolution, evaluate
from bpr.solution import PlacementEntry, Route, build

A, B, C = 0, 1, 2


@pytest.fixture
def inst():
    return tiny(4, M=[10, 10, 10], tau=[0.01, 0.02, 0.03], t=[[0.1, 0.2, 0.3]], R=2)


def solution(inst, first=(1, 3, 2), num=(2, 2, 3), routes=((A, B), (A, C))):
    return build(inst, "test", first=first, num=num, routes=routes)


def kinds(inst, sol):
    return [v.kind for v in check(inst, sol).violations]


def test_sound_solution_passes(inst):
    assert check(inst, solution(inst)).feasible


def test_out_of_range_block(inst):
    # C would hold 3..5 > L = 4: one violation, not one more per route through C
    assert kinds(inst, solution(inst, first=(1, 3, 3))) == ["range"]


def test_one_bad_range_is_one_violation_however_many_routes_use_it():
    many = tiny(4, M=[20, 20, 20], tau=[0.01, 0.02, 0.03], t=[[0.1, 0.2, 0.3]], R=41)
    sol = solution(many, first=(1, 3, 3), routes=[(A, C)] * 41)
    assert kinds(many, sol) == ["range"]


def test_a_solution_for_another_instance_is_one_violation(inst):
    other = dataclasses.replace(solution(inst), instance="bellcanada-s0")
    report = check(inst, other)
    assert [str(v) for v in report.violations] == [
        "instance: the solution is for instance 'bellcanada-s0', not 'tiny'"]
    with pytest.raises(UnsoundSolution):
        evaluate(inst, other)


def test_idle_server_with_a_first_block_is_a_range_violation(inst):
    sol = solution(inst)
    idle = dataclasses.replace(sol, placement=(*sol.placement[:2], PlacementEntry("s2", 999, 0)))
    assert kinds(inst, dataclasses.replace(idle, routes=tuple(r for r in sol.routes if "s2" not in r.servers)
                                           + (Route(1, "c0", ("s0", "s1")),))) == ["range"]


def test_every_problem_of_one_route_is_named_once(inst):
    sol = solution(inst)
    # request 0: an unknown server, then a gap before C (holding 2..4 after nothing), then a hop back into A
    bad = dataclasses.replace(sol, routes=(Route(0, "c0", ("zz", "s1", "s0")), sol.routes[1]))
    got = [str(v) for v in check(inst, bad).violations]
    assert got == ["route: request 0: unknown server 'zz'", "gap: request 0: blocks 1..2 skipped before server s1",
                   "hop: request 0: server s0 holds 1..2, cannot continue at block 5"]


def test_first_block_zero_is_out_of_range(inst):
    assert "range" in kinds(inst, solution(inst, first=(0, 3, 2)))


def test_gap_in_route(inst):
    assert kinds(inst, solution(inst, routes=((B,), (A, C)))) == ["gap"]


def test_infeasible_hop(inst):
    assert kinds(inst, solution(inst, routes=((A, B, C), (A, C)))) == ["hop"]


def test_route_that_stops_early(inst):
    assert kinds(inst, solution(inst, routes=((A,), (A, C)))) == ["coverage"]


def test_memory(inst):
    small = dataclasses.replace(inst, servers=(dataclasses.replace(inst.servers[0], M=2.3), *inst.servers[1:]))
    report = check(small, solution(small))
    assert [v.kind for v in report.violations] == ["memory"]
    assert "s0" in report.violations[0].message


def test_every_violation_is_listed(inst):
    sol = solution(inst, first=(1, 3, 3), routes=((B,), (A,)))
    assert sorted(kinds(inst, sol)) == ["coverage", "gap", "range"]


def test_requests_unknown_servers_and_clients(inst):
    sol = solution(inst)
    bad = dataclasses.replace(sol, routes=(Route(0, "c9", ("s0", "s1")), Route(0, "c0", ("s0", "zz"))),
                              placement=(*sol.placement, PlacementEntry("ghost", 1, 1)))
    got = kinds(inst, bad)
    assert got.count("request") == 3  # wrong client, duplicate request 0, request 1 missing
    assert got.count("server") == 1 and got.count("route") == 0


def test_unsound_solution_cannot_be_evaluated(inst):
    with pytest.raises(UnsoundSolution):
        evaluate(inst, solution(inst, routes=((B,), (A, C))))


def test_solution_json_round_trip(inst, tmp_path):
    sol = dataclasses.replace(solution(inst, first=(1, 3, 0), num=(2, 2, 0)), objective=0.25,
                              routes=(Route(0, "c0", ("s0", "s1")), Route(1, "c0", ("s0", "s1"))))
    sol.save(tmp_path / "s.json")
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["placement"][2] == {"server": "s2", "first_block": None, "num_blocks": 0}
    assert solution_io.load(tmp_path / "s.json") == sol
