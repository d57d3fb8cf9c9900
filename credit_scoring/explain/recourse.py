"""Recourse: the nearest changes a client can make to a credit application that the served model grants.

Only the loan itself may change: its amount (``AMT_CREDIT``, with the monthly instalment ``AMT_ANNUITY`` in
proportion: a smaller loan over the same duration for the same purchase, the client bringing the difference)
and its duration (the same amount over more or fewer months, the instalment recomputed). Never age, family,
income, the purchase, history or anything else the client cannot act on (`ACTIONABLE`), and never "borrow more
to be granted": the model is trained with the amount features monotone (params.yaml's ``estimator.monotone``:
the risk rises with the credit, the instalment and their weight in the income, and falls as the purchase price
covers more of the credit), so along a smaller loan the risk never rises, and the search only looks downwards
for a refused client.

For a refused client the proposals are the largest amount granted at the same duration, and the granted
durations nearest to the requested one on each side (shorter and longer) for the same amount. A granted client
gets the margin instead: the largest amount granted at the same duration. Every proposal is scored by the
caller's scoring function (the API's normal path) and kept only if that score grants it.

A duration becomes an instalment with the standard annuity formula at the nominal rate ``annual_rate``; the
requested duration is the one the client's own instalment implies at that rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

AMOUNT, ANNUITY = "AMT_CREDIT", "AMT_ANNUITY"
ACTIONABLE = (AMOUNT, ANNUITY)
"""The only fields a proposal changes."""

LESS, SHORTER, LONGER, MARGIN = "amount", "shorter", "longer", "margin"
KINDS = (LESS, SHORTER, LONGER, MARGIN)

Score = Callable[[list[dict]], np.ndarray]
"""Default probabilities of complete applications, through the served model's normal scoring path."""


@dataclass(frozen=True)
class RecourseSettings:
    """params.yaml's ``explain.recourse``."""

    annual_rate: float  # nominal yearly rate turning a duration into a monthly instalment
    min_months: int  # durations searched, in monthly instalments
    max_months: int
    min_credit: float  # no amount proposed below this
    max_credit_factor: float  # a granted client's margin is searched up to this multiple of the request
    amount_step: float  # proposed amounts rounded down to this
    grid: int  # amounts scored per pass (two passes: coarse, then between the two neighbours found)

    def __post_init__(self) -> None:
        if not 0 < self.annual_rate < 1:
            raise ValueError(f"recourse.annual_rate must lie in (0, 1), got {self.annual_rate}")
        if not 1 <= self.min_months < self.max_months:
            raise ValueError(f"recourse months must satisfy 1 <= min < max, got {self.min_months}, {self.max_months}")
        if self.min_credit <= 0 or self.amount_step <= 0 or self.max_credit_factor <= 1 or self.grid < 3:
            raise ValueError("recourse: min_credit and amount_step must be positive, max_credit_factor above 1, "
                             "grid at least 3")


@dataclass(frozen=True)
class Proposal:
    kind: str  # one of KINDS
    changes: dict[str, float]  # field -> new value, fields of ACTIONABLE only
    months: int  # duration of the proposed loan, in monthly instalments
    probability: float
    granted: bool


def monthly_instalment(credit: float, months: float, annual_rate: float) -> float:
    """The instalment repaying ``credit`` in ``months`` equal monthly payments at ``annual_rate``."""
    r = annual_rate / 12
    return credit * r / (1 - (1 + r) ** -months)


def implied_months(credit: float, instalment: float, annual_rate: float) -> float | None:
    """The duration, in months, that ``instalment`` implies for ``credit`` at ``annual_rate`` (None when the
    instalment does not even cover the interest, or the amounts are missing or not positive)."""
    if not (positive(credit) and positive(instalment)):
        return None
    r = annual_rate / 12
    if instalment <= credit * r:
        return None
    return -math.log(1 - credit * r / instalment) / math.log(1 + r)


def positive(x) -> bool:
    """A number above zero (not missing, not NaN): an amount recourse can work with."""
    return x is not None and not (isinstance(x, float) and math.isnan(x)) and x > 0


def scaled(application: Mapping, factor: float) -> dict[str, float]:
    """A loan ``factor`` times the requested one, over the same duration: amount and instalment in proportion."""
    return {AMOUNT: round(application[AMOUNT] * factor, 2), ANNUITY: round(application[ANNUITY] * factor, 2)}


def _largest_granted(application: Mapping, factors: np.ndarray, score: Score, threshold: float
                     ) -> tuple[float | None, float | None]:
    """Of increasing ``factors``, the largest whose scaled loan is granted and the next one (refused), or None."""
    probabilities = score([{**application, **scaled(application, f)} for f in factors])
    granted = np.flatnonzero(probabilities < threshold)
    if not len(granted):
        return None, float(factors[0])
    best = granted[-1]
    return float(factors[best]), (float(factors[best + 1]) if best + 1 < len(factors) else None)


def largest_amount_factor(application: Mapping, low: float, high: float, score: Score, threshold: float,
                          grid: int, step: float) -> float | None:
    """The largest factor in [low, high] whose scaled loan is granted, to ``step`` of the requested amount: a
    geometric grid, then linear grids between the last granted point and the first refused until they are less
    than ``step`` apart. Relies on the model's monotone amount features (granted factors form an interval from
    ``low``)."""
    best, refused = _largest_granted(application, np.geomspace(low, high, grid), score, threshold)
    while best is not None and refused is not None and (refused - best) * application[AMOUNT] > step:
        finer, refused = _largest_granted(application, np.linspace(best, refused, grid + 2)[1:], score, threshold)
        best = finer if finer is not None else best
    return best


def _rounded_amount(application: Mapping, factor: float, step: float) -> dict[str, float]:
    """The loan at ``factor``, its amount rounded down to ``step`` (the instalment in the same proportion)."""
    amount = math.floor(application[AMOUNT] * factor / step) * step
    return scaled(application, amount / application[AMOUNT])


def amount_proposal(application: Mapping, score: Score, threshold: float, settings: RecourseSettings,
                    upwards: bool) -> dict[str, float] | None:
    """The changes of the largest granted amount at the same duration: below the request for a refused client
    (``upwards`` False), up to ``max_credit_factor`` times it for a granted one (the margin)."""
    credit = application.get(AMOUNT)
    if not (positive(credit) and positive(application.get(ANNUITY))):
        return None
    if upwards:
        low, high = 1.0, settings.max_credit_factor
    else:
        low, high = settings.min_credit / credit, 1.0
        if low >= 1.0:
            return None
    factor = largest_amount_factor(application, low, high, score, threshold, settings.grid, settings.amount_step)
    if factor is None:
        return None
    changes = _rounded_amount(application, factor, settings.amount_step)
    if changes[AMOUNT] < settings.min_credit or (upwards and changes[AMOUNT] <= credit):
        return None
    return changes


def duration_proposals(application: Mapping, months: float, score: Score, threshold: float,
                       settings: RecourseSettings) -> list[tuple[str, int, dict[str, float]]]:
    """For the same amount, the granted durations nearest to the requested ``months``: the longest shorter one
    and the shortest longer one, as (kind, months, changes)."""
    credit = application[AMOUNT]
    candidates = [m for m in range(settings.min_months, settings.max_months + 1) if abs(m - months) >= 1]
    changes = [{ANNUITY: round(monthly_instalment(credit, m, settings.annual_rate), 2)} for m in candidates]
    probabilities = score([{**application, **c} for c in changes])
    found = []
    shorter = [i for i, m in enumerate(candidates) if m < months and probabilities[i] < threshold]
    longer = [i for i, m in enumerate(candidates) if m > months and probabilities[i] < threshold]
    if shorter:
        found.append((SHORTER, candidates[shorter[-1]], changes[shorter[-1]]))
    if longer:
        found.append((LONGER, candidates[longer[0]], changes[longer[0]]))
    return found


@dataclass(frozen=True)
class Recourse:
    probability: float  # of the application as sent
    months: int | None  # the duration its instalment implies (None: amount or instalment missing)
    proposals: list[Proposal]


def recourse(application: Mapping, score: Score, threshold: float, settings: RecourseSettings) -> Recourse:
    """The proposals for a complete ``application`` (as the API scores it): for a refused one, what would be
    granted (largest amount, nearest shorter and longer durations); for a granted one, its margin. Each is scored
    by ``score`` once more, as sent, and kept only when granted."""
    probability = float(score([dict(application)])[0])
    refused = probability >= threshold
    months = implied_months(application.get(AMOUNT), application.get(ANNUITY), settings.annual_rate)
    if months is None:
        return Recourse(probability, None, [])
    requested = round(months)
    found: list[tuple[str, int, dict[str, float]]] = []
    amount = amount_proposal(application, score, threshold, settings, upwards=not refused)
    if amount is not None:
        found.append((LESS if refused else MARGIN, requested, amount))
    if refused:
        found.extend(duration_proposals(application, months, score, threshold, settings))
    if not found:
        return Recourse(probability, requested, [])
    probabilities = score([{**application, **changes} for _, _, changes in found])
    return Recourse(probability, requested, [Proposal(kind, changes, m, float(p), True)
                                             for (kind, m, changes), p in zip(found, probabilities, strict=True)
                                             if p < threshold])
