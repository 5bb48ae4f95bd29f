"""Model, GPU, overhead, PETALS and Parallax profiles (docs/model.md §1.1 and 6, docs/peers.md §1), read from
``instances/profiles/*.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bpr.errors import unknown
from bpr.files import read_yaml
from bpr.paths import PROFILES_DIR


@dataclass(frozen=True)
class ModelProfile:
    name: str
    L: int
    d_model: int
    kv_groups: int
    params_per_block: int
    bits_per_param: float
    storage_overhead: float
    context: int | None = None       # most tokens (prompt + output) of a request

    @property
    def s_m(self) -> float:
        """GB per stored block (docs/model.md §1.1: parameters x 4.25 bits x 1.01)."""
        return self.params_per_block * self.bits_per_param / 8 * self.storage_overhead / 1e9

    def s_c(self, l_in: int, l_out: int) -> float:
        """Attention cache per request per block in GB: 2 d_model (l_in + l_out) 2 / g / 1e9 (docs/model.md §1)."""
        return 2 * self.d_model * (l_in + l_out) * 2 / self.kv_groups / 1e9


@dataclass(frozen=True)
class GpuProfile:
    name: str
    memory_gb: float
    tau: float
    tau_in_slope: float
    tau_in_intercept: float
    forward_rps: float
    inference_rps: float
    network_rps: float

    def tau_in(self, l_in: int) -> float:
        """Prompt time per block (docs/model.md §1.1: slope * l_in + intercept)."""
        return self.tau_in_slope * l_in + self.tau_in_intercept


@dataclass(frozen=True)
class Overheads:
    name: str
    t: float
    t_in_slope: float
    t_in_intercept: float
    initial_delay: float

    def t_in(self, l_in: int) -> float:
        return self.t_in_slope * l_in + self.t_in_intercept


@dataclass(frozen=True)
class PetalsConstants:
    reserved_gib_per_14336_dmodel: float
    attn_cache_tokens: int
    attn_cache_tokens_grouped: int
    hop_overhead_s: float
    cache_penalty_s: float


@dataclass(frozen=True)
class ParallaxConstants:
    param_share: float
    kv_share: float
    load_s: float


@cache
def read_profile(file: str) -> dict:
    with open(Path(PROFILES_DIR) / file) as fh:
        return read_yaml(fh)


def _lookup(file: str, kind: str, name: str, cls: type):
    table = read_profile(file)
    if name not in table:
        raise unknown(kind, name, sorted(table))
    return cls(name=name, **table[name])


def model_profile(name: str) -> ModelProfile:
    return _lookup("models.yaml", "model", name, ModelProfile)


def gpu_profile(name: str) -> GpuProfile:
    return _lookup("gpus.yaml", "GPU", name, GpuProfile)


def overheads(name: str) -> Overheads:
    return _lookup("overheads.yaml", "overhead profile", name, Overheads)


def petals_constants() -> PetalsConstants:
    return PetalsConstants(**read_profile("petals.yaml"))


def parallax_constants() -> ParallaxConstants:
    return ParallaxConstants(**read_profile("parallax.yaml"))
