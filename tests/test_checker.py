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
    # C would hold 3..5 > L = 4; its blocks are void, so the route through C is broken too
    assert kinds(inst, solution(inst, first=(1, 3, 3))) == ["range", "route"]


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
