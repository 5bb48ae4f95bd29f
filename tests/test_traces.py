"""Trace workloads (docs/simulator.md §6): the Azure LLM inference trace 2023 read exactly, replays cut or drop
what exceeds the context and count it, broken trace files are refused with one line (exit 2 from the
harness), and an online run replays every request with its own tokens."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.workloads import TRACES, resolve
from bpr import traces
from bpr.errors import BprInputError

ROOT = Path(__file__).resolve().parents[1]


def independent(path: Path) -> list[tuple[float, int, int]]:
    """The file read with the csv module and datetime, apart from bpr/traces.py."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    stamps = [datetime.strptime(r[0][:26], "%Y-%m-%d %H:%M:%S.%f") for r in rows]
    return [((s - stamps[0]).total_seconds(), int(r[1]), int(r[2])) for s, r in zip(stamps, rows)]


@pytest.mark.parametrize("name, count, first", [
    ("azure_code", 8819, [(0.0, 4808, 10), (0.052, 3180, 8), (0.098189, 110, 27)]),
    ("azure_conv", 19366, [(0.0, 374, 44), (4.3145790, 396, 109), (4.5418770, 879, 55)]),
])
def test_the_azure_traces_are_read_exactly(name, count, first):
    t = traces.read(TRACES[name], name)
    assert len(t) == count
    assert [(round(o, 6), i, o2) for o, i, o2 in zip(t.offsets[:3], t.l_in[:3], t.l_out[:3])] == \
        [(round(o, 6), i, o2) for o, i, o2 in first]
    ref = independent(TRACES[name])
    assert len(ref) == count and np.allclose(t.offsets, [r[0] for r in ref], atol=1e-6)
    assert t.l_in.tolist() == [r[1] for r in ref] and t.l_out.tolist() == [r[2] for r in ref]


def test_a_replay_cuts_or_drops_what_exceeds_the_context_and_counts_it():
    ref = independent(TRACES["azure_code"])[:1000]
    long = sum(i + o > 2048 for _, i, o in ref)
    t = traces.read(TRACES["azure_code"])
    cut = traces.replay(t, 1000, 2048, "cut")
    assert cut.cut == long > 0 and cut.dropped == 0 and len(cut.trace) == 1000
    assert (cut.trace.l_in + cut.trace.l_out <= 2048).all() and (cut.trace.l_out == t.l_out[:1000]).all()
    dropped = traces.replay(t, 1000, 2048, "drop")
    assert dropped.dropped == long and len(dropped.trace) == 1000 - long and dropped.trace.offsets[0] == 0
    assert cut.rate == pytest.approx(999 / ref[999][0])
    assert traces.replay(t, 1000, 2048, time_scale=2.0).rate == pytest.approx(cut.rate / 2)


BROKEN = [
    ("wrong header", "time,prompt,output\n2023-11-16 18:17:03.97,1,1\n", "expected the header"),
    ("empty", "", "expected the header"),
    ("no requests", "TIMESTAMP,ContextTokens,GeneratedTokens\n", "no requests"),
    ("bad time", "TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,5,5\n", "line 2, TIMESTAMP: not a date"),
    ("bad tokens", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.97,five,5\n",
     "line 2, ContextTokens: expected a whole number"),
    ("zero tokens", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.97,5,0\n",
     "line 2, GeneratedTokens: expected a whole number"),
    ("huge tokens", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.97,99999999999,5\n",
     "line 2, ContextTokens"),
    ("short row", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.97,5\n", "line 2: expected 3 fields"),
    ("back in time", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:04,5,5\n2023-11-16 18:17:03,5,5\n",
     "line 3: TIMESTAMP goes back in time"),
    ("back after a blank line", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:04,5,5\n\n"
     "2023-11-16 18:17:03,5,5\n", "line 4: TIMESTAMP goes back in time"),
    ("empty first time", "TIMESTAMP,ContextTokens,GeneratedTokens\n,5,5\n", "line 2, TIMESTAMP: not a date and time"),
    ("NaT", "TIMESTAMP,ContextTokens,GeneratedTokens\nNaT,5,5\n", "line 2, TIMESTAMP: not a date and time"),
    ("seconds", "TIMESTAMP,ContextTokens,GeneratedTokens\n12.5,5,5\n13,5,5\n", "line 2, TIMESTAMP: not a date"),
    ("empty middle time", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03,5,5\n,5,5\n"
     "2023-11-16 18:17:05,5,5\n", "line 3, TIMESTAMP: not a date and time"),
    ("millions of rows", "TIMESTAMP,ContextTokens,GeneratedTokens\n" + "2023-11-16 18:17:03,1,1\n" * 1_000_001,
     "more than 1000000 requests"),
]


@pytest.mark.parametrize("what, text, message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_trace_files_are_refused_by_name(tmp_path, what, text, message):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(BprInputError, match=message):
        traces.read(path)


def test_a_broken_trace_is_one_line_and_exit_2_from_the_harness(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xff\xfe")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "instance=abovenet", "mode=online",
                          f"workload.trace={path}", f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True,
                         text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [f"error: trace file '{path}' is not UTF-8 text: 'utf-8' codec can't "
                                               "decode byte 0xff in position 0: invalid start byte"]


def test_trace_settings_are_checked():
    with pytest.raises(BprInputError, match="workload.l_out: a trace gives every request its own tokens"):
        resolve({"trace": "azure_code", "l_out": 64}, "bloom-176b")
    with pytest.raises(BprInputError, match="apply to a trace"):
        resolve({"time_scale": 2.0}, "bloom-176b")
    with pytest.raises(BprInputError, match="unknown workload.over_context 'trim'"):
        resolve({"trace": "azure_code", "over_context": "trim"}, "bloom-176b")
    w = resolve({"trace": "azure_code", "n_requests": 50}, "bloom-176b")
    assert w.params["n_requests"] == 50 and w.params["l_in"] + w.params["l_out"] <= 2048


def test_a_trace_differs_between_runs_only_through_its_clients_or_its_job_sizes():
    from factories import tiny

    one = tiny(2, M=[40.0, 40.0], tau=[0.1, 0.1], t=[[0.1, 0.2]])
    two = tiny(2, M=[40.0, 40.0], tau=[0.1, 0.1], t=[[0.1, 0.2], [0.2, 0.1]])
    trace = resolve({"trace": "azure_code", "n_requests": 20}, "bloom-176b")
    assert not trace.varies(one) and trace.varies(two)         # each request's client is drawn per run
    assert resolve({"trace": "azure_code", "n_requests": 20, "service": "exponential"}, "bloom-176b").varies(one)
    assert resolve({"arrival_rate": 0.1}, "bloom-176b").varies(one)     # Poisson arrivals differ per seed


def test_an_online_run_replays_each_request_with_its_own_tokens(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "instance=abovenet", "mode=online",
                          "workload=azure_code", "workload.n_requests=40", "workload.time_scale=4", "runs=3",
                          "algorithms=[proposed,chains]", f"hydra.run.dir={tmp_path}"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # one client, deterministic service: three runs would be one run three times, with a spread of 0
    assert "replayed once (runs=3 asked" in out.stdout.splitlines()[0]
    trace = pd.read_parquet(tmp_path / "trace.parquet")
    replay = traces.replay(traces.read(TRACES["azure_code"]), 40, 2048, time_scale=4.0)
    for _, group in trace.groupby("algorithm"):
        assert group.l_in.tolist() == replay.trace.l_in.tolist() and group.l_out.tolist() == replay.trace.l_out.tolist()
        assert np.allclose(group.arrival, replay.times)
        served = group[group.served]
        assert np.allclose(served.per_token, served.response / served.l_out)
    df = pd.read_parquet(tmp_path / "results.parquet")
    assert (df.trace == "azure_code").all() and (df.trace_requests == 40).all()
    assert (df.trace_cut == replay.cut).all() and (df.p_workload_trace == "azure_code").all()
    assert (df.run == 0).all() and (df.p_runs == 1).all()
    assert df.set_index("algorithm").loc["chains"].c >= 1


@pytest.mark.parametrize("scale", [0.0, -1.0, float("inf"), float("nan"), 1e300])
def test_a_time_scale_that_loses_the_service_times_is_refused(scale):
    t = traces.read(TRACES["azure_code"])
    with pytest.raises(BprInputError, match="workload.time_scale: must be > 0 and keep the replayed span within"):
        traces.replay(t, 100, 2048, time_scale=scale)
