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
from credit_scoring.dataset.synthetic.credit_files import (
    APPROVAL_COLUMNS,
    UNREPORTED_WHEN_IDLE,
    UTILISATION_KNOTS,
    bureau_accounting,
    card_accounting,
    credit_accounting,
)
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
# univariate AUCs near 0.6, below the external scores). Raised by a quarter with the application's share at 0.75
# (40,000 clients: the history tables' gain over the application from +0.016 to +0.026, the strongest
# aggregate 0.655 against 0.642).
HISTORY_SIGNAL = {
    "bureau_recent": (0.50, 0.0),  # recent bureau credits: credit-hungry clients
    "bureau_overdue": (0.68, 0.20),
    "bureau_debt": (0.38, 0.0),
    "bureau_balance_dpd": (0.62, 0.20),
    "previous_status": (0.68, 0.0),
    "pos_dpd": (0.62, 0.20),
    "instalment_delay": (0.33, 0.20),
    "instalment_short": (0.48, 0.20),
    "card_use": (0.68, 0.20),
    "card_dpd": (0.62, 0.20),
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
                                   "NAME_CONTRACT_TYPE", "DAYS_FIRST_DUE"]].reset_index(drop=True)
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
    # The months reported lie inside the credit's schedule (from its first due, for the term, and the month it
    # completes, rarely a few more), at a place of it drawn where the schedule is longer than what is reported.
    # (The drawn counts stretched so that the capped ones keep their measured mean rows per credit.)
    cap = term + 1 + rng.geometric(1 - COMPLETED_EXTRA, len(parent)) - 1
    lo, hi = 1.0, 8.0
    for _ in range(20 if len(parent) else 0):
        stretch = (lo + hi) / 2
        lo, hi = (stretch, hi) if np.minimum(np.ceil(counts * stretch), cap).mean() < counts.mean() else (lo, stretch)
    counts = np.maximum(np.minimum(np.ceil(counts * lo), cap), 1).astype(np.int64)
    offset = np.floor(rng.random(len(parent)) * np.maximum(term + 1 - counts, 0))
    first = parent["DAYS_FIRST_DUE"].to_numpy(dtype=float)
    dated = ~np.isnan(first) & (first != SENTINEL_DAYS)
    scheduled = np.floor(np.where(dated, first, 0.0) / (365.25 / 12)) + offset + counts - 1
    latest = np.where(dated, np.minimum(scheduled, -1), latest)
    latest = np.maximum(latest, -96 + counts - 1).astype(np.int64)
    (prev_id, curr_id, r, last, t, skip, eff), pos = spread(
        counts, parent["SK_ID_PREV"].to_numpy(), parent["SK_ID_CURR"].to_numpy(), parent_risk, latest, term,
        offset, rng.standard_normal(len(parent)))
    n = len(prev_id)
    months = last - (np.repeat(counts, counts) - 1 - pos)
    future = np.maximum(t - skip - pos, 0).astype(float)
    dpd_z = _signal("pos_dpd", rng, r, eff)
    base = columns_from_marginals(tab, n, rng, {
        "SK_ID_PREV": prev_id, "SK_ID_CURR": curr_id, "MONTHS_BALANCE": months.astype(np.int64),
        "CNT_INSTALMENT": t.astype(float), "CNT_INSTALMENT_FUTURE": future,
    }, {"SK_DPD": [(0.97, dpd_z)], "SK_DPD_DEF": [(0.9, dpd_z)]},
        structural=("CNT_INSTALMENT", "CNT_INSTALMENT_FUTURE"))
    status = np.asarray(base["NAME_CONTRACT_STATUS"], dtype=object)
    # Completed is the status of a credit with nothing left to pay (and not of one with instalments to come);
    # a third of the months with nothing left still say Active (the month the last one fell due)
    status = np.where((future == 0) & (status == "Active") & (rng.random(n) >= ACTIVE_AT_ZERO), "Completed", status)
    status = np.where((future > 0) & (status == "Completed"), "Active", status)
    base["NAME_CONTRACT_STATUS"] = pd.Categorical(status, categories=categories(tab.column("NAME_CONTRACT_STATUS")))
    base["SK_DPD_DEF"] = np.minimum(base["SK_DPD_DEF"], base["SK_DPD"])
    for c in ("CNT_INSTALMENT", "CNT_INSTALMENT_FUTURE"):
        base[c] = np.where(rng.random(n) < tab.column(c).missing_rate, np.nan, base[c])
    return with_int_dtypes(base, tab)


ACTIVE_AT_ZERO = 0.33  # share of a point-of-sale credit's months with nothing left that still say Active
COMPLETED_EXTRA = 0.6  # chance of each further month reported after a point-of-sale credit completed

# Days between due date and payment (negative: paid early), as a quantile function: the facts' day ordering
# (68.2 % early, 23.5 % on the day, 8.25 % late) and the real delays' quartiles.
PAYMENT_DELAY_KNOTS = (np.array([0.0, 0.10, 0.25, 0.50, 0.6822, 0.6823, 0.9174, 0.9175, 0.99, 1.0]),
                       np.array([-120.0, -27.0, -13.0, -5.0, -1.0, 0.0, 0.0, 1.0, 30.0, 900.0]))
UNDERPAID = 0.10  # share of instalments paid short (the riskiest), and paid over (to close the credit)
OVERPAID = 0.018


def _installments(parent: pd.DataFrame, parent_risk: np.ndarray, counts: np.ndarray, rng) -> pd.DataFrame:
    tab = table("installments_payments")
    # The schedule starts on the credit's first due and runs monthly, up to the last month before the
    # application for a credit still running; the whole of it inside Kaggle's eight years.
    last_due = -1 - np.floor(rng.exponential(560.0, len(parent)))
    first = parent["DAYS_FIRST_DUE"].to_numpy(dtype=float)
    dated = ~np.isnan(first) & (first != SENTINEL_DAYS)
    scheduled = first + 30.0 * (counts - 1)
    running = -1 - np.floor(rng.exponential(RUNNING_LAST_DUE_GAP, len(parent)))
    last_due = np.where(dated, np.minimum(scheduled, running), last_due)
    last_due = np.minimum(np.maximum(last_due, EARLIEST_DAY + 30.0 * (counts - 1)), -1.0)
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
    # A card's instalment is its month's minimum: a twentieth of the limit as far as the card is used that
    # month (a card's utilisation, as its statements draw it), small in the months it is barely used.
    card_row = ver == 0
    amt = np.where(card_row, np.round(amt * np.interp(rng.random(n), *UTILISATION_KNOTS), 3), amt)
    due = np.maximum(last - 30.0 * (np.repeat(counts, counts) - number), EARLIEST_DAY)
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


EARLIEST_DAY = -2922.0  # Kaggle's histories reach eight years back
RUNNING_LAST_DUE_GAP = 30.0  # mean days from a running credit's last instalment due to the application

CARD_MONTHS_GAP = 3.0  # mean months between a card's last statement and the application


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
    # the balance follows the use of credit more than the limit (real used cards' limits are lower than idle ones')
    recent_z = ndtri(np.clip(pd.Series(months).rank(pct=True).to_numpy() - 0.5 / max(n, 1), 1e-6, 1 - 1e-6))
    balance_z = (0.1 * limit_z + 0.6 * use_z) / np.sqrt(0.1**2 + 0.6**2)
    out = draw_rows("credit_card_balance", n, rng, {
        "SK_ID_PREV": prev_id, "SK_ID_CURR": curr_id, "MONTHS_BALANCE": months.astype(np.int64),
        "AMT_CREDIT_LIMIT_ACTUAL": limit,
    }, number_z={"AMT_BALANCE": (0.9, balance_z), "SK_DPD": (0.97, dpd_z), "SK_DPD_DEF": (0.85, dpd_z),
                 "AMT_PAYMENT_CURRENT": (0.55, limit_z), "AMT_DRAWINGS_CURRENT": (0.35, limit_z),
                 # the month is given, not drawn: what goes with it (facts' rank correlations) through its score
                 "AMT_DRAWINGS_POS_CURRENT": (0.3, recent_z), "CNT_INSTALMENT_MATURE_CUM": (-0.25, recent_z)},
                    structural=UNREPORTED_WHEN_IDLE)
    card_accounting(out, rng)
    return with_int_dtypes(out, tab)


