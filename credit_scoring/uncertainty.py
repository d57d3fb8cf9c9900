"""How sure the holdout figures are, and how the decision moves with the cost ratio (the threshold stage).

- `bootstrap_intervals`: 95 % percentile intervals of the holdout AUC and cost per client, resampling the holdout
  clients with replacement (seeded), the threshold held fixed: the spread a different holdout of the same size
  would give.
- `cost_ratio_sensitivity`: for other FN:FP ratios, the threshold the same rule would choose on the out-of-fold
  predictions, and what it gives on the holdout (refusal rate, recall, cost per client in units of one refused
  good client): the business trade-off behind the chosen ratio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from credit_scoring.cost import best_threshold, scores_at

LEVEL = 0.95


def _interval(values: np.ndarray) -> list[float]:
    tail = (1 - LEVEL) / 2 * 100
    return [float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))]


def bootstrap_intervals(y, proba, threshold: float, cost: dict, n_boot: int, seed: int) -> dict:
    """95 % intervals of the AUC and of the cost per client at ``threshold`` over ``n_boot`` resamples."""
    y, proba = np.asarray(y).astype(int), np.asarray(proba, dtype=float)
    rng = np.random.default_rng(seed)
    refused = proba >= threshold
    errors = np.where(refused & (y == 0), cost["fp"], 0.0) + np.where(~refused & (y == 1), cost["fn"], 0.0)
    aucs, costs = np.empty(n_boot), np.empty(n_boot)
    for b in range(n_boot):
        rows = rng.integers(0, len(y), len(y))
        aucs[b] = roc_auc_score(y[rows], proba[rows]) if 0 < y[rows].sum() < len(rows) else np.nan
        costs[b] = errors[rows].mean()
    return {"level": LEVEL, "resamples": n_boot, "holdout_auc": _interval(aucs[~np.isnan(aucs)]),
            "holdout_cost_per_client": _interval(costs)}


def cost_ratio_sensitivity(oof: pd.DataFrame, y_holdout, proba, ratios: list[float]) -> pd.DataFrame:
    """One row per FN:FP ratio (FP = 1): the out-of-fold cost-optimal threshold and the holdout's refusal rate,
    recall, precision and cost per client at it."""
    rows = []
    for ratio in ratios:
        threshold, _ = best_threshold(oof["TARGET"], oof["proba"], ratio, 1.0)
        s = scores_at(y_holdout, proba, threshold, ratio, 1.0)
        rows.append({"rapport_fn_fp": ratio, "seuil": threshold, "taux_de_refus": (s.tp + s.fp) / len(proba),
                     "rappel": s.recall, "precision": s.precision, "cout_par_client": s.cost_per_client})
    return pd.DataFrame(rows)
