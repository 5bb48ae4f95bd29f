"""Instance type: JSON round trip, validation naming the field, largest-remainder request split."""

import json

import pytest
from factories import tiny

from bench.instance_builder import make_instance
from bpr import instance as instance_io
from bpr.errors import BprInputError


@pytest.fixture(scope="session")
def bell():
    return make_instance("bellcanada", 0)


def test_round_trip(bell, tmp_path):
    bell.save(tmp_path / "i.json")
    again = instance_io.load(tmp_path / "i.json")
    assert again.to_dict() == bell.to_dict()
    assert json.loads((tmp_path / "i.json").read_text())["schema_version"] == 1


def test_file_has_spec_field_names(bell):
    d = bell.to_dict()
    assert {"schema_version", "name", "model", "workload", "s_c", "initial_delay", "servers", "clients",
            "t", "t_in", "rtt_ss"} <= d.keys()
    assert set(d["servers"][0]) == {"id", "node", "gpu", "M", "tau", "tau_in", "forward_rps", "inference_rps",
                                    "network_rps", "tau_in_per_token"}
    assert d["topology"] == "topozoo/Bellcanada" and d["seed"] == 0


def bad(bell, tmp_path, edit):
    d = bell.to_dict()
    edit(d)
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(BprInputError) as err:
        instance_io.load(tmp_path / "bad.json")
    return str(err.value)


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["servers"][3].update(M=-5), "servers[3].M: must be > 0"),
    (lambda d: d["servers"][0].update(tau=float("nan")), "servers[0].tau: must be finite"),
    (lambda d: d["clients"][0].update(share=0.5), "share: must sum to 1"),
    (lambda d: d["t"][0].pop(), "t: expected shape 1x26"),
    (lambda d: d["rtt_ss"].pop(), "rtt_ss: expected shape 26x26"),
    (lambda d: d["servers"][1].update(id="s0"), "duplicate id 's0'"),
    (lambda d: d["model"].pop("L"), "model.L: missing"),
    (lambda d: d["model"].update(L=0), "model.L: must be >= 1"),
    (lambda d: d.update(schema_version=2), "schema_version: expected 1"),
    (lambda d: d["workload"].update(R="many"), "workload.R: expected an integer"),
])
def test_validation_names_the_field(bell, tmp_path, edit, field):
    msg = bad(bell, tmp_path, edit)
    assert field in msg and "bad.json" in msg


def test_malformed_json_is_named(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(BprInputError, match="x.json' is not valid JSON"):
        instance_io.load(tmp_path / "x.json")


def test_largest_remainder_split():
    # quotas 2.0, 1.2, 0.8 -> floors 2, 1, 0 -> the largest remainder (0.8) gets the last request
    inst = tiny(2, M=[5], tau=[0.01], t=[[0.1], [0.1], [0.1]], R=4, shares=[0.5, 0.3, 0.2])
    assert inst.requests_per_client() == [2, 1, 1]
    assert inst.request_clients() == [0, 0, 1, 2]


def test_largest_remainder_ties_go_to_the_earlier_client():
    inst = tiny(2, M=[5], tau=[0.01], t=[[0.1], [0.1]], R=3, shares=[0.5, 0.5])
    assert inst.requests_per_client() == [2, 1]
