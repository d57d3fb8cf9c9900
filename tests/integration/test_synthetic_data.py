"""One generated data set of 30,000 + 5,000 clients against the facts measured on real rows (names, categories,
missing values, relations, structural rules, drift, signal), and the generator's command line."""

from __future__ import annotations

import subprocess
import sys

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from credit_scoring.dataset.schema import SENTINEL_DAYS, raw_schema, table, tables
from credit_scoring.dataset.synthetic import fidelity
from credit_scoring.dataset.synthetic.generate import generate
from credit_scoring.dataset.synthetic.marginals import FULL_TEST_CLIENTS, FULL_TRAIN_CLIENTS

FULL_CLIENTS = FULL_TRAIN_CLIENTS + FULL_TEST_CLIENTS


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """One generated data set, large enough for stable shares (about 1.5 s of generation per 10k clients)."""
    out = tmp_path_factory.mktemp("synthetic")
    generate(30_000, 5_000, seed=7, out_dir=out / "csv", truth_file=out / "truth.csv", log=lambda *_: None)
    frames = {name: pd.read_csv(out / "csv" / t.file, low_memory=False) for name, t in tables().items()}
    return out, frames, pd.read_csv(out / "truth.csv")


def test_column_names_and_order_match_kaggle_exactly(synthetic):
    out, _, _ = synthetic
    for name, t in tables().items():
        header = (out / "csv" / t.file).open().readline().strip().split(",")
        assert header == t.column_names, name


def test_categories_come_from_the_schema_and_major_ones_appear(synthetic):
    _, frames, _ = synthetic
    for name, t in tables().items():
        for col in t.columns:
            if col.kind != "category":
                continue
            seen = set(frames[name][col.name].dropna().astype(str))
            assert seen <= set(col.value_shares), (name, col.name, seen - set(col.value_shares))
            major = {c for c, share in col.value_shares.items() if share >= 0.02}
            assert major <= seen, (name, col.name, major - seen)


def test_missing_rates_within_five_points(synthetic):
    _, frames, _ = synthetic
    for name, t in tables().items():
        for col in t.columns:
            rate = frames[name][col.name].isna().mean()
            assert abs(rate - col.missing_rate) <= 0.05, (name, col.name, rate, col.missing_rate)


def test_category_shares_follow_the_schema(synthetic):
    _, frames, _ = synthetic
    for name in ("application_train", "application_test", "previous_application", "bureau"):
        for col in table(name).columns:
            if col.kind != "category" or col.name == "CODE_REJECT_REASON":
                continue
            shares = frames[name][col.name].value_counts(normalize=True)
            for value, expected in col.value_shares.items():
                assert abs(shares.get(value, 0.0) - expected) < 0.03, (name, col.name, value)


def test_numeric_medians_follow_the_schema(synthetic):
    """Medians of application columns drawn from their own marginal land within a few percent of the range."""
    _, frames, _ = synthetic
    app = frames["application_train"]
    for col in table("application_train").columns:
        if col.kind == "category" or col.value_shares or col.name in ("SK_ID_CURR", "DAYS_EMPLOYED"):
            continue
        q = col.quantiles
        width = max(q[5] - q[1], 1e-12)
        assert abs(app[col.name].median() - q[3]) / width < 0.05, col.name


def test_target_rate_and_oracle_auc(synthetic):
    _, frames, truth = synthetic
    app = frames["application_train"]
    assert 0.07 <= app["TARGET"].mean() <= 0.09
    scored = app[["SK_ID_CURR", "TARGET"]].merge(truth, on="SK_ID_CURR")
    assert len(scored) == len(app)
    assert 0.78 <= roc_auc_score(scored["TARGET"], scored["PD"]) <= 0.82
    assert set(truth["SK_ID_CURR"]) == set(app["SK_ID_CURR"]) | set(frames["application_test"]["SK_ID_CURR"])


def _share(relation: str, key: str) -> float:
    return raw_schema()["relations"][relation][key]


def test_relations_within_twenty_percent_of_the_schema(synthetic):
    _, f, _ = synthetic
    train_ids = f["application_train"]["SK_ID_CURR"]
    n_clients = len(train_ids) + len(f["application_test"])
    scale = n_clients / FULL_CLIENTS
    checks = {
        "train clients with bureau": (train_ids.isin(f["bureau"]["SK_ID_CURR"]).mean(),
                                      _share("bureau.SK_ID_CURR -> application.SK_ID_CURR",
                                             "share_of_train_clients_with_any")),
        "train clients with previous": (train_ids.isin(f["previous_application"]["SK_ID_CURR"]).mean(),
                                        _share("previous_application.SK_ID_CURR -> application.SK_ID_CURR",
                                               "share_of_train_clients_with_any")),
    }
    relations = raw_schema()["relations"]
    for rel, spec in relations.items():
        if not isinstance(spec, dict) or "rows" not in spec:
            continue
        child = rel.split(".")[0]
        key = rel.split(".")[1].split(" ")[0]
        distinct = next(v for k, v in spec.items() if k.startswith("distinct"))
        checks[f"{child} rows"] = (len(f[child]) / scale, spec["rows"])
        checks[f"{child} distinct {key}"] = (f[child][key].nunique() / scale, distinct)
        checks[f"{child} rows per {key}"] = (len(f[child]) / f[child][key].nunique(), spec["rows"] / distinct)
    for what, (got, expected) in checks.items():
        assert abs(got / expected - 1) <= 0.20, (what, got, expected)


def test_orphans_exist_like_in_the_real_balance_file(synthetic):
    _, f, _ = synthetic
    orphan_share = 1 - f["bureau_balance"]["SK_ID_BUREAU"].drop_duplicates().isin(f["bureau"]["SK_ID_BUREAU"]).mean()
    assert 0.01 < orphan_share < 0.2


def test_structural_rules_of_the_real_files(synthetic):
    _, f, _ = synthetic
    app = f["application_train"]
    pensioner = app["NAME_INCOME_TYPE"].isin(["Pensioner", "Unemployed"])
    assert (app.loc[pensioner, "DAYS_EMPLOYED"] == SENTINEL_DAYS).all()
    assert (app.loc[~pensioner, "DAYS_EMPLOYED"] <= 0).all()
    assert (app.loc[pensioner, "ORGANIZATION_TYPE"] == "XNA").all()
    assert app.loc[app["FLAG_OWN_CAR"] == "N", "OWN_CAR_AGE"].isna().all()
    assert (app["CNT_FAM_MEMBERS"].dropna() >= app.loc[app["CNT_FAM_MEMBERS"].notna(), "CNT_CHILDREN"] + 1).all()
    bureau = f["bureau"]
    closed = bureau["CREDIT_ACTIVE"] == "Closed"
    assert (bureau.loc[closed, "DAYS_ENDDATE_FACT"] >= bureau.loc[closed, "DAYS_CREDIT"]).all()
    assert bureau.loc[~closed, "DAYS_ENDDATE_FACT"].isna().all()
    prev = f["previous_application"]
    assert (prev.loc[prev["NAME_CONTRACT_STATUS"] != "Refused", "CODE_REJECT_REASON"] == "XAP").all()
    assert prev.loc[prev["NAME_CONTRACT_STATUS"] != "Approved", "DAYS_FIRST_DUE"].isna().all()
    assert (prev["DAYS_FIRST_DRAWING"] == SENTINEL_DAYS).mean() > 0.3
    approved = set(prev.loc[prev["NAME_CONTRACT_STATUS"] == "Approved", "SK_ID_PREV"])
    for name in ("POS_CASH_balance", "installments_payments", "credit_card_balance"):
        assert f[name]["SK_ID_PREV"].isin(approved).all(), name
    cards = set(prev.loc[prev["NAME_CONTRACT_TYPE"] == "Revolving loans", "SK_ID_PREV"])
    assert f["credit_card_balance"]["SK_ID_PREV"].isin(cards).all()


def test_application_test_drifts_like_the_real_file(synthetic):
    _, f, _ = synthetic
    train, test = f["application_train"], f["application_test"]
    revolving = lambda d: (d["NAME_CONTRACT_TYPE"] == "Revolving loans").mean()
    assert revolving(train) > 0.08 and revolving(test) < 0.02
    assert test["AMT_CREDIT"].median() < train["AMT_CREDIT"].median() * 0.95  # real: 450,000 vs 508,500
    assert test["AMT_REQ_CREDIT_BUREAU_QRT"].eq(0).mean() < train["AMT_REQ_CREDIT_BUREAU_QRT"].eq(0).mean() - 0.1
    assert abs(test["EXT_SOURCE_2"].median() - train["EXT_SOURCE_2"].median()) < 0.03
    assert "TARGET" not in test.columns


def test_csv_is_formatted_like_kaggle(synthetic):
    out, _, _ = synthetic
    lines = (out / "csv" / "application_train.csv").open().read().splitlines()[:200]
    header = lines[0].split(",")
    income, children, ext1 = (header.index(c) for c in ("AMT_INCOME_TOTAL", "CNT_CHILDREN", "EXT_SOURCE_1"))
    import csv

    rows = list(csv.reader(lines[1:]))
    assert all(r[income].endswith(".0") or "." in r[income] for r in rows)  # floats written as 202500.0
    assert all("." not in r[children] for r in rows)  # ints as 0, not 0.0
    assert any(r[ext1] == "" for r in rows)  # missing is an empty field
    raw = "\n".join(lines)
    assert '"Secondary / secondary special"' not in raw  # quotes only where a comma needs them
    assert "NaN" not in raw and "nan" not in raw


def test_command_line_writes_the_files(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "credit_scoring.dataset.synthetic", "--n-clients", "300", "--n-test-clients", "50",
         "--seed", "1",
         "--out", str(tmp_path / "csv"), "--truth", str(tmp_path / "truth.csv")],
        capture_output=True, text=True, check=True,
    )
    assert "8 files" in result.stdout
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == sorted(t.file for t in tables().values())
    assert pd.read_csv(tmp_path / "truth.csv").columns.tolist() == ["SK_ID_CURR", "PD"]


def test_history_carries_signal_of_its_own(synthetic):
    """A LightGBM on the application table alone stays at least 0.03 AUC below the oracle on the same holdout."""
    _, f, truth = synthetic
    app = f["application_train"].merge(truth, on="SK_ID_CURR")
    X = app.drop(columns=["SK_ID_CURR", "TARGET", "PD"])
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c]):
            X[c] = X[c].astype("category")
    X_tr, X_ho, y_tr, y_ho, _, pd_ho = train_test_split(X, app["TARGET"], app["PD"], test_size=0.3,
                                                       stratify=app["TARGET"], random_state=0)
    model = lgb.LGBMClassifier(n_estimators=400, learning_rate=0.03, num_leaves=15, min_child_samples=100,
                               subsample=0.8, subsample_freq=1, colsample_bytree=0.5, verbose=-1, random_state=0)
    model.fit(X_tr, y_tr)
    app_only = roc_auc_score(y_ho, model.predict_proba(X_ho)[:, 1])
    oracle = roc_auc_score(y_ho, pd_ho)
    assert app_only <= oracle - 0.03, (app_only, oracle)
    assert app_only > 0.65  # the application table still carries most of the usual signal


# ---- Fidelity beyond the marginals (fidelity.json) -------------------------------------------------------------
def _auc(y, score) -> float:
    present = ~np.isnan(score)
    auc = roc_auc_score(y[present], score[present])
    return max(auc, 1 - auc)


def test_round_amounts_and_discrete_values_as_in_the_real_file(synthetic):
    app = synthetic[1]["application_train"]
    assert abs((app["AMT_INCOME_TOTAL"] == 135_000).mean() - 0.1123) < 0.02
    assert (app["AMT_INCOME_TOTAL"] % 4500 == 0).mean() > 0.8
    assert app["REGION_POPULATION_RELATIVE"].nunique() <= 90
    same = fidelity.facts()["application_train_derived"]["share AVG == MEDI, building columns"]
    for group in ("FLOORSMAX", "APARTMENTS", "NONLIVINGAPARTMENTS"):
        both = app[[f"{group}_AVG", f"{group}_MEDI"]].dropna()
        assert abs((both[f"{group}_AVG"] == both[f"{group}_MEDI"]).mean() - same[group]) < 0.06, group


def test_revolving_loans_repay_a_twentieth_of_the_limit_a_year(synthetic):
    app = synthetic[1]["application_train"]
    revolving = app["NAME_CONTRACT_TYPE"] == "Revolving loans"
    term = app["AMT_CREDIT"] / app["AMT_ANNUITY"]
    assert np.allclose(term[revolving], 20, atol=0.01)
    assert abs(np.isclose(term, 20, atol=0.01).mean() - 0.098) < 0.02
    assert abs((app["AMT_GOODS_PRICE"] == app["AMT_CREDIT"]).mean() - 0.358) < 0.03
    assert (app["AMT_GOODS_PRICE"] > app["AMT_CREDIT"] + 1).mean() < 0.01


def test_missing_values_come_in_blocks_and_say_something(synthetic):
    app = synthetic[1]["application_train"]
    phi = lambda a, b: np.corrcoef(app[a].isna(), app[b].isna())[0, 1]
    assert phi("APARTMENTS_AVG", "ELEVATORS_AVG") > 0.7
    assert phi("APARTMENTS_AVG", "APARTMENTS_MODE") > 0.95
    assert phi("EXT_SOURCE_3", "AMT_REQ_CREDIT_BUREAU_YEAR") > 0.5
    assert phi("OBS_30_CNT_SOCIAL_CIRCLE", "DEF_60_CNT_SOCIAL_CIRCLE") > 0.95
    missing = app["EXT_SOURCE_1"].isna()
    assert app.loc[missing, "TARGET"].mean() > app.loc[~missing, "TARGET"].mean()


def test_each_application_signal_points_the_right_way_with_its_measured_strength(synthetic):
    app = synthetic[1]["application_train"]
    y = app["TARGET"].to_numpy()
    aucs = {c: _auc(y, app[c].to_numpy(dtype=float)) for c in ("EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3")}
    for column, auc in aucs.items():
        assert abs(auc - fidelity.signal(column)["auc"]) < 0.04, (column, auc)
    assert np.corrcoef(app["EXT_SOURCE_3"].fillna(0.5), y)[0, 1] < 0  # a higher external score, a safer client
    assert np.corrcoef(app["DAYS_BIRTH"], y)[0, 1] > 0  # younger clients default more
    employed = app["DAYS_EMPLOYED"] != SENTINEL_DAYS
    assert 0.55 < _auc(y[employed], app.loc[employed, "DAYS_EMPLOYED"].to_numpy(dtype=float)) < 0.65
    pensioners = app.loc[~employed, "TARGET"].mean()
    assert pensioners < 0.85 * app.loc[employed, "TARGET"].mean()  # real: 5.5 % against 8.4 %


def test_no_history_aggregate_is_stronger_than_the_external_scores(synthetic):
    f = synthetic[1]
    app = f["application_train"].set_index("SK_ID_CURR")
    ins = f["installments_payments"]
    prev = f["previous_application"]
    aggregates = {
        "instalment days before due":
            (ins["DAYS_INSTALMENT"] - ins["DAYS_ENTRY_PAYMENT"]).groupby(ins["SK_ID_CURR"]).mean(),
        "previous refused share": (prev["NAME_CONTRACT_STATUS"] == "Refused").groupby(prev["SK_ID_CURR"]).mean(),
        "bureau credit age": f["bureau"].groupby("SK_ID_CURR")["DAYS_CREDIT"].mean(),
        "POS days past due": f["POS_CASH_balance"].groupby("SK_ID_CURR")["SK_DPD"].mean(),
        "card days past due": f["credit_card_balance"].groupby("SK_ID_CURR")["SK_DPD"].mean(),
    }
    y = app["TARGET"].to_numpy()
    ext3 = _auc(y, app["EXT_SOURCE_3"].to_numpy(dtype=float))
    for name, values in aggregates.items():
        auc = _auc(y, values.reindex(app.index).to_numpy(dtype=float))
        assert 0.52 < auc < ext3 - 0.02, (name, auc, ext3)


def test_identity_papers_date_from_the_last_renewal_birthday(synthetic):
    app = synthetic[1]["application_train"]
    age_at_issue = (app["DAYS_ID_PUBLISH"] - app["DAYS_BIRTH"]) / 365.25
    age = -app["DAYS_BIRTH"] / 365.25
    assert (age_at_issue[age >= 20.1] >= 20 - 0.01).all()
    assert (age_at_issue[age >= 45.1] >= 45 - 0.01).all()
    on_time = ((age_at_issue >= 45) & (age_at_issue < 46))[age >= 46].mean()
    assert 0.3 < on_time < 0.8  # real: about half renewed within a year of their 45th birthday


def test_pensioners_have_mostly_reached_the_legal_age(synthetic):
    app = synthetic[1]["application_train"]
    age = -app["DAYS_BIRTH"] / 365.25
    legal = np.where(app["CODE_GENDER"] == "F", 55, 60)
    pensioner = app["DAYS_EMPLOYED"] == SENTINEL_DAYS
    assert pensioner[age < legal].mean() < 0.03
    assert pensioner[age >= legal + 3].mean() > 0.6
