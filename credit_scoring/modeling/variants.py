"""What two design choices of the served model cost on the holdout (the threshold stage).

The champion keeps the application columns of ``features.exclude_protected`` (sex) out of its inputs, and its
amount features monotone (``estimator.monotone``, on which recourse relies). Each choice is undone
in turn: the same tuned configuration (algorithm, hyper-parameters, number of rounds) is refitted on the same
training rows, with the excluded features put back, or without the constraints, and the holdout is scored at
the champion's threshold. The differences of AUC and cost per client are the price of each choice.

Beside them, the best baseline of the baseline stage (`best_baseline`): the same pipeline refitted on the whole
training part and scored on the same holdout at its own out-of-fold cost-optimal threshold, what the champion
must beat to be worth its complexity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from credit_scoring.modeling.baselines import fit_predict_for
from credit_scoring.modeling.cost import best_threshold, scores_at
from credit_scoring.modeling.training import TrainingData, make_estimator
from credit_scoring.modeling.uncertainty import Scored

CHAMPION, WITH_PROTECTED, UNCONSTRAINED = "champion", "with_protected", "unconstrained"
VARIANTS = {
    CHAMPION: "modèle servi (sans le sexe, montants monotones)",
    WITH_PROTECTED: "avec les variables exclues (sexe)",
    UNCONSTRAINED: "sans contrainte de monotonie sur les montants",
}
"""The rows of the table: id (what code picks rows by) and French name (what the note prints)."""


def variant_row(key: str, y: np.ndarray, proba: np.ndarray, threshold: float, cost: dict, features: int) -> dict:
    s = scores_at(y, proba, threshold, cost["fn"], cost["fp"])
    return {"id": key, "modele": VARIANTS[key], "variables": features, "auc": s.auc,
            "cout_par_client": s.cost_per_client, "taux_de_refus": (s.tp + s.fp) / len(y)}


def refit_variant(best: dict, data: TrainingData, seed: int, estimator: dict) -> np.ndarray:
    """Holdout probabilities of the tuned configuration refitted on ``data`` with ``estimator`` settings."""
    model = make_estimator(best["algorithm"], best["params"], seed, best["rounds"], False, estimator,
                           data.feature_names)
    return model.fit(data.X, data.y).predict_proba(data.X_holdout)[:, 1]


def variants_table(best: dict, data: TrainingData, with_protected: TrainingData, champion_proba: np.ndarray,
                   threshold: float, seed: int, params: dict) -> pd.DataFrame:
    """The champion, then each choice undone (``with_protected``: the training data without exclusion), scored on
    the same holdout at the champion's ``threshold``."""
    if not np.array_equal(data.ids_holdout, with_protected.ids_holdout):
        raise ValueError("the variants must be scored on the champion's holdout")
    estimator, cost = params["estimator"], params["cost"]
    free = {k: v for k, v in estimator.items() if k != "monotone"}
    rows = [
        variant_row(CHAMPION, data.y_holdout, champion_proba, threshold, cost, len(data.feature_names)),
        variant_row(WITH_PROTECTED, data.y_holdout, refit_variant(best, with_protected, seed, estimator), threshold,
                    cost, len(with_protected.feature_names)),
        variant_row(UNCONSTRAINED, data.y_holdout, refit_variant(best, data, seed, free), threshold, cost,
                    len(data.feature_names)),
    ]
    return pd.DataFrame(rows)


def variants_metrics(table: pd.DataFrame) -> dict:
    """threshold.json's ``variants``: each undone choice's AUC and cost, and its difference from the champion
    (positive: the choice costs that much)."""
    rows = table.set_index("id")
    champion = rows.loc[CHAMPION]
    return {key: {"holdout_auc": float(rows.loc[key, "auc"]),
                  "holdout_cost_per_client": float(rows.loc[key, "cout_par_client"]),
                  "auc_given_up": float(rows.loc[key, "auc"] - champion["auc"]),
                  "cost_added": float(champion["cout_par_client"] - rows.loc[key, "cout_par_client"])}
            for key in (WITH_PROTECTED, UNCONSTRAINED)}


def best_baseline(summary: dict, oof: pd.DataFrame, data: TrainingData, settings: dict, cost: dict, seed: int
                  ) -> Scored:
    """The baseline stage's best run (``summary``: baseline.json) refitted on the whole training part with the
    baseline stage's own pipeline (``settings``: params.yaml's ``baseline``), its holdout probabilities, and its
    threshold chosen on its out-of-fold probabilities (``oof``: models/baseline/oof.parquet) by the same rule."""
    model, strategy = summary["best_model"], summary["best_strategy"]
    name = f"{model}/{strategy}"
    oof_proba = oof[name].to_numpy(dtype=float)
    threshold, _ = best_threshold(data.y, oof_proba, cost["fn"], cost["fp"])
    holdout, _ = fit_predict_for(model, strategy, settings, seed)(data.X, data.y, data.X_holdout)
    return Scored(name, threshold, oof_proba, np.asarray(holdout, dtype=float))
