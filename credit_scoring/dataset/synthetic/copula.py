"""The hidden truth of the application file: one Gaussian copula over the measured rank
correlations, and the logit weights that give each column its measured univariate AUC."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.optimize import lsq_linear
from scipy.special import expit, ndtri

from credit_scoring.dataset.schema import SENTINEL_DAYS, Table, table
from credit_scoring.dataset.synthetic import fidelity
from credit_scoring.dataset.synthetic.marginals import TARGET_RATE, uniform

# --------------------------------------------------------------------------------------------------------
# The application files: one Gaussian copula over the measured facts.
# --------------------------------------------------------------------------------------------------------
# The hidden truth: logit PD = intercept + scale * (a'z + b h), z the application columns' normal scores,
# h the client's history behaviour (seen only through the history tables). The scale makes the AUC of the
# true probabilities BAYES_AUC; a follows each column's measured univariate AUC (fidelity.json) through the
# columns' measured correlations; what the application table cannot explain is left to h.
# EXT_SOURCE_1 is missing far more often for older clients (about 40 % under 35, over 70 % past 60 in real
# rows); the facts give missingness only against other missingness, so this is the one rule read from the
# sample's age profile: the correlation of its "is missing" score with age.
MISSING_WITH_AGE = {"EXT_SOURCE_1": 0.35}
BAYES_AUC = 0.81
FIT_FLOOR = 0.1  # the weighted fit: each column's wanted correlation counts |wanted| + this
RIDGE = 0.02  # keeps the weights of near-twin columns (building AVG/MEDI/MODE) from fighting each other
MAX_APP_SHARE = 0.75  # the application table explains at most this share of the logit's variance (the rest
# is the history's: at 0.78 the history tables added only +0.017 AUC, against +0.03 to +0.045 on real data; at
# 0.72 the application-only model fell under the real 0.753 at 12,000 rows: 0.743 against 0.750 at 0.75)
# What real-data models learn beyond each column alone: the loan's length (the payment rate) and its price
# (the goods-to-credit ratio) bend, the shortest and the longest, the cheapest and the dearest costing most.
# Squares of the observed normal scores, with their coefficients in the standardized logit; they leave every
# column's own AUC where it was. (Products of age with the external scores were tried: at 12,000 rows a model
# learns them too slowly, and they took the signal the application-only model should find.)
INTERACTIONS = (
    ("TERM", "TERM", 0.12),
    ("GOODS_RATIO", "GOODS_RATIO", 0.08),
)
# Columns that weigh of their own in the real-data model (application_only_model's mean |SHAP|: age, the first
# external score, education, registration, the car's age, gender): the least-squares fit would let correlated
# columns carry their signal, so their weights keep at least these sizes.
MIN_WEIGHT = {"DAYS_BIRTH": 0.15, "EXT_SOURCE_1": 0.15, "NAME_EDUCATION_TYPE": 0.08, "DAYS_REGISTRATION": 0.06,
              "OWN_CAR_AGE": 0.05, "CODE_GENDER": 0.05}
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


def building_group(name: str) -> str | None:
    return name.rsplit("_", 1)[0] if name.endswith(BUILDING_SUFFIXES) else None


def _discreteness(spec: dict) -> float:
    """The share of a normal score's correlation a column keeps once cut into its real values."""
    masses = np.array(list(spec.get("point_masses", {}).values()), dtype=float)
    covered = masses.sum()
    if covered < 0.9:
        return 1.0
    return fidelity.polyserial_factor(np.append(masses, max(1 - covered, 0.0)))


def employed_marginal(tab_name: str) -> fidelity.Marginal:
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
    interactions: tuple[tuple[int, int, float], ...] = ()  # (i, j, c): c times the product of two scores
    centre: np.ndarray | float = 0.0  # the scores' mean and spread on the calibration file
    spread: np.ndarray | float = 1.0

    def app_part(self, scores: np.ndarray) -> np.ndarray:
        """The application part of the logit: the weighted standardized scores and their interactions."""
        scores = (scores - self.centre) / self.spread
        out = scores @ self.weights
        for i, j, c in self.interactions:
            out = out + c * scores[:, i] * scores[:, j]
        return out


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


@dataclass(frozen=True)
class AppCopula:
    """The copula the application file is drawn from, and what the truth wants of each drawn column."""

    names: tuple[str, ...]  # the copula's variables: numeric columns, categories, the two ratios
    chol: np.ndarray  # Cholesky factor of their correlation
    wanted: np.ndarray  # correlation of each variable's observed score with the true logit (signed)
    scale: float
    intercept: float


@cache
def app_copula() -> AppCopula:
    """The copula's correlations and the logit's scale, from fidelity.json alone."""
    tab = table("application_train")
    numeric = fidelity.facts()["tables"]["application_train"]["numeric_columns"]
    names = [c.name for c in tab.columns if c.name not in ("SK_ID_CURR", "TARGET", *DERIVED_COLUMNS)]
    names += list(PSEUDO_COLUMNS)
    eta = np.array([max(_discreteness(numeric[n]), 0.7) if n in numeric else 1.0 for n in names])
    # Scale and intercept of the logit: AUC of the true probabilities and the measured default rate; then the
    # correlation each column's score needs with the logit for its measured univariate AUC.
    scale, intercept = _logit_scale(BAYES_AUC, TARGET_RATE)
    grid, aucs = fidelity.auc_curve(scale, intercept)
    wanted, latent = np.zeros(len(names)), np.zeros(len(names))
    for i, n in enumerate(names):
        auc = PSEUDO_AUC.get(n) or fidelity.signal(n).get("auc", 0.5)
        sign = RISK_SIGN.get(n, -1 if building_group(n) else 1)
        cut = eta[i]
        if n in tab.column_names and tab.column(n).kind == "category":
            if tab.column(n).missing_rate >= 0.3:
                continue  # the building categories' signal is their missing record (the missingness copula)
            cut = fidelity.polyserial_factor(np.array(list(tab.column(n).value_shares.values())))
        wanted[i] = sign * min(fidelity.auc_to_correlation(auc, grid, aucs), 0.9)
        latent[i] = sign * min(fidelity.auc_to_correlation(auc, grid, aucs) / max(cut, 0.3), 0.9)
    corr = _app_correlation(names, eta, latent)
    return AppCopula(tuple(names), np.linalg.cholesky(corr), wanted, scale, intercept)


def fit_truth(copula: AppCopula, scores: np.ndarray) -> AppModel:
    """The hidden logit over the observed ``scores`` of a calibration file (standardized on it): the weights whose
    correlations with the scores come closest to the wanted ones, each with the sign of its column's own
    risk (a column never lowers the risk its direction says it raises) and a ridge penalty; then the
    interactions (INTERACTIONS), which add what no column shows alone."""
    names, target = list(copula.names), copula.wanted
    centre, spread = scores.mean(axis=0), scores.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)  # a constant score counts for nothing
    scores = (scores - centre) / spread
    corr = np.nan_to_num(scores.T @ scores / len(scores))
    np.fill_diagonal(corr, 1.0)
    sign = np.where(target < 0, -1.0, 1.0)
    importance = np.abs(target) + FIT_FLOOR  # a strong column's miss costs more than a weak one's
    design = np.vstack([corr * sign * importance[:, None], np.sqrt(RIDGE) * np.eye(len(names))])
    floor = np.array([MIN_WEIGHT.get(n, 0.0) for n in names])
    fit = lsq_linear(design, np.concatenate([target * importance, np.zeros(len(names))]), bounds=(floor, np.inf))
    weights = sign * fit.x
    interactions = tuple((names.index(a), names.index(b), c) for a, b, c in INTERACTIONS)
    model = AppModel(tuple(names), copula.chol, weights, 0.0, copula.scale, (), np.eye(1), np.zeros(0), interactions)
    explained = float(np.var(model.app_part(scores)))
    if explained > MAX_APP_SHARE:
        shrink = np.sqrt(MAX_APP_SHARE / explained)
        weights *= shrink
        interactions = tuple((i, j, c * shrink) for i, j, c in interactions)
        explained = MAX_APP_SHARE
    age_corr = float((corr @ weights)[names.index("DAYS_BIRTH")])
    tab = table("application_train")
    missing_names, missing_chol, missing_link = _missingness(tab, copula.scale, copula.intercept, age_corr)
    return AppModel(tuple(names), copula.chol, weights, float(np.sqrt(1 - explained)),
                    copula.scale, missing_names, missing_chol, missing_link, interactions, centre, spread)


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
