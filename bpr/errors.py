"""The one exception type for bad user input (files, names, numbers, overrides)."""

from __future__ import annotations

from typing import Iterable


class BprInputError(ValueError):
    """Bad input. The message names the offending field or name; front ends print it and exit 2."""


def unknown(kind: str, name: object, known: Iterable[str]) -> BprInputError:
    """The one message for a name that is not one of the known ones: ``unknown X 'y'; known: a, b``."""
    return BprInputError(f"unknown {kind} '{name}'; known: {', '.join(known)}")
