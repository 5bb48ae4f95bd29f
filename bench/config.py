"""Structured config of ``bench/run.py`` (Hydra): misspelt keys and wrong types are rejected by name.

- ``instance``: a ``conf/instance/<name>.yaml`` entry, ``_target_`` (the family's generator) plus the
  family's parameters; they are typed by the family's dataclass when the instance is built, so a key the
  yaml does not list can still be set (``instance.clients=2``) and a misspelt one is named then.
- ``algorithm.<name>.<option>``: an open node, checked when the job is planned (bench/job.py ``plan``):
  ``<name>`` must be a registered algorithm, and its options are typed by its options dataclass, so a
  misspelt name, option or value is one line of bad input. Only the algorithms a job names (in its list or
  in this node) are imported: a CG-BPRR job loads no MILP library.
"""

from __future__ import annotations

import hashlib
import re
import typing
from dataclasses import dataclass, field, fields, make_dataclass
from pathlib import Path
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from bench.workloads import TraceSettings
from bpr.scenarios import WorkloadParams
from solvers.framework.settings import SolverSettings


@dataclass
class ModelConf:
    """A model profile of instances/profiles/models.yaml (for generated instances)."""

    name: str = "bloom-176b"


# The workload of docs/model.md §1.2 and a trace's settings (bench/workloads.py), every field optional: null
# keeps the default (the family's; R: §7.3; Poisson arrivals, deterministic service).
_hints = {**typing.get_type_hints(WorkloadParams), **typing.get_type_hints(TraceSettings)}
WorkloadConf = make_dataclass("WorkloadConf", [(f.name, Optional[_hints[f.name]], field(default=None))
                                               for f in (*fields(WorkloadParams), *fields(TraceSettings))])


@dataclass
class CalibrationConf:
    """A calibration of instances/profiles/calibration.yaml (online mode, docs/simulator.md §3):
    ``delay_s.<family>=seconds`` replaces the file's delay of a family for every scenario size."""

    name: str = "none"
    delay_s: dict[str, float] = field(default_factory=dict)
    hold_from_arrival: Optional[bool] = None


@dataclass
class RunConf:
    instance: Any = None
    model: ModelConf = field(default_factory=ModelConf)
    workload: WorkloadConf = field(default_factory=WorkloadConf)
    solver: SolverSettings = field(default_factory=SolverSettings)
    calibration: CalibrationConf = field(default_factory=CalibrationConf)
    algorithm: Any = None                       # algorithm.<name>.<option>, typed when the job is planned
    seed: int = 0
    mode: str = "offline"                       # offline (docs/model.md §3) or online (docs/simulator.md)
    algorithms: Optional[list[str]] = None      # null: the ready list of the mode (bench/job.py default_names)
    runs: int = 1                               # online: Monte-Carlo repetitions (arrival seeds seed..seed+runs-1)
    retry_backoff: bool = True                  # online: PETALS client retry instants
    resume: bool = False                        # skip a job whose directory already has a successful result
    verbose: Optional[bool] = None              # each job's table on the console (null: single runs yes, sweeps no)
    figures: Optional[bool] = None              # online: each job's figures (null: single runs yes, sweeps no)


def path_safe(name: Any) -> str:
    """``name`` as one directory name: only letters, digits, ``._-`` (anything else becomes ``_``), never
    ``.``, ``..`` or hidden, so an instance name cannot move a run directory elsewhere."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", str(name))
    return f"_{safe}" if not safe or safe.startswith(".") else safe


def run_name(name: Any, file: Any = None) -> str:
    """A single run's directory name: the instance's, or for an instance file (``instance=file``) the file's
    (``library:janet-binding`` -> janet-binding, ``x/inst.json`` -> inst), path-safe."""
    if file in (None, "", "???"):
        return path_safe(name)
    from bench.instance_builder import LIBRARY_PREFIX

    file = str(file)
    return path_safe(file.removeprefix(LIBRARY_PREFIX) if file.startswith(LIBRARY_PREFIX) else Path(file).stem)


def job_dir(overrides: Any) -> str:
    """A sweep job's directory: its overrides made path-safe and a hash of them, so the same job always lands
    in the same directory, whatever the grid around it. A long name keeps its last 100 characters (overrides
    come sorted by key, and instance, seed and workload keys sort last)."""
    text = str(overrides)
    return f"{path_safe(path_safe(text or 'default')[-100:])}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def schema():
    """The typed config of ``bench/run.py`` before any yaml: ``instance`` and dict-valued fields are open."""
    base = OmegaConf.structured(RunConf)
    base.instance = OmegaConf.create({})
    OmegaConf.set_struct(base.instance, False)  # typed later by the family's dataclass
    base.algorithm = OmegaConf.create({})
    OmegaConf.set_struct(base.algorithm, False)  # typed by the algorithms' options when the job is planned
    return base


def unknown_key(path: str) -> Optional[str]:
    """The first part of the dotted ``path`` that is not a setting of the typed config, or None. Hydra lets
    ``+key=value`` add a key a typo would otherwise be refused for; this names it instead."""
    node: Any = schema()
    for depth, part in enumerate(path.split(".")):
        if not isinstance(node, DictConfig) or node._get_flag("struct") is False \
                or typing.get_origin(node._metadata.ref_type) is dict:
            return None   # an open node (instance, a dict of values): its reader checks the keys
        if part not in node:
            return ".".join(path.split(".")[:depth + 1])
        node = node._get_node(part)
    return None


def register() -> None:
    for name, fn in (("path_safe", path_safe), ("run_name", run_name), ("job_dir", job_dir)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)
    base = schema()
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=base)
    cs.store(group="solver", name="base_solver", node=SolverSettings)
    cs.store(group="model", name="base_model", node=ModelConf)
    cs.store(group="workload", name="base_workload", node=WorkloadConf)
    cs.store(group="calibration", name="base_calibration", node=CalibrationConf)
