"""Synthetic Home Credit data, faithful to the Kaggle files, with a known default probability per client.

The eight CSVs have Kaggle's names, columns in Kaggle's order, kinds, category values, missing rates and
relations (``credit_scoring/home_credit_schema.json``), and follow what real rows show beyond those
(``credit_scoring/home_credit_fidelity.json``, aggregates of 12,827 real rows; see credit_scoring/fidelity.py):

- every numeric column follows its 101 measured percentiles, with its point masses exactly (round incomes,
  discrete region values, building grids) and its real grain;
- application columns are drawn together through one Gaussian copula over the measured rank correlations;
  the amounts are tied as in the real file (credit = goods price / ratio, annuity = credit / term, with the
  revolving term of exactly 20); family size, employment, identity papers and building summaries follow the
  real file's rules (pensioners past the legal age, papers renewed at 20 and 45, median beside average);
- missing values come in the measured blocks and say what they say in the real file (a missing EXT_SOURCE_1
  or building record goes with a higher default rate);
- the hidden true logit reads only what the application shows, with weights such that each column's
  univariate AUC is the measured one (the external scores strongest), plus a client-level history behaviour
  h that the application cannot show. The history tables reflect h through persistent client- and
  credit-level effects with row-level noise: no aggregate alone rivals the external scores, together they
  add a few AUC points. The true probability is written apart and is never an input of a model.

application_test is drawn from the test file's own measured percentiles, which reproduces the real
train -> test drift while the risk reads each value on the train scale.

Usage: ``python -m credit_scoring.synthetic --n-clients N --n-test-clients M --seed S --out DIR --truth FILE``.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.optimize import lsq_linear
from scipy.special import expit, ndtr, ndtri

from credit_scoring import fidelity
from credit_scoring.io import atomic_directory
from credit_scoring.schema import SENTINEL_DAYS, Column, Table, raw_schema, table, tables

FULL_TRAIN_CLIENTS = 307_511
FULL_TEST_CLIENTS = 48_744
P_KNOTS = np.array([0.0, 0.01, 0.25, 0.50, 0.75, 0.99, 1.0])

# Calibration measured on the real rows (sample and public descriptions) that the quantiles cannot tell:
# the share of 365243 among the non-missing values of previous_application's DAYS_* columns, and the largest
# real (non-sentinel) value of each.
PREV_SENTINEL_SHARE = {
    "DAYS_FIRST_DRAWING": 0.936,
    "DAYS_FIRST_DUE": 0.035,
    "DAYS_LAST_DUE_1ST_VERSION": 0.084,
    "DAYS_LAST_DUE": 0.203,
    "DAYS_TERMINATION": 0.231,
}
PREV_DAYS_MAX = {
    "DAYS_FIRST_DRAWING": -2.0,
    "DAYS_FIRST_DUE": -2.0,
    "DAYS_LAST_DUE_1ST_VERSION": 2389.0,
    "DAYS_LAST_DUE": -2.0,
    "DAYS_TERMINATION": -2.0,
}
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


def _interpolate(knots_p: np.ndarray, knots_v: np.ndarray, u: np.ndarray) -> np.ndarray:
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


def draw(col: Column, u: np.ndarray, sentinel_share: float = 0.0, upper: float | None = None,
         table_name: str | None = None):
    """Values of ``col`` for uniforms ``u`` (a pandas Categorical for categories, float64 otherwise).

    Numbers follow the column's 101 measured percentiles and point masses (fidelity.json) where ``table_name``
    names a table the facts cover, else the schema's seven quantiles. With ``sentinel_share``, the share of
    365243 among the values is left out and the real part stretched over [0, 1], up to ``upper``.
    """
    if col.kind == "category":
        cats = categories(col)
        shares = np.array([col.value_shares[c] for c in cats], dtype=float)
        cum = np.cumsum(shares / shares.sum())
        codes = np.minimum(np.searchsorted(cum, u, side="right"), len(cats) - 1)
        return pd.Categorical.from_codes(codes, categories=cats)
    facts = fidelity.marginal(table_name, col.name, integer=col.kind == "integer") if table_name else None
    if facts is not None and not sentinel_share:
        return facts(u)
    if col.value_shares and abs(sum(col.value_shares.values()) - 1) < 0.01 and not sentinel_share:
        vals = np.array(sorted(float(v) for v in col.value_shares), dtype=float)
        shares = np.array([col.value_shares[k] for k in sorted(col.value_shares, key=float)], dtype=float)
        cum = np.cumsum(shares / shares.sum())
        return vals[np.minimum(np.searchsorted(cum, u, side="right"), len(vals) - 1)]
    knots_v, knots_p = (facts.knots, fidelity.PERCENTILES) if facts is not None else (
        np.array(col.quantiles, dtype=float), P_KNOTS)
    if sentinel_share:
        # The quantiles mix real offsets and the sentinel: keep the real part, rescaled to [0, 1].
        real = knots_v < SENTINEL_DAYS
        knots_p = np.append(knots_p[real] / (1 - sentinel_share), 1.0)
        knots_v = np.append(knots_v[real], upper if upper is not None else max(0.0, knots_v[real][-1]))
        keep = knots_p <= 1.0
        knots_p, knots_v = knots_p[keep], knots_v[keep]
    out = _interpolate(knots_p, knots_v, u)
    return np.round(out) if col.kind == "integer" else np.round(out, _decimals(col.quantiles))


def without(col: Column, value: str) -> Column:
    """A category column whose value ``value`` is set apart (drawn from the other values' shares)."""
    shares = {k: v for k, v in col.value_shares.items() if k != value}
    return Column(col.name, col.kind, col.written_as, 0.0, None, shares, None)


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


def _missing(frame: pd.DataFrame, col: str, mask: np.ndarray) -> None:
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


# --------------------------------------------------------------------------------------------------------
# The application files: one Gaussian copula over the measured facts.
# --------------------------------------------------------------------------------------------------------
# The hidden truth: logit PD = intercept + scale * (a'z + b h), z the application columns' normal scores,
# h the client's history behaviour (seen only through the history tables). The scale makes the AUC of the
# true probabilities BAYES_AUC; a follows each column's measured univariate AUC (fidelity.json) through the
# columns' measured correlations; what the application table cannot explain is left to h.
BAYES_AUC = 0.81
RIDGE = 0.1  # keeps the weights of near-twin columns (building AVG/MEDI/MODE) from fighting each other
MAX_APP_SHARE = 0.78  # the application table explains at most this share of the logit's variance
# Direction of each column's risk where the facts give only an unsigned AUC: +1, a higher value (or a later
# category in CATEGORY_RISK_ORDER) is riskier. Day counts are negative, so +1 on DAYS_* means "more recent".
RISK_SIGN = {
    "EXT_SOURCE_1": -1, "EXT_SOURCE_2": -1, "EXT_SOURCE_3": -1, "AMT_INCOME_TOTAL": -1, "AMT_GOODS_PRICE": -1,
    "REGION_POPULATION_RELATIVE": -1, "HOUR_APPR_PROCESS_START": -1, "FLAG_PHONE": -1, "FLAG_DOCUMENT_6": -1,
    "FLAG_DOCUMENT_8": -1, "FLAG_EMAIL": -1, "GOODS_RATIO": -1, "TERM": 1,
}
# The two ratios that tie the amounts together, as latent scores of their own (derived facts of fidelity.json).
PSEUDO_COLUMNS = ("GOODS_RATIO", "TERM")
# Their univariate AUCs are not among the facts: published feature analyses rank the credit-to-goods and
# annuity-to-credit ratios among the useful application features, a little above the raw amounts.
PSEUDO_AUC = {"GOODS_RATIO": 0.545, "TERM": 0.53}
# Columns computed from others: credit from goods price and ratio, annuity from credit and term, family size
# from children and couple; employer phone marks the employed (its absence: pensioners and the unemployed).
DERIVED_COLUMNS = ("AMT_CREDIT", "AMT_ANNUITY", "CNT_FAM_MEMBERS")
COUPLE = ("Married", "Civil marriage")
BUILDING_SUFFIXES = ("_AVG", "_MODE", "_MEDI")


def _building_group(name: str) -> str | None:
    return name.rsplit("_", 1)[0] if name.endswith(BUILDING_SUFFIXES) else None


def _discreteness(spec: dict) -> float:
    """The share of a normal score's correlation a column keeps once cut into its real values."""
    masses = np.array(list(spec.get("point_masses", {}).values()), dtype=float)
    covered = masses.sum()
    if covered < 0.9:
        return 1.0
    return fidelity.polyserial_factor(np.append(masses, max(1 - covered, 0.0)))


def _employed_marginal(tab_name: str) -> fidelity.Marginal:
    """DAYS_EMPLOYED among the employed: the real percentiles below the 365243 sentinel, stretched to [0, 1]."""
    spec = fidelity.facts()["tables"][tab_name]["numeric_columns"]["DAYS_EMPLOYED"]
    knots = np.asarray(spec["percentiles_0_to_100"], dtype=float)
    real = knots < SENTINEL_DAYS
    share = (real.sum() - 0.5) / 100.0
    stretched = np.interp(fidelity.PERCENTILES * share, fidelity.PERCENTILES[real], knots[real])
    return fidelity.marginal_from({"percentiles_0_to_100": list(stretched), "point_masses": {}}, integer=True)


@dataclass(frozen=True)
class AppModel:
    """Everything the application copula needs, computed once from the facts."""

    names: tuple[str, ...]  # the copula's variables: numeric columns, categories, the two ratios
    chol: np.ndarray  # Cholesky factor of their correlation
    weights: np.ndarray  # a: weights of the normal scores in the standardized logit
    history_weight: float  # b
    scale: float
    missing_names: tuple[str, ...]  # columns whose missing values come from the missingness copula
    missing_chol: np.ndarray
    missing_link: np.ndarray  # correlation of each "is missing" score with the standardized logit


def _term_correlation(n: int = 40_000) -> float:
    """Correlation of the term's score with the goods price's that gives AMT_ANNUITY (= goods / ratio / term)
    the measured spread: bigger loans run longer, so annuities vary less than credits (simulated, seeded)."""
    rng = np.random.default_rng(3)
    goods = fidelity.marginal("application_train", "AMT_GOODS_PRICE")
    ratio, term = fidelity.derived("AMT_GOODS_PRICE/AMT_CREDIT"), fidelity.derived("AMT_CREDIT/AMT_ANNUITY")
    annuity = fidelity.marginal("application_train", "AMT_ANNUITY").knots
    wanted = np.log(annuity[95] / annuity[5]), np.log(annuity[75] / annuity[25])
    z, e, r = rng.standard_normal(n), rng.standard_normal(n), rng.random(n)
    base = goods(uniform(z)) / ratio(r)
    best, best_gap = 0.0, np.inf
    for c in np.linspace(-0.3, 0.95, 51):
        a = base / term(uniform(c * z + np.sqrt(1 - c * c) * e))
        q = np.percentile(a, [5, 25, 75, 95])
        gap = abs(np.log(q[3] / q[0]) - wanted[0]) + abs(np.log(q[2] / q[1]) - wanted[1])
        if gap < best_gap:
            best, best_gap = float(c), gap
    return best


@cache
def app_model() -> AppModel:
    """The copula, the weights of the hidden logit and its scale, from fidelity.json alone."""
    tab = table("application_train")
    numeric = fidelity.facts()["tables"]["application_train"]["numeric_columns"]
    names = [c.name for c in tab.columns if c.name not in ("SK_ID_CURR", "TARGET", *DERIVED_COLUMNS)]
    names += list(PSEUDO_COLUMNS)
    eta = np.array([max(_discreteness(numeric[n]), 0.7) if n in numeric else 1.0 for n in names])
    # Scale and intercept of the logit: AUC of the true probabilities and the measured default rate; then the
    # correlation each column's score needs with the logit for its measured univariate AUC.
    scale, intercept = _logit_scale(BAYES_AUC, TARGET_RATE)
    grid, aucs = fidelity.auc_curve(scale, intercept)
    target = np.zeros(len(names))
    for i, n in enumerate(names):
        auc = PSEUDO_AUC.get(n) or fidelity.signal(n).get("auc", 0.5)
        sign = RISK_SIGN.get(n, -1 if _building_group(n) else 1)
        cut = eta[i]
        if n in tab.column_names and tab.column(n).kind == "category":
            if tab.column(n).missing_rate >= 0.3:
                continue  # the building categories' signal is their missing record (the missingness copula)
            cut = fidelity.polyserial_factor(np.array(list(tab.column(n).value_shares.values())))
        target[i] = sign * min(fidelity.auc_to_correlation(auc, grid, aucs) / max(cut, 0.3), 0.9)
    corr = _app_correlation(names, eta, target)

    # Weights whose correlations with the scores come closest to the wanted ones, each with the sign of its
    # column's own risk (a column never lowers the risk its direction says it raises) and a ridge penalty.
    sign = np.where(target < 0, -1.0, 1.0)
    design = np.vstack([corr * sign, np.sqrt(RIDGE) * np.eye(len(names))])
    fit = lsq_linear(design, np.concatenate([target, np.zeros(len(names))]), bounds=(0, np.inf))
    weights = sign * fit.x
    achieved = corr @ weights
    weights *= (target @ achieved) / (achieved @ achieved)  # best fit of the wanted correlations
    explained = float(weights @ corr @ weights)
    if explained > MAX_APP_SHARE:
        weights *= np.sqrt(MAX_APP_SHARE / explained)
        explained = MAX_APP_SHARE
    age_corr = float((corr @ weights)[names.index("DAYS_BIRTH")])
    missing_names, missing_chol, missing_link = _missingness(tab, scale, intercept, age_corr)
    return AppModel(tuple(names), np.linalg.cholesky(corr), weights, float(np.sqrt(1 - explained)),
                    scale, missing_names, missing_chol, missing_link)


def _app_correlation(names: list[str], eta: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Correlation of the copula's scores: the measured rank correlations (|rho| >= 0.1) where the facts give
    them, with the attenuation of discrete columns undone; below that threshold the facts are silent, and the
    pair gets what sharing the risk implies (the product of both columns' correlations with the logit, under
    0.1). Without that, weak but many signals would explain more than the whole risk."""
    pairs = dict(fidelity.spearman_pairs())
    term_r = _term_correlation()
    pairs[("AMT_GOODS_PRICE", "TERM")] = 6 / np.pi * np.arcsin(term_r / 2)  # back to a rank correlation
    pairs[("DAYS_BIRTH", "DAYS_ID_PUBLISH")] = 0.15  # the renewal rule (id_publish_days) makes the rest of 0.26
    index = {n: i for i, n in enumerate(names)}
    m = np.clip(np.outer(target, target), -0.099, 0.099)
    for (a, b), rho in pairs.items():
        if a in index and b in index:
            i, j = index[a], index[b]
            m[i, j] = m[j, i] = np.clip(2 * np.sin(np.pi * rho / 6) / (eta[i] * eta[j]), -0.99, 0.99)
    np.fill_diagonal(m, 1.0)
    return fidelity.nearest_correlation(m)


def _logit_scale(auc: float, rate: float, n: int = 100_000) -> tuple[float, float]:
    """Scale s and intercept of ``intercept + s u`` (u standard normal) giving this AUC and default rate."""
    u = np.random.default_rng(0).standard_normal(n)
    y_u = np.random.default_rng(1).random(n)
    lo, hi = 0.5, 4.0
    for _ in range(16):
        s = (lo + hi) / 2
        b = intercept_for(s * u, rate)
        got = fidelity.continuous_auc(y_u < expit(b + s * u), u)
        lo, hi = (s, hi) if got < auc else (lo, s)
    s = (lo + hi) / 2
    return s, intercept_for(s * u, rate)


def _missingness(tab: Table, scale: float, intercept: float,
                 age_corr: float) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Latent "is missing" scores of the columns that go missing, correlated as the facts' phi coefficients
    say (building blocks, the bureau request counts with EXT_SOURCE_3, the social circle...), and each
    correlated with the true logit so that the rows where a column is missing default at the measured rate
    (a missing EXT_SOURCE_1 or building record goes with a higher risk, as in the real file)."""
    structural = {"OWN_CAR_AGE", "OCCUPATION_TYPE"}  # decided by the car flag and the job
    names = tuple(c.name for c in tab.columns if c.missing_rate > 0 and c.name not in structural)
    rate = {c.name: c.missing_rate for c in tab.columns}
    index = {n: i for i, n in enumerate(names)}
    m = np.eye(len(names))
    for (a, b), phi in fidelity.missing_pairs().items():
        if a in index and b in index:
            m[index[a], index[b]] = m[index[b], index[a]] = fidelity.tetrachoric(rate[a], rate[b], phi)
    link = np.array([_missing_link(n, rate[n], scale, intercept, age_corr) for n in names])
    rest = np.sqrt(1 - link**2)
    inner = (fidelity.nearest_correlation(m) - np.outer(link, link)) / np.outer(rest, rest)
    np.fill_diagonal(inner, 1.0)
    return names, np.linalg.cholesky(fidelity.nearest_correlation(inner)), link


def _missing_link(name: str, rate: float, scale: float, intercept: float, age_corr: float,
                  n: int = 50_000) -> float:
    """Correlation between a column's "is missing" score and the logit that gives the rows where it is
    missing the measured default rate (0 where the facts do not say), the pull of age (MISSING_WITH_AGE,
    age's score correlated ``age_corr`` with the logit) included."""
    facts = fidelity.signal(name)
    if "target_rate_if_missing" not in facts or rate < 0.005:
        return 0.0
    overall = facts["target_rate_if_missing"] * rate + facts["target_rate_if_present"] * (1 - rate)
    wanted = facts["target_rate_if_missing"] / max(overall, 1e-9) * TARGET_RATE
    rng = np.random.default_rng(2)
    u, e = rng.standard_normal(n), rng.standard_normal(n)
    p = expit(intercept + scale * u)
    cut = ndtri(rate)
    age = age_corr * u + np.sqrt(1 - age_corr**2) * rng.standard_normal(n)
    pull = MISSING_WITH_AGE.get(name, 0.0)
    lo, hi = -0.9, 0.9
    for _ in range(14):
        rho = (lo + hi) / 2
        latent = pull * age + np.sqrt(1 - pull**2) * (rho * u + np.sqrt(1 - rho * rho) * e)
        got = p[latent < cut].mean()
        lo, hi = (rho, hi) if got > wanted else (lo, rho)  # a negative rho: missing rows riskier
    return (lo + hi) / 2


def intercept_for(logit: np.ndarray, rate: float) -> float:
    """The intercept that makes the mean probability equal the measured default rate (bisection)."""
    lo, hi = -15.0, 5.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if expit(logit + mid).mean() < rate else (lo, mid)
    return (lo + hi) / 2


def _without_mass(m: fidelity.Marginal, value: float, keep: float, u: np.ndarray) -> np.ndarray:
    """Uniforms for ``m`` that give ``value`` only a share ``keep`` of the rows instead of its own share."""
    k = int(np.argmin(np.abs(m.mass_values - value)))
    lo, hi = m.mass_lo[k], m.mass_hi[k]
    cut = (hi - lo) - keep  # width of the stretch left out
    u = u * (1 - cut)
    return np.where(u >= lo + keep, u + cut, u)


def application(tab: Table, history: np.ndarray, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """One application file for clients whose history behaviour is ``history``.

    ``tab`` gives the marginals (train or test: drawing application_test from its own measured percentiles
    reproduces the real train -> test drift). The truth reads only what the file shows: each value's place
    on the train scale (so a credit of 450,000 weighs the same in both files), and for a missing value what
    missing values of that column say on average. Returns the frame (without ids and target) and the
    application part a'z of each client's true logit.
    """
    model = app_model()
    n = len(history)
    z = rng.standard_normal((n, len(model.names))) @ model.chol.T
    col = {name: z[:, i] for i, name in enumerate(model.names)}
    out = _copula_values(tab, model, col)
    drawn = id_publish_marginal(tab.name)(uniform(col["DAYS_ID_PUBLISH"]))
    out["DAYS_ID_PUBLISH"] = id_publish_days(np.asarray(out["DAYS_BIRTH"]), drawn, rng.random(n))
    no_job = _employment(out, tab, col, rng)
    _amounts(out, tab, col)
    couple = np.isin(np.asarray(out["NAME_FAMILY_STATUS"], dtype=object), COUPLE)
    out["CNT_FAM_MEMBERS"] = np.asarray(out["CNT_CHILDREN"]) + np.where(couple, 2.0, 1.0)
    _building_summaries(out, tab, col, rng)
    frame = pd.DataFrame(out)
    seen = _what_the_truth_reads(frame, tab, model, history, no_job, rng)
    return _ints(frame[[c for c in tab.column_names if c in frame]], tab), seen @ model.weights


def _copula_values(tab: Table, model: AppModel, col: dict[str, np.ndarray]) -> dict[str, object]:
    """The columns drawn straight from their marginal through their copula score: numbers (all but the ratios
    and DAYS_EMPLOYED, drawn by the rules below), then categories."""
    out: dict[str, object] = {}
    for name in model.names:
        if name in PSEUDO_COLUMNS or name == "DAYS_EMPLOYED":
            continue
        column = tab.column(name)
        if column.kind == "category":
            continue
        m = fidelity.marginal(tab.name, name, integer=column.kind == "integer")
        out[name] = m(uniform(col[name]))

    for name in model.names:
        if name in tab.column_names and tab.column(name).kind == "category":
            out[name] = draw(tab.column(name), uniform(col[name]))
    return out


def _employment(out: dict[str, object], tab: Table, col: dict[str, np.ndarray], rng) -> np.ndarray:
    """Employment: no employer phone means no job (pensioners, a few unemployed): sentinel days, XNA employer.
    Most pensioners have reached the legal age (55 for women, 60 for men): the copula's ordering decides who
    among those of an age retired, in the measured overall share. Returns who has no job."""
    n = len(col["DAYS_EMPLOYED"])
    gender = np.asarray(out["CODE_GENDER"], dtype=object)
    out["FLAG_EMP_PHONE"] = 1.0 - retired(np.asarray(out["DAYS_BIRTH"]), gender, uniform(col["FLAG_EMP_PHONE"]),
                                          1 - tab_share(tab.name, "FLAG_EMP_PHONE", 1.0))
    no_job = out["FLAG_EMP_PHONE"] == 0
    days = _employed_marginal(tab.name)(uniform(col["DAYS_EMPLOYED"]))
    days = np.maximum(days, np.asarray(out["DAYS_BIRTH"]) + 18 * 365)  # worked since 18 at the earliest
    out["DAYS_EMPLOYED"] = np.where(no_job, float(SENTINEL_DAYS), np.minimum(days, -1.0))
    income = tab.column("NAME_INCOME_TYPE")
    unemployed = no_job & (rng.random(n) < income.value_shares.get("Unemployed", 0) / max(no_job.mean(), 1e-9))
    working = np.asarray(draw(without(without(income, "Pensioner"), "Unemployed"), uniform(col["NAME_INCOME_TYPE"])),
                         dtype=object)
    out["NAME_INCOME_TYPE"] = pd.Categorical(np.where(unemployed, "Unemployed", np.where(no_job, "Pensioner", working)),
                                             categories=categories(income))
    org = tab.column("ORGANIZATION_TYPE")
    employers = np.asarray(draw(without(org, "XNA"), uniform(col["ORGANIZATION_TYPE"])), dtype=object)
    out["ORGANIZATION_TYPE"] = pd.Categorical(np.where(no_job, "XNA", employers), categories=categories(org))
    return no_job


def _amounts(out: dict[str, object], tab: Table, col: dict[str, np.ndarray]) -> None:
    """Amounts: goods price, then credit = goods / ratio (insurance and fees on top), annuity = credit / term;
    revolving loans finance no goods beyond their limit and are repaid at 1/20 of the limit a year."""
    n = len(col["TERM"])
    revolving = np.asarray(out["NAME_CONTRACT_TYPE"]) == "Revolving loans"
    share_rev = revolving.mean()
    ratio_m, term_m = fidelity.derived("AMT_GOODS_PRICE/AMT_CREDIT"), fidelity.derived("AMT_CREDIT/AMT_ANNUITY")
    one = ratio_m.mass_values[np.argmin(np.abs(ratio_m.mass_values - 1.0))]
    keep_one = max(ratio_m.mass_hi[ratio_m.mass_values == one][0] - ratio_m.mass_lo[ratio_m.mass_values == one][0]
                   - share_rev, 0.0) / max(1 - share_rev, 1e-9)
    ratio = ratio_m(_without_mass(ratio_m, 1.0, keep_one, uniform(col["GOODS_RATIO"])))
    at_twenty = np.argmin(np.abs(term_m.mass_values - 20))
    twenty = term_m.mass_hi[at_twenty] - term_m.mass_lo[at_twenty]
    term = term_m(_without_mass(term_m, 20.0, max(twenty - share_rev, 0.0) / max(1 - share_rev, 1e-9),
                                uniform(col["TERM"])))
    ratio, term = np.where(revolving, 1.0, ratio), np.where(revolving, 20.0, term)
    goods = np.asarray(out["AMT_GOODS_PRICE"], dtype=float)
    credit = np.round(goods / ratio * 2) / 2
    out["AMT_CREDIT"] = credit
    # The annuities of cash loans then take the measured annuity values in the same order (credit / term
    # gets the ranks right but not the tails exactly); revolving loans keep their exact twentieth.
    annuity = credit / term
    ranked = (np.argsort(np.argsort(annuity, kind="stable"), kind="stable") + 0.5) / n
    measured = fidelity.marginal(tab.name, "AMT_ANNUITY")(ranked)
    out["AMT_ANNUITY"] = np.where(revolving, np.round(annuity * 2) / 2, measured)


def _building_summaries(out: dict[str, object], tab: Table, col: dict[str, np.ndarray], rng) -> None:
    """Building statistics: the median and the mode summarize the same building as the average, so they sit
    just beside it (its place among the real values, nudged by BUILDING_NUDGE); the median equals the
    average exactly as often as in the real file."""
    n = len(col["DAYS_BIRTH"])
    same = fidelity.facts()["application_train_derived"]["share AVG == MEDI, building columns"]
    for group in sorted({_building_group(c) for c in out if _building_group(c)}):
        if f"{group}_AVG" not in out:
            continue
        avg = np.asarray(out[f"{group}_AVG"])
        for suffix in ("_MEDI", "_MODE"):
            name = f"{group}{suffix}"
            if name not in out:
                continue
            near = np.clip(uniform(col[f"{group}_AVG"]) + BUILDING_NUDGE * rng.standard_normal(n), 1e-9, 1 - 1e-9)
            other = fidelity.marginal(tab.name, name)(near)
            if suffix == "_MEDI" and group in same:
                by_chance = np.mean(avg == other)  # values on a small grid often coincide anyway
                equal = rng.random(n) < max(same[group] - by_chance, 0.0) / max(1 - by_chance, 1e-9)
                other = np.where(equal, avg, other)
            out[name] = other


def _what_the_truth_reads(frame: pd.DataFrame, tab: Table, model: AppModel, history: np.ndarray,
                          no_job: np.ndarray, rng) -> np.ndarray:
    """Cut the missing values (tied to the risk the complete row shows), then return the copula's variables as
    the file finally shows them: a missing value counts as what missing values of its column say on average."""
    n = len(frame)
    seen = observed_scores(frame, model.names)
    _apply_missing(frame, tab, model, seen @ model.weights + model.history_weight * history, no_job, rng)
    for name in MISSING_WITH_AGE:  # the present values follow the measured percentiles (of present rows)
        present = frame[name].notna().to_numpy()
        rank = (frame.loc[present, name].rank(method="first").to_numpy() - 0.5) / present.sum()
        frame.loc[present, name] = fidelity.marginal(tab.name, name)(rank)
        seen[:, model.names.index(name)] = observed_scores(frame.fillna({name: 0.5}), (name,))[:, 0]
    for i, name in enumerate(model.names):
        gone = frame[name].isna().to_numpy() if name in frame else np.zeros(n, dtype=bool)
        if gone.any():
            seen[gone, i] = seen[gone, i].mean()
    return seen


def _train_score(column: str, values: np.ndarray, integer: bool) -> np.ndarray:
    """Normal scores of values by their place among the real train values (mid-stretch for a point mass)."""
    return fidelity.marginal("application_train", column, integer=integer).score(values)


def _category_score(column: str, values: pd.Series) -> np.ndarray:
    """Normal scores of categories: the middle of each one's stretch in the train shares, in risk order."""
    col = table("application_train").column(column)
    cats = categories(col)
    shares = np.array([col.value_shares[c] for c in cats], dtype=float)
    cum = np.cumsum(shares / shares.sum())
    middle = pd.Series(ndtri(np.clip(cum - shares / shares.sum() / 2, 1e-6, 1 - 1e-6)), index=cats)
    return values.astype(object).map(middle).astype(float).fillna(0.0).to_numpy()


def observed_scores(frame: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    """The copula's variables as the file shows them (before missing values are cut): what the truth reads."""
    train = table("application_train")
    out = np.zeros((len(frame), len(names)))
    for i, name in enumerate(names):
        if name == "TERM":
            values = frame["AMT_CREDIT"] / frame["AMT_ANNUITY"]
            out[:, i] = fidelity.derived("AMT_CREDIT/AMT_ANNUITY").score(values)
        elif name == "GOODS_RATIO":
            values = frame["AMT_GOODS_PRICE"] / frame["AMT_CREDIT"]
            out[:, i] = fidelity.derived("AMT_GOODS_PRICE/AMT_CREDIT").score(values)
        elif name == "DAYS_EMPLOYED":  # the employed's seniority; having no job weighs through the job columns
            days = frame[name].to_numpy(dtype=float)
            employed = days != SENTINEL_DAYS
            seniority = _employed_marginal("application_train").score(np.where(employed, days, -1.0))
            out[:, i] = np.where(employed, seniority, 0.0)
        elif train.column(name).kind == "category":
            out[:, i] = _category_score(name, frame[name])
        else:
            out[:, i] = _train_score(name, frame[name].to_numpy(dtype=float), train.column(name).kind == "integer")
    return out


RETIREMENT_AGE = {"F": 55.0, "M": 60.0}  # the legal ages in force when the data were gathered
EARLY_RETIREMENT = 0.015  # share of the clients under that age who have no job (early pensions, unemployed)


def tab_share(table_name: str, column: str, value: float) -> float:
    """Measured share of one value of a numeric column (its point mass)."""
    m = fidelity.marginal(table_name, column)
    hit = np.abs(m.mass_values - value) < 1e-9
    return float((m.mass_hi - m.mass_lo)[hit].sum())


def retired(days_birth: np.ndarray, gender: np.ndarray, u: np.ndarray, share: float) -> np.ndarray:
    """1 for the clients without a job: EARLY_RETIREMENT of those under the legal age, and among those over
    it the lowest uniforms, so that the overall share is ``share``."""
    age = -days_birth / 365.25
    legal = age >= np.array([RETIREMENT_AGE.get(g, RETIREMENT_AGE["M"]) for g in gender])
    older = max((share - EARLY_RETIREMENT * (1 - legal.mean())) / max(legal.mean(), 1e-9), 0.0)
    return np.where(legal, u < min(older, 1.0), u < EARLY_RETIREMENT).astype(float)


BUILDING_NUDGE = 0.01  # how far (in share of buildings) a building's median or mode sits from its average


# Identity papers (Russian internal passports) are issued at 14 and replaced at 20 and 45: no client's
# document is older than their last renewal birthday, and those whose drawn date would be older renewed it
# then, within ID_RENEWAL_LAG years (in the real file most clients aged 20-25 or 45-50 hold a document from
# that renewal); none is older than the oldest measured one (the current documents date from the early 2000s).
ID_RENEWAL_AGES = (20.0, 45.0)
ID_RENEWAL_LAG = 1.0


def id_publish_days(days_birth: np.ndarray, drawn: np.ndarray, u: np.ndarray) -> np.ndarray:
    """DAYS_ID_PUBLISH from values drawn from its (pre-distorted) marginal, kept after the last renewal
    birthday; ``u`` places the on-time renewals within their lag."""
    age = -days_birth / 365.25
    renewal = np.where(age >= ID_RENEWAL_AGES[1], ID_RENEWAL_AGES[1], ID_RENEWAL_AGES[0])
    span = np.maximum(age - renewal, 0.0)  # years since the last renewal birthday
    years = -drawn / 365.25
    renewed = span - u * np.minimum(ID_RENEWAL_LAG, span)
    return -np.round(np.where(years > span, renewed, years) * 365.25)


@cache
def id_publish_marginal(table_name: str, n: int = 40_000) -> fidelity.Marginal:
    """The marginal to draw DAYS_ID_PUBLISH from before the renewal rule, so that the values after it follow
    the measured percentiles: a document is older than t only if both the drawn age and the time since the
    renewal birthday exceed t, so P(drawn > t) = P(final > t) / P(since renewal > t) (ages simulated, seeded)."""
    rng = np.random.default_rng(4)
    age = -fidelity.marginal(table_name, "DAYS_BIRTH", integer=True)(rng.random(n)) / 365.25
    renewal = np.where(age >= ID_RENEWAL_AGES[1], ID_RENEWAL_AGES[1], ID_RENEWAL_AGES[0])
    since = np.sort((np.maximum(age - renewal, 0) - rng.random(n) * ID_RENEWAL_LAG / 2) * 365.25)
    target = fidelity.marginal(table_name, "DAYS_ID_PUBLISH", integer=True)
    days = np.arange(0.0, -target.knots[0] + 1)
    final_survival = target.cdf(-days)  # P(document older than t days)
    since_survival = 1 - np.searchsorted(since, days, side="right") / n
    drawn_survival = np.minimum.accumulate(np.clip(final_survival / np.maximum(since_survival, 1e-9), 0, 1))
    cdf = 1 - drawn_survival
    older = np.interp(fidelity.PERCENTILES, cdf, days)  # age of the document at each percentile
    return fidelity.marginal_from({"percentiles_0_to_100": list(-older[::-1]), "point_masses": {}}, integer=True)


# EXT_SOURCE_1 is missing far more often for older clients (about 40 % under 35, over 70 % past 60 in real
# rows); the facts give missingness only against other missingness, so this is the one rule read from the
# sample's age profile: the correlation of its "is missing" score with age.
MISSING_WITH_AGE = {"EXT_SOURCE_1": 0.35}
# Columns filled from one source, missing all together in the real file (the facts list pairs above a
# threshold only, and leave out the rarely missing social-circle counts).
MISSING_TOGETHER = {
    "OBS_30_CNT_SOCIAL_CIRCLE": ("DEF_30_CNT_SOCIAL_CIRCLE", "OBS_60_CNT_SOCIAL_CIRCLE", "DEF_60_CNT_SOCIAL_CIRCLE"),
    "AMT_REQ_CREDIT_BUREAU_YEAR": ("AMT_REQ_CREDIT_BUREAU_HOUR", "AMT_REQ_CREDIT_BUREAU_DAY",
                                   "AMT_REQ_CREDIT_BUREAU_WEEK", "AMT_REQ_CREDIT_BUREAU_MON",
                                   "AMT_REQ_CREDIT_BUREAU_QRT"),
}


def _is_building_summary(name: str) -> bool:
    """A building statistic's median or mode (numeric), whose average decides when it is missing."""
    return name.endswith(("_MEDI", "_MODE")) and not name.endswith("TOTALAREA_MODE") and \
        table("application_train").column(name).kind != "category"


def _apply_missing(frame: pd.DataFrame, tab: Table, model: AppModel, logit: np.ndarray, no_job: np.ndarray,
                   rng) -> None:
    """Missing values: blocks through the missingness copula (tied to the risk as measured), structural where
    the real file is structural."""
    n = len(frame)
    latent = rng.standard_normal((n, len(model.missing_names))) @ model.missing_chol.T
    latent = model.missing_link * logit[:, None] + np.sqrt(1 - model.missing_link**2) * latent
    age_score = _train_score("DAYS_BIRTH", frame["DAYS_BIRTH"].to_numpy(dtype=float), integer=True)
    for name, rho in MISSING_WITH_AGE.items():  # lower score: older, more often missing
        i = model.missing_names.index(name)
        latent[:, i] = rho * age_score + np.sqrt(1 - rho**2) * latent[:, i]
    followers = {f for names in MISSING_TOGETHER.values() for f in names}
    for i, name in enumerate(model.missing_names):
        if name in frame and name not in followers and not _is_building_summary(name):
            _missing(frame, name, latent[:, i] < ndtri(tab.column(name).missing_rate))
    for name in model.missing_names:  # a building statistic is known for all three summaries or for none
        if _is_building_summary(name):
            _missing(frame, name, frame[f"{_building_group(name)}_AVG"].isna().to_numpy())
    for leader, followers in MISSING_TOGETHER.items():
        for name in followers:
            _missing(frame, name, frame[leader].isna().to_numpy())
    _missing(frame, "OWN_CAR_AGE", (frame["FLAG_OWN_CAR"] == "N").to_numpy())
    occupation = tab.column("OCCUPATION_TYPE").missing_rate
    extra = max(occupation - no_job.mean(), 0) / max(1 - no_job.mean(), 1e-9)
    _missing(frame, "OCCUPATION_TYPE", no_job | (rng.random(n) < extra))


# --------------------------------------------------------------------------------------------------------
# History tables.
# --------------------------------------------------------------------------------------------------------
FULL_CLIENTS = FULL_TRAIN_CLIENTS + FULL_TEST_CLIENTS
# A client's behaviour in the history tables mixes the risk the application shows (external scores, age...)
# with the part only the histories know (h): real bureau and payment records feed the external scores too.
HISTORY_APP_LINK = 0.2
# How strongly each history row reflects the client's behaviour, and the credit's own persistent effect
# (shared by all the rows of one credit). The rest is row-level noise: averaged over a client's rows the
# behaviour shows through, but no single aggregate is a clean proxy of the risk (real history aggregates reach
# univariate AUCs near 0.6, below the external scores).
HISTORY_SIGNAL = {
    "bureau_recent": (0.40, 0.0),  # recent bureau credits: credit-hungry clients
    "bureau_overdue": (0.55, 0.20),
    "bureau_debt": (0.30, 0.0),
    "bureau_balance_dpd": (0.50, 0.20),
    "previous_status": (0.55, 0.0),
    "pos_dpd": (0.50, 0.20),
    "instalment_delay": (0.26, 0.20),
    "instalment_short": (0.38, 0.20),
    "card_use": (0.55, 0.20),
    "card_dpd": (0.50, 0.20),
}


# Pensioners default less than the others, but not as much less as their age alone would make them: the
# measured rates are 5.48 % against 8.35 % (fidelity.json, published: 5.4 % against 8.7 %).
PENSIONER_RATE_RATIO = 0.0548 / 0.0835


def pensioner_shift(app_std: np.ndarray, history: np.ndarray, pensioner: np.ndarray, model: AppModel) -> float:
    """The shift of the pensioners' application risk that gives their expected default rate the measured
    ratio to the others' (bisection on the expected rates: no randomness)."""
    rest = np.sqrt(1 - model.history_weight**2)
    lo, hi = -1.5, 1.5
    for _ in range(30):
        mid = (lo + hi) / 2
        logit = model.scale * (rest * (app_std + mid * pensioner) + model.history_weight * history)
        pd_ = expit(logit + intercept_for(logit, TARGET_RATE))
        ratio = pd_[pensioner].mean() / max(pd_[~pensioner].mean(), 1e-12)
        lo, hi = (mid, hi) if ratio < PENSIONER_RATE_RATIO else (lo, mid)
    return (lo + hi) / 2


def history_behaviour(app_part: np.ndarray, history: np.ndarray) -> np.ndarray:
    """The standard normal behaviour the history tables reflect: HISTORY_APP_LINK of the standardized
    application part of the risk, the rest from h."""
    return HISTORY_APP_LINK * app_part + np.sqrt(1 - HISTORY_APP_LINK**2) * history


def _signal(kind: str, rng, behaviour: np.ndarray, credit_effect: np.ndarray | None = None) -> np.ndarray:
    """A row's standard normal score for one kind of history signal (HISTORY_SIGNAL)."""
    client, credit = HISTORY_SIGNAL[kind]
    factors = [(client, behaviour)]
    if credit and credit_effect is not None:
        factors.append((credit, credit_effect))
    return score(rng, len(behaviour), *factors)


def _relation(key: str) -> dict:
    return raw_schema()["relations"][key]


def children_per_parent(rng, n_parents: int, share_with_any: float, mean_if_any: float) -> np.ndarray:
    """How many child rows each parent has: none for some, else 1 + a negative binomial (over-dispersed,
    as real credit histories are) with the measured mean."""
    has = rng.random(n_parents) < share_with_any
    extra = mean_if_any - 1
    k = 1.2
    counts = 1 + rng.negative_binomial(k, k / (k + extra), size=n_parents)
    return np.where(has, counts, 0)


def spread(counts: np.ndarray, *arrays: np.ndarray):
    """Repeat parent attributes for their children; also each child's position within its parent."""
    out = [np.repeat(a, counts) for a in arrays]
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return out, np.arange(counts.sum()) - starts


def allocate_by_rank(rank_score: np.ndarray, col: Column, order: list[str]) -> pd.Categorical:
    """Categories in exact measured shares, the highest scores getting the last (riskiest) categories."""
    shares = np.array([col.value_shares.get(c, 0.0) for c in order], dtype=float)
    u = (np.argsort(np.argsort(rank_score, kind="stable"), kind="stable") + 0.5) / len(rank_score)
    cum = np.cumsum(shares / shares.sum())
    codes = np.minimum(np.searchsorted(cum, u, side="right"), len(order) - 1)
    return pd.Categorical.from_codes(codes, categories=order)


def unique_ids(rng, start: int, n: int, density: float = 0.93) -> np.ndarray:
    """Sorted unique ids from ``start``, with gaps as in Kaggle's id ranges, in shuffled order."""
    ids = start + np.sort(rng.choice(int(n / density) + 1, size=n, replace=False)).astype(np.int64)
    return rng.permutation(ids)


def columns_from_marginals(tab: Table, n: int, rng, given: dict, factors: dict | None = None,
                           structural: tuple[str, ...] = ()) -> pd.DataFrame:
    """All columns of ``tab`` not in ``given``: drawn from their marginal, through a copula score built
    from ``factors`` (column -> list of (loading, standard normal factor)), missing at the measured rate
    unless listed in ``structural`` (the caller decides when those are missing)."""
    factors = factors or {}
    out = {}
    for col in tab.columns:
        if col.name in given:
            out[col.name] = given[col.name]
            continue
        values = draw(col, uniform(score(rng, n, *factors.get(col.name, []))), table_name=tab.name)
        if col.missing_rate and col.name not in structural:
            mask = rng.random(n) < col.missing_rate
            if isinstance(values, pd.Categorical):
                values = values.remove_categories([]).copy()
                values[mask] = np.nan
            else:
                values = np.where(mask, np.nan, values)
        out[col.name] = values
    return pd.DataFrame(out)[tab.column_names]


# Loadings of the columns on their table's shared factors (a standard normal score each): a credit's dates follow
# its age, its overdue amounts its overdue behaviour, an application's amounts its size, its dates its decision.
BUREAU_DATES = {"DAYS_CREDIT": 1.0, "DAYS_CREDIT_ENDDATE": 0.6, "DAYS_ENDDATE_FACT": 0.9, "DAYS_CREDIT_UPDATE": 0.5}
BUREAU_OVERDUE = {"AMT_CREDIT_MAX_OVERDUE": 0.9, "CREDIT_DAY_OVERDUE": 0.95, "AMT_CREDIT_SUM_OVERDUE": 0.95}
PREVIOUS_AMOUNTS = {"AMT_APPLICATION": 1.0, "AMT_CREDIT": 0.95, "AMT_GOODS_PRICE": 0.98, "AMT_ANNUITY": 0.7,
                    "CNT_PAYMENT": 0.5}
PREVIOUS_DATES = {"DAYS_DECISION": 1.0, "DAYS_FIRST_DUE": 0.9, "DAYS_LAST_DUE_1ST_VERSION": 0.9, "DAYS_LAST_DUE": 0.9,
                  "DAYS_TERMINATION": 0.9, "DAYS_FIRST_DRAWING": 0.9}


def _loaded(loadings: dict[str, float], factor: np.ndarray) -> dict[str, list[tuple[float, np.ndarray]]]:
    """``columns_from_marginals`` factors: each column loading on one shared factor."""
    return {column: [(loading, factor)] for column, loading in loadings.items()}


def _client_rows(clients: Clients, rng, child: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of a client-level history table (``child``): how many each client has, as the measured relation
    says, with the client's id, behaviour and wealth repeated on each."""
    rel = _relation(f"{child}.SK_ID_CURR -> application.SK_ID_CURR")
    counts = children_per_parent(rng, len(clients), rel["distinct_clients"] / FULL_CLIENTS,
                                 rel["rows"] / rel["distinct_clients"])
    (client_id, r, w), _ = spread(counts, clients.ids, clients.risk, clients.wealth)
    return client_id, r, w


@dataclass(frozen=True)
class BureauCredits:
    """What bureau_balance needs of the bureau credits besides their rows: each credit's behaviour and its own
    persistent effect, and whether it is closed."""

    frame: pd.DataFrame
    risk: np.ndarray
    effect: np.ndarray
    closed: np.ndarray


def bureau(clients: Clients, rng, scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """bureau and bureau_balance: other lenders' credits and their monthly DPD statuses."""
    credits = _bureau_credits(clients, rng)
    return credits.frame, _bureau_balance(credits, rng, scale)


def _bureau_credits(clients: Clients, rng) -> BureauCredits:
    """The bureau table: recent credits for credit-hungry clients, overdue amounts for risky ones, sums for the
    wealthy."""
    tab = table("bureau")
    client_id, r, w = _client_rows(clients, rng, "bureau")
    n = len(client_id)
    credit_effect = rng.standard_normal(n)
    z_days = _signal("bureau_recent", rng, r)
    active_score = score(rng, n, (-0.5, z_days))
    status = allocate_by_rank(active_score, tab.column("CREDIT_ACTIVE"),
                              ["Closed", "Sold", "Active", "Bad debt"])
    closed = np.asarray(status) == "Closed"
    overdue_z = _signal("bureau_overdue", rng, r, credit_effect)
    f = {**_loaded(BUREAU_DATES, z_days), **_loaded(BUREAU_OVERDUE, overdue_z)}
    sum_z = score(rng, n, (0.4, w))
    f["AMT_CREDIT_SUM"] = [(1.0, sum_z)]
    f["AMT_CREDIT_SUM_DEBT"] = [(0.75, sum_z), (HISTORY_SIGNAL["bureau_debt"][0], r)]
    f["AMT_ANNUITY"] = [(0.5, sum_z)]
    ids = unique_ids(rng, 5_000_000, n)
    out = columns_from_marginals(tab, n, rng, {"SK_ID_CURR": client_id, "SK_ID_BUREAU": ids,
                                               "CREDIT_ACTIVE": status}, f)
    # Closed credits have an end date no earlier than their start and owe nothing; active ones have no
    # actual end date.
    out["DAYS_ENDDATE_FACT"] = np.where(closed, np.maximum(out["DAYS_ENDDATE_FACT"].fillna(out["DAYS_CREDIT"]),
                                                           out["DAYS_CREDIT"]), np.nan)
    for c in ("CREDIT_DAY_OVERDUE", "AMT_CREDIT_SUM_OVERDUE"):
        out[c] = np.where(closed, 0.0, out[c])
    out["AMT_CREDIT_SUM_DEBT"] = np.where(closed & out["AMT_CREDIT_SUM_DEBT"].notna(), 0.0,
                                          out["AMT_CREDIT_SUM_DEBT"])
    out["DAYS_CREDIT_UPDATE"] = np.maximum(out["DAYS_CREDIT_UPDATE"], out["DAYS_CREDIT"])
    return BureauCredits(_ints(out, tab), r, credit_effect, closed)


def _bureau_balance(credits: BureauCredits, rng, scale: float) -> pd.DataFrame:
    """bureau_balance: a share of the credits reported monthly, plus balance ids with no bureau row."""
    out, n, closed = credits.frame, len(credits.frame), credits.closed
    ids = out["SK_ID_BUREAU"].to_numpy()
    rel_b = _relation("bureau_balance.SK_ID_BUREAU -> bureau.SK_ID_BUREAU")
    n_bal = round(rel_b["distinct_bureau_ids"] * scale)
    n_orphans = round(n_bal * BALANCE_ORPHAN_SHARE)
    linked = rng.choice(n, size=min(n_bal - n_orphans, n), replace=False)
    linked.sort()
    months_mean = rel_b["rows"] / rel_b["distinct_bureau_ids"]
    age_months = np.clip(np.ceil(-out["DAYS_CREDIT"].to_numpy()[linked] / 30.44), 1, 97)
    length = np.clip(np.round(age_months * months_mean / max(age_months.mean(), 1)), 1, 97).astype(np.int64)
    closed_months = np.where(closed[linked], np.ceil(-out["DAYS_ENDDATE_FACT"].to_numpy()[linked] / 30.44), 0)
    orphan_ids = 5_000_000 + int(n / 0.93) + 1 + rng.choice(n_orphans * 20, size=n_orphans, replace=False)
    orphan_len = np.clip(1 + rng.negative_binomial(1.2, 1.2 / (1.2 + months_mean - 1), n_orphans), 1, 97)
    bal_ids = np.concatenate([ids[linked], orphan_ids.astype(np.int64)])
    bal_len = np.concatenate([length, orphan_len])
    bal_risk = np.concatenate([credits.risk[linked], rng.standard_normal(n_orphans)])
    bal_closed = np.concatenate([np.nan_to_num(closed_months), rng.integers(0, 20, n_orphans)])
    bal_effect = np.concatenate([credits.effect[linked], rng.standard_normal(n_orphans)])
    (bid, br, bclosed, beff), pos = spread(bal_len, bal_ids, bal_risk, bal_closed, bal_effect)
    months = -pos  # 0 = the latest month, going back in time
    status_bal = _balance_status(months, bclosed, br, beff, rng)
    return pd.DataFrame({"SK_ID_BUREAU": bid, "MONTHS_BALANCE": months.astype(np.int64), "STATUS": status_bal})


def _balance_status(months: np.ndarray, closed_months: np.ndarray, risk: np.ndarray, effect: np.ndarray,
                    rng) -> pd.Categorical:
    """Monthly statuses in exact shares: months after closing become C first, X (unknown) falls at random, then
    the riskiest open months get the DPD buckets."""
    m = len(months)
    status_col = table("bureau_balance").column("STATUS")
    after_close = (-months) < closed_months
    c_score = after_close * 2.0 + rng.random(m)
    x_score = rng.random(m)
    dpd_score = _signal("bureau_balance_dpd", rng, risk, effect)
    rank_score = np.where(c_score >= np.quantile(c_score, 1 - status_col.value_shares["C"]), -10.0,
                          np.where(x_score < status_col.value_shares["X"] / (1 - status_col.value_shares["C"]),
                                   -5.0, dpd_score))
    return allocate_by_rank(rank_score, status_col, ["C", "X", "0", "1", "2", "3", "4", "5"])


def previous(clients: Clients, rng) -> pd.DataFrame:
    """previous_application: earlier Home Credit applications; risky clients are refused more often."""
    tab = table("previous_application")
    client_id, r, w = _client_rows(clients, rng, "previous_application")
    n = len(client_id)
    status = allocate_by_rank(_signal("previous_status", rng, r), tab.column("NAME_CONTRACT_STATUS"),
                              ["Approved", "Unused offer", "Canceled", "Refused"])
    st = np.asarray(status, dtype=object)
    refused = st == "Refused"
    reasons = tab.column("CODE_REJECT_REASON")
    reason = np.where(refused, np.asarray(draw(without(reasons, "XAP"), rng.random(n)), dtype=object), "XAP")
    z_app, z_dec = score(rng, n, (0.5, w)), rng.standard_normal(n)
    f = {**_loaded(PREVIOUS_AMOUNTS, z_app), **_loaded(PREVIOUS_DATES, z_dec)}
    out = columns_from_marginals(tab, n, rng, {
        "SK_ID_PREV": unique_ids(rng, 1_000_001, n),
        "SK_ID_CURR": client_id,
        "NAME_CONTRACT_STATUS": status,
        "CODE_REJECT_REASON": pd.Categorical(reason, categories=categories(reasons)),
    }, f, structural=(*PREV_SENTINEL_SHARE, "NFLAG_INSURED_ON_APPROVAL", "AMT_ANNUITY", "CNT_PAYMENT"))
    _dates_of_approved(out, tab, st == "Approved", z_dec, rng)
    _terms_of_taken_up(out, tab, st, rng)
    return _ints(out, tab)


def _dates_of_approved(out: pd.DataFrame, tab: Table, approved: np.ndarray, z_dec: np.ndarray, rng) -> None:
    """Dates and insurance exist for approved credits (a few approved ones lack them, as in Kaggle)."""
    n = len(out)
    no_dates_rate = tab.column("DAYS_FIRST_DUE").missing_rate
    extra = max(no_dates_rate - (1 - approved.mean()), 0) / max(approved.mean(), 1e-9)
    no_dates = ~approved | (rng.random(n) < extra)
    for c in (*PREV_SENTINEL_SHARE, "NFLAG_INSURED_ON_APPROVAL"):
        col = tab.column(c)
        if c in PREV_SENTINEL_SHARE:
            share = PREV_SENTINEL_SHARE[c]
            real = draw(col, uniform(score(rng, n, (0.9, z_dec))), sentinel_share=share, upper=PREV_DAYS_MAX[c],
                        table_name=tab.name)
            values = np.where(rng.random(n) < share, float(SENTINEL_DAYS), real)
        else:
            values = out[c].to_numpy(dtype=float)
        out[c] = np.where(no_dates, np.nan, values)


def _terms_of_taken_up(out: pd.DataFrame, tab: Table, status: np.ndarray, rng) -> None:
    """Annuity and term are missing for offers never taken up (and for some refused ones)."""
    n = len(out)
    terms_rate = tab.column("AMT_ANNUITY").missing_rate
    not_taken = np.isin(status, ["Canceled", "Unused offer"])
    refused = status == "Refused"
    p_missing = np.where(not_taken, min(terms_rate / max(not_taken.mean(), 1e-9), 0.97), 0.0)
    p_missing = np.where(refused, max(terms_rate - p_missing.sum() / n, 0) / max(refused.mean(), 1e-9), p_missing)
    no_terms = rng.random(n) < p_missing
    for c in ("AMT_ANNUITY", "CNT_PAYMENT"):
        out[c] = np.where(no_terms, np.nan, out[c])


def _place_months(rng, counts: np.ndarray, latest_max: int = -1, mean_gap: float = 20.0) -> np.ndarray:
    """The latest month (<= latest_max) of each monthly history, so that it fits in Kaggle's 96 months."""
    gap = np.floor(rng.exponential(mean_gap, len(counts))).astype(np.int64)
    return np.maximum(latest_max - gap, -96 + counts - 1)


def monthly_histories(prev: pd.DataFrame, clients: Clients, rng) -> dict[str, pd.DataFrame]:
    """POS_CASH_balance, installments_payments and credit_card_balance of approved previous credits."""
    risk = pd.Series(clients.risk, index=clients.ids)
    approved = (prev["NAME_CONTRACT_STATUS"] == "Approved").to_numpy()
    revolving = (prev["NAME_CONTRACT_TYPE"] == "Revolving loans").to_numpy()
    n_prev_full = _relation("previous_application.SK_ID_CURR -> application.SK_ID_CURR")["rows"]
    out = {}
    for name, eligible in (
        ("POS_CASH_balance", approved & ~revolving),
        ("installments_payments", approved),
        ("credit_card_balance", approved & revolving),
    ):
        rel = _relation(f"{name}.SK_ID_PREV -> previous_application.SK_ID_PREV")
        wanted = rel["distinct_prev_ids"] / n_prev_full * len(prev)
        chosen = eligible & (rng.random(len(prev)) < min(wanted / max(eligible.sum(), 1), 1.0))
        parent = prev.loc[chosen, ["SK_ID_PREV", "SK_ID_CURR", "CNT_PAYMENT", "AMT_ANNUITY"]].reset_index(drop=True)
        mean_rows = rel["rows"] / rel["distinct_prev_ids"]
        counts = np.clip(1 + rng.negative_binomial(1.5, 1.5 / (1.5 + mean_rows - 1), len(parent)), 1, 96)
        builder = {"POS_CASH_balance": _pos, "installments_payments": _installments,
                   "credit_card_balance": _credit_card}[name]
        parent_risk = risk.reindex(parent["SK_ID_CURR"]).to_numpy()
        out[name] = builder(parent, parent_risk, counts, rng)
    return out


def _pos(parent: pd.DataFrame, parent_risk: np.ndarray, counts: np.ndarray, rng) -> pd.DataFrame:
    tab = table("POS_CASH_balance")
    latest = _place_months(rng, counts)
    term = draw(tab.column("CNT_INSTALMENT"), rng.random(len(parent)), table_name=tab.name)
    term = np.where(parent["CNT_PAYMENT"].fillna(0).to_numpy() > 0, parent["CNT_PAYMENT"].fillna(0), term)
    (prev_id, curr_id, r, last, t, eff), pos = spread(counts, parent["SK_ID_PREV"].to_numpy(),
                                                      parent["SK_ID_CURR"].to_numpy(), parent_risk, latest, term,
                                                      rng.standard_normal(len(parent)))
    n = len(prev_id)
    months = last - (np.repeat(counts, counts) - 1 - pos)
    future = np.maximum(t - pos, 0).astype(float)
    dpd_z = _signal("pos_dpd", rng, r, eff)
    base = columns_from_marginals(tab, n, rng, {
        "SK_ID_PREV": prev_id, "SK_ID_CURR": curr_id, "MONTHS_BALANCE": months.astype(np.int64),
        "CNT_INSTALMENT": t.astype(float), "CNT_INSTALMENT_FUTURE": future,
    }, {"SK_DPD": [(0.97, dpd_z)], "SK_DPD_DEF": [(0.9, dpd_z)]},
        structural=("CNT_INSTALMENT", "CNT_INSTALMENT_FUTURE"))
    status = np.asarray(base["NAME_CONTRACT_STATUS"], dtype=object)
    status = np.where((future == 0) & (status == "Active"), "Completed", status)
    base["NAME_CONTRACT_STATUS"] = pd.Categorical(status, categories=categories(tab.column("NAME_CONTRACT_STATUS")))
    base["SK_DPD_DEF"] = np.minimum(base["SK_DPD_DEF"], base["SK_DPD"])
    for c in ("CNT_INSTALMENT", "CNT_INSTALMENT_FUTURE"):
        base[c] = np.where(rng.random(n) < tab.column(c).missing_rate, np.nan, base[c])
    return _ints(base, tab)


# Days between due date and payment (negative: paid early), as a quantile function: about 8 % late.
PAYMENT_DELAY_KNOTS = (np.array([0.0, 0.25, 0.5, 0.75, 0.92, 0.99, 1.0]),
                       np.array([-120.0, -16.0, -7.0, -1.0, 0.0, 30.0, 900.0]))


def _installments(parent: pd.DataFrame, parent_risk: np.ndarray, counts: np.ndarray, rng) -> pd.DataFrame:
    tab = table("installments_payments")
    last_due = -1 - np.floor(rng.exponential(560.0, len(parent)))
    amount = draw(tab.column("AMT_INSTALMENT"), rng.random(len(parent)), table_name=tab.name)
    amount = np.where(parent["AMT_ANNUITY"].notna(), parent["AMT_ANNUITY"].fillna(0), amount)
    version = draw(tab.column("NUM_INSTALMENT_VERSION"), rng.random(len(parent)), table_name=tab.name)
    (prev_id, curr_id, r, last, amt, ver, eff), pos = spread(
        counts, parent["SK_ID_PREV"].to_numpy(), parent["SK_ID_CURR"].to_numpy(), parent_risk, last_due,
        amount, version, rng.standard_normal(len(parent)))
    n = len(prev_id)
    number = pos + 1
    due = np.maximum(last - 30.0 * (np.repeat(counts, counts) - number), -2922.0)
    late_z = _signal("instalment_delay", rng, r, eff)
    delay = np.round(_interpolate(*PAYMENT_DELAY_KNOTS, uniform(late_z)))
    paid_day = np.minimum(due + delay, -1.0)
    short_z = _signal("instalment_short", rng, r, eff)
    underpaid = short_z > np.quantile(short_z, 0.94)
    payment = np.where(underpaid, np.round(amt * rng.random(n), 3), amt)
    frame = pd.DataFrame({
        "SK_ID_PREV": prev_id, "SK_ID_CURR": curr_id, "NUM_INSTALMENT_VERSION": ver,
        "NUM_INSTALMENT_NUMBER": number.astype(np.int64), "DAYS_INSTALMENT": due, "DAYS_ENTRY_PAYMENT": paid_day,
        "AMT_INSTALMENT": amt, "AMT_PAYMENT": payment,
    })
    return _ints(frame[tab.column_names], tab)


def _credit_card(parent: pd.DataFrame, parent_risk: np.ndarray, counts: np.ndarray, rng) -> pd.DataFrame:
    tab = table("credit_card_balance")
    latest = _place_months(rng, counts, mean_gap=12.0)
    limit = draw(tab.column("AMT_CREDIT_LIMIT_ACTUAL"), rng.random(len(parent)), table_name=tab.name)
    (prev_id, curr_id, r, last, lim, eff), pos = spread(
        counts, parent["SK_ID_PREV"].to_numpy(), parent["SK_ID_CURR"].to_numpy(), parent_risk, latest, limit,
        rng.standard_normal(len(parent)))
    n = len(prev_id)
    months = last - (np.repeat(counts, counts) - 1 - pos)
    use_z = _signal("card_use", rng, r, eff)
    dpd_z = _signal("card_dpd", rng, r, eff)
    # Utilisation: half the months nothing is owed; the riskiest clients run close to (or over) the limit.
    utilisation = _interpolate(np.array([0.0, 0.005, 0.45, 0.75, 0.95, 1.0]),
                               np.array([-0.05, 0.0, 0.0, 0.75, 0.98, 1.15]), uniform(use_z))
    balance = np.round(np.where(lim > 0, utilisation * lim, 0.0), 3)
    frame = columns_from_marginals(tab, n, rng, {
        "SK_ID_PREV": prev_id, "SK_ID_CURR": curr_id, "MONTHS_BALANCE": months.astype(np.int64),
        "AMT_BALANCE": balance, "AMT_CREDIT_LIMIT_ACTUAL": lim,
        "AMT_RECEIVABLE_PRINCIPAL": np.round(balance * 0.96, 3),
        "AMT_RECIVABLE": balance, "AMT_TOTAL_RECEIVABLE": balance,
    }, {"SK_DPD": [(0.97, dpd_z)], "SK_DPD_DEF": [(0.85, dpd_z)]},
        structural=("AMT_DRAWINGS_ATM_CURRENT", "AMT_DRAWINGS_OTHER_CURRENT", "AMT_DRAWINGS_POS_CURRENT",
                    "CNT_DRAWINGS_ATM_CURRENT", "CNT_DRAWINGS_OTHER_CURRENT", "CNT_DRAWINGS_POS_CURRENT",
                    "AMT_INST_MIN_REGULARITY", "CNT_INSTALMENT_MATURE_CUM"))
    frame["SK_DPD_DEF"] = np.minimum(frame["SK_DPD_DEF"], frame["SK_DPD"])
    # Drawings are reported together or not at all.
    no_drawings = rng.random(n) < tab.column("AMT_DRAWINGS_ATM_CURRENT").missing_rate
    for c in ("AMT_DRAWINGS_ATM_CURRENT", "AMT_DRAWINGS_OTHER_CURRENT", "AMT_DRAWINGS_POS_CURRENT",
              "CNT_DRAWINGS_ATM_CURRENT", "CNT_DRAWINGS_OTHER_CURRENT", "CNT_DRAWINGS_POS_CURRENT"):
        frame[c] = np.where(no_drawings, np.nan, draw(tab.column(c), rng.random(n), table_name=tab.name))
    no_minimum = rng.random(n) < tab.column("AMT_INST_MIN_REGULARITY").missing_rate
    frame["AMT_INST_MIN_REGULARITY"] = np.where(no_minimum, np.nan, np.round(np.maximum(balance, 0) * 0.05, 3))
    frame["CNT_INSTALMENT_MATURE_CUM"] = np.where(no_minimum, np.nan, frame["CNT_INSTALMENT_MATURE_CUM"])
    return _ints(frame, tab)


def _ints(frame: pd.DataFrame, tab: Table) -> pd.DataFrame:
    """Columns Kaggle writes as integers get an integer dtype (so the CSV says 12, not 12.0)."""
    return frame.astype({c.name: np.int64 for c in tab.columns if c.written_as == "int" and c.name in frame})


# --------------------------------------------------------------------------------------------------------
# Putting it together.
# --------------------------------------------------------------------------------------------------------
def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Kaggle's CSV dialect: header, comma, floats as 202500.0, empty field for missing, quotes only
    where a value holds a comma. One thread keeps the bytes identical from run to run."""
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.register("frame", frame)
    con.execute(f"COPY (SELECT * FROM frame) TO '{path}' (HEADER, DELIMITER ',', NULL '')")
    con.close()


def generate(n_clients: int, n_test_clients: int, seed: int, out_dir: Path, truth_file: Path,
             log=print) -> dict[str, int]:
    """Write the 8 Kaggle CSVs into ``out_dir`` and ``SK_ID_CURR,PD`` into ``truth_file``.

    Deterministic from ``seed``. ``out_dir`` is replaced as a whole, once every file is complete (it is
    written beside it first), so it may hold nothing but the generator's files; on an error neither it nor
    ``truth_file`` is touched. Returns the rows written per table.
    """
    if n_clients < 100 or n_test_clients < 1:
        raise ValueError("need at least 100 train clients and 1 test client")
    out_dir, truth_file = Path(out_dir), Path(truth_file)
    _check_replaceable(out_dir, truth_file)
    seeds = np.random.SeedSequence(seed).spawn(6)
    rng_clients, rng_app, rng_bureau, rng_prev, rng_months, rng_target = (np.random.default_rng(s) for s in seeds)
    clients = make_clients(n_clients, n_test_clients, rng_clients)
    scale = len(clients) / FULL_CLIENTS
    rows: dict[str, int] = {}
    t0 = time.perf_counter()
    with atomic_directory(out_dir) as staged:

        def emit(name: str, frame: pd.DataFrame) -> None:
            write_csv(frame, staged / table(name).file)
            rows[name] = len(frame)
            log(f"  {name}: {len(frame):,} rows ({time.perf_counter() - t0:.0f} s)")

        truth = applications(clients, rng_app, rng_target, emit)
        bur, bal = bureau(clients, rng_bureau, scale)
        emit("bureau", bur)
        del bur
        emit("bureau_balance", bal)
        del bal
        prev = previous(clients, rng_prev)
        emit("previous_application", prev)
        for name, frame in monthly_histories(prev, clients, rng_months).items():
            emit(name, frame)
    truth_file.parent.mkdir(parents=True, exist_ok=True)
    staged_truth = truth_file.with_name(f".{truth_file.name}.tmp")
    truth.to_csv(staged_truth, index=False)
    os.replace(staged_truth, truth_file)
    return rows


def _check_replaceable(out_dir: Path, truth_file: Path) -> None:
    """Refuse an ``out_dir`` holding anything but the generator's files: it is replaced as a whole."""
    if not out_dir.is_dir():
        return
    ours = {t.file for t in tables().values()} | ({truth_file.name} if truth_file.parent == out_dir else set())
    foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in ours)
    if foreign:
        raise ValueError(f"{out_dir} holds other files than the generator's ({', '.join(foreign[:5])}): "
                         "the generator replaces the whole folder, choose another one")


def applications(clients: Clients, rng_app: np.random.Generator, rng_target: np.random.Generator,
                 emit) -> pd.DataFrame:
    """application_train then application_test, handed to ``emit``; sets each client's wealth and the behaviour
    the history tables reflect. Returns the true default probabilities of all clients, by id."""
    model = app_model()
    logits, ids_all, train_scale, intercept = [], [], None, None
    for name, mask in (("application_train", ~clients.is_test), ("application_test", clients.is_test)):
        app, app_part = application(table(name), clients.history[mask], rng_app)
        ids = clients.ids[mask]
        head = {"SK_ID_CURR": ids}
        app_std, train_scale = _standardized(app, app_part, clients.history[mask], model, train_scale)
        # The standardized true logit: the application part keeps its designed share of the variance.
        logit = np.sqrt(1 - model.history_weight**2) * app_std + model.history_weight * clients.history[mask]
        logits.append(logit)
        ids_all.append(ids)
        income_rank = app["AMT_INCOME_TOTAL"].rank(method="first").to_numpy()
        clients.wealth[mask] = ndtri((income_rank - 0.5) / len(ids))
        clients.risk[mask] = history_behaviour(app_std, clients.history[mask])
        if name == "application_train":
            intercept = intercept_for(model.scale * logit, TARGET_RATE)
            head["TARGET"] = (rng_target.random(len(ids)) < expit(model.scale * logit + intercept)).astype(np.int64)
        emit(name, pd.concat([pd.DataFrame(head), app], axis=1))
    pd_true = expit(model.scale * np.concatenate(logits) + intercept)
    truth = pd.DataFrame({"SK_ID_CURR": np.concatenate(ids_all), "PD": np.round(pd_true, 10)})
    return truth.sort_values("SK_ID_CURR")


@dataclass(frozen=True)
class TrainScale:
    """What the train file fixes for both files: the centre and spread of the application part of the logit,
    and the pensioners' shift."""

    centre: float
    spread: float
    pensioner_shift: float


def _standardized(app: pd.DataFrame, app_part: np.ndarray, history: np.ndarray, model: AppModel,
                  train_scale: TrainScale | None) -> tuple[np.ndarray, TrainScale]:
    """The application part on the train file's scale (measured on this file when ``train_scale`` is None),
    pensioners shifted."""
    pensioner = (app["DAYS_EMPLOYED"] == SENTINEL_DAYS).to_numpy()
    if train_scale is None:
        centre, spread_ = app_part.mean(), app_part.std()
        shift = pensioner_shift((app_part - centre) / spread_, history, pensioner, model)
        train_scale = TrainScale(centre, spread_, shift)
    app_std = (app_part - train_scale.centre) / train_scale.spread
    return app_std + train_scale.pensioner_shift * pensioner, train_scale


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-clients", type=int, required=True, help="application_train clients")
    parser.add_argument("--n-test-clients", type=int, required=True, help="application_test clients")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="folder for the 8 CSVs")
    parser.add_argument("--truth", type=Path, required=True, help="CSV of true default probabilities")
    args = parser.parse_args(argv)
    rows = generate(args.n_clients, args.n_test_clients, args.seed, args.out, args.truth)
    print(f"wrote {sum(rows.values()):,} rows in 8 files to {args.out}")


if __name__ == "__main__":
    main()
