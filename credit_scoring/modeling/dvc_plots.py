"""The threshold stage's curves as data for `dvc plots` (``reports/plots/*.csv``): the cost against the threshold
on the out-of-fold predictions, then the holdout's ROC, precision-recall and calibration.

The PNG figures (`credit_scoring.modeling.figures`) are for the note; these files are for comparing runs:
``dvc plots show`` draws them with the templates of ``dvc.yaml`` and ``dvc plots diff`` overlays two experiments.
The curves are sampled on fixed grids (a few hundred rows each, whatever the number of clients), so that two
runs' files compare point by point and stay small in git.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from credit_scoring.common.paths import plot
from credit_scoring.modeling.cost import THRESHOLD_GRID, cost_curve, f1_curve

GRID = np.round(np.linspace(0.0, 1.0, 201), 3)
"""False-positive rates of the ROC rows and recalls of the precision-recall rows."""


def roc_points(y, proba) -> pd.DataFrame:
    """True-positive rate at each false-positive rate of `GRID` (the highest reached at that rate)."""
    fpr, tpr, _ = roc_curve(y, proba)
    at = np.searchsorted(fpr, GRID, side="right") - 1  # the last point of the curve at or before each rate
    return pd.DataFrame({"taux_faux_positifs": GRID, "taux_vrais_positifs": np.maximum.accumulate(tpr)[at]})


def precision_recall_points(y, proba) -> pd.DataFrame:
    """Interpolated precision (the best precision at this recall or above) at each recall of `GRID`."""
    precision, recall, _ = precision_recall_curve(y, proba)
    order = np.argsort(recall, kind="stable")
    recall, precision = recall[order], precision[order]
    best_above = np.maximum.accumulate(precision[::-1])[::-1]
    at = np.minimum(np.searchsorted(recall, GRID, side="left"), len(recall) - 1)
    return pd.DataFrame({"rappel": GRID, "precision": best_above[at]})


def calibration_points(y, proba, bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability and observed default rate of each decile of prediction (as the PNG)."""
    observed, predicted = calibration_curve(y, proba, n_bins=bins, strategy="quantile")
    return pd.DataFrame({"probabilite_predite": predicted, "taux_de_defaut_observe": observed})


def cost_points(y, proba, cost: dict) -> pd.DataFrame:
    """Cost per client and F1 at every threshold of the grid the threshold is chosen on."""
    return pd.DataFrame({"seuil": THRESHOLD_GRID, "cout_par_client": cost_curve(y, proba, cost["fn"], cost["fp"]),
                         "f1": f1_curve(y, proba)})


def write_plot_data(oof: pd.DataFrame, cost: dict, y_holdout, proba) -> list[Path]:
    """Every curve of the stage, written to ``reports/plots/``; the paths."""
    curves = {"cost": cost_points(oof["TARGET"], oof["proba"], cost), "roc": roc_points(y_holdout, proba),
              "precision_recall": precision_recall_points(y_holdout, proba),
              "calibration": calibration_points(y_holdout, proba)}
    written = []
    for name, frame in curves.items():
        path = plot(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, float_format="%.6g")
        written.append(path)
    return written
