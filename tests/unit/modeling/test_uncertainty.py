"""The holdout figures' intervals and the cost-ratio sensitivity of the threshold stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from credit_scoring.modeling.cost import best_threshold, cost_per_client, scores_at
from credit_scoring.modeling.uncertainty import (
    bootstrap_intervals,
    compare_models,
    cost_along,
    cost_ratio_sensitivity,
    interval_metrics,
)


def scored(n: int, seed: int):
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 12, n)
    return (rng.random(n) < p).astype(int), p


def test_intervals_hold_the_point_estimates_and_narrow_with_more_clients():
    y, p = scored(4000, 0)
    small = bootstrap_intervals(y, p, 0.09, {"fn": 10, "fp": 1}, 300, 0)
    low, high = small["holdout_auc"]
    assert low < roc_auc_score(y, p) < high
    low_cost, high_cost = small["holdout_cost_per_client"]
    assert low_cost < cost_per_client(y, p, 0.09, 10, 1) < high_cost
    y4, p4 = scored(16000, 0)
    large = bootstrap_intervals(y4, p4, 0.09, {"fn": 10, "fp": 1}, 300, 0)
    width = lambda ci: ci[1] - ci[0]
    assert width(large["holdout_auc"]) < width(small["holdout_auc"])
    assert width(large["holdout_cost_per_client"]) < 0.7 * width(small["holdout_cost_per_client"])  # ~ 1/sqrt(4)
    assert bootstrap_intervals(y, p, 0.09, {"fn": 10, "fp": 1}, 300, 0) == small  # seeded


def test_a_costlier_missed_default_lowers_the_threshold_and_refuses_more():
    y, p = scored(20000, 1)
    oof = pd.DataFrame({"TARGET": y[:10000], "proba": p[:10000]})
    table = cost_ratio_sensitivity(oof, y[10000:], p[10000:], [5, 10, 20])
    assert list(table["rapport_fn_fp"]) == [5, 10, 20]
    assert table["seuil"].is_monotonic_decreasing and table["taux_de_refus"].is_monotonic_increasing
    assert table["rappel"].is_monotonic_increasing
    assert table.loc[1, "seuil"] == best_threshold(oof["TARGET"], oof["proba"], 10, 1)[0]
    assert table.loc[1, "cout_par_client"] == pytest.approx(cost_per_client(y[10000:], p[10000:],
                                                                            table.loc[1, "seuil"], 10, 1))
    at = scores_at(y[10000:], p[10000:], table.loc[2, "seuil"], 20, 1)
    assert table.loc[2, "taux_de_refus"] == (at.tp + at.fp) / 10000
    assert (table.loc[2, "rappel"], table.loc[2, "precision"]) == (at.recall, at.precision)
    assert list(table.columns) == ["rapport_fn_fp", "seuil", "taux_de_refus", "rappel", "precision", "cout_par_client"]


def test_a_false_positive_costs_its_own_price_along_the_resamples():
    y, p = scored(500, 3)
    cost = {"fn": 10, "fp": 2}
    along = cost_along(y[None, :], p[None, :], 0.1, cost)
    assert along[0] == pytest.approx(cost_per_client(y, p, 0.1, 10, 2))


def test_three_models_give_three_intervals_and_two_paired_differences():
    y, p = scored(2000, 4)
    rng = np.random.default_rng(5)
    others = [np.clip(p + rng.normal(0, s, len(p)), 0, 1) for s in (0.02, 0.2)]
    out = compare_models(y, [p, *others], [0.09, 0.09, 0.09], {"fn": 10, "fp": 1}, 200, 0)
    assert len(out["auc"]) == len(out["cost"]) == 3
    assert len(out["auc_difference"]) == len(out["cost_difference"]) == 2
    cost_gap = cost_per_client(y, p, 0.09, 10, 1) - cost_per_client(y, others[1], 0.09, 10, 1)
    assert out["cost_difference"][1][0] <= cost_gap <= out["cost_difference"][1][1]
    # each difference is the first model's minus the other's, on the same resamples as a pair alone gives
    for i, other in enumerate(others):
        pair = compare_models(y, [p, other], [0.09, 0.09], {"fn": 10, "fp": 1}, 200, 0)
        assert out["cost_difference"][i] == pair["cost_difference"][0]
        assert out["auc_difference"][i] == pair["auc_difference"][0]
    auc_gap = roc_auc_score(y, p) - roc_auc_score(y, others[1])
    assert out["auc_difference"][1][0] < auc_gap < out["auc_difference"][1][1] and out["auc_difference"][1][0] > 0
    one = bootstrap_intervals(y, p, 0.09, {"fn": 10, "fp": 1}, 200, 0)
    assert list(one) == ["level", "resamples", "holdout_auc", "holdout_cost_per_client"]
    assert (one["level"], one["resamples"], one["holdout_auc"]) == (0.95, 200, out["auc"][0])


def test_the_mlflow_names_of_the_intervals():
    baseline = {"threshold": 0.1, "holdout_auc": 0.75, "holdout_cost_per_client": 0.5,
                "holdout_auc_interval": [0.7, 0.8], "holdout_cost_interval": [0.4, 0.6]}
    difference = {"holdout_auc": [0.01, 0.03], "holdout_cost_per_client": [-0.05, -0.01]}
    intervals = {"holdout_auc": [0.7, 0.8], "baseline": baseline, "brier_prior": 0.07,
                 "champion_minus_baseline": difference}
    assert interval_metrics(intervals) == {
        "champion_minus_baseline_auc_ci_low": 0.01, "champion_minus_baseline_auc_ci_high": 0.03,
        "champion_minus_baseline_cost_ci_low": -0.05, "champion_minus_baseline_cost_ci_high": -0.01,
        "holdout_auc_ci_low": 0.7, "holdout_auc_ci_high": 0.8, "baseline_threshold": 0.1,
        "baseline_holdout_auc": 0.75, "baseline_holdout_cost_per_client": 0.5, "baseline_holdout_auc_ci_low": 0.7,
        "baseline_holdout_auc_ci_high": 0.8, "baseline_holdout_cost_per_client_ci_low": 0.4,
        "baseline_holdout_cost_per_client_ci_high": 0.6, "brier_prior": 0.07}
