"""Training data, folds and out-of-fold predictions shared by the baseline, tune and threshold stages.

Every model is judged the same way: stratified K-fold on the training part only (the holdout is scored once,
by the threshold stage), everything fitted (imputer, scaler, sampler, early stopping) inside the fold, and
the business cost at the best threshold computed on the out-of-fold predictions.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_selection import VarianceThreshold
from sklearn.model_selection import StratifiedKFold

from credit_scoring.common.paths import FEATURES_TRAIN, SPLIT
from credit_scoring.features.application import APPLICATION, application_features
from credit_scoring.features.history_specs import application_feature_names

KEY, TARGET = "SK_ID_CURR", "TARGET"


@dataclass
class TrainingData:
    """The training part and the holdout, as feature matrices in the stored column order."""

    X: pd.DataFrame
    y: np.ndarray
    ids: np.ndarray
    X_holdout: pd.DataFrame
    y_holdout: np.ndarray
    ids_holdout: np.ndarray

    @property
    def feature_names(self) -> list[str]:
        return list(self.X.columns)


def _application_rows() -> pd.DataFrame:
    """Two plausible application rows (first and third quartiles of every number, first and second value of
    every category), where every ratio and combination of the application features is defined."""
    rows = {}
    for column in APPLICATION.columns:
        if column.kind == "category":
            values = [v for v in column.value_shares if v is not None]
            rows[column.name] = [values[0], values[min(1, len(values) - 1)]]
        else:
            q = column.quantiles
            rows[column.name] = [float(q[2]) or 1.0, float(q[4]) or 2.0]
    rows[KEY] = [1, 2]
    return pd.DataFrame(rows)


@cache
def derived_features(column: str) -> tuple[str, ...]:
    """The application features that change when the application column ``column`` changes: its own encodings
    and every ratio or combination built on it. Found by perturbing the column in plausible rows (every other
    category value; numbers moved up and down), so no hand-kept list can forget a feature derived from it."""
    if column not in APPLICATION.column_names or column == KEY:
        raise ValueError(f"{column!r} is not an application column")
    base = _application_rows()
    before = application_features(base)
    info = APPLICATION.column(column)
    if info.kind == "category":
        variants = [base.assign(**{column: value}) for value in info.value_shares if value is not None]
        variants.append(base.assign(**{column: None}))
    else:
        variants = [base.assign(**{column: base[column] * factor + shift}) for factor, shift in ((1.5, 1.0),
                                                                                                 (0.5, -1.0))]
    changed = set()
    for variant in variants:
        after = application_features(variant)
        same = (after == before) | (after.isna() & before.isna())
        changed |= set(after.columns[~same.all(axis=0).to_numpy()])
    return tuple(c for c in before.columns if c in changed)


def protected_columns(columns: Sequence[str], excluded: Sequence[str]) -> list[str]:
    """The features among ``columns`` derived from any application column of ``excluded`` (params.yaml's
    ``features.exclude_protected``)."""
    if isinstance(excluded, (bool, str)) or excluded is None:
        raise TypeError("features.exclude_protected is a list of application columns, e.g. [CODE_GENDER]; "
                        f"got {excluded!r}")
    derived = {f for column in excluded for f in derived_features(column)}
    return [c for c in columns if c in derived]


def monotone_constraints(columns: Sequence[str], directions: Mapping[str, int]) -> list[int]:
    """LightGBM's ``monotone_constraints`` for ``columns``: +1 where the prediction may only rise with the feature,
    -1 where it may only fall (params.yaml's ``estimator.monotone``), 0 elsewhere. Names must be application
    features, directions -1 or +1."""
    unknown = sorted(set(directions) - set(application_feature_names()))
    if unknown:
        raise ValueError(f"estimator.monotone names unknown application features: {unknown}")
    wrong = {name: d for name, d in directions.items() if d not in (-1, 1)}
    if wrong:
        raise ValueError(f"estimator.monotone directions must be -1 or 1: {wrong}")
    return [int(directions.get(c, 0)) for c in columns]


def load_training(features: Path = FEATURES_TRAIN, split: Path = SPLIT, exclude_protected: Sequence[str] = ()
                  ) -> TrainingData:
    """Features joined to the stored split (by id, so row order never matters), without the features derived
    from the application columns ``exclude_protected``."""
    frame = pd.read_parquet(features)
    holdout = pd.read_parquet(split).set_index(KEY)["holdout"]
    is_holdout = frame[KEY].map(holdout)
    if is_holdout.isna().any():
        raise ValueError(f"{int(is_holdout.isna().sum())} clients of {features} are not in {split}")
    is_holdout = is_holdout.astype(bool).to_numpy()
    drop = [KEY, TARGET, *protected_columns(list(frame.columns), exclude_protected)]
    X = frame.drop(columns=drop).astype("float32")
    y = frame[TARGET].to_numpy().astype(int)
    ids = frame[KEY].to_numpy()
    return TrainingData(X[~is_holdout].reset_index(drop=True), y[~is_holdout], ids[~is_holdout],
                        X[is_holdout].reset_index(drop=True), y[is_holdout], ids[is_holdout])


def stratified_folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds every stage shares, so out-of-fold costs of different models compare on the same rows."""
    return list(StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


FitPredict = Callable[[pd.DataFrame, np.ndarray, pd.DataFrame], tuple[np.ndarray, dict]]
"""Fit on (X_train, y_train), return (probabilities for X_valid, facts about the fit such as best iteration)."""


@dataclass
class OutOfFold:
    proba: np.ndarray
    fit_seconds: float  # mean over folds
    fold_facts: list[dict]


def out_of_fold(fit_predict: FitPredict, X: pd.DataFrame, y: np.ndarray, folds, after_fold=None) -> OutOfFold:
    """Out-of-fold probabilities. ``after_fold(i, proba_so_far, done_mask)`` may raise to stop early (pruning)."""
    proba = np.full(len(y), np.nan)
    done = np.zeros(len(y), dtype=bool)
    seconds, facts = [], []
    for i, (train_idx, valid_idx) in enumerate(folds):
        start = time.perf_counter()
        proba[valid_idx], fact = fit_predict(X.iloc[train_idx], y[train_idx], X.iloc[valid_idx])
        seconds.append(time.perf_counter() - start)
        facts.append(fact)
        done[valid_idx] = True
        if after_fold is not None:
            after_fold(i, proba, done)
    return OutOfFold(proba, float(np.mean(seconds)), facts)


# --------------------------------------------------------------------------------------------------------
# The non-linear models tuned and served. Hyper-parameter names are the estimators' own, so a params.yaml
# search space maps straight onto them.
# --------------------------------------------------------------------------------------------------------
ALGORITHMS = ("lightgbm", "hist_gradient_boosting")

# VarianceThreshold's nanvar warns on columns that are empty in a fold; dropping them is the point.
warnings.filterwarnings("ignore", message="(Degrees of freedom|All-NaN slice)", category=RuntimeWarning)


def drop_uninformative() -> VarianceThreshold:
    """Drops columns empty or constant in the training rows (structurally empty aggregates such as the due
    dates of refused applications): imputers and HGB's binning cannot use them."""
    return VarianceThreshold()


def make_estimator(algorithm: str, params: dict, seed: int, n_estimators: int, early_stopping: bool,
                   settings: dict, columns: Sequence[str]):
    """A fresh classifier with the hyper-parameters ``params`` and params.yaml's ``estimator`` ``settings``, for
    the feature ``columns`` it will be fitted on (in order). With ``early_stopping`` it may stop before
    ``n_estimators`` rounds on an inner validation split (LightGBM: the one given to ``fit``; HGB: its own
    ``validation_fraction``). The features of ``settings["monotone"]`` move the predicted risk in one direction
    only: asking for a smaller credit never makes a client riskier (what recourse proposals rely on)."""
    from sklearn.pipeline import make_pipeline

    constraints = monotone_constraints(columns, settings.get("monotone", {}))
    if algorithm == "lightgbm":
        import lightgbm as lgb

        return lgb.LGBMClassifier(
            n_estimators=n_estimators, subsample_freq=1, random_state=seed, deterministic=True, force_col_wise=True,
            max_bin=settings["max_bins"], n_jobs=settings["n_jobs"], verbose=-1,
            feature_pre_filter=False,  # as on the tune stage's binned folds: the same features drawn per tree
            **({"monotone_constraints": constraints} if any(constraints) else {}), **params,
        )
    if algorithm == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        monotonic = {c: k for c, k in zip(columns, constraints, strict=True) if k}
        return make_pipeline(
            drop_uninformative().set_output(transform="pandas"),  # HGB then knows the kept columns by name
            HistGradientBoostingClassifier(
                max_iter=n_estimators, early_stopping=early_stopping,
                validation_fraction=settings["early_stopping_share"],
                n_iter_no_change=settings["hgb_n_iter_no_change"], max_bins=settings["max_bins"], random_state=seed,
                monotonic_cst=monotonic or None, **params,
            ),
        )
    raise ValueError(f"unknown algorithm {algorithm!r}; expected one of {ALGORITHMS}")


def early_stopping_split(y: np.ndarray, seed: int, settings: dict) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the rows fitted on and of the rows that decide when boosting stops: a stratified
    ``settings["early_stopping_share"]`` of the given rows, never rows scored later."""
    from sklearn.model_selection import train_test_split

    fit, stop = train_test_split(np.arange(len(y)), test_size=settings["early_stopping_share"], stratify=y,
                                 random_state=seed)
    return fit, stop


def lightgbm_params(params: dict, seed: int, settings: dict, columns: Sequence[str]) -> dict:
    """LightGBM's own parameters for what `make_estimator` builds with ``params``, for ``lgb.train`` on a
    `BinnedFold` (the scikit-learn names are LightGBM aliases). ``feature_pre_filter`` is off so that one binned
    dataset serves trials of any ``min_child_samples``."""
    constraints = monotone_constraints(columns, settings.get("monotone", {}))
    return {"objective": "binary", "bagging_freq": 1, "seed": seed, "deterministic": True, "force_col_wise": True,
            "max_bin": settings["max_bins"], "num_threads": settings["n_jobs"], "verbose": -1,
            "feature_pre_filter": False, **({"monotone_constraints": constraints} if any(constraints) else {}),
            **params}


class BinnedFold:
    """One fold's training rows binned once by LightGBM (the fitted share and the early-stopping share), so that
    every trial fits on the same binned data instead of binning the frame again: only the booster's
    parameters change between trials, and binning is most of a fast trial's time."""

    def __init__(self, X: pd.DataFrame, y: np.ndarray, seed: int, settings: dict) -> None:
        import lightgbm as lgb

        fit, stop = early_stopping_split(y, seed, settings)
        dataset = {"max_bin": settings["max_bins"], "feature_pre_filter": False, "seed": seed, "verbose": -1,
                   "num_threads": settings["n_jobs"]}
        self.columns = list(X.columns)
        self.fit = lgb.Dataset(X.iloc[fit], y[fit], params=dataset).construct()
        self.stop = lgb.Dataset(X.iloc[stop], y[stop], reference=self.fit, params=dataset).construct()

    def train(self, params: dict, seed: int, max_rounds: int, patience: int, settings: dict):
        """A booster fitted with early stopping on the stopping share; returns it and the rounds it kept."""
        import lightgbm as lgb

        booster = lgb.train(lightgbm_params(params, seed, settings, self.columns), self.fit,
                            num_boost_round=max_rounds, valid_sets=[self.stop],
                            callbacks=[lgb.early_stopping(patience, verbose=False)])
        return booster, int(booster.best_iteration or max_rounds)


def fit_early_stopped(algorithm: str, params: dict, seed: int, max_rounds: int, patience: int, settings: dict,
                      X: pd.DataFrame, y: np.ndarray):
    """Fit with early stopping on an inner stratified share (``settings["early_stopping_share"]``) of the given
    rows, never the rows scored later; ``patience`` is LightGBM's rounds without improvement.

    Returns the model and the number of rounds it kept.
    """
    if algorithm == "lightgbm":
        import lightgbm as lgb

        fit, stop = early_stopping_split(y, seed, settings)
        model = make_estimator(algorithm, params, seed, max_rounds, True, settings, list(X.columns))
        model.fit(X.iloc[fit], y[fit], eval_X=X.iloc[stop], eval_y=y[stop], eval_metric="binary_logloss",
                  callbacks=[lgb.early_stopping(patience, verbose=False)])
        return model, int(model.best_iteration_ or max_rounds)
    model = make_estimator(algorithm, params, seed, max_rounds, True, settings, list(X.columns))
    model.fit(X, y)
    return model, int(model[-1].n_iter_)
