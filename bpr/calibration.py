"""Testbed calibrations of the online simulator (docs/simulator.md §3; SPEC 7.4 of the paper's simulator,
arXiv 2512.21884 §VI), read from ``instances/profiles/calibration.yaml``.

A calibration gives every request of an online algorithm a constant allocation delay (added to its TTFT and
completion; its caches stay reserved through it) and may count a request's caches as taken from its arrival
instead of its start. ``none`` applies nothing; ``paper`` reproduces the constants of the authors' simulator.
The design load R (docs/model.md §7.3) never sees the delay, as in the authors' code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from bpr.errors import BprInputError, unknown
from bpr.fields import number
from bpr.limits import MAX_SECONDS
from bpr.profiles import read_profile

FILE = "calibration.yaml"


@dataclass(frozen=True)
class Calibration:
    """What the simulator applies to one algorithm's requests."""

    delay_s: float = 0.0              # allocation delay per request
    hold_from_arrival: bool = False   # caches taken from arrival (not start) until completion


@dataclass(frozen=True)
class CalibrationSpec:
    """A named calibration: the delay of every algorithm family by scenario size, and the holding rule."""

    name: str
    delays: Mapping[str, Mapping[int, float]]   # family -> smallest server count -> delay [s]
    hold_from_arrival: bool
    families: Mapping[str, str]                 # online algorithm -> family

    def family(self, algorithm: str) -> str:
        if algorithm not in self.families:
            raise BprInputError(f"calibration '{self.name}': no algorithm family for '{algorithm}'; add it under "
                                f"'families' in instances/profiles/{FILE} (known: {', '.join(self.families)})")
        return self.families[algorithm]

    def delay(self, algorithm: str, n_servers: int) -> float:
        """The entry of the largest listed size not above ``n_servers`` (the smallest entry below all)."""
        by_size = sorted(self.delays[self.family(algorithm)].items())
        return next((d for size, d in reversed(by_size) if size <= n_servers), by_size[0][1])

    def for_algorithm(self, algorithm: str, n_servers: int) -> Calibration:
        """An algorithm without a family needs none while every delay is 0 (``none`` runs any algorithm)."""
        if algorithm not in self.families and not any(d for by in self.delays.values() for d in by.values()):
            return Calibration(0.0, self.hold_from_arrival)
        return Calibration(self.delay(algorithm, n_servers), self.hold_from_arrival)


def calibration(name: str, delay_s: Mapping[str, Optional[float]] | None = None,
                hold_from_arrival: Optional[bool] = None) -> CalibrationSpec:
    """The calibration ``name`` of the data file; ``delay_s[family]`` (one delay in seconds for every
    scenario size) and ``hold_from_arrival`` override it where not None."""
    table = read_profile(FILE)
    named = {k: v for k, v in table.items() if k != "families"}
    if name not in named:
        raise unknown("calibration", name, sorted(named))
    delays = {family: {int(size): float(d) for size, d in by_size.items()}
              for family, by_size in named[name]["delay_s"].items()}
    for family, value in (delay_s or {}).items():
        if value is None:
            continue
        if family not in delays:
            raise unknown("calibration family", family, sorted(delays))
        delays[family] = {1: number(value, f"calibration.delay_s.{family}", lo=0, hi=MAX_SECONDS)}
    hold = named[name]["hold_from_arrival"] if hold_from_arrival is None else hold_from_arrival
    return CalibrationSpec(name, delays, bool(hold), dict(table["families"]))


def is_default(given: Mapping[str, object]) -> bool:
    """Whether a run's calibration settings (``name``, ``delay_s``, ``hold_from_arrival``) change nothing."""
    return given.get("name", "none") == "none" and given.get("hold_from_arrival") is None and \
        not any(v is not None for v in (given.get("delay_s") or {}).values())


def from_settings(given: Mapping[str, object]) -> CalibrationSpec:
    """The calibration of a run's settings, as the config group ``calibration`` holds them."""
    return calibration(str(given.get("name", "none")), given.get("delay_s") or {}, given.get("hold_from_arrival"))
