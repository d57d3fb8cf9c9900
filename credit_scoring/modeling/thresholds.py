"""The decision threshold from the business cost, and the holdout scored once at it (the threshold stage).

The cost-versus-threshold curve is computed on the tuned model's out-of-fold predictions (never on the
holdout); 0.5, the F1-optimal and the cost-optimal thresholds are compared there, as rows keyed by the ids
of `THRESHOLDS`. On synthetic data the hidden true probabilities are scored the same way (threshold chosen on
the training part) to give the oracle metrics.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss

from credit_scoring.common.tracking import REGISTERED_MODEL, register_champion
from credit_scoring.modeling.cost import best_threshold, f1_threshold, scores_at
from credit_scoring.modeling.training import TrainingData, make_estimator
from credit_scoring.modeling.uncertainty import interval_metrics

DEFAULT, F1, COST = "default", "f1", "cost"
THRESHOLDS = {DEFAULT: "0,5 (par défaut)", F1: "optimum du F1", COST: "optimum du coût métier"}
"""The compared thresholds: id (what code picks rows by) and French name (what tables and figures print)."""


def threshold_table(y, proba, fn_cost: float, fp_cost: float) -> pd.DataFrame:
    """0.5, the F1-optimal and the cost-optimal thresholds, each scored on the out-of-fold predictions; one row
    each, its ``id`` one of `THRESHOLDS`."""
    chosen = {
        DEFAULT: 0.5,
        F1: f1_threshold(y, proba),
        COST: best_threshold(y, proba, fn_cost, fp_cost)[0],
    }
    rows = []
    for key, t in chosen.items():
        s = scores_at(y, proba, t, fn_cost, fp_cost)
        rows.append({"id": key, "seuil": THRESHOLDS[key], "valeur": t, "cout_par_client": s.cost_per_client,
                     "f1": s.f1, "rappel": s.recall, "precision": s.precision, "exactitude": s.accuracy,
                     "taux_de_refus": (s.tp + s.fp) / len(y)})
    return pd.DataFrame(rows)


def check_oof_rows(oof: pd.DataFrame, data: TrainingData, source: Path, stage: str) -> None:
    """Out-of-fold predictions read from ``source`` (the tune or the baseline stage's) must be of the training
    part's clients, in its order: the order the shared folds are drawn in."""
    if not np.array_equal(oof["SK_ID_CURR"].to_numpy(), data.ids):
        raise ValueError(f"{source} does not match the training part: rerun the {stage} stage")


def refit(best: dict, data: TrainingData, seed: int, estimator: dict):
    """The tuned configuration ``best`` fitted on the whole training part with its tuned number of rounds."""
    model = make_estimator(best["algorithm"], best["params"], seed, best["rounds"], False, estimator,
                           data.feature_names)
    return model.fit(data.X, data.y)


def oracle_probabilities(oracle: Path, ids: np.ndarray) -> np.ndarray | None:
    """The generator's hidden true probabilities of these clients (synthetic data), or None on real data."""
    if not oracle.exists():
        return None
    return pd.read_parquet(oracle).set_index("SK_ID_CURR")["PD"].reindex(ids).to_numpy()


def oracle_metrics(oracle: Path, data, cost: dict) -> dict:
    """The same metrics from the hidden true probabilities (synthetic data only), threshold chosen the same
    way: on the training part, then applied once to the holdout."""
    if not oracle.exists():
        return {}
    t, _ = best_threshold(data.y, oracle_probabilities(oracle, data.ids), cost["fn"], cost["fp"])
    s = scores_at(data.y_holdout, oracle_probabilities(oracle, data.ids_holdout), t, cost["fn"], cost["fp"])
    return {"oracle_holdout_auc": s.auc, "oracle_holdout_cost_per_client": s.cost_per_client, "oracle_threshold": t}


def holdout_metrics(table: pd.DataFrame, holdout_scores, y_holdout, proba, algorithm: str) -> dict:
    """What threshold.json reports: the holdout scores at the cost-optimal threshold (``holdout_scores``, a
    `Scores`) without the confusion counts, the Brier score, and the compared thresholds' out-of-fold costs."""
    row = table.set_index("id")
    metrics = {
        **{k: v for k, v in holdout_scores.as_dict("holdout_").items() if not k.endswith(("_tp", "_fp", "_tn", "_fn"))},
        "threshold": float(row.loc[COST, "valeur"]),
        "holdout_brier": float(brier_score_loss(y_holdout, proba)),
        "f1_threshold": float(row.loc[F1, "valeur"]),
        "oof_cost_at_0_5": float(row.loc[DEFAULT, "cout_par_client"]),
        "oof_cost_at_f1_threshold": float(row.loc[F1, "cout_par_client"]),
        "oof_cost_at_threshold": float(row.loc[COST, "cout_par_client"]),
        "algorithm": algorithm,
        "holdout_clients": len(proba),
    }
    metrics.pop("holdout_threshold")
    return metrics


def plausibility_warnings(source: str, cv_auc: float, holdout_auc: float, max_plausible_auc: float) -> list[str]:
    """On real data, an AUC above ``max_plausible_auc`` (cross-validated or on the holdout) means overfitting
    or leakage rather than a good model; synthetic data may score what its generator allows."""
    if source != "synthetic" and max(cv_auc, holdout_auc) > max_plausible_auc:
        return [(f"AUC above {max_plausible_auc} on real data (CV {cv_auc:.3f}, holdout {holdout_auc:.3f}): "
                 "suspect overfitting or leakage")]
    return []


def log_champion(model, best: dict, cost: dict, metrics: dict, artifacts: list[Path], X_example: pd.DataFrame
                 ) -> tuple[str, str]:
    """The stage's MLflow run: parameters, metrics, figures and table, and the registered champion. Returns the
    model version and the run id."""
    threshold = metrics["threshold"]
    with mlflow.start_run(run_name="threshold") as run:
        mlflow.set_tags({"stage": "threshold", "algorithm": best["algorithm"]})
        mlflow.log_params({"threshold": threshold, "algorithm": best["algorithm"], "rounds": best["rounds"],
                           **{f"model_{k}": v for k, v in best["params"].items()}, "cost_fn": cost["fn"],
                           "cost_fp": cost["fp"]})
        mlflow.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
        mlflow.log_metrics({f"variant_{key}_{name}": value for key, values in metrics.get("variants", {}).items()
                            for name, value in values.items()})
        mlflow.log_metrics(interval_metrics(metrics.get("intervals", {})))
        for path in artifacts:
            folder = {".png": "figures"}.get(path.suffix, "plots" if path.parent.name == "plots" else None)
            mlflow.log_artifact(str(path), artifact_path=folder)
        version = register_champion(model, best["algorithm"], X_example, metrics)
        return version, run.info.run_id


def champion_info(version: str, run_id: str, best: dict, features: list[str], metrics: dict, params: dict) -> dict:
    """bundle.json: what the API needs beside the model to score and to say which model it serves."""
    return {
        "model_name": REGISTERED_MODEL,
        "model_version": version,
        "mlflow_run_id": run_id,
        "algorithm": best["algorithm"],
        "threshold": metrics["threshold"],
        "features": features,
        "cost": params["cost"],
        "metrics": {k: v for k, v in metrics.items() if k != "warnings"},
        "data_source": params["data"]["source"],
        "exclude_protected": params["features"]["exclude_protected"],
    }
