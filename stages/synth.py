"""Synthetic Home Credit data, faithful to the Kaggle files, with a known default probability per client.

The eight CSVs have Kaggle's names, columns in Kaggle's order, kinds, category values, missing rates and
marginal shapes (``credit_scoring/home_credit_schema.json``, measured on real rows), and the relations of
the real files (share of clients with history, rows per credit, balance months). Each client carries a
latent risk ``r`` that drives the target and leaves noisy traces everywhere a lender would look: external
scores, refused previous applications, bureau overdue amounts and monthly DPD statuses, late or partial
instalments, POS and credit-card days past due, card utilisation. The true probability of default is a
function of ``r`` and of a few application fields; it is written apart and is never an input of a model.

Every value is drawn through a Gaussian copula: a standard normal score ``z`` (a mix of the latent factors
and noise) is mapped through the column's measured quantile function, so marginals follow the schema
whatever the dependence. application_test is drawn from the test file's own measured marginals, which
reproduces the real train -> test drift.

Usage: ``python -m stages.synth --n-clients N --n-test-clients M --seed S --out DIR --truth FILE``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from credit_scoring.schema import SENTINEL_DAYS, Column, Table, raw_schema, table

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

# How strongly each application column reflects the latent risk r (positive: higher value, higher risk).
# Categories are ordered from the safest to the riskiest where the column carries risk.
APP_RISK = {
    "EXT_SOURCE_1": -0.65,
    "EXT_SOURCE_2": -0.72,
    "EXT_SOURCE_3": -0.70,
    "DAYS_BIRTH": 0.22,
    "DAYS_EMPLOYED": 0.15,
    "DAYS_ID_PUBLISH": 0.10,
    "DAYS_LAST_PHONE_CHANGE": 0.12,
    "DAYS_REGISTRATION": 0.07,
    "REGION_RATING_CLIENT": 0.14,
    "REGION_RATING_CLIENT_W_CITY": 0.14,
    "CODE_GENDER": 0.12,
    "NAME_EDUCATION_TYPE": 0.16,
    "FLAG_OWN_CAR": 0.07,
    "DEF_30_CNT_SOCIAL_CIRCLE": 0.10,
    "DEF_60_CNT_SOCIAL_CIRCLE": 0.10,
    "FLAG_DOCUMENT_3": 0.06,
    "REG_CITY_NOT_WORK_CITY": 0.06,
    "FLAG_EMP_PHONE": 0.0,
    "OCCUPATION_TYPE": 0.10,
    "NAME_INCOME_TYPE": 0.10,
    "AMT_REQ_CREDIT_BUREAU_YEAR": 0.06,
}
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
# Groups of application columns missing together (a shared uniform decides), as in the real file.
MISSING_BLOCKS = ("building", "bureau_requests", "social_circle")
# Pairs of columns that measure nearly the same thing: the second copies the first's score (plus noise).
APP_TWINS = {
    "REGION_RATING_CLIENT_W_CITY": ("REGION_RATING_CLIENT", 0.95),
    "OBS_60_CNT_SOCIAL_CIRCLE": ("OBS_30_CNT_SOCIAL_CIRCLE", 0.98),
    "DEF_60_CNT_SOCIAL_CIRCLE": ("DEF_30_CNT_SOCIAL_CIRCLE", 0.90),
    "AMT_GOODS_PRICE": ("AMT_CREDIT", 0.97),
    "AMT_ANNUITY": ("AMT_CREDIT", 0.80),
    "CNT_FAM_MEMBERS": ("CNT_CHILDREN", 0.75),
    "LIVE_CITY_NOT_WORK_CITY": ("REG_CITY_NOT_WORK_CITY", 0.80),
    "LIVE_REGION_NOT_WORK_REGION": ("REG_REGION_NOT_WORK_REGION", 0.80),
}
WEALTH = {"AMT_INCOME_TOTAL": 0.75, "AMT_CREDIT": 0.55, "FLAG_OWN_REALTY": 0.1, "OWN_CAR_AGE": -0.2}

# The true model: logit PD = intercept + RISK_WEIGHT * r + sum of direct effects of application scores.
RISK_WEIGHT = 1.25
DIRECT_EFFECTS = {  # effects beyond r, on the copula score of the column (payment rate is annuity vs credit)
    "payment_rate": 0.22,
    "DAYS_BIRTH": 0.15,
    "AMT_GOODS_PRICE": -0.18,
}
TARGET_RATE = raw_schema()["relations"]["application_train.TARGET_rate"]
DRIFT_MIN_PSI = 0.03  # below this the real drift is left to the test file's own marginals


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


def draw(col: Column, u: np.ndarray, sentinel_share: float = 0.0, upper: float | None = None):
    """Values of ``col`` for uniforms ``u`` (a pandas Categorical for categories, float64 otherwise)."""
    if col.kind == "category":
        cats = categories(col)
        shares = np.array([col.value_shares[c] for c in cats], dtype=float)
        cum = np.cumsum(shares / shares.sum())
        codes = np.minimum(np.searchsorted(cum, u, side="right"), len(cats) - 1)
        return pd.Categorical.from_codes(codes, categories=cats)
    if col.value_shares and abs(sum(col.value_shares.values()) - 1) < 0.01 and not sentinel_share:
        vals = np.array(sorted(float(v) for v in col.value_shares), dtype=float)
        shares = np.array([col.value_shares[k] for k in sorted(col.value_shares, key=float)], dtype=float)
        cum = np.cumsum(shares / shares.sum())
        return vals[np.minimum(np.searchsorted(cum, u, side="right"), len(vals) - 1)]
    knots_v = np.array(col.quantiles, dtype=float)
    knots_p = P_KNOTS
    if sentinel_share:
        # The quantiles mix real offsets and the sentinel: keep the real part, rescaled to [0, 1].
        real = knots_v < SENTINEL_DAYS
        knots_p = np.append(P_KNOTS[real] / (1 - sentinel_share), 1.0)
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
# Clients and the application files.
# --------------------------------------------------------------------------------------------------------
@dataclass
class Clients:
    """The hidden state of every client, train and test together."""

    ids: np.ndarray
    is_test: np.ndarray
    risk: np.ndarray  # latent risk r, standard normal
    wealth: np.ndarray  # latent wealth, standard normal

    def __len__(self) -> int:
        return len(self.ids)


def make_clients(n_train: int, n_test: int, rng: np.random.Generator) -> Clients:
    """Contiguous Kaggle-like ids from 100002, shuffled between train and test."""
    n = n_train + n_test
    ids = 100002 + np.arange(n, dtype=np.int64)
    is_test = np.zeros(n, dtype=bool)
    is_test[rng.choice(n, size=n_test, replace=False)] = True
    return Clients(ids, is_test, rng.standard_normal(n), rng.standard_normal(n))


def _block_of(name: str) -> str | None:
    """The missing-together block of an application column, if any."""
    if name.startswith("AMT_REQ_CREDIT_BUREAU_"):
        return "bureau_requests"
    if name.endswith("_CNT_SOCIAL_CIRCLE"):
        return "social_circle"
    if name.endswith(("_AVG", "_MODE", "_MEDI")):
        return "building"
    return None


def test_shifts() -> dict[str, float]:
    """Copula shifts that give application_test the measured train -> test PSI of continuous columns.

    Seven quantiles hide most of a moderate drift, so these columns are drawn from the train marginal with
    their score moved by sqrt(PSI) (the PSI of a shifted normal is about the squared shift), in the
    direction the test quantiles move.
    """
    train, test = table("application_train"), table("application_test")
    shifts = {}
    for name, psi in raw_schema()["application_train_to_test_psi"]["psi"].items():
        col = train.column(name)
        if psi < DRIFT_MIN_PSI or col.kind == "category" or test.column(name).value_shares or not col.quantiles:
            continue
        moved = np.subtract(test.column(name).quantiles[1:6], col.quantiles[1:6])
        spread_ = max(col.quantiles[5] - col.quantiles[1], 1e-12)
        direction = np.sign(np.sum(moved / spread_)) or 1.0
        shifts[name] = float(direction * np.sqrt(psi))
    return shifts


def application(tab: Table, risk: np.ndarray, wealth: np.ndarray, rng: np.random.Generator,
                shifts: dict[str, float] | None = None):
    """One application file for clients with the given latent factors.

    ``tab`` gives the marginals (train or test); columns in ``shifts`` are drawn from the train marginal with
    their copula score shifted (the test drift). Returns the frame without ids/target and the copula scores
    the true model reads.
    """
    shifts = shifts or {}
    train = table("application_train")
    n = len(risk)
    scores: dict[str, np.ndarray] = {}
    frame: dict[str, object] = {}
    block_u = {b: rng.random(n) for b in MISSING_BLOCKS}
    building_z: dict[str, np.ndarray] = {}
    for col in tab.columns:
        name = col.name
        if name in ("SK_ID_CURR", "TARGET"):
            continue
        factors = []
        if name in APP_RISK:
            factors.append((APP_RISK[name], risk))
        if name in WEALTH:
            factors.append((WEALTH[name], wealth))
        if name in APP_TWINS:
            twin, rho = APP_TWINS[name]
            factors = [(rho, scores[twin] - shifts.get(twin, 0.0))]  # the twin's own drift is not inherited
        if name.endswith(("_AVG", "_MODE", "_MEDI")) and name.rsplit("_", 1)[0] in building_z:
            factors = [(0.97, building_z[name.rsplit("_", 1)[0]])]
        z = score(rng, n, *factors)
        if name.endswith(("_AVG", "_MODE", "_MEDI")):
            building_z.setdefault(name.rsplit("_", 1)[0], z)
        scores[name] = z
        if name in shifts:
            z = z + shifts[name]
            scores[name] = z
            col = train.column(name)
        if name != "DAYS_EMPLOYED":  # drawn below, once pensioners are known (they carry the sentinel)
            frame[name] = draw(col, uniform(z))
    out = pd.DataFrame(frame)

    # Pensioners (and the unemployed) have no employment: sentinel days, XNA organisation, no work phone.
    no_job = out["NAME_INCOME_TYPE"].isin(["Pensioner", "Unemployed"]).to_numpy()
    days_emp = tab.column("DAYS_EMPLOYED")
    real = draw(days_emp, uniform(scores["DAYS_EMPLOYED"]), sentinel_share=no_job.mean(), upper=0.0)
    out["DAYS_EMPLOYED"] = np.where(no_job, SENTINEL_DAYS, real)
    org = tab.column("ORGANIZATION_TYPE")
    orgs = draw(without(org, "XNA"), uniform(scores["ORGANIZATION_TYPE"]))
    out["ORGANIZATION_TYPE"] = pd.Categorical(np.where(no_job, "XNA", np.asarray(orgs, dtype=object)),
                                              categories=categories(org))
    out["FLAG_EMP_PHONE"] = np.where(no_job, 0, 1)
    # Pensioners are older: shift their age score, then re-rank so the marginal stays the measured one.
    age_z = scores["DAYS_BIRTH"] - 1.6 * no_job
    age_u = (np.argsort(np.argsort(age_z)) + 0.5) / n
    out["DAYS_BIRTH"] = draw(tab.column("DAYS_BIRTH"), age_u)
    scores["DAYS_BIRTH"] = age_z

    # Missing values: structural where the real file is structural, else at the measured rate.
    for col in tab.columns:
        name = col.name
        if name in ("SK_ID_CURR", "TARGET") or col.missing_rate == 0:
            continue
        if name == "OWN_CAR_AGE":
            mask = (out["FLAG_OWN_CAR"] == "N").to_numpy()
        elif name == "OCCUPATION_TYPE":
            extra = max(col.missing_rate - no_job.mean(), 0) / max(1 - no_job.mean(), 1e-9)
            mask = no_job | (rng.random(n) < extra)
        else:
            block = _block_of(name)
            mask = (block_u[block] if block else rng.random(n)) < col.missing_rate
        _missing(out, name, mask)
    cnt_children = out["CNT_CHILDREN"].to_numpy()
    out["CNT_FAM_MEMBERS"] = np.where(out["CNT_FAM_MEMBERS"].isna(), np.nan,
                                      np.maximum(out["CNT_FAM_MEMBERS"], cnt_children + 1))
    return _ints(out[[c for c in tab.column_names if c in out]], tab), scores


def true_logit(risk: np.ndarray, scores: dict[str, np.ndarray]) -> np.ndarray:
    """The hidden model, without intercept: latent risk plus a few direct, partly non-linear effects."""
    payment_rate = (scores["AMT_ANNUITY"] - scores["AMT_CREDIT"]) / np.sqrt(2)
    return (
        RISK_WEIGHT * risk
        + DIRECT_EFFECTS["payment_rate"] * np.abs(payment_rate)  # both unusually short and long terms
        + DIRECT_EFFECTS["DAYS_BIRTH"] * np.maximum(scores["DAYS_BIRTH"], -0.5)
        + DIRECT_EFFECTS["AMT_GOODS_PRICE"] * scores["AMT_GOODS_PRICE"]
    )


def intercept_for(logit: np.ndarray, rate: float) -> float:
    """The intercept that makes the mean probability equal the measured default rate (bisection)."""
    lo, hi = -15.0, 5.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if expit(logit + mid).mean() < rate else (lo, mid)
    return (lo + hi) / 2


# --------------------------------------------------------------------------------------------------------
# History tables.
# --------------------------------------------------------------------------------------------------------
FULL_CLIENTS = FULL_TRAIN_CLIENTS + FULL_TEST_CLIENTS


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
        values = draw(col, uniform(score(rng, n, *factors.get(col.name, []))))
        if col.missing_rate and col.name not in structural:
            mask = rng.random(n) < col.missing_rate
            if isinstance(values, pd.Categorical):
                values = values.remove_categories([]).copy()
                values[mask] = np.nan
            else:
                values = np.where(mask, np.nan, values)
        out[col.name] = values
    return pd.DataFrame(out)[tab.column_names]


def bureau(clients: Clients, rng, scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """bureau and bureau_balance: other lenders' credits and their monthly DPD statuses."""
    tab, bal = table("bureau"), table("bureau_balance")
    rel = _relation("bureau.SK_ID_CURR -> application.SK_ID_CURR")
    counts = children_per_parent(rng, len(clients), rel["distinct_clients"] / FULL_CLIENTS,
                                 rel["rows"] / rel["distinct_clients"])
    (client_id, r, w), _ = spread(counts, clients.ids, clients.risk, clients.wealth)
    n = len(client_id)
    credit_effect = rng.standard_normal(n)
    z_days = rng.standard_normal(n)
    active_score = score(rng, n, (0.15, r), (-0.5, z_days))
    status = allocate_by_rank(active_score, tab.column("CREDIT_ACTIVE"),
                              ["Closed", "Sold", "Active", "Bad debt"])
    active = np.asarray(status) != "Closed"
    closed = ~active
    overdue_z = score(rng, n, (0.85, r), (0.15, credit_effect))
    f = {
        "DAYS_CREDIT": [(1.0, z_days)],
        "DAYS_CREDIT_ENDDATE": [(0.6, z_days)],
        "DAYS_ENDDATE_FACT": [(0.9, z_days)],
        "DAYS_CREDIT_UPDATE": [(0.5, z_days)],
        "AMT_CREDIT_MAX_OVERDUE": [(0.9, overdue_z)],
        "CREDIT_DAY_OVERDUE": [(0.95, overdue_z)],
        "AMT_CREDIT_SUM_OVERDUE": [(0.95, overdue_z)],
    }
    sum_z = score(rng, n, (0.4, w))
    f["AMT_CREDIT_SUM"] = [(1.0, sum_z)]
    f["AMT_CREDIT_SUM_DEBT"] = [(0.55, sum_z), (0.55, r)]
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
    out = _ints(out, tab)

    # bureau_balance: a share of the credits reported monthly, plus balance ids with no bureau row.
    rel_b = _relation("bureau_balance.SK_ID_BUREAU -> bureau.SK_ID_BUREAU")
    n_bal = int(round(rel_b["distinct_bureau_ids"] * scale))
    n_orphans = int(round(n_bal * BALANCE_ORPHAN_SHARE))
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
    bal_risk = np.concatenate([r[linked], rng.standard_normal(n_orphans)])
    bal_closed = np.concatenate([np.nan_to_num(closed_months), rng.integers(0, 20, n_orphans)])
    bal_effect = np.concatenate([credit_effect[linked], rng.standard_normal(n_orphans)])
    (bid, br, bclosed, beff), pos = spread(bal_len, bal_ids, bal_risk, bal_closed, bal_effect)
    months = -pos  # 0 = the latest month, going back in time
    m = len(bid)
    status_col = bal.column("STATUS")
    # Exact shares: months after closing become C first, X (unknown) falls at random, then the riskiest
    # open months get the DPD buckets.
    after_close = (-months) < bclosed
    c_score = after_close * 2.0 + rng.random(m)
    x_score = rng.random(m)
    dpd_score = score(rng, m, (0.88, br), (0.15, beff))
    rank_score = np.where(c_score >= np.quantile(c_score, 1 - status_col.value_shares["C"]), -10.0,
                          np.where(x_score < status_col.value_shares["X"] / (1 - status_col.value_shares["C"]),
                                   -5.0, dpd_score))
    status_bal = allocate_by_rank(rank_score, status_col, ["C", "X", "0", "1", "2", "3", "4", "5"])
    balance = pd.DataFrame({"SK_ID_BUREAU": bid, "MONTHS_BALANCE": months.astype(np.int64), "STATUS": status_bal})
    return out, balance


def previous(clients: Clients, rng) -> pd.DataFrame:
    """previous_application: earlier Home Credit applications; risky clients are refused more often."""
    tab = table("previous_application")
    rel = _relation("previous_application.SK_ID_CURR -> application.SK_ID_CURR")
    counts = children_per_parent(rng, len(clients), rel["distinct_clients"] / FULL_CLIENTS,
                                 rel["rows"] / rel["distinct_clients"])
    (client_id, r, w), _ = spread(counts, clients.ids, clients.risk, clients.wealth)
    n = len(client_id)
    status = allocate_by_rank(score(rng, n, (0.8, r)), tab.column("NAME_CONTRACT_STATUS"),
                              ["Approved", "Unused offer", "Canceled", "Refused"])
    st = np.asarray(status, dtype=object)
    approved, refused = st == "Approved", st == "Refused"
    reasons = tab.column("CODE_REJECT_REASON")
    reason = np.where(refused, np.asarray(draw(without(reasons, "XAP"), rng.random(n)), dtype=object), "XAP")
    z_app, z_dec = score(rng, n, (0.5, w)), rng.standard_normal(n)
    f = {
        "AMT_APPLICATION": [(1.0, z_app)],
        "AMT_CREDIT": [(0.95, z_app)],
        "AMT_GOODS_PRICE": [(0.98, z_app)],
        "AMT_ANNUITY": [(0.7, z_app)],
        "CNT_PAYMENT": [(0.5, z_app)],
        "DAYS_DECISION": [(1.0, z_dec)],
    }
    for c in ("DAYS_FIRST_DUE", "DAYS_LAST_DUE_1ST_VERSION", "DAYS_LAST_DUE", "DAYS_TERMINATION",
              "DAYS_FIRST_DRAWING"):
        f[c] = [(0.9, z_dec)]
    out = columns_from_marginals(tab, n, rng, {
        "SK_ID_PREV": unique_ids(rng, 1_000_001, n),
        "SK_ID_CURR": client_id,
        "NAME_CONTRACT_STATUS": status,
        "CODE_REJECT_REASON": pd.Categorical(reason, categories=categories(reasons)),
    }, f, structural=(*PREV_SENTINEL_SHARE, "NFLAG_INSURED_ON_APPROVAL", "AMT_ANNUITY", "CNT_PAYMENT"))
    # Dates and insurance exist for approved credits (a few approved ones lack them, as in Kaggle).
    no_dates_rate = tab.column("DAYS_FIRST_DUE").missing_rate
    extra = max(no_dates_rate - (1 - approved.mean()), 0) / max(approved.mean(), 1e-9)
    no_dates = ~approved | (rng.random(n) < extra)
    for c in (*PREV_SENTINEL_SHARE, "NFLAG_INSURED_ON_APPROVAL"):
        col = tab.column(c)
        if c in PREV_SENTINEL_SHARE:
            share = PREV_SENTINEL_SHARE[c]
            real = draw(col, uniform(score(rng, n, (0.9, z_dec))), sentinel_share=share, upper=PREV_DAYS_MAX[c])
            values = np.where(rng.random(n) < share, float(SENTINEL_DAYS), real)
        else:
            values = out[c].to_numpy(dtype=float)
        out[c] = np.where(no_dates, np.nan, values)
    # Annuity and term are missing for offers never taken up.
    terms_rate = tab.column("AMT_ANNUITY").missing_rate
    not_taken = np.isin(st, ["Canceled", "Unused offer"])
    p_missing = np.where(not_taken, min(terms_rate / max(not_taken.mean(), 1e-9), 0.97), 0.0)
    p_missing = np.where(refused, max(terms_rate - p_missing.sum() / n, 0) / max(refused.mean(), 1e-9), p_missing)
    no_terms = rng.random(n) < p_missing
    for c in ("AMT_ANNUITY", "CNT_PAYMENT"):
        out[c] = np.where(no_terms, np.nan, out[c])
    return _ints(out, tab)


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
    term = draw(tab.column("CNT_INSTALMENT"), rng.random(len(parent)))
    term = np.where(parent["CNT_PAYMENT"].fillna(0).to_numpy() > 0, parent["CNT_PAYMENT"].fillna(0), term)
    (prev_id, curr_id, r, last, t, eff), pos = spread(counts, parent["SK_ID_PREV"].to_numpy(),
                                                      parent["SK_ID_CURR"].to_numpy(), parent_risk, latest, term,
                                                      rng.standard_normal(len(parent)))
    n = len(prev_id)
    months = last - (np.repeat(counts, counts) - 1 - pos)
    future = np.maximum(t - pos, 0).astype(float)
    dpd_z = score(rng, n, (0.88, r), (0.15, eff))
    base = columns_from_marginals(tab, n, rng, {
        "SK_ID_PREV": prev_id, "SK_ID_CURR": curr_id, "MONTHS_BALANCE": months.astype(np.int64),
        "CNT_INSTALMENT": t.astype(float), "CNT_INSTALMENT_FUTURE": future,
    }, {"SK_DPD": [(0.97, dpd_z)], "SK_DPD_DEF": [(0.9, dpd_z)]}, structural=("CNT_INSTALMENT", "CNT_INSTALMENT_FUTURE"))
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
    amount = draw(tab.column("AMT_INSTALMENT"), rng.random(len(parent)))
    amount = np.where(parent["AMT_ANNUITY"].notna(), parent["AMT_ANNUITY"].fillna(0), amount)
    version = draw(tab.column("NUM_INSTALMENT_VERSION"), rng.random(len(parent)))
    (prev_id, curr_id, r, last, amt, ver, eff), pos = spread(
        counts, parent["SK_ID_PREV"].to_numpy(), parent["SK_ID_CURR"].to_numpy(), parent_risk, last_due,
        amount, version, rng.standard_normal(len(parent)))
    n = len(prev_id)
    number = pos + 1
    due = np.maximum(last - 30.0 * (np.repeat(counts, counts) - number), -2922.0)
    late_z = score(rng, n, (0.88, r), (0.15, eff))
    delay = np.round(_interpolate(*PAYMENT_DELAY_KNOTS, uniform(late_z)))
    paid_day = np.minimum(due + delay, -1.0)
    short_z = score(rng, n, (0.8, r), (0.15, eff))
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
    limit = draw(tab.column("AMT_CREDIT_LIMIT_ACTUAL"), rng.random(len(parent)))
    (prev_id, curr_id, r, last, lim, eff), pos = spread(
        counts, parent["SK_ID_PREV"].to_numpy(), parent["SK_ID_CURR"].to_numpy(), parent_risk, latest, limit,
        rng.standard_normal(len(parent)))
    n = len(prev_id)
    months = last - (np.repeat(counts, counts) - 1 - pos)
    use_z = score(rng, n, (0.88, r), (0.2, eff))
    dpd_z = score(rng, n, (0.88, r), (0.15, eff))
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
        frame[c] = np.where(no_drawings, np.nan, draw(tab.column(c), rng.random(n)))
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

    Deterministic from ``seed``; files appear only once complete (written to a temporary folder first).
    Returns the rows written per table.
    """
    if n_clients < 100 or n_test_clients < 1:
        raise ValueError("need at least 100 train clients and 1 test client")
    out_dir, truth_file = Path(out_dir), Path(truth_file)
    seeds = np.random.SeedSequence(seed).spawn(6)
    rng_clients, rng_app, rng_bureau, rng_prev, rng_months, rng_target = (np.random.default_rng(s) for s in seeds)
    clients = make_clients(n_clients, n_test_clients, rng_clients)
    scale = len(clients) / FULL_CLIENTS
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".synth-", dir=out_dir.parent))
    rows: dict[str, int] = {}
    t0 = time.perf_counter()

    def emit(name: str, frame: pd.DataFrame) -> None:
        write_csv(frame, tmp / table(name).file)
        rows[name] = len(frame)
        log(f"  {name}: {len(frame):,} rows ({time.perf_counter() - t0:.0f} s)")

    try:
        logits, ids_all = [], []
        for name, mask in (("application_train", ~clients.is_test), ("application_test", clients.is_test)):
            shifts = test_shifts() if name == "application_test" else None
            app, scores = application(table(name), clients.risk[mask], clients.wealth[mask], rng_app, shifts)
            logit = true_logit(clients.risk[mask], scores)
            ids = clients.ids[mask]
            head = {"SK_ID_CURR": ids}
            logits.append(logit)
            ids_all.append(ids)
            if name == "application_train":
                intercept = intercept_for(logit, TARGET_RATE)
                head["TARGET"] = (rng_target.random(len(ids)) < expit(logit + intercept)).astype(np.int64)
            emit(name, pd.concat([pd.DataFrame(head), app], axis=1))
        pd_true = expit(np.concatenate(logits) + intercept)
        truth = pd.DataFrame({"SK_ID_CURR": np.concatenate(ids_all), "PD": np.round(pd_true, 10)})
        truth.sort_values("SK_ID_CURR").to_csv(tmp / "truth.csv", index=False)
        del app, scores

        bur, bal = bureau(clients, rng_bureau, scale)
        emit("bureau", bur)
        del bur
        emit("bureau_balance", bal)
        del bal
        prev = previous(clients, rng_prev)
        emit("previous_application", prev)
        for name, frame in monthly_histories(prev, clients, rng_months).items():
            emit(name, frame)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in rows:
            os.replace(tmp / table(name).file, out_dir / table(name).file)
        truth_file.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / "truth.csv", truth_file)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


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
