"""The drift stage's analysis (application_test against application_train, and the champion's scores): the
measures of `credit_scoring.governance.stability` on the watched columns, worded by
`credit_scoring.governance.wording`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from credit_scoring.governance.stability import (
    KINDS,
    DriftSettings,
    Snapshot,
    compare,
    feature_records,
    scope_summary,
    without_sentinels,
)
from credit_scoring.governance.wording import conclusion_fr, rule_fr

NOT_COMPARED = ("SK_ID_CURR", "TARGET")  # an id and the label: neither is an input of the model
SCORE = "score"  # the champion's probability of default, as a column of its own


def application_columns(reference: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """The columns both files share, in Kaggle's order, less the id and the target."""
    return [c for c in reference.columns if c in current.columns and c not in NOT_COMPARED]


@dataclass(frozen=True)
class DriftInputs:
    """What the drift stage compares, reference first: the raw application tables, the feature rows of the same
    clients (the model's inputs, engineered history aggregates included), the champion's scores, and which
    features are watched."""

    applications: tuple[pd.DataFrame, pd.DataFrame]
    features: tuple[pd.DataFrame, pd.DataFrame]
    scores: tuple[np.ndarray, np.ndarray]  # reference: the holdout of the training clients, which the model never saw
    watched: list[str]
    threshold: float  # the champion's decision threshold

    def checked(self) -> DriftInputs:
        """Watched features must be columns of both feature files: a missing one would silently shrink the scope."""
        for side, frame in zip(("reference", "current"), self.features):
            missing = [f for f in self.watched if f not in frame.columns]
            if missing:
                raise ValueError(f"watched features absent from the {side} feature rows: {', '.join(missing)} "
                                 "(are models/explain and data/features from the same run?)")
        for side, scores in zip(("reference", "current"), self.scores):
            if not len(scores) or not np.all((scores >= 0) & (scores <= 1)):
                raise ValueError(f"{side} scores must be probabilities, at least one")
        return self


def score_drift(inputs: DriftInputs, settings: DriftSettings, seed: int) -> tuple[dict, Snapshot]:
    """The train->test drift of the champion's score: our PSI and evidently's test (those of numerical columns),
    the mean probabilities and the shares refused at the threshold, and evidently's snapshot."""
    reference, current = (pd.DataFrame({SCORE: np.asarray(s, dtype="float64")}) for s in inputs.scores)
    table, snapshot = compare(reference, current, [SCORE], settings, seed)
    record = feature_records(table)[SCORE]
    record.update({
        "reference": "holdout of application_train (clients the model never saw)", "current": "application_test",
        "rows": {"reference": len(reference), "current": len(current)},
        "mean": {"reference": float(reference[SCORE].mean()), "current": float(current[SCORE].mean())},
        "threshold": inputs.threshold,
        "refused_share": {"reference": float((reference[SCORE] >= inputs.threshold).mean()),
                          "current": float((current[SCORE] >= inputs.threshold).mean())},
    })
    return record, snapshot


def analyse(inputs: DriftInputs, settings: DriftSettings, seed: int):
    """The per-column table (application columns, then the watched features with their SHAP rank), the summary,
    and evidently's snapshots: all application columns, watched features, score."""
    inputs = inputs.checked()
    reference, current = (without_sentinels(f) for f in inputs.applications)
    features = [without_sentinels(f) for f in inputs.features]
    table, all_snapshot = compare(reference, current, application_columns(reference, current), settings, seed)
    watched, watched_snapshot = compare(*features, inputs.watched, settings, seed)
    score, score_snapshot = score_drift(inputs, settings, seed)
    table.insert(1, "scope", "application")
    watched.insert(1, "scope", "watched")
    watched.insert(2, "shap_rank", np.arange(1, len(watched) + 1))
    summary = {
        "reference": "application_train",
        "current": "application_test",
        "rows": {"reference": len(reference), "current": len(current)},
        "rows_compared_by_evidently": {"reference": min(len(reference), settings.sample_size),
                                       "current": min(len(current), settings.sample_size)},
        "settings": {
            "stattest": settings.stattest,
            "stattest_threshold": settings.stattest_threshold,
            "psi_bins": settings.psi_bins,
            "psi_threshold": settings.psi_threshold,
            "sample_size": settings.sample_size,
            "watched_features": settings.watched_features,
        },
        "rules_fr": {kind: rule_fr(settings, kind) for kind in KINDS},
        "all_columns": scope_summary(table),
        "watched_features": {
            **scope_summary(watched), "source": "models/explain (mean |SHAP| of the champion, best first)",
            "features": list(inputs.watched), "per_feature": feature_records(watched.drop(columns="scope")),
        },
        "score": score,
        "features": feature_records(table.drop(columns="scope")),
        "conclusion_fr": conclusion_fr(table, watched, score, reference, current, settings),
    }
    both = pd.concat([table, watched], ignore_index=True).astype({"shap_rank": "Int64"})
    return both, summary, {"all": all_snapshot, "watched": watched_snapshot, "score": score_snapshot}
