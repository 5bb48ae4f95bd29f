"""Theorem 4 of the chain-serving follow-up (docs/chains.md §4): bounds on the mean response time of JFFC
with Poisson arrivals at rate lambda and exponential service, chain k serving at rate mu_k with c_k slots.

With the chains in decreasing rate, C = sum c_k and nu = sum c_k mu_k (stable iff lambda < nu), the
departure rate with n requests present is at most nu_hi(n) = sum_k mu_k min(c_k, (n - sum_{k'<k} c_k')^+)
(they sit on the fastest slots) and at least nu_lo(n), the same sum with the chains in increasing rate.
Each gives a birth-death chain, phi_n = phi_0 prod_{i<=n} lambda / nu(i), geometric above C with
rho = lambda / nu, and E[N] = sum_{n<C} n phi_n + phi_C (rho / (1 - rho)^2 + C / (1 - rho)); by Little's
law E[T] = E[N] / lambda. nu_hi gives the lower bound, nu_lo the upper one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Bounds:
    lower_s: float
    upper_s: float


def departure_rates(rates: Sequence[float], slots: Sequence[int], top: int) -> np.ndarray:
    """nu(n) for n = 1..top when requests fill the slots in the given order of chains."""
    per_slot = np.repeat(np.asarray(rates, dtype=float), np.asarray(slots, dtype=int))
    filled = np.cumsum(per_slot)
    n = np.arange(1, top + 1)
    return filled[np.minimum(n, len(per_slot)) - 1]


def mean_response(lam: float, nu_of_n: np.ndarray, nu: float) -> float:
    """E[N] / lambda of the birth-death chain with death rates nu_of_n (n = 1..C) and nu above C."""
    C = len(nu_of_n)
    rho = lam / nu
    log_phi = np.concatenate(([0.0], np.cumsum(np.log(lam / nu_of_n))))     # log(phi_n / phi_0), n = 0..C
    scale = log_phi.max()
    phi = np.exp(log_phi - scale)
    tail = phi[C] * (rho / (1 - rho) ** 2 + C / (1 - rho))
    mass = phi[:C].sum() + phi[C] / (1 - rho)
    return float((np.dot(np.arange(C), phi[:C]) + tail) / mass / lam)


def theorem4(lam: float, rates: Sequence[float], slots: Sequence[int]) -> Bounds:
    """(lower, upper) bounds on the mean response time; infinite when the chains cannot keep up."""
    order = np.argsort(-np.asarray(rates, dtype=float), kind="stable")
    rates = np.asarray(rates, dtype=float)[order]
    slots = np.asarray(slots, dtype=int)[order]
    keep = slots > 0
    rates, slots = rates[keep], slots[keep]
    nu = float(np.dot(rates, slots))
    if not len(rates) or lam >= nu:
        return Bounds(math.inf, math.inf)
    C = int(slots.sum())
    fast = departure_rates(rates, slots, C)
    slow = departure_rates(rates[::-1], slots[::-1], C)
    return Bounds(mean_response(lam, fast, nu), mean_response(lam, slow, nu))
