"""Building the instance of a run (above the domain and the algorithms): a named instance of
``conf/instance`` through its family's generator (``_target_``, resolved as Hydra resolves targets) into a
scenario, then R chosen in one explicit step (``solvers.algorithms.design_load.choose_R``: the workload's R, or the
robust rule of docs/model.md §7.3, which runs CG-BPRR, hence this layer); or a frozen file."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from pathlib import Path
from typing import Any, Callable, Mapping

from hydra.utils import get_method
from omegaconf import OmegaConf

from bench.configs import CONF_DIR
from bench.instance_names import known_instances
from bench.options import typed
from bench.workloads import Workload, resolve
from bpr import instance as instance_io
from bpr.errors import BprInputError, unknown
from bpr.fields import integer
from bpr.instance import Instance
from bpr.limits import MAX_R, MAX_SEED
from bpr.paths import DATA_DIR
from bpr.scenarios import Scenario, WorkloadParams
from solvers.algorithms.design_load import choose_R

DEFAULT_MODEL = "bloom-176b"
LIBRARY_INSTANCES = DATA_DIR / "library" / "instances"
LIBRARY_PREFIX = "library:"


def instance_spec(name: str) -> dict[str, Any]:
    """The ``conf/instance/<name>.yaml`` entry (``_target_`` and the family's parameters)."""
    if name not in known_instances():
        raise unknown("instance", name, known_instances())
    return OmegaConf.to_container(OmegaConf.load(CONF_DIR / "instance" / f"{name}.yaml"))


def build(spec: Mapping[str, Any], seed: int, workload: Workload | None = None, model: str | None = None) -> Instance:
    """The instance of a spec for a resolved workload (bench/workloads.py; None: the family defaults)."""
    workload = workload or resolve({}, model)
    if "file" in spec and spec.get("_target_") is None and spec.get("file") in (None, "", "???"):
        raise BprInputError("instance=file needs instance.file=PATH (a frozen instance file, or library:<name>)")
    if spec.get("file"):
        if workload.replay is not None:
            raise BprInputError("workload.trace: an instance file fixes its workload; replay a trace on a "
                                "generated instance (instance=<family>)")
        return _frozen(str(spec["file"]), workload.params)
    w = _workload(workload.params)
    return choose_R(_scenario({k: v for k, v in spec.items() if k != "file"}, seed, w, model), w.R)


def _workload(params: Mapping[str, Any]) -> WorkloadParams:
    return typed(WorkloadParams, params, "workload setting", "workload")


def generator(target: Any) -> Callable[..., Scenario]:
    """The generator a ``_target_`` names (``module.function``), resolved by Hydra's own ``get_method``."""
    if not target:
        raise BprInputError("instance: no _target_ names its generator")
    try:
        return get_method(str(target))
    except Exception:  # Hydra raises ImportError or its own errors for a bad path
        raise BprInputError(f"instance _target_: cannot import '{target}'") from None


def params_class(fn: Callable[..., Scenario]) -> type:
    """The dataclass of a generator's first parameter (its family's parameters)."""
    first = next(iter(inspect.signature(fn).parameters))
    cls = typing.get_type_hints(fn).get(first)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise BprInputError(f"instance generator {fn.__module__}.{fn.__qualname__}: its first parameter must "
                            "be annotated with the family's parameter dataclass")
    return cls


def _scenario(spec: Mapping[str, Any], seed: int, workload: WorkloadParams, model: str | None) -> Scenario:
    """The scenario a ``conf/instance`` entry describes, drawn with ``seed``."""
    integer(seed, "seed", lo=0, hi=MAX_SEED)
    spec = dict(spec)
    fn = generator(spec.pop("_target_", None))
    params = typed(params_class(fn), spec, "instance parameter", f"instance '{spec.get('name', fn.__name__)}'")
    return fn(params, seed, workload, model or DEFAULT_MODEL)


def _frozen(path: str, overlay: dict[str, Any]) -> Instance:
    """A frozen file (or ``library:<name>``, an instance of the certified library) keeps its own model and
    workload; only R may be overridden."""
    inst = instance_io.load(instance_file(path))
    extra = [k for k in overlay if k != "R"]
    if extra:
        raise BprInputError(f"workload.{extra[0]}: an instance file fixes its workload "
                            "(only workload.R may be overridden)")
    return inst.with_R(integer(overlay["R"], "workload.R", lo=1, hi=MAX_R)) if "R" in overlay else inst


def instance_file(path: str) -> str:
    """An instance file's path, with ``library:<name>`` resolved to the library's frozen file."""
    return str(library_file(path.removeprefix(LIBRARY_PREFIX))) if path.startswith(LIBRARY_PREFIX) else path


def library_file(name: str) -> Path:
    """The frozen file of a library instance (docs/library.md); only the library's own names are accepted."""
    known = sorted(p.stem for p in LIBRARY_INSTANCES.glob("*.json"))
    if name not in known:
        raise unknown("library instance", name, known)
    return LIBRARY_INSTANCES / f"{name}.json"


def split_overrides(overrides: Mapping[str, Any] | None) -> tuple[dict, dict, str | None]:
    """``--set`` style keys: ``workload.X`` -> workload, ``model`` -> model name, the rest -> instance."""
    params, workload, model = {}, {}, None
    for key, value in (overrides or {}).items():   # names and types are checked when the instance is built
        if key == "model":
            model = value
        elif key.startswith("workload."):
            workload[key[len("workload."):]] = value
        else:
            params[key] = value
    return params, workload, model


def scenario(name: str, seed: int = 0, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """A named instance's scenario as its generator draws it (before R is chosen)."""
    params, workload, model = split_overrides(overrides)
    return _scenario(instance_spec(name) | params, seed, _workload(resolve(workload, model).params), model)


def make_instance(name: str, seed: int = 0, overrides: Mapping[str, Any] | None = None) -> Instance:
    """A named instance with R by §7.3 unless ``workload.R`` is given (the CLI's ``instance`` command)."""
    params, workload, model = split_overrides(overrides)
    return build(instance_spec(name) | params, seed, resolve(workload, model), model)
