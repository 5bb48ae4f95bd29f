"""The BPRR instance (docs/model.md §1): types, validation and the JSON file format (schema_version 1)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np

from bpr.errors import BprInputError
from bpr.fields import integer, label, listing, number, require, text
from bpr.files import write_json
from bpr.limits import (
    MAX_BLOCKS,
    MAX_CLIENTS,
    MAX_DMODEL,
    MAX_FILE_BYTES,
    MAX_GB,
    MAX_R,
    MAX_RATE,
    MAX_REQUESTS,
    MAX_SECONDS,
    MAX_SERVERS,
    MAX_TOKENS,
)

SCHEMA_VERSION = 1
T = TypeVar("T")


@dataclass(frozen=True)
class Model:
    """``L`` blocks of ``s_m`` GB each; ``d_model`` and ``kv_groups`` size the attention cache; ``context`` is
    the most tokens (prompt and output) a request may have (None: no limit given)."""

    name: str
    L: int
    d_model: int
    kv_groups: int
    s_m: float
    context: int | None = None

    def cache_per_block(self, tokens: int) -> float:
        """s_c for a request of ``tokens`` tokens: 2 d_model tokens 2 / g / 1e9 GB (docs/model.md §1)."""
        return 2 * self.d_model * tokens * 2 / self.kv_groups / 1e9


@dataclass(frozen=True)
class Workload:
    """l_in = l^I_max, l_out = l_max, R = |R| (design concurrency), lambda and N (docs/model.md §1)."""

    l_in: int
    l_out: int
    R: int
    arrival_rate: float
    n_requests: int


@dataclass(frozen=True)
class Server:
    """Server j: memory M_j (GB), tau_j and tau_in_j (s per block), PETALS throughput profile;
    ``tau_in_per_token`` is how tau_in grows per prompt token (a trace request's own prompt, docs/simulator.md)."""

    id: str
    node: str
    gpu: str
    M: float
    tau: float
    tau_in: float
    forward_rps: float | None = None
    inference_rps: float | None = None
    network_rps: float | None = None
    tau_in_per_token: float = 0.0


@dataclass(frozen=True)
class Client:
    id: str
    node: str
    share: float


@dataclass(frozen=True, eq=False)
class Instance:
    """Everything a solver needs (docs/model.md §1). Matrices are numpy arrays: t, t_in are clients x servers,
    rtt_ss is servers x servers. ``t_in_per_token`` is how t_in grows per prompt token. ``extra`` keeps
    provenance keys (topology, seed, generator)."""

    name: str
    model: Model
    workload: Workload
    s_c: float
    initial_delay: float
    servers: tuple[Server, ...]
    clients: tuple[Client, ...]
    t: np.ndarray
    t_in: np.ndarray
    rtt_ss: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)
    t_in_per_token: float = 0.0

    def __post_init__(self) -> None:
        validate(self)

    @property
    def L(self) -> int:
        return self.model.L

    @property
    def R(self) -> int:
        return self.workload.R

    @property
    def n_servers(self) -> int:
        return len(self.servers)

    def with_R(self, R: int) -> "Instance":
        """The same instance for another design concurrency R."""
        return dataclasses.replace(self, workload=dataclasses.replace(self.workload, R=R))

    def renamed(self, name: str) -> "Instance":
        return dataclasses.replace(self, name=name)

    def only_servers(self, keep: list[int]) -> "Instance":
        """The same instance with only the servers ``keep`` (in that order), their delays with them."""
        idx = np.asarray(keep, dtype=int)
        return dataclasses.replace(self, servers=tuple(self.servers[j] for j in keep), t=self.t[:, idx],
                                   t_in=self.t_in[:, idx], rtt_ss=self.rtt_ss[np.ix_(idx, idx)])

    def server_index(self) -> dict[str, int]:
        return {s.id: j for j, s in enumerate(self.servers)}

    def client_index(self) -> dict[str, int]:
        return {c.id: k for k, c in enumerate(self.clients)}

    def requests_per_client(self) -> list[int]:
        """Largest-remainder split of R over the client shares (docs/model.md §3); ties go to the earlier client."""
        R = self.workload.R
        quotas = [c.share * R for c in self.clients]
        counts = [math.floor(q + 1e-9) for q in quotas]
        order = sorted(range(len(quotas)), key=lambda k: (-(quotas[k] - counts[k]), k))
        for k in order[: R - sum(counts)]:
            counts[k] += 1
        return counts

    def request_clients(self) -> list[int]:
        """Client index of every request 0..R-1: requests go to clients in order of the split."""
        return [k for k, n in enumerate(self.requests_per_client()) for _ in range(n)]

    def to_dict(self) -> dict[str, Any]:
        m, w = self.model, self.workload
        servers = []
        for s in self.servers:
            row = {"id": s.id, "node": s.node, "gpu": s.gpu, "M": s.M, "tau": s.tau, "tau_in": s.tau_in}
            for key in ("forward_rps", "inference_rps", "network_rps"):
                if getattr(s, key) is not None:
                    row[key] = getattr(s, key)
            if s.tau_in_per_token:
                row["tau_in_per_token"] = s.tau_in_per_token
            servers.append(row)
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "model": {"name": m.name, "L": m.L, "d_model": m.d_model, "kv_groups": m.kv_groups, "s_m": m.s_m,
                      **({"context": m.context} if m.context is not None else {})},
            "workload": {"l_in": w.l_in, "l_out": w.l_out, "R": w.R, "arrival_rate": w.arrival_rate,
                         "n_requests": w.n_requests},
            "s_c": self.s_c,
            "initial_delay": self.initial_delay,
            **({"t_in_per_token": self.t_in_per_token} if self.t_in_per_token else {}),
            "servers": servers,
            "clients": [{"id": c.id, "node": c.node, "share": c.share} for c in self.clients],
            "t": self.t.tolist(),
            "t_in": self.t_in.tolist(),
            "rtt_ss": self.rtt_ss.tolist(),
            **self.extra,
        }

    def save(self, path: str | Path) -> None:
        write_json(path, self.to_dict())

    def fingerprint(self) -> str:
        """SHA-256 of the instance's content (its file form with sorted keys): the same for the same instance
        however its file was written, different after any change (an R, an M, a delay)."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


_CORE_KEYS = {"schema_version", "name", "model", "workload", "s_c", "initial_delay", "servers", "clients",
              "t", "t_in", "rtt_ss", "t_in_per_token"}
FIELDS = {"model": {"name", "L", "d_model", "kv_groups", "s_m", "context"},
          "workload": {"l_in", "l_out", "R", "arrival_rate", "n_requests"},
          "servers": {"id", "node", "gpu", "M", "tau", "tau_in", "forward_rps", "inference_rps", "network_rps",
                      "tau_in_per_token"},
          "clients": {"id", "node", "share"}}


def validate(inst: Instance) -> None:
    """Raise BprInputError naming the first bad field (docs/model.md §1 "Validation")."""
    clash = sorted(set(inst.extra) & _CORE_KEYS)
    if clash:
        raise BprInputError(f"extra key '{clash[0]}' would overwrite a field of the instance file "
                            "(docs/formats.md §1)")
    m, w = inst.model, inst.workload
    integer(m.L, "model.L", lo=1, hi=MAX_BLOCKS)
    integer(m.d_model, "model.d_model", lo=1, hi=MAX_DMODEL)
    integer(m.kv_groups, "model.kv_groups", lo=1, hi=MAX_DMODEL)
    number(m.s_m, "model.s_m", lo=0, strict=True, hi=MAX_GB)
    if m.context is not None:
        integer(m.context, "model.context", lo=2, hi=MAX_TOKENS)
    number(inst.t_in_per_token, "t_in_per_token", lo=0, hi=MAX_SECONDS)
    integer(w.l_in, "workload.l_in", lo=0, hi=MAX_TOKENS)
    integer(w.l_out, "workload.l_out", lo=1, hi=MAX_TOKENS)
    integer(w.R, "workload.R", lo=1, hi=MAX_R)
    number(w.arrival_rate, "workload.arrival_rate", lo=0, strict=True, hi=MAX_RATE)
    integer(w.n_requests, "workload.n_requests", lo=1, hi=MAX_REQUESTS)
    number(inst.s_c, "s_c", lo=0, strict=True, hi=MAX_GB)
    number(inst.initial_delay, "initial_delay", lo=0, hi=MAX_SECONDS)
    if not inst.servers:
        raise BprInputError("servers: at least one server is needed")
    if not inst.clients:
        raise BprInputError("clients: at least one client is needed")
    integer(len(inst.servers), "servers (count)", hi=MAX_SERVERS)
    integer(len(inst.clients), "clients (count)", hi=MAX_CLIENTS)
    for j, s in enumerate(inst.servers):
        number(s.M, f"servers[{j}].M", lo=0, strict=True, hi=MAX_GB)
        number(s.tau, f"servers[{j}].tau", lo=0, hi=MAX_SECONDS)
        number(s.tau_in, f"servers[{j}].tau_in", lo=0, hi=MAX_SECONDS)
        number(s.tau_in_per_token, f"servers[{j}].tau_in_per_token", lo=0, hi=MAX_SECONDS)
        for key in ("forward_rps", "inference_rps", "network_rps"):
            if getattr(s, key) is not None:
                number(getattr(s, key), f"servers[{j}].{key}", lo=0, strict=True, hi=MAX_RATE)
    for k, c in enumerate(inst.clients):
        number(c.share, f"clients[{k}].share", lo=0)
    total = sum(c.share for c in inst.clients)
    if abs(total - 1.0) > 1e-6:
        raise BprInputError(f"clients[*].share: must sum to 1, got {total:.6g}")
    _unique([s.id for s in inst.servers], "servers[*].id")
    _unique([c.id for c in inst.clients], "clients[*].id")
    n_s, n_c = len(inst.servers), len(inst.clients)
    for key, shape in (("t", (n_c, n_s)), ("t_in", (n_c, n_s)), ("rtt_ss", (n_s, n_s))):
        a = getattr(inst, key)
        if a.shape != shape:
            raise BprInputError(f"{key}: expected shape {shape[0]}x{shape[1]} (clients/servers), got "
                                f"{'x'.join(map(str, a.shape))}")
        if not np.all(np.isfinite(a)) or np.any(a < 0) or np.any(a > MAX_SECONDS):
            raise BprInputError(f"{key}: every entry must be finite, >= 0 and at most {MAX_SECONDS:g} s (size "
                                f"limit, docs/formats.md §4)")


def _unique(ids: list[str], where: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise BprInputError(f"{where}: duplicate id '{i}'")
        seen.add(i)


def _matrix(d: dict, key: str) -> np.ndarray:
    """A list of equally long rows of JSON numbers (true and numeric strings are not numbers)."""
    rows = listing(require(d, key, "instance"), key)
    for i, row in enumerate(rows):
        for j, x in enumerate(listing(row, f"{key}[{i}]")):
            number(x, f"{key}[{i}][{j}]")
    a = np.array(rows, dtype=float) if len({len(r) for r in rows}) <= 1 else np.zeros(0)
    if a.ndim != 2:
        raise BprInputError(f"{key}: expected a list of equally long rows of numbers")
    return a


def from_dict(d: Any) -> Instance:
    """Parse and validate a schema_version-1 instance dict; extra keys are kept as provenance."""
    version = require(d, "schema_version", "instance")
    if version != SCHEMA_VERSION:
        raise BprInputError(f"schema_version: expected {SCHEMA_VERSION}, got {version!r}")
    md = _known(require(d, "model", "instance"), "model", "model")
    wd = _known(require(d, "workload", "instance"), "workload", "workload")
    context = md.get("context")
    model = Model(name=text(require(md, "name", "model"), "model.name"),
                  L=integer(require(md, "L", "model"), "model.L", lo=1, hi=MAX_BLOCKS),
                  d_model=integer(require(md, "d_model", "model"), "model.d_model", lo=1, hi=MAX_DMODEL),
                  kv_groups=integer(md.get("kv_groups", 1), "model.kv_groups", lo=1, hi=MAX_DMODEL),
                  s_m=number(require(md, "s_m", "model"), "model.s_m", lo=0, strict=True),
                  context=None if context is None else integer(context, "model.context", lo=2, hi=MAX_TOKENS))
    workload = Workload(l_in=integer(require(wd, "l_in", "workload"), "workload.l_in", lo=0, hi=MAX_TOKENS),
                        l_out=integer(require(wd, "l_out", "workload"), "workload.l_out", lo=1, hi=MAX_TOKENS),
                        R=integer(require(wd, "R", "workload"), "workload.R", lo=1, hi=MAX_R),
                        arrival_rate=number(wd.get("arrival_rate", 0.5), "workload.arrival_rate", lo=0, strict=True),
                        n_requests=integer(wd.get("n_requests", 100), "workload.n_requests", lo=1, hi=MAX_REQUESTS))
    servers = []
    for j, sd in enumerate(listing(require(d, "servers", "instance"), "servers")):
        where = f"servers[{j}]"
        sd = _known(sd, "servers", where)
        opt = {k: number(sd[k], f"{where}.{k}") for k in ("forward_rps", "inference_rps", "network_rps",
                                                           "tau_in_per_token") if sd.get(k) is not None}
        servers.append(Server(id=text(require(sd, "id", where), f"{where}.id"),
                              node=label(sd, "node", where), gpu=label(sd, "gpu", where),
                              M=number(require(sd, "M", where), f"{where}.M"),
                              tau=number(require(sd, "tau", where), f"{where}.tau"),
                              tau_in=number(require(sd, "tau_in", where), f"{where}.tau_in"), **opt))
    clients = []
    for k, cd in enumerate(listing(require(d, "clients", "instance"), "clients")):
        where = f"clients[{k}]"
        cd = _known(cd, "clients", where)
        clients.append(Client(id=text(require(cd, "id", where), f"{where}.id"), node=label(cd, "node", where),
                              share=number(require(cd, "share", where), f"{where}.share")))
    return Instance(name=text(require(d, "name", "instance"), "name"), model=model, workload=workload,
                    s_c=number(require(d, "s_c", "instance"), "s_c"),
                    initial_delay=number(d.get("initial_delay", 0.0), "initial_delay"),
                    servers=tuple(servers), clients=tuple(clients),
                    t=_matrix(d, "t"), t_in=_matrix(d, "t_in"), rtt_ss=_matrix(d, "rtt_ss"),
                    extra={k: v for k, v in d.items() if k not in _CORE_KEYS},
                    t_in_per_token=number(d.get("t_in_per_token", 0.0), "t_in_per_token"))


def _known(d: Any, part: str, where: str) -> dict:
    """An object of the file whose keys are all fields of ``part`` (a misspelt optional key is not dropped
    silently: it is named)."""
    if not isinstance(d, dict):
        raise BprInputError(f"{where}: expected an object, got {type(d).__name__}")
    strange = sorted(set(d) - FIELDS[part], key=str)
    if strange:
        raise BprInputError(f"{where}.{strange[0]}: not a field of the instance file (known: "
                            f"{', '.join(sorted(FIELDS[part]))}; docs/formats.md §1)")
    return d


def load(path: str | Path) -> Instance:
    """Read an instance file; a missing, unreadable or malformed file is a BprInputError naming it."""
    return parse_file(path, "instance", from_dict)


def parse_file(path: str | Path, what: str, parse: Callable[[Any], T]) -> T:
    """Read a JSON file and parse it; errors name the file and then the field."""
    data = read_json(path, what)
    try:
        return parse(data)
    except BprInputError as err:
        raise BprInputError(f"{what} file '{path}': {err}") from None


class _Duplicate(Exception):
    """A key that appears twice in one JSON object (JSON would silently keep the last)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def read_json(path: str | Path, what: str) -> Any:
    """A JSON file of at most MAX_FILE_BYTES (a device or a huge file is refused before it is read)."""
    if Path(path).exists() and not Path(path).is_file():  # a device or a pipe would block or never end
        raise BprInputError(f"{what} file '{path}' is not a regular file")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise BprInputError(f"{what} file '{path}' is larger than {MAX_FILE_BYTES // 2**20} MiB (size limit, "
                                f"docs/formats.md §4)")
        return json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _Duplicate as err:
        raise BprInputError(f"{what} file '{path}': key '{err}' appears twice in one object") from None
    except FileNotFoundError:
        raise BprInputError(f"{what} file '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BprInputError(f"{what} file '{path}' cannot be read: {err}") from None
    except json.JSONDecodeError as err:
        raise BprInputError(f"{what} file '{path}' is not valid JSON: {err}") from None
    except ValueError as err:   # e.g. an integer of thousands of digits
        raise BprInputError(f"{what} file '{path}' is not valid JSON: {str(err).splitlines()[0]}") from None
    except RecursionError:
        raise BprInputError(f"{what} file '{path}' is nested too deeply") from None
