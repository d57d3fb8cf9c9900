"""The six history tables: rows per client and per credit that reflect the client's hidden
history behaviour through persistent effects with row-level noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, ndtri

from credit_scoring.dataset.schema import SENTINEL_DAYS, Column, Table, raw_schema, table
from credit_scoring.dataset.synthetic import fidelity
from credit_scoring.dataset.synthetic.copula import AppModel, intercept_for
from credit_scoring.dataset.synthetic.marginals import (
    BALANCE_ORPHAN_SHARE,
    FULL_TEST_CLIENTS,
    FULL_TRAIN_CLIENTS,
    TARGET_RATE,
    Clients,
    categories,
    draw,
    interpolate,
    score,
    tab_share,
    uniform,
    with_int_dtypes,
)
from credit_scoring.dataset.synthetic.rows import draw_rows

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
    debt_z = score(rng, n, (0.4, w), (HISTORY_SIGNAL["bureau_debt"][0], r))
    out = draw_rows("bureau", n, rng, {
        "SK_ID_CURR": client_id, "SK_ID_BUREAU": unique_ids(rng, 5_000_000, n), "CREDIT_ACTIVE": status,
    }, number_z={"DAYS_CREDIT": (0.8, z_days), "DAYS_ENDDATE_FACT": (0.7, z_days), "DAYS_CREDIT_ENDDATE": (0.6, z_days),
                 "AMT_CREDIT_MAX_OVERDUE": (0.9, overdue_z),
                 "CREDIT_DAY_OVERDUE": (0.95, overdue_z), "AMT_CREDIT_SUM_OVERDUE": (0.95, overdue_z),
                 "AMT_CREDIT_SUM": (0.4, w), "AMT_CREDIT_SUM_DEBT": (0.8, debt_z)})
    bureau_accounting(out, closed, rng)
    return BureauCredits(with_int_dtypes(out, tab), r, credit_effect, closed)


# Measured day orderings of closed credits (fidelity.json, bureau): the planned end equals the actual one for
# about a third, the last update is the closing day for about a quarter.
ENDED_ON_PLAN = 0.34  # of those whose planned end is past: 0.31 of all closed credits
UPDATED_AT_CLOSING = 0.26
DAYS_PER_MONTH = 365.25 / 12
WHOLE_MONTHS, WHOLE_YEARS = 0.62, 0.55  # shares of planned terms in whole months, and of those in whole years
OPEN_PAST_END = 0.1  # share of open credits whose planned end has passed (real: the 10th percentile is +21 days)
UPDATE_AFTER_CLOSING = 120.0  # mean days from closing to the last report (real: median 4, 75th percentile 52)


def bureau_accounting(out: pd.DataFrame, closed: np.ndarray, rng) -> None:
    """The rules of a bureau record over the drawn values: a credit ends (planned and actual) after it
    starts and is updated after that; a closed credit has its actual end (on the planned date for some,
    updated on its closing day for some) and owes nothing; an open one has no actual end."""
    n = len(out)
    start = out["DAYS_CREDIT"].to_numpy(dtype=float)

    def after(day: np.ndarray, floor: np.ndarray) -> np.ndarray:
        """``day`` where it comes after ``floor``, else a day between ``floor`` and yesterday."""
        return np.where(day > floor, day, floor + np.ceil(rng.random(n) * np.maximum(-1.0 - floor, 0.0)))

    planned = out["DAYS_CREDIT_ENDDATE"].to_numpy(dtype=float)
    planned = np.where(planned <= start, start + np.abs(planned - start) + 1, planned)
    # Credits are granted for whole months, many for whole years.
    months = np.maximum(np.round((planned - start) / DAYS_PER_MONTH), 1)
    years = np.maximum(np.round(months / 12), 1)
    term = np.where(rng.random(n) < WHOLE_YEARS, years * 12, months)
    planned = np.where(rng.random(n) < WHOLE_MONTHS, start + np.round(term * DAYS_PER_MONTH), planned)
    # An open credit's planned end is still to come, but for a few overdue ones.
    overdue = rng.random(n) < OPEN_PAST_END
    planned = np.where(~closed & (planned < 0) & ~overdue, np.abs(planned), planned)
    update = after(out["DAYS_CREDIT_UPDATE"].to_numpy(dtype=float), start)
    ended = out["DAYS_ENDDATE_FACT"].to_numpy(dtype=float)
    ended = np.where(np.isnan(ended), np.where(np.isnan(planned), update, np.minimum(planned, -1.0)), ended)
    ended = np.maximum(np.minimum(after(ended, start), -1.0), start)
    ended = np.where((rng.random(n) < ENDED_ON_PLAN) & (planned <= -1), planned, ended)
    # A closed credit is reported once more soon after it closes (on the day itself for some).
    gap = np.where(rng.random(n) < UPDATED_AT_CLOSING, 0.0, np.round(rng.exponential(UPDATE_AFTER_CLOSING, n)))
    update = np.where(closed, np.maximum(np.minimum(ended + gap, -1.0), ended), update)
    out["DAYS_CREDIT_ENDDATE"] = planned
    out["DAYS_ENDDATE_FACT"] = np.where(closed, ended, np.nan)
    out["DAYS_CREDIT_UPDATE"] = update
    for c in ("CREDIT_DAY_OVERDUE", "AMT_CREDIT_SUM_OVERDUE"):
        out[c] = np.where(closed, 0.0, out[c])
    out["AMT_CREDIT_SUM_DEBT"] = np.where(closed & out["AMT_CREDIT_SUM_DEBT"].notna(), 0.0,
                                          out["AMT_CREDIT_SUM_DEBT"])


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
    """previous_application: earlier Home Credit applications, drawn as whole rows (``rows``): the status
    from the client's behaviour (risky clients are refused more often), the product's categories together,
    amounts and dates within them; then the accounting of a credit file (``credit_accounting``)."""
    tab = table("previous_application")
    client_id, r, w = _client_rows(clients, rng, "previous_application")
    n = len(client_id)
    status = allocate_by_rank(_signal("previous_status", rng, r), tab.column("NAME_CONTRACT_STATUS"),
                              ["Approved", "Unused offer", "Canceled", "Refused"])
    out = draw_rows("previous_application", n, rng, {
        "SK_ID_PREV": unique_ids(rng, 1_000_001, n), "SK_ID_CURR": client_id, "NAME_CONTRACT_STATUS": status,
    }, number_z={"AMT_APPLICATION": (0.5, w)}, structural=APPROVAL_COLUMNS)  # wealthier clients ask for more
    credit_accounting(out, rng)
    return with_int_dtypes(out, tab)


# The price of credit by yield group (a normal score: higher, dearer), the one input besides the term that
# sets the total repaid per unit lent.
YIELD_SCORE = {"low_action": -1.5, "low_normal": -0.6, "middle": 0.3, "high": 1.2, "XNA": 0.0}
FIRST_DUE_DAYS, FIRST_DUE_SLACK = 30.0, 4.0  # first instalment: a month after the decision, or a little later
APPROVAL_COLUMNS = ("DAYS_FIRST_DRAWING", "DAYS_FIRST_DUE", "DAYS_LAST_DUE_1ST_VERSION", "DAYS_LAST_DUE",
                    "DAYS_TERMINATION", "NFLAG_INSURED_ON_APPROVAL")
DRAWN_ON_DECISION = 0.156  # share of first drawings on the decision's day (the facts' day orderings)
ZERO_ASKED_WITH_CREDIT = 0.17  # share of zero applications that still carry a credit (0.037 of non-zero credits)


def credit_accounting(out: pd.DataFrame, rng) -> None:
    """The rules a credit file obeys, over the drawn values: the goods price is what was applied for; the
    credit is the application over its measured ratio (insurance and fees on top, or less granted); the
    annuity repays the credit over its term at the measured price of credit (its yield group, its term);
    the dates follow the decision in their measured order (365243 kept where the file says "not yet")."""
    n = len(out)
    facts = fidelity.facts()["history_dependence"]["previous_application"]
    refused = (out["NAME_CONTRACT_STATUS"] == "Refused").to_numpy()
    out.loc[~refused, "CODE_REJECT_REASON"] = "XAP"  # only a refusal has a reason
    # Goods are priced exactly where something was asked for (the facts: equal in 99.99 % of the rows with both).
    asked = out["AMT_GOODS_PRICE"].notna().to_numpy()
    drawn = out["AMT_APPLICATION"].to_numpy(dtype=float)
    application = np.where(asked, np.where(drawn > 0, drawn, out["AMT_GOODS_PRICE"].to_numpy(dtype=float)), 0.0)
    out["AMT_APPLICATION"] = application
    ratio = _ratio_marginal(facts["amount_ratios_rho_ge_0_5"]["AMT_APPLICATION/AMT_CREDIT"], positive=True)
    # Nothing asked, mostly nothing granted: the measured share of zero applications among non-zero credits.
    kept = rng.random(n) < ZERO_ASKED_WITH_CREDIT
    credit = np.where(asked, np.round(application / ratio(rng.random(n)) * 2) / 2,
                      np.where(kept, out["AMT_CREDIT"].to_numpy(), 0.0))
    out["AMT_CREDIT"] = credit
    out["AMT_GOODS_PRICE"] = np.where(asked, application, np.nan)
    term = out["CNT_PAYMENT"].to_numpy(dtype=float)
    yield_score = out["NAME_YIELD_GROUP"].astype(object).map(YIELD_SCORE).fillna(0.0).to_numpy(dtype=float)
    term_score = ndtri(np.clip(pd.Series(term).rank(pct=True).fillna(0.5).to_numpy(), 1e-6, 1 - 1e-6))
    price = uniform(0.6 * yield_score / 1.2 + 0.4 * term_score + 0.5 * rng.standard_normal(n))
    repaid = _ratio_marginal(facts["derived"]["CNT_PAYMENT*AMT_ANNUITY/AMT_CREDIT (total repaid per unit lent)"],
                             positive=True)(price)
    priced = (term > 0) & (credit > 0) & out["AMT_ANNUITY"].notna().to_numpy()
    out["AMT_ANNUITY"] = np.where(priced, np.round(credit * repaid / np.where(term > 0, term, 1), 3),
                                  out["AMT_ANNUITY"].to_numpy())
    _credit_dates(out, term, rng)
    approved = (out["NAME_CONTRACT_STATUS"] == "Approved").to_numpy()
    rate = table("previous_application").column("DAYS_FIRST_DUE").missing_rate
    extra = max(rate - (1 - approved.mean()), 0) / max(approved.mean(), 1e-9)
    undated = ~approved | (rng.random(n) < extra)  # only an approved credit has dates and insurance
    for column in APPROVAL_COLUMNS:
        out[column] = np.where(undated, np.nan, out[column])


def _credit_dates(out: pd.DataFrame, term: np.ndarray, rng) -> None:
    """First due after the decision, the planned last due a term later, the actual last due on plan or
    earlier (repaid early), the termination just after it; "not yet" (365243) where drawn so, and for a
    planned end still to come."""
    n = len(out)
    decision = out["DAYS_DECISION"].to_numpy(dtype=float)
    sentinel = float(SENTINEL_DAYS)

    def drawn(column: str) -> tuple[np.ndarray, np.ndarray]:
        values = out[column].to_numpy(dtype=float)
        return values, values == sentinel

    first, first_not_yet = drawn("DAYS_FIRST_DUE")
    due = decision + FIRST_DUE_DAYS + np.round(rng.exponential(FIRST_DUE_SLACK, n))
    first_not_yet = first_not_yet | (due > -2)  # decided too recently for a first instalment yet
    first_due = np.where(np.isnan(first), np.nan, np.where(first_not_yet, sentinel, due))
    planned, planned_not_yet = drawn("DAYS_LAST_DUE_1ST_VERSION")
    months = np.maximum(np.nan_to_num(term, nan=12.0), 2.0) - 1
    plan = np.where(planned_not_yet | first_not_yet, sentinel, first_due + 30.0 * months)
    plan = np.where(np.isnan(planned) | np.isnan(first_due), np.nan, plan)
    last, last_not_yet = drawn("DAYS_LAST_DUE")
    share_on_plan = 0.52  # the measured share of credits ending on their planned date
    early = first_due + np.floor(rng.random(n) * np.maximum(plan - first_due, 0.0))
    actual = np.where(rng.random(n) < share_on_plan, plan, early)
    actual = np.where(last_not_yet | (actual > -2) | (plan == sentinel), sentinel, actual)
    actual = np.where(np.isnan(last) | np.isnan(plan), np.nan, actual)
    ended, _ = drawn("DAYS_TERMINATION")
    termination = np.where(actual == sentinel, sentinel, actual + 1 + np.round(rng.exponential(3.0, n)))
    termination = np.where(np.isnan(ended) | np.isnan(actual), np.nan, termination)
    drawing, drawing_not_yet = drawn("DAYS_FIRST_DRAWING")
    between = decision + np.floor(rng.random(n) * np.maximum(np.nan_to_num(first_due, nan=-2) - decision, 0))
    between = np.where(rng.random(n) < DRAWN_ON_DECISION, decision, between)
    first_drawing = np.where(drawing_not_yet | np.isnan(first_due) | (first_due == sentinel), drawing,
                             np.minimum(between, -2))
    out["DAYS_FIRST_DUE"], out["DAYS_LAST_DUE_1ST_VERSION"] = first_due, plan
    out["DAYS_LAST_DUE"], out["DAYS_TERMINATION"] = actual, termination
    out["DAYS_FIRST_DRAWING"] = np.where(np.isnan(drawing), np.nan, first_drawing)


def _ratio_marginal(spec: dict, positive: bool = False) -> fidelity.Marginal:
    """A ratio's quantile function from its 21 measured percentiles (0, 5, ..., 100 %) and point masses;
    ``positive`` keeps only its positive part (a zero numerator is the drawn rows' own)."""
    knots = np.asarray(spec["percentiles_0_5_to_100"], dtype=float)
    p = np.linspace(0.0, 1.0, len(knots))
    masses = {k: v for k, v in spec.get("point_masses", {}).items() if not positive or float(k) > 0}
    if positive:
        zero = float(np.mean(knots <= 0))
        keep = knots > 0
        p = (p[keep] - zero) / max(1 - zero, 1e-9)
        knots = knots[keep]
        p[0] = 0.0
        masses = {k: v / max(1 - zero, 1e-9) for k, v in masses.items()}
    full = np.interp(fidelity.PERCENTILES, p, knots)
    return fidelity.marginal_from({"percentiles_0_to_100": list(full), "point_masses": masses}, integer=False)


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
        parent = prev.loc[chosen, ["SK_ID_PREV", "SK_ID_CURR", "CNT_PAYMENT", "AMT_ANNUITY",
                                   "NAME_CONTRACT_TYPE"]].reset_index(drop=True)
        mean_rows = rel["rows"] / rel["distinct_prev_ids"]
        if name == "installments_payments":  # a card's instalments run longer (version 0, the card's own)
            weight = _card_weight((parent["NAME_CONTRACT_TYPE"] == "Revolving loans").to_numpy())
            mean = np.maximum(mean_rows * weight, 1.01)
            counts = np.clip(1 + rng.negative_binomial(1.5, 1.5 / (1.5 + mean - 1)), 1, 240)
        else:
            counts = np.clip(1 + rng.negative_binomial(1.5, 1.5 / (1.5 + mean_rows - 1), len(parent)), 1, 96)
        builder = {"POS_CASH_balance": _pos, "installments_payments": _installments,
                   "credit_card_balance": _credit_card}[name]
        parent_risk = risk.reindex(parent["SK_ID_CURR"]).to_numpy()
        out[name] = builder(parent, parent_risk, counts, rng)
    return out


def _card_weight(card: np.ndarray) -> np.ndarray:
    """How many more instalment rows a card has than a loan, so that version 0 (cards) holds its measured
    share of the rows; the weights keep the mean at 1."""
    share = tab_share("installments_payments", "NUM_INSTALMENT_VERSION", 0.0)
    cards = max(card.mean(), 1e-9)
    ratio = share * (1 - cards) / max(cards * (1 - share), 1e-9)
    weight = np.where(card, ratio, 1.0)
    return weight / weight.mean()


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
    return with_int_dtypes(base, tab)


# Days between due date and payment (negative: paid early), as a quantile function: about 8 % late.
# Days between due date and payment (negative: paid early), as a quantile function: the facts' day ordering
# (68.2 % early, 23.5 % on the day, 8.25 % late) and the real delays' quartiles.
PAYMENT_DELAY_KNOTS = (np.array([0.0, 0.10, 0.25, 0.50, 0.6822, 0.6823, 0.9174, 0.9175, 0.99, 1.0]),
                       np.array([-120.0, -27.0, -13.0, -5.0, -1.0, 0.0, 0.0, 1.0, 30.0, 900.0]))
UNDERPAID = 0.10  # share of instalments paid short (the riskiest), and paid over (to close the credit)
OVERPAID = 0.018


def _installments(parent: pd.DataFrame, parent_risk: np.ndarray, counts: np.ndarray, rng) -> pd.DataFrame:
    tab = table("installments_payments")
    last_due = -1 - np.floor(rng.exponential(560.0, len(parent)))
    amount = draw(tab.column("AMT_INSTALMENT"), rng.random(len(parent)), table_name=tab.name)
    amount = np.where(parent["AMT_ANNUITY"].notna(), parent["AMT_ANNUITY"].fillna(0), amount)
    card = (parent["NAME_CONTRACT_TYPE"] == "Revolving loans").to_numpy()
    versions = {v: tab_share(tab.name, "NUM_INSTALMENT_VERSION", v) for v in (1.0, 2.0, 3.0)}
    cum = np.cumsum(list(versions.values())) / sum(versions.values())
    loan_version = np.array(list(versions))[np.minimum(np.searchsorted(cum, rng.random(len(parent))), 2)]
    version = np.where(card, 0.0, loan_version)  # version 0 is a card's schedule
    (prev_id, curr_id, r, last, amt, ver, eff), pos = spread(
        counts, parent["SK_ID_PREV"].to_numpy(), parent["SK_ID_CURR"].to_numpy(), parent_risk, last_due,
        amount, version, rng.standard_normal(len(parent)))
    n = len(prev_id)
    number = pos + 1
    due = np.maximum(last - 30.0 * (np.repeat(counts, counts) - number), -2922.0)
    late_z = _signal("instalment_delay", rng, r, eff)
    delay = np.round(interpolate(*PAYMENT_DELAY_KNOTS, uniform(late_z)))
    paid_day = np.minimum(due + delay, -1.0)
    short_z = _signal("instalment_short", rng, r, eff)
    underpaid = short_z > np.quantile(short_z, 1 - UNDERPAID)
    overpaid = ~underpaid & (rng.random(n) < OVERPAID)
    payment = np.where(underpaid, np.round(amt * rng.random(n), 3),
                       np.where(overpaid, np.round(amt * (1 + rng.exponential(0.5, n)), 3), amt))
    frame = pd.DataFrame({
        "SK_ID_PREV": prev_id, "SK_ID_CURR": curr_id, "NUM_INSTALMENT_VERSION": ver,
        "NUM_INSTALMENT_NUMBER": number.astype(np.int64), "DAYS_INSTALMENT": due, "DAYS_ENTRY_PAYMENT": paid_day,
        "AMT_INSTALMENT": amt, "AMT_PAYMENT": payment,
    })
    return with_int_dtypes(frame[tab.column_names], tab)


def _credit_card(parent: pd.DataFrame, parent_risk: np.ndarray, counts: np.ndarray, rng) -> pd.DataFrame:
    """credit_card_balance: a card's months drawn as whole rows (``rows``), its limit kept from month to
    month, the balance following the limit and the client's use of credit, then a card statement's rules
    (``card_accounting``)."""
    tab = table("credit_card_balance")
    latest = _place_months(rng, counts, mean_gap=CARD_MONTHS_GAP)
    (prev_id, curr_id, r, last, limit_z, eff), pos = spread(
        counts, parent["SK_ID_PREV"].to_numpy(), parent["SK_ID_CURR"].to_numpy(), parent_risk, latest,
        rng.standard_normal(len(parent)), rng.standard_normal(len(parent)))
    n = len(prev_id)
    months = last - (np.repeat(counts, counts) - 1 - pos)
    use_z = _signal("card_use", rng, r, eff)
    dpd_z = _signal("card_dpd", rng, r, eff)
    limit = fidelity.marginal(tab.name, "AMT_CREDIT_LIMIT_ACTUAL", integer=True)(uniform(limit_z))
    balance_z = (0.55 * limit_z + 0.6 * use_z) / np.sqrt(0.55**2 + 0.6**2)
    out = draw_rows("credit_card_balance", n, rng, {
        "SK_ID_PREV": prev_id, "SK_ID_CURR": curr_id, "MONTHS_BALANCE": months.astype(np.int64),
        "AMT_CREDIT_LIMIT_ACTUAL": limit,
    }, number_z={"AMT_BALANCE": (0.9, balance_z), "SK_DPD": (0.97, dpd_z), "SK_DPD_DEF": (0.85, dpd_z),
                 "AMT_PAYMENT_CURRENT": (0.55, limit_z), "AMT_DRAWINGS_CURRENT": (0.35, limit_z)},
                    structural=UNREPORTED_WHEN_IDLE)
    card_accounting(out, rng)
    return with_int_dtypes(out, tab)


DRAWINGS = ("ATM", "POS", "OTHER")
UNREPORTED_WHEN_IDLE = ("AMT_DRAWINGS_ATM_CURRENT", "AMT_DRAWINGS_POS_CURRENT", "AMT_DRAWINGS_OTHER_CURRENT",
                        "CNT_DRAWINGS_ATM_CURRENT", "CNT_DRAWINGS_POS_CURRENT", "CNT_DRAWINGS_OTHER_CURRENT",
                        "AMT_PAYMENT_CURRENT")
CARD_MONTHS_GAP = 3.0  # mean months between a card's last statement and the application


def card_accounting(out: pd.DataFrame, rng) -> None:
    """A card statement's rules over the drawn values: receivables are the balance (principal a little
    under it: interest and fees), the minimum instalment a measured share of the balance, nothing owed when
    nothing is due; the total paid at least the current payment; the month's drawings the sum of their kinds,
    counted as often as there are amounts; days past due with tolerance no more than without."""
    n = len(out)
    facts = fidelity.facts()["history_dependence"]["credit_card_balance"]["amount_ratios_rho_ge_0_5"]
    # A card runs close to its limit: the balance (where something is owed) is the limit times a utilisation
    # taken in the order of the drawn balances (so the client's use of credit still sets it).
    drawn = out["AMT_BALANCE"].to_numpy(dtype=float)
    limit = out["AMT_CREDIT_LIMIT_ACTUAL"].to_numpy(dtype=float)
    # Nothing is owed on a card without a limit; on the others, the measured share of idle months is left to
    # the lowest drawn balances.
    open_ = limit > 0
    idle = tab_share("credit_card_balance", "AMT_BALANCE", 0.0)
    idle_share = max(idle - (~open_).mean(), 0.0) / max(open_.mean(), 1e-9)
    rank = pd.Series(np.where(open_, drawn, np.nan)).rank(pct=True, method="first").to_numpy()
    used = open_ & (rank > idle_share)
    place = np.clip((rank - idle_share) / max(1 - idle_share, 1e-9), 0.0, 1.0)
    utilisation = np.interp(np.nan_to_num(place, nan=0.5), *UTILISATION_KNOTS)
    out["AMT_BALANCE"] = np.where(used, np.round(limit * utilisation, 3), 0.0)
    balance = out["AMT_BALANCE"].to_numpy(dtype=float)
    # An idle month (nothing owed) may go unreported: no drawings, no payment, at the measured rate.
    idle = balance == 0
    rate = table("credit_card_balance").column("AMT_DRAWINGS_ATM_CURRENT").missing_rate
    unreported = idle & (rng.random(n) < min(rate / max(idle.mean(), 1e-9), 1.0))
    for column in UNREPORTED_WHEN_IDLE:
        out[column] = np.where(unreported, np.nan, out[column])
    owed = balance != 0
    # The receivable is the balance over its measured ratio to it (the balance itself for most).
    ratio = _ratio_marginal(facts["AMT_BALANCE/AMT_RECIVABLE"], positive=True)(rng.random(n))
    receivable = np.where(ratio == 1.0, balance, np.round(balance / ratio, 3))
    out["AMT_RECIVABLE"] = out["AMT_TOTAL_RECEIVABLE"] = np.where(owed, receivable, 0.0)
    principal = balance / _ratio_marginal(facts["AMT_BALANCE/AMT_RECEIVABLE_PRINCIPAL"], positive=True)(rng.random(n))
    out["AMT_RECEIVABLE_PRINCIPAL"] = np.round(np.where(owed, principal, 0.0), 3)
    minimum = np.maximum(balance, 0) / _ratio_marginal(facts["AMT_BALANCE/AMT_INST_MIN_REGULARITY"],
                                                       positive=True)(rng.random(n))
    full = (limit > 0) & (balance >= FULL_CARD * limit)  # a full card's minimum is a twentieth of its limit
    minimum = np.where(full, MINIMUM_SHARE * limit, minimum)
    known = out["AMT_INST_MIN_REGULARITY"].notna().to_numpy()
    out["AMT_INST_MIN_REGULARITY"] = np.where(known, np.round(np.where(balance > 0, minimum, 0.0), 3), np.nan)
    # This month's payment: at least the minimum where one is due (the drawn payment, on its round amounts,
    # or the minimum itself); a few last pennies where nothing is owed any more.
    current = out["AMT_PAYMENT_CURRENT"].to_numpy(dtype=float)
    minimum_due = out["AMT_INST_MIN_REGULARITY"].to_numpy(dtype=float)
    due = ~np.isnan(current) & (minimum_due > 0)
    current = np.where(due, np.fmax(current, minimum_due), current)
    settled = ~np.isnan(current) & (balance == 0)
    current = np.where(settled, np.round(current * rng.random(n) * SETTLED_SHARE, 3), current)
    out["AMT_PAYMENT_CURRENT"] = current
    total = current / _ratio_marginal(facts["AMT_PAYMENT_CURRENT/AMT_PAYMENT_TOTAL_CURRENT"],
                                      positive=True)(rng.random(n))
    # Nothing paid in total where nothing was paid this month, and for some that were (the measured zero share).
    paid = ~np.isnan(current) & (current > 0)
    zero_total = tab_share("credit_card_balance", "AMT_PAYMENT_TOTAL_CURRENT", 0.0)
    unpaid = paid & (rng.random(n) < max(zero_total - (1 - paid.mean()), 0.0) / max(paid.mean(), 1e-9))
    out["AMT_PAYMENT_TOTAL_CURRENT"] = np.where(paid & ~unpaid, np.round(total, 3), 0.0)
    reported = out["AMT_DRAWINGS_ATM_CURRENT"].notna().to_numpy()
    amounts = [out[f"AMT_DRAWINGS_{kind}_CURRENT"].to_numpy(dtype=float) for kind in DRAWINGS]
    counts = []
    for kind, amount in zip(DRAWINGS, amounts):
        count = out[f"CNT_DRAWINGS_{kind}_CURRENT"].to_numpy(dtype=float)
        count = np.where(amount > 0, np.fmax(count, 1), 0.0)
        out[f"CNT_DRAWINGS_{kind}_CURRENT"] = np.where(reported, count, np.nan)
        counts.append(count)
    out["AMT_DRAWINGS_CURRENT"] = np.where(reported, np.round(np.nansum(amounts, axis=0), 3),
                                           out["AMT_DRAWINGS_CURRENT"])
    out["CNT_DRAWINGS_CURRENT"] = np.where(reported, np.sum(counts, axis=0), out["CNT_DRAWINGS_CURRENT"])
    out["SK_DPD_DEF"] = np.minimum(out["SK_DPD_DEF"], out["SK_DPD"])


# A used card's balance over its limit, by the place of the drawn balance among the used months: most cards run
# close to their limit, a few a little over it.
FULL_CARD, MINIMUM_SHARE = 0.95, 0.05
SETTLED_SHARE = 0.1  # at most this share of a drawn payment is still paid once nothing is owed
UTILISATION_KNOTS = (np.array([0.0, 0.1, 0.5, 0.9, 1.0]), np.array([0.01, 0.14, 0.87, 1.03, 1.2]))
