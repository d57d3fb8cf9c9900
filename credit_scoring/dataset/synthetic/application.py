"""The application files drawn from the copula: amounts tied as in the real file, employment,
identity papers, building summaries and missing values in their measured blocks."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy.special import ndtri

from credit_scoring.dataset.schema import SENTINEL_DAYS, Table, table
from credit_scoring.dataset.synthetic import fidelity
from credit_scoring.dataset.synthetic.conditionals import MISSING, conditional_draw, conditional_uniform, pair_table
from credit_scoring.dataset.synthetic.copula import (
    COUPLE,
    DERIVED_COLUMNS,
    MISSING_WITH_AGE,
    PSEUDO_COLUMNS,
    AppModel,
    app_copula,
    building_group,
    employed_marginal,
    fit_truth,
)
from credit_scoring.dataset.synthetic.marginals import categories, set_missing, tab_share, uniform, with_int_dtypes


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
    drawn = draw_values(tab, len(history), rng)
    frame = pd.DataFrame(drawn.values)
    seen = _what_the_truth_reads(frame, tab, model, history, rng)
    return with_int_dtypes(frame[[c for c in tab.column_names if c in frame]], tab), model.app_part(seen)


CALIBRATION_ROWS = 40_000


@cache
def app_model() -> AppModel:
    """The hidden truth's weights, fitted to the file as drawn: the correlations of the values' scores are
    measured on a seeded calibration file (the joint draws make them other than the copula's), then each
    column gets the weight that gives it its measured univariate AUC."""
    tab = table("application_train")
    drawn = draw_values(tab, CALIBRATION_ROWS, np.random.default_rng(CALIBRATION_SEED))
    copula = app_copula()
    scores = observed_scores(pd.DataFrame(drawn.values), copula.names)
    return fit_truth(copula, scores)


CALIBRATION_SEED = 5


@dataclass(frozen=True)
class Drawn:
    """An application file's values before missing values are cut, and who has no job."""

    values: dict[str, object]
    no_job: np.ndarray


# The categories in drawing order: the person's first (age depends on them, retirement on age), then the job's
# (within the person's and retirement: no job, no employer), then the building's (within the employer's).
PERSONAL_CATEGORIES = ("NAME_CONTRACT_TYPE", "CODE_GENDER", "FLAG_OWN_CAR", "FLAG_OWN_REALTY", "NAME_HOUSING_TYPE",
                       "NAME_FAMILY_STATUS", "NAME_EDUCATION_TYPE", "NAME_TYPE_SUITE", "WEEKDAY_APPR_PROCESS_START")
JOB_CATEGORIES = ("NAME_INCOME_TYPE", "OCCUPATION_TYPE", "ORGANIZATION_TYPE")
BUILDING_CATEGORIES = ("EMERGENCYSTATE_MODE", "HOUSETYPE_MODE", "WALLSMATERIAL_MODE", "FONDKAPREMONT_MODE")
ALL_CATEGORIES = (*PERSONAL_CATEGORIES, *JOB_CATEGORIES, *BUILDING_CATEGORIES)
# Columns decided by rules rather than drawn as numbers: employment, identity papers, amounts, family size.
RULED_COLUMNS = ("FLAG_EMP_PHONE", "DAYS_EMPLOYED", "DAYS_ID_PUBLISH", *DERIVED_COLUMNS)
# What having no job allows (pensioners and the unemployed have no employer and say no occupation); the
# occupation is drawn with <missing> as a level (no job, or not said).
NO_JOB_LEVELS = {"NAME_INCOME_TYPE": ("Pensioner", "Unemployed"), "OCCUPATION_TYPE": (MISSING,),
                 "ORGANIZATION_TYPE": ("XNA",)}
DRAWN_MISSING = ("OCCUPATION_TYPE",)


def draw_values(tab: Table, n: int, rng: np.random.Generator) -> Drawn:
    """Every column of the file, in the order their dependences ask: the person's categories together, age
    (within them), who has retired, the job's categories (within the person's, no job meaning no employer),
    the building's, the numbers (each within its strongest category), then the rules tying amounts, dates
    and building summaries."""
    copula = app_copula()
    z = rng.standard_normal((n, len(copula.names))) @ copula.chol.T
    col = {name: z[:, i] for i, name in enumerate(copula.names)}
    joint = joint_model(tab.name)
    out: dict[str, object] = {}
    for name in PERSONAL_CATEGORIES:
        out[name] = joint.draw(name, out, uniform(col[name]))
    out["DAYS_BIRTH"] = _number(tab, "DAYS_BIRTH", col, out, joint)
    gender = np.asarray(out["CODE_GENDER"], dtype=object)
    no_job = retired(np.asarray(out["DAYS_BIRTH"]), gender, uniform(col["FLAG_EMP_PHONE"]),
                     1 - tab_share(tab.name, "FLAG_EMP_PHONE", 1.0)) == 1
    out["FLAG_EMP_PHONE"] = np.where(no_job, 0.0, 1.0)
    strata = np.where(no_job, "no job", "job")
    for name in JOB_CATEGORIES + BUILDING_CATEGORIES:
        out[name] = joint.draw(name, out, uniform(col[name]), strata=strata if name in JOB_CATEGORIES else None)
    for name in copula.names:
        if name not in out and name in tab.column_names and name not in (*PSEUDO_COLUMNS, *RULED_COLUMNS):
            out[name] = _number(tab, name, col, out, joint)
    drawn = id_publish_marginal(tab.name)(uniform(col["DAYS_ID_PUBLISH"]))
    out["DAYS_ID_PUBLISH"] = id_publish_days(np.asarray(out["DAYS_BIRTH"]), drawn, rng.random(n))
    on_train = joint.within("DAYS_EMPLOYED", uniform(col["DAYS_EMPLOYED"]), out, employed_marginal("application_train"))
    days = employed_marginal(tab.name)(on_train)
    days = np.maximum(days, np.asarray(out["DAYS_BIRTH"]) + 18 * 365)  # worked since 18 at the earliest
    out["DAYS_EMPLOYED"] = np.where(no_job, float(SENTINEL_DAYS), np.minimum(days, -1.0))
    _amounts(out, tab, col)
    couple = np.isin(np.asarray(out["NAME_FAMILY_STATUS"], dtype=object), COUPLE)
    out["CNT_FAM_MEMBERS"] = np.asarray(out["CNT_CHILDREN"]) + np.where(couple, 2.0, 1.0)
    _building_summaries(out, tab, col, rng)
    for name in ALL_CATEGORIES:  # <missing> becomes a missing value
        values = np.asarray(out[name], dtype=object)
        out[name] = pd.Categorical(np.where(values == MISSING, None, values), categories=categories(tab.column(name)))
    return Drawn(out, no_job)


def _number(tab: Table, name: str, col: dict[str, np.ndarray], out: dict[str, object], joint: JointModel):
    """A numeric column from its marginal, its copula uniform moved within its strongest drawn category (kept
    in ``col`` as the column's score: a building's median and mode follow its average's)."""
    integer = tab.column(name).kind == "integer"
    # The facts' quantiles are places on the train scale: a test file keeps its own marginal (its drift).
    u = joint.within(name, uniform(col[name]), out, fidelity.marginal("application_train", name, integer=integer))
    col[name] = ndtri(u)
    return fidelity.marginal(tab.name, name, integer=integer)(u)


@dataclass(frozen=True)
class JointModel:
    """The measured pairs of categories as joint tables, and each number's strongest category."""

    tables: dict[tuple[str, str], pd.DataFrame]  # (parent, child) -> parent levels x child levels
    levels: dict[str, list[str]]  # each category's levels in risk order (<missing> first where drawn)
    shares: dict[str, np.ndarray]
    by_category: dict[str, tuple[tuple[str, dict], ...]]  # number -> its categories' quantiles by level

    def draw(self, name: str, out: dict[str, object], u: np.ndarray, strata: np.ndarray | None = None):
        """A category's levels given the categories drawn before it (its parents in the measured pairs)."""
        parents = {p: out[p] for (p, c) in self.tables if c == name and p in out}
        allowed = None
        if strata is not None and name in NO_JOB_LEVELS:
            levels = np.asarray(self.levels[name], dtype=object)
            forced = np.isin(levels, NO_JOB_LEVELS[name])
            job = ~forced | (levels == MISSING) if name in DRAWN_MISSING else ~forced
            allowed = {"no job": forced.astype(float), "job": job.astype(float)}
        return conditional_draw(parents, {p: self.tables[(p, name)] for p in parents}, self.levels[name],
                                self.shares[name], u, strata=strata, strata_allowed=allowed)

    def within(self, name: str, u: np.ndarray, out: dict[str, object], marginal) -> np.ndarray:
        """A number's uniforms moved within the levels of its categories drawn so far (unchanged without)."""
        facts = {c: levels for c, levels in self.by_category.get(name, ()) if c in out}
        if not facts:
            return u
        return conditional_uniform(u, {c: out[c] for c in facts}, facts, marginal)


@cache
def joint_model(table_name: str) -> JointModel:
    """The application file's joint facts as the drawing needs them (the facts measure pairs on train rows;
    they serve the test file too, each file keeping its own shares)."""
    tab = table(table_name)
    joint = fidelity.facts()["application_train_joint"]
    levels, shares = {}, {}
    for name in ALL_CATEGORIES:
        column = tab.column(name)
        cats = categories(column)
        present = np.array([column.value_shares[c] for c in cats], dtype=float)
        present /= present.sum()
        if name in DRAWN_MISSING:
            levels[name] = [MISSING, *cats]
            shares[name] = np.concatenate([[column.missing_rate], present * (1 - column.missing_rate)])
        else:
            levels[name], shares[name] = cats, present
    order = {n: i for i, n in enumerate(ALL_CATEGORIES)}
    tables = {}
    for pair, spec in joint["category_pairs_cramers_v_ge_0_1"].items():
        a, _, b = pair.partition("|")
        if a not in order or b not in order:
            continue
        cells = dict(spec["cells_ge_0_5pct"])
        if order[a] > order[b]:
            a, b = b, a
            cells = {_swapped(k, levels[b], levels[a]): v for k, v in cells.items()}
        tables[(a, b)] = pair_table(_present_cells(cells, a, b, levels, tab), dict(zip(levels[a], shares[a])),
                                    dict(zip(levels[b], shares[b])))
    found: dict[str, list[tuple[float, str, dict]]] = {}
    for pair, spec in joint["numeric_by_category_eta_ge_0_1"].items():
        category, _, number = pair.partition("->")
        if category not in order or (number in RULED_COLUMNS and number != "DAYS_EMPLOYED"):
            continue
        if (number == "DAYS_BIRTH" and category not in PERSONAL_CATEGORIES) or _is_building_summary(number):
            continue  # age comes before the job; a building's median and mode follow its average
        found.setdefault(number, []).append((spec["eta_on_ranks"], category, spec["by_level"]))
    by_category = {number: tuple((c, lv) for _, c, lv in sorted(specs, key=lambda s: -s[0])[:MAX_CATEGORIES])
                   for number, specs in found.items()}
    return JointModel(tables, levels, shares, by_category)


MAX_CATEGORIES = 4  # a number follows its strongest categories (by rank eta), at most this many


def _swapped(cell: str, first: list[str], second: list[str]) -> str:
    """"x|y" written "y|x" (a level may hold a "|": split where both sides are levels)."""
    known_first, known_second = {*first, MISSING}, {*second, MISSING}
    for cut, char in enumerate(cell):
        if char == "|" and cell[:cut] in known_first and cell[cut + 1:] in known_second:
            return f"{cell[cut + 1:]}|{cell[:cut]}"
    return cell


def _present_cells(cells: dict[str, float], parent: str, child: str, levels: dict[str, list[str]],
                   tab: Table) -> dict[str, float]:
    """The cells among the levels drawn. Where a side's missing values are cut later (the building block, the
    suite), its <missing> cells are left out and the rest rescaled to the rows where both sides are known."""
    kept = {}
    for cell, share in cells.items():
        if cell.startswith(f"{MISSING}|") and MISSING not in levels[parent]:
            continue
        if cell.endswith(f"|{MISSING}") and MISSING not in levels[child]:
            continue
        kept[cell] = share
    present = [1.0 if MISSING in levels[c] else 1 - tab.column(c).missing_rate for c in (parent, child)]
    known = max(sum(kept.values()), min(present))
    return {k: v / known for k, v in kept.items()}


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
                          rng) -> np.ndarray:
    """Cut the missing values (tied to the risk the complete row shows), then return the copula's variables as
    the file finally shows them: a missing value counts as what missing values of its column say on average."""
    n = len(frame)
    seen = observed_scores(frame, model.names)
    _apply_missing(frame, tab, model, model.app_part(seen) + model.history_weight * history, rng)
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


def _apply_missing(frame: pd.DataFrame, tab: Table, model: AppModel, logit: np.ndarray, rng) -> None:
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
