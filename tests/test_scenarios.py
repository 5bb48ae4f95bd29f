"""Instance families (docs/model.md §1.2) and the design load (§7.3, eq. 19)."""

import math

import networkx as nx
import pytest
import topohub

from bench.instance_builder import make_instance, scenario
from bench.instance_names import known_instances
from bpr.errors import BprInputError
from solvers.algorithms.design_load import (
    ROBUST,
    choose_R,
    design_R,
    r_max,
    single_request_time,
)

A100 = "a100-80gb"


def drawn(name, seed, overrides=None):
    """The deployment a named family draws, before R is chosen (the single-request instance)."""
    return scenario(name, seed, overrides).single


@pytest.mark.parametrize("name, servers, fast", [("bellcanada", 26, 5), ("abovenet", 9, 2), ("clustered", 9, 2)])
def test_named_instances(name, servers, fast):
    inst = make_instance(name, 0)
    assert inst.n_servers == servers
    assert sum(s.gpu == A100 for s in inst.servers) == fast


def test_bloom_profile_numbers():
    inst = drawn("bellcanada", 0)
    assert inst.model.s_m == pytest.approx(1.3234, abs=5e-5)
    assert inst.s_c == pytest.approx(0.008486912, rel=1e-12)
    assert drawn("bellcanada", 0, {"workload.l_out": 64}).s_c == pytest.approx(0.004817, abs=5e-7)
    a100 = next(s for s in inst.servers if s.gpu == A100)
    assert a100.tau_in == pytest.approx(0.0743e-3 * 20 + 32.99e-3)


def test_topozoo_rtts_follow_fiber_delay():
    inst = drawn("abovenet", 0)
    g = nx.node_link_graph(topohub.get("topozoo/Abvt", use_names=True), edges="edges")
    client = inst.clients[0].node
    for j, s in enumerate(inst.servers):
        km = nx.shortest_path_length(g, client, s.node, weight="dist")
        raw = 2 * km / 200 / 1000
        assert inst.t[0, j] == pytest.approx(raw + 0.100)
        assert inst.t_in[0, j] == pytest.approx(raw + 0.7049e-3 * 20 + 0.067)
    assert inst.initial_delay == 0.070
    assert inst.clients[0].node not in {s.node for s in inst.servers}
    assert len({s.node for s in inst.servers}) == inst.n_servers


def test_clustered_rtts_and_overheads():
    inst = drawn("clustered", 0, {"client_cluster": 1})
    # client in cluster 1 with the two A100s: 5 ms to them, 100 ms to the MIGs, + 50 ms overhead
    assert inst.t[0].tolist() == pytest.approx([0.055] * 2 + [0.150] * 7)
    assert inst.t_in[0].tolist() == pytest.approx([0.060] * 2 + [0.155] * 7)
    assert inst.initial_delay == 0.100


def test_same_seed_same_instance_other_seed_other_draw():
    assert drawn("bellcanada", 3).to_dict() == drawn("bellcanada", 3).to_dict()
    a, b = drawn("bellcanada", 3), drawn("bellcanada", 4)
    assert [s.node for s in a.servers] != [s.node for s in b.servers]


def test_overrides_servers_and_fraction():
    inst = drawn("abovenet", 1, {"servers": 12, "a100_fraction": 0.5})
    assert inst.n_servers == 12 and sum(s.gpu == A100 for s in inst.servers) == 6


def test_any_topohub_network():
    inst = drawn("topozoo", 0, {"topology": "Abilene"})
    assert inst.extra["topology"] == "topozoo/Abilene" and inst.n_servers == 9


@pytest.mark.parametrize("key, servers", [("gabriel/25/0", 9), ("gabriel/500/3", 40), ("sndlib/polska", 9),
                                          ("backbone/africa", 12)])
def test_every_topohub_family(key, servers):
    """gabriel/<n>/<i>, sndlib/, backbone/ work like topozoo/: RTT = 2 x shortest fiber delay of ``dist``."""
    inst = drawn("topozoo", 1, {"topology": key, "servers": servers})
    assert inst.extra["topology"] == key and inst.n_servers == servers
    g = nx.node_link_graph(topohub.get(key), edges="edges")
    names = {g.nodes[n].get("name") or str(n): n for n in g.nodes}
    c, s = inst.clients[0].node, inst.servers[0].node
    km = nx.shortest_path_length(g, names.get(c, c), names.get(s, s), weight="dist")
    assert inst.t[0, 0] == pytest.approx(2 * km / 200 / 1000 + 0.100)


def test_several_clients_are_distinct_with_equal_shares_and_one_client_keeps_the_draw():
    inst = drawn("abovenet", 2, {"clients": 3})
    nodes = [c.node for c in inst.clients]
    assert len(set(nodes)) == 3 and not set(nodes) & {s.node for s in inst.servers}
    assert [c.share for c in inst.clients] == pytest.approx([1 / 3] * 3) and inst.t.shape == (3, 9)
    assert drawn("abovenet", 2, {"clients": 1}).to_dict() == drawn("abovenet", 2).to_dict()


@pytest.mark.registry
@pytest.mark.parametrize("name, overrides, message", [
    ("nowhere", {}, "unknown instance 'nowhere'; known: " + ", ".join(known_instances())),
    ("abovenet", {"servers": 40}, "topozoo/Abvt has 22 nodes, so at most 21 servers"),
    ("abovenet", {"a100_fraction": 2}, "a100_fraction: expected a number in [0, 1]"),
    ("abovenet", {"colour": 1}, "unknown instance parameter 'colour'; known: name, fast_gpu"),
    ("abovenet", {"servers": "many"}, "instance 'abovenet'.servers: Value 'many' of type 'str' could not be converted"),
    ("abovenet", {"model": "gpt-9"}, "unknown model 'gpt-9'; known: bloom-176b, "),
    ("abovenet", {"workload.l_outt": 3}, "unknown workload setting 'l_outt'; known: l_in, l_out"),
    ("topozoo", {"topology": "Atlantis"}, "topohub has no topology 'topozoo/Atlantis'"),
    ("topozoo", {"topology": "../../tmp/evil"}, "topohub has no topology '../../tmp/evil'"),
    ("clustered", {"topology": "x"}, "unknown instance parameter 'topology'; known: name,"),
])
def test_bad_scenarios_name_the_problem(name, overrides, message):
    with pytest.raises(BprInputError) as err:
        drawn(name, 0, overrides)
    assert message in str(err.value)


def test_r_max_eq_19_bellcanada():
    # (5 * 86.13 + 21 * 9.1 - 1.3233977 * 96) / (0.008486912 * 96) = 607.2
    assert r_max(drawn("bellcanada", 0)) == 607


def test_design_R_spec_7_3():
    inst = drawn("bellcanada", 0)
    load = 0.5 * single_request_time(inst)
    assert design_R(inst) == math.floor(load + math.sqrt(load) + 0.5)
    assert make_instance("bellcanada", 0).R == design_R(inst)
    assert make_instance("bellcanada", 0, {"workload.R": 88}).R == 88


def test_choosing_R_is_one_explicit_step():
    """A scenario carries no R of its own; choose_R takes the given R or the robust rule and records which."""
    drawn_scenario = scenario("abovenet", 0)
    assert "R_rule" not in drawn_scenario.single.extra
    robust = choose_R(drawn_scenario)
    assert robust.R == design_R(drawn_scenario.single) and robust.extra["R_rule"] == ROBUST
    given = choose_R(drawn_scenario, 7)
    assert given.R == 7 and given.extra["R_rule"] == "given"
    assert given.to_dict() | {"workload": None, "R_rule": None} == robust.to_dict() | {"workload": None, "R_rule": None}
    with pytest.raises(BprInputError, match="workload.R: must be >= 1"):
        choose_R(drawn_scenario, 0)


def test_design_R_is_capped_by_r_max():
    inst = drawn("bellcanada", 0, {"workload.arrival_rate": 1000.0})
    assert design_R(inst) == r_max(inst)
