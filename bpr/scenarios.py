"""Instance generators of SPEC 1.2: any Topology Zoo network (topohub) and the clustered scenario.

Parameters come from ``instances/scenarios/defaults.yaml`` overlaid by ``instances/scenarios/<name>.yaml``
and by user overrides (``servers``, ``a100_fraction``, ``workload.l_out``, ...). Every random choice
draws from one ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import networkx as nx
import numpy as np
import yaml

from bpr.errors import BprInputError
from bpr.instance import Client, Instance, Model, Server, Workload
from bpr.paths import SCENARIOS_DIR
from bpr.profiles import GpuProfile, gpu_profile, model_profile, overheads

DEFAULTS = "defaults"


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml") if p.stem != DEFAULTS)


def _yaml(name: str) -> dict[str, Any]:
    with open(SCENARIOS_DIR / f"{name}.yaml") as fh:
        return yaml.safe_load(fh) or {}


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def scenario_params(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Flat parameters (``workload.l_out`` style keys) of a named scenario with overrides applied.
    An unknown scenario or key is a BprInputError that lists the known ones."""
    if name not in scenario_names():
        raise BprInputError(f"unknown instance '{name}'; known: {', '.join(scenario_names())}")
    params = _flatten(_yaml(DEFAULTS)) | _flatten(_yaml(name))
    for key, value in (overrides or {}).items():
        if key not in params:
            raise BprInputError(f"unknown parameter '{key}' for instance '{name}'; known: {', '.join(sorted(params))}")
        if value is not None:
            params[key] = value
    return params


def generate(name: str, seed: int = 0, overrides: dict[str, Any] | None = None, R: int = 1) -> Instance:
    """Build the named scenario. ``R`` is used when ``workload.R`` is not set (the caller may then choose
    the design load by SPEC 7.3, see ``solvers.design_load``)."""
    p = scenario_params(name, overrides)
    generators = {"topozoo": _topozoo_nodes, "clustered": _clustered_nodes}
    nodes = generators[p["generator"]](p, np.random.default_rng(seed))
    label = f"{name}-c{p['client_cluster']}" if p["generator"] == "clustered" else name
    return _assemble(f"{label}-s{seed}", p, seed, R, *nodes)


def _count(p: dict[str, Any], key: str, lo: int = 0) -> int:
    v = p[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or v < lo:
        raise BprInputError(f"{key}: expected an integer >= {lo}, got {v!r}")
    return int(v)


def _fraction(p: dict[str, Any], key: str) -> float:
    v = p[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
        raise BprInputError(f"{key}: expected a number in [0, 1], got {v!r}")
    return float(v)


@cache
def _topology(name: str) -> nx.Graph:
    import topohub

    try:
        topo = topohub.get(f"topozoo/{name}")
    except KeyError:
        raise BprInputError(f"topohub has no Topology Zoo network 'topozoo/{name}'") from None
    g = nx.node_link_graph(topo, edges="edges")
    names = [g.nodes[n].get("name") or str(n) for n in g.nodes]
    # Some networks repeat a city name; the node id keeps labels unique.
    labels = {n: (lbl if names.count(lbl) == 1 else f"{lbl} ({n})") for n, lbl in zip(g.nodes, names)}
    return nx.relabel_nodes(g, labels)


def _topozoo_nodes(p: dict[str, Any], rng: np.random.Generator):
    """SPEC 1.2: client node uniform, C servers uniform among the other nodes, round(eta*C) of them fast."""
    if not p.get("topology"):
        raise BprInputError("topology: name a topohub Topology Zoo network, e.g. topology=Abilene")
    g = _topology(str(p["topology"]))
    n_servers = _count(p, "servers", lo=1)
    eta = _fraction(p, "a100_fraction")
    nodes = list(g.nodes)
    if n_servers > len(nodes) - 1:
        raise BprInputError(f"servers: topozoo/{p['topology']} has {len(nodes)} nodes, so at most "
                            f"{len(nodes) - 1} servers besides the client node; asked for {n_servers}")
    client = nodes[int(rng.integers(len(nodes)))]
    others = [n for n in nodes if n != client]
    picked = [others[i] for i in rng.choice(len(others), size=n_servers, replace=False)]
    n_fast = math.floor(eta * n_servers + 0.5)
    fast = set(int(i) for i in rng.choice(n_servers, size=n_fast, replace=False))
    gpus = [p["fast_gpu"] if i in fast else p["slow_gpu"] for i in range(n_servers)]
    km_per_ms = float(p["fiber_km_per_ms"])
    delay = dict(nx.all_pairs_dijkstra_path_length(g, weight=lambda u, v, d: d["dist"] / km_per_ms / 1e3))

    def rtt(u: str, v: str) -> float:
        return 2.0 * delay[u][v]

    return picked, gpus, [client], rtt, {"topology": f"topozoo/{p['topology']}"}


def _clustered_nodes(p: dict[str, Any], rng: np.random.Generator):
    """SPEC 1.2: fast servers in cluster 1, slow ones in cluster 2, the client in ``client_cluster``."""
    del rng  # the clustered scenario is deterministic
    n_fast, n_slow = _count(p, "a100_servers"), _count(p, "mig_servers")
    if n_fast + n_slow == 0:
        raise BprInputError("a100_servers, mig_servers: at least one server is needed")
    cluster = _count(p, "client_cluster")
    if cluster > 2:
        raise BprInputError(f"client_cluster: expected 0, 1 or 2, got {cluster}")
    intra, inter = float(p["rtt_intra_s"]), float(p["rtt_inter_s"])
    nodes = ["cluster1"] * n_fast + ["cluster2"] * n_slow
    gpus = [p["fast_gpu"]] * n_fast + [p["slow_gpu"]] * n_slow

    def rtt(u: str, v: str) -> float:
        return intra if u == v else inter

    return nodes, gpus, [f"cluster{cluster}"], rtt, {"client_cluster": cluster}


def _assemble(name: str, p: dict[str, Any], seed: int, R: int, server_nodes: list[str], gpus: list[str],
              client_nodes: list[str], rtt, provenance: dict[str, Any]) -> Instance:
    mp = model_profile(str(p["model"]))
    oh = overheads(str(p["overheads"]))
    l_in, l_out = _count(p, "workload.l_in"), _count(p, "workload.l_out", lo=1)
    design_R = R if p["workload.R"] is None else _count(p, "workload.R", lo=1)
    profiles: dict[str, GpuProfile] = {g: gpu_profile(g) for g in set(gpus)}
    servers = tuple(_server(f"s{j}", node, profiles[gpu], l_in)
                    for j, (node, gpu) in enumerate(zip(server_nodes, gpus)))
    clients = tuple(Client(f"c{k}", node, 1.0 / len(client_nodes)) for k, node in enumerate(client_nodes))
    raw_cs = np.array([[rtt(c.node, s.node) for s in servers] for c in clients])
    rtt_ss = np.array([[rtt(a.node, b.node) for b in servers] for a in servers])
    return Instance(
        name=name,
        model=Model(mp.name, mp.L, mp.d_model, mp.kv_groups, mp.s_m),
        workload=Workload(l_in, l_out, design_R, float(p["workload.arrival_rate"]),
                          _count(p, "workload.n_requests", 1)),
        s_c=mp.s_c(l_in, l_out),
        initial_delay=oh.initial_delay,
        servers=servers, clients=clients,
        t=raw_cs + oh.t, t_in=raw_cs + oh.t_in(l_in), rtt_ss=rtt_ss,
        extra={"generator": p["generator"], "seed": seed, **provenance,
               "R_rule": "given" if p["workload.R"] is not None else "spec-7.3"},
    )


def _server(sid: str, node: str, gpu: GpuProfile, l_in: int) -> Server:
    return Server(id=sid, node=node, gpu=gpu.name, M=gpu.memory_gb, tau=gpu.tau, tau_in=gpu.tau_in(l_in),
                  forward_rps=gpu.forward_rps, inference_rps=gpu.inference_rps, network_rps=gpu.network_rps)
