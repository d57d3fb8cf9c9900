"""Local explanations, reason codes and the explain stage.

Exactness first, on small models of both served kinds (LightGBM, and the HistGradientBoosting pipeline whose
selector drops columns): contributions plus base value give the raw score, whose sigmoid is the served
probability, and LightGBM's pred_contrib equals shap's TreeExplainer. Then the explain stage on a tiny project
built by the real stages (as tests/integration/test_pipeline.py does), its export read back as the API will, and the
explain_report stage's figures, tables and metrics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from credit_scoring.explain.figures import swarm_offsets
from credit_scoring.explain.local import (
    ExplainConfig,
    LocalExplanation,
    explain_frame,
    family_contributions,
    load_explain_config,
    local_explanation,
    reason_codes,
    tree_contributions,
    write_explain_config,
)
from credit_scoring.explain.overall import global_importance, median_client, sample_rows
from credit_scoring.explain.recourse import RecourseSettings
from credit_scoring.features.families import FAMILIES, UnassignedFeature, families, family_of
from credit_scoring.features.history_specs import feature_columns
from credit_scoring.features.labels import feature_labels
from credit_scoring.modeling.bundle import Bundle
from credit_scoring.modeling.training import make_estimator

# shap 0.51 calls matplotlib colormap setters that matplotlib is deprecating, once, when it is imported
pytestmark = pytest.mark.filterwarnings("ignore:The set_.* function will be deprecated:PendingDeprecationWarning")
LABELS = feature_labels()
PARAMS = yaml.safe_load((Path(__file__).resolve().parents[3] / "params.yaml").read_text())
ESTIMATOR = PARAMS["estimator"]
FEATURES = ["EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3", "DAYS_BIRTH", "AMT_CREDIT", "AMT_INCOME_TOTAL",
            "ANNUITY_INCOME_RATIO", "INSTAL_L365_LATE_MEAN", "INSTAL_L365_COUNT", "HAS_BUREAU", "FLAG_OWN_CAR_Y",
            "PREV_NAME_CONTRACT_STATUS_Refused_MEAN", "PREV_COUNT", "FLAG_MOBIL"]


def small_data(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Clients whose default depends on a few features, with missing values and one constant column
    (FLAG_MOBIL), which the HGB pipeline's selector drops."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "EXT_SOURCE_1": np.where(rng.random(n) < 0.5, np.nan, rng.random(n)),
        "EXT_SOURCE_2": rng.random(n), "EXT_SOURCE_3": rng.random(n),
        "DAYS_BIRTH": -rng.integers(20 * 365, 70 * 365, n).astype(float),
        "AMT_CREDIT": rng.uniform(5e4, 1e6, n), "AMT_INCOME_TOTAL": rng.uniform(2e4, 3e5, n),
        "ANNUITY_INCOME_RATIO": rng.uniform(0.02, 0.6, n),
        "INSTAL_L365_LATE_MEAN": np.where(rng.random(n) < 0.2, np.nan, rng.beta(1, 6, n)),
        "INSTAL_L365_COUNT": rng.integers(1, 24, n).astype(float),
        "HAS_BUREAU": rng.binomial(1, 0.85, n).astype(float), "FLAG_OWN_CAR_Y": rng.binomial(1, 0.35, n).astype(float),
        "PREV_NAME_CONTRACT_STATUS_Refused_MEAN": rng.beta(1, 4, n), "PREV_COUNT": rng.integers(1, 10, n).astype(float),
        "FLAG_MOBIL": np.ones(n),
    })[FEATURES].astype("float32")
    logit = (-2.5 - 2.5 * (X["EXT_SOURCE_2"] - 0.5) - 2 * (X["EXT_SOURCE_3"] - 0.5)
             + 3 * X["INSTAL_L365_LATE_MEAN"].fillna(0) + 1.5 * X["ANNUITY_INCOME_RATIO"]
             + 1.5 * X["PREV_NAME_CONTRACT_STATUS_Refused_MEAN"])
    y = rng.binomial(1, 1 / (1 + np.exp(-logit.to_numpy())))
    return X, y


@pytest.fixture(scope="module", params=["lightgbm", "hist_gradient_boosting"])
def small_bundle(request):
    X, y = small_data()
    model = make_estimator(request.param, {}, seed=0, n_estimators=60, early_stopping=False,
                           settings=ESTIMATOR, columns=FEATURES).fit(X, y)
    bundle = Bundle(model=model, threshold=0.1, features=FEATURES, model_version="7", info={"algorithm": request.param})
    return bundle, small_data(400, seed=1)[0]


def test_the_api_s_matrix_path_scores_exactly_as_predict_proba(small_bundle):
    bundle, X = small_bundle
    matrix = X[bundle.features].to_numpy(dtype="float32")
    np.testing.assert_array_equal(bundle.probability_matrix(matrix), bundle.probability(X))


def test_contributions_add_up_to_the_raw_score_whose_sigmoid_is_the_served_probability(small_bundle):
    bundle, X = small_bundle
    served = bundle.probability(X)
    for i in range(0, 400, 37):
        explanation = local_explanation(bundle, X.iloc[[i]])
        total = explanation.contributions.sum() + explanation.base_value
        assert total == pytest.approx(explanation.raw_score, abs=1e-9)
        assert explanation.probability == pytest.approx(served[i], rel=1e-6, abs=1e-9)
        assert list(explanation.contributions.index) == FEATURES


def test_the_raw_score_is_the_model_s_own_decision_function(small_bundle):
    bundle, X = small_bundle
    contributions, base = explain_frame(bundle, X)
    model = bundle.model
    raw = (model.booster_.predict(X.to_numpy(), raw_score=True) if hasattr(model, "booster_")
           else model.decision_function(X))
    np.testing.assert_allclose(contributions.sum(axis=1).to_numpy() + base, raw, rtol=1e-6, atol=1e-6)


def test_a_row_as_frame_series_or_mapping_gets_the_same_explanation(small_bundle):
    bundle, X = small_bundle
    frame = local_explanation(bundle, X.iloc[[3]])
    series = local_explanation(bundle, X.iloc[3])
    mapping = local_explanation(bundle, {k: (None if np.isnan(v) else float(v)) for k, v in X.iloc[3].items()})
    for other in (series, mapping):
        pd.testing.assert_series_equal(other.contributions, frame.contributions)
        assert other.raw_score == frame.raw_score
    with pytest.raises(ValueError, match="missing"):
        local_explanation(bundle, X.iloc[[3]].drop(columns=["AMT_CREDIT"]))


def test_the_explainer_is_built_once_per_model(small_bundle):
    bundle, _ = small_bundle
    assert tree_contributions(bundle) is tree_contributions(bundle)


@pytest.mark.filterwarnings("ignore:LightGBM binary classifier with TreeExplainer")
def test_lightgbm_pred_contrib_equals_shap_tree_explainer():
    import shap

    X, y = small_data()
    model = make_estimator("lightgbm", {}, seed=0, n_estimators=60, early_stopping=False,
                           settings=ESTIMATOR, columns=FEATURES).fit(X, y)
    bundle = Bundle(model=model, threshold=0.1, features=FEATURES, model_version="1", info={})
    contributions, base = explain_frame(bundle, X.head(300))
    explainer = shap.TreeExplainer(model)
    np.testing.assert_allclose(contributions.to_numpy(), explainer.shap_values(X.head(300)), atol=1e-6)
    assert base[0] == pytest.approx(float(np.ravel(explainer.expected_value)[0]), abs=1e-6)


def test_columns_dropped_by_the_hgb_selector_contribute_nothing():
    X, y = small_data()
    model = make_estimator("hist_gradient_boosting", {}, seed=0, n_estimators=40, early_stopping=False,
                           settings=ESTIMATOR, columns=FEATURES).fit(X, y)
    assert not model[0].get_support()[FEATURES.index("FLAG_MOBIL")]
    bundle = Bundle(model=model, threshold=0.1, features=FEATURES, model_version="1", info={})
    contributions, _ = explain_frame(bundle, X.head(200))
    assert (contributions["FLAG_MOBIL"] == 0).all()
    assert (contributions.drop(columns="FLAG_MOBIL").abs().sum() > 0).sum() >= 5


FAMILY_MAP = families(list(LABELS))


def test_every_feature_belongs_to_one_information_family():
    assert set(FAMILY_MAP) == set(feature_columns())
    assert set(FAMILY_MAP.values()) <= set(FAMILIES)
    assert {FAMILY_MAP[f] for f in ("EXT_SOURCE_1", "EXT_SOURCE_MEAN", "EXT_SOURCE_WEIGHTED")} == {"external_scores"}
    assert {FAMILY_MAP[f] for f in ("DAYS_BIRTH", "AGE_YEARS")} == {"age"}
    assert FAMILY_MAP["CREDIT_INCOME_RATIO"] == "income" and FAMILY_MAP["PAYMENT_RATE"] == "credit"
    assert FAMILY_MAP["INSTAL_L365_LATE_MEAN"] == FAMILY_MAP["POS_COUNT"] == "repayments"
    with pytest.raises(UnassignedFeature, match="NEW_FEATURE"):
        family_of("NEW_FEATURE")


def test_reason_codes_name_the_families_that_raise_this_client_s_risk_most(small_bundle):
    bundle, X = small_bundle
    proba = bundle.probability(X)
    for i in np.argsort(-proba)[:10]:
        explanation = local_explanation(bundle, X.iloc[[i]])
        reasons = reason_codes(explanation, LABELS, FAMILY_MAP, max_reasons=4, min_contribution=0.01)
        sums = family_contributions(explanation, FAMILY_MAP)
        assert sums.sum() + explanation.base_value == pytest.approx(explanation.raw_score, abs=1e-6)
        assert 1 <= len(reasons) <= 4 and len({r.family for r in reasons}) == len(reasons)
        for reason in reasons:
            assert reason.contribution == pytest.approx(sums[reason.family]) and reason.contribution > 0.01
            assert all(FAMILY_MAP.get(f, reason.family) == reason.family for f in reason.features)
            assert reason.text.startswith(f"{FAMILIES[reason.family]} — ")
            assert reason.text.endswith(", ce qui pèse sur le risque.") and "_" not in reason.text
        totals = [r.contribution for r in reasons]
        assert totals == sorted(totals, reverse=True)
        others = sums.drop([r.family for r in reasons])
        assert len(reasons) == 4 or (others <= 0.01).all()  # fewer than 4 only when no other family counts


def test_small_contributions_are_no_reason():
    explanation = local_explanation_of({"AMT_CREDIT": 0.3, "EXT_SOURCE_2": 0.004, "DAYS_BIRTH": -0.2})
    reasons = reason_codes(explanation, LABELS, FAMILY_MAP, max_reasons=4, min_contribution=0.01)
    assert [r.feature for r in reasons] == ["AMT_CREDIT"]
    assert reasons[0].text.replace("\u202f", " ").replace("\u00a0", " ") == (
        "Montant et durée du crédit — Montant du crédit demandé : 250 000 €, ce qui pèse sur le risque.")


def test_families_that_lower_the_risk_are_reasons_of_their_own_with_negative_contributions():
    explanation = local_explanation_of({"AMT_CREDIT": 0.3, "EXT_SOURCE_2": -0.25, "DAYS_BIRTH": -0.05})
    relief = reason_codes(explanation, LABELS, FAMILY_MAP, max_reasons=4, min_contribution=0.01, raising=False)
    assert [(r.family, r.feature) for r in relief] == [("external_scores", "EXT_SOURCE_2"), ("age", "DAYS_BIRTH")]
    assert [r.contribution for r in relief] == [-0.25, -0.05]
    assert all(r.text.endswith(", ce qui allège le risque.") for r in relief)
    assert [r.feature for r in reason_codes(explanation, LABELS, FAMILY_MAP, 4, 0.01)] == ["AMT_CREDIT"]


def test_one_fact_is_said_once_and_never_both_raises_and_lowers():
    """A client with one external score: its mean, maximum and minimum are that score. The family is one reason,
    naming the value once, and no part of it is said to lower the risk."""
    one_score = {"EXT_SOURCE_1": np.nan, "EXT_SOURCE_2": 0.32, "EXT_SOURCE_3": np.nan, "EXT_SOURCE_MEAN": 0.32,
                 "EXT_SOURCE_MAX": 0.32, "EXT_SOURCE_MIN": 0.32}
    explanation = local_explanation_of({"EXT_SOURCE_MEAN": 0.4, "EXT_SOURCE_MAX": 0.2, "EXT_SOURCE_2": 0.1,
                                        "EXT_SOURCE_MIN": -0.15, "EXT_SOURCE_3": -0.1, "AMT_CREDIT": 0.05},
                                       **one_score)
    raising = reason_codes(explanation, LABELS, FAMILY_MAP, 4, 0.01)
    lowering = reason_codes(explanation, LABELS, FAMILY_MAP, 4, 0.01, raising=False)
    assert [r.family for r in raising] == ["external_scores", "credit"] and lowering == []
    assert raising[0].contribution == pytest.approx(0.45)
    assert raising[0].text.count("0,32") == 1 and raising[0].features == ("EXT_SOURCE_MEAN",)


def test_a_missing_value_is_never_good_news_on_its_own():
    explanation = local_explanation_of({"EXT_SOURCE_3": -0.3, "AMT_CREDIT": 0.2, "DAYS_BIRTH": -0.1},
                                       EXT_SOURCE_3=np.nan)
    lowering = reason_codes(explanation, LABELS, FAMILY_MAP, 4, 0.01, raising=False)
    assert [r.family for r in lowering] == ["age"]
    no_bureau = local_explanation_of({"HAS_BUREAU": -0.2}, HAS_BUREAU=0.0)
    assert reason_codes(no_bureau, LABELS, FAMILY_MAP, 4, 0.01, raising=False) == []


def local_explanation_of(contributions: dict, **values) -> LocalExplanation:
    values = pd.Series({"AMT_CREDIT": 250000.0, "EXT_SOURCE_2": 0.4, "DAYS_BIRTH": -12000.0, **values})
    contributions = pd.Series(contributions).reindex(values.index, fill_value=0.0)
    return LocalExplanation(values=values, contributions=contributions, base_value=-2.0,
                            raw_score=-2.0 + contributions.sum())


def test_a_table_the_client_has_no_row_in_is_one_reason_not_one_per_aggregate():
    no_instalments = {"HAS_INSTALLMENTS": 0.0, "INSTAL_DPD_MEAN": np.nan, "INSTAL_LATE_MEAN": np.nan}
    contributions = {"INSTAL_DPD_MEAN": 0.2, "INSTAL_LATE_MEAN": 0.15, "HAS_INSTALLMENTS": 0.05, "AMT_CREDIT": 0.3}
    reasons = reason_codes(local_explanation_of(contributions, **no_instalments), LABELS, FAMILY_MAP, 4, 0.01)
    assert [r.text for r in reasons] == [
        "Historique chez Prêt à dépenser : remboursements — Aucune échéance de crédit antérieur, ce qui pèse sur le "
        "risque.",
        "Montant et durée du crédit — Montant du crédit demandé : 250\u202f000\u00a0€, ce qui pèse sur le risque."]
    assert reasons[0].features == ("HAS_INSTALLMENTS",) and reasons[0].contribution == pytest.approx(0.4)
    # with instalments, but none in the last year: the aggregate speaks for itself
    recent = {"HAS_INSTALLMENTS": 1.0, "INSTAL_L365_DPD_MEAN": np.nan}
    reasons = reason_codes(local_explanation_of({"INSTAL_L365_DPD_MEAN": 0.2}, **recent), LABELS, FAMILY_MAP, 4,
                           0.01)
    assert reasons[0].text == ("Historique chez Prêt à dépenser : remboursements — Moyenne des jours de retard de "
                               "paiement (échéances de la dernière année) : aucun historique correspondant, ce qui "
                               "pèse sur le risque.")


def test_the_export_is_refused_for_another_model(small_bundle, tmp_path):
    bundle, X = small_bundle
    config = ExplainConfig(model_version=bundle.model_version, model_run_id=None, max_reasons=3, min_contribution=0.02,
                           expected_value=-2.0, global_importance=[], labels={f: LABELS[f] for f in FEATURES},
                           recourse=RecourseSettings(**PARAMS["explain"]["recourse"]))
    write_explain_config(config, tmp_path / "explain")
    write_explain_config(config, tmp_path / "explain")  # replaced whole, never merged
    loaded = load_explain_config(tmp_path / "explain", bundle)
    assert loaded == config
    assert len(loaded.reasons(local_explanation(bundle, X.iloc[[0]]))) <= 3
    same_model = (bundle.model, bundle.threshold, bundle.features)
    for other in (Bundle(*same_model, "8", {}), Bundle(*same_model, bundle.model_version, {"mlflow_run_id": "x"})):
        with pytest.raises(ValueError, match="model version"):
            load_explain_config(tmp_path / "explain", other)














# --------------------------------------------------------------------------------------------------------
# The stage's pure pieces.
# --------------------------------------------------------------------------------------------------------
def test_global_importance_ranks_features_by_mean_absolute_contribution():
    contributions = pd.DataFrame({"AMT_CREDIT": [0.1, -0.3], "EXT_SOURCE_2": [0.5, 0.5], "DAYS_BIRTH": [0.2, -0.2]})
    table = global_importance(contributions, LABELS)
    assert table["feature"].tolist() == ["EXT_SOURCE_2", "AMT_CREDIT", "DAYS_BIRTH"]
    assert table["mean_abs_shap"].tolist() == pytest.approx([0.5, 0.2, 0.2])
    assert table["mean_shap"].tolist() == pytest.approx([0.5, -0.1, 0.0])
    assert table["rang"].tolist() == [1, 2, 3] and table["libelle"].iloc[0] == "Score externe n° 2"


def test_the_waterfall_clients_are_the_median_of_each_decision():
    proba = np.array([0.50, 0.01, 0.20, 0.03, 0.90, 0.02])
    refused = proba >= 0.1
    assert median_client(proba, refused) == 0  # 0.20, 0.50, 0.90 -> 0.50
    assert median_client(proba, ~refused) == 5  # 0.01, 0.02, 0.03 -> 0.02
    with pytest.raises(ValueError, match="no explained holdout client"):
        median_client(proba, np.zeros(6, dtype=bool))


def test_rows_are_all_kept_or_a_seeded_sample():
    assert sample_rows(5, 10, seed=1).tolist() == [0, 1, 2, 3, 4]
    sample = sample_rows(1000, 100, seed=1)
    assert len(sample) == 100 and (np.diff(sample) > 0).all()
    assert (sample == sample_rows(1000, 100, seed=1)).all()


def test_swarm_offsets_spread_equal_values_within_their_row():
    offsets = swarm_offsets(np.array([0.0, 0.0, 0.0, 0.0, 1.0]))
    assert np.abs(offsets).max() == pytest.approx(0.4)
    assert len(set(offsets[:4].round(6))) == 4 and offsets[4] == 0
