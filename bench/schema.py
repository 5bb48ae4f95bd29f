"""Structured config of ``bench/run.py``: misspelt keys and wrong types are rejected by Hydra/OmegaConf."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from hydra.core.config_store import ConfigStore

from solvers.milp.backend import SolverSettings



@dataclass
class InstanceConf:
    """A named scenario of ``instances/scenarios`` (null fields keep its defaults), or a frozen ``file``."""

    name: str = "bellcanada"
    file: Optional[str] = None
    topology: Optional[str] = None
    servers: Optional[int] = None
    a100_fraction: Optional[float] = None
    client_cluster: Optional[int] = None


@dataclass
class ModelConf:
    """A model profile of instances/profiles/models.yaml (for generated instances)."""

    name: str = "bloom-176b"


@dataclass
class WorkloadConf:
    """SPEC 1.2 workload; null keeps the scenario default (R null: SPEC 7.3)."""

    l_in: Optional[int] = None
    l_out: Optional[int] = None
    R: Optional[int] = None
    arrival_rate: Optional[float] = None
    n_requests: Optional[int] = None


@dataclass
class RunConf:
    instance: InstanceConf = field(default_factory=InstanceConf)
    model: ModelConf = field(default_factory=ModelConf)
    workload: WorkloadConf = field(default_factory=WorkloadConf)
    solver: SolverSettings = field(default_factory=SolverSettings)
    seed: int = 0
    mode: str = "offline"                       # offline (SPEC 3) or online (SPEC 7 simulator)
    algorithms: Optional[list[str]] = None      # null: every algorithm of the mode
    runs: int = 1                               # online: Monte-Carlo repetitions (arrival seeds seed..seed+runs-1)
    retry_backoff: bool = True                  # online: PETALS client retry instants (SPEC 7.1)
    resume: bool = False                        # skip a job whose directory already has a successful result


def register() -> None:
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=RunConf)
    cs.store(group="instance", name="base_instance", node=InstanceConf)
    cs.store(group="solver", name="base_solver", node=SolverSettings)
    cs.store(group="model", name="base_model", node=ModelConf)
    cs.store(group="workload", name="base_workload", node=WorkloadConf)
