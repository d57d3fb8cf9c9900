"""The served bundle's fast path: scikit-learn tree ensembles compiled by Treelite give the model's own
probabilities (missing values, thresholds hit exactly, selected columns), or are not used."""

from __future__ import annotations

import logging

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_selection import VarianceThreshold
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from credit_scoring.modeling import bundle as B


def data(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 6)), columns=[f"F{i}" for i in range(6)]).astype("float32")
    frame["CONSTANT"] = np.float32(1.0)  # dropped by the variance threshold: the trees read the other columns
    frame.loc[rng.random(rows) < 0.2, "F1"] = np.nan  # missing values take the side learnt for them
    frame["F2"] = frame["F2"].round(1)  # values on the trees' thresholds
    return frame


def labels(frame: pd.DataFrame) -> np.ndarray:
    score = frame["F0"] + frame["F1"].fillna(1.5) - 0.5 * frame["F2"]
    return (score + np.random.default_rng(1).normal(size=len(frame)) > 0.5).astype(int)


def served(model, frame: pd.DataFrame) -> B.Bundle:
    return B.Bundle(model=model.fit(frame, labels(frame)), threshold=0.5, features=list(frame.columns),
                    model_version="t", info={})


@pytest.mark.parametrize("model", [
    make_pipeline(VarianceThreshold(), HistGradientBoostingClassifier(max_iter=60, random_state=0)),
    HistGradientBoostingClassifier(max_iter=60, random_state=0),
    make_pipeline(VarianceThreshold(), RandomForestClassifier(n_estimators=20, min_samples_leaf=5, random_state=0)),
], ids=["selected-hgb", "hgb", "selected-forest"])
def test_a_compiled_tree_ensemble_gives_the_model_s_probabilities(model):
    frame = data()
    bundle = served(model, frame)
    matrix = np.vstack([frame.to_numpy(dtype="float32"), np.full((1, frame.shape[1]), np.nan, dtype="float32")])
    expected = bundle.model_probabilities(matrix)
    assert bundle.compile(lambda: matrix[:200])
    got = bundle.probability_matrix(matrix)  # the rows not checked too, and a blank application
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert bundle.compiled.trees.num_tree > 0


@pytest.mark.parametrize("model", [
    LogisticRegression(),
    make_pipeline(StandardScaler(), HistGradientBoostingClassifier(max_iter=20)),  # a step that changes values
    lgb.LGBMClassifier(n_estimators=20, verbose=-1),  # served by its booster
], ids=["linear", "scaled-hgb", "lightgbm"])
def test_other_models_are_not_compiled_and_serve_as_before(model):
    frame = data().fillna(0.0)
    bundle = served(model, frame)
    matrix = frame.to_numpy(dtype="float32")
    assert not bundle.compile(lambda: matrix)
    assert bundle.compiled is None
    np.testing.assert_allclose(bundle.probability_matrix(matrix), bundle.model_probabilities(matrix), atol=1e-12)


def test_compiled_trees_that_disagree_with_the_model_are_not_served(monkeypatch, caplog):
    frame = data()
    bundle = served(HistGradientBoostingClassifier(max_iter=30, random_state=0), frame)
    matrix = frame.to_numpy(dtype="float32")
    monkeypatch.setattr(B.CompiledTrees, "probabilities", lambda self, m: np.full(len(m), 0.5))
    with caplog.at_level(logging.ERROR, logger=B.__name__):
        assert not bundle.compile(lambda: matrix)
    assert bundle.compiled is None and "differ from the model" in caplog.text
    np.testing.assert_array_equal(bundle.probability_matrix(matrix), bundle.model_probabilities(matrix))


def test_trees_treelite_cannot_read_leave_the_model_serving(monkeypatch, caplog):
    frame = data()
    bundle = served(HistGradientBoostingClassifier(max_iter=30, random_state=0), frame)

    def unreadable(_model):
        raise NotImplementedError("categorical splits")

    monkeypatch.setattr(B.treelite.sklearn, "import_model", unreadable)
    with caplog.at_level(logging.ERROR, logger=B.__name__):
        assert not bundle.compile(lambda: frame.to_numpy(dtype="float32"))
    assert bundle.compiled is None and "could not be compiled (NotImplementedError" in caplog.text
