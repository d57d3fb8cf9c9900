"""Training data, folds, out-of-fold predictions, search spaces and threshold choices on small frames."""

from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml

from credit_scoring.modeling.baselines import STRATEGIES, make_pipeline
from credit_scoring.modeling.thresholds import THRESHOLDS, threshold_table
from credit_scoring.modeling.training import (
    BinnedFold,
    derived_features,
    fit_early_stopped,
    load_training,
    make_estimator,
    monotone_constraints,
    out_of_fold,
    protected_columns,
    stratified_folds,
)
from credit_scoring.modeling.tuning import choose_algorithm, fold_costs, refined_space, suggest

ESTIMATOR = yaml.safe_load((Path(__file__).resolve().parents[3] / "params.yaml").read_text())["estimator"]


@pytest.fixture
def small(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "SK_ID_CURR": np.arange(100_000, 100_000 + n)[::-1],  # stored in another order than the split
        "TARGET": (rng.random(n) < 1 / (1 + np.exp(2.5 - 1.5 * x))).astype(int),
        "SIGNAL": x,
        "NOISE": rng.normal(size=n),
        "EMPTY": np.nan,
        "CODE_GENDER_M": rng.integers(0, 2, n).astype(float),
        "DAYS_BIRTH": -rng.integers(7000, 25000, n).astype(float),
        "AGE_YEARS": rng.uniform(19, 69, n),
    })
    frame.to_parquet(tmp_path / "train.parquet")
    split = frame[["SK_ID_CURR", "TARGET"]].sort_values("SK_ID_CURR")
    split["holdout"] = split["SK_ID_CURR"] % 5 == 0
    split.to_parquet(tmp_path / "split.parquet")
    return tmp_path, frame, split


def test_training_data_follows_the_split_by_id(small):
    path, frame, split = small
    data = load_training(path / "train.parquet", path / "split.parquet")
    holdout_ids = set(split.loc[split["holdout"], "SK_ID_CURR"])
    assert set(data.ids_holdout) == holdout_ids
    assert not set(data.ids) & holdout_ids
    assert "SK_ID_CURR" not in data.feature_names and "TARGET" not in data.feature_names
    target = frame.set_index("SK_ID_CURR")["TARGET"]
    assert (target.reindex(data.ids).to_numpy() == data.y).all()


def test_protected_inputs_are_excluded_with_everything_derived_from_them(small):
    path, _, _ = small
    columns = ["CODE_GENDER_M", "DAYS_BIRTH", "AGE_YEARS", "EMPLOYED_AGE_RATIO", "X"]
    assert protected_columns(columns, ["CODE_GENDER"]) == ["CODE_GENDER_M"]
    assert protected_columns(columns, ["CODE_GENDER", "DAYS_BIRTH"]) == columns[:4]
    assert protected_columns(columns, []) == []
    data = load_training(path / "train.parquet", path / "split.parquet", exclude_protected=["CODE_GENDER"])
    assert not protected_columns(data.feature_names, ["CODE_GENDER"])
    assert "SIGNAL" in data.feature_names
    with pytest.raises(TypeError, match="list of application columns"):
        protected_columns(columns, True)
    with pytest.raises(ValueError, match="not an application column"):
        protected_columns(columns, ["GENDER"])


def test_derived_features_are_found_by_perturbing_the_column():
    assert derived_features("CODE_GENDER") == ("CODE_GENDER_M",)
    assert set(derived_features("DAYS_BIRTH")) == {"DAYS_BIRTH", "AGE_YEARS", "EMPLOYED_AGE_RATIO"}
    assert {"EXT_SOURCE_MEAN", "EXT_SOURCE_WEIGHTED", "EXT_SOURCE_PROD"} <= set(derived_features("EXT_SOURCE_3"))
    assert set(derived_features("AMT_CREDIT")) == {"AMT_CREDIT", "CREDIT_INCOME_RATIO", "PAYMENT_RATE",
                                                   "GOODS_CREDIT_RATIO"}


def test_monotone_features_constrain_both_algorithms():
    columns = ["AMT_CREDIT", "EXT_SOURCE_1", "GOODS_CREDIT_RATIO"]
    assert monotone_constraints(columns, {"AMT_CREDIT": 1, "GOODS_CREDIT_RATIO": -1}) == [1, 0, -1]
    with pytest.raises(ValueError, match="unknown application features"):
        monotone_constraints(columns, {"AMT_CREDITS": 1})
    with pytest.raises(ValueError, match="-1 or 1"):
        monotone_constraints(columns, {"AMT_CREDIT": 2})
    settings = {**ESTIMATOR, "monotone": {"AMT_CREDIT": 1, "GOODS_CREDIT_RATIO": -1}}
    lgbm = make_estimator("lightgbm", {}, 0, 10, True, settings, columns)
    assert lgbm.get_params()["monotone_constraints"] == [1, 0, -1]
    hgb = make_estimator("hist_gradient_boosting", {}, 0, 10, True, settings, columns)[-1]
    assert hgb.monotonic_cst == {"AMT_CREDIT": 1, "GOODS_CREDIT_RATIO": -1}


def test_a_client_missing_from_the_split_is_an_error(small):
    path, _, split = small
    split.iloc[1:].to_parquet(path / "split.parquet")
    with pytest.raises(ValueError, match="not in"):
        load_training(path / "train.parquet", path / "split.parquet")


def test_out_of_fold_never_scores_a_row_with_a_model_trained_on_it(small):
    path, _, _ = small
    data = load_training(path / "train.parquet", path / "split.parquet")
    folds = stratified_folds(data.y, 4, 0)
    seen = []

    def fit_predict(X_train, y_train, X_valid):
        seen.append((set(X_train.index), set(X_valid.index)))
        return np.full(len(X_valid), 0.5), {}

    oof = out_of_fold(fit_predict, data.X, data.y, folds)
    assert not np.isnan(oof.proba).any()
    for train_rows, valid_rows in seen:
        assert not train_rows & valid_rows
    assert set().union(*(v for _, v in seen)) == set(range(len(data.y)))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_baseline_pipelines_fit_with_empty_columns_and_resample_only_when_fitting(small, strategy):
    path, _, _ = small
    data = load_training(path / "train.parquet", path / "split.parquet")
    pipeline = make_pipeline("logistic_regression", strategy, {"logistic_C": 1.0, "logistic_max_iter": 200,
                                                               "smote_k_neighbors": 5}, 0)
    pipeline.fit(data.X, data.y)
    proba = pipeline.predict_proba(data.X_holdout)[:, 1]
    assert len(proba) == len(data.y_holdout)  # no row added or dropped at prediction time
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(data.y_holdout, proba) > 0.7


@pytest.mark.parametrize("algorithm", ["lightgbm", "hist_gradient_boosting"])
def test_tuned_algorithms_fit_with_early_stopping_and_refit_with_fixed_rounds(small, algorithm):
    path, _, _ = small
    data = load_training(path / "train.parquet", path / "split.parquet")
    params = {"learning_rate": 0.1}
    _, rounds = fit_early_stopped(algorithm, params, 0, 300, 10, ESTIMATOR, data.X, data.y)
    assert 1 <= rounds <= 300
    refit = make_estimator(algorithm, params, 0, rounds, False, ESTIMATOR, data.feature_names).fit(data.X, data.y)
    again = make_estimator(algorithm, params, 0, rounds, False, ESTIMATOR, data.feature_names).fit(data.X, data.y)
    assert np.array_equal(refit.predict_proba(data.X_holdout), again.predict_proba(data.X_holdout))  # seeded


def test_search_spaces_and_their_refinement():
    space = {"learning_rate": ["log", 0.03, 0.2], "num_leaves": ["int_log", 4, 64], "subsample": ["float", 0.5, 1.0]}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    params = suggest(study.ask(), space)
    assert 0.03 <= params["learning_rate"] <= 0.2 and isinstance(params["num_leaves"], int)
    refined = refined_space(space, {"learning_rate": 0.18, "num_leaves": 8, "subsample": 0.55}, 2.0, 0.15)
    assert refined["learning_rate"] == ["log", 0.09, 0.2]  # never beyond the wide bounds
    assert refined["num_leaves"] == ["int_log", 4, 16]
    assert refined["subsample"][1] == 0.5 and refined["subsample"][2] == pytest.approx(0.625)


def _best(value: float, folds: list[float]) -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(value=value, user_attrs={"fold_costs": folds})


def test_the_first_listed_algorithm_is_kept_when_the_other_leads_within_noise():
    close = {"lightgbm": _best(0.482, [0.47, 0.49, 0.48, 0.49]), "hgb": _best(0.480, [0.49, 0.47, 0.49, 0.47])}
    choice = choose_algorithm(close, ["lightgbm", "hgb"])
    assert choice["lowest_cost"] == "hgb" and choice["within_noise"] and choice["chosen"] == "lightgbm"
    assert choice["gap"] == pytest.approx(0.002) and choice["gap_se"] > choice["gap"]
    clear = {"lightgbm": _best(0.50, [0.50, 0.51, 0.49, 0.50]), "hgb": _best(0.48, [0.48, 0.49, 0.47, 0.48])}
    assert choose_algorithm(clear, ["lightgbm", "hgb"])["chosen"] == "hgb"  # the same 0.02 lead in every fold
    assert choose_algorithm(clear, ["hgb", "lightgbm"]) == {
        "chosen": "hgb", "lowest_cost": "hgb", "preferred": "hgb", "gap": 0.0, "gap_se": 0.0, "within_noise": False}


def test_fold_costs_are_each_folds_cost_at_one_threshold():
    y = np.array([1, 0, 0, 1, 0, 0])
    proba = np.array([0.9, 0.1, 0.6, 0.2, 0.1, 0.1])
    folds = [(np.array([3, 4, 5]), np.array([0, 1, 2])), (np.array([0, 1, 2]), np.array([3, 4, 5]))]
    # fold 1: one false positive (0.6) -> 1/3; fold 2: one missed default (0.2) at cost 10 -> 10/3
    assert fold_costs(y, proba, folds, 0.5, {"fn": 10, "fp": 1}) == pytest.approx([1 / 3, 10 / 3])


def test_cost_optimal_threshold_differs_from_the_f1_one_and_from_one_half():
    rng = np.random.default_rng(2)
    p = rng.beta(1.2, 12, 50_000)
    y = (rng.random(len(p)) < p).astype(int)
    table = threshold_table(y, p, 10, 1)
    assert list(table["id"]) == list(THRESHOLDS) and list(table["seuil"]) == list(THRESHOLDS.values())
    table = table.set_index("id")
    cost_t = table.loc["cost", "valeur"]
    assert abs(cost_t - 1 / 11) < 0.02
    assert table.loc["default", "valeur"] == 0.5
    assert table.loc["f1", "valeur"] != cost_t
    costs = table["cout_par_client"]
    assert costs["cost"] <= costs.min() + 1e-12
    assert costs["default"] > costs["cost"]


def test_the_estimator_settings_of_params_yaml_reach_both_algorithms():
    settings = {**ESTIMATOR, "max_bins": 31, "n_jobs": 1, "early_stopping_share": 0.2, "hgb_n_iter_no_change": 7}
    lgbm = make_estimator("lightgbm", {}, 0, 10, True, settings, ["A"])
    assert (lgbm.max_bin, lgbm.n_jobs) == (31, 1)
    hgb = make_estimator("hist_gradient_boosting", {}, 0, 10, True, settings, ["A"])[-1]
    assert (hgb.max_bins, hgb.validation_fraction, hgb.n_iter_no_change) == (31, 0.2, 7)


@pytest.mark.parametrize("params", [
    {"learning_rate": 0.1, "num_leaves": 7, "min_child_samples": 40, "colsample_bytree": 0.5, "subsample": 0.7,
     "reg_lambda": 1.0},
    {"learning_rate": 0.1, "num_leaves": 15, "min_child_samples": 300, "colsample_bytree": 0.9, "subsample": 0.9,
     "reg_lambda": 10.0},
])
def test_a_binned_fold_fits_what_the_scikit_learn_wrapper_fits(small, params):
    """The tune stage's trials boost on a fold binned once; each must be the model `fit_early_stopped` would fit
    (same rows fitted and stopping, same parameters), whatever ``min_child_samples`` the binning saw first."""
    path, _, _ = small
    data = load_training(path / "train.parquet", path / "split.parquet")
    settings = {**ESTIMATOR, "monotone": {}}
    binned = BinnedFold(data.X, data.y, 0, settings)
    binned.train({**params, "min_child_samples": 5}, 0, 50, 10, settings)  # an earlier trial on the same bins
    booster, rounds = binned.train(params, 0, 300, 10, settings)
    model, expected_rounds = fit_early_stopped("lightgbm", params, 0, 300, 10, settings, data.X, data.y)
    assert rounds == expected_rounds
    np.testing.assert_allclose(booster.predict(data.X_holdout, num_iteration=rounds),
                               model.predict_proba(data.X_holdout)[:, 1], rtol=0, atol=1e-12)


def test_the_baselines_share_each_folds_preprocessing_through_the_cache(small, tmp_path):
    """With the joblib cache every run of a fold reuses the fitted imputation and scaling, and predicts exactly
    what it predicts without it."""
    from joblib import Memory

    from credit_scoring.modeling.baselines import fit_predict_for

    path, _, _ = small
    data = load_training(path / "train.parquet", path / "split.parquet")
    cfg = {"logistic_C": 1.0, "logistic_max_iter": 200, "smote_k_neighbors": 5}
    memory = Memory(tmp_path / "cache", verbose=0)
    for strategy in STRATEGIES:
        cached, _ = fit_predict_for("logistic_regression", strategy, cfg, 0, memory)(data.X, data.y, data.X_holdout)
        plain, _ = fit_predict_for("logistic_regression", strategy, cfg, 0)(data.X, data.y, data.X_holdout)
        np.testing.assert_array_equal(cached, plain)
    fitted = list((tmp_path / "cache").rglob("output.pkl"))
    assert len(fitted) == 3 + 2  # one drop, imputation and scaling for the four strategies; two resamplings
