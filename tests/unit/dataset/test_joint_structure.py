"""The synthetic world's joint structure: the conditionals over the measured pairs, numbers within their
categories, the distance to each family of facts, and the accounting rules of each history table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from credit_scoring.dataset.schema import SENTINEL_DAYS
from credit_scoring.dataset.synthetic import fact_distance, fidelity
from credit_scoring.dataset.synthetic.application import joint_model
from credit_scoring.dataset.synthetic.conditionals import (
    MISSING,
    conditional_draw,
    conditional_uniform,
    pair_table,
    raked_share,
)
from credit_scoring.dataset.synthetic.credit_files import ratio_marginal
from credit_scoring.dataset.synthetic.marginals import make_clients
from credit_scoring.dataset.synthetic.past_credits import (
    _bureau_credits,
    monthly_histories,
    previous,
)


# ---- the building blocks ------------------------------------------------------------------------------------
def test_a_pair_table_keeps_the_measured_cells_and_both_margins():
    rows, columns = {"F": 0.6, "M": 0.4}, {"a": 0.5, "b": 0.3, "c": 0.2}
    table = pair_table({"F|a": 0.4, "M|b": 0.2}, rows, columns)
    assert table.loc["F", "a"] == pytest.approx(0.4) and table.loc["M", "b"] == pytest.approx(0.2)
    assert table.sum(axis=1).to_dict() == pytest.approx(rows, abs=1e-6)
    assert table.sum(axis=0).to_dict() == pytest.approx(columns, abs=1e-6)
    assert (table.to_numpy() >= 0).all()


def test_a_level_holding_the_separator_is_still_found():
    table = pair_table({"x|y|z": 0.3}, {"x|y": 0.5, "w": 0.5}, {"z": 0.6, "v": 0.4})
    assert table.loc["x|y", "z"] == pytest.approx(0.3)


def test_a_conditional_draw_follows_each_parent_and_the_rules_that_forbid():
    rng = np.random.default_rng(0)
    n = 40_000
    gender = np.where(rng.random(n) < 0.6, "F", "M")
    job = np.where(rng.random(n) < 0.2, "no job", "job")
    levels = [MISSING, "Drivers", "Sales"]
    joint = pair_table({"F|Drivers": 0.02, "F|Sales": 0.33, "M|Drivers": 0.25, "M|Sales": 0.05},
                       {"F": 0.6, "M": 0.4}, {MISSING: 0.35, "Drivers": 0.27, "Sales": 0.38})
    drawn = conditional_draw({"CODE_GENDER": gender}, {"CODE_GENDER": joint}, levels,
                             np.array([0.35, 0.27, 0.38]), rng.random(n), strata=job,
                             strata_allowed={"no job": np.array([1.0, 0, 0]), "job": np.ones(3)})
    assert (drawn[job == "no job"] == MISSING).all()  # the rule
    got = pd.crosstab(gender, drawn, normalize="index")
    wanted = joint.div(joint.sum(axis=1), axis=0)
    assert np.abs(got.loc["M", "Drivers"] - wanted.loc["M", "Drivers"]) < 0.02
    assert np.abs(got.loc["F", "Drivers"] - wanted.loc["F", "Drivers"]) < 0.02


def test_the_uniform_walks_the_levels_in_order_so_the_copula_ranks_survive():
    u = np.linspace(0.001, 0.999, 1000)
    drawn = conditional_draw({}, {}, ["low", "mid", "high"], np.array([0.2, 0.5, 0.3]), u)
    order = pd.Series(drawn).map({"low": 0, "mid": 1, "high": 2}).to_numpy()
    assert (np.diff(order) >= 0).all()
    assert np.mean(drawn == "low") == pytest.approx(0.2, abs=0.01)


def test_numbers_land_on_their_levels_measured_quantiles():
    rng = np.random.default_rng(1)
    n = 60_000
    marginal = fidelity.marginal("application_train", "DAYS_BIRTH", integer=True)
    facts = fidelity.facts()["application_train_joint"]["numeric_by_category_eta_ge_0_1"]
    by_level = facts["NAME_FAMILY_STATUS->DAYS_BIRTH"]["by_level"]
    shares = pd.Series(dict.fromkeys(by_level, 1.0))
    status = rng.choice(shares.index.to_numpy(), size=n, p=(shares / shares.sum()).to_numpy())
    values = marginal(conditional_uniform(rng.random(n), {"NAME_FAMILY_STATUS": status},
                                          {"NAME_FAMILY_STATUS": by_level}, marginal))
    for level, spec in by_level.items():
        got = np.quantile(values[status == level], [0.25, 0.5, 0.75])
        want = np.asarray(spec["quantiles_10_25_50_75_90"])[1:4]
        assert np.abs(got - want).max() < 0.06 * np.abs(want).max(), level


def test_a_share_missing_by_level_becomes_each_rows_probability():
    levels = np.array(["a"] * 500 + ["b"] * 500, dtype=object)
    p = raked_share({"C": levels}, {"C": {"a": {"share_missing": 0.1}, "b": {"share_missing": 0.7}}},
                    "share_missing", 0.4)
    assert p[:500] == pytest.approx(0.1, abs=1e-6) and p[500:] == pytest.approx(0.7, abs=1e-6)


def test_a_ratio_marginal_without_its_zeros_draws_only_positive_values():
    spec = fidelity.facts()["history_dependence"]["previous_application"]["amount_ratios_rho_ge_0_5"]
    ratio = ratio_marginal(spec["AMT_APPLICATION/AMT_CREDIT"], positive=True)
    drawn = ratio(np.random.default_rng(2).random(10_000))
    assert drawn.min() > 0 and np.mean(drawn == 1.0) == pytest.approx(0.2369 / (1 - 0.0373), abs=0.08)


# ---- the distance to the facts ------------------------------------------------------------------------------
def test_the_distance_is_zero_on_the_facts_own_cells_and_grows_when_pairs_are_broken():
    spec = fidelity.facts()["application_train_joint"]["category_pairs_cramers_v_ge_0_1"]["CODE_GENDER|FLAG_OWN_CAR"]
    cells = spec["cells_ge_0_5pct"]
    counts = {cell: round(share * 10_000) for cell, share in cells.items()}
    pairs = [cell.split("|") for cell, k in counts.items() for _ in range(k)]
    frame = pd.DataFrame(pairs, columns=["CODE_GENDER", "FLAG_OWN_CAR"])
    assert fact_distance.cells_distance(frame, "CODE_GENDER|FLAG_OWN_CAR", spec) < 0.001
    broken = frame.assign(FLAG_OWN_CAR=frame["FLAG_OWN_CAR"].sample(frac=1, random_state=0).to_numpy())
    assert fact_distance.cells_distance(broken, "CODE_GENDER|FLAG_OWN_CAR", spec) > 0.05


def test_the_quantile_gap_counts_a_point_mass_as_the_stretch_it_covers():
    values = np.array([0.0] * 60 + [1.0] * 40)
    assert fact_distance.quantile_gap(values, np.array([0.0, 0.0, 1.0]), np.array([0.1, 0.5, 0.9])) == 0.0
    assert fact_distance.quantile_gap(values, np.array([1.0]), np.array([0.5])) == pytest.approx(0.1)


def test_day_counts_treat_365243_as_no_date():
    frame = pd.DataFrame({"DAYS_DECISION": [-10.0, -20.0], "DAYS_FIRST_DUE": [SENTINEL_DAYS, -5.0]})
    spec = {"a_lt_b": 1.0, "a_eq_b": 0.0}
    assert fact_distance.ordering_distance(frame, "DAYS_DECISION|DAYS_FIRST_DUE", spec) == 0.0


# ---- the application file and the history tables ---------------------------------------------------------------
def test_the_application_joint_model_covers_every_measured_category_pair():
    model = joint_model("application_train")
    measured = fidelity.facts()["application_train_joint"]["category_pairs_cramers_v_ge_0_1"]
    assert len(model.tables) == len(measured)
    assert "DAYS_BIRTH" in model.by_category and "EXT_SOURCE_1" in model.by_category


@pytest.fixture(scope="module")
def histories():
    clients = make_clients(3_000, 300, np.random.default_rng(0))
    clients.risk[:] = np.random.default_rng(1).standard_normal(len(clients))
    prev = previous(clients, np.random.default_rng(2))
    bureau = _bureau_credits(clients, np.random.default_rng(3)).frame
    return prev, bureau, monthly_histories(prev, clients, np.random.default_rng(4))


def test_a_previous_credit_file_adds_up(histories):
    prev = histories[0]
    both = prev["AMT_GOODS_PRICE"].notna()
    assert (prev.loc[both, "AMT_GOODS_PRICE"] == prev.loc[both, "AMT_APPLICATION"]).all()
    assert (prev.loc[~both, "AMT_APPLICATION"] == 0).all()
    priced = prev["AMT_ANNUITY"].notna() & (prev["CNT_PAYMENT"] > 0) & (prev["AMT_CREDIT"] > 0)
    repaid = prev.loc[priced, "AMT_ANNUITY"] * prev.loc[priced, "CNT_PAYMENT"] / prev.loc[priced, "AMT_CREDIT"]
    assert repaid.quantile(0.05) >= 1.0 and repaid.median() == pytest.approx(1.21, abs=0.12)
    days = prev.replace(SENTINEL_DAYS, np.nan)
    assert (days["DAYS_DECISION"] < days["DAYS_FIRST_DUE"]).where(days["DAYS_FIRST_DUE"].notna(), True).all()
    assert (days["DAYS_FIRST_DUE"] < days["DAYS_LAST_DUE_1ST_VERSION"]).where(
        days[["DAYS_FIRST_DUE", "DAYS_LAST_DUE_1ST_VERSION"]].notna().all(axis=1), True).all()
    assert (days["DAYS_LAST_DUE"] <= days["DAYS_LAST_DUE_1ST_VERSION"]).where(
        days[["DAYS_LAST_DUE", "DAYS_LAST_DUE_1ST_VERSION"]].notna().all(axis=1), True).all()
    assert (days["DAYS_LAST_DUE"] < days["DAYS_TERMINATION"]).where(
        days[["DAYS_LAST_DUE", "DAYS_TERMINATION"]].notna().all(axis=1), True).all()
    assert (prev.loc[prev["NAME_CONTRACT_STATUS"] != "Refused", "CODE_REJECT_REASON"] == "XAP").all()


def test_a_bureau_record_keeps_its_days_in_order(histories):
    bureau = histories[1]
    closed = bureau["CREDIT_ACTIVE"] == "Closed"
    start, end = bureau["DAYS_CREDIT"], bureau["DAYS_ENDDATE_FACT"]
    assert (end[closed] >= start[closed]).all() and end[~closed].isna().all()
    assert (bureau["DAYS_CREDIT_UPDATE"] >= start).all()
    assert (bureau.loc[closed, "DAYS_CREDIT_UPDATE"] >= end[closed]).all()
    assert (bureau["DAYS_CREDIT_ENDDATE"].dropna() > start[bureau["DAYS_CREDIT_ENDDATE"].notna()]).all()
    assert (bureau.loc[closed, ["CREDIT_DAY_OVERDUE", "AMT_CREDIT_SUM_OVERDUE"]] == 0).all().all()


def test_a_previous_card_and_loan_follow_their_kind(histories):
    prev = histories[0]
    kind, status = prev["NAME_CONTRACT_TYPE"], prev["NAME_CONTRACT_STATUS"]
    card = prev[(kind == "Revolving loans") & (status != "Canceled")]
    assert len(card) > 50 and (card["AMT_CREDIT"] > 0).all() and (card["AMT_CREDIT"] % 22_500 == 0).all()
    assert card["CNT_PAYMENT"].eq(0).all()  # a card has no term
    assert np.allclose(card["AMT_ANNUITY"], 0.05 * card["AMT_CREDIT"])  # its minimum: a twentieth of its limit
    asked = card["AMT_APPLICATION"] > 0
    assert (card.loc[asked, "AMT_APPLICATION"] == card.loc[asked, "AMT_CREDIT"]).all() and 0 < asked.mean() < 1
    dated = prev["DAYS_FIRST_DUE"].notna() & (prev["DAYS_FIRST_DUE"] != SENTINEL_DAYS)
    loans = prev[dated & (kind != "Revolving loans")]
    cards = prev[dated & (kind == "Revolving loans")]
    assert loans["DAYS_FIRST_DRAWING"].dropna().eq(SENTINEL_DAYS).all()  # a loan is not drawn as a card is
    assert (loans["DAYS_LAST_DUE_1ST_VERSION"] != SENTINEL_DAYS).all() and (loans["CNT_PAYMENT"] > 0).all()
    assert cards["DAYS_LAST_DUE_1ST_VERSION"].dropna().eq(SENTINEL_DAYS).all()  # a card has no planned end
    assert 0.2 < cards["DAYS_LAST_DUE"].eq(SENTINEL_DAYS).mean() < 0.9  # most cards still open
    for loan, running in (("Cash loans", 0.24), ("Consumer loans", 0.11)):  # facts: still running, of the dated
        these = loans[loans["NAME_CONTRACT_TYPE"] == loan]
        assert these["DAYS_LAST_DUE"].eq(SENTINEL_DAYS).mean() == pytest.approx(running, abs=0.06)
    cash = prev[(kind == "Cash loans") & (prev["AMT_APPLICATION"] > 0)]
    assert (cash["AMT_CREDIT"] >= cash["AMT_APPLICATION"]).all()  # never less than asked, insurance on top


def test_an_open_bureau_credit_owes_part_of_its_sum(histories):
    bureau = histories[1]
    is_open = (bureau["CREDIT_ACTIVE"] != "Closed") & bureau["AMT_CREDIT_SUM_DEBT"].notna()
    debt, total = bureau.loc[is_open, "AMT_CREDIT_SUM_DEBT"], bureau.loc[is_open, "AMT_CREDIT_SUM"]
    assert (debt <= total + 0.01).all() and (debt >= 0).all()
    assert 0.1 < (debt == 0).mean() < 0.3  # facts: the open credits' zeros, about a fifth
    share = (debt / total)[debt > 0]
    assert 0.45 < share.median() < 0.85  # repaying annuities: most still owe more than half
    closed = bureau["CREDIT_ACTIVE"] == "Closed"
    delay = (bureau["DAYS_CREDIT_UPDATE"] - bureau["DAYS_ENDDATE_FACT"])[closed]
    assert 0.2 < (delay == 0).mean() < 0.4 and delay.quantile(0.9) > 150  # a quarter on the day, a long tail


def test_a_card_statement_adds_up(histories):
    card = histories[2]["credit_card_balance"]
    reported = card["AMT_DRAWINGS_ATM_CURRENT"].notna()
    kinds = card.loc[reported, ["AMT_DRAWINGS_ATM_CURRENT", "AMT_DRAWINGS_POS_CURRENT", "AMT_DRAWINGS_OTHER_CURRENT"]]
    assert np.allclose(kinds.sum(axis=1), card.loc[reported, "AMT_DRAWINGS_CURRENT"], atol=0.01)
    for kind in ("ATM", "POS", "OTHER"):
        amount, count = card[f"AMT_DRAWINGS_{kind}_CURRENT"], card[f"CNT_DRAWINGS_{kind}_CURRENT"]
        assert ((amount > 0) == (count > 0))[reported].all()
    assert card.loc[~reported, "AMT_BALANCE"].eq(0).all()  # only an idle month goes unreported
    idle = card["AMT_BALANCE"] == 0
    assert (card.loc[idle, ["AMT_RECIVABLE", "AMT_TOTAL_RECEIVABLE", "AMT_RECEIVABLE_PRINCIPAL"]] == 0).all().all()
    assert np.mean(card["AMT_RECIVABLE"] == card["AMT_BALANCE"]) == pytest.approx(0.83, abs=0.05)
    assert (card["SK_DPD_DEF"] <= card["SK_DPD"]).all()
    assert card.groupby("SK_ID_PREV")["AMT_CREDIT_LIMIT_ACTUAL"].nunique().max() == 1


def test_a_card_statement_counts_what_it_reports(histories):
    card = histories[2]["credit_card_balance"]
    reported = card["AMT_DRAWINGS_ATM_CURRENT"].notna()
    mature, minimum, paid = (card[c] for c in ("CNT_INSTALMENT_MATURE_CUM", "AMT_INST_MIN_REGULARITY",
                                                "AMT_PAYMENT_CURRENT"))
    # an unreported month: no payment, nothing matured yet or nothing counted (count and minimum missing together)
    assert paid[~reported].isna().all() and paid[reported].notna().all()
    assert (mature.isna() == minimum.isna()).all()
    assert mature[~reported].fillna(0).eq(0).all() and (mature[reported] >= 1).all()
    assert 0.1 < mature[~reported].isna().mean() < 0.6  # the measured 7 % of all rows, of the 23 % unreported
    # where a minimum is due and something is paid: at least the minimum, mostly close to it
    due = (minimum > 0) & (paid > 0)
    ratio = (paid / minimum)[due]
    assert due.sum() > 100 and (ratio >= 1.0).all() and ratio.median() < 2.5 and (ratio == 1.0).mean() > 0.05


def test_monthly_histories_follow_their_credits_schedule(histories):
    prev, _, monthly = histories
    pos, instalments = monthly["POS_CASH_balance"], monthly["installments_payments"]
    # a point-of-sale credit's months: Completed only with nothing left to pay, inside its schedule
    status, future = pos["NAME_CONTRACT_STATUS"], pos["CNT_INSTALMENT_FUTURE"]
    assert (future[status == "Completed"].dropna() == 0).all()
    both = future.notna() & pos["CNT_INSTALMENT"].notna()
    assert 0.04 < (future == 0).mean() < 0.2 and (future[both] <= pos.loc[both, "CNT_INSTALMENT"]).all()
    assert len(pos) / pos["SK_ID_PREV"].nunique() == pytest.approx(10.68, rel=0.15)  # the measured rows per credit
    # instalments within Kaggle's eight years, a loan's schedule ending where its credit's first due puts it
    assert (instalments["DAYS_INSTALMENT"] >= -2922).all() and (instalments["DAYS_INSTALMENT"] <= -1).all()
    first_due = prev.set_index("SK_ID_PREV")["DAYS_FIRST_DUE"].replace(SENTINEL_DAYS, np.nan)
    loans = instalments[instalments["NUM_INSTALMENT_VERSION"] > 0]
    last = loans.groupby("SK_ID_PREV").agg(due=("DAYS_INSTALMENT", "max"), n=("NUM_INSTALMENT_NUMBER", "max"))
    planned_end = first_due.reindex(last.index) + 30 * (last["n"] - 1)
    dated = planned_end.notna() & (planned_end > -2922 + 30 * last["n"])
    assert dated.sum() > 100 and (last.loc[dated, "due"] <= planned_end[dated]).mean() > 0.95
    # a card's instalment is its month's minimum: it varies from month to month, small when the card is idle
    cards = instalments[instalments["NUM_INSTALMENT_VERSION"] == 0]
    assert cards.groupby("SK_ID_PREV")["AMT_INSTALMENT"].nunique().median() > 1
    assert (cards["AMT_INSTALMENT"] < 500).mean() > 0.05


def test_a_cards_instalments_are_version_zero(histories):
    prev, _, monthly = histories
    card = set(prev.loc[prev["NAME_CONTRACT_TYPE"] == "Revolving loans", "SK_ID_PREV"])
    instalments = monthly["installments_payments"]
    assert ((instalments["NUM_INSTALMENT_VERSION"] == 0) == instalments["SK_ID_PREV"].isin(card)).all()
    late = instalments["DAYS_ENTRY_PAYMENT"] > instalments["DAYS_INSTALMENT"]
    same = instalments["DAYS_ENTRY_PAYMENT"] == instalments["DAYS_INSTALMENT"]
    assert 0.03 < late.mean() < 0.15 and 0.15 < same.mean() < 0.32
