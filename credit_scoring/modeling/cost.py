"""The business cost of a credit decision, and the thresholds it implies.

A client is refused when the predicted probability of default is at or above the threshold. Granting a loan
to a client who then defaults (a false negative) costs ``fn``; refusing a client who would have repaid (a
false positive) costs ``fp``. Costs are reported per client so that folds and data sets of any size compare.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

THRESHOLD_GRID = np.round(np.linspace(0.0, 1.0, 1001), 3)
"""Candidate thresholds, 0.001 apart: fine enough for costs, coarse enough to be stable between runs."""


@dataclass(frozen=True)
class Confusion:
    tp: int
    fp: int
    tn: int
    fn: int


def confusion_at(y_true, proba, threshold: float) -> Confusion:
    y = np.asarray(y_true).astype(bool)
    refuse = np.asarray(proba) >= threshold
    return Confusion(
        tp=int(np.sum(refuse & y)), fp=int(np.sum(refuse & ~y)),
        tn=int(np.sum(~refuse & ~y)), fn=int(np.sum(~refuse & y)),
    )


def confusion_curve(y_true, proba, thresholds: np.ndarray = THRESHOLD_GRID) -> dict[str, np.ndarray]:
    """TP, FP, TN, FN at every threshold at once (sorting once instead of one pass per threshold)."""
    y = np.asarray(y_true).astype(bool)
    p = np.asarray(proba, dtype=float)
    pos, neg = np.sort(p[y]), np.sort(p[~y])
    fn = np.searchsorted(pos, thresholds, side="left")  # defaulters scored below the threshold: granted
    tn = np.searchsorted(neg, thresholds, side="left")
    return {"tp": len(pos) - fn, "fp": len(neg) - tn, "tn": tn, "fn": fn}


def cost_curve(y_true, proba, fn_cost: float, fp_cost: float, thresholds: np.ndarray = THRESHOLD_GRID) -> np.ndarray:
    """Cost per client at every threshold."""
    c = confusion_curve(y_true, proba, thresholds)
    return (fn_cost * c["fn"] + fp_cost * c["fp"]) / len(np.asarray(y_true))


def f1_curve(y_true, proba, thresholds: np.ndarray = THRESHOLD_GRID) -> np.ndarray:
    c = confusion_curve(y_true, proba, thresholds)
    denominator = 2 * c["tp"] + c["fp"] + c["fn"]
    return np.divide(2 * c["tp"], denominator, out=np.zeros(len(thresholds)), where=denominator > 0)


def best_threshold(y_true, proba, fn_cost: float, fp_cost: float) -> tuple[float, float]:
    """The threshold of least cost per client (the lowest one on ties) and that cost."""
    costs = cost_curve(y_true, proba, fn_cost, fp_cost)
    i = int(np.argmin(costs))
    return float(THRESHOLD_GRID[i]), float(costs[i])


def f1_threshold(y_true, proba) -> float:
    return float(THRESHOLD_GRID[int(np.argmax(f1_curve(y_true, proba)))])


def cost_per_client(y_true, proba, threshold: float, fn_cost: float, fp_cost: float) -> float:
    c = confusion_at(y_true, proba, threshold)
    return (fn_cost * c.fn + fp_cost * c.fp) / len(np.asarray(y_true))


@dataclass(frozen=True)
class Scores:
    """Everything reported for one set of predictions at one threshold."""

    auc: float
    cost_per_client: float
    threshold: float
    accuracy: float
    recall: float
    precision: float
    f1: float
    tp: int
    fp: int
    tn: int
    fn: int

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{k}": v for k, v in asdict(self).items()}


def scores_at(y_true, proba, threshold: float, fn_cost: float, fp_cost: float) -> Scores:
    c = confusion_at(y_true, proba, threshold)
    n = c.tp + c.fp + c.tn + c.fn
    precision = c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0
    recall = c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(
        auc=float(roc_auc_score(y_true, proba)),
        cost_per_client=(fn_cost * c.fn + fp_cost * c.fp) / n,
        threshold=float(threshold),
        accuracy=(c.tp + c.tn) / n,
        recall=recall,
        precision=precision,
        f1=f1,
        **asdict(c),
    )
