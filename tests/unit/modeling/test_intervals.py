"""The threshold stage's intervals against hand computations and known truths: the bootstrap helper (coverage,
pairing, seeding), the fold spread, the prior's Brier score, the best baseline scored on the holdout, and the
cost-ratio figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import brier_score_loss, roc_auc_score

from credit_scoring.modeling.baselines import run_baselines, summary
from credit_scoring.modeling.cost import best_threshold, cost_per_client
from credit_scoring.modeling.training import TrainingData, stratified_folds
from credit_scoring.modeling.uncertainty import (
    Scored,
    auc_along,
    bootstrap,
    bootstrap_intervals,
    brier_prior,
    compare_models,
    cost_along,
    fold_spread,
    interval_metrics,
    threshold_intervals,
)
from credit_scoring.modeling.variants import best_baseline

COST = {"fn": 10, "fp": 1}


def scored(n: int, seed: int):
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 12, n)
    return (rng.random(n) < p).astype(int), p


def test_the_vectorised_auc_and_cost_are_sklearn_s_on_every_row_ties_included():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, (5, 300))
    p = np.round(rng.random((5, 300)) * 0.5 + 0.3 * y, 1)  # coarse: many ties
    np.testing.assert_allclose(auc_along(y, p), [roc_auc_score(y[i], p[i]) for i in range(5)])
    np.testing.assert_allclose(cost_along(y, p, 0.4, COST), [cost_per_client(y[i], p[i], 0.4, 10, 1) for i in range(5)])


def test_the_auc_interval_covers_the_true_auc_about_95_times_in_100():
    """Binormal scores, defaulters shifted by d: the true AUC is Phi(d / sqrt 2)."""
    d, truth = 1.0, norm.cdf(1.0 / np.sqrt(2))
    covered = []
    for replicate in range(120):
        rng = np.random.default_rng(replicate)
        y = (rng.random(600) < 0.2).astype(int)
        score = rng.normal(d * y, 1.0)
        low, high = bootstrap(lambda y, s, axis=-1: auc_along(y, s, axis), [y, score], 400, replicate)[0]
        covered.append(low <= truth <= high)
    assert 0.88 <= np.mean(covered) <= 0.99


def test_the_cost_interval_covers_the_expected_cost_about_95_times_in_100():
    y_big, p_big = scored(2_000_000, 99)
    truth = cost_per_client(y_big, p_big, 0.09, 10, 1)
    covered = [low <= truth <= high for low, high in
               (bootstrap_intervals(*scored(800, r), 0.09, COST, 400, r)["holdout_cost_per_client"]
                for r in range(120))]
    assert 0.88 <= np.mean(covered) <= 0.99


def test_a_model_against_itself_differs_by_exactly_nothing():
    y, p = scored(3000, 1)
    boot = compare_models(y, [p, p], [0.09, 0.09], COST, 200, 0)
    assert boot["auc_difference"] == [[0.0, 0.0]] and boot["cost_difference"] == [[0.0, 0.0]]
    assert boot["auc"][0] == boot["auc"][1] and boot["auc"][0][0] < boot["auc"][0][1]


def test_pairing_narrows_the_difference_of_two_close_models():
    """Two models that meet the same hard and easy clients: the paired difference is far narrower than either
    model's own interval, which unpaired intervals side by side would suggest."""
    y, p = scored(5000, 2)
    q = np.clip(p + np.random.default_rng(5).normal(0, 0.01, len(p)), 0, 1)
    boot = compare_models(y, [p, q], [0.09, 0.09], COST, 300, 0)
    width = lambda ci: ci[1] - ci[0]
    assert width(boot["auc_difference"][0]) < 0.2 * width(boot["auc"][0])
    assert boot["auc_difference"][0][0] < roc_auc_score(y, p) - roc_auc_score(y, q) < boot["auc_difference"][0][1]


def test_the_same_seed_gives_the_same_resamples_for_every_model_and_stage():
    y, p = scored(3000, 4)
    q = p ** 1.3
    alone = bootstrap_intervals(y, p, 0.09, COST, 300, 7)
    beside = compare_models(y, [p, q], [0.09, 0.05], COST, 300, 7)
    assert beside["auc"][0] == alone["holdout_auc"] and beside["cost"][0] == alone["holdout_cost_per_client"]
    assert compare_models(y, [p, q], [0.09, 0.05], COST, 300, 7) == beside
    assert compare_models(y, [p, q], [0.09, 0.05], COST, 300, 8) != beside


def test_fold_spread_by_hand():
    y = np.array([0, 1, 0, 0, 1, 0, 1, 0])
    p = np.array([0.1, 0.8, 0.6, 0.2, 0.3, 0.1, 0.9, 0.7])
    folds = [(np.arange(4, 8), np.arange(0, 4)), (np.arange(0, 4), np.arange(4, 8))]
    spread = fold_spread(y, p, folds, 0.5, COST)
    # fold 1: refused rows 1 (default) and 2 (good): 1 FP -> 1/4; fold 2: row 4 (default, 0.3) granted -> 10,
    # row 7 (good, 0.7) refused -> 1: 11/4
    costs = [0.25, 2.75]
    assert spread["cv_cost_per_client"] == pytest.approx({"mean": 1.5, "sd": np.std(costs, ddof=1), "min": 0.25,
                                                          "max": 2.75})
    assert spread["cv_cost_per_client"]["sd"] == pytest.approx(2.5 / np.sqrt(2))
    # fold 1: one default (0.8) above all three goods -> 1; fold 2: defaults 0.3, 0.9 against goods 0.1, 0.7:
    # 3 of 4 pairs -> 0.75
    assert spread["cv_auc"] == pytest.approx({"mean": 0.875, "sd": 0.25 / np.sqrt(2), "min": 0.75, "max": 1.0})


def test_the_prior_s_brier_score_is_the_training_rate_s():
    y_train, y_holdout = np.array([0, 0, 0, 1]), np.array([0, 1])
    assert brier_prior(y_train, y_holdout) == pytest.approx((0.25 ** 2 + 0.75 ** 2) / 2)
    assert brier_prior(y_train, y_holdout) == pytest.approx(brier_score_loss(y_holdout, [0.25, 0.25]))


def small_training(n: int = 2400, seed: int = 0) -> TrainingData:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"f{i}" for i in range(5)]).astype("float32")
    X.loc[rng.random(n) < 0.1, "f3"] = np.nan
    X["constant"] = np.float32(1.0)
    y = rng.binomial(1, 1 / (1 + np.exp(-(-2.2 + 1.2 * X["f0"].to_numpy() - 0.8 * X["f1"].to_numpy()))))
    ids = np.arange(100000, 100000 + n)
    train = np.arange(n) < int(0.75 * n)
    return TrainingData(X[train].reset_index(drop=True), y[train], ids[train], X[~train].reset_index(drop=True),
                        y[~train], ids[~train])


@pytest.fixture(scope="module")
def baselines():
    data = small_training()
    cfg = {"logistic_C": 0.01, "logistic_max_iter": 500, "smote_k_neighbors": 5}
    table, oof = run_baselines(data, stratified_folds(data.y, 3, 0), cfg, COST, 0)
    return data, cfg, table, oof


def test_the_best_baseline_is_refitted_and_scored_at_its_own_out_of_fold_threshold(baselines):
    data, cfg, table, oof = baselines
    best = summary(table)
    baseline = best_baseline(best, oof, data, cfg, COST, 0)
    assert baseline.name == f"{best['best_model']}/{best['best_strategy']}"
    row = table.set_index(["model", "strategy"]).loc[(best["best_model"], best["best_strategy"])]
    assert baseline.threshold == row["threshold"]  # the baseline stage's own threshold for this run
    np.testing.assert_array_equal(baseline.oof, oof[baseline.name])
    assert len(baseline.holdout) == len(data.y_holdout) and roc_auc_score(data.y_holdout, baseline.holdout) > 0.7
    # the strategy is the baseline stage's: balanced class weights push every probability up
    plain = best_baseline({**best, "best_strategy": "none"}, oof, data, cfg, COST, 0)
    weighted = best_baseline({**best, "best_strategy": "class_weight"}, oof, data, cfg, COST, 0)
    assert weighted.holdout.mean() > plain.holdout.mean() + 0.2
    assert weighted.threshold == best_threshold(data.y, oof["logistic_regression/class_weight"], 10, 1)[0]


def test_out_of_fold_predictions_of_other_clients_or_order_are_refused(baselines):
    from pathlib import Path

    from credit_scoring.modeling.thresholds import check_oof_rows

    data, _, _, oof = baselines
    check_oof_rows(oof, data, Path("models/baseline/oof.parquet"), "baseline")
    with pytest.raises(ValueError, match="oof.parquet does not match the training part: rerun the baseline stage"):
        check_oof_rows(oof.iloc[::-1], data, Path("models/baseline/oof.parquet"), "baseline")


def test_threshold_intervals_write_the_contract_and_its_mlflow_names(baselines):
    data, cfg, table, oof = baselines
    baseline = best_baseline(summary(table), oof, data, cfg, COST, 0)
    other = best_baseline({**summary(table), "best_model": "dummy_prior", "best_strategy": "none"}, oof, data, cfg,
                          COST, 0)
    nudged = other.holdout + np.linspace(0, 1e-3, len(other.holdout))
    champion = Scored("dummy/tuned", other.threshold, other.oof, nudged)
    folds = stratified_folds(data.y, 3, 0)
    intervals = threshold_intervals(champion, baseline, data.y, data.y_holdout, folds, COST, 200, 0)
    assert intervals["level"] == 0.95 and intervals["resamples"] == 200
    paired = compare_models(data.y_holdout, [champion.holdout, baseline.holdout],
                            [champion.threshold, baseline.threshold], COST, 200, 0)  # the same seeded resamples
    assert intervals["holdout_auc"] == paired["auc"][0] and intervals["holdout_cost_per_client"] == paired["cost"][0]
    assert intervals["holdout_auc"][0] < roc_auc_score(data.y_holdout, champion.holdout) < intervals["holdout_auc"][1]
    b = intervals["baseline"]
    assert b["model"] == baseline.name and b["threshold"] == baseline.threshold
    assert b["holdout_auc"] == pytest.approx(roc_auc_score(data.y_holdout, baseline.holdout))
    assert b["holdout_cost_per_client"] == pytest.approx(cost_per_client(data.y_holdout, baseline.holdout,
                                                                         baseline.threshold, 10, 1))
    assert b["holdout_auc_interval"][0] < b["holdout_auc"] < b["holdout_auc_interval"][1]
    difference = roc_auc_score(data.y_holdout, champion.holdout) - b["holdout_auc"]
    low, high = intervals["champion_minus_baseline"]["holdout_auc"]
    assert low < difference < high
    assert set(intervals["fold_spread"]) == {"champion", "baseline"}
    assert intervals["fold_spread"]["baseline"] == fold_spread(data.y, baseline.oof, folds, baseline.threshold, COST)
    assert intervals["brier_prior"] == pytest.approx(brier_score_loss(data.y_holdout,
                                                                      np.full(len(data.y_holdout), data.y.mean())))
    metrics = interval_metrics(intervals)
    assert metrics["holdout_auc_ci_low"] == intervals["holdout_auc"][0]
    assert metrics["baseline_holdout_auc_ci_high"] == b["holdout_auc_interval"][1]
    assert metrics["champion_minus_baseline_cost_ci_low"] == intervals["champion_minus_baseline"][
        "holdout_cost_per_client"][0]
    assert metrics["fold_baseline_cv_cost_per_client_sd"] == intervals["fold_spread"]["baseline"][
        "cv_cost_per_client"]["sd"]
    assert all(isinstance(v, float) for v in metrics.values()) and len(metrics) == 4 + 7 + 4 + 16 + 1


def test_the_cost_ratio_figure_is_written(tmp_path, monkeypatch):
    from credit_scoring.modeling.figures import sensitivity_figure

    monkeypatch.chdir(tmp_path)
    table = pd.DataFrame({"rapport_fn_fp": [5, 10, 20], "seuil": [0.177, 0.089, 0.044],
                          "taux_de_refus": [0.117, 0.274, 0.511], "rappel": [0.4, 0.65, 0.85],
                          "precision": [0.27, 0.19, 0.13], "cout_par_client": [0.33, 0.5, 0.68]})
    path = sensitivity_figure(table, 10.0)
    assert path.resolve() == tmp_path / "reports/figures/cost_ratio_sensitivity.png"
    assert path.stat().st_size > 10_000
