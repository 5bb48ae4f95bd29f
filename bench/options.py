"""Typed settings from configs and command lines: an algorithm's options, a family's parameters, the
workload. A value is checked against its dataclass (OmegaConf's structured configs, as Hydra types its
config), so an undeclared name or a wrong type is bad input that names it; a dataclass's own
``__post_init__`` checks ranges."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from bpr.errors import BprInputError, unknown
from bpr.fields import integer
from solvers.framework.registry import Algorithm


def typed(cls: type, values: Mapping[str, Any], kind: str, where: str) -> Any:
    """``cls`` from ``values``: an unknown key (``unknown <kind> 'key'``) or a wrong type is bad input."""
    known = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in known:
            raise unknown(kind, key, known or ["(none)"])
    if not values:   # the defaults: no typing to do (and OmegaConf, slow to import, is not needed)
        return cls()
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        out = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(cls), dict(values)))
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None)
        raise BprInputError(f"{where}{f'.{key}' if key else ''}: {str(err).splitlines()[0]}") from None
    for f in dataclasses.fields(cls):        # an integer the results table could not hold loses the job's rows
        value = getattr(out, f.name)
        if isinstance(value, int) and not isinstance(value, bool):
            integer(value, f"{where}.{f.name}")
    return out


def make_options(alg: Algorithm, values: Mapping[str, Any] | None = None) -> Any:
    """The algorithm's options dataclass from ``values``; an undeclared name or a wrong type is bad input."""
    return typed(alg.options, values or {}, f"{alg.name} option", f"algorithm.{alg.name}")


def check_for_instance(opts: Any, inst: Any) -> None:
    """What options can say only with the instance at hand (an option class's ``check_instance``: an ``lns``
    start file made for another instance), checked before any algorithm of the job runs: bad input, not an
    algorithm's error row."""
    check = getattr(opts, "check_instance", None)
    if check is not None:
        check(inst)
