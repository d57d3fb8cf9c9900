"""What real Home Credit rows look like beyond their coarse marginals, as data the generator follows.

The facts come from ``home_credit_fidelity.json`` (aggregates of 12,827 real application rows and samples of
the other files; no row): for every numeric column the 101 percentiles, the point masses (values holding at
least 0.5 % of the present rows) and the distinct count; for application_train the Spearman correlations of
numeric pairs, which columns go missing together, derived ratios, and the univariate AUC of every column
against TARGET. This module turns them into the pieces a Gaussian copula needs:

- ``Marginal``: a quantile function that reproduces the percentiles, puts the point masses exactly where
  they are (round incomes, discrete region values, building grids, the revolving term of 20) and writes
  values on the grain of the real ones (multiples of 4,500 for incomes, four decimals for building ratios);
- ``normal_correlation``: Spearman -> Pearson correlation of the normal scores, made positive definite;
- ``tetrachoric``: phi coefficients of missingness -> correlations of latent normal "is missing" scores;
- ``auc_to_correlation``: the correlation with the true logit a normal score needs for a given AUC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy.special import expit, ndtri

FIDELITY_FILE = Path(__file__).with_name("home_credit_fidelity.json")
PERCENTILES = np.linspace(0.0, 1.0, 101)
# Grains tried for amounts, largest first: real incomes sit on multiples of 4,500, prices on 2,250 or 500.
GRAINS = (4500.0, 2250.0, 1125.0, 1000.0, 500.0, 450.0, 225.0, 100.0, 50.0, 10.0, 5.0, 1.0)
GRAIN_SHARE = 0.8  # share of distinct real knots on a grain for it to be the column's grain
SNAP_DISTINCT = 200  # small-valued float columns with at most this many distinct real values take only known
# values (region population shares, building grids); amounts keep their grain instead


@cache
def facts() -> dict:
    """The measured facts, as stored."""
    return json.loads(FIDELITY_FILE.read_text())


def _places(v: float) -> int:
    text = repr(float(v))
    if "e-" in text:
        return 6
    return min(len(text.split(".")[1].rstrip("0")) if "." in text else 0, 6)


def _decimals(knots: np.ndarray, masses: np.ndarray) -> int:
    """How many decimals the real values use (six at most): the most common count among the percentiles
    (some percentiles are interpolated between two real values and show more), at least the point masses'."""
    counts = np.bincount([_places(v) for v in np.unique(knots)], minlength=7)
    return int(max(np.argmax(counts), max((_places(v) for v in masses), default=0)))


def _on_grain(values: np.ndarray, grain: float) -> np.ndarray:
    return np.abs(values / grain - np.round(values / grain)) < 1e-6


@dataclass(frozen=True)
class Marginal:
    """The quantile function of one numeric column, point masses and grain included."""

    knots: np.ndarray  # value at each percentile 0..100
    mass_values: np.ndarray  # point masses, by increasing value
    mass_lo: np.ndarray  # the stretch of [0, 1] each point mass takes
    mass_hi: np.ndarray
    support: np.ndarray | None  # the only values a low-cardinality float column takes
    grain: float | None  # amounts: the step most real values sit on
    grain_share: float  # share of the non-mass values drawn on the grain
    decimals: int
    integer: bool

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Where values sit among the real ones (the inverse of the call, mid-stretch for a point mass)."""
        x = np.asarray(x, dtype=float)
        left = np.searchsorted(self.knots, x, side="left")
        right = np.searchsorted(self.knots, x, side="right")
        i = np.clip(left, 1, len(self.knots) - 1)
        a, b = self.knots[i - 1], self.knots[i]
        between = (i - 1 + np.clip((x - a) / np.where(b > a, b - a, 1.0), 0, 1)) / 100.0
        return np.where(right > left, (left + right - 1) / 200.0, between)

    def score(self, x: np.ndarray) -> np.ndarray:
        """Normal scores of values by their place among the real ones (``cdf``), kept off the extremes."""
        return ndtri(np.clip(self.cdf(x), 1e-6, 1 - 1e-6))

    def __call__(self, u: np.ndarray) -> np.ndarray:
        """Values for uniforms ``u`` (monotone: a higher uniform never gives a lower value)."""
        u = np.asarray(u, dtype=float)
        x = np.interp(u, PERCENTILES, self.knots)
        in_mass = np.zeros(len(u), dtype=bool)
        if len(self.mass_values):
            k = np.clip(np.searchsorted(self.mass_lo, u, side="right") - 1, 0, len(self.mass_lo) - 1)
            in_mass = (u >= self.mass_lo[k]) & (u < self.mass_hi[k])
            x = np.where(in_mass, self.mass_values[k], x)
        if self.integer:
            return np.round(x)
        if self.support is not None:
            i = np.clip(np.searchsorted(self.support, x), 1, len(self.support) - 1)
            lower, upper = self.support[i - 1], self.support[i]
            return np.where(x - lower <= upper - x, lower, upper)
        out = np.round(x, self.decimals)
        if self.grain is not None:
            # A value's own position decides whether it sits on the grain (no extra randomness: monotone in
            # u within each stretch, and reproducible).
            on_grain = (u * 7919.0) % 1.0 < self.grain_share
            out = np.where(on_grain & ~in_mass, np.round(x / self.grain) * self.grain, out)
        return np.where(in_mass, x, out)


def marginal_from(spec: dict, integer: bool) -> Marginal:
    """A ``Marginal`` from one column's facts (``percentiles_0_to_100``, ``point_masses``, ``distinct``)."""
    knots = np.asarray(spec["percentiles_0_to_100"], dtype=float)
    masses = sorted((float(v), float(s)) for v, s in spec.get("point_masses", {}).items())
    values = np.array([v for v, _ in masses])
    shares = np.array([s for _, s in masses])
    lo, hi = _mass_stretches(knots, values, shares)
    decimals = _decimals(knots, values)
    support = None
    if not integer and spec.get("distinct", 10**9) <= SNAP_DISTINCT and np.abs(knots).max() <= 100:
        support = np.unique(np.concatenate([knots, values]))
    grain, grain_share = None, 0.0
    free = np.setdiff1d(np.unique(knots[knots != 0]), values)
    if support is None and not integer and len(free) >= 5 and np.median(np.abs(free)) >= 1000:
        for g in GRAINS:
            share = _on_grain(free, g).mean()
            if share >= GRAIN_SHARE:
                grain, grain_share = g, float(share)
                break
    return Marginal(knots, values, lo, hi, support, grain, grain_share, decimals, integer)


def _mass_stretches(knots: np.ndarray, values: np.ndarray, shares: np.ndarray):
    """Where in [0, 1] each point mass sits: centred on the value's place among the percentiles, as wide as
    its share, pushed apart where neighbours would overlap."""
    if not len(values):
        return np.array([]), np.array([])
    centres = []
    for v in values:
        left, right = np.searchsorted(knots, v, side="left"), np.searchsorted(knots, v, side="right")
        if right > left:  # a run of equal percentiles
            centres.append((left + right - 1) / 200.0)
        elif left == 0 or left >= len(knots):
            centres.append(0.0 if left == 0 else 1.0)
        else:
            a, b = knots[left - 1], knots[left]
            centres.append((left - 1 + (v - a) / (b - a)) / 100.0)
    lo = np.array(centres) - shares / 2
    lo = np.clip(lo, 0.0, 1.0 - shares)
    for i in range(1, len(lo)):  # no overlap, order kept
        lo[i] = max(lo[i], lo[i - 1] + shares[i - 1])
    overflow = lo[-1] + shares[-1] - 1.0
    if overflow > 0:  # pushed past 1: shift back, keeping the order
        lo[-1] -= overflow
        for i in range(len(lo) - 2, -1, -1):
            lo[i] = min(lo[i], lo[i + 1] - shares[i])
    return lo, lo + shares


@cache
def marginal(table: str, column: str, integer: bool = False) -> Marginal | None:
    """The column's measured quantile function, or None where the facts do not cover it."""
    spec = facts()["tables"].get(table, {}).get("numeric_columns", {}).get(column)
    return None if spec is None else marginal_from(spec, integer)


@cache
def derived(name: str) -> Marginal:
    """The quantile function of a derived application ratio (e.g. ``AMT_GOODS_PRICE/AMT_CREDIT``)."""
    spec = facts()["application_train_derived"]
    key = next(k for k in spec if k.split(" (")[0] == name)
    return marginal_from({**spec[key], "distinct": 10**9}, integer=False)


def spearman_pairs() -> dict[tuple[str, str], float]:
    pairs = facts()["application_train_dependence"]["spearman_pairs_abs_ge_0_1"]
    return {tuple(k.split("|")): v for k, v in pairs.items()}


def missing_pairs() -> dict[tuple[str, str], float]:
    pairs = facts()["application_train_dependence"]["missing_together_phi_abs_ge_0_3"]
    return {tuple(k.split("|")): v for k, v in pairs.items()}


def signal(column: str) -> dict:
    """The univariate signal of an application column: AUC (``auc``), its standard error, and for columns
    with missing values the default rate of the rows where it is missing or present."""
    spec = facts()["application_train_signal"].get(column, {})
    auc = spec.get("auc_present", spec.get("auc_out_of_fold_target_rate"))
    return {**spec, "auc": 0.5 if auc is None else auc}


def nearest_correlation(matrix: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """The nearest (in eigenvalues) positive-definite correlation matrix: negative eigenvalues raised to
    ``floor``, then the diagonal rescaled to one."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    fixed = (vectors * np.maximum(values, floor)) @ vectors.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)


def normal_correlation(names: list[str], pairs: dict[tuple[str, str], float]) -> np.ndarray:
    """Correlation matrix of the normal scores whose Spearman correlations are ``pairs`` (missing pairs: 0).

    For a Gaussian copula, Pearson r of the scores and Spearman rho of the values relate as
    r = 2 sin(pi rho / 6)."""
    index = {n: i for i, n in enumerate(names)}
    m = np.eye(len(names))
    for (a, b), rho in pairs.items():
        if a in index and b in index:
            m[index[a], index[b]] = m[index[b], index[a]] = 2 * np.sin(np.pi * rho / 6)
    return nearest_correlation(m)


def tetrachoric(p1: float, p2: float, phi: float) -> float:
    """Approximate correlation of two latent normals whose thresholded indicators (rates p1, p2) have the
    phi coefficient ``phi`` (Pearson's cosine approximation from the 2x2 table)."""
    p11 = p1 * p2 + phi * np.sqrt(p1 * (1 - p1) * p2 * (1 - p2))
    p10, p01 = p1 - p11, p2 - p11
    p00 = 1 - p1 - p2 + p11
    if min(p10, p01) <= 1e-9:
        return 0.99
    if min(p11, p00) <= 1e-9:
        return -0.99
    return float(np.clip(np.cos(np.pi / (1 + np.sqrt(p11 * p00 / (p10 * p01)))), -0.99, 0.99))


def polyserial_factor(shares: np.ndarray) -> float:
    """How much of a normal score's correlation survives when it is cut into groups with these shares
    (correlation between the score and its group mean)."""
    shares = np.asarray(shares, dtype=float)
    shares = shares[shares > 0] / shares.sum()
    if len(shares) < 2:
        return 0.0
    cuts = ndtri(np.clip(np.cumsum(shares)[:-1], 1e-12, 1 - 1e-12))
    dens = np.concatenate([[0.0], np.exp(-cuts**2 / 2) / np.sqrt(2 * np.pi), [0.0]])
    means = (dens[:-1] - dens[1:]) / shares
    return float(np.sqrt(np.sum(shares * means**2)))


def continuous_auc(y: np.ndarray, score: np.ndarray) -> float:
    """AUC of a score without ties (continuous draws) against 0/1 labels, by ranks."""
    ranks = np.empty(len(score))
    ranks[np.argsort(score)] = np.arange(1, len(score) + 1)
    n1 = int(y.sum())
    return float((ranks[y.astype(bool)].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(y) - n1)))


def auc_curve(scale: float, intercept: float, n: int = 100_000, seed: int = 0):
    """AUC against TARGET of a normal score with correlation c to a logit ``intercept + scale * u``, for a
    grid of c (simulated once, seeded: the same curve every run)."""
    rng = np.random.default_rng(seed)
    u, e = rng.standard_normal(n), rng.standard_normal(n)
    y = rng.random(n) < expit(intercept + scale * u)
    grid = np.linspace(0.0, 1.0, 26)
    aucs = np.array([continuous_auc(y, c * u + np.sqrt(max(1 - c * c, 0.0)) * e) for c in grid])
    return grid, aucs


def auc_to_correlation(auc: float, grid: np.ndarray, aucs: np.ndarray) -> float:
    """The correlation with the logit that gives a normal score the AUC ``auc`` (0.5 -> 0)."""
    return float(np.interp(max(auc, 0.5), aucs, grid))
