"""Building the instance of a run (above the domain and the algorithms): a named instance of
``conf/instance`` through its family's generator, or a frozen file; then R by the design rule of
docs/model.md §7.3 when the workload does not fix it (that rule runs CG-BPRR, hence this layer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from omegaconf import OmegaConf

from bpr import instance as instance_io
from bpr.errors import BprInputError, unknown
from bpr.fields import integer, typed
from bpr.instance import Instance
from bpr.limits import MAX_R, MAX_SEED
from bpr.paths import CONF_DIR, DATA_DIR
from bpr.scenarios import WorkloadParams, instantiate
from solvers.design_load import design_R

DEFAULT_MODEL = "bloom-176b"
LIBRARY_INSTANCES = DATA_DIR / "library" / "instances"


def known_instances() -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / "instance").glob("*.yaml"))


def instance_spec(name: str) -> dict[str, Any]:
    """The ``conf/instance/<name>.yaml`` entry (``_target_`` and the family's parameters)."""
    if name not in known_instances():
        raise unknown("instance", name, known_instances())
    return OmegaConf.to_container(OmegaConf.load(CONF_DIR / "instance" / f"{name}.yaml"))


def build(spec: Mapping[str, Any], seed: int, workload: Mapping[str, Any] | None = None,
          model: str | None = None) -> Instance:
    """The instance of a spec; ``workload`` holds the fields that are set (None = the family default)."""
    overlay = {k: v for k, v in (workload or {}).items() if v is not None}
    if "file" in spec and spec.get("_target_") is None and spec.get("file") in (None, "", "???"):
        raise BprInputError("instance=file needs instance.file=PATH (a frozen instance file, or library:<name>)")
    if spec.get("file"):
        return _frozen(str(spec["file"]), overlay)
    integer(seed, "seed", lo=0, hi=MAX_SEED)
    inst = _generate({k: v for k, v in spec.items() if k != "file"}, seed, overlay, model)
    return inst.with_R(design_R(inst)) if inst.extra.get("R_rule") == "spec-7.3" else inst


def _generate(spec: Mapping[str, Any], seed: int, overlay: Mapping[str, Any], model: str | None) -> Instance:
    w = typed(WorkloadParams, {k: v for k, v in overlay.items() if v is not None}, "workload setting", "workload")
    return instantiate(spec, seed, w, model or DEFAULT_MODEL)


LIBRARY_PREFIX = "library:"


def _frozen(path: str, overlay: dict[str, Any]) -> Instance:
    """A frozen file (or ``library:<name>``, an instance of the certified library) keeps its own model and
    workload; only R may be overridden."""
    if path.startswith(LIBRARY_PREFIX):
        path = str(library_file(path[len(LIBRARY_PREFIX):]))
    inst = instance_io.load(path)
    extra = [k for k in overlay if k != "R"]
    if extra:
        raise BprInputError(f"workload.{extra[0]}: an instance file fixes its workload "
                            "(only workload.R may be overridden)")
    return inst.with_R(integer(overlay["R"], "workload.R", lo=1, hi=MAX_R)) if "R" in overlay else inst


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


def generate(name: str, seed: int = 0, overrides: Mapping[str, Any] | None = None) -> Instance:
    """A named instance as its generator makes it (R = 1 unless ``workload.R`` is given)."""
    params, workload, model = split_overrides(overrides)
    return _generate(instance_spec(name) | params, seed, workload, model)


def make_instance(name: str, seed: int = 0, overrides: Mapping[str, Any] | None = None) -> Instance:
    """A named instance with R by §7.3 unless ``workload.R`` is given (the CLI's ``instance`` command)."""
    params, workload, model = split_overrides(overrides)
    return build(instance_spec(name) | params, seed, workload, model)
