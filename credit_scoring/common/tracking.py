"""MLflow conventions shared by every stage that logs runs (design contract)."""

from __future__ import annotations

import logging
import os

import mlflow
import pandas as pd

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
EXPERIMENT = "home-credit-scoring"
REGISTERED_MODEL = "home-credit-scoring"
CHAMPION_ALIAS = "champion"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI)


def start_tracking() -> None:
    """Point MLflow at the project's store and experiment, quietly (its INFO lines drown the stage logs)."""
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_experiment(EXPERIMENT)


def register_champion(model, algorithm: str, X_example: pd.DataFrame, metrics: dict) -> str:
    """Log the model with signature and input example, register it as `REGISTERED_MODEL`, move the
    `CHAMPION_ALIAS` to it and tag it with its threshold and holdout scores; returns its version."""
    from mlflow.models import infer_signature

    signature = infer_signature(X_example, model.predict_proba(X_example)[:, 1])
    common = {"name": "model", "signature": signature, "input_example": X_example.head(3),
              "registered_model_name": REGISTERED_MODEL}
    if algorithm == "lightgbm":
        info = mlflow.lightgbm.log_model(model, **common)
    else:  # skops refuses types it does not know unless told: trust exactly those of our own fitted model
        import skops.io

        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
        info = mlflow.sklearn.log_model(model, skops_trusted_types=trusted, **common)
    client = mlflow.MlflowClient()
    version = str(info.registered_model_version)
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION_ALIAS, version)
    for key in ("threshold", "holdout_auc", "holdout_cost_per_client"):
        client.set_model_version_tag(REGISTERED_MODEL, version, key, str(metrics[key]))
    return version
