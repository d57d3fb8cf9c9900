"""Feature engineering: known answers on small hand-made frames, names, and one code path for a batch
and a single served client."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from credit_scoring.dataset.schema import HISTORY_TABLES, table
from credit_scoring.features.application import application_features, application_frame, sanitize
from credit_scoring.features.history_engine import (
    aggregates,
    assemble,
    build_history,
    connect,
    history_aggregates,
    history_features,
)
from credit_scoring.features.history_specs import (
    CLIENT_SOURCES,
    HISTORY_FLAGS,
    SOURCES,
    application_feature_names,
    feature_columns,
    history_feature_names,
)
from tests.conftest import SAMPLE_DIR, missing
from tests.unit.features.pandas_aggregates import pandas_aggregates

DTYPES = {"VARCHAR": "object", "BIGINT": "int64", "DOUBLE": "float64"}


def typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A frame in the prepared layout: the schema's columns, order and types."""
    return pd.DataFrame({c.name: frame[c.name].astype(DTYPES[c.sql_type]) for c in table(name).columns})


def make(name: str, rows: list[dict]) -> pd.DataFrame:
    """Hand-made rows of a table: unspecified integers 0, other unspecified values missing."""
    defaults = {c.name: 0 if c.sql_type == "BIGINT" else None for c in table(name).columns}
    return typed(name, pd.DataFrame([{**defaults, **row} for row in rows]))


def load_table(folder, name: str) -> pd.DataFrame:
    """One table of a folder of Kaggle-format CSVs, in the prepared layout."""
    return typed(name, pd.read_csv(folder / table(name).file, low_memory=False))


def load_sample(name: str) -> pd.DataFrame:
    if not SAMPLE_DIR.is_dir():
        missing(f"real Home Credit sample not found at {SAMPLE_DIR}", "REQUIRE_SAMPLE")
    return load_table(SAMPLE_DIR, name)


def linked_sample() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The real sample's rows re-keyed so that history rows belong to the sample's train clients (the
    sample tables are independent draws, mostly unlinked), leaving some clients without any history."""
    rng = np.random.default_rng(0)
    app = load_sample("application_train")
    clients = app["SK_ID_CURR"].to_numpy()[:600]  # the last 400 clients keep no history
    t = {name: load_sample(name) for name in HISTORY_TABLES}
    t["bureau"]["SK_ID_CURR"] = rng.choice(clients, len(t["bureau"]))
    credits = t["bureau"]["SK_ID_BUREAU"].to_numpy()[:500]
    t["bureau_balance"]["SK_ID_BUREAU"] = rng.choice(credits, len(t["bureau_balance"]))
    prev = t["previous_application"]
    prev["SK_ID_CURR"] = rng.choice(clients, len(prev))
    owner = prev.set_index("SK_ID_PREV")["SK_ID_CURR"]
    for name in ("POS_CASH_balance", "installments_payments", "credit_card_balance"):
        t[name]["SK_ID_PREV"] = rng.choice(prev["SK_ID_PREV"].to_numpy()[:400], len(t[name]))
        t[name]["SK_ID_CURR"] = owner.loc[t[name]["SK_ID_PREV"]].to_numpy()
    return app, t


def batch(app: pd.DataFrame, history: dict[str, pd.DataFrame], keep: tuple[str, ...] = ()) -> pd.DataFrame:
    with connect(history) as con:
        build_history(con)
        aggregated = aggregates(con)
    return assemble(app, aggregated, keep)


def one_client(app: pd.DataFrame, history: dict[str, pd.DataFrame], client: int) -> tuple[dict, dict]:
    """A client's application as a dict and its rows of each history table, as the API would get them."""
    credits = history["bureau"].loc[history["bureau"]["SK_ID_CURR"] == client, "SK_ID_BUREAU"]
    rows = {
        name: frame[frame["SK_ID_BUREAU"].isin(credits) if name == "bureau_balance" else frame["SK_ID_CURR"] == client]
        for name, frame in history.items()
    }
    return app[app["SK_ID_CURR"] == client].iloc[0].to_dict(), rows


# --- names -------------------------------------------------------------------------------------------


def test_feature_names_are_sanitised_unique_and_free_of_ids_and_target():
    names = feature_columns()
    assert len(names) >= 800
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", n) for n in names)
    assert not [n for n in names if "SK_ID" in n or "TARGET" in n]
    for expected in (
        "NAME_TYPE_SUITE_Spouse_partner",
        "NAME_EDUCATION_TYPE_Secondary_secondary_special",
        "ORGANIZATION_TYPE_Trade_type_7",
        "ORGANIZATION_TYPE_Business_Entity_Type_3",
        "NAME_TYPE_SUITE_nan",
    ):
        assert expected in names
    assert sanitize("Spouse, partner") == "Spouse_partner"
    assert feature_columns() == names  # deterministic
    flags = [flag for source in CLIENT_SOURCES for flag in source.flags]
    assert flags == list(HISTORY_FLAGS.values())


# --- application -------------------------------------------------------------------------------------


def test_application_ratios_sentinel_and_external_scores():
    app = make(
        "application_test",
        [
            {
                "SK_ID_CURR": 1, "AMT_INCOME_TOTAL": 100.0, "AMT_CREDIT": 400.0, "AMT_ANNUITY": 20.0,
                "AMT_GOODS_PRICE": 360.0, "DAYS_BIRTH": -7305, "DAYS_EMPLOYED": -730, "CNT_FAM_MEMBERS": 4.0,
                "EXT_SOURCE_1": 0.2, "EXT_SOURCE_3": 0.8, "FLAG_DOCUMENT_3": 1, "FLAG_DOCUMENT_8": 1,
                "AMT_REQ_CREDIT_BUREAU_YEAR": 2.0, "AMT_REQ_CREDIT_BUREAU_MON": 1.0,
            },
            {"SK_ID_CURR": 2, "AMT_INCOME_TOTAL": 100.0, "AMT_CREDIT": 0.0, "AMT_ANNUITY": 20.0,
             "DAYS_BIRTH": -20000, "DAYS_EMPLOYED": 365243, "EXT_SOURCE_2": 0.5},
        ],
    )
    f = application_features(app)
    a, b = f.loc[1], f.loc[2]
    assert a["CREDIT_INCOME_RATIO"] == 4.0
    assert a["ANNUITY_INCOME_RATIO"] == 0.2
    assert a["PAYMENT_RATE"] == 0.05
    assert a["GOODS_CREDIT_RATIO"] == 0.9
    assert a["EMPLOYED_AGE_RATIO"] == pytest.approx(730 / 7305)
    assert a["INCOME_PER_FAMILY_MEMBER"] == 25.0
    assert a["AGE_YEARS"] == pytest.approx(20.0)
    assert a["EMPLOYED_YEARS"] == pytest.approx(730 / 365.25)
    assert a["DOCUMENT_COUNT"] == 2 and a["BUREAU_ENQUIRY_COUNT"] == 3
    assert a["DAYS_EMPLOYED_SENTINEL"] == 0 and a["DAYS_EMPLOYED"] == -730
    assert (a["EXT_SOURCE_MEAN"], a["EXT_SOURCE_MIN"], a["EXT_SOURCE_MAX"]) == pytest.approx((0.5, 0.2, 0.8))
    assert a["EXT_SOURCE_STD"] == pytest.approx(np.std([0.2, 0.8], ddof=1))
    assert np.isnan(a["EXT_SOURCE_PROD"])  # needs all three scores
    assert a["EXT_SOURCE_WEIGHTED"] == pytest.approx((2 * 0.2 + 3 * 0.8) / 5)
    # The sentinel is missing, never a 1000-year career; a zero credit gives missing ratios, not inf.
    assert np.isnan(b["DAYS_EMPLOYED"]) and np.isnan(b["EMPLOYED_YEARS"]) and np.isnan(b["EMPLOYED_AGE_RATIO"])
    assert b["DAYS_EMPLOYED_SENTINEL"] == 1
    assert np.isnan(b["PAYMENT_RATE"]) and np.isnan(b["GOODS_CREDIT_RATIO"]) and b["CREDIT_INCOME_RATIO"] == 0
    assert np.isnan(b["BUREAU_ENQUIRY_COUNT"])
    assert np.isnan(b["EXT_SOURCE_STD"]) and b["EXT_SOURCE_MEAN"] == 0.5 and b["EXT_SOURCE_WEIGHTED"] == 0.5
    assert f.dtypes.eq("float64").all()
    assert not np.isinf(f.to_numpy()[~np.isnan(f.to_numpy())]).any()


def test_categories_use_fixed_lists_and_binaries_are_0_1():
    app = make(
        "application_test",
        [
            {"SK_ID_CURR": 1, "CODE_GENDER": "M", "FLAG_OWN_CAR": "Y", "FLAG_OWN_REALTY": "N",
             "NAME_TYPE_SUITE": "Spouse, partner", "ORGANIZATION_TYPE": "Trade: type 7"},
            {"SK_ID_CURR": 2, "CODE_GENDER": "F", "FLAG_OWN_CAR": "N", "FLAG_OWN_REALTY": "Y",
             "NAME_TYPE_SUITE": None, "ORGANIZATION_TYPE": "A value never seen"},
            {"SK_ID_CURR": 3, "CODE_GENDER": "XNA"},
        ],
    )
    f = application_features(app)
    assert list(f.columns) == application_feature_names()  # columns never depend on the rows
    assert f["CODE_GENDER_M"].tolist()[:2] == [1.0, 0.0] and np.isnan(f.loc[3, "CODE_GENDER_M"])
    assert f["FLAG_OWN_CAR_Y"].tolist()[:2] == [1.0, 0.0]
    assert f["FLAG_OWN_REALTY_Y"].tolist()[:2] == [0.0, 1.0]
    suite = [c for c in f.columns if c.startswith("NAME_TYPE_SUITE_")]
    assert f.loc[1, suite].sum() == 1 and f.loc[1, "NAME_TYPE_SUITE_Spouse_partner"] == 1
    assert f.loc[2, suite].sum() == 1 and f.loc[2, "NAME_TYPE_SUITE_nan"] == 1
    organisation = [c for c in f.columns if c.startswith("ORGANIZATION_TYPE_")]
    assert f.loc[1, "ORGANIZATION_TYPE_Trade_type_7"] == 1
    assert f.loc[2, organisation].sum() == 0  # unknown value: no column fires, none is added
    assert "TARGET" not in f.columns and "SK_ID_CURR" not in f.columns


def test_application_features_require_the_full_layout():
    app = make("application_test", [{"SK_ID_CURR": 1}]).drop(columns="AMT_CREDIT")
    with pytest.raises(KeyError, match="AMT_CREDIT"):
        application_features(app)


# --- history tables ----------------------------------------------------------------------------------


def test_bureau_with_bureau_balance_aggregated_per_credit_first():
    bureau = make(
        "bureau",
        [
            {"SK_ID_CURR": 1, "SK_ID_BUREAU": 10, "CREDIT_ACTIVE": "Active", "DAYS_CREDIT": -100,
             "AMT_CREDIT_SUM": 100.0, "AMT_CREDIT_SUM_DEBT": 50.0, "CREDIT_TYPE": "Car loan"},
            {"SK_ID_CURR": 1, "SK_ID_BUREAU": 11, "CREDIT_ACTIVE": "Closed", "DAYS_CREDIT": -300,
             "AMT_CREDIT_SUM": 200.0, "AMT_CREDIT_SUM_DEBT": 0.0, "CREDIT_TYPE": "Consumer credit"},
            {"SK_ID_CURR": 2, "SK_ID_BUREAU": 20, "CREDIT_ACTIVE": "Closed", "DAYS_CREDIT": -50,
             "AMT_CREDIT_SUM": 0.0},
        ],
    )
    balance = make(
        "bureau_balance",
        [
            {"SK_ID_BUREAU": 10, "MONTHS_BALANCE": 0, "STATUS": "0"},
            {"SK_ID_BUREAU": 10, "MONTHS_BALANCE": -1, "STATUS": "1"},
            {"SK_ID_BUREAU": 10, "MONTHS_BALANCE": -20, "STATUS": "3"},
            {"SK_ID_BUREAU": 10, "MONTHS_BALANCE": -21, "STATUS": "C"},
        ],
    )
    h = history_features({"bureau": bureau, "bureau_balance": balance})
    one, two = h.loc[1], h.loc[2]
    assert one["BURO_COUNT"] == 2 and one["BURO_AMT_CREDIT_SUM_SUM"] == 300
    assert one["BURO_DAYS_CREDIT_MEAN"] == -200 and one["BURO_DAYS_CREDIT_VAR"] == 20000
    assert one["BURO_CREDIT_ACTIVE_Active_MEAN"] == 0.5 and one["BURO_CREDIT_TYPE_Car_loan_MEAN"] == 0.5
    assert one["BURO_DEBT_CREDIT_RATIO_MEAN"] == 0.25
    assert one["ACTIVE_COUNT"] == 1 and one["ACTIVE_AMT_CREDIT_SUM_MEAN"] == 100
    assert one["CLOSED_COUNT"] == 1 and one["CLOSED_AMT_CREDIT_SUM_MEAN"] == 200
    # bureau_balance: 4 months on credit 10, worst DPD bucket 3, 1 in the last 12 months
    assert one["BURO_BB_COUNT_SUM"] == 4 and one["BURO_BB_COUNT_MEAN"] == 4
    assert one["BURO_BB_MONTHS_BALANCE_MIN_MIN"] == -21 and one["BURO_BB_MONTHS_BALANCE_MAX_MAX"] == 0
    assert one["BURO_BB_DPD_STATUS_MAX_MAX"] == 3 and one["BURO_BB_L12_DPD_STATUS_MAX_MAX"] == 1
    assert one["BURO_BB_STATUS_C_MEAN_MEAN"] == 0.25 and one["BURO_BB_STATUS_1_MEAN_MEAN"] == 0.25
    assert one["HAS_BUREAU"] == 1 and one["HAS_BUREAU_BALANCE"] == 1
    # client 2: no active credit (count 0, aggregates missing), no balance rows, zero credit sum
    assert two["ACTIVE_COUNT"] == 0 and np.isnan(two["ACTIVE_AMT_CREDIT_SUM_MEAN"])
    assert two["HAS_BUREAU"] == 1 and two["HAS_BUREAU_BALANCE"] == 0 and np.isnan(two["BURO_BB_COUNT_SUM"])
    assert np.isnan(two["BURO_DEBT_CREDIT_RATIO_MEAN"]) and np.isnan(two["BURO_DAYS_CREDIT_VAR"])
    assert np.isnan(one["PREV_COUNT"]) and one["HAS_PREVIOUS_APPLICATION"] == 0


def test_previous_applications_split_by_status_with_sentinels_and_recency():
    rows = [
        # DAYS_DECISION: the three latest are -10, -20, -30
        {"SK_ID_PREV": 1, "NAME_CONTRACT_STATUS": "Approved", "DAYS_DECISION": -10, "AMT_APPLICATION": 90.0,
         "AMT_CREDIT": 100.0, "DAYS_TERMINATION": 365243.0, "DAYS_FIRST_DRAWING": 365243.0},
        {"SK_ID_PREV": 2, "NAME_CONTRACT_STATUS": "Refused", "DAYS_DECISION": -20, "AMT_APPLICATION": 50.0,
         "AMT_CREDIT": 0.0, "DAYS_TERMINATION": -5.0},
        {"SK_ID_PREV": 3, "NAME_CONTRACT_STATUS": "Refused", "DAYS_DECISION": -30, "AMT_APPLICATION": 60.0,
         "AMT_CREDIT": 60.0, "DAYS_TERMINATION": -25.0},
        {"SK_ID_PREV": 4, "NAME_CONTRACT_STATUS": "Approved", "DAYS_DECISION": -400, "AMT_APPLICATION": 200.0,
         "AMT_CREDIT": 250.0, "DAYS_TERMINATION": -300.0},
    ]
    prev = make("previous_application", [{"SK_ID_CURR": 7, **r} for r in rows])
    p = history_features({"previous_application": prev}).loc[7]
    assert p["PREV_COUNT"] == 4 and p["APPROVED_COUNT"] == 2 and p["REFUSED_COUNT"] == 2
    assert p["PREV_DAYS_TERMINATION_MAX"] == -5  # the 365243 sentinel is not a date
    assert p["PREV_APP_CREDIT_PERC_MEAN"] == pytest.approx((0.9 + 1.0 + 0.8) / 3)  # credit 0: missing
    assert p["PREV_APP_CREDIT_PERC_MAX"] == 1.0
    assert p["APPROVED_AMT_CREDIT_MEAN"] == 175 and p["REFUSED_AMT_APPLICATION_MEAN"] == 55
    assert p["PREV_NAME_CONTRACT_STATUS_Refused_MEAN"] == 0.5
    assert p["PREV_L3_COUNT"] == 3 and p["PREV_L3_NAME_CONTRACT_STATUS_Refused_MEAN"] == pytest.approx(2 / 3)
    assert p["PREV_L3_DAYS_DECISION_MEAN"] == -20 and p["PREV_L3_AMT_CREDIT_MEAN"] == pytest.approx(160 / 3)
    assert p["HAS_PREVIOUS_APPLICATION"] == 1


def test_pos_cash_dpd_and_last_12_months():
    pos = make(
        "POS_CASH_balance",
        [
            {"SK_ID_CURR": 5, "SK_ID_PREV": 1, "MONTHS_BALANCE": -1, "SK_DPD": 0, "NAME_CONTRACT_STATUS": "Active",
             "CNT_INSTALMENT_FUTURE": 6.0},
            {"SK_ID_CURR": 5, "SK_ID_PREV": 1, "MONTHS_BALANCE": -2, "SK_DPD": 10, "SK_DPD_DEF": 2,
             "NAME_CONTRACT_STATUS": "Active", "CNT_INSTALMENT_FUTURE": 7.0},
            {"SK_ID_CURR": 5, "SK_ID_PREV": 2, "MONTHS_BALANCE": -30, "SK_DPD": 40,
             "NAME_CONTRACT_STATUS": "Completed"},
        ],
    )
    p = history_features({"POS_CASH_balance": pos}).loc[5]
    assert p["POS_COUNT"] == 3 and p["POS_SK_DPD_MAX"] == 40 and p["POS_LATE_MEAN"] == pytest.approx(2 / 3)
    assert p["POS_MONTHS_BALANCE_MAX"] == -1 and p["POS_CNT_INSTALMENT_FUTURE_MIN"] == 6
    assert p["POS_NAME_CONTRACT_STATUS_Completed_MEAN"] == pytest.approx(1 / 3)
    assert p["POS_L12_COUNT"] == 2 and p["POS_L12_SK_DPD_MAX"] == 10 and p["POS_L12_SK_DPD_DEF_MEAN"] == 1
    assert p["HAS_POS_CASH"] == 1


def test_installments_payment_ratios_and_clipped_delays():
    inst = make(
        "installments_payments",
        [
            # paid 5 days late, in full
            {"SK_ID_CURR": 3, "SK_ID_PREV": 1, "NUM_INSTALMENT_VERSION": 1.0, "DAYS_INSTALMENT": -100.0,
             "DAYS_ENTRY_PAYMENT": -95.0, "AMT_INSTALMENT": 100.0, "AMT_PAYMENT": 100.0},
            # paid 10 days early, half
            {"SK_ID_CURR": 3, "SK_ID_PREV": 1, "NUM_INSTALMENT_VERSION": 2.0, "DAYS_INSTALMENT": -70.0,
             "DAYS_ENTRY_PAYMENT": -80.0, "AMT_INSTALMENT": 100.0, "AMT_PAYMENT": 50.0},
            # two years ago, not paid yet (payment day missing)
            {"SK_ID_CURR": 3, "SK_ID_PREV": 2, "NUM_INSTALMENT_VERSION": 1.0, "DAYS_INSTALMENT": -700.0,
             "AMT_INSTALMENT": 40.0, "AMT_PAYMENT": 0.0},
        ],
    )
    i = history_features({"installments_payments": inst}).loc[3]
    assert i["INSTAL_COUNT"] == 3 and i["INSTAL_NUM_INSTALMENT_VERSION_NUNIQUE"] == 2
    assert i["INSTAL_DPD_MAX"] == 5 and i["INSTAL_DPD_MEAN"] == 2.5 and i["INSTAL_DBD_SUM"] == 10
    assert i["INSTAL_LATE_MEAN"] == 0.5 and i["INSTAL_LATE_SUM"] == 1
    assert i["INSTAL_PAYMENT_PERC_MEAN"] == pytest.approx(0.5) and i["INSTAL_PAYMENT_DIFF_SUM"] == 90
    assert i["INSTAL_PAYMENT_DIFF_MAX"] == 50 and i["INSTAL_AMT_PAYMENT_MIN"] == 0
    assert i["INSTAL_L365_COUNT"] == 2 and i["INSTAL_L365_PAYMENT_DIFF_SUM"] == 50
    assert i["INSTAL_L365_AMT_PAYMENT_SUM"] == 150 and i["HAS_INSTALLMENTS"] == 1


def test_credit_card_utilisation_and_drawings():
    cc = make(
        "credit_card_balance",
        [
            {"SK_ID_CURR": 4, "SK_ID_PREV": 1, "MONTHS_BALANCE": -1, "AMT_BALANCE": 500.0,
             "AMT_CREDIT_LIMIT_ACTUAL": 1000, "AMT_DRAWINGS_CURRENT": 100.0, "SK_DPD": 0,
             "NAME_CONTRACT_STATUS": "Active"},
            {"SK_ID_CURR": 4, "SK_ID_PREV": 1, "MONTHS_BALANCE": -2, "AMT_BALANCE": 900.0,
             "AMT_CREDIT_LIMIT_ACTUAL": 1000, "AMT_DRAWINGS_CURRENT": 300.0, "SK_DPD": 3,
             "NAME_CONTRACT_STATUS": "Active"},
            {"SK_ID_CURR": 4, "SK_ID_PREV": 1, "MONTHS_BALANCE": -24, "AMT_BALANCE": 50.0,
             "AMT_CREDIT_LIMIT_ACTUAL": 0, "AMT_DRAWINGS_CURRENT": 0.0, "SK_DPD": 0,
             "NAME_CONTRACT_STATUS": "Completed"},
        ],
    )
    c = history_features({"credit_card_balance": cc}).loc[4]
    assert c["CC_COUNT"] == 3 and c["CC_AMT_BALANCE_SUM"] == 1450 and c["CC_AMT_BALANCE_MAX"] == 900
    assert c["CC_UTILISATION_MEAN"] == pytest.approx(0.7) and c["CC_UTILISATION_MAX"] == 0.9  # limit 0: missing
    assert c["CC_AMT_DRAWINGS_CURRENT_VAR"] == pytest.approx(np.var([100, 300, 0], ddof=1))
    assert c["CC_LATE_MEAN"] == pytest.approx(1 / 3) and c["CC_SK_DPD_MAX"] == 3
    assert c["CC_NAME_CONTRACT_STATUS_Completed_MEAN"] == pytest.approx(1 / 3)
    assert c["CC_L12_COUNT"] == 2 and c["CC_L12_AMT_DRAWINGS_CURRENT_SUM"] == 400
    assert c["CC_L12_UTILISATION_MEAN"] == pytest.approx(0.7) and c["HAS_CREDIT_CARD"] == 1


def test_missing_history_stays_missing_and_flags_are_zero():
    app = make("application_test", [{"SK_ID_CURR": 1}, {"SK_ID_CURR": 2}])
    bureau = make("bureau", [{"SK_ID_CURR": 1, "SK_ID_BUREAU": 10, "CREDIT_ACTIVE": "Active"}])
    f = batch(app, {"bureau": bureau})
    assert list(f.columns) == feature_columns()
    flags = list(HISTORY_FLAGS.values())
    assert f[flags].notna().all().all()
    assert f.loc[1, flags].tolist() == [1, 0, 0, 0, 0, 0]
    assert f.loc[2, flags].tolist() == [0] * 6
    others = [c for c in history_feature_names() if c not in flags]
    assert f.loc[2, others].isna().all()  # no history: missing, never zero
    assert f.loc[1, "BURO_COUNT"] == 1 and np.isnan(f.loc[1, "PREV_COUNT"])


# --- one code path -----------------------------------------------------------------------------------


def test_served_application_part_equals_the_batch_row_exactly():
    """Serving recomputes the application features from the fields a request sends (JSON values: None for
    missing) through `application_frame`; every value must be the batch stage's."""
    app, history = linked_sample()
    full = batch(app, history, keep=("TARGET",))
    assert list(full.columns) == ["TARGET", *feature_columns()]
    assert full["HAS_BUREAU"].between(0.05, 0.95).mean() == 0  # flags are 0/1
    assert 0 < full["HAS_BUREAU"].mean() < 1 and 0 < full["HAS_CREDIT_CARD"].mean() < 1
    rng = np.random.default_rng(1)
    clients = rng.choice(app["SK_ID_CURR"].to_numpy(), 12, replace=False)
    records = [{k: (None if pd.isna(v) else v) for k, v in one_client(app, history, c)[0].items()} for c in clients]
    served = application_features(application_frame(records))
    assert list(served.columns) == application_feature_names()
    expected = full.loc[clients, application_feature_names()].to_numpy()
    assert np.array_equal(served.to_numpy(), expected, equal_nan=True)


def test_one_client_s_history_rows_alone_give_its_batch_history_values():
    """The history half depends on a client's own rows only (what serving from the bank database relies on)."""
    app, history = linked_sample()
    full = batch(app, history)
    client = int(history["bureau"]["SK_ID_CURR"].iloc[0])
    _, rows = one_client(app, history, client)
    rows["credit_card_balance"] = rows["credit_card_balance"].iloc[:0]  # no rows in a table: that flag is 0
    alone = history_features(rows)
    assert alone.index.tolist() == [client] and list(alone.columns) == history_feature_names()
    expected = full.loc[[client], history_feature_names()]
    cards = [c for c in history_feature_names() if c.startswith("CC_")]
    assert cards and full.loc[client, "HAS_CREDIT_CARD"] in (0.0, 1.0)
    expected.loc[:, cards] = np.nan
    expected.loc[:, "HAS_CREDIT_CARD"] = 0.0
    assert np.array_equal(alone.to_numpy(), expected.to_numpy(), equal_nan=True)


def test_aggregates_in_parallel_databases_are_those_of_one_to_the_bit():
    _, history = linked_sample()
    one = history_aggregates(history, workers=1)
    two = history_aggregates(history, workers=2)
    assert list(one) == list(two) == [s.name for s in CLIENT_SOURCES]
    for name in one:
        assert one[name].index.equals(two[name].index) and list(one[name].columns) == list(two[name].columns)
        assert np.array_equal(one[name].to_numpy(), two[name].to_numpy(), equal_nan=True)


def test_pandas_reference_computes_the_same_aggregates():
    """The benchmark's pandas implementation must compute what DuckDB computes, or its timing means nothing."""
    _, history = linked_sample()
    reference = pandas_aggregates(history)
    with connect(history) as con:
        build_history(con)
        for source in SOURCES:
            duck = con.sql(f"SELECT * FROM agg_{source.name}").df().set_index(source.key).astype("float64")
            duck = duck.sort_index()
            assert list(duck.columns) == list(reference[source.name].columns)
            assert duck.index.equals(reference[source.name].index)
            np.testing.assert_allclose(duck.to_numpy(), reference[source.name].to_numpy(), rtol=1e-9, atol=1e-9)
