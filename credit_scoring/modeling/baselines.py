"""The simplest models, under the same cross-validation as the tuned ones (the baseline stage).

A prior DummyClassifier (what a lender gets without a model) and a LogisticRegression (imputed, scaled),
each crossed with the usual answers to class imbalance: none, class weights, random undersampling and
SMOTE. Resampling happens inside the folds, through imbalanced-learn pipelines, so no synthetic or dropped
row ever leaks into the rows a fold is scored on. Each run is judged by the business cost at its own best
threshold on out-of-fold predictions, with AUC, F1 and accuracy beside it; each is one MLflow run.
"""

from __future__ import annotations

import tempfile

import mlflow
import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from joblib import Memory
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from credit_scoring.common.progress import Progress
from credit_scoring.modeling.cost import best_threshold, scores_at
from credit_scoring.modeling.mlflow_figure import log_cost_figure
from credit_scoring.modeling.training import drop_uninformative, out_of_fold

MODELS = ("dummy_prior", "logistic_regression")
STRATEGIES = ("none", "class_weight", "undersample", "smote")


def make_pipeline(model: str, strategy: str, cfg: dict, seed: int, memory: Memory | None = None) -> Pipeline:
    """Imputation and scaling (fitted per fold), the resampler if any, then the classifier.

    Columns empty or constant in a fold's training rows are dropped first rather than invented. With a joblib
    ``memory``, the fitted drop, imputation and scaling of a fold are kept and reused by every other model and
    strategy fitted on the same rows (they are the same steps on the same rows): the median imputation of 826
    columns is most of a baseline fit.
    """
    steps = [("drop", drop_uninformative()), ("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    if strategy == "undersample":
        steps.append(("resample", RandomUnderSampler(random_state=seed)))
    elif strategy == "smote":
        steps.append(("resample", SMOTE(k_neighbors=cfg["smote_k_neighbors"], random_state=seed)))
    if model == "dummy_prior":
        classifier = DummyClassifier(strategy="prior")
    else:
        classifier = LogisticRegression(C=cfg["logistic_C"], max_iter=cfg["logistic_max_iter"], random_state=seed)
    return Pipeline([*steps, ("classifier", classifier)], memory=memory)


def fit_predict_for(model: str, strategy: str, cfg: dict, seed: int, memory: Memory | None = None):
    """A fold's fit-and-predict; class weights go in as sample weights so the dummy honours them too."""

    def fit_predict(X_train, y_train, X_valid):
        pipeline = make_pipeline(model, strategy, cfg, seed, memory)
        fit_params = {}
        if strategy == "class_weight":
            fit_params["classifier__sample_weight"] = compute_sample_weight("balanced", y_train)
        pipeline.fit(X_train, y_train, **fit_params)
        return pipeline.predict_proba(X_valid)[:, 1], {}

    return fit_predict


def evaluate(model: str, strategy: str, data, folds, cfg: dict, cost: dict, seed: int, memory: Memory | None = None
             ) -> tuple[dict, np.ndarray]:
    """Out-of-fold scores of one model under one imbalance strategy, at its cost-optimal threshold, and its
    out-of-fold probabilities."""
    oof = out_of_fold(fit_predict_for(model, strategy, cfg, seed, memory), data.X, data.y, folds)
    threshold, _ = best_threshold(data.y, oof.proba, cost["fn"], cost["fp"])
    s = scores_at(data.y, oof.proba, threshold, cost["fn"], cost["fp"])
    return {
        "model": model,
        "strategy": strategy,
        "auc": s.auc,
        "cost_per_client": s.cost_per_client,
        "threshold": s.threshold,
        "f1": s.f1,
        "accuracy": s.accuracy,
        "recall": s.recall,
        "precision": s.precision,
        "fit_seconds": oof.fit_seconds,
    }, oof.proba


def run_baselines(data, folds, cfg: dict, cost: dict, seed: int, log_run=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every model under every strategy: the table of their scores, and their out-of-fold probabilities (one
    column ``model/strategy`` each, beside SK_ID_CURR and TARGET). ``log_run(row, proba)`` is called after each.
    The folds' fitted preprocessing is shared among the runs through a joblib cache in a temporary folder,
    removed at the end."""
    rows, probabilities = [], {"SK_ID_CURR": data.ids, "TARGET": data.y}
    progress = Progress("baseline", len(MODELS) * len(STRATEGIES))
    with tempfile.TemporaryDirectory(prefix="baseline-cache-") as cache:
        memory = Memory(cache, verbose=0)
        for model in MODELS:
            for strategy in STRATEGIES:
                row, proba = evaluate(model, strategy, data, folds, cfg, cost, seed, memory)
                rows.append(row)
                probabilities[f"{model}/{strategy}"] = proba
                progress.step(f"{model:<20} {strategy:<13} AUC {row['auc']:.4f}  cost/client "
                              f"{row['cost_per_client']:.4f}")
                if log_run is not None:
                    log_run(row, proba)
    return pd.DataFrame(rows), pd.DataFrame(probabilities)


def log_to_mlflow(row: dict, proba: np.ndarray, y: np.ndarray, cost: dict, n_folds: int) -> None:
    """One nested MLflow run: the model and strategy, the cross-validated metrics, the cost figure."""
    with mlflow.start_run(run_name=f"{row['model']}-{row['strategy']}", nested=True):
        mlflow.set_tags({"stage": "baseline", "model": row["model"], "imbalance": row["strategy"]})
        mlflow.log_params({"model": row["model"], "imbalance_strategy": row["strategy"], "cv_folds": n_folds})
        mlflow.log_metrics({f"cv_{k}": float(v) for k, v in row.items() if k not in ("model", "strategy")})
        log_cost_figure(f"{row['model']} / {row['strategy']} : coût hors pli selon le seuil", y, proba, cost)


def summary(table: pd.DataFrame) -> dict:
    best = table.sort_values(["cost_per_client", "auc"], ascending=[True, False]).iloc[0]
    return {
        "best_model": best["model"],
        "best_strategy": best["strategy"],
        "best_cv_cost_per_client": float(best["cost_per_client"]),
        "best_cv_auc": float(best["auc"]),
        "runs": {f"{r.model}/{r.strategy}": {"cv_auc": r.auc, "cv_cost_per_client": r.cost_per_client}
                 for r in table.itertuples()},
    }
