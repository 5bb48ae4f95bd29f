"""Instance families (docs/model.md §1.2): one generator function per family, its parameters typed by one
dataclass. A named instance is one ``conf/instance/<name>.yaml`` whose ``_target_`` names the generator
and whose other keys are the family's parameters (bench/instance_builder.py builds it).

A generator is ``fn(p: Params, seed: int, workload: WorkloadParams, model: str) -> Scenario``; every
random choice draws from one ``numpy.random.default_rng(seed)``. A scenario is a drawn deployment whose
design concurrency R is not chosen yet: one explicit step (``solvers.algorithms.design_load.choose_R``) takes it with
the workload's R or the robust rule of docs/model.md §7.3 and returns the final instance.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable, Optional

import networkx as nx
import numpy as np

from bpr.errors import BprInputError, unknown
from bpr.fields import integer
from bpr.files import read_yaml
from bpr.instance import Client, Instance, Model, Server, Workload
from bpr.limits import MAX_CLIENTS, MAX_REQUESTS, MAX_SERVERS, MAX_TOKENS
from bpr.paths import DATA_DIR
from bpr.profiles import GpuProfile, gpu_profile, model_profile, overheads

TOPOHUB_FAMILIES = ("topozoo", "gabriel", "sndlib", "backbone", "caida")


@dataclass
class WorkloadParams:
    """Workload defaults of §1.2; R None: chosen by §7.3 (robust design load)."""

    l_in: int = 20
    l_out: int = 128
    arrival_rate: float = 0.5
    n_requests: int = 100
    R: Optional[int] = None


@dataclass
class ScenarioParams:
    """Parameters every family has."""

    name: str = "scenario"
    fast_gpu: str = "a100-80gb"
    slow_gpu: str = "mig-1g.10gb"
    overheads: str = "geo"           # instances/profiles/overheads.yaml


@dataclass
class TopologyParams(ScenarioParams):
    """Any topohub network (§1.2): ``topology`` is ``family/name`` (``topozoo/Abvt``, ``gabriel/25/0``,
    ``sndlib/polska``, ``backbone/africa``); a bare name means ``topozoo/<name>``."""

    topology: str = ""
    servers: int = 9
    a100_fraction: float = 0.2
    clients: int = 1
    fiber_km_per_ms: float = 200.0   # light in fiber


@dataclass
class ClusteredParams(ScenarioParams):
    """Three clusters (§1.2): fast servers in cluster 1, slow ones in cluster 2, clients in ``client_cluster``."""

    a100_servers: int = 2
    mig_servers: int = 7
    client_cluster: int = 0
    rtt_intra_s: float = 0.005
    rtt_inter_s: float = 0.100
    overheads: str = "clustered"


@dataclass
class HelixParams(ScenarioParams):
    """One of Helix's published clusters (docs/peers.md §2): ``cluster`` names ``instances/helix/<cluster>.yaml``
    (its servers' GPUs and link latencies); the family has no other parameter and draws nothing."""

    cluster: str = ""
    overheads: str = ""              # "": the cluster file's (geo for geo-24, clustered for the others)


@dataclass(frozen=True, eq=False)
class Scenario:
    """A drawn deployment before its design concurrency R is chosen (docs/model.md §7.3). ``single`` is
    the deployment serving a single request (R = 1): what the §7.3 rule measures (T_hat) and sizes from."""

    single: Instance

    @property
    def name(self) -> str:
        return self.single.name

    def with_R(self, R: int, rule: str) -> Instance:
        """The final instance for design concurrency R; ``extra["R_rule"]`` records which rule chose it."""
        inst = self.single.with_R(R)
        return dataclasses.replace(inst, extra={**inst.extra, "R_rule": rule})


def _fraction(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise BprInputError(f"{key}: expected a number in [0, 1], got {value!r}")
    return float(value)


@cache
def topohub_keys() -> frozenset[str]:
    """Every topology shipped inside the topohub package (``family/.../name``); nothing else is read."""
    import topohub

    root = Path(topohub.__file__).parent / "data"
    return frozenset(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.json"))


def topology_key(name: str) -> str:
    key = name if "/" in name else f"topozoo/{name}"
    if key not in topohub_keys():
        raise BprInputError(f"topohub has no topology '{key}' (families: "
                            f"{', '.join(f + '/' for f in TOPOHUB_FAMILIES)}; e.g. topozoo/Abilene, gabriel/25/0)")
    return key


@cache
def _topology(key: str) -> nx.Graph:
    import topohub

    g = nx.node_link_graph(topohub.get(key), edges="edges")
    names = [g.nodes[n].get("name") or str(n) for n in g.nodes]
    # Some networks repeat a city name (and backbone nodes have none); the node id keeps labels unique.
    labels = {n: (lbl if names.count(lbl) == 1 else f"{lbl} ({n})") for n, lbl in zip(g.nodes, names)}
    return nx.relabel_nodes(g, labels)


def topology(p: TopologyParams, seed: int, workload: WorkloadParams, model: str) -> Scenario:
    """§1.2: K client nodes drawn uniformly one by one (equal shares), C servers uniform among the other
    nodes, round(eta*C) of them fast; RTT = 2 x shortest-path fiber delay (link dist read as km)."""
    if not p.topology:
        raise BprInputError("topology: name a topohub network, e.g. topology=topozoo/Abilene or gabriel/25/0")
    key = topology_key(p.topology)
    g = _topology(key)
    n_servers = integer(p.servers, "servers", lo=1, hi=MAX_SERVERS)
    n_clients = integer(p.clients, "clients", lo=1, hi=MAX_CLIENTS)
    eta = _fraction(p.a100_fraction, "a100_fraction")
    if not p.fiber_km_per_ms > 0:
        raise BprInputError(f"fiber_km_per_ms: must be > 0, got {p.fiber_km_per_ms}")
    nodes = list(g.nodes)
    if not nx.is_connected(g):
        raise BprInputError(f"topology: {key} is not connected (its nodes cannot all reach each other)")
    if n_servers + n_clients > len(nodes):
        raise BprInputError(f"servers: {key} has {len(nodes)} nodes, so at most {len(nodes) - n_clients} "
                            f"servers besides {n_clients} client node(s); asked for {n_servers}")
    rng = np.random.default_rng(seed)
    others, clients = list(nodes), []
    for _ in range(n_clients):
        clients.append(others.pop(int(rng.integers(len(others)))))
    picked = [others[i] for i in rng.choice(len(others), size=n_servers, replace=False)]
    n_fast = math.floor(eta * n_servers + 0.5)
    fast = set(int(i) for i in rng.choice(n_servers, size=n_fast, replace=False))
    gpus = [p.fast_gpu if i in fast else p.slow_gpu for i in range(n_servers)]
    delay = dict(nx.all_pairs_dijkstra_path_length(
        g, weight=lambda u, v, d: d["dist"] / p.fiber_km_per_ms / 1e3))
    return assemble(f"{p.name}-s{seed}", p, seed, workload, model, picked, gpus, clients,
                    lambda u, v: 2.0 * delay[u][v], {"generator": "topology", "topology": key})


def clustered(p: ClusteredParams, seed: int, workload: WorkloadParams, model: str) -> Scenario:
    """§1.2: deterministic; 5 ms RTT inside a cluster, 100 ms between clusters (by default)."""
    n_fast = integer(p.a100_servers, "a100_servers", lo=0, hi=MAX_SERVERS)
    n_slow = integer(p.mig_servers, "mig_servers", lo=0, hi=MAX_SERVERS - n_fast)
    if n_fast + n_slow == 0:
        raise BprInputError("a100_servers, mig_servers: at least one server is needed")
    cluster = integer(p.client_cluster, "client_cluster", lo=0)
    if cluster > 2:
        raise BprInputError(f"client_cluster: expected 0, 1 or 2, got {cluster}")
    nodes = ["cluster1"] * n_fast + ["cluster2"] * n_slow
    gpus = [p.fast_gpu] * n_fast + [p.slow_gpu] * n_slow
    return assemble(f"{p.name}-c{cluster}-s{seed}", p, seed, workload, model, nodes, gpus, [f"cluster{cluster}"],
                    lambda u, v: p.rtt_intra_s if u == v else p.rtt_inter_s,
                    {"generator": "clustered", "client_cluster": cluster})


def assemble(name: str, p: ScenarioParams, seed: int, w: WorkloadParams, model: str, server_nodes: list[str],
             gpus: list[str], client_nodes: list[str], rtt: Callable[[str, str], float],
             provenance: dict[str, Any]) -> Scenario:
    """The scenario of a family's draw: servers (node, GPU profile), equal-share clients at their nodes and
    ``rtt(u, v)`` the raw round trip between two nodes; overheads, profiles and s_c as model.md §1.1."""
    mp = model_profile(model)
    oh = overheads(p.overheads)
    l_in = integer(w.l_in, "workload.l_in", lo=0, hi=MAX_TOKENS)
    l_out = integer(w.l_out, "workload.l_out", lo=1, hi=MAX_TOKENS)
    n_requests = integer(w.n_requests, "workload.n_requests", lo=1, hi=MAX_REQUESTS)
    profiles: dict[str, GpuProfile] = {g: gpu_profile(g) for g in set(gpus)}
    servers = tuple(_server(f"s{j}", node, profiles[gpu], l_in)
                    for j, (node, gpu) in enumerate(zip(server_nodes, gpus)))
    clients = tuple(Client(f"c{k}", node, 1.0 / len(client_nodes)) for k, node in enumerate(client_nodes))
    raw_cs = np.array([[rtt(c.node, s.node) for s in servers] for c in clients])
    rtt_ss = np.array([[rtt(u.node, v.node) for v in servers] for u in servers])
    return Scenario(Instance(
        name=name,
        model=Model(mp.name, mp.L, mp.d_model, mp.kv_groups, mp.s_m, mp.context),
        workload=Workload(l_in, l_out, 1, float(w.arrival_rate), n_requests),
        s_c=mp.s_c(l_in, l_out),
        initial_delay=oh.initial_delay,
        servers=servers, clients=clients,
        t=raw_cs + oh.t, t_in=raw_cs + oh.t_in(l_in), rtt_ss=rtt_ss, t_in_per_token=oh.t_in_slope,
        extra={**provenance, "seed": seed},
    ))


def _server(sid: str, node: str, gpu: GpuProfile, l_in: int) -> Server:
    return Server(id=sid, node=node, gpu=gpu.name, M=gpu.memory_gb, tau=gpu.tau, tau_in=gpu.tau_in(l_in),
                  forward_rps=gpu.forward_rps, inference_rps=gpu.inference_rps, network_rps=gpu.network_rps,
                  tau_in_per_token=gpu.tau_in_slope)


HELIX_DIR = DATA_DIR / "helix"


def helix_clusters() -> list[str]:
    return sorted(f.stem for f in HELIX_DIR.glob("*.yaml"))


def helix(p: HelixParams, seed: int, workload: WorkloadParams, model: str) -> Scenario:
    """A Helix cluster as published: server j on its own node with its GPU; the client is Helix's source and
    sink, so its raw RTT to server j is source_ms + sink_ms, and two servers' is twice their link's one-way
    latency (``links_ms`` where it is not ``link_ms``); the overheads of model.md §1.1 on top."""
    if p.cluster not in helix_clusters():
        raise unknown("helix cluster", p.cluster, helix_clusters())
    data = read_yaml((HELIX_DIR / f"{p.cluster}.yaml").read_text())
    n = len(data["gpus"])
    one_way = np.full((n, n), float(data["link_ms"]))
    for i, j, ms in data["links_ms"]:
        one_way[i, j] = one_way[j, i] = float(ms)
    client = [float(a) + float(b) for a, b in zip(data["source_ms"], data["sink_ms"])]
    nodes = [f"n{j}" for j in range(n)]

    def rtt(u: str, v: str) -> float:
        if u == v:
            return 0.0
        if u == "client" or v == "client":
            return client[int((v if u == "client" else u)[1:])] / 1e3
        return 2.0 * one_way[int(u[1:]), int(v[1:])] / 1e3

    q = dataclasses.replace(p, overheads=p.overheads or data["overheads"])
    return assemble(f"{p.name}-s{seed}", q, seed, workload, model, nodes, list(data["gpus"]), ["client"], rtt,
                    {"generator": "helix", "cluster": p.cluster, "source": data["source"], "commit": data["commit"]})
