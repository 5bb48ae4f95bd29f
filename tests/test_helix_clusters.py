"""Helix's published clusters as instances (bpr/scenarios.py ``helix``, instances/helix/, docs/peers.md §2):
the GPU mix and latencies of the artifact's configurations, mapped to this model's RTTs."""

from collections import Counter

import numpy as np
import pytest

from bench.instance_builder import build
from bpr.errors import BprInputError
from bpr.profiles import overheads
from bpr.scenarios import helix_clusters


def cluster(name: str, model: str = "llama-2-70b-fp16"):
    return build({"_target_": "bpr.scenarios.helix", "name": f"helix-{name}", "cluster": name}, 0, model=model)


def test_the_clusters_hold_the_published_gpu_mixes():
    # Mei et al. §6.3-6.5 and §6.9 (artifact .ini files): 4 A100 + 8 L4 + 12 T4; 42 nodes of seven kinds; 10 nodes
    assert {"single-24", "geo-24", "hetero-42", "quality-10"} <= set(helix_clusters())
    mix = {name: Counter(s.gpu for s in cluster(name).servers) for name in ("single-24", "geo-24", "hetero-42")}
    assert mix["single-24"] == mix["geo-24"] == {"a100-40gb": 4, "l4-24gb": 8, "t4-16gb": 12}
    assert mix["hetero-42"] == {"a100-40gb": 4, "v100-16gb": 6, "l4-24gb": 8, "l4x2-48gb": 4, "t4-16gb": 10,
                                "t4x2-32gb": 6, "t4x4-64gb": 4}
    assert Counter(s.gpu for s in cluster("quality-10").servers) == {"l4-24gb": 4, "t4-16gb": 6}


def test_latencies_become_round_trips_with_the_overheads_on_top():
    single = cluster("single-24")
    # one cluster: 1 ms each way to the source and from the sink; clustered overheads (0.05 s per hop)
    assert np.allclose(single.t, 0.002 + overheads("clustered").t)
    assert np.allclose(single.rtt_ss[~np.eye(24, dtype=bool)], 0.002)
    geo = cluster("geo-24")
    # the source and sink links are cross-region ones (40-59 ms each way); geo overheads
    raw = geo.t - overheads("geo").t
    assert raw.min() >= 0.080 and raw.max() <= 0.118
    # inside a region 1 ms each way, across regions 40-59 ms: region 0 holds the four A100s (nodes 0-3)
    a100 = [j for j, s in enumerate(geo.servers) if s.gpu == "a100-40gb"]
    assert a100 == [0, 1, 2, 3] and np.allclose(geo.rtt_ss[0, 1:4], 0.002)
    assert 0.080 <= geo.rtt_ss[0, 4:].min() and geo.rtt_ss[0, 4:].max() <= 0.118


def test_a_cluster_the_suite_does_not_have_is_named():
    with pytest.raises(BprInputError, match="unknown helix cluster 'single-25'"):
        cluster("single-25")
