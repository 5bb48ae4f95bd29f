"""Request traces (docs/simulator.md §6): arrival times and each request's own prompt and output tokens, read
from CSV files with the columns of the Azure LLM inference trace 2023 (TIMESTAMP, ContextTokens,
GeneratedTokens; instances/traces/README.md says where they come from and how to cite them).

A replay takes the first N requests, cuts (or drops) those longer than the model's context, and counts
them; its arrivals are the trace's times relative to its first request, times a scale.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bpr.errors import BprInputError
from bpr.limits import MAX_FILE_BYTES, MAX_REQUESTS, MAX_TOKENS

COLUMNS = ["TIMESTAMP", "ContextTokens", "GeneratedTokens"]
OVER_CONTEXT = ("cut", "drop")


@dataclass(frozen=True, eq=False)
class Trace:
    """Requests in arrival order: seconds since the first, prompt and output tokens."""

    name: str
    offsets: np.ndarray
    l_in: np.ndarray
    l_out: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets)


@dataclass(frozen=True, eq=False)
class Replay:
    """What a run replays: the requests kept, and how many were cut or dropped for the context."""

    trace: Trace
    cut: int
    dropped: int
    time_scale: float

    @property
    def times(self) -> np.ndarray:
        return self.trace.offsets * self.time_scale

    @property
    def rate(self) -> float:
        """The mean arrival rate (requests per second) of the replay."""
        span = float(self.times[-1] - self.times[0]) if len(self.trace) > 1 else 0.0
        return (len(self.trace) - 1) / span if span > 0 else float(len(self.trace))


def read(path: str | Path, name: str | None = None) -> Trace:
    """A trace file; a missing, unreadable or malformed one is bad input naming the file, line and column."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise BprInputError(f"trace file '{path}' is not a regular file")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise BprInputError(f"trace file '{path}' does not exist") from None
    except OSError as err:
        raise BprInputError(f"trace file '{path}' cannot be read: {err.strerror or err}") from None
    if len(data) > MAX_FILE_BYTES:
        raise BprInputError(f"trace file '{path}' is larger than {MAX_FILE_BYTES // 2**20} MiB (size limit, "
                            f"docs/formats.md §4)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BprInputError(f"trace file '{path}' is not UTF-8 text: {err}") from None
    try:
        # at most one row past the limit is kept: a trace of millions of rows is refused without holding them
        return _parse(list(itertools.islice(csv.reader(io.StringIO(text)), MAX_REQUESTS * 10 + 2)), path,
                      name or path.stem)
    except csv.Error as err:
        raise BprInputError(f"trace file '{path}' is not CSV: {err}") from None


# a date and a time of day (the Azure traces' form, ISO 8601): a number alone ("12.5", seconds or a year?),
# an empty field or NaT is refused, never read as a date
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def _stamp(text: str, path: Path, line: int) -> np.datetime64:
    try:
        if not STAMP.fullmatch(text):
            raise ValueError(text)
        return np.datetime64(text, "ns")
    except ValueError:
        raise BprInputError(f"trace file '{path}', line {line}, TIMESTAMP: not a date and time "
                            f"(YYYY-MM-DD HH:MM:SS.fff): '{text[:40]}'") from None


def _parse(rows: list[list[str]], path: Path, name: str) -> Trace:
    if not rows or [c.strip() for c in rows[0]] != COLUMNS:
        raise BprInputError(f"trace file '{path}': expected the header {','.join(COLUMNS)}, got "
                            f"{','.join(rows[0]) if rows else 'an empty file'}")
    body = [(line, r) for line, r in enumerate(rows[1:], start=2) if r]    # the file's own line numbers
    if not body:
        raise BprInputError(f"trace file '{path}': no requests after the header")
    if len(body) > MAX_REQUESTS * 10:
        raise BprInputError(f"trace file '{path}': more than {MAX_REQUESTS * 10} requests (size limit)")
    stamps = np.empty(len(body), dtype="datetime64[ns]")
    tokens = np.empty((len(body), 2), dtype=np.int64)
    for i, (line, row) in enumerate(body):
        if len(row) != 3:
            raise BprInputError(f"trace file '{path}', line {line}: expected 3 fields, got {len(row)}")
        stamps[i] = _stamp(row[0].strip(), path, line)
        for col, value in enumerate(row[1:]):
            tokens[i, col] = _tokens(value, path, line, COLUMNS[col + 1])
    offsets = (stamps - stamps[0]).astype(np.int64) / 1e9
    back = np.flatnonzero(np.diff(offsets) < 0)
    if len(back):
        raise BprInputError(f"trace file '{path}', line {body[int(back[0]) + 1][0]}: TIMESTAMP goes back in time")
    return Trace(name, offsets, tokens[:, 0], tokens[:, 1])


def _tokens(value: str, path: Path, line: int, column: str) -> int:
    text = value.strip()
    n = int(text) if text.isdigit() and len(text) <= 9 else -1
    if not 1 <= n <= MAX_TOKENS:
        raise BprInputError(f"trace file '{path}', line {line}, {column}: expected a whole number of tokens "
                            f"from 1 to {MAX_TOKENS}, got '{text[:40]}'")
    return n


# the longest replay: times up to 1e9 s keep a millisecond's resolution in a double (16 digits)
MAX_SPAN_S = 1e9


def replay(trace: Trace, n: int | None, context: int | None, over: str = "cut", time_scale: float = 1.0) -> Replay:
    """The first ``n`` requests (all when None) with those longer than ``context`` tokens cut to it (the prompt
    first, keeping at least one token of each) or dropped."""
    if over not in OVER_CONTEXT:
        raise BprInputError(f"workload.over_context: expected one of {', '.join(OVER_CONTEXT)}, got '{over}'")
    k = len(trace) if n is None else min(n, len(trace))
    offsets, l_in, l_out = trace.offsets[:k], trace.l_in[:k].copy(), trace.l_out[:k].copy()
    span = float(offsets[-1] - offsets[0]) * time_scale if k else 0.0
    if not (time_scale > 0 and math.isfinite(span) and span <= MAX_SPAN_S):
        raise BprInputError(f"workload.time_scale: must be > 0 and keep the replayed span within {MAX_SPAN_S:g} s "
                            f"(beyond it a request's service time vanishes beside its arrival time), got "
                            f"{time_scale!r} (span {span:.3g} s)")
    long = np.zeros(k, dtype=bool) if context is None else l_in + l_out > context
    if over == "drop":
        keep = ~long
        if not keep.any():
            raise BprInputError(f"workload: every one of the first {k} requests of {trace.name} is longer than "
                                f"the model's context ({context} tokens)")
        return Replay(Trace(trace.name, offsets[keep] - offsets[keep][0], l_in[keep], l_out[keep]), 0,
                      int(long.sum()), time_scale)
    if long.any():
        l_out[long] = np.minimum(l_out[long], context - 1)
        l_in[long] = context - l_out[long]
    return Replay(Trace(trace.name, offsets, l_in, l_out), int(long.sum()), 0, time_scale)
