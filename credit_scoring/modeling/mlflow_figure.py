"""The figure every model's MLflow run carries (baselines and tuning trials): its out-of-fold cost per client
against the threshold, the cost-optimal threshold marked, in the house style (`credit_scoring.common.style`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import mlflow
import numpy as np

from credit_scoring.common.formatting import french_number
from credit_scoring.common.style import OKABE_ITO, french_axis, new_figure
from credit_scoring.modeling.cost import THRESHOLD_GRID, best_threshold, cost_curve

ARTIFACT = "figures/cost_threshold.png"


def cost_threshold_figure(title: str, y: np.ndarray, proba: np.ndarray, cost: dict):
    """The cost curve of out-of-fold predictions (all folds, or those a pruned trial finished)."""
    threshold, least = best_threshold(y, proba, cost["fn"], cost["fp"])
    fig, ax = new_figure(6.0, 4.2)
    ax.plot(THRESHOLD_GRID, cost_curve(y, proba, cost["fn"], cost["fp"]), color=OKABE_ITO["blue"],
            label="coût moyen par client")
    ax.plot(threshold, least, marker="o", color=OKABE_ITO["vermillion"], linestyle="none",
            label=f"seuil optimal : {french_number(threshold, 3)} (coût {french_number(least, 3)})")
    ax.set_xlabel("seuil de refus (probabilité de défaut)")
    ax.set_ylabel(f"coût par client (FN = {cost['fn']}, FP = {cost['fp']})")
    ax.set_title(title)
    french_axis(ax)
    ax.legend(loc="upper right")
    return fig


def log_cost_figure(title: str, y: np.ndarray, proba: np.ndarray, cost: dict) -> None:
    """The figure, logged to the active MLflow run as `ARTIFACT`."""
    fig = cost_threshold_figure(title, y, proba, cost)
    mlflow.log_figure(fig, ARTIFACT)
    plt.close(fig)
