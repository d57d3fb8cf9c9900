"""The application files drawn from the copula: amounts tied as in the real file, employment,
identity papers, building summaries and missing values in their measured blocks."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from scipy.special import ndtri

from credit_scoring.dataset.schema import SENTINEL_DAYS, Table, table
from credit_scoring.dataset.synthetic import fidelity
from credit_scoring.dataset.synthetic.copula import (
    COUPLE,
    MISSING_WITH_AGE,
    PSEUDO_COLUMNS,
    AppModel,
    app_model,
    building_group,
    employed_marginal,
)
from credit_scoring.dataset.synthetic.marginals import categories, draw, set_missing, uniform, with_int_dtypes, without


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
    return with_int_dtypes(frame[[c for c in tab.column_names if c in frame]], tab), seen @ model.weights


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
    days = employed_marginal(tab.name)(uniform(col["DAYS_EMPLOYED"]))
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
    for group in sorted({building_group(c) for c in out if building_group(c)}):
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
            seniority = employed_marginal("application_train").score(np.where(employed, days, -1.0))
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
            set_missing(frame, name, latent[:, i] < ndtri(tab.column(name).missing_rate))
    for name in model.missing_names:  # a building statistic is known for all three summaries or for none
        if _is_building_summary(name):
            set_missing(frame, name, frame[f"{building_group(name)}_AVG"].isna().to_numpy())
    for leader, followers in MISSING_TOGETHER.items():
        for name in followers:
            set_missing(frame, name, frame[leader].isna().to_numpy())
    set_missing(frame, "OWN_CAR_AGE", (frame["FLAG_OWN_CAR"] == "N").to_numpy())
    occupation = tab.column("OCCUPATION_TYPE").missing_rate
    extra = max(occupation - no_job.mean(), 0) / max(1 - no_job.mean(), 1e-9)
    set_missing(frame, "OCCUPATION_TYPE", no_job | (rng.random(n) < extra))
