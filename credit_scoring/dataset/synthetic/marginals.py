"""The generator's building blocks: table sizes, values drawn along a schema column's measured
percentiles and point masses, latent scores, and the hidden state of every client."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from credit_scoring.dataset.schema import Column, Table, raw_schema
from credit_scoring.dataset.synthetic import fidelity

FULL_TRAIN_CLIENTS = 307_511
FULL_TEST_CLIENTS = 48_744
P_KNOTS = np.array([0.0, 0.01, 0.25, 0.50, 0.75, 0.99, 1.0])

BALANCE_ORPHAN_SHARE = 0.05  # bureau_balance ids without a bureau row ("many balance ids have no bureau row")


# Categories are ordered from the safest to the riskiest where the column carries risk.
CATEGORY_RISK_ORDER = {
    "CODE_GENDER": ["F", "M"],
    "FLAG_OWN_CAR": ["Y", "N"],
    "NAME_EDUCATION_TYPE": [
        "Academic degree",
        "Higher education",
        "Incomplete higher",
        "Secondary / secondary special",
        "Lower secondary",
    ],
    "NAME_INCOME_TYPE": [
        "Businessman",
        "Pensioner",
        "State servant",
        "Commercial associate",
        "Working",
        "Unemployed",
        "Student",
        "Maternity leave",
    ],
    "OCCUPATION_TYPE": [
        "Accountants",
        "High skill tech staff",
        "Managers",
        "Core staff",
        "HR staff",
        "IT staff",
        "Medicine staff",
        "Secretaries",
        "Private service staff",
        "Realty agents",
        "Sales staff",
        "Cleaning staff",
        "Cooking staff",
        "Security staff",
        "Waiters/barmen staff",
        "Drivers",
        "Laborers",
        "Low-skill Laborers",
    ],
}
TARGET_RATE = raw_schema()["relations"]["application_train.TARGET_rate"]


# --------------------------------------------------------------------------------------------------------
# Marginals: turn uniforms into values that follow a schema column.
# --------------------------------------------------------------------------------------------------------
def _decimals(values) -> int:
    """How many decimals the measured quantiles use: synthetic values are rounded alike."""
    best = 0
    for v in values:
        text = repr(float(v))
        if "e-" in text:
            return 6
        best = max(best, len(text.split(".")[1].rstrip("0")) if "." in text else 0)
    return min(best, 6)


def interpolate(knots_p: np.ndarray, knots_v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse CDF through the measured quantiles: geometric between positive knots (skewed amounts),
    linear elsewhere; flat stretches between equal knots give the point masses (zeros) of the real data."""
    idx = np.clip(np.searchsorted(knots_p, u, side="right") - 1, 0, len(knots_p) - 2)
    lo_p, hi_p = knots_p[idx], knots_p[idx + 1]
    lo_v, hi_v = knots_v[idx], knots_v[idx + 1]
    t = np.where(hi_p > lo_p, (u - lo_p) / np.where(hi_p > lo_p, hi_p - lo_p, 1.0), 0.0)
    positive = (lo_v > 0) & (hi_v > 0)
    geo = np.exp(np.log(np.where(positive, lo_v, 1.0)) * (1 - t) + np.log(np.where(positive, hi_v, 1.0)) * t)
    return np.where(positive, geo, lo_v + (hi_v - lo_v) * t)


def categories(col: Column) -> list[str]:
    """The column's categories, in risk order where one is known, else by measured share."""
    shares = col.value_shares or {}
    order = [c for c in CATEGORY_RISK_ORDER.get(col.name, []) if c in shares]
    return order + [c for c in shares if c not in order]


def draw(col: Column, u: np.ndarray, table_name: str | None = None):
    """Values of ``col`` for uniforms ``u`` (a pandas Categorical for categories, float64 otherwise).

    Numbers follow the column's 101 measured percentiles and point masses (fidelity.json) where ``table_name``
    names a table the facts cover, else the schema's seven quantiles.
    """
    if col.kind == "category":
        cats = categories(col)
        shares = np.array([col.value_shares[c] for c in cats], dtype=float)
        cum = np.cumsum(shares / shares.sum())
        codes = np.minimum(np.searchsorted(cum, u, side="right"), len(cats) - 1)
        return pd.Categorical.from_codes(codes, categories=cats)
    facts = fidelity.marginal(table_name, col.name, integer=col.kind == "integer") if table_name else None
    if facts is not None:
        return facts(u)
    if col.value_shares and abs(sum(col.value_shares.values()) - 1) < 0.01:
        vals = np.array(sorted(float(v) for v in col.value_shares), dtype=float)
        shares = np.array([col.value_shares[k] for k in sorted(col.value_shares, key=float)], dtype=float)
        cum = np.cumsum(shares / shares.sum())
        return vals[np.minimum(np.searchsorted(cum, u, side="right"), len(vals) - 1)]
    out = interpolate(P_KNOTS, np.array(col.quantiles, dtype=float), u)
    return np.round(out) if col.kind == "integer" else np.round(out, _decimals(col.quantiles))


def tab_share(table_name: str, column: str, value: float) -> float:
    """Measured share of one value of a numeric column (its point mass)."""
    m = fidelity.marginal(table_name, column)
    hit = np.abs(m.mass_values - value) < 1e-9
    return float((m.mass_hi - m.mass_lo)[hit].sum())


def score(rng: np.random.Generator, n: int, *factors: tuple[float, np.ndarray]) -> np.ndarray:
    """A standard normal copula score: loadings times standard normal factors, plus independent noise."""
    z = np.zeros(n)
    used = 0.0
    for loading, factor in factors:
        z += loading * factor
        used += loading**2
    if used > 1:
        raise ValueError(f"loadings explain more than the whole variance ({used:.2f})")
    return z + np.sqrt(1 - used) * rng.standard_normal(n)


def uniform(z: np.ndarray) -> np.ndarray:
    return np.clip(ndtr(z), 1e-9, 1 - 1e-9)


def set_missing(frame: pd.DataFrame, col: str, mask: np.ndarray) -> None:
    if isinstance(frame[col].dtype, pd.CategoricalDtype):
        frame.loc[mask, col] = np.nan
    else:
        frame[col] = frame[col].where(~mask)


# --------------------------------------------------------------------------------------------------------
# Clients.
# --------------------------------------------------------------------------------------------------------
@dataclass
class Clients:
    """The hidden state of every client, train and test together."""

    ids: np.ndarray
    is_test: np.ndarray
    history: np.ndarray  # h: the part of the risk only the history tables show, standard normal
    wealth: np.ndarray  # standard normal; replaced by the income's score once the applications are drawn
    risk: np.ndarray  # the behaviour the history tables reflect (set once the true logit is known)

    def __len__(self) -> int:
        return len(self.ids)


def make_clients(n_train: int, n_test: int, rng: np.random.Generator) -> Clients:
    """Contiguous Kaggle-like ids from 100002, shuffled between train and test."""
    n = n_train + n_test
    ids = 100002 + np.arange(n, dtype=np.int64)
    is_test = np.zeros(n, dtype=bool)
    is_test[rng.choice(n, size=n_test, replace=False)] = True
    return Clients(ids, is_test, rng.standard_normal(n), rng.standard_normal(n), np.zeros(n))


def with_int_dtypes(frame: pd.DataFrame, tab: Table) -> pd.DataFrame:
    """Columns Kaggle writes as integers get an integer dtype (so the CSV says 12, not 12.0)."""
    return frame.astype({c.name: np.int64 for c in tab.columns if c.written_as == "int" and c.name in frame})
