"""The accounting rules of credit files, applied over rows drawn from the facts (``rows``): what must hold
exactly in a previous application (amounts, price of credit, dates), a bureau record (its days in order) and a
card statement (balance under the limit, receivables, minimum due, payments, drawings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from credit_scoring.dataset.schema import SENTINEL_DAYS, table
from credit_scoring.dataset.synthetic import fidelity
from credit_scoring.dataset.synthetic.marginals import tab_share, uniform


def ratio_marginal(spec: dict, positive: bool = False) -> fidelity.Marginal:
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


def ranked(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Each value's place in (0, 1] among the rows of `among` (ties in row order); NaN for the other rows."""
    return pd.Series(np.where(among, values, np.nan)).rank(pct=True, method="first").to_numpy()


def above_zeros(marginal: fidelity.Marginal, zero_share: float, place: np.ndarray) -> np.ndarray:
    """The marginal's values at `place` (NaN: the middle) within its part above its `zero_share` of zeros."""
    return marginal(np.clip(zero_share + np.nan_to_num(place, nan=0.5) * (1 - zero_share), 0.0, 1.0 - 1e-9))


# Measured day orderings of closed credits (fidelity.json, bureau): the planned end equals the actual one for
# about a third, the last update is the closing day for about a quarter.
ENDED_ON_PLAN = 0.34  # of those whose planned end is past: 0.31 of all closed credits
UPDATED_AT_CLOSING = 0.26
DAYS_PER_MONTH = 365.25 / 12
WHOLE_MONTHS, WHOLE_YEARS = 0.62, 0.55  # shares of planned terms in whole months, and of those in whole years
OPEN_PAST_END = 0.1  # share of open credits whose planned end has passed (real: the 10th percentile is +21 days)
OVERDUE_SPAN = 730.0  # days at most that an open credit's planned end has passed (real: 5th percentile -338)
# days from closing to the last report, after the quarter on the day (log-normal): real median 4 and 75th
# percentile 52 over all closed credits
UPDATE_DELAY_LOG_MEDIAN, UPDATE_DELAY_LOG_SD = 2.72, 2.94


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
    past_end = np.maximum(-np.ceil(rng.random(n) * OVERDUE_SPAN), start + 1)
    planned = np.where(~closed & (planned > 0) & overdue & (start < -1), past_end, planned)
    update = after(out["DAYS_CREDIT_UPDATE"].to_numpy(dtype=float), start)
    ended = out["DAYS_ENDDATE_FACT"].to_numpy(dtype=float)
    # (a closed credit drawn without its end: a day between its start and its planned end, or yesterday; the
    # measured share ended on plan is set just below)
    until = np.where(np.isnan(planned), update, np.minimum(planned, -1.0))
    somewhere = start + np.ceil(rng.random(n) * np.maximum(until - start, 0.0))
    ended = np.where(np.isnan(ended), somewhere, ended)
    ended = np.maximum(np.minimum(after(ended, start), -1.0), start)
    ended = np.where((rng.random(n) < ENDED_ON_PLAN) & (planned <= -1), planned, ended)
    # A closed credit is reported once more soon after it closes (on the day itself for some).
    # The others after a log-normal delay (median 4 days and 75th percentile 52 over all closed credits,
    # with the quarter on the day itself), at most until yesterday.
    later = np.maximum(np.round(np.exp(UPDATE_DELAY_LOG_MEDIAN + UPDATE_DELAY_LOG_SD * rng.standard_normal(n))), 1)
    gap = np.where(rng.random(n) < UPDATED_AT_CLOSING, 0.0, later)
    room = np.maximum(-1.0 - ended, 0.0)
    gap = np.where(gap > room, np.ceil(rng.random(n) * room), gap)
    update = np.where(closed, ended + gap, update)
    out["DAYS_CREDIT_ENDDATE"] = planned
    out["DAYS_ENDDATE_FACT"] = np.where(closed, ended, np.nan)
    out["DAYS_CREDIT_UPDATE"] = update
    for c in ("CREDIT_DAY_OVERDUE", "AMT_CREDIT_SUM_OVERDUE"):
        out[c] = np.where(closed, 0.0, out[c])
    out["AMT_CREDIT_SUM_DEBT"] = np.where(closed & out["AMT_CREDIT_SUM_DEBT"].notna(), 0.0,
                                          out["AMT_CREDIT_SUM_DEBT"])
    open_debt(out, closed, planned, rng)


ANNUITY_BEND = 0.6  # the share of the sum still owed is about the share of the term left to this power


def open_debt(out: pd.DataFrame, closed: np.ndarray, planned: np.ndarray, rng) -> None:
    """An open credit owes what is left of its sum: nothing for the measured share (the zeros of the debt
    beyond the closed credits'), else the sum times the share of its term still to run (bent: a repaying
    annuity), a little more or less, never more than the sum; with no planned end (or one past), anywhere up
    to the sum."""
    n = len(out)
    debt = out["AMT_CREDIT_SUM_DEBT"].to_numpy(dtype=float)
    total = out["AMT_CREDIT_SUM"].to_numpy(dtype=float)
    start = out["DAYS_CREDIT"].to_numpy(dtype=float)
    tab = table("bureau")
    known = ~np.isnan(debt)
    is_open = ~closed & known
    # zeros among the present debts, less those of the closed credits (all zero): the open credits' share
    zeros = tab_share("bureau", "AMT_CREDIT_SUM_DEBT", 0.0) * (1 - tab.column("AMT_CREDIT_SUM_DEBT").missing_rate)
    open_zero = max(zeros - (closed & known).mean(), 0.0) / max(is_open.mean(), 1e-9)
    to_run = np.where(planned > 0, planned / np.maximum(planned - start, 1.0), rng.random(n))
    # an annuity repays its principal slowly at first: more is owed than the share of the term left
    share = np.clip(to_run**ANNUITY_BEND * rng.uniform(0.8, 1.2, n), 0.0, 1.0)
    owed = np.where(rng.random(n) < open_zero, 0.0, np.round(np.nan_to_num(total) * share, 3))
    out["AMT_CREDIT_SUM_DEBT"] = np.where(is_open, owed, debt)


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
    ratio = ratio_marginal(facts["amount_ratios_rho_ge_0_5"]["AMT_APPLICATION/AMT_CREDIT"], positive=True)
    # Nothing asked, mostly nothing granted: the measured share of zero applications among non-zero credits.
    kept = rng.random(n) < ZERO_ASKED_WITH_CREDIT
    credit = np.where(asked, np.round(application / ratio(rng.random(n)) * 2) / 2,
                      np.where(kept, out["AMT_CREDIT"].to_numpy(), 0.0))
    kind = out["NAME_CONTRACT_TYPE"].astype(object).to_numpy()
    cash, revolving = kind == "Cash loans", kind == "Revolving loans"
    # A cash loan is granted at least what was asked (insurance on top): never less; a ratio drawn the other
    # way is taken upside down, within the measured range (the ratio's 5th percentile).
    most = 1.0 / float(ratio(np.array([0.05]))[0])
    upside = np.minimum(application / np.maximum(credit, 1.0), most)
    credit = np.where(cash & (credit < application), np.round(application * upside * 2) / 2, credit)
    out["AMT_CREDIT"] = credit
    out["AMT_GOODS_PRICE"] = np.where(asked, application, np.nan)
    term = out["CNT_PAYMENT"].to_numpy(dtype=float)
    # An instalment loan runs for some months (a zero term is a card's: another loan's term of the same kind).
    for loan in (kind == "Cash loans", kind == "Consumer loans"):
        zero = loan & (term == 0)
        pool = term[loan & (term > 0)]
        if zero.any() and pool.size:
            term = np.where(zero, 0.0, term)
            term[zero] = rng.choice(pool, size=int(zero.sum()))
    out["CNT_PAYMENT"] = term
    yield_score = out["NAME_YIELD_GROUP"].astype(object).map(YIELD_SCORE).fillna(0.0).to_numpy(dtype=float)
    term_score = ndtri(np.clip(pd.Series(term).rank(pct=True).fillna(0.5).to_numpy(), 1e-6, 1 - 1e-6))
    # cash loans cost more per unit lent than loans for goods (sellers' offers): real repaid-to-lent medians
    # 1.43 against 1.20
    kind_score = np.where(cash, CASH_PRICE_SCORE, -CASH_PRICE_SCORE)
    price = uniform(0.6 * yield_score / 1.2 + 0.4 * term_score + kind_score + 0.5 * rng.standard_normal(n))
    repaid = ratio_marginal(facts["derived"]["CNT_PAYMENT*AMT_ANNUITY/AMT_CREDIT (total repaid per unit lent)"],
                             positive=True)(price)
    priced = (term > 0) & (credit > 0) & out["AMT_ANNUITY"].notna().to_numpy()
    out["AMT_ANNUITY"] = np.where(priced, np.round(credit * repaid / np.where(term > 0, term, 1), 3),
                                  out["AMT_ANNUITY"].to_numpy())
    _revolving(out, revolving, rng)
    term = out["CNT_PAYMENT"].to_numpy(dtype=float)
    _credit_dates(out, term, revolving, rng)
    approved = (out["NAME_CONTRACT_STATUS"] == "Approved").to_numpy()
    rate = table("previous_application").column("DAYS_FIRST_DUE").missing_rate
    extra = max(rate - (1 - approved.mean()), 0) / max(approved.mean(), 1e-9)
    undated = ~approved | (rng.random(n) < extra)  # only an approved credit has dates and insurance
    for column in APPROVAL_COLUMNS:
        out[column] = np.where(undated, np.nan, out[column])


def _revolving(out: pd.DataFrame, revolving: np.ndarray, rng) -> None:
    """A card asked for: a limit (the credit) unless cancelled, no term (0), a monthly minimum of a twentieth
    of the limit; what was asked for is the limit, or nothing where no amount was stated (as often as drawn)."""
    canceled = (out["NAME_CONTRACT_STATUS"] == "Canceled").to_numpy()
    credit = out["AMT_CREDIT"].to_numpy(dtype=float)
    limit = fidelity.marginal("previous_application", "AMT_CREDIT")(rng.random(len(out)))
    limit = np.where(credit > 0, credit, limit)
    limit = np.round(np.maximum(limit, CARD_LIMIT_STEP) / CARD_LIMIT_STEP) * CARD_LIMIT_STEP
    granted = revolving & ~canceled
    out["AMT_CREDIT"] = np.where(revolving, np.where(granted, limit, 0.0), credit)
    out["AMT_APPLICATION"] = np.where(granted & (out["AMT_APPLICATION"] > 0), out["AMT_CREDIT"],
                                      np.where(revolving & ~granted, 0.0, out["AMT_APPLICATION"]))
    goods = out["AMT_GOODS_PRICE"].to_numpy(dtype=float)
    asked = out["AMT_APPLICATION"].to_numpy(dtype=float)
    out["AMT_GOODS_PRICE"] = np.where(revolving & ~np.isnan(goods), np.where(asked > 0, asked, np.nan), goods)
    out["CNT_PAYMENT"] = np.where(revolving, np.where(granted, 0.0, np.nan), out["CNT_PAYMENT"])
    out["AMT_ANNUITY"] = np.where(revolving, np.where(granted, MINIMUM_SHARE * out["AMT_CREDIT"], np.nan),
                                  out["AMT_ANNUITY"])


CASH_PRICE_SCORE = 0.4  # a cash loan's shift of the price score (a loan for goods: the opposite)
CARD_LIMIT_STEP = 22_500.0  # card limits are set in steps of this (45,000, 90,000, 225,000...)


def _credit_dates(out: pd.DataFrame, term: np.ndarray, revolving: np.ndarray, rng) -> None:
    """First due after the decision, the planned last due a term later, the actual last due on plan or
    earlier (repaid early), the termination just after it; "not yet" (365243) for an end still to come. A
    loan's money is never drawn as a card's is (first drawing "not yet"); a card has no planned end, is drawn
    between the decision and its first due, and has ended as often as measured (facts: the share of dates
    missing or "not yet" by contract type)."""
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

    def since_first_due() -> np.ndarray:
        """A day between the first due and the day before yesterday (a last due already past)."""
        return first_due + np.floor(rng.random(n) * np.maximum(-2.0 - first_due, 0.0))

    planned, _ = drawn("DAYS_LAST_DUE_1ST_VERSION")
    months = np.maximum(np.nan_to_num(term, nan=12.0), 2.0) - 1
    plan = np.where(first_not_yet | revolving, sentinel, first_due + 30.0 * months)
    plan = np.where(np.isnan(planned) | np.isnan(first_due), np.nan, plan)
    last, _ = drawn("DAYS_LAST_DUE")
    share_on_plan = 0.52  # the measured share of credits ending on their planned date
    early = first_due + np.floor(rng.random(n) * np.maximum(plan - first_due, 0.0))
    actual = np.where(rng.random(n) < share_on_plan, plan, early)
    actual = np.where(revolving, since_first_due(), actual)
    card_ended = _dated_share("Revolving loans", "DAYS_LAST_DUE")
    card_terminated = _dated_share("Revolving loans", "DAYS_TERMINATION")
    still_open = revolving & (rng.random(n) >= card_ended)
    # A loan planned to end after today is still running ("not yet") or was repaid early, on a past day, as
    # often as the facts' share of loans still running says.
    kind = out["NAME_CONTRACT_TYPE"].astype(object).to_numpy()
    running = ~revolving & (plan != sentinel) & (actual > -2) & ~np.isnan(first_due)
    for loan in ("Cash loans", "Consumer loans"):
        these = kind == loan
        dated = these & ~np.isnan(first_due) & (first_due != sentinel) & ~np.isnan(plan)
        future = running & these
        if dated.any() and future.any():
            running_share = 1.0 - _dated_share(loan, "DAYS_LAST_DUE")
            repaid = 1.0 - min(running_share * dated.sum() / future.sum(), 1.0)
            early_end = since_first_due()
            actual = np.where(future & (rng.random(n) < repaid), early_end, actual)
    actual = np.where((actual > -2) | (first_due == sentinel) | (~revolving & (plan == sentinel)) | still_open,
                      sentinel, actual)
    actual = np.where(np.isnan(last) | np.isnan(plan), np.nan, actual)
    ended, _ = drawn("DAYS_TERMINATION")
    termination = np.where(actual == sentinel, sentinel, actual + 1 + np.round(rng.exponential(3.0, n)))
    terminated = rng.random(n) < card_terminated / max(card_ended, 1e-9)
    termination = np.where(revolving & ~terminated, sentinel, np.minimum(termination, np.where(
        termination == sentinel, sentinel, -1.0)))
    termination = np.where(np.isnan(ended) | np.isnan(actual), np.nan, termination)
    drawing, _ = drawn("DAYS_FIRST_DRAWING")
    between = decision + np.floor(rng.random(n) * np.maximum(np.nan_to_num(first_due, nan=-2) - decision, 0))
    between = np.where(rng.random(n) < DRAWN_ON_DECISION, decision, between)
    first_drawing = np.where(~revolving | np.isnan(first_due) | (first_due == sentinel), sentinel,
                             np.minimum(between, -2))
    out["DAYS_FIRST_DUE"], out["DAYS_LAST_DUE_1ST_VERSION"] = first_due, plan
    out["DAYS_LAST_DUE"], out["DAYS_TERMINATION"] = actual, termination
    out["DAYS_FIRST_DRAWING"] = np.where(np.isnan(drawing), np.nan, first_drawing)


def _dated_share(kind: str, column: str) -> float:
    """Of the previous credits of this kind with a first due, the share with `column` dated (facts: the share of
    each date missing or "not yet" by contract type)."""
    spec = fidelity.facts()["history_dependence"]["previous_application"]["numeric_by_category_eta_ge_0_1"]
    missing = {c: spec[f"NAME_CONTRACT_TYPE->{c}"]["by_level"][kind]["share_missing"]
               for c in ("DAYS_FIRST_DUE", column)}
    return min((1 - missing[column]) / max(1 - missing["DAYS_FIRST_DUE"], 1e-9), 1.0)


DRAWINGS = ("ATM", "POS", "OTHER")
UNREPORTED_WHEN_IDLE = ("AMT_DRAWINGS_ATM_CURRENT", "AMT_DRAWINGS_POS_CURRENT", "AMT_DRAWINGS_OTHER_CURRENT",
                        "CNT_DRAWINGS_ATM_CURRENT", "CNT_DRAWINGS_POS_CURRENT", "CNT_DRAWINGS_OTHER_CURRENT",
                        "AMT_PAYMENT_CURRENT")


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
    rank = ranked(drawn, among=open_)
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
    _counted_months(out, unreported, rng)
    owed = balance != 0
    # The receivable is the balance itself as often as measured (the facts' share of equal rows, those owing
    # nothing included), else the balance over its measured ratio to it.
    spec = facts["AMT_BALANCE/AMT_RECIVABLE"]
    equal = rng.random(n) < np.clip((spec["share_equal"] - (~owed).mean()) / max(owed.mean(), 1e-9), 0.0, 1.0)
    receivable_ratio = ratio_marginal(spec, positive=True)
    ratio = receivable_ratio(rng.random(n))
    for _ in range(3):  # a ratio of exactly 1 drawn for a row that differs: drawn again
        ratio = np.where(ratio == 1.0, receivable_ratio(rng.random(n)), ratio)
    ratio = np.where(ratio == 1.0, RECEIVABLE_OVER, ratio)
    receivable = np.where(equal, balance, np.round(balance / ratio, 3))
    out["AMT_RECIVABLE"] = out["AMT_TOTAL_RECEIVABLE"] = np.where(owed, receivable, 0.0)
    principal = balance / ratio_marginal(facts["AMT_BALANCE/AMT_RECEIVABLE_PRINCIPAL"], positive=True)(rng.random(n))
    out["AMT_RECEIVABLE_PRINCIPAL"] = np.round(np.where(owed, principal, 0.0), 3)
    minimum = np.maximum(balance, 0) / ratio_marginal(facts["AMT_BALANCE/AMT_INST_MIN_REGULARITY"],
                                                       positive=True)(rng.random(n))
    full = (limit > 0) & (balance >= FULL_CARD * limit)  # a full card's minimum is a twentieth of its limit
    minimum = np.where(full, MINIMUM_SHARE * limit, minimum)
    known = out["AMT_INST_MIN_REGULARITY"].notna().to_numpy()
    out["AMT_INST_MIN_REGULARITY"] = np.where(known, np.round(np.where(balance > 0, minimum, 0.0), 3), np.nan)
    _card_payments(out, balance, facts, rng)
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


def _counted_months(out: pd.DataFrame, unreported: np.ndarray, rng) -> None:
    """The matured instalments and the minimum of a card's months, by what each month reports."""
    n = len(out)
    # What a statement counts follows what it reports (fidelity: drawings missing with the payment, phi 0.955,
    # with the matured count and the minimum, 0.42): a month whose drawings go unreported is one before any
    # instalment matured (count 0, minimum 0) or, at the measured rate, one the bank counted nothing for (count
    # and minimum missing); a reported month counts matured instalments (the drawn count moved into the positive
    # part of its marginal, in its own order) and states a payment (none drawn: nothing paid).
    mature_tab = table("credit_card_balance").column("CNT_INSTALMENT_MATURE_CUM")
    uncounted = unreported & (rng.random(n) < min(mature_tab.missing_rate / max(unreported.mean(), 1e-9), 1.0))
    mature = out["CNT_INSTALMENT_MATURE_CUM"].to_numpy(dtype=float)
    reported_month = ~unreported
    before_first = tab_share("credit_card_balance", "CNT_INSTALMENT_MATURE_CUM", 0.0)
    place = ranked(mature, among=reported_month)
    counted = above_zeros(fidelity.marginal("credit_card_balance", "CNT_INSTALMENT_MATURE_CUM", integer=True),
                          before_first, place)
    out["CNT_INSTALMENT_MATURE_CUM"] = np.where(uncounted, np.nan,
                                                np.where(reported_month, np.fmax(counted, 1.0), 0.0))
    out["AMT_INST_MIN_REGULARITY"] = np.where(uncounted, np.nan, np.nan_to_num(out["AMT_INST_MIN_REGULARITY"]))
    out["AMT_PAYMENT_CURRENT"] = np.where(reported_month, np.nan_to_num(out["AMT_PAYMENT_CURRENT"]), np.nan)


def _card_payments(out: pd.DataFrame, balance: np.ndarray, facts: dict, rng) -> None:
    """A card's payments of the month and in total, from its balance and minimum."""
    n = len(out)
    # This month's payment (below); a few last pennies where nothing is owed any more.
    current = out["AMT_PAYMENT_CURRENT"].to_numpy(dtype=float)
    minimum_due = out["AMT_INST_MIN_REGULARITY"].to_numpy(dtype=float)
    due = ~np.isnan(current) & (current > 0) & (minimum_due > 0)
    # Where a minimum is due and something paid, the payment is the minimum over the measured minimum-to-payment
    # ratio (drawn in the order of the drawn payments; at most 1): most pay the minimum or a little more, a few
    # the whole balance.
    place = ranked(current, among=due)
    share = ratio_marginal(facts["AMT_INST_MIN_REGULARITY/AMT_PAYMENT_CURRENT"], positive=True)(
        np.clip(1.0 - np.nan_to_num(place, nan=0.5), 0.0, 1.0 - 1e-9))
    current = np.where(due, np.round(minimum_due / np.clip(share, 1e-3, 1.0), 3), current)
    settled = ~np.isnan(current) & (balance == 0)
    current = np.where(settled, np.round(current * rng.random(n) * SETTLED_SHARE, 3), current)
    # The payments keep that order but take the measured amounts (round ones included) of their marginal's
    # positive part, still at least the minimum where one is due.
    paying = ~np.isnan(current) & (current > 0)
    place = ranked(current, among=paying)
    nothing = tab_share("credit_card_balance", "AMT_PAYMENT_CURRENT", 0.0)
    amounts = above_zeros(fidelity.marginal("credit_card_balance", "AMT_PAYMENT_CURRENT"), nothing, place)
    current = np.where(paying, np.where(due, np.fmax(amounts, minimum_due), amounts), current)
    out["AMT_PAYMENT_CURRENT"] = current
    total = current / ratio_marginal(facts["AMT_PAYMENT_CURRENT/AMT_PAYMENT_TOTAL_CURRENT"],
                                      positive=True)(rng.random(n))
    # Nothing paid in total where nothing was paid this month, and for some that were (the measured zero share).
    paid = ~np.isnan(current) & (current > 0)
    zero_total = tab_share("credit_card_balance", "AMT_PAYMENT_TOTAL_CURRENT", 0.0)
    unpaid = paid & (rng.random(n) < max(zero_total - (1 - paid.mean()), 0.0) / max(paid.mean(), 1e-9))
    out["AMT_PAYMENT_TOTAL_CURRENT"] = np.where(paid & ~unpaid, np.round(total, 3), 0.0)


# A used card's balance over its limit, by the place of the drawn balance among the used months: most cards run
# close to their limit, a few a little over it.
FULL_CARD, MINIMUM_SHARE = 0.95, 0.05
RECEIVABLE_OVER = 1.0048  # the balance-to-receivable ratio's 80th percentile, where a drawn ratio stays at 1
SETTLED_SHARE = 0.1  # at most this share of a drawn payment is still paid once nothing is owed
UTILISATION_KNOTS = (np.array([0.0, 0.1, 0.5, 0.9, 1.0]), np.array([0.01, 0.14, 0.87, 1.03, 1.2]))
