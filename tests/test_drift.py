"""PSI, the drift summary and its French conclusion, the drift stage end to end, and what it flags on the default
synthetic data."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from credit_scoring import drift as D
from credit_scoring.params import load_params
from credit_scoring.paths import PARAMS
from credit_scoring.schema import SENTINEL_DAYS, raw_schema
from stages import drift as stage

REPO = Path(__file__).resolve().parents[1]
DRIFT = load_params(REPO / PARAMS)["drift"]  # the project's drift section, which tests change a key of


def drift_params(**changes) -> dict:
    """params with the project's drift section, the given keys changed."""
    return {"drift": {**DRIFT, **changes}}


SETTINGS = D.DriftSettings.from_params(drift_params())
# evidently 0.7.23 calls DataFrame.dropna(inplace=True), which pandas 3.1 deprecates, once per column compared
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:pandas.errors.Pandas4Warning")


def test_psi_of_numbers_equals_a_hand_computation():
    """With bins=2 the reference's median splits the values (<= 5, > 5); missing values have their own bin,
    empty in the reference, whose share is floored at 0.001."""
    reference = pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dtype="float64")
    current = pd.Series([1, 2, 3, 6, 7, 8, 9, 10, np.nan, np.nan])
    ref, cur, labels = D.bin_shares(reference, current, bins=2)
    assert labels == ["<= 5", "> 5", "missing"]
    assert ref.tolist() == [0.5, 0.5, 0.0] and cur.tolist() == [0.3, 0.5, 0.2]
    hand = (0.3 - 0.5) * math.log(0.3 / 0.5) + 0 + (0.2 - 0.001) * math.log(0.2 / 0.001)
    assert D.psi(reference, current, bins=2) == pytest.approx(hand)


def test_psi_of_categories_equals_a_hand_computation():
    reference = pd.Series(["a"] * 6 + ["b"] * 4, dtype="str")
    current = pd.Series(["a"] * 3 + ["b"] * 5 + ["c"] * 2, dtype="str")
    hand = (0.3 - 0.6) * math.log(0.3 / 0.6) + (0.5 - 0.4) * math.log(0.5 / 0.4) + (0.2 - 0.001) * math.log(0.2 / 0.001)
    assert D.psi(reference, current) == pytest.approx(hand)
    assert D.psi(reference, reference) == 0.0


def test_a_value_held_by_most_rows_gets_one_bin_not_empty_ones():
    """80 % zeros: the deciles 1 to 8 are all 0 and merge into one bin."""
    reference = pd.Series([0.0] * 80 + [1.0] * 10 + [2.0] * 10)
    _, _, labels = D.bin_shares(reference, reference, bins=10)
    assert labels == ["<= 0", "<= 1", "> 1", "missing"]


def test_the_days_employed_sentinel_becomes_missing():
    frame = pd.DataFrame({"DAYS_EMPLOYED": [-100, SENTINEL_DAYS, -5], "AMT_CREDIT": [1.0, 2.0, 3.0]})
    cleaned = D.without_sentinels(frame)
    assert cleaned["DAYS_EMPLOYED"].isna().tolist() == [False, True, False]
    assert frame["DAYS_EMPLOYED"].iloc[1] == SENTINEL_DAYS  # the caller's frame is left alone


CONTRACTS = ["Cash loans", "Revolving loans"]


def applications(n: int, seed: int) -> pd.DataFrame:
    """A small application-like table: two amounts, a score, a flag, a category and the sentinel days."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "SK_ID_CURR": np.arange(n) + 100_000,
            "TARGET": (rng.random(n) < 0.08).astype("int64"),
            "NAME_CONTRACT_TYPE": pd.Series(rng.choice(CONTRACTS, n, p=[0.9, 0.1]), dtype="str"),
            "AMT_CREDIT": rng.lognormal(13, 0.5, n),
            "EXT_SOURCE_2": rng.beta(5, 3, n),
            "CNT_CHILDREN": rng.poisson(0.4, n).astype("int64"),
            "DAYS_EMPLOYED": np.where(rng.random(n) < 0.18, SENTINEL_DAYS, -rng.integers(30, 10_000, n)),
        }
    )


COLUMNS = ["NAME_CONTRACT_TYPE", "AMT_CREDIT", "EXT_SOURCE_2", "CNT_CHILDREN", "DAYS_EMPLOYED"]


def test_summary_flags_an_injected_shift_and_ignores_an_unshifted_copy():
    reference = D.without_sentinels(applications(6000, seed=1))
    copy = reference.sample(1500, random_state=2)
    table, _ = D.compare(reference, copy, COLUMNS, SETTINGS, seed=0)
    assert not table["drifted"].any() and not table["psi_drifted"].any()
    assert D.scope_summary(table)["drifted_columns"] == 0

    shifted = copy.assign(AMT_CREDIT=copy["AMT_CREDIT"] * 1.5)
    table, _ = D.compare(reference, shifted, COLUMNS, SETTINGS, seed=0)
    flagged = table.set_index("feature")
    assert flagged.loc["AMT_CREDIT", "drifted"] and flagged.loc["AMT_CREDIT", "psi_drifted"]
    assert flagged.drop(index="AMT_CREDIT")[["drifted", "psi_drifted"]].eq(False).all().all()
    assert flagged.loc["AMT_CREDIT", "evidently_test"] == "Wasserstein distance (normed)"
    assert flagged.loc["NAME_CONTRACT_TYPE", "evidently_test"] == "PSI"
    assert D.scope_summary(table) == {
        "columns": 5, "drifted_columns": 1, "drifted_share": 0.2, "psi_drifted_columns": 1, "psi_drifted_share": 0.2,
    }


def test_the_conclusion_names_the_drift_in_french():
    reference = D.without_sentinels(applications(6000, seed=1))
    current = D.without_sentinels(applications(1500, seed=3))
    revolving_share_one_percent = np.where(np.arange(1500) < 15, "Revolving loans", "Cash loans")
    current["NAME_CONTRACT_TYPE"] = pd.Series(revolving_share_one_percent, dtype="str")
    current["AMT_CREDIT"] *= 1.5
    table, _ = D.compare(reference, current, COLUMNS, SETTINGS, seed=0)
    text = D.conclusion_fr(table, ["AMT_CREDIT", "EXT_SOURCE_2"], reference, current, SETTINGS)
    assert text.startswith("Sur 5 variables, 2 dérivent entre application_train (référence) et application_test")
    assert "distance de Wasserstein normalisée ≥\u00a00,15" in text and "soit 40,0\u00a0%" in text
    assert "la part de « Revolving loans » passe de" in text and "à 1,0\u00a0%" in text
    assert ("Parmi les 2 variables clés suivies (celles d'où viennent les facteurs les plus influents du modèle), "
            "1 variable dérive (AMT_CREDIT)") in text
    assert not re.search(r"\d\.\d", text)  # decimal commas only

    calm = table.assign(drifted=False, psi_drifted=False)
    quiet = D.conclusion_fr(calm, ["AMT_CREDIT"], reference, current, SETTINGS)
    assert quiet.startswith("Sur 5 variables, aucune ne dérive")


def test_french_numbers_have_a_decimal_comma_and_spaced_thousands():
    assert D.french_number(1234567.891) == "1\u00a0234\u00a0567,89"
    assert D.french_number(0.0742) == "0,07"
    assert D.french_share(0.0833) == "8,3\u00a0%"


def test_a_misspelt_test_or_top_feature_fails_early():
    with pytest.raises(ValueError, match="wasserstien"):
        D.DriftSettings.from_params(drift_params(stattest={"numerical": "wasserstien", "categorical": "psi"}))
    settings = D.DriftSettings.from_params(drift_params(top_features=["AMT_CREDIT", "BUREAU_DAYS_CREDIT_MEAN"]))
    with pytest.raises(ValueError, match="BUREAU_DAYS_CREDIT_MEAN"):
        D.analyse(applications(500, 1), applications(200, 2), settings, seed=0)


def test_stage_writes_reports_table_and_summary(tmp_path, monkeypatch):
    prepared = tmp_path / "data/prepared"
    prepared.mkdir(parents=True)
    applications(4000, seed=1).to_parquet(prepared / "application_train.parquet", index=False)
    test = applications(1000, seed=2).drop(columns="TARGET")
    test.assign(AMT_CREDIT=test["AMT_CREDIT"] * 1.5).to_parquet(prepared / "application_test.parquet", index=False)
    params = {"seed": 42, **drift_params(top_features=["AMT_CREDIT", "EXT_SOURCE_2"], sample_size=3000)}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)

    stage.main()

    for report in ("reports/drift/data_drift.html", "reports/drift/data_drift_top_features.html"):
        assert (tmp_path / report).stat().st_size > 10_000
    summary = json.loads((tmp_path / "reports/metrics/drift.json").read_text())
    assert summary["all_columns"]["columns"] == 5 and summary["all_columns"]["drifted_columns"] == 1
    assert summary["top_features"]["columns"] == 2 and summary["top_features"]["drifted_share"] == 0.5
    assert summary["rows_compared_by_evidently"] == {"reference": 3000, "current": 1000}
    credit = summary["features"]["AMT_CREDIT"]
    assert credit["drifted"] is True and credit["top_feature"] is True and credit["psi"] > 0.25
    assert credit["evidently_test"] == "Wasserstein distance (normed)" and credit["evidently_score"] > 0.2
    assert summary["conclusion_fr"].startswith("Sur 5 variables, 1 dérive") and summary["seconds"] >= 0
    table = pd.read_csv(tmp_path / "reports/tables/drift_psi.csv")
    assert table["feature"].iloc[0] == "AMT_CREDIT" and set(table["feature"]) == set(COLUMNS)


@pytest.fixture(scope="module")
def drift_on_default_data(tmp_path_factory):
    """The drift table of every application column on freshly generated default data (the generator and the
    prepare stage, as `dvc repro` runs them), at a size where the test file still has thousands of rows."""
    from credit_scoring.preparation import prepare
    from credit_scoring.synthetic import generate

    out = tmp_path_factory.mktemp("synthetic")
    generate(20_000, 4_000, seed=7, out_dir=out / "csv", truth_file=out / "truth.csv", log=lambda *_: None)
    prepare(out / "csv", out / "prepared", holdout_size=0.2, seed=7, truth_file=out / "truth.csv")
    train = D.without_sentinels(pd.read_parquet(out / "prepared/application_train.parquet"))
    test = D.without_sentinels(pd.read_parquet(out / "prepared/application_test.parquet"))
    table, _ = D.compare(train, test, D.application_columns(train, test), SETTINGS, seed=7)
    return table.set_index("feature")


def moved_in_the_real_files(column: str) -> float:
    """Largest change of a value share or of the missing rate between the real train and test files, as the
    schema measured them."""
    train = raw_schema()["tables"]["application_train"]["columns"][column]
    test = raw_schema()["tables"]["application_test"]["columns"][column]
    shares_train, shares_test = train.get("value_shares") or {}, test.get("value_shares") or {}
    moves = [abs(shares_train.get(k, 0) - shares_test.get(k, 0)) for k in set(shares_train) | set(shares_test)]
    return max([abs(train["missing_rate"] - test["missing_rate"]), *moves])


@pytest.mark.slow
def test_on_default_data_the_real_drifts_are_flagged_and_stable_columns_are_not(drift_on_default_data):
    """The five columns that drift most in the real files are flagged, by evidently and by our PSI. No column is
    flagged that is stable in the real files: a real PSI below 0.02 and value shares and missing rate within 3
    points. The schema's PSI, on quantile bins that collapse when few values repeat, misses some moves its own
    facts show (FLAG_EMAIL 5.5 % -> 15.6 %, EXT_SOURCE_1 missing 56 % -> 43 %: excluded by the shares rule;
    AMT_REQ_CREDIT_BUREAU_YEAR, median 1 -> 2: named here); those are not counted as stable."""
    real_psi = raw_schema()["application_train_to_test_psi"]["psi"]
    strongest = sorted(real_psi, key=real_psi.get, reverse=True)[:5]
    assert set(strongest) == {"AMT_REQ_CREDIT_BUREAU_MON", "AMT_REQ_CREDIT_BUREAU_QRT", "NAME_CONTRACT_TYPE",
                              "AMT_GOODS_PRICE", "AMT_CREDIT"}
    assert drift_on_default_data.loc[strongest, "drifted"].all()
    assert drift_on_default_data.loc[strongest, "psi_drifted"].all()

    stable = [
        c for c in drift_on_default_data.index
        if real_psi.get(c, 0) < 0.02 and moved_in_the_real_files(c) < 0.03 and c != "AMT_REQ_CREDIT_BUREAU_YEAR"
    ]
    documents = [c for c in drift_on_default_data.index if c.startswith("FLAG_DOCUMENT_")]
    named_stable = {"EXT_SOURCE_2", "DAYS_BIRTH", "CNT_CHILDREN", "CODE_GENDER", *documents} - {"FLAG_DOCUMENT_3"}
    assert named_stable <= set(stable)
    assert len(stable) > 80
    flagged = drift_on_default_data.loc[stable]
    assert not flagged["drifted"].any(), list(flagged.index[flagged["drifted"]])
    assert not flagged["psi_drifted"].any(), list(flagged.index[flagged["psi_drifted"]])
