"""The threshold stage's pieces on small hand-made data: the oracle's metrics, what threshold.json reports, the
plausibility warning, the refit, the champion's MLflow run and bundle.json."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from credit_scoring.common.params import load_params
from credit_scoring.common.paths import PARAMS
from credit_scoring.common.tracking import REGISTERED_MODEL
from credit_scoring.modeling.cost import best_threshold, scores_at
from credit_scoring.modeling.thresholds import (
    COST,
    DEFAULT,
    F1,
    champion_info,
    holdout_metrics,
    oracle_metrics,
    oracle_probabilities,
    plausibility_warnings,
    refit,
    threshold_table,
)

COSTS = {"fn": 10, "fp": 1}
ESTIMATOR = load_params(PARAMS)["estimator"]


def scored(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    proba = rng.beta(1.5, 12.0, n)
    y = (rng.random(n) < proba).astype(int)
    return y, proba


def test_the_table_holds_the_three_thresholds_with_their_own_scores():
    y, proba = scored()
    table = threshold_table(y, proba, COSTS["fn"], COSTS["fp"]).set_index("id")
    assert list(table.index) == [DEFAULT, F1, COST]
    assert table.loc[DEFAULT, "valeur"] == 0.5
    assert table.loc[COST, "valeur"] == best_threshold(y, proba, 10, 1)[0]
    for key in (DEFAULT, F1, COST):
        s = scores_at(y, proba, table.loc[key, "valeur"], 10, 1)
        assert table.loc[key, "cout_par_client"] == s.cost_per_client and table.loc[key, "f1"] == s.f1
        assert (table.loc[key, "rappel"], table.loc[key, "precision"], table.loc[key, "exactitude"]) == (
            s.recall, s.precision, s.accuracy)
        assert table.loc[key, "taux_de_refus"] == (s.tp + s.fp) / len(y)
    assert table.loc[COST, "cout_par_client"] <= table[["cout_par_client"]].min().item()


def test_the_oracle_is_scored_with_a_threshold_chosen_on_the_training_part(tmp_path):
    ids, ids_holdout = np.arange(100, 500), np.arange(500, 900)
    y, pd_train = scored(400, 1)
    y_holdout, pd_holdout = scored(400, 2)
    oracle = tmp_path / "oracle_pd.parquet"
    truth = pd.DataFrame({"SK_ID_CURR": np.concatenate([ids_holdout, ids]),
                          "PD": np.concatenate([pd_holdout, pd_train])})
    truth.to_parquet(oracle)
    assert np.array_equal(oracle_probabilities(oracle, ids), pd_train)  # read by id, not by row order
    data = SimpleNamespace(y=y, ids=ids, y_holdout=y_holdout, ids_holdout=ids_holdout)
    metrics = oracle_metrics(oracle, data, COSTS)
    t = best_threshold(y, pd_train, 10, 1)[0]
    expected = scores_at(y_holdout, pd_holdout, t, 10, 1)
    assert metrics == {"oracle_holdout_auc": expected.auc, "oracle_holdout_cost_per_client": expected.cost_per_client,
                       "oracle_threshold": t}


def test_real_data_has_no_oracle(tmp_path):
    assert oracle_probabilities(tmp_path / "absent.parquet", np.arange(3)) is None
    assert oracle_metrics(tmp_path / "absent.parquet", SimpleNamespace(), COSTS) == {}


def test_threshold_json_reports_the_holdout_at_the_cost_threshold_and_the_compared_costs():
    y, proba = scored(400, 3)
    y_holdout, proba_holdout = scored(300, 4)
    table = threshold_table(y, proba, 10, 1)
    row = table.set_index("id")
    at = scores_at(y_holdout, proba_holdout, row.loc[COST, "valeur"], 10, 1)
    metrics = holdout_metrics(table, at, y_holdout, proba_holdout, "lightgbm")
    assert metrics["threshold"] == row.loc[COST, "valeur"] and metrics["f1_threshold"] == row.loc[F1, "valeur"]
    assert metrics["holdout_auc"] == at.auc and metrics["holdout_cost_per_client"] == at.cost_per_client
    assert (metrics["oof_cost_at_0_5"], metrics["oof_cost_at_f1_threshold"], metrics["oof_cost_at_threshold"]) == (
        row.loc[DEFAULT, "cout_par_client"], row.loc[F1, "cout_par_client"], row.loc[COST, "cout_par_client"])
    assert metrics["holdout_brier"] == pytest.approx(np.mean((proba_holdout - y_holdout) ** 2))
    assert metrics["algorithm"] == "lightgbm" and metrics["holdout_clients"] == 300
    assert not {"holdout_threshold", "holdout_tp", "holdout_fp", "holdout_tn", "holdout_fn"} & set(metrics)
    assert {"holdout_accuracy", "holdout_recall", "holdout_precision", "holdout_f1"} <= set(metrics)


@pytest.mark.parametrize("source, cv_auc, holdout_auc, warned", [
    ("kaggle", 0.90, 0.70, True), ("kaggle", 0.70, 0.90, True), ("kaggle", 0.85, 0.85, False),
    ("kaggle", 0.70, 0.70, False), ("synthetic", 0.95, 0.95, False), ("database", 0.86, 0.70, True),
])
def test_an_implausible_auc_on_real_data_is_a_warning(source, cv_auc, holdout_auc, warned):
    warnings = plausibility_warnings(source, cv_auc, holdout_auc, 0.85)
    assert len(warnings) == int(warned)
    if warned:
        assert warnings[0] == (f"AUC above 0.85 on real data (CV {cv_auc:.3f}, holdout {holdout_auc:.3f}): "
                               "suspect overfitting or leakage")


def small_training(n: int = 300):
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * X["a"]))).astype(int).to_numpy()
    return SimpleNamespace(X=X, y=y, feature_names=list(X.columns))


def test_refit_fits_the_tuned_configuration_with_its_rounds_on_the_whole_training_part():
    data = small_training()
    best = {"algorithm": "lightgbm", "params": {"num_leaves": 4, "learning_rate": 0.1}, "rounds": 7}
    model = refit(best, data, 0, {**ESTIMATOR, "n_jobs": 1})
    lgbm = model[-1] if hasattr(model, "steps") else model
    assert lgbm.n_estimators == 7 and lgbm.booster_.num_trees() == 7
    assert lgbm.num_leaves == 4 and lgbm.n_features_in_ == 2




def test_bundle_json_holds_what_the_api_needs():
    best = {"algorithm": "lightgbm"}
    metrics = {"threshold": 0.09, "holdout_auc": 0.78, "warnings": ["w"]}
    params = {"cost": COSTS, "data": {"source": "synthetic"}, "features": {"exclude_protected": ["CODE_GENDER"]}}
    info = champion_info("3", "run", best, ["a", "b"], metrics, params)
    assert info == {"model_name": REGISTERED_MODEL, "model_version": "3", "mlflow_run_id": "run",
                    "algorithm": "lightgbm", "threshold": 0.09, "features": ["a", "b"], "cost": COSTS,
                    "metrics": {"threshold": 0.09, "holdout_auc": 0.78}, "data_source": "synthetic",
                    "exclude_protected": ["CODE_GENDER"]}


def test_the_refit_of_a_hist_gradient_boosting_runs_every_round_with_the_seed_given():
    data = small_training()
    best = {"algorithm": "hist_gradient_boosting", "params": {"max_leaf_nodes": 4}, "rounds": 5}
    model = refit(best, data, 3, ESTIMATOR)
    hgb = model[-1] if hasattr(model, "steps") else model
    assert hgb.early_stopping is False and hgb.n_iter_ == 5 and hgb.random_state == 3
