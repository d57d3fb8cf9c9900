"""What drives the champion's scores, and a glass-box model beside it (the explain and explain_report stages).

- SHAP on the holdout (exact TreeSHAP, `credit_scoring.explain.local`), on all its clients or a seeded sample: mean
  |SHAP| per feature (`global_importance`), which the served explanation shows, and the clients whose
  waterfalls the report draws (the median probability of each decision, so neither is an extreme case).
- An Explainable Boosting Machine (interpret) on the top K features by mean |SHAP|: a model whose every term
  can be drawn. Its threshold is chosen on out-of-fold predictions of the training part, as the champion's
  was, then the holdout is scored once; both sit side by side in one table, with paired bootstrap intervals
  of its holdout AUC and cost and of its differences from the champion (`ebm_intervals`).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from credit_scoring.explain.local import ExplainConfig, explain_frame
from credit_scoring.explain.recourse import RecourseSettings
from credit_scoring.features.families import FAMILIES
from credit_scoring.features.labels import FeatureLabel, feature_labels
from credit_scoring.modeling.bundle import Bundle
from credit_scoring.modeling.cost import best_threshold, scores_at
from credit_scoring.modeling.training import TrainingData, out_of_fold, stratified_folds
from credit_scoring.modeling.uncertainty import compare_models


# --------------------------------------------------------------------------------------------------------
# Global SHAP.
# --------------------------------------------------------------------------------------------------------
def sample_rows(n: int, max_rows: int, seed: int) -> np.ndarray:
    """Sorted row positions: all rows, or a seeded random `max_rows` of them."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))


def global_importance(contributions: pd.DataFrame, labels: dict[str, FeatureLabel]) -> pd.DataFrame:
    """Mean |SHAP| per feature, largest first (ties in feature order), with its French label and the mean
    signed contribution (which side the feature pushes on average)."""
    table = pd.DataFrame({
        "feature": contributions.columns,
        "libelle": [labels[f].label for f in contributions.columns],
        "mean_abs_shap": contributions.abs().mean().to_numpy(),
        "mean_shap": contributions.mean().to_numpy(),
    })
    table = table.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rang", np.arange(1, len(table) + 1))
    return table


def family_importance(contributions: pd.DataFrame, family_map: dict[str, str]) -> pd.DataFrame:
    """What information the model relies on: per information family (`credit_scoring.features.families`), the
    mean |sum of its features' contributions| over the clients (exact: a family's contribution is that sum), its
    share of the total, and the mean signed sum; largest first."""
    summed = contributions.T.groupby([family_map[f] for f in contributions.columns], sort=False).sum().T
    mean_abs = summed.abs().mean()
    table = pd.DataFrame({
        "famille": summed.columns,
        "libelle": [FAMILIES[f] for f in summed.columns],
        "mean_abs_shap": mean_abs.to_numpy(),
        "part": (mean_abs / mean_abs.sum()).to_numpy(),
        "mean_shap": summed.mean().to_numpy(),
    })
    table = table.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rang", np.arange(1, len(table) + 1))
    return table


def median_client(proba: np.ndarray, mask: np.ndarray) -> int:
    """The position of the client of `mask` whose probability is the median of theirs (lowest on ties)."""
    candidates = np.flatnonzero(mask)
    if not len(candidates):
        raise ValueError("no explained holdout client has this decision: no waterfall can show one")
    order = candidates[np.argsort(proba[candidates], kind="stable")]
    return int(order[(len(order) - 1) // 2])


def model_labels(bundle: Bundle, descriptions: Path) -> dict[str, FeatureLabel]:
    """The French labels of the model's features (Kaggle's column descriptions when ``descriptions`` exists)."""
    described = pd.read_parquet(descriptions) if descriptions.exists() else None
    return {f: label for f, label in feature_labels(described).items() if f in bundle.features}


def check_features(bundle: Bundle, data: TrainingData) -> None:
    if list(data.feature_names) != bundle.features:
        raise ValueError("the champion's features differ from data/features: rerun the threshold stage")


@dataclass(frozen=True)
class HoldoutShap:
    """The explained holdout clients: their positions in the holdout, features, contributions and base values,
    and the features ranked by mean |SHAP| (`global_importance`)."""

    rows: np.ndarray
    X: pd.DataFrame
    contributions: pd.DataFrame
    base: np.ndarray
    importance: pd.DataFrame
    seconds: float


def holdout_shap(bundle: Bundle, data: TrainingData, labels: dict[str, FeatureLabel], max_rows: int,
                 seed: int) -> HoldoutShap:
    """SHAP of the holdout's clients, all of them or a seeded sample of ``max_rows``."""
    rows = sample_rows(len(data.X_holdout), max_rows, seed)
    X = data.X_holdout.iloc[rows].reset_index(drop=True)
    started = time.perf_counter()
    contributions, base = explain_frame(bundle, X)
    seconds = time.perf_counter() - started
    return HoldoutShap(rows, X, contributions, base, global_importance(contributions, labels), seconds)


def top_features(importance: pd.DataFrame, top: int) -> list[dict]:
    """The ``top`` features by mean |SHAP|, as the served explanation lists them."""
    return [{"feature": r.feature, "label": r.libelle, "mean_abs_shap": round(float(r.mean_abs_shap), 6)}
            for r in importance.head(top).itertuples()]


def explain_config(bundle: Bundle, shap: HoldoutShap, labels: dict[str, FeatureLabel], settings: dict
                   ) -> ExplainConfig:
    """What the API needs beside the champion to explain a score; ``settings`` is params.yaml's ``explain``."""
    return ExplainConfig(
        model_version=bundle.model_version,
        model_run_id=bundle.info.get("mlflow_run_id"),
        max_reasons=settings["reasons"]["max"],
        min_contribution=settings["reasons"]["min_contribution"],
        expected_value=float(shap.base[0]),
        global_importance=top_features(shap.importance, settings["top_features"]),
        labels=labels,
        recourse=RecourseSettings(**settings["recourse"]),
    )


# --------------------------------------------------------------------------------------------------------
# EBM.
# --------------------------------------------------------------------------------------------------------
CHAMPION_ROW, EBM_ROW = "champion", "ebm"
"""The ids of the two rows of the comparison table (`comparison_table`)."""


def ebm_features(importance: pd.DataFrame, top: int) -> list[str]:
    """The champion's ``top`` features by mean |SHAP| that it uses at all (a feature it never uses: none)."""
    head = importance.head(top)
    return list(head.loc[head["mean_abs_shap"] > 0, "feature"])


def make_ebm(settings: dict, seed: int):
    from interpret.glassbox import ExplainableBoostingClassifier

    return ExplainableBoostingClassifier(
        interactions=settings["interactions"], outer_bags=settings["outer_bags"], max_bins=settings["max_bins"],
        n_jobs=settings["n_jobs"], random_state=seed,
    )


def fit_ebm(X: pd.DataFrame, y: np.ndarray, settings: dict, seed: int):
    with warnings.catch_warnings():  # "Missing values detected": kept on purpose, as their own bin
        warnings.filterwarnings("ignore", message="Missing values detected")
        return make_ebm(settings, seed).fit(X, y)


def ebm_comparison(data, features: list[str], settings: dict, cost: dict, seed: int) -> dict:
    """Fit the EBM on (a stratified sample of) the training part, choose its cost-optimal threshold on its
    out-of-fold predictions, then score the holdout once. Returns the model and its numbers."""
    X, y = data.X[features], data.y
    if len(X) > settings["max_rows"]:
        X, _, y, _ = train_test_split(X, y, train_size=settings["max_rows"], stratify=y, random_state=seed)
    started = time.perf_counter()

    def fit_predict(X_fit, y_fit, X_valid):
        return fit_ebm(X_fit, y_fit, settings, seed).predict_proba(X_valid)[:, 1], {}

    oof = out_of_fold(fit_predict, X, y, stratified_folds(y, settings["cv_folds"], seed))
    threshold, oof_cost = best_threshold(y, oof.proba, cost["fn"], cost["fp"])
    model = fit_ebm(X, y, settings, seed)
    proba = model.predict_proba(data.X_holdout[features])[:, 1]
    scores = scores_at(data.y_holdout, proba, threshold, cost["fn"], cost["fp"])
    return {"model": model, "scores": scores, "threshold": threshold, "oof_cost": oof_cost, "proba": proba,
            "training_rows": len(X), "seconds": time.perf_counter() - started}


def ebm_intervals(y_holdout, ebm: dict, champion_proba, champion_threshold: float, cost: dict, n_boot: int,
                  seed: int) -> dict:
    """explain.json's ``ebm_intervals``: the EBM's holdout AUC and cost per client, and the EBM minus the
    champion, each at its own threshold, from the same resamples of the holdout (the threshold stage's, for the
    same seed and number of resamples)."""
    boot = compare_models(y_holdout, [ebm["proba"], champion_proba], [ebm["threshold"], champion_threshold], cost,
                          n_boot, seed)
    return {"holdout_auc": boot["auc"][0], "holdout_cost_per_client": boot["cost"][0],
            "ebm_minus_champion_auc": boot["auc_difference"][0], "ebm_minus_champion_cost": boot["cost_difference"][0]}


def comparison_table(ebm: dict, champion: dict, n_champion_features: int, algorithm: str, folds: int) -> pd.DataFrame:
    """The glass box beside the champion: same holdout, each threshold chosen on its own training predictions;
    one row each, keyed by ``id`` (`CHAMPION_ROW`, `EBM_ROW`)."""
    s = ebm["scores"]
    return pd.DataFrame([
        {"id": CHAMPION_ROW, "modele": f"champion ({algorithm})", "variables": n_champion_features,
         "auc_validation": champion["holdout_auc"], "cout_par_client_validation": champion["holdout_cost_per_client"],
         "seuil": champion["threshold"], "rappel_validation": champion["holdout_recall"],
         "precision_validation": champion["holdout_precision"]},
        {"id": EBM_ROW, "modele": f"EBM (interpret), seuil hors échantillon sur {folds} plis",
         "variables": len(ebm["model"].feature_names_in_), "auc_validation": s.auc,
         "cout_par_client_validation": s.cost_per_client, "seuil": ebm["threshold"], "rappel_validation": s.recall,
         "precision_validation": s.precision},
    ])


def main_terms(ebm) -> list[int]:
    """Indices of the EBM's single-feature terms, most important first."""
    importances = ebm.term_importances()
    single = [i for i, features in enumerate(ebm.term_features_) if len(features) == 1]
    return sorted(single, key=lambda i: -importances[i])


# --------------------------------------------------------------------------------------------------------
# The report's metrics (reports/metrics/explain.json).
# --------------------------------------------------------------------------------------------------------
def shap_metrics(bundle: Bundle, shap: HoldoutShap, top: int, dependence: list[str], waterfalls: dict[str, int]
                 ) -> dict:
    return {
        "model_version": bundle.model_version,
        "algorithm": bundle.info["algorithm"],
        "exclude_protected": list(bundle.info.get("exclude_protected", [])),
        "shap_clients": len(shap.X),
        "expected_value": float(shap.base[0]),
        "top_features": [g["feature"] for g in top_features(shap.importance, top)],
        "dependence_figures": dependence,
        "waterfall_clients": waterfalls,
    }


def ebm_metrics(features: list[str], shapes: list[str], ebm: dict, champion: dict) -> dict:
    """The EBM against the champion (``champion``: threshold.json) on the holdout."""
    s = ebm["scores"]
    return {
        "ebm_features": features,
        "ebm_shape_figures": shapes,
        "ebm_training_rows": ebm["training_rows"],
        "ebm_threshold": ebm["threshold"],
        "ebm_oof_cost_per_client": ebm["oof_cost"],
        "ebm_holdout_auc": s.auc,
        "ebm_holdout_cost_per_client": s.cost_per_client,
        "champion_holdout_auc": champion["holdout_auc"],
        "champion_holdout_cost_per_client": champion["holdout_cost_per_client"],
    }
