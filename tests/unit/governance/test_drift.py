"""PSI, the watched features (the champion's top SHAP features), the score's drift, the drift summary and its French
conclusion, the drift stage end to end on a tiny trained project, and what it flags on the default synthetic data."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from credit_scoring.common.params import load_params
from credit_scoring.common.paths import PARAMS
from credit_scoring.dataset.schema import SENTINEL_DAYS
from credit_scoring.governance.drift import DriftInputs, analyse, score_drift
from credit_scoring.governance.stability import (
    DriftSettings,
    bin_shares,
    compare,
    psi,
    scope_summary,
    watched_features,
    without_sentinels,
)
from credit_scoring.governance.wording import conclusion_fr

REPO = Path(__file__).resolve().parents[3]
DRIFT = load_params(REPO / PARAMS)["drift"]  # the project's drift section, which tests change a key of


def drift_params(**changes) -> dict:
    """params with the project's drift section, the given keys changed."""
    return {"drift": {**DRIFT, **changes}}


SETTINGS = DriftSettings.from_params(drift_params())
# evidently 0.7.23 calls DataFrame.dropna(inplace=True), which pandas 3.1 deprecates, once per column compared
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:pandas.errors.Pandas4Warning")


def test_psi_of_numbers_equals_a_hand_computation():
    """With bins=2 the reference's median splits the values (<= 5, > 5); missing values have their own bin,
    empty in the reference, whose share is floored at 0.001."""
    reference = pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dtype="float64")
    current = pd.Series([1, 2, 3, 6, 7, 8, 9, 10, np.nan, np.nan])
    ref, cur, labels = bin_shares(reference, current, bins=2)
    assert labels == ["<= 5", "> 5", "missing"]
    assert ref.tolist() == [0.5, 0.5, 0.0] and cur.tolist() == [0.3, 0.5, 0.2]
    hand = (0.3 - 0.5) * math.log(0.3 / 0.5) + 0 + (0.2 - 0.001) * math.log(0.2 / 0.001)
    assert psi(reference, current, bins=2) == pytest.approx(hand)


def test_psi_of_categories_equals_a_hand_computation():
    reference = pd.Series(["a"] * 6 + ["b"] * 4, dtype="str")
    current = pd.Series(["a"] * 3 + ["b"] * 5 + ["c"] * 2, dtype="str")
    hand = (0.3 - 0.6) * math.log(0.3 / 0.6) + (0.5 - 0.4) * math.log(0.5 / 0.4) + (0.2 - 0.001) * math.log(0.2 / 0.001)
    assert psi(reference, current) == pytest.approx(hand)
    assert psi(reference, reference) == 0.0


def test_a_value_held_by_most_rows_gets_one_bin_not_empty_ones():
    """80 % zeros: the deciles 1 to 8 are all 0 and merge into one bin."""
    reference = pd.Series([0.0] * 80 + [1.0] * 10 + [2.0] * 10)
    _, _, labels = bin_shares(reference, reference, bins=10)
    assert labels == ["<= 0", "<= 1", "> 1", "missing"]


def test_the_days_employed_sentinel_becomes_missing():
    frame = pd.DataFrame({"DAYS_EMPLOYED": [-100, SENTINEL_DAYS, -5], "AMT_CREDIT": [1.0, 2.0, 3.0]})
    cleaned = without_sentinels(frame)
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
    reference = without_sentinels(applications(6000, seed=1))
    copy = reference.sample(1500, random_state=2)
    table, _ = compare(reference, copy, COLUMNS, SETTINGS, seed=0)
    assert not table["drifted"].any() and not table["psi_drifted"].any()
    assert scope_summary(table)["drifted_columns"] == 0

    shifted = copy.assign(AMT_CREDIT=copy["AMT_CREDIT"] * 1.5)
    table, _ = compare(reference, shifted, COLUMNS, SETTINGS, seed=0)
    flagged = table.set_index("feature")
    assert flagged.loc["AMT_CREDIT", "drifted"] and flagged.loc["AMT_CREDIT", "psi_drifted"]
    assert flagged.drop(index="AMT_CREDIT")[["drifted", "psi_drifted"]].eq(False).all().all()
    assert flagged.loc["AMT_CREDIT", "evidently_test"] == "Wasserstein distance (normed)"
    assert flagged.loc["NAME_CONTRACT_TYPE", "evidently_test"] == "Jensen-Shannon distance"
    assert scope_summary(table) == {
        "columns": 5, "drifted_columns": 1, "drifted_share": 0.2, "psi_drifted_columns": 1, "psi_drifted_share": 0.2,
    }


def inputs_for(current_scores: np.ndarray, watched_shift: float = 1.0, threshold: float = 0.1) -> DriftInputs:
    """Drift inputs whose feature rows are application-like tables (AMT_CREDIT scaled by ``watched_shift`` in the
    current rows) and whose reference scores are Beta(2, 18) draws."""
    reference = applications(6000, seed=1)
    current = applications(1500, seed=3)
    current_features = current.assign(AMT_CREDIT=current["AMT_CREDIT"] * watched_shift)
    return DriftInputs(
        applications=(reference, current),
        features=(reference, current_features),
        scores=(np.random.default_rng(4).beta(2, 18, 5000), current_scores),
        watched=["EXT_SOURCE_2", "AMT_CREDIT"],
        threshold=threshold,
    )


def test_a_shifted_score_is_flagged_and_an_unshifted_one_is_not():
    rng = np.random.default_rng(5)
    calm, _ = score_drift(inputs_for(rng.beta(2, 18, 2000)), SETTINGS, seed=0)
    assert not calm["drifted"] and not calm["psi_drifted"] and calm["psi"] < 0.02
    assert calm["rows"] == {"reference": 5000, "current": 2000}

    riskier = rng.beta(3, 15, 2000)  # mean 0.17 instead of 0.10
    shifted, _ = score_drift(inputs_for(riskier), SETTINGS, seed=0)
    assert shifted["drifted"] and shifted["psi_drifted"] and shifted["psi"] > 0.25
    assert shifted["evidently_test"] == "Wasserstein distance (normed)" and shifted["evidently_score"] > 0.15
    assert shifted["refused_share"]["current"] == pytest.approx((riskier >= 0.1).mean())
    assert shifted["refused_share"]["current"] > shifted["refused_share"]["reference"] + 0.2
    assert shifted["mean"]["current"] == pytest.approx(riskier.mean())


def test_the_conclusion_names_the_drift_the_watched_features_and_the_score_in_french():
    rng = np.random.default_rng(6)
    inputs = inputs_for(rng.beta(3, 15, 1500), watched_shift=1.5)
    reference, current = (without_sentinels(f) for f in inputs.applications)
    revolving_share_one_percent = np.where(np.arange(1500) < 15, "Revolving loans", "Cash loans")
    current["NAME_CONTRACT_TYPE"] = pd.Series(revolving_share_one_percent, dtype="str")
    table, _ = compare(reference, current, COLUMNS, SETTINGS, seed=0)
    watched, _ = compare(*inputs.features, inputs.watched, SETTINGS, seed=0)
    score, _ = score_drift(inputs, SETTINGS, seed=0)
    text = conclusion_fr(table, watched, score, reference, current, SETTINGS)
    assert text.startswith("Sur 5 variables de la demande, 1 dérive entre application_train (référence) et "
                           "application_test selon evidently")
    assert "distance de Wasserstein normalisée ≥\u00a00,15" in text and "distance de Jensen-Shannon ≥\u00a00,1" in text
    assert "la part de « Revolving loans » passe de" in text and "à 1,0\u202f%" in text
    assert "Les 2 variables les plus influentes du modèle (|SHAP| moyen)" in text
    assert "1 dérive selon evidently — forte : AMT_CREDIT (" in text
    assert "La distribution du score (probabilité de défaut donnée par le modèle)" in text and ", dérive (PSI" in text
    assert "la part de clients refusés au seuil de 0,100 passe de" in text
    assert "appris (AMT_CREDIT et le score) :" in text
    assert not re.search(r"\d\.\d", text)  # decimal commas only

    calm_watched = watched.assign(drifted=False, psi_drifted=False)
    calm_score = {**score, "drifted": False, "psi_drifted": False}
    secondary = conclusion_fr(table, calm_watched, calm_score, reference, current, SETTINGS)
    assert "aucune ne dérive selon evidently" in secondary and ", ne dérive pas (PSI" in secondary
    assert secondary.endswith("ni ses variables les plus influentes ni son score ne dérivent selon evidently, et son "
                              "effet mesuré sur les décisions est limité.")
    calm = table.assign(drifted=False, psi_drifted=False)
    quiet = conclusion_fr(calm, calm_watched, calm_score, reference, current, SETTINGS)
    assert quiet.startswith("Sur 5 variables de la demande, aucune ne dérive")
    assert quiet.endswith("une population comparable à celle sur laquelle il a été appris.")


IMPORTANCE = [{"feature": f, "label": f.lower(), "mean_abs_shap": 1.0 / (i + 1)}
              for i, f in enumerate(["EXT_SOURCE_MEAN", "INSTAL_DBD_MEAN", "EXT_SOURCE_3", "BURO_DAYS_CREDIT_MEAN"])]


def test_the_watched_features_are_the_first_of_the_shap_ranking():
    assert watched_features(IMPORTANCE, 3) == ["EXT_SOURCE_MEAN", "INSTAL_DBD_MEAN", "EXT_SOURCE_3"]
    assert watched_features(IMPORTANCE, 4) == [g["feature"] for g in IMPORTANCE]
    with pytest.raises(ValueError, match="5 watched features asked for, the explain stage ranks only 4"):
        watched_features(IMPORTANCE, 5)
    for count in (0, -1, 2.0, True, "3"):
        with pytest.raises(ValueError, match="positive integer"):
            watched_features(IMPORTANCE, count)
    with pytest.raises(ValueError, match="feature"):
        watched_features([{"name": "EXT_SOURCE_MEAN"}], 1)
    with pytest.raises(ValueError, match="twice"):
        watched_features(IMPORTANCE + IMPORTANCE[:1], 2)


def test_a_misspelt_test_a_bad_count_or_an_absent_watched_feature_fails_early():
    with pytest.raises(ValueError, match="wasserstien"):
        DriftSettings.from_params(drift_params(stattest={"numerical": "wasserstien", "categorical": "psi"}))
    with pytest.raises(ValueError, match="drift.watched_features must be a positive integer"):
        DriftSettings.from_params(drift_params(watched_features=0))
    inputs = inputs_for(np.full(10, 0.1))
    with pytest.raises(ValueError, match="BURO_DAYS_CREDIT_MEAN"):
        analyse(replace(inputs, watched=["AMT_CREDIT", "BURO_DAYS_CREDIT_MEAN"]), SETTINGS, seed=0)
    with pytest.raises(ValueError, match="probabilities"):
        analyse(replace(inputs, scores=(np.array([0.1, 1.2]), np.array([0.1]))), SETTINGS, seed=0)


WATCHED = 8  # of the 12 features the tiny explain stage ranks














