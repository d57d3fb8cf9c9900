"""The served model bundle, ``models/champion/``: written by the threshold stage (`write_bundle`), read by the API.

It holds everything scoring needs without MLflow or the training code: the fitted model, the decision
threshold, the feature names in the order the model expects, the model version, the holdout metrics, and
the holdout scores used as the reference distribution for monitoring.

Serving a row must cost what the trees cost: scikit-learn's forests and boosted trees walk their trees from a
Python loop (for the 806 trees of a HistGradientBoosting champion, 15 ms for one row, and more under load, when
each tree's OpenMP region waits for a core), so `Bundle.compile` hands such a model's trees to Treelite's
inference (`treelite.gtil`, one C++ pass: 0.2 ms) once they have given the same probabilities as the model on the
rows it is checked on; LightGBM is asked through its booster.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import treelite
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.feature_selection import SelectorMixin
from sklearn.pipeline import Pipeline

from credit_scoring.common.io import atomic_directory, write_json

MODEL_FILE = "model.joblib"
BUNDLE_FILE = "bundle.json"
REFERENCE_SCORES = "reference_scores.parquet"

DECISION_GRANTED = "accordé"
DECISION_REFUSED = "refusé"
COMPILABLE = (HistGradientBoostingClassifier, GradientBoostingClassifier, RandomForestClassifier, ExtraTreesClassifier)
COMPILED_TOLERANCE = 1e-9  # largest difference to the model's own probabilities allowed on the checked rows
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompiledTrees:
    """A tree ensemble's trees in Treelite, and the columns of the bundle's matrix they read (after the feature
    selectors that precede them in a pipeline)."""

    trees: treelite.Model
    columns: np.ndarray

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        """Probabilities of the positive class, in this thread (nthread=1: a serving process is one of several
        workers, and one row gains nothing from more threads)."""
        rows = np.ascontiguousarray(matrix[:, self.columns], dtype="float64")
        return treelite.gtil.predict(self.trees, rows, nthread=1)[:, 0, -1]


def compile_trees(model, n_features: int) -> CompiledTrees | None:
    """`model` (alone or the last step of a pipeline whose other steps only select features) as `CompiledTrees`,
    or None when it is no scikit-learn tree ensemble that Treelite reads (a linear model, LightGBM)."""
    steps = model.steps if isinstance(model, Pipeline) else [(None, model)]
    *selectors, (_, estimator) = steps
    if not isinstance(estimator, COMPILABLE) or len(estimator.classes_) != 2:
        return None
    columns = np.arange(n_features)
    for _, step in selectors:
        if not isinstance(step, SelectorMixin):
            return None
        columns = columns[step.get_support()]
    return CompiledTrees(treelite.sklearn.import_model(estimator), columns)


@dataclass
class Bundle:
    model: object
    threshold: float
    features: list[str]
    model_version: str
    info: dict
    compiled: CompiledTrees | None = field(default=None, repr=False)

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        """Default probabilities for rows of features (columns reordered to the model's order)."""
        missing = [c for c in self.features if c not in features.columns]
        if missing:
            raise ValueError(f"{len(missing)} feature(s) missing, e.g. {missing[:5]}")
        return self.model.predict_proba(features[self.features].astype("float32"))[:, 1]

    def probability_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Default probabilities for a float32 matrix whose columns are already `features`, in order (the API
        assembles it so). A LightGBM model is asked through its booster: the same numbers as `predict_proba`,
        without the per-column pandas checks that cost milliseconds for one row; a tree ensemble compiled by
        `compile` through Treelite."""
        if self.compiled is not None:
            return self.compiled.probabilities(matrix)
        booster = getattr(self.model, "booster_", None)
        if booster is not None:
            return booster.predict(matrix)
        return self.model_probabilities(matrix)

    def model_probabilities(self, matrix: np.ndarray) -> np.ndarray:
        """The fitted model's own `predict_proba` on a matrix of `features`: the reference of every faster path."""
        columns = pd.Index(self.features, dtype=object)
        return self.model.predict_proba(pd.DataFrame(matrix, columns=columns))[:, 1]

    def compile(self, check_rows: Callable[[], np.ndarray]) -> bool:
        """Serve a scikit-learn tree ensemble through Treelite (`compile_trees`) if, on the rows `check_rows`
        gives (a matrix of `features`: known clients, a blank application; built only for a model that compiles),
        it gives the model's own probabilities within `COMPILED_TOLERANCE`; otherwise keep the model (logged).
        Returns whether the compiled trees serve."""
        compiled = _through_treelite(lambda: compile_trees(self.model, len(self.features)))
        if compiled is None:
            return False
        check = check_rows()
        if len(check) == 0:
            return False
        got = _through_treelite(lambda: compiled.probabilities(check))
        if got is None:
            return False
        gap = float(np.max(np.abs(got - self.model_probabilities(check))))
        if gap > COMPILED_TOLERANCE:
            log.error("the compiled trees differ from the model by %.3g on %d checked rows: the model serves "
                      "(slower)", gap, len(check))
            return False
        self.compiled = compiled
        log.info("the model's trees serve through Treelite (largest gap %.1g on %d rows)", gap, len(check))
        return True

    def decision(self, probability: float) -> str:
        return DECISION_REFUSED if probability >= self.threshold else DECISION_GRANTED


def _through_treelite(step: Callable):
    """`step()` (reading the model into Treelite, or predicting with it), or None, logged, when Treelite fails on
    it: a configuration it does not read (categorical splits...) leaves the model serving, not the API stopped.
    Only Treelite's own steps are guarded: an error in the rows to check or in the model itself still raises."""
    try:
        return step()
    except Exception as error:
        log.error("the model's trees could not be compiled (%s: %s): the model serves (slower)",
                  type(error).__name__, error)
        return None


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
