"""The served model bundle, ``models/champion/``: written by the threshold stage (`write_bundle`), read by the API.

It holds everything scoring needs without MLflow or the training code: the fitted model, the decision
threshold, the feature names in the order the model expects, the model version, the holdout metrics, and
the holdout scores used as the reference distribution for monitoring.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from credit_scoring.common.io import atomic_directory, write_json

MODEL_FILE = "model.joblib"
BUNDLE_FILE = "bundle.json"
REFERENCE_SCORES = "reference_scores.parquet"

DECISION_GRANTED = "accordé"
DECISION_REFUSED = "refusé"


@dataclass
class Bundle:
    model: object
    threshold: float
    features: list[str]
    model_version: str
    info: dict

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        """Default probabilities for rows of features (columns reordered to the model's order)."""
        missing = [c for c in self.features if c not in features.columns]
        if missing:
            raise ValueError(f"{len(missing)} feature(s) missing, e.g. {missing[:5]}")
        return self.model.predict_proba(features[self.features].astype("float32"))[:, 1]

    def probability_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Default probabilities for a float32 matrix whose columns are already `features`, in order (the API
        assembles it so). A LightGBM model is asked through its booster: the same numbers as `predict_proba`,
        without the per-column pandas checks that cost milliseconds for one row."""
        booster = getattr(self.model, "booster_", None)
        if booster is not None:
            return booster.predict(matrix)
        columns = pd.Index(self.features, dtype=object)
        return self.model.predict_proba(pd.DataFrame(matrix, columns=columns))[:, 1]

    def decision(self, probability: float) -> str:
        return DECISION_REFUSED if probability >= self.threshold else DECISION_GRANTED


def load_bundle(directory: str | Path) -> Bundle:
    directory = Path(directory)
    info = json.loads((directory / BUNDLE_FILE).read_text())
    return Bundle(
        model=joblib.load(directory / MODEL_FILE),
        threshold=float(info["threshold"]),
        features=list(info["features"]),
        model_version=str(info["model_version"]),
        info=info,
    )


def write_bundle(directory: str | Path, model, info: dict, reference_scores: pd.DataFrame) -> None:
    """The fitted model, its ``info`` (bundle.json: threshold, features, version, metrics...) and the holdout
    scores, written whole in one step (`atomic_directory`): the API never loads a model with another's threshold."""
    with atomic_directory(directory) as staged:
        joblib.dump(model, staged / MODEL_FILE)
        reference_scores.to_parquet(staged / REFERENCE_SCORES, index=False)
        write_json(staged / BUNDLE_FILE, info)
