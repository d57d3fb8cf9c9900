"""MLflow conventions shared by every stage that logs runs (design contract)."""

from __future__ import annotations

import logging
import os

import mlflow

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
