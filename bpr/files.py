"""The one way BPR-Bench writes a file: whole or not at all (a temporary file in the same directory, renamed
into place), never through a symlink, and JSON always standard (no NaN or Infinity: null; the file's status
fields say why a number is missing); and the one way it reads YAML."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml

from bpr.errors import BprInputError

_UMASK = os.umask(0o022)
os.umask(_UMASK)


# libyaml's C parser where PyYAML was built with it: the same documents, 10-20x faster than the pure-Python one
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text_or_file: Any) -> Any:
    """A YAML document (safe: plain data only) from a string or an open file."""
    return yaml.load(text_or_file, Loader=_YAML_LOADER)


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (also numpy's) replaced by None, numpy scalars as Python."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def writable(path: str | Path) -> Path:
    """``path`` with its directory made; refused (bad input) when it or its directory is a symlink or the
    directory cannot be made."""
    path = Path(path)
    for p in (path, path.parent):
        if p.is_symlink():
            raise BprInputError(f"refusing to write through the symlink {p}")
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise BprInputError(f"cannot write {path}: {blocking} is a file, not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BprInputError(f"cannot create directory {path.parent}: {err.strerror or err}") from None
    if path.is_dir():
        raise BprInputError(f"cannot write {path}: it is a directory")
    return path


def _temporary(path: Path) -> Path:
    """A fresh empty file beside ``path`` (created exclusively: nothing already there is followed)."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise BprInputError(f"cannot write {path}: {err.strerror or err}") from None
    os.close(fd)
    return Path(name)


def check_writable(path: str | Path) -> Path:
    """Fail now, before any work, when ``path`` could not be written later."""
    path = writable(path)
    _temporary(path).unlink()
    return path


def atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a fresh temporary file beside ``path``, then rename it to ``path``."""
    path = writable(path)
    tmp = _temporary(path)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it private; the result is an ordinary file
        write(tmp)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise BprInputError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def dumps(payload: Any, indent: int | None = 1) -> str:
    """Standard JSON (NaN and infinities as null)."""
    return json.dumps(finite(payload), indent=indent, allow_nan=False, default=str)


def write_json(path: str | Path, payload: Any) -> Path:
    return write_text(path, dumps(payload) + "\n")


def write_text(path: str | Path, text: str) -> Path:
    return atomic(path, lambda tmp: tmp.write_text(text))
